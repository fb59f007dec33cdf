"""The settings dialog against a real engine: it saves to a temp config file through the service.

MINATO_CONFIG points the engine at a file in tmp_path and XDG_CONFIG_HOME the
autostart entry at another, so nothing of the real user's is read or written.
"""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog, QTableWidgetItem
from pytestqt.qtbot import QtBot

from app.desktop import autostart
from app.desktop.settings_dialog import NETWORK_WARNING, SettingsDialog, is_loopback
from app.desktop.theme import Theme
from engine.services import SaveReport
from tests.app.desktop.conftest import Engine, EngineFactory

TMDB = "0123456789abcdef0123456789abcdef"
PASSWORD = "hunter2-proxy"  # noqa: S105 - a test password, never to be shown
FILE = f"""\
# my settings, by hand
[server]
port = 9800  # Sonarr knows this one

[enrich]
tmdb_api_key = "{TMDB}"

[sites.yts]
depth = 4

[[proxies]]
name = "tor"
url = "socks5h://me:{PASSWORD}@127.0.0.1:9050"
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "settings" / "config.toml"
    path.parent.mkdir()
    path.write_text(FILE, "utf-8")
    monkeypatch.setenv("MINATO_CONFIG", str(path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return path


@pytest.fixture
def engine(config: Path, start_engine: EngineFactory) -> Engine:
    engine = start_engine()
    assert engine.core.services.settings.config_path == config  # never the user's own file
    return engine


def open_dialog(qtbot: QtBot, engine: Engine, theme: Theme | None = None) -> SettingsDialog:
    dialog = SettingsDialog(engine.bridge, theme=theme)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.save_button.isEnabled, timeout=10_000)
    return dialog


def save(qtbot: QtBot, dialog: SettingsDialog) -> str:
    """Click Save; wait for the answer (and the reload after a success); the message."""
    dialog.message.clear()
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.message.text() not in ("", "Saving…"), timeout=10_000)
    qtbot.waitUntil(dialog.save_button.isEnabled, timeout=10_000)
    return dialog.message.text()


def values(config: Path) -> dict[str, Any]:
    return tomllib.loads(config.read_text("utf-8"))


def test_it_shows_what_the_next_start_loads_without_secrets(
    qtbot: QtBot, engine: Engine, config: Path
) -> None:
    dialog = open_dialog(qtbot, engine)
    general = dialog.general
    assert general.port.value() == 9800
    assert general.host.text() == "127.0.0.1"
    assert general.host_warning.isHidden()
    assert general.backend.currentText() == "auto"
    assert general.tmdb_key.text() == ""
    assert "a key is stored" in general.tmdb_key.placeholderText()
    assert general.clear_tmdb.isEnabled()
    assert general.close_to_tray.isChecked()
    assert not general.start_minimized.isChecked()
    assert general.theme.currentText() == "system"
    assert "TCP port" in general.port.toolTip()
    assert {"yts", "1337x", "dht"} <= set(dialog.sites.rows)
    assert dialog.sites.rows["yts"].depth.value() == 4
    assert dialog.sites.rows["yts"].mirrors.toPlainText().startswith("https://")
    assert not dialog.sites.rows["dht"].mirrors.isEnabled()  # the DHT has no mirrors
    assert dialog.proxies.entries() == [{"name": "tor", "url": "socks5h://me:***@127.0.0.1:9050"}]
    assert str(config) in dialog.path.text()
    assert dialog.changes() == {}  # nothing typed: nothing to send
    assert save(qtbot, dialog) == "Nothing changed."
    assert config.read_text("utf-8") == FILE


def test_saving_writes_only_the_changes_and_says_what_needs_a_restart(
    qtbot: QtBot, engine: Engine, config: Path
) -> None:
    dialog = open_dialog(qtbot, engine)
    dialog.general.port.setValue(9801)
    dialog.general.close_to_tray.setChecked(False)
    dialog.general.start_minimized.setChecked(True)
    dialog.sites.rows["yts"].enabled.setChecked(False)
    dialog.sites.rows["1337x"].depth.setValue(9)
    with qtbot.waitSignal(dialog.saved, timeout=10_000) as saved:
        message = save(qtbot, dialog)
    report = saved.args[0]
    assert isinstance(report, SaveReport)
    assert set(report.changed) == {
        "server.port", "desktop.close_to_tray", "desktop.start_minimized",
        "sites.yts.enabled", "sites.1337x.depth",
    }  # fmt: skip
    assert f"Saved to {config}." in message
    assert "Takes effect at the next start:" in message
    assert "server.port" in message
    assert not dialog.message.error
    text = config.read_text("utf-8")
    assert text.startswith("# my settings, by hand\n[server]\nport = 9801  # Sonarr knows this one")
    saved_values = values(config)
    assert saved_values["desktop"] == {"close_to_tray": False, "start_minimized": True}
    assert saved_values["sites"] == {"yts": {"depth": 4, "enabled": False}, "1337x": {"depth": 9}}
    assert saved_values["enrich"]["tmdb_api_key"] == TMDB  # untouched
    assert saved_values["proxies"][0]["url"].endswith(f":{PASSWORD}@127.0.0.1:9050")
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert dialog.general.port.value() == 9801  # reloaded from the file
    assert dialog.changes() == {}


def test_an_invalid_host_is_refused_named_and_kept_as_typed(
    qtbot: QtBot, engine: Engine, config: Path
) -> None:
    dialog = open_dialog(qtbot, engine)
    dialog.general.host.clear()
    qtbot.keyClicks(dialog.general.host, "my server!")
    assert dialog.general.host_warning.isVisible()
    message = save(qtbot, dialog)
    assert "server.host" in message
    assert "must be an IP address or a host name" in message
    assert dialog.message.error  # in red
    assert dialog.general.host.text() == "my server!"  # the dialog keeps what was typed
    assert dialog.isVisible()
    assert config.read_text("utf-8") == FILE  # untouched


def test_a_network_address_warns_and_saves(qtbot: QtBot, engine: Engine, config: Path) -> None:
    dialog = open_dialog(qtbot, engine)
    host = dialog.general.host
    cases = [("0.0.0.0", True), ("localhost", False), ("192.168.1.5", True)]  # noqa: S104
    cases += [("::1", False), ("127.0.0.2", False), ("nas.lan", True)]
    for typed, warned in cases:
        host.setText(typed)
        assert dialog.general.host_warning.isVisible() is warned, typed
    assert NETWORK_WARNING.startswith("This address is not loopback")
    host.setText("0.0.0.0")  # noqa: S104 - the point of the test
    assert "server.host" in save(qtbot, dialog)
    assert values(config)["server"]["host"] == "0.0.0.0"  # noqa: S104
    assert dialog.general.host_warning.isVisible()  # reloaded: still warns


def test_a_bad_mirror_is_refused_naming_the_site(
    qtbot: QtBot, engine: Engine, config: Path
) -> None:
    dialog = open_dialog(qtbot, engine)
    mirrors = dialog.sites.rows["yts"].mirrors
    mirrors.setPlainText("https://yts.example\nftp://yts.example")
    message = save(qtbot, dialog)
    assert "sites.yts.mirrors" in message
    assert "'ftp://yts.example' is not an http(s) base URL" in message
    assert mirrors.toPlainText() == "https://yts.example\nftp://yts.example"
    assert config.read_text("utf-8") == FILE
    mirrors.setPlainText("https://yts.example\n\n  https://yts2.example/ \n")
    assert "sites.yts.mirrors" in save(qtbot, dialog)
    assert values(config)["sites"]["yts"]["mirrors"] == [
        "https://yts.example", "https://yts2.example/",
    ]  # fmt: skip
    dialog.sites.rows["yts"].mirrors.clear()  # empty: back to the built-in mirrors
    save(qtbot, dialog)
    assert "mirrors" not in values(config)["sites"]["yts"]


def test_an_unknown_proxy_name_in_a_policy_is_refused(
    qtbot: QtBot, engine: Engine, config: Path
) -> None:
    dialog = open_dialog(qtbot, engine)
    dialog.sites.rows["eztv"].proxy.setCurrentText("tor, nosuch")
    message = save(qtbot, dialog)
    assert "sites.eztv.proxy" in message
    assert "nosuch" in message
    dialog.sites.rows["eztv"].proxy.setCurrentText("tor")
    save(qtbot, dialog)
    assert values(config)["sites"]["eztv"] == {"proxy": ["tor"]}


def test_the_tmdb_key_is_replaced_kept_or_removed_never_shown(
    qtbot: QtBot, engine: Engine, config: Path
) -> None:
    dialog = open_dialog(qtbot, engine)
    new_key = "cafebabecafebabecafebabecafebabe"
    qtbot.keyClicks(dialog.general.tmdb_key, f"  {new_key} ")
    message = save(qtbot, dialog)
    assert "enrich.tmdb_api_key" in message
    assert new_key not in message
    assert values(config)["enrich"]["tmdb_api_key"] == new_key
    assert dialog.general.tmdb_key.text() == ""  # reloaded: the field never holds it
    assert "a key is stored" in dialog.general.tmdb_key.placeholderText()
    dialog.general.port.setValue(9802)  # blank key field: the key is kept
    save(qtbot, dialog)
    assert values(config)["enrich"]["tmdb_api_key"] == new_key
    dialog.general.clear_tmdb.setChecked(True)
    assert not dialog.general.tmdb_key.isEnabled()
    save(qtbot, dialog)
    assert "tmdb_api_key" not in values(config).get("enrich", {})
    assert "none" in dialog.general.tmdb_key.placeholderText()
    assert not dialog.general.clear_tmdb.isEnabled()


def test_a_key_a_variable_sets_is_read_only(
    qtbot: QtBot, config: Path, start_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINATO_SERVER__PORT", "9123")
    dialog = open_dialog(qtbot, start_engine())
    assert dialog.general.port.value() == 9123
    assert not dialog.general.port.isEnabled()
    assert "MINATO_SERVER__PORT" in dialog.general.port.toolTip()
    dialog.general.theme.setCurrentText("light")
    assert dialog.changes() == {"desktop": {"theme": "light"}}  # the port is not sent
    save(qtbot, dialog)
    assert values(config)["server"]["port"] == 9800


def test_proxies_are_added_and_a_hidden_password_is_kept(
    qtbot: QtBot, engine: Engine, config: Path
) -> None:
    dialog = open_dialog(qtbot, engine)
    page = dialog.proxies
    page.add.click()
    page.table.setItem(1, 0, QTableWidgetItem("http"))
    page.table.setItem(1, 1, QTableWidgetItem("http://127.0.0.1:8080"))
    page.add.click()  # left blank: ignored
    assert "proxies" in save(qtbot, dialog)
    assert values(config)["proxies"] == [
        {"name": "tor", "url": f"socks5h://me:{PASSWORD}@127.0.0.1:9050"},
        {"name": "http", "url": "http://127.0.0.1:8080"},
    ]
    page.table.selectRow(0)
    page.remove.click()
    save(qtbot, dialog)
    assert values(config)["proxies"] == [{"name": "http", "url": "http://127.0.0.1:8080"}]


def test_start_at_login_writes_and_removes_the_autostart_entry(
    qtbot: QtBot, engine: Engine, config: Path, tmp_path: Path
) -> None:
    entry = tmp_path / "xdg" / "autostart" / "minato.desktop"
    dialog = open_dialog(qtbot, engine)
    assert not dialog.general.start_at_login.isChecked()
    dialog.general.start_at_login.setChecked(True)
    assert save(qtbot, dialog) == "Minato will start at login."
    assert entry.is_file()
    assert "\nExec=" in entry.read_text("utf-8")
    assert config.read_text("utf-8") == FILE  # not a setting: the file is not touched
    dialog.close()
    again = open_dialog(qtbot, engine)
    assert again.general.start_at_login.isChecked()  # the entry is the state
    again.general.start_at_login.setChecked(False)
    assert save(qtbot, again) == "Minato will not start at login."
    assert not entry.exists()
    assert not autostart.is_enabled()


def test_a_saved_theme_applies_at_once(
    qtbot: QtBot, engine: Engine, config: Path, qapp: Any
) -> None:
    theme = Theme(qapp, "light")
    try:
        dialog = open_dialog(qtbot, engine, theme)
        dialog.general.theme.setCurrentText("dark")
        message = save(qtbot, dialog)
        assert theme.dark
        assert "Applied now: desktop.theme." in message
        assert "next start" not in message
        assert values(config)["desktop"]["theme"] == "dark"
    finally:
        theme.choose("light")


def test_the_data_dir_is_picked_with_a_folder_dialog(
    qtbot: QtBot, engine: Engine, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "new data"
    chosen.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_a: str(chosen))
    dialog = open_dialog(qtbot, engine)
    dialog.general.choose_dir.click()
    assert dialog.general.data_dir.text() == str(chosen)
    assert "storage.data_dir" in save(qtbot, dialog)
    assert values(config)["storage"]["data_dir"] == str(chosen)
    dialog.general.data_dir.setText("relative/place")
    assert "is not an absolute path" in save(qtbot, dialog)


def test_a_file_broken_by_hand_is_explained_and_never_overwritten(
    qtbot: QtBot, engine: Engine, config: Path
) -> None:
    config.write_text("[server\nport = 1\n", "utf-8")
    dialog = SettingsDialog(engine.bridge)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "not valid TOML" in dialog.message.text(), timeout=10_000)
    assert str(config) in dialog.message.text()
    assert not dialog.save_button.isEnabled()
    assert config.read_text("utf-8") == "[server\nport = 1\n"


def test_loopback_hosts() -> None:
    assert all(map(is_loopback, ("127.0.0.1", "127.1.2.3", "::1", "localhost", "LOCALHOST.")))
    assert not any(map(is_loopback, ("0.0.0.0", "::", "10.0.0.1", "example.org", "")))  # noqa: S104
