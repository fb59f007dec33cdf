"""Writing the settings file: changes applied to the TOML document, the result checked, swapped in.

The file is edited as a document (tomlkit), so the user's comments, order and
layout survive and only the keys that change are touched. The changed document is
validated exactly as loading validates a file (the same `Settings`, the same
`MINATO_*` environment overrides) and by whatever else a start checks (`check`)
before anything is written; a refused change leaves the file as it was. The write
is atomic (a temp file beside it, then `os.replace`) with mode 0600, because the
file may hold the TMDb key. Nothing here logs a value: only dotted key names.

Changes are `{section: {key: value}}` for the table sections (`server`, `desktop`...),
a whole list for `proxies` and `feeds`, and `{site_id: {key: value}}` for `sites`
(merged key by key into `[sites.<id>]`). `None` removes a key (back to its default),
a whole site table, or a whole list.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import tomllib
import unicodedata
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import tomlkit
import tomlkit.exceptions
from pydantic import BaseModel

from engine.config import Settings, settings_from_data
from engine.errors import ConfigError

log = logging.getLogger(__name__)

FILE_MODE: Final = 0o600
"""Owner only: the file may hold the TMDb key and proxy passwords."""
MAX_STRING_CHARS: Final = 4096
"""Longest text one setting may hold (a path's limit); a settings file is no place for more."""
MAX_KEY_CHARS: Final = 64
LIST_SECTIONS: Final = frozenset({"proxies", "feeds"})
SITES: Final = "sites"
TABLE_SECTIONS: Final = frozenset(
    name
    for name, field in Settings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
)
_HEADER: Final = "Minato settings. Edited by the settings dialog too; your comments are kept."
_WRITE_LOCK = threading.Lock()  # one read-change-write at a time in this process

Changes = Mapping[str, Any]
Check = Callable[[Settings], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Written:
    """What a save did."""

    path: Path
    changed: tuple[str, ...]
    """Dotted keys whose value in the file changed ("server.port", "sites.yts.enabled",
    "proxies"); empty when every value was already the one asked (nothing was written)."""
    settings: Settings
    """The settings the next start loads: the file as written, with the environment on top."""


def read_document(path: Path) -> tomlkit.TOMLDocument:
    """The file as an editable document; an empty one when the file does not exist.

    Raises:
        ConfigError: the file cannot be read or is not valid TOML (naming the file).
    """
    if not path.exists():
        return tomlkit.document()
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}") from exc
    try:
        tomllib.loads(text)  # the reader loading uses: what it refuses, a start refuses
        return tomlkit.parse(text)
    except (tomllib.TOMLDecodeError, tomlkit.exceptions.ParseError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc} (fix the syntax there)") from exc


def read_values(path: Path) -> dict[str, Any]:
    """What the file says, as plain data (empty when there is no file).

    Raises:
        ConfigError: the file cannot be read or parsed.
    """
    values: dict[str, Any] = read_document(path).unwrap()
    return values


def save_changes(
    path: Path,
    changes: Changes,
    env: Mapping[str, str],
    *,
    check: Check | None = None,
) -> Written:
    """Apply `changes` to the file at `path`, validate the result, write it atomically.

    A missing file (and its directory) is created. Nothing is written when no value
    changes, or when anything is refused.

    Args:
        path: the settings file (a symlink is followed: the file it points to is replaced).
        changes: see the module docstring.
        env: the environment a start would see (its `MINATO_*` overrides take part in
            the validation, as they do in loading).
        check: further checks a start makes on the settings (sites, proxies, feeds);
            raises ConfigError to refuse.

    Raises:
        ConfigError: a change is malformed or invalid, naming the dotted key and the fix;
            or the file cannot be read, parsed or written.
    """
    target = path.resolve() if path.is_symlink() else path
    with _WRITE_LOCK:
        document = read_document(target)
        if not target.exists():
            document.add(tomlkit.comment(_HEADER))
            document.add(tomlkit.nl())
        changed = apply_changes(document, changes)
        if not changed:
            return Written(
                path=path, changed=(), settings=settings_from_data(document.unwrap(), path, env)
            )
        text = tomlkit.dumps(document)
        values = _faithful(text, document)
        # The file must stand on its own: a variable that hides a bad value now may be
        # gone at the next start. Then as the next start will read it, variables on top.
        settings_from_data(values, path, {})
        settings = settings_from_data(values, path, env)
        if check is not None:
            check(settings)
        _write_atomically(target, text)
    log.info("settings saved to %s: %s", path, ", ".join(changed))  # names only, never values
    return Written(path=path, changed=tuple(changed), settings=settings)


def apply_changes(document: tomlkit.TOMLDocument, changes: Changes) -> list[str]:
    """Change `document` in place; the dotted keys whose value changed.

    Raises:
        ConfigError: an unknown section, or a value of a kind TOML cannot hold.
    """
    if not isinstance(changes, Mapping):
        raise ConfigError("settings changes must be a table of sections")
    changed: list[str] = []
    for section, value in changes.items():
        if section in LIST_SECTIONS:
            _set_list(document, section, value, changed)
        elif section == SITES:
            _merge_sites(document, value, changed)
        elif section in TABLE_SECTIONS:
            _merge_table(document, section, value, f"{section}.", changed)
        else:
            known = ", ".join(sorted(TABLE_SECTIONS | LIST_SECTIONS | {SITES}))
            raise ConfigError(
                f"{_shown(section)}: not a settings section (fix: use one of {known})"
            )
    return changed


# --- applying ------------------------------------------------------------------------------------


def _merge_table(
    parent: MutableMapping[str, Any],
    name: str,
    updates: Any,
    prefix: str,
    changed: list[str],
) -> None:
    """Set (or with None, remove) each key of `updates` in the table `parent[name]`."""
    if not isinstance(updates, Mapping):
        raise ConfigError(f"{prefix[:-1]}: expected a table of key = value")
    table = parent.get(name)
    if table is None:
        if all(value is None for value in updates.values()):
            return  # removing keys of a table that is not there: nothing to do
        parent[name] = tomlkit.table()
        table = parent[name]
    if not isinstance(table, MutableMapping):
        raise ConfigError(f"[{prefix[:-1]}] must be a table (fix: make it one in the file)")
    for key, value in updates.items():
        dotted = f"{prefix}{_key(key, prefix)}"
        if value is None:
            if key in table:
                del table[key]
                changed.append(dotted)
            continue
        plain = _plain(value, dotted)
        if key in table and _same(_unwrap(table[key]), plain):
            continue
        table[key] = plain
        changed.append(dotted)


def _merge_sites(document: tomlkit.TOMLDocument, updates: Any, changed: list[str]) -> None:
    """Merge each site's keys into `[sites.<id>]`; a site given None loses its whole table."""
    if not isinstance(updates, Mapping):
        raise ConfigError("sites: expected a table of site id -> settings")
    sites = document.get(SITES)
    if sites is None:
        if all(value is None for value in updates.values()):
            return
        document[SITES] = tomlkit.table(is_super_table=True)  # only [sites.<id>] headers
        sites = document[SITES]
    if not isinstance(sites, MutableMapping):
        raise ConfigError("[sites] must be a table (fix: make it one in the file)")
    for site_id, site_updates in updates.items():
        prefix = f"sites.{_key(site_id, 'sites.')}."
        if site_updates is None:
            if site_id in sites:
                del sites[site_id]
                changed.append(prefix[:-1])
            continue
        _merge_table(sites, site_id, site_updates, prefix, changed)
        table = sites.get(site_id)
        if isinstance(table, Mapping) and not table:
            del sites[site_id]  # nothing left to override: the built-in entry applies
    if not sites:
        del document[SITES]


def _set_list(document: tomlkit.TOMLDocument, section: str, value: Any, changed: list[str]) -> None:
    """Replace the whole `[[section]]` list; None or [] removes it."""
    if value is not None and (isinstance(value, str | bytes) or not isinstance(value, list)):
        raise ConfigError(f"{section}: expected a list of tables")
    entries = [_plain(entry, f"{section}[{index}]") for index, entry in enumerate(value or [])]
    if not all(isinstance(entry, dict) for entry in entries):
        raise ConfigError(f"{section}: each entry must be a table (name = ..., url = ...)")
    old = _unwrap(document[section]) if section in document else []
    if _same(old, entries):
        return
    changed.append(section)
    if not entries:
        del document[section]
        return
    tables = tomlkit.aot()
    for entry in entries:
        table = tomlkit.table()
        table.update(entry)
        tables.append(table)
    tables[-1].add(tomlkit.nl())  # a blank line before whatever follows the list
    document[section] = tables  # replaces the old list where it stood


def _key(key: Any, prefix: str) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise ConfigError(
            f"{prefix}{_shown(key)}: not a usable key "
            f"(fix: 1 to {MAX_KEY_CHARS} printable characters)"
        )
    return key


def _plain(value: Any, dotted: str) -> Any:
    """`value` checked to be something TOML holds faithfully (strings bounded, no controls).

    Raises:
        ConfigError: naming `dotted` and what to do instead.
    """
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if len(value) > MAX_STRING_CHARS:
            raise ConfigError(
                f"{dotted}: {len(value)} characters is too long (fix: at most {MAX_STRING_CHARS})"
            )
        if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
            raise ConfigError(
                f"{dotted}: contains control characters or line breaks "
                "(fix: type it on one line, without tabs or control characters)"
            )
        return value
    if isinstance(value, list | tuple):
        return [_plain(item, f"{dotted}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, Mapping):
        return {_key(k, f"{dotted}."): _plain(v, f"{dotted}.{k}") for k, v in value.items()}
    raise ConfigError(
        f"{dotted}: a {type(value).__name__} cannot be stored "
        "(fix: give text, a number, true/false or a list)"
    )


def _unwrap(item: Any) -> Any:
    unwrap = getattr(item, "unwrap", None)
    return unwrap() if callable(unwrap) else item


def _same(old: Any, new: Any) -> bool:
    """Equal as TOML would store them (true is not 1; a date compares by its text)."""
    return _canonical(old) == _canonical(new)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _shown(key: Any) -> str:
    text = repr(key)
    return text if len(text) <= 40 else f"{text[:37]}..."


# --- writing -------------------------------------------------------------------------------------


def _faithful(text: str, document: tomlkit.TOMLDocument) -> dict[str, Any]:
    """The text as loading will read it, which must be exactly the values set.

    Raises:
        ConfigError: the text does not read back as written (refused: never written).
    """
    try:
        reread = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"these values cannot be written as valid TOML: {exc}") from None
    if not _same(reread, document.unwrap()):
        raise ConfigError("these values do not read back as written; nothing was saved")
    return reread


def _write_atomically(target: Path, text: str) -> None:
    """Write `text` to a temp file beside `target`, then swap it in (readers see old or new).

    Raises:
        ConfigError: the directory or file cannot be written.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    except OSError as exc:
        raise ConfigError(
            f"{target}: cannot write the settings file: {exc.strerror or exc} "
            "(fix: check that its directory exists and is writable)"
        ) from exc
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            temp.chmod(FILE_MODE)  # mkstemp makes it 0600 already; be explicit about why
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        temp.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise ConfigError(
            f"{target}: cannot write the settings file: {exc.strerror or exc} "
            "(fix: check the disk space and the file's permissions)"
        ) from exc
