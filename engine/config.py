"""Settings: one TOML file in the platform config dir, every key overridable by `MINATO_*`.

Load order: defaults < config file < environment. Environment keys are
`MINATO_<SECTION>__<KEY>` (e.g. `MINATO_SERVER__PORT=9800`), plus the short
aliases `MINATO_DATA_DIR` and `MINATO_DATABASE_URL`; `MINATO_CONFIG` points at
another config file. Validation errors name the file (or variable), the key and
the fix, because a user reading them has no other context.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.errors import ConfigError

APP_NAME = "minato"
ENV_PREFIX = "MINATO_"
_ENV_ALIASES = {
    "MINATO_DATA_DIR": ("storage", "data_dir"),
    "MINATO_DATABASE_URL": ("storage", "database_url"),
}
_SECRET_KEYS = frozenset({"internal_secret", "tmdb_api_key", "database_url", "url"})
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$"
)
AVAILABLE_BACKENDS: tuple[str, ...] = ("auto", "embedded")
"""The search backends this version can open (`engine.core` refuses Meilisearch at start)."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class ServerSettings(_Section):
    """The in-process HTTP server (Torznab, ingest and JSON API)."""

    host: str = "127.0.0.1"
    """Interface to bind. Another interface than loopback only on purpose."""
    port: int = Field(default=9797, ge=0, le=65535)
    """TCP port (not Jackett's 9117, Prowlarr's 9696 or Bitmagnet's 3333)."""
    internal_secret: str = ""
    """Secret workers send as X-Internal-Secret; empty: generated once, kept in the data dir."""
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """Largest request body accepted (bulk ingest); larger bodies get 413."""
    max_torrent_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    """Largest .torrent file accepted by /api/ingest/file."""
    max_bulk_records: int = Field(default=100_000, ge=1)
    """Most records one bulk ingest may carry."""

    @field_validator("host")
    @classmethod
    def _interface(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not _HOSTNAME.match(value):
                raise ValueError(
                    'must be an IP address or a host name, e.g. "127.0.0.1", "::1" or "0.0.0.0"'
                ) from None
        return value


class StorageSettings(_Section):
    """Where the database lives."""

    data_dir: str = ""
    """Empty: the platform data dir. Holds the SQLite database, the search index, secrets."""
    database_url: str = ""
    """Empty: SQLite in data_dir. `postgresql+psycopg://user:pass@host/db` for scale-out."""

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        return value


class SearchSettings(_Section):
    """Which search backend answers queries."""

    backend: Literal["auto", "embedded", "meilisearch"] = "auto"
    """auto | embedded | meilisearch. auto picks the embedded index (tantivy)."""
    meilisearch_url: str = ""
    """A remote Meilisearch server instead of the bundled process."""
    meilisearch_binary: str = ""
    """Path to a Meilisearch binary; else resources/bin, else PATH."""


class PipelineSettings(_Section):
    """The single writer path from records to the database and the index."""

    classify: bool = True
    """Parse titles and decide kind/category on ingest (guessit: accurate but slow)."""
    classify_workers: int = Field(default=0, ge=0, le=64)
    """Processes that parse titles; 0 = one per CPU core."""
    batch_records: int = Field(default=2000, ge=1, le=100_000)
    """Most records one database transaction carries."""
    index_batch: int = Field(default=5000, ge=1, le=100_000)
    """Most outbox rows the index drainer takes at once."""


class ProxySettings(_Section):
    """One outbound proxy (used by the scraper layer)."""

    name: str
    url: str


class SiteSettings(_Section):
    """Per-source overrides; the built-in defaults (resources/sites.toml) apply to keys left out.

    Which keys the user actually wrote is `model_fields_set`: `engine.site_config`
    merges only those over the built-in entry.
    """

    enabled: bool = True
    mirrors: list[str] | None = None
    proxy: str | list[str] = "none"
    min_interval_s: float = Field(default=2.0, ge=0, le=3600)
    depth: int = Field(default=3, ge=1, le=100)
    """Pages of each scheduled (latest) or browse listing crawled per run."""
    search_depth: int = Field(default=1, ge=1, le=100)
    """Pages of results read for a search."""
    every: str = "30m"
    user_agent: str | None = None
    health_path: str | None = None


class FeedSettings(_Section):
    """An RSS/Atom/Torznab feed to poll."""

    name: str
    url: str
    every: str = "15m"


class DhtSettings(_Section):
    """The DHT crawler: a libtorrent node that finds torrents no website lists.

    Off by default, because it uses bandwidth and a UDP port the world can reach;
    `minato dht start` (or the window) turns it on, and that choice is kept.
    """

    enabled: bool = False
    """Run the DHT crawler at start, until the user starts or stops it (their choice wins)."""
    listen: str = "0.0.0.0:6881"
    """Address and port of the node (UDP for the DHT, TCP for metadata); port 0: any free one."""
    bootstrap: list[str] = Field(
        default_factory=lambda: ["router.bittorrent.com:6881", "dht.transmissionbt.com:6881"]
    )
    """host:port of nodes to join the DHT through."""
    fetch_concurrency: int = Field(default=32, ge=1, le=1000)
    """Metadata fetches running at once."""
    fetch_timeout_s: float = Field(default=30.0, ge=1.0, le=600.0)
    """Seconds one fetch may take, peer lookup included, before it counts as failed."""
    fetch_retries: int = Field(default=1, ge=0, le=10)
    """Further tries for a hash whose fetch failed (no peers, timeout)."""
    retry_after_s: float = Field(default=600.0, ge=1.0, le=86_400.0)
    """Wait before a failed hash is tried again (peers come and go)."""
    samples_per_s: float = Field(default=5.0, ge=0.0, le=1000.0)
    """BEP 51 `sample_infohashes` queries sent per second; 0 turns active sampling off."""
    seen_capacity: int = Field(default=2_000_000, ge=1000, le=100_000_000)
    """Hashes remembered as seen (about 2 MB per million): older ones may be looked at again."""
    queue_capacity: int = Field(default=20_000, ge=10, le=1_000_000)
    """New hashes waiting for a fetch; beyond it new ones are dropped until there is room."""
    max_nodes: int = Field(default=50_000, ge=10, le=10_000_000)
    """DHT nodes remembered for sampling (each about 230 bytes)."""
    upload_kib_s: int = Field(default=512, ge=0, le=10_000_000)
    """Upload limit of the node in KiB/s (DHT replies included); 0: no limit."""
    download_kib_s: int = Field(default=2048, ge=0, le=10_000_000)
    """Download limit in KiB/s; only metadata is ever fetched, never content. 0: no limit."""
    keep_metainfo: bool = True
    """Keep each fetched .torrent so Minato can serve it; off saves space (files are kept)."""

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError('must be "address:port", e.g. "0.0.0.0:6881"')
        return value

    @field_validator("bootstrap")
    @classmethod
    def _endpoints(cls, values: list[str]) -> list[str]:
        for value in values:
            host, _, port = value.strip().rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) <= 65535:
                raise ValueError(f'{value!r} is not "host:port"')
        return values


