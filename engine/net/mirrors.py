"""MirrorResolver: which of a site's base URLs a crawl uses, and what happens when it fails.

Torrent sites live on many domains at once (1337x.to, 1337x.st, ...), and any of
them can be down, slow, parked by a registrar or behind a Cloudflare challenge on
a given day. A health check asks every configured mirror for a light page at the
same time, records what it found (latency, online, block page) and chooses the
fastest mirror that answers as the site itself, ties going to the config order.
During a crawl, a request that fails on the chosen mirror calls `failover`, which
marks that mirror offline and hands out the next one, so one dead domain costs
one failed request instead of the whole crawl.

The choice and every observation are stored (`engine.store.mirrors`), so a
restart starts from the mirror that worked last time instead of re-learning that
the first one in the list is dead.

The resolver does not send requests itself: it takes a `probe` callable, so the
caller decides the client, the proxy and the User-Agent (`http_probe` builds one
from an `httpx.AsyncClient`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

import httpx

from engine.errors import AllMirrorsDown, BlockedByChallenge, ConfigError, RequestFailed
from engine.net.challenge import detect_block
from engine.store.mirrors import MirrorCheck, MirrorState

log = logging.getLogger(__name__)

T = TypeVar("T")

PROBE_TIMEOUT_S = 15.0
"""A mirror that has not answered the health check by then counts as offline."""

PROBE_MAX_BYTES = 64 * 1024
"""Enough of a page to recognise a challenge or parked page; the rest is not read."""

MAX_URL_LENGTH = 512
"""The width of the stored `url` column."""

_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")
_MAX_ERROR_CHARS = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    """What one health check of one mirror found."""

    online: bool
    """The host answered over HTTP with a usable status (or with a recognised block page)."""
    latency_ms: float | None = None
    """Time until the answer's headers arrived."""
    status: int | None = None
    error: str | None = None
    """Why it is offline: timeout, refused, TLS, HTTP 5xx ... (no credentials)."""
    blocked: str | None = None
    """"challenge: ..." or "parked: ...": it answered, but not as the site."""


Probe = Callable[[str], Awaitable[ProbeResult]]
"""Checks one base URL; must not raise for network failures (it reports them instead)."""

Clock = Callable[[], datetime]


class MirrorStateStore(Protocol):
    """Where the resolver keeps mirror state (`engine.store.mirrors.MirrorStore` in Minato)."""

    async def sync(self, site: str, urls: Sequence[str]) -> list[MirrorState]:
        """Match the stored mirrors of `site` to `urls`; return its states in config order."""
        ...

    async def save(
        self, site: str, checks: Sequence[MirrorCheck], chosen: str | None
    ) -> list[MirrorState]:
        """Record `checks` and the chosen mirror together; return the site's states."""
        ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


def validate_mirrors(site: str, urls: Iterable[object]) -> tuple[str, ...]:
    """The configured base URLs, checked and without duplicates, in their order.

    Trailing slashes are dropped (the same as site_config), so "https://a/" and
    "https://a" are one mirror.

    Raises:
        ConfigError: no site name, no mirror, or a value that is not a bare
            http(s) base URL; the message names the site and the value.
    """
    if not isinstance(site, str) or not site.strip():
        raise ConfigError("mirrors: a mirror list needs the site it belongs to")
    where = f"[sites.{site}] mirrors"
    found: list[str] = []
    for value in urls:
        url = _check_url(where, value)
        if url not in found:
            found.append(url)
    if not found:
        raise ConfigError(f'{where}: no mirror configured; list at least one "https://host"')
    return tuple(found)


