"""ProxyManager: the pool of outbound SOCKS5 and HTTP(S) proxies every crawl goes through.

A site's `proxy` setting picks a policy: "none" (direct), "pool" (round robin over
every proxy: the next request takes the next proxy), "sticky" (one proxy for a whole
crawl, so a site that ties its session to the client address does not flag us; the
next crawl takes the next proxy), or a list of proxy names (round robin within them).

A proxy that fails (cannot be reached, refuses our credentials, times out) cools down
for `base * 2**(failures - 1)` seconds, capped, and the request is retried on another.
When every proxy a policy allows is cooling down, `choose` raises `NoProxyAvailable`
at once, saying when the first one is back: a crawl must never wait on a dead pool.

Proxy URLs carry credentials (`socks5h://user:password@host:1080`). Only httpx ever
sees the full URL; logs, errors, reprs and `status()` show `safe_url`, where the
password is `***`. Nothing here awaits, so the manager needs no lock on the one
asyncio loop that uses it.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import httpx
import socksio

from engine.config import ProxySettings
from engine.errors import ConfigError, NoProxyAvailable

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Strategy = Literal["none", "round_robin", "sticky"]

SCHEMES = ("http", "https", "socks5", "socks5h")
"""The proxy schemes httpx speaks (socks5 needs the `socksio` extra, which is installed)."""

DEFAULT_BASE_COOLDOWN_S = 30.0
"""First cool-down of a failing proxy; long enough for a restart, short enough to not waste it."""

DEFAULT_MAX_COOLDOWN_S = 1800.0
"""Cap of the growing cool-down: a proxy down for hours is still tried twice an hour."""

PROXY_AUTH_REQUIRED = 407

_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*):[^/\s]*@")
"""scheme://user:password@ — greedy to the last '@' of the authority, so an unescaped '@'
inside a password (`u:p@ss@host`) is masked whole instead of half."""

_TARGET_UNREACHABLE = re.compile(
    r"could not connect: (host unreachable|connection refused)|^50[24]\b", re.IGNORECASE
)
"""httpx.ProxyError messages that mean the proxy works but the *site* is unreachable.

