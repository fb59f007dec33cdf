"""The settings as the window edits them: what runs now, what the file says, saving changes.

Secrets never leave this service: the TMDb key and the internal secret show as
"set" / "not set", and a URL's password as `***` (a proxy URL sent back with its
`***` keeps the stored password). A save is checked as a start would check it
(the same validation, the same `MINATO_*` overrides, the sites, proxies and feeds)
before the file is touched. The running engine does not reload its settings: every
saved change takes effect at the next start, and a key set by an environment
variable keeps the variable's value while it is set.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel

from engine.config import (
    AVAILABLE_BACKENDS,
    Settings,
    SiteSettings,
    env_keys,
    load_settings,
    mask_url,
)
from engine.errors import ConfigError
from engine.net.proxies import ProxyManager
from engine.settings_file import Changes, read_values, save_changes
from engine.site_config import POLICIES, parse_every
from engine.sources.catalog import load_catalog
from engine.sources.feeds import check_feed

SET: Final = "set"
NOT_SET: Final = "not set"
RESTART: Final = "takes effect at the next start"
_PLAIN_SECRETS: Final = frozenset({"internal_secret", "tmdb_api_key"})
"""Shown only as set / not set."""
_URL_SECRETS: Final = frozenset({"database_url", "url"})
"""URLs that may carry a password: shown with it as ***."""
_HIDDEN: Final = "***"
_MIRROR_KINDS: Final = frozenset({"html", "api", "bitmagnet"})


@dataclass(frozen=True, slots=True, kw_only=True)
class SaveReport:
    """What a save changed, and why some of it does not apply yet."""

    path: Path
    changed: tuple[str, ...]
    """Dotted keys whose value in the file changed; empty: nothing was written."""
    overridden: Mapping[str, str] = field(default_factory=dict)
    """Changed key -> the environment variable that sets it: the saved value waits for it
    to be unset."""
    restart_needed: tuple[str, ...] = ()
    """Changed keys that take effect at the next start: all of them (no hot reload)."""

    def summary(self, applied: Collection[str] = ()) -> str:
        """A few lines for a person: where it went, what waits for a restart or a variable.

        Args:
            applied: changed keys the caller has already put into effect (the window's
                theme); they are not listed as waiting for a restart.
        """
        if not self.changed:
            return f"Nothing to save: {self.path} already holds these values."
        lines = [f"Saved to {self.path}."]
        waiting = [key for key in self.restart_needed if key not in applied]
        if waiting:
            lines.append(f"{RESTART.capitalize()}: {', '.join(waiting)}.")
        now = [key for key in self.changed if key in applied]
        if now:
            lines.append(f"Applied now: {', '.join(now)}.")
        lines.extend(
            f"{key}: the environment variable {name} is set and wins over the saved value "
            "while it is set."
            for key, name in self.overridden.items()
        )
        return "\n".join(lines)


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteEntry:
    """One known site as the next start will configure it."""

    id: str
    kind: str
    enabled: bool
    mirrors: tuple[str, ...]
    proxy: str | tuple[str, ...]
    """"none", "pool", "sticky", or the names of the proxies it uses."""
    min_interval_s: float
    depth: int
    has_mirrors: bool
    """Whether mirrors mean anything for it (not the DHT)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsForm:
    """Everything the settings dialog shows, as the next start will load it."""

    path: Path
    values: dict[str, Any]
    """Section -> key -> value (file, then environment on top), secrets concealed."""
    env: dict[str, str]
    """Dotted key -> the environment variable that sets it (editing it has no effect)."""
    sites: tuple[SiteEntry, ...]
    help: dict[str, str]
    """Dotted key ("server.port", "sites.depth") -> its description, for tooltips."""
    backends: tuple[str, ...] = AVAILABLE_BACKENDS
    proxy_policies: tuple[str, ...] = tuple(sorted(POLICIES))