class EnrichSettings(_Section):
    """Metadata enrichment: TMDb, AniList and MusicBrainz ids for what was indexed.

    Each service works on its own: TMDb needs `tmdb_api_key`, MusicBrainz needs a
    `musicbrainz_contact` (its rules ask every client for one), AniList needs nothing.
    A service without what it needs stays off; the others go on.
    """

    enabled: bool = True
    """Look up external ids in the background; off: nothing is sent to any service."""
    tmdb_api_key: str = ""
    """TMDb v3 API key (themoviedb.org, account settings). Empty: TMDb lookups are off."""
    tmdb_url: str = "https://api.themoviedb.org/3"
    anilist: bool = True
    """Look anime up on AniList (no key needed)."""
    anilist_url: str = "https://graphql.anilist.co"
    musicbrainz_contact: str = ""
    """An email or URL for MusicBrainz's User-Agent rule. Empty: MusicBrainz lookups are off."""
    musicbrainz_url: str = "https://musicbrainz.org/ws/2"
    batch: int = Field(default=20, ge=1, le=1000)
    """Torrents taken from the lookup queue per step."""
    idle_seconds: float = Field(default=10.0, gt=0, le=3600)
    """Wait between looks at an empty queue."""


class CrawlSettings(_Section):
    """The crawlers and the mirror health checks: everything that sends requests to sites.

    Off, Minato contacts no site at all (no crawl, no mirror check); the index, the
    API and ingest keep working. Tests and benchmarks turn it off so that nothing
    reaches the public hosts of the built-in sites.
    """

    enabled: bool = True
    """Crawl the enabled sites and check their mirrors; off: nothing is sent to any site."""
    mirror_check_minutes: float = Field(default=15.0, ge=1.0, le=1440.0)
    """Minutes between two health checks of every enabled site's mirrors (first one at start)."""
    flaresolverr_url: str = ""
    """A FlareSolverr instance (http://host:8191) to pass challenge pages; empty: none."""

    @field_validator("flaresolverr_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as http://127.0.0.1:8191")
        return value


