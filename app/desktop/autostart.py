"""Start at login: an XDG autostart entry that runs the `minato` this process was started as.

Freedesktop desktops (GNOME, KDE, Xfce...) start every `*.desktop` file in
`$XDG_CONFIG_HOME/autostart` (default `~/.config/autostart`) at login
(https://specifications.freedesktop.org/autostart-spec/latest/). Whether Minato
starts at login is whether that file exists: nothing else keeps the choice, so it
cannot disagree with what the desktop will do. Windows and macOS have other
mechanisms; there `supported()` is False and the window disables the option.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

ENTRY_NAME: Final = "minato.desktop"
COMMAND: Final = "minato"
_RESERVED: Final = frozenset(" \t\n\"'\\><~|&;$*?#()`")
"""Characters that make an Exec argument need quotes (Desktop Entry spec, "The Exec key")."""
_ESCAPED_IN_QUOTES: Final = frozenset('"`$\\')


class AutostartError(Exception):
    """The entry cannot be written or removed, or no `minato` command can be found."""


def supported() -> bool:
    """Whether this platform reads XDG autostart entries (Linux and the BSDs)."""
    return not sys.platform.startswith(("win32", "cygwin", "darwin"))


def entry_path(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/autostart/minato.desktop`; `~/.config` when unset or relative."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "autostart" / ENTRY_NAME


def is_enabled(env: Mapping[str, str] | None = None) -> bool:
    """Whether Minato starts at login (its entry exists)."""
    return entry_path(env).is_file()


def enable(command: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> Path:
    """Write the entry (atomically, replacing an older one); returns its path.

    Args:
        command: the program and arguments to run; None: `minato_command()`.
        env: where to look for XDG_CONFIG_HOME; None: this process's environment.

    Raises:
        AutostartError: no command found, or the file cannot be written.
    """
    path = entry_path(env)
    text = desktop_entry(list(command) if command is not None else minato_command())
    temp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{ENTRY_NAME}.")
        temp = Path(temp_name)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        temp.chmod(0o644)  # an ordinary desktop file: readable, not executable
        temp.replace(path)
    except OSError as exc:
        if temp is not None:
            temp.unlink(missing_ok=True)
        raise AutostartError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def disable(env: Mapping[str, str] | None = None) -> bool:
    """Remove the entry; True if there was one.

    Raises:
        AutostartError: it exists but cannot be removed.
    """
    path = entry_path(env)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise AutostartError(f"cannot remove {path}: {exc.strerror or exc}") from exc
    return True


def minato_command() -> list[str]:
    """The command that starts this Minato.

    The frozen binary; else the `minato` script this process runs; else the one
    installed beside this Python (its venv); else `minato` on the PATH.

    Raises:
        AutostartError: none of them is there.
    """
    if getattr(sys, "frozen", False):  # PyInstaller: the executable is Minato itself
        return [sys.executable]
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.stem == COMMAND and script.is_file():
        return [str(script.absolute())]  # a symlink (pipx) stays one: upgrades keep working
    beside = Path(sys.executable).with_name(COMMAND)  # the console script of this venv
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which(COMMAND)
    if found:
        return [str(Path(found).absolute())]
    raise AutostartError(
        "cannot find the minato command to start at login (install Minato with pip or "
        "pipx so that `minato` is on the PATH)"
    )


def desktop_entry(command: Sequence[str]) -> str:
    """The text of the autostart entry running `command`.

    Raises:
        AutostartError: an argument has a line break or control character (it cannot be
            written in a desktop entry), or the command is empty.
    """
    if not command:
        raise AutostartError("no command to start at login")
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=Minato",
            "Comment=Self-hosted torrent indexer",
            f"Exec={' '.join(_exec_argument(arg) for arg in command)}",
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )


def _exec_argument(arg: str) -> str:
    r"""One Exec argument, quoted and escaped as the Desktop Entry spec asks.

    Inside double quotes, `"`, `` ` ``, `$` and `\` take a backslash; the value is then
    a string value, where a backslash itself is written `\\`; `%` is written `%%`
    (a field code otherwise).
    """
    if not arg or not arg.isprintable():
        raise AutostartError(f"{arg[:60]!r} cannot be written in a desktop entry")
    arg = arg.replace("%", "%%")
    if not any(char in _RESERVED for char in arg):
        return arg
    quoted = "".join(f"\\{char}" if char in _ESCAPED_IN_QUOTES else char for char in arg)
    return '"' + quoted.replace("\\", "\\\\") + '"'
