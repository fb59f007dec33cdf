"""Start at login: the XDG autostart entry, written and removed under a temp XDG_CONFIG_HOME."""

from __future__ import annotations

import configparser
import os
import sys
from pathlib import Path

import pytest

from app.desktop import autostart


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text("utf-8"))
    return dict(parser["Desktop Entry"])


def test_the_entry_lives_under_xdg_config_home(xdg: Path) -> None:
    assert autostart.entry_path() == xdg / "autostart" / "minato.desktop"
    assert autostart.entry_path({"XDG_CONFIG_HOME": "relative/dir"}) == (
        Path.home() / ".config" / "autostart" / "minato.desktop"
    )  # the spec: a relative value is ignored
    assert autostart.entry_path({}) == Path.home() / ".config" / "autostart" / "minato.desktop"


def test_enable_writes_an_entry_and_disable_removes_it(xdg: Path) -> None:
    assert autostart.is_enabled() is False
    path = autostart.enable(["/opt/minato/bin/minato"])
    assert path == xdg / "autostart" / "minato.desktop"
    assert autostart.is_enabled() is True
    entry = read_entry(path)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Minato"
    assert entry["Exec"] == "/opt/minato/bin/minato"
    assert entry["Terminal"] == "false"
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert [p.name for p in path.parent.iterdir()] == ["minato.desktop"]  # no temp file left
    autostart.enable(["/usr/bin/minato"])  # replaced, not duplicated
    assert read_entry(path)["Exec"] == "/usr/bin/minato"
    assert autostart.disable() is True
    assert autostart.is_enabled() is False
    assert autostart.disable() is False  # already gone: fine


def test_the_default_command_is_this_installs_minato(xdg: Path) -> None:
    command = autostart.minato_command()
    assert len(command) == 1
    program = Path(command[0])
    assert program.name == "minato"
    assert program.is_absolute()
    assert program.is_file()
    assert os.access(program, os.X_OK)
    assert program.parent == Path(sys.executable).parent  # the venv running these tests
    entry = read_entry(autostart.enable())
    assert entry["Exec"] == str(program)


def test_the_script_this_process_runs_wins(
    tmp_path: Path, xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "bin" / "minato"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n", "utf-8")
    monkeypatch.setattr(sys, "argv", [str(script)])
    assert autostart.minato_command() == [str(script)]


@pytest.mark.parametrize(
    ("argument", "written"),
    [
        ("/usr/bin/minato", "/usr/bin/minato"),
        ("/home/me/My Apps/minato", '"/home/me/My Apps/minato"'),
        ("/opt/100%/minato", "/opt/100%%/minato"),
        ('/opt/a"b/minato', '"/opt/a\\\\"b/minato"'),
        ("/opt/$HOME/minato", '"/opt/\\\\$HOME/minato"'),
        ("/opt/back\\slash", '"/opt/back\\\\\\\\slash"'),
    ],
)
def test_exec_arguments_are_quoted_as_the_spec_asks(argument: str, written: str) -> None:
    assert f"\nExec={written}\n" in autostart.desktop_entry([argument])


def test_a_command_that_cannot_be_written_is_refused(xdg: Path) -> None:
    with pytest.raises(autostart.AutostartError, match="cannot be written"):
        autostart.enable(["/opt/min\nato"])
    with pytest.raises(autostart.AutostartError, match="no command"):
        autostart.enable([])
    assert autostart.is_enabled() is False


def test_an_unwritable_place_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x", "utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    with pytest.raises(autostart.AutostartError, match="cannot write"):
        autostart.enable(["/usr/bin/minato"])