class LiveSettings(_Section):
    """Live search-through: asking the sites when the index lacks what a search wants.

    Torznab searches (Sonarr, Radarr...) go live when the same query was not asked
    live within `ttl_hours`, or within `thin_retry_minutes` when the index has fewer
    than `min_results` matches for it; everything found is stored, so the next
    identical search is answered locally.
    """

    enabled: bool = True
    """Off: searches answer from the index alone (the sites are still crawled)."""
    min_results: int = Field(default=20, ge=0, le=10_000)
    """Fewer local matches than this send the query to the sites."""
    ttl_hours: float = Field(default=6.0, ge=0.0, le=24 * 365)
    """A query asked live within this many hours is answered from the index alone."""
    thin_retry_minutes: float = Field(default=30.0, ge=0.0, le=24 * 365 * 60)
    """...unless the index has fewer than `min_results` for it: then after this many minutes."""
    source_deadline_s: float = Field(default=8.0, gt=0.0, le=120.0)
    """Seconds one site gets to answer before the answer goes without it."""
    global_deadline_s: float = Field(default=10.0, gt=0.0, le=120.0)
    """Seconds after which the answer goes out with whatever arrived."""


class DesktopSettings(_Section):
    """The window: how it starts, what closing it does, how it looks. `minato serve` ignores it."""

    start_minimized: bool = False
    """Open to the tray icon only, without showing the window (the engine starts as usual)."""
    close_to_tray: bool = True
    """Closing the window hides it to the tray, where one exists; indexing goes on. Off: quit."""
    theme: Literal["system", "light", "dark"] = "system"
    """system | light | dark. system follows the desktop's colour scheme."""