httpcore raises "Proxy Server could not connect: <SOCKS5 reply>." when a SOCKS5 proxy
answers the CONNECT command with an error (httpcore/_async/socks_proxy.py), and
"<status> <reason>" when an HTTP proxy refuses a CONNECT tunnel (http_proxy.py).
Cooling the proxy down for these would, for one dead site, cool the whole pool.
"""


def redact_url(url: str) -> str:
    """`url` with the password of its userinfo (and of any URL inside it) masked as `***`.

    Works on a bare URL and on a message that quotes URLs, so anything that may contain a
    proxy URL goes through it before it is logged or raised.
    """
    return _URL_PASSWORD.sub(r"\1:***@", url)


@dataclass(frozen=True, slots=True)
class Proxy:
    """One configured proxy. `url` carries its credentials and is for httpx only.

    Construction validates the URL, so a `Proxy` that exists is usable: scheme http,
    https, socks5 or socks5h, and a host. Errors name the proxy and never its password.
    """

    name: str
    url: str

    def __post_init__(self) -> None:
        _validate(self.name, self.url)

    @property
    def safe_url(self) -> str:
        """The URL with the password shown as `***` (`socks5h://user:***@host:1080`)."""
        return redact_url(self.url)

    def __repr__(self) -> str:
        # The dataclass repr would quote `url`, and reprs end up in logs and tracebacks.
        return f"Proxy(name={self.name!r}, url={self.safe_url!r})"

    @classmethod
    def from_settings(cls, settings: ProxySettings) -> Proxy:
        """The proxy described by one `[[proxies]]` entry of the settings file."""
        return cls(settings.name, settings.url)


def _validate(name: str, url: str) -> None:
    """Raise ConfigError unless `url` is a proxy URL httpx can use; never quotes the password."""
    where = f"[[proxies]] {name!r}"
    shown = _shown(url)
    if not name.strip():
        raise ConfigError(f"[[proxies]]: a proxy without a name ({shown}); add name = ...")
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError on a non-numeric or out-of-range port
    except ValueError:
        # The ValueError's text may quote the netloc, password included: leave it out.
        raise ConfigError(
            f"{where}: url {shown} is not a valid URL (check the host and port)"
        ) from None
    if parts.scheme.lower() not in SCHEMES:
        raise ConfigError(
            f"{where}: url {shown} has scheme {parts.scheme or '(none)'!r};"
            f" use one of {', '.join(SCHEMES)}"
        )
    if not parts.hostname:
        raise ConfigError(f"{where}: url {shown} has no host (e.g. socks5h://host:1080)")
    if port == 0:
        raise ConfigError(f"{where}: url {shown} has port 0")


def _shown(url: str) -> str:
    """`url` fit for an error message even when malformed (no "://", a "/" in the password).

    `redact_url` only recognizes well-formed URLs; a URL that failed validation may hide
    its password elsewhere, so everything before its last "@" is masked.
    """
    shown = redact_url(url)
    if "@" in shown and ":***@" not in shown:
        scheme, sep, _ = shown.partition("://")
        prefix = f"{scheme}://" if sep and "@" not in scheme else ""
        shown = f"{prefix}***@{shown.rsplit('@', 1)[1]}"
    return shown


@dataclass(frozen=True, slots=True)
class ProxyPolicy:
    """How one site's requests pick a proxy, parsed from its `proxy` setting.

    Attributes:
        site: the source id, for error messages ("" when not tied to a site).
        strategy: "none" (direct), "round_robin" (next proxy per request) or
            "sticky" (one proxy per crawl).
        names: the proxies allowed, in order; None means every configured proxy.
    """

    site: str
    strategy: Strategy
    names: tuple[str, ...] | None = None

    def describe(self) -> str:
        """The setting this policy came from, as the user wrote it, for messages."""
        if self.names is not None:
            return "[" + ", ".join(repr(n) for n in self.names) + "]"
        return {"none": "none", "round_robin": "pool", "sticky": "sticky"}[self.strategy]


def parse_policy(
    value: str | Sequence[str], known_names: Iterable[str], *, site: str = ""
) -> ProxyPolicy:
    """The policy for a site's `proxy` setting: "none", "pool", "sticky" or a list of names.

    A bare proxy name is taken as a one-name list. "pool" and "sticky" with no proxy
    configured are refused rather than sent direct: whoever set them wanted their
    address hidden.

    Raises:
        ConfigError: an unknown keyword or proxy name, an empty list, or a pool
            policy without proxies; the message names the site, the value and the fix.
    """
    known = tuple(known_names)
    where = f"sites.{site}.proxy" if site else "proxy"
    known_text = ", ".join(known) if known else "none configured; add [[proxies]] entries"
    if isinstance(value, str):
        keyword = value.strip().lower()
        if keyword == "none":
            return ProxyPolicy(site, "none")
        if keyword in ("pool", "sticky"):
            if not known:
                raise ConfigError(
                    f"{where} = {value!r} but no proxy is configured;"
                    ' add [[proxies]] entries or set it to "none"'
                )
            return ProxyPolicy(site, "round_robin" if keyword == "pool" else "sticky")
        if value in known:
            return ProxyPolicy(site, "round_robin", (value,))
        raise ConfigError(
            f'{where} = {value!r}: use "none", "pool", "sticky" or a list of proxy names'
            f" (known proxies: {known_text})"
        )
    names = tuple(dict.fromkeys(value))  # de-duplicated, order kept
    if not names:
        raise ConfigError(f'{where} = []: list at least one proxy name, or set it to "none"')
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"{where}: unknown proxy {', '.join(repr(n) for n in unknown)}"
            f" (known proxies: {known_text})"
        )
    return ProxyPolicy(site, "round_robin", names)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProxyStatus:
    """One proxy's health, as the API and the GUI show it (no credentials)."""

    name: str
    safe_url: str
    healthy: bool
    cooling_s: float
    """Seconds until the proxy is tried again; 0 when healthy."""
    consecutive_failures: int
    last_error: str | None
    chosen: int
    """How many requests or crawls it was handed out for, since start."""


@dataclass(slots=True)
class _Health:
    failures: int = 0
    cooling_until: float = float("-inf")
    last_error: str | None = None
    chosen: int = 0