def _check_url(where: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(f'{where}: {value!r} is not a URL; write it as "https://host"')
    url = value.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:
        shown = _CREDENTIALS.sub("***@", url)
        raise ConfigError(
            f'{where}: {shown!r} is not a valid URL; write it as "https://host"'
        ) from None
    if parts.username is not None or parts.password is not None:
        shown = f"{parts.scheme}://***@{parts.hostname}"  # never echo a password
        raise ConfigError(f"{where}: {shown!r} has credentials; give the bare base URL")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f'{where}: {value!r} is not an http(s) base URL; write "https://host"')
    if parts.query or parts.fragment:
        raise ConfigError(f"{where}: {value!r} has a query or fragment; give the bare base URL")
    if len(url) > MAX_URL_LENGTH:
        raise ConfigError(f"{where}: {url[:60]!r}... is longer than {MAX_URL_LENGTH} characters")
    return url


def host_of(url: str) -> str:
    """The host (and port) of a URL, for short messages."""
    return urlsplit(url).netloc or url


def describe_error(exc: BaseException) -> str:
    """A short, credential-free description of a failed request, for states and logs."""
    text = str(exc).strip()
    return _clean(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def _clean(text: str) -> str:
    """Without `user:password@` in URLs, and short enough for a status line."""
    return _CREDENTIALS.sub("***@", text)[:_MAX_ERROR_CHARS]


class MirrorResolver:
    """The mirrors of one site: health checks, the chosen mirror and failover.

    Open it with `await MirrorResolver.open(...)` (or call `load()` once) so that it
    starts from the stored state; `check_all()` refreshes it, `current()` gives the
    base URL to use, `failover()` moves on when that URL fails during a crawl.
    """

    def __init__(
        self,
        site: str,
        urls: Sequence[str],
        *,
        probe: Probe,
        store: MirrorStateStore,
        clock: Clock = _utc_now,
        probe_timeout_s: float = PROBE_TIMEOUT_S,
    ) -> None:
        """Validate the configuration; nothing is read or sent yet.

        Raises:
            ConfigError: see `validate_mirrors`.
        """
        self.site = site
        self.urls = validate_mirrors(site, urls)
        self._probe = probe
        self._store = store
        self._clock = clock
        self._probe_timeout_s = probe_timeout_s
        self._states = {
            url: MirrorState(site=site, url=url, position=i) for i, url in enumerate(self.urls)
        }
        self._chosen: str | None = None
        self._loaded = False
        self._lock = asyncio.Lock()  # one state change (and its write) at a time

    @classmethod
    async def open(
        cls,
        site: str,
        urls: Sequence[str],
        *,
        probe: Probe,
        store: MirrorStateStore,
        clock: Clock = _utc_now,
        probe_timeout_s: float = PROBE_TIMEOUT_S,
    ) -> MirrorResolver:
        """A resolver that has loaded the stored state of `site` (see `load`)."""
        resolver = cls(
            site, urls, probe=probe, store=store, clock=clock, probe_timeout_s=probe_timeout_s
        )
        await resolver.load()
        return resolver

    async def load(self) -> list[MirrorState]:
        """Bring the stored mirrors in line with the config and adopt their state (once).

        Mirrors no longer configured are forgotten; a stored choice that is still
        configured is used until the next check says otherwise.
        """
        async with self._lock:
            if not self._loaded:
                self._adopt(await self._store.sync(self.site, self.urls))
                self._loaded = True
        return self.states()

    def current(self) -> str:
        """The base URL to crawl: the chosen mirror, else the first configured one.

        Before `load()` nothing stored is known yet, so that is the first configured.
        """
        return self._chosen or self.urls[0]

    def states(self) -> list[MirrorState]:
        """Every configured mirror with what is known of it, in config order."""
        return [self._states[url] for url in self.urls]

    async def check_all(self) -> list[MirrorState]:
        """Probe every mirror at once, record the results and choose the fastest usable one.

        Usable means online and not a challenge or parked page; ties in latency go to
        the mirror listed first. If none is usable the previous choice is kept (the
        next crawl fails over through the list and reports every host).
        """
        await self.load()
        results = await asyncio.gather(*(self._probe_one(url) for url in self.urls))
        checks = [
            MirrorCheck(
                site=self.site,
                url=url,
                checked_at=at,
                online=result.online,
                latency_ms=result.latency_ms,
                status=result.status,
                error=_clean(result.error) if result.error else None,
                blocked=_clean(result.blocked) if result.blocked else None,
            )
            for url, (result, at) in zip(self.urls, results, strict=True)
        ]
        usable = [c for c in checks if c.usable]
        best = min(
            usable, key=lambda c: _speed_key(c.latency_ms, self.urls.index(c.url)), default=None
        )
        async with self._lock:
            before = self._chosen
            chosen = best.url if best is not None else before
            self._adopt(await self._store.save(self.site, checks, chosen))
        if best is None:
            log.warning(
                "%s: no mirror usable (%s)", self.site, "; ".join(_why(s) for s in self.states())
            )
        elif chosen != before:
            log.info("%s: mirror %s chosen (%.0f ms)", self.site, chosen, best.latency_ms or 0.0)
        log.info("%s: mirror check, %d of %d usable", self.site, len(usable), len(self.urls))
        return self.states()

    async def failover(self, failed_url: str, reason: str, *, challenged: bool = False) -> str:
        """Mark the mirror of `failed_url` offline and return the base URL to use instead.

        `challenged`: it answered, with a challenge page instead of the site; it is
        recorded as blocked ("challenge: ..."), as a health check records it, so
        people see "challenged" rather than "down" and know a solver or proxy helps.

        `failed_url` may be the base URL or any URL under it. If another task already
        moved on from that mirror, its choice stands. Otherwise the next mirror is the
        fastest one the last check found usable, else the first not known to be down.

        Raises:
            AllMirrorsDown: every mirror is known to be down or blocked (all are named).
            ValueError: `failed_url` is not under any configured mirror.
        """
        await self.load()
        base = self._mirror_of(failed_url)
        reason = _clean(reason)
        check = MirrorCheck(
            site=self.site,
            url=base,
            checked_at=self._clock(),
            online=challenged,
            error=None if challenged else reason,
            blocked=f"challenge: {reason}" if challenged else None,
        )
        async with self._lock:
            current = self.current()
            if base != current and not self._states[current].known_bad:
                chosen: str | None = current
            else:
                chosen = self._next_best(exclude=base)
            self._adopt(await self._store.save(self.site, [check], chosen or self._chosen))
        if chosen is None:
            raise AllMirrorsDown(self.site, self._all_down_message())
        if chosen != current:
            log.warning("%s: mirror %s failed (%s); now using %s", self.site, base, reason, chosen)
        return chosen

    async def call(
        self,
        fn: Callable[[str], Awaitable[T]],
        *,
        retry_on: tuple[type[BaseException], ...] = (
            httpx.TransportError,
            RequestFailed,
            BlockedByChallenge,
        ),
    ) -> T:
        """`await fn(base_url)` on the current mirror, failing over on `retry_on` errors.

        Each mirror is tried at most once per call.

        Raises:
            AllMirrorsDown: every mirror failed or is known to be down.
        """
        url = self.current()
        tried = [url]
        while True:
            try:
                return await fn(url)
            except retry_on as exc:
                challenged = isinstance(exc, BlockedByChallenge)
                reason = str(exc) if challenged else describe_error(exc)
                url = await self.failover(url, reason, challenged=challenged)
                if url in tried:
                    details = "; ".join(_why(self._states[u]) for u in tried)
                    raise AllMirrorsDown(
                        self.site,
                        f"every mirror failed during this request (tried {details}); "
                        f"check the network or proxy, or update [sites.{self.site}] mirrors",
                    ) from exc
                tried.append(url)

    async def _probe_one(self, url: str) -> tuple[ProbeResult, datetime]:
        """One probe under the resolver's deadline; a probe that raises counts as offline."""
        try:
            async with asyncio.timeout(self._probe_timeout_s):
                result = await self._probe(url)
        except TimeoutError:
            result = ProbeResult(
                online=False, error=f"no answer within {self._probe_timeout_s:g} s"
            )
        except Exception as exc:  # a probe should report, not raise; never lose the others
            log.debug("%s: probe of %s raised", self.site, url, exc_info=True)
            result = ProbeResult(online=False, error=describe_error(exc))
        return result, self._clock()

    def _adopt(self, states: Iterable[MirrorState]) -> None:
        """Take the stored states as the truth for the configured mirrors."""
        chosen = None
        for state in states:
            if state.url in self._states:
                self._states[state.url] = replace(state, position=self.urls.index(state.url))
                if state.chosen:
                    chosen = state.url
        self._chosen = chosen

    def _next_best(self, *, exclude: str) -> str | None:
        candidates = [s for s in self.states() if s.url != exclude]
        usable = [s for s in candidates if s.usable]
        if usable:
            return min(usable, key=lambda s: _speed_key(s.latency_ms, s.position)).url
        untried = [s for s in candidates if not s.known_bad]
        return untried[0].url if untried else None

    def _mirror_of(self, url: str) -> str:
        stripped = url.rstrip("/")
        matches = [m for m in self.urls if stripped == m or url.startswith(m + "/")]
        if not matches:
            raise ValueError(f"{self.site}: {host_of(url)} is not one of the site's mirrors")
        return max(matches, key=len)

    def _all_down_message(self) -> str:
        details = "; ".join(_why(s) for s in self.states())
        return (
            f"no mirror answered ({details}); check the network or proxy, "
            f"or update [sites.{self.site}] mirrors"
        )


def _speed_key(latency_ms: float | None, position: int) -> tuple[float, int]:
    return (latency_ms if latency_ms is not None else math.inf, position)


def _why(state: MirrorState) -> str:
    host = host_of(state.url)
    if state.blocked:
        return f"{host}: {state.blocked}"
    if state.online is False:
        return f"{host}: {state.last_error or 'offline'}"
    if state.online is None:
        return f"{host}: not checked"
    return f"{host}: online"


def http_probe(
    client: httpx.AsyncClient,
    *,
    path: str = "/",
    timeout_s: float = PROBE_TIMEOUT_S,
    max_bytes: int = PROBE_MAX_BYTES,
    headers: Mapping[str, str] | None = None,
) -> Probe:
    """A probe that GETs `path` on a mirror with `client` (its proxy, headers, TLS settings).

    GET rather than HEAD: these sites often refuse or mishandle HEAD, and a challenge
    or parked page is only recognisable by its body. At most `max_bytes` are read.
    Redirects are followed, so a mirror that moved to https (or was parked) is seen
    as it ends up. `headers` carry the site's own User-Agent: a mirror that serves
    browsers but challenges others must be judged as the crawl will meet it.
    """
    suffix = "/" + path.lstrip("/")

    async def probe(base_url: str) -> ProbeResult:
        started = time.perf_counter()
        try:
            async with (
                asyncio.timeout(timeout_s),
                client.stream(
                    "GET",
                    base_url.rstrip("/") + suffix,
                    headers=headers,
                    timeout=timeout_s,
                    follow_redirects=True,
                ) as response,
            ):
                latency_ms = (time.perf_counter() - started) * 1000.0
                body = await _read_head(response, max_bytes)
        except (TimeoutError, httpx.TimeoutException):
            return ProbeResult(online=False, error=f"no answer within {timeout_s:g} s")
        except httpx.HTTPError as exc:
            return ProbeResult(online=False, error=describe_error(exc))
        status = response.status_code
        block = detect_block(status, response.headers, body)
        if block is not None:
            return ProbeResult(
                online=True,
                latency_ms=latency_ms,
                status=status,
                blocked=f"{block.kind}: {block.reason}",
            )
        if status >= 400:
            return ProbeResult(
                online=False, latency_ms=latency_ms, status=status, error=f"HTTP {status}"
            )
        return ProbeResult(online=True, latency_ms=latency_ms, status=status)

    return probe


async def _read_head(response: httpx.Response, max_bytes: int) -> bytes:
    """The first `max_bytes` of the (decoded) body; the rest is left unread."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= max_bytes:
            break
    return bytes(body[:max_bytes])