class SettingsService:
    """Reads and saves the settings file the engine was loaded from."""

    def __init__(
        self,
        settings: Settings,
        config_path: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Hold the running settings and where they were loaded from.

        Args:
            settings: the effective settings the engine runs with.
            config_path: the file loading read (`MINATO_CONFIG`, `--config` or the
                platform default); saves go there.
            env: the environment loading saw; None: this process's.
        """
        self._settings = settings
        self._path = config_path
        self._env = os.environ if env is None else env
        self._lock = threading.Lock()

    @property
    def config_path(self) -> Path:
        """The settings file (it may not exist yet: it is made on the first save)."""
        return self._path

    async def current(self) -> dict[str, Any]:
        """The settings the engine runs with now, secrets shown only as "set" / "not set"."""
        return conceal(self._settings.model_dump(mode="json"))

    async def file_values(self) -> dict[str, Any]:
        """What the file says (empty without a file), secrets concealed.

        Raises:
            ConfigError: the file cannot be read or parsed.
        """
        return conceal(await asyncio.to_thread(read_values, self._path))

    async def form(self) -> SettingsForm:
        """The values, sites and help the settings dialog edits, as the next start loads them.

        Raises:
            ConfigError: the file (or the environment) holds something a start refuses.
        """
        return await asyncio.to_thread(self._form)

    async def save(self, changes: Changes) -> SaveReport:
        """Write `changes` to the file after checking the result as a start would.

        Args:
            changes: section -> key -> value; whole lists for `proxies` and `feeds`;
                site id -> key -> value for `sites`; None removes a key.

        Raises:
            ConfigError: a value is refused (naming the key and the fix); the file is
                left as it was.
        """
        return await asyncio.to_thread(self._save, changes)

    def _form(self) -> SettingsForm:
        settings = load_settings(self._path, self._env)
        catalog = load_catalog(settings, config_path=self._path)
        sites = tuple(
            SiteEntry(
                id=config.id,
                kind=config.kind,
                enabled=config.enabled,
                mirrors=config.mirrors,
                proxy=config.proxy,
                min_interval_s=config.min_interval_s,
                depth=config.depth,
                has_mirrors=config.kind in _MIRROR_KINDS,
            )
            for _, config in sorted(catalog.configs.items())
        )
        return SettingsForm(
            path=self._path,
            values=conceal(settings.model_dump(mode="json")),
            env=env_keys(self._env),
            sites=sites,
            help=_help(),
        )

    def _save(self, changes: Changes) -> SaveReport:
        with self._lock:
            stored = read_values(self._path)
            resolved = _reveal(changes, stored)
            written = save_changes(
                self._path,
                resolved,
                self._env,
                check=lambda settings: check_startable(settings, self._path),
            )
        overriding = env_keys(self._env)
        overridden = {
            key: name
            for key in written.changed
            if (name := _overriding(key, overriding)) is not None
        }
        return SaveReport(
            path=self._path,
            changed=written.changed,
            overridden=overridden,
            restart_needed=written.changed,
        )


def check_startable(settings: Settings, config_path: Path) -> None:
    """The checks a start makes beyond the settings model: sites, proxies, feeds, backend.

    Raises:
        ConfigError: naming the key and the fix.
    """
    if settings.search.backend not in AVAILABLE_BACKENDS:
        raise ConfigError(
            f"search.backend: {settings.search.backend!r} is not available in this version "
            f"(fix: use one of {', '.join(AVAILABLE_BACKENDS)})"
        )
    data_dir = settings.storage.data_dir
    if data_dir:
        path = Path(data_dir).expanduser()
        if not path.is_absolute():
            raise ConfigError(
                f"storage.data_dir: {data_dir[:80]!r} is not an absolute path "
                "(fix: pick a folder, or leave it empty for the platform default)"
            )
        if path.exists() and not path.is_dir():
            raise ConfigError(f"storage.data_dir: {data_dir[:80]!r} is a file (fix: pick a folder)")
    load_catalog(settings, config_path=config_path)  # sites: mirrors, policy; proxy names
    ProxyManager(settings.proxies)  # every proxy URL usable
    names: set[str] = set()
    for index, feed in enumerate(settings.feeds):
        try:
            name, _ = check_feed(feed.name, feed.url)
            every_s = parse_every(feed.every)
        except ValueError as exc:
            raise ConfigError(f"feeds[{index}]: {exc} (fix: correct it in [[feeds]])") from None
        if name in names:
            raise ConfigError(
                f"feeds[{index}]: the name {name!r} is used twice (fix: give each feed its own)"
            )
        if every_s is None:
            raise ConfigError(
                f'feeds[{index}]: {name!r} needs an interval (fix: every = "15m", not continuous)'
            )
        names.add(name)


def conceal(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` with the plain secrets as "set" / "not set" and URL passwords as ***."""
    concealed: dict[str, Any] = _conceal(data)
    return concealed


def _conceal(value: Any, key: str = "") -> Any:
    if isinstance(value, Mapping):
        return {k: _conceal(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_conceal(v, key) for v in value]
    if key in _PLAIN_SECRETS:
        return SET if value else NOT_SET
    if key in _URL_SECRETS and isinstance(value, str) and value:
        return mask_url(value) if "://" in value else _HIDDEN
    return value


def _reveal(changes: Changes, stored: Mapping[str, Any]) -> dict[str, Any]:
    """`changes` with concealed values put back, so a save never stores a placeholder.

    A secret given as "set" / "not set" is no change; a URL whose password shows as
    *** takes the stored URL it stands for.

    Raises:
        ConfigError: a *** that matches no stored URL (the password cannot be guessed).
    """
    revealed: dict[str, Any] = {}
    for section, value in changes.items():
        if isinstance(value, list):
            old = stored.get(section)
            revealed[section] = [
                _reveal_entry(section, index, entry, old if isinstance(old, list) else [])
                for index, entry in enumerate(value)
            ]
        elif isinstance(value, Mapping) and section != "sites":
            revealed[section] = {
                key: item
                for key, item in value.items()
                if not (key in _PLAIN_SECRETS and item in (SET, NOT_SET))
            }
        else:
            revealed[section] = value
    return revealed


def _reveal_entry(section: str, index: int, entry: Any, stored: list[Any]) -> Any:
    if not isinstance(entry, Mapping):
        return entry
    url = entry.get("url")
    if not isinstance(url, str) or _HIDDEN not in url:
        return entry
    for old in stored:
        old_url = old.get("url") if isinstance(old, Mapping) else None
        if isinstance(old_url, str) and mask_url(old_url) == url:
            return {**entry, "url": old_url}
    raise ConfigError(
        f"{section}[{index}].url: its password shows as {_HIDDEN} "
        "(fix: type the whole URL again, password included)"
    )


def _overriding(key: str, overriding: Mapping[str, str]) -> str | None:
    """The variable that sets `key` or a table holding it ("sites.yts" holds "sites.yts.depth")."""
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        name = overriding.get(".".join(parts[:end]))
        if name is not None:
            return name
    return None


def _help() -> dict[str, str]:
    """Every documented key's description (the attribute docstrings), by dotted key."""
    found: dict[str, str] = {}
    for section, info in Settings.model_fields.items():
        model = info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            found.update(_descriptions(section, model))
    found.update(_descriptions("sites", SiteSettings))
    return found


def _descriptions(prefix: str, model: type[BaseModel]) -> dict[str, str]:
    return {
        f"{prefix}.{name}": info.description
        for name, info in model.model_fields.items()
        if info.description
    }