class ProxyManager:
    """Hands out proxies by policy, cools failing ones down, and reports their health.

    Used from one asyncio loop; no method awaits, so no lock is needed.
    """

    def __init__(
        self,
        proxies: Iterable[ProxySettings | Proxy],
        *,
        clock: Clock = time.monotonic,
        base_cooldown_s: float = DEFAULT_BASE_COOLDOWN_S,
        max_cooldown_s: float = DEFAULT_MAX_COOLDOWN_S,
    ) -> None:
        """Validate every proxy.

        Raises:
            ConfigError: a proxy URL is invalid or two proxies share a name.
            ValueError: the cool-downs are not positive or max is below base.
        """
        if base_cooldown_s <= 0 or max_cooldown_s < base_cooldown_s:
            raise ValueError("need 0 < base_cooldown_s <= max_cooldown_s")
        self._proxies: dict[str, Proxy] = {}
        for item in proxies:
            proxy = item if isinstance(item, Proxy) else Proxy.from_settings(item)
            if proxy.name in self._proxies:
                raise ConfigError(f"[[proxies]]: two proxies are named {proxy.name!r}")
            self._proxies[proxy.name] = proxy
        self._health = {name: _Health() for name in self._proxies}
        self._clock = clock
        self._base_s = base_cooldown_s
        self._max_s = max_cooldown_s
        self._cursors: dict[tuple[str, ...] | None, int] = {}
        self._sticky: dict[str, str] = {}  # crawl id -> proxy name

    @property
    def proxies(self) -> tuple[Proxy, ...]:
        """Every configured proxy, in settings order."""
        return tuple(self._proxies.values())

    @property
    def names(self) -> tuple[str, ...]:
        """The configured names, for `parse_policy`."""
        return tuple(self._proxies)

    def policy(self, value: str | Sequence[str], *, site: str = "") -> ProxyPolicy:
        """`parse_policy` against this manager's proxies."""
        return parse_policy(value, self._proxies, site=site)

    def choose(self, policy: ProxyPolicy, *, crawl_id: str | None = None) -> Proxy | None:
        """The proxy for the next request under `policy`; None means connect directly.

        Sticky: the proxy already held by `crawl_id` while it is healthy, else the
        next healthy one, held from now on. Without a crawl id, sticky acts as round
        robin (a one-off request has no session to keep).

        Raises:
            NoProxyAvailable: every proxy the policy allows is cooling down.
        """
        if policy.strategy == "none":
            return None
        candidates = self._allowed(policy)
        now = self._clock()
        if policy.strategy == "sticky" and crawl_id is not None:
            held = self._sticky.get(crawl_id)
            if held in candidates and self._healthy(held, now):
                name = held
            else:
                name = self._next_healthy(policy, candidates, now)
                self._sticky[crawl_id] = name
        else:
            name = self._next_healthy(policy, candidates, now)
        self._health[name].chosen += 1
        return self._proxies[name]

    def end_crawl(self, crawl_id: str) -> None:
        """Forget the proxy `crawl_id` held, so the next crawl takes the next one."""
        self._sticky.pop(crawl_id, None)

    def report_failure(self, proxy: Proxy, reason: BaseException | str) -> float:
        """Cool `proxy` down after a proxy failure (see `is_proxy_failure`).

        The cool-down doubles with each failure in a row, up to the cap. A failure
        reported while the proxy is already cooling down comes from a request sent
        before the cool-down began (requests run concurrently), so it does not
        lengthen it again. Crawls holding the proxy move on at their next `choose`.

        Returns:
            Seconds until the proxy is tried again.
        """
        health = self._health_of(proxy)
        now = self._clock()
        health.last_error = describe_failure(reason)
        for crawl_id in [c for c, n in self._sticky.items() if n == proxy.name]:
            del self._sticky[crawl_id]
        if health.cooling_until > now:
            return health.cooling_until - now
        health.failures += 1
        # The exponent is capped: 2.0 ** 1100 overflows, and the cap applies long before.
        doubling = 2.0 ** min(health.failures - 1, 60)
        cooldown = min(self._base_s * doubling, self._max_s)
        health.cooling_until = now + cooldown
        log.warning(
            "proxy %s (%s) failed: %s; not used for %.0f s (failure %d in a row)",
            proxy.name,
            proxy.safe_url,
            health.last_error,
            cooldown,
            health.failures,
        )
        return cooldown

    def report_success(self, proxy: Proxy) -> None:
        """A request went through `proxy`: it is healthy again and its backoff restarts."""
        health = self._health_of(proxy)
        if health.failures:
            log.info("proxy %s (%s) works again", proxy.name, proxy.safe_url)
        health.failures = 0
        health.cooling_until = float("-inf")

    def status(self) -> list[ProxyStatus]:
        """Every proxy's health, in settings order; safe to show (no credentials)."""
        now = self._clock()
        result = []
        for name, proxy in self._proxies.items():
            health = self._health[name]
            cooling_s = max(0.0, health.cooling_until - now)
            result.append(
                ProxyStatus(
                    name=name,
                    safe_url=proxy.safe_url,
                    healthy=cooling_s == 0.0,
                    cooling_s=cooling_s,
                    consecutive_failures=health.failures,
                    last_error=health.last_error,
                    chosen=health.chosen,
                )
            )
        return result

    def _allowed(self, policy: ProxyPolicy) -> tuple[str, ...]:
        if policy.names is None:
            names = tuple(self._proxies)
        else:
            missing = [n for n in policy.names if n not in self._proxies]
            if missing:
                # A policy parsed against other settings than this manager's.
                raise ConfigError(
                    f"sites.{policy.site}.proxy: unknown proxy {', '.join(map(repr, missing))}"
                    f" (known proxies: {', '.join(self._proxies) or 'none'})"
                )
            names = policy.names
        if not names:
            raise NoProxyAvailable(
                policy.site, f"proxy policy {policy.describe()} but no proxy is configured"
            )
        return names

    def _next_healthy(self, policy: ProxyPolicy, candidates: tuple[str, ...], now: float) -> str:
        """Round robin from the policy's cursor, skipping proxies that are cooling down."""
        key = policy.names
        start = self._cursors.get(key, 0)
        for step in range(len(candidates)):
            index = (start + step) % len(candidates)
            if self._healthy(candidates[index], now):
                self._cursors[key] = index + 1
                return candidates[index]
        back_in = min(self._health[n].cooling_until for n in candidates) - now
        count = len(candidates)
        which = f"all {count} proxies" if count > 1 else "the only proxy"
        raise NoProxyAvailable(
            policy.site,
            f"{which} of proxy policy {policy.describe()} {'are' if count > 1 else 'is'}"
            f" cooling down after failures; the first is back in {math.ceil(back_in)} s",
        )

    def _healthy(self, name: str | None, now: float) -> bool:
        return name is not None and self._health[name].cooling_until <= now

    def _health_of(self, proxy: Proxy) -> _Health:
        if self._proxies.get(proxy.name) != proxy:
            raise ValueError(f"{proxy!r} is not a proxy of this manager")
        return self._health[proxy.name]