class Settings(_Section):
    """Every setting Minato reads; the TOML file's shape."""

    server: ServerSettings = ServerSettings()
    storage: StorageSettings = StorageSettings()
    search: SearchSettings = SearchSettings()
    pipeline: PipelineSettings = PipelineSettings()
    proxies: list[ProxySettings] = Field(default_factory=list)
    sites: dict[str, SiteSettings] = Field(default_factory=dict)
    feeds: list[FeedSettings] = Field(default_factory=list)
    dht: DhtSettings = DhtSettings()
    enrich: EnrichSettings = EnrichSettings()
    crawl: CrawlSettings = CrawlSettings()
    live: LiveSettings = LiveSettings()
    desktop: DesktopSettings = DesktopSettings()

    def data_path(self) -> Path:
        """The data dir actually used (created on demand by the store)."""
        if self.storage.data_dir:
            return Path(self.storage.data_dir).expanduser()
        return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """`MINATO_CONFIG` if set, else `config.toml` in the platform config dir."""
    env = os.environ if env is None else env
    if override := env.get("MINATO_CONFIG"):
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def load_settings(
    path: Path, env: Mapping[str, str], overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Read the TOML file (missing is fine), apply env and CLI overrides, validate.

    Raises:
        ConfigError: the file cannot be read or parsed, or a value is invalid.
    """
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the config file: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc} (fix the syntax there)") from exc
    return settings_from_data(data, path, env, overrides)


def settings_from_data(
    data: Mapping[str, Any],
    path: Path,
    env: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Validate the contents of the file at `path`, with env and CLI overrides, as loading does.

    The settings writer checks a changed file with this before writing it.

    Raises:
        ConfigError: a value is invalid (naming its origin, the dotted key and the fix).
    """
    merged: dict[str, Any] = copy.deepcopy(dict(data))  # overrides go into the tables
    origins = {key: str(path) for key in _flat_keys(data)}
    for (section, key), value in _env_overrides(env).items():
        merged.setdefault(section, {})
        if not isinstance(merged[section], dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        merged[section][key] = value
        origins[f"{section}.{key}"] = f"environment variable {_env_name(section, key)}"
    for dotted, value in (overrides or {}).items():
        section, key = dotted.split(".", 1)
        merged.setdefault(section, {})[key] = value
        origins[dotted] = "the command line"
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise _config_error(path, exc, origins) from exc


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data with secrets replaced by '***'."""
    shown: dict[str, Any] = _mask(settings.model_dump(mode="json"))
    return shown


def _mask(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, key) for v in value]
    if key in _SECRET_KEYS and isinstance(value, str) and value:
        return mask_url(value) if "://" in value else "***"
    return value


def env_keys(env: Mapping[str, str]) -> dict[str, str]:
    """Which settings the environment sets: dotted key ("server.port") -> variable name.

    A key set there wins over the file at every start, so a saved value does not
    take effect while its variable is set.
    """
    return {f"{section}.{key}": _env_name(section, key) for section, key in _env_overrides(env)}


def mask_url(url: str) -> str:
    """Hide the password of a URL but keep where it points, so `config show` stays useful."""
    scheme, _, rest = url.partition("://")
    rest = re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", rest)  # libpq's ?password=
    userinfo, at, host = rest.rpartition("@")
    if not at:
        return f"{scheme}://{rest}"
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def _env_name(section: str, key: str) -> str:
    for alias, target in _ENV_ALIASES.items():
        if target == (section, key):
            return alias
    return f"{ENV_PREFIX}{section.upper()}__{key.upper()}"


def _env_overrides(env: Mapping[str, str]) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or name == "MINATO_CONFIG":
            continue
        if name in _ENV_ALIASES:
            found[_ENV_ALIASES[name]] = raw
            continue
        section, sep, key = name[len(ENV_PREFIX) :].partition("__")
        if not sep or not key:
            continue  # not ours (e.g. MINATO_TEST_DATABASE_URL)
        found[(section.lower(), key.lower())] = _env_value(raw)
    return found


def _env_value(raw: str) -> Any:
    """Environment values are strings; JSON lists/tables are accepted for list keys."""
    stripped = raw.strip()
    if stripped.startswith(("[", "{")):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return raw
    return raw


def _flat_keys(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        keys.append(dotted)
        if isinstance(value, dict):
            keys.extend(_flat_keys(value, f"{dotted}."))
    return keys


def _config_error(path: Path, exc: ValidationError, origins: Mapping[str, str]) -> ConfigError:
    lines = []
    for error in exc.errors():
        dotted = ".".join(str(part) for part in error["loc"])
        origin = (
            origins.get(dotted)
            # an unknown table set only from the environment: its variables are the origin
            or next((o for k, o in origins.items() if k.startswith(f"{dotted}.")), None)
            or origins.get(str(error["loc"][0]))
            or str(path)
        )
        fix = _fix_hint(error)
        lines.append(f"{origin}: {dotted}: {error['msg']} (fix: {fix})")
    return ConfigError("invalid settings:\n  " + "\n  ".join(lines))


def _fix_hint(error: Any) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "remove this key or check its spelling"
    if kind == "missing":
        return "add this key"
    ctx = error.get("ctx") or {}
    if "expected" in ctx:
        return f"use one of {ctx['expected']}"
    if "ge" in ctx and "le" in ctx:
        return f"use a number from {ctx['ge']} to {ctx['le']}"
    if "le" in ctx:
        return f"use a number no larger than {ctx['le']}"
    if "ge" in ctx:
        return f"use a number no smaller than {ctx['ge']}"
    return "correct the value as described"
