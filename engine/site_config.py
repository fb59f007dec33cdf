"""Site configuration: the built-in sources file merged with the user's `[sites.<id>]` tables.

Each source's politeness, mirrors, proxy policy and schedule come from
`resources/sites.toml`; the user's config file overrides any key of any site (a
`mirrors` list there replaces the built-in one). Everything is checked once, at
start, and every problem names the file, the key and the fix, because a crawler
that fails at 3 a.m. on a typo helps nobody.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from engine.config import ProxySettings, Settings, SiteSettings
from engine.errors import ConfigError

BUILTIN_SITES: Final = Path(__file__).resolve().parents[1] / "resources" / "sites.toml"
DEFAULT_USER_AGENT: Final = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
"""Sites serve browsers; a crawler's own name gets challenge pages far more often."""
KINDS: Final = frozenset({"html", "api", "dht", "bitmagnet"})
POLICIES: Final = frozenset({"none", "pool", "sticky"})
MIN_EVERY_S: Final = 10.0
MAX_EVERY_S: Final = 30 * 86_400.0

_EVERY_RE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$", re.IGNORECASE)
_UNIT_S: Final = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0}
_MIRROR_KINDS: Final = frozenset({"html", "api", "bitmagnet"})
_KEYS: Final = frozenset(SiteSettings.model_fields) | {"kind"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteConfig:
    """One source as the network layer and the scheduler use it."""

    id: str
    kind: str
    enabled: bool
    mirrors: tuple[str, ...]
    """Base URLs in order of preference, no trailing slash."""
    proxy: str | tuple[str, ...]
    """"none", "pool", "sticky", or the names of the proxies to use."""
    min_interval_s: float
    depth: int
    """Pages of each latest or browse listing per crawl."""
    search_depth: int = 1
    every_s: float | None
    """Seconds between runs; None runs the source continuously (the DHT)."""
    user_agent: str
    health_path: str


def parse_every(value: str) -> float | None:
    """Seconds for "90s", "30m", "6h", "1d"; None for "continuous".

    Raises:
        ValueError: anything else, or outside 10 s .. 30 days.
    """
    text = value.strip().lower()
    if text == "continuous":
        return None
    match = _EVERY_RE.match(text)
    if match is None:
        raise ValueError(f"{value!r} is not an interval")
    seconds = float(match.group(1)) * _UNIT_S[match.group(2).lower()]
    if not MIN_EVERY_S <= seconds <= MAX_EVERY_S:
        raise ValueError(f"{value!r} is outside 10s .. 30d")
    return seconds


def load_site_configs(
    settings: Settings,
    *,
    config_path: Path,
    builtin_path: Path = BUILTIN_SITES,
    extra: Mapping[str, tuple[Path, Mapping[str, Any]]] | None = None,
) -> dict[str, SiteConfig]:
    """Every known source, built-in defaults overridden by the user's settings.

    Args:
        settings: the effective settings (their `sites` tables override the defaults).
        config_path: the user's settings file, named in messages.
        builtin_path: the built-in sites file.
        extra: sites that the built-in file does not list (a user's site definition
            file): id -> (the file, its defaults). A built-in id here is ignored.

    Raises:
        ConfigError: naming the file, `sites.<id>.<key>` and the fix, for every problem found.
    """
    builtin = _read_builtin(builtin_path)
    origins: dict[str, str] = {}
    for site_id, (path, defaults) in (extra or {}).items():
        if site_id not in builtin:
            builtin[site_id] = {"kind": "html", **defaults}
            origins[site_id] = str(path)
    proxy_names = _proxy_names(settings.proxies, config_path)
    problems: list[str] = []
    problems.extend(
        f"{config_path}: sites.{site_id}: unknown source "
        f"(fix: use one of {', '.join(sorted(builtin))})"
        for site_id in settings.sites
        if site_id not in builtin
    )
    configs: dict[str, SiteConfig] = {}
    for site_id, defaults in builtin.items():
        user = settings.sites.get(site_id)
        chosen = dict(defaults)
        origin = dict.fromkeys(defaults, origins.get(site_id, str(builtin_path)))
        if user is not None:
            for key in user.model_fields_set:
                chosen[key] = getattr(user, key)
                origin[key] = str(config_path)
        config = _site_config(site_id, chosen, origin, proxy_names, problems)
        if config is not None:
            configs[site_id] = config
    if problems:
        raise ConfigError("invalid site settings:\n  " + "\n  ".join(problems))
    return configs


def _read_builtin(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the built-in sites file: {exc}") from exc
    sites = data.get("sites")
    if not isinstance(sites, dict) or not all(isinstance(v, dict) for v in sites.values()):
        raise ConfigError(f"{path}: expected [sites.<id>] tables")
    for site_id, table in sites.items():
        unknown = set(table) - _KEYS
        if unknown:
            raise ConfigError(f"{path}: sites.{site_id}: unknown keys {sorted(unknown)}")
    return sites


def _proxy_names(proxies: Sequence[ProxySettings], config_path: Path) -> frozenset[str]:
    seen: set[str] = set()
    for proxy in proxies:
        if proxy.name in seen or proxy.name in POLICIES:
            raise ConfigError(
                f"{config_path}: proxies: the name {proxy.name!r} is used twice or is reserved "
                f"(fix: give each [[proxies]] entry its own name, not {sorted(POLICIES)})"
            )
        seen.add(proxy.name)
    return frozenset(seen)


def _site_config(
    site_id: str,
    chosen: Mapping[str, Any],
    origin: Mapping[str, str],
    proxy_names: frozenset[str],
    problems: list[str],
) -> SiteConfig | None:
    before = len(problems)

    def problem(key: str, text: str, fix: str) -> None:
        problems.append(f"{origin.get(key, '?')}: sites.{site_id}.{key}: {text} (fix: {fix})")

    kind = str(chosen.get("kind", ""))
    if kind not in KINDS:
        problem("kind", f"{kind!r} is not a source kind", f"one of {sorted(KINDS)}")
    enabled = bool(chosen.get("enabled", True))
    mirrors = _mirrors(chosen.get("mirrors") or [], lambda text, fix: problem("mirrors", text, fix))
    if kind in _MIRROR_KINDS and enabled and not mirrors:
        problem("mirrors", "no mirror to crawl", 'list at least one base URL, "https://host"')
    proxy = _policy(chosen.get("proxy", "none"), proxy_names, problem)
    try:
        every_s = parse_every(str(chosen.get("every", "30m")))
    except ValueError as exc:
        every_s = None
        problem("every", str(exc), 'an interval such as "90s", "30m", "6h", "1d", or "continuous"')
    user_agent = str(chosen.get("user_agent") or DEFAULT_USER_AGENT)
    if not user_agent.isprintable() or len(user_agent) > 512:
        problem("user_agent", "has control characters or is too long", "one printable line")
    health_path = str(chosen.get("health_path") or "/")
    if not health_path.startswith("/") or not health_path.isprintable():
        problem("health_path", f"{health_path!r} is not a path", 'start it with "/"')
    if len(problems) > before:
        return None
    return SiteConfig(
        id=site_id,
        kind=kind,
        enabled=enabled,
        mirrors=mirrors,
        proxy=proxy,
        min_interval_s=float(chosen.get("min_interval_s", 2.0)),
        depth=int(chosen.get("depth", 3)),
        search_depth=int(chosen.get("search_depth", 1)),
        every_s=every_s,
        user_agent=user_agent,
        health_path=health_path,
    )


def _mirrors(values: Sequence[Any], problem: Callable[[str, str], None]) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        url = str(value).strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problem(f"{value!r} is not an http(s) base URL", 'write it as "https://host"')
            continue
        if parts.username or parts.password:
            shown = f"{parts.scheme}://***@{parts.hostname}"  # never echo a password
            problem(f"{shown!r} has credentials", "give the bare base URL")
            continue
        if parts.query or parts.fragment:
            problem(f"{value!r} has a query or fragment", "give the bare base URL")
            continue
        if url not in found:
            found.append(url)
    return tuple(found)


def _policy(
    value: Any, proxy_names: frozenset[str], problem: Callable[[str, str, str], None]
) -> str | tuple[str, ...]:
    if isinstance(value, str):
        if value in POLICIES:
            if value != "none" and not proxy_names:
                problem("proxy", f'"{value}" but no [[proxies]] are configured', "add proxies")
            return value
        problem("proxy", f"{value!r} is not a policy", f"{sorted(POLICIES)} or a list of names")
        return "none"
    names = tuple(str(v) for v in value)
    unknown = [n for n in names if n not in proxy_names]
    if unknown or not names:
        known = ", ".join(sorted(proxy_names)) or "none configured"
        problem(
            "proxy",
            f"unknown proxies {unknown or '(empty list)'}",
            f"use names of [[proxies]]: {known}",
        )
    return names