def describe_failure(reason: BaseException | str) -> str:
    """A one-line, credential-free account of what went wrong, for logs and `status()`."""
    if isinstance(reason, BaseException):
        text = str(reason)
        reason = f"{type(reason).__name__}: {text}" if text else type(reason).__name__
    return redact_url(reason)


def is_proxy_failure(failure: BaseException | httpx.Response | int) -> bool:
    """True when a request sent *through a proxy* failed because of the proxy, not the site.

    Proxy failures: httpx.ProxyError (SOCKS5 handshake or credentials refused, an
    HTTP CONNECT refused), a raw `socksio` error (httpx lets those through unwrapped
    when a SOCKS5 proxy answers nonsense, e.g. closes the connection on missing
    credentials), httpx.ConnectError and ConnectTimeout (through a proxy, the only
    TCP connection we open is to the proxy), and status 407. The cause chain is
    followed, so a `RequestFailed` raised from one of these counts too.

    Not proxy failures: a proxy saying it could not reach the site (SOCKS5 "host
    unreachable"/"connection refused", CONNECT 502/504) and read errors or timeouts
    after connecting; those are the site's, and cooling the proxy would not help.
    Only meaningful for proxied requests: a direct ConnectError is the site's.
    """
    if isinstance(failure, int):
        return failure == PROXY_AUTH_REQUIRED
    if isinstance(failure, httpx.Response):
        return failure.status_code == PROXY_AUTH_REQUIRED
    seen: set[int] = set()
    current: BaseException | None = failure
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, httpx.ProxyError):
            return not _TARGET_UNREACHABLE.search(str(current))
        if isinstance(current, socksio.SOCKSError | httpx.ConnectError | httpx.ConnectTimeout):
            return True
        current = current.__cause__
    return False
