"""Being a polite client: a minimum interval per host, Retry-After, and retry backoff.

The sites we crawl are run by volunteers on small servers, and they ban clients that
hammer them. So every request to a host waits for that host's next slot (default one
request every 2 s, `min_interval_s` per site), a 429/503 with Retry-After pushes the
host's next slot back for everyone, and retries spread out with exponential backoff
and full jitter so that many crawlers failing together do not come back together.

Timeouts, body limits and decompression live in `engine.net.clients`; the retry loop
that ties these pieces together lives with the client that sends the requests.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 2.0
"""One request every 2 s per host unless a site's settings say otherwise."""

MAX_RETRY_AFTER_S = 24 * 3600.0
"""A Retry-After longer than this is taken as this: a broken header must not park a site forever."""

RETRY_STATUSES: frozenset[int] = frozenset({429, 502, 503, 504})
"""Statuses worth retrying after a wait: rate limited, or a gateway/origin that is briefly down.

500 is not here: an origin that crashes on a page usually crashes on it again.
"""

MAX_TRACKED_HOSTS = 1024
"""Above this many remembered hosts, the limiter forgets the ones whose slot has passed."""

_DELTA_SECONDS = re.compile(r"\d+(?:\.\d+)?")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def should_retry(status: int) -> bool:
    """True for a status that may succeed if asked again later (see `RETRY_STATUSES`)."""
    return status in RETRY_STATUSES


@dataclass(eq=False)
class _HostSlot:
    """What the limiter knows of one host: when it may be asked next, and who is waiting."""

    next_at: float = float("-inf")
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # callers inside `acquire`, holding or queued on `lock`


class HostRateLimiter:
    """Spaces requests to each host by an interval; hosts do not wait for each other.

    Callers for one host queue on an `asyncio.Lock`, which wakes waiters in arrival
    order, so they are served first come, first served. The caller at the head of the
    queue sleeps until the host's slot, then checks again, because a `defer` (a
    Retry-After) may have pushed the slot back while it slept. Nobody polls: each
    waiter sleeps exactly until the time it is due.

    The limiter belongs to one event loop and is not thread-safe (the engine runs one
    loop). Clock and sleep are injectable so tests run on a fake clock.
    """

    def __init__(
        self,
        default_interval: float = DEFAULT_INTERVAL_S,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        max_hosts: int = MAX_TRACKED_HOSTS,
    ) -> None:
        _check_interval(default_interval)
        self._default_interval = default_interval
        self._clock = clock
        self._sleep = sleep
        self._max_hosts = max_hosts
        self._hosts: dict[str, _HostSlot] = {}

    @property
    def default_interval(self) -> float:
        """Seconds between two requests to one host when `acquire` is given no interval."""
        return self._default_interval

    async def acquire(self, host: str, interval: float | None = None) -> float:
        """Wait until a request to `host` may be sent; returns the seconds waited.

        Args:
            host: The host name, any case; include the port when it matters.
            interval: Seconds until the next request to this host may follow this one;
                None uses the limiter's default. A site's `min_interval_s` goes here.
        """
        spacing = self._default_interval if interval is None else interval
        _check_interval(spacing)
        slot = self._slot(host.lower())
        slot.users += 1
        started = self._clock()
        try:
            async with slot.lock:
                while (wait := slot.next_at - self._clock()) > 0:
                    await self._sleep(wait)
                now = self._clock()
                slot.next_at = now + spacing
        finally:
            slot.users -= 1
        return now - started

    def defer(self, host: str, seconds: float) -> None:
        """Send nothing to `host` for `seconds` from now (its Retry-After, a 429 or a 503).

        Never brings the next slot forward; a value that is not a positive finite number
        is ignored, and a huge one is capped at `MAX_RETRY_AFTER_S`.
        """
        if not math.isfinite(seconds) or seconds <= 0:
            return
        seconds = min(seconds, MAX_RETRY_AFTER_S)
        slot = self._slot(host.lower())
        slot.next_at = max(slot.next_at, self._clock() + seconds)
        log.info("holding requests to %s for %.1f s", host, seconds)

    def next_slot_in(self, host: str) -> float:
        """Seconds until `host` may be asked again (0 if now), not counting queued callers."""
        slot = self._hosts.get(host.lower())
        if slot is None:
            return 0.0
        return max(0.0, slot.next_at - self._clock())

    def __len__(self) -> int:
        """How many hosts the limiter remembers (bounded by forgetting idle ones)."""
        return len(self._hosts)

    def _slot(self, host: str) -> _HostSlot:
        slot = self._hosts.get(host)
        if slot is None:
            if len(self._hosts) >= self._max_hosts:
                self._forget_idle()
            slot = self._hosts[host] = _HostSlot()
        return slot

    def _forget_idle(self) -> None:
        """Drop hosts nobody waits for whose slot has passed: a fresh entry behaves the same.

        A host with a slot still ahead (a Retry-After) or with callers queued is kept,
        so forgetting never lets a request through early.
        """
        now = self._clock()
        idle = [h for h, s in self._hosts.items() if s.users == 0 and s.next_at <= now]
        for host in idle:
            del self._hosts[host]


def _check_interval(interval: float) -> None:
    if not (math.isfinite(interval) and interval >= 0):
        raise ValueError(f"interval must be a finite number of seconds >= 0, not {interval!r}")


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header, or None when it has no usable value.

    RFC 9110 section 10.2.3 allows delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct
    2015 07:28:00 GMT", and the obsolete RFC 850 and asctime forms). A fractional
    number is accepted as well, since some servers send one. A date in the past means
    "now" (0.0: the server's clock may be a little off); a negative number or garbage
    gives None; anything longer than `MAX_RETRY_AFTER_S` is capped to it.

    Args:
        value: The header's value, or None when it was absent.
        now: The current time; a naive datetime is taken as UTC.
    """
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > 64:  # no valid Retry-After is longer; don't parse junk
        return None
    if _DELTA_SECONDS.fullmatch(text):
        seconds = float(text)  # a long run of digits gives inf, capped below
    else:
        when = _parse_http_date(text)
        if when is None:
            return None
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        seconds = max(0.0, (when - now).total_seconds())
    return min(seconds, MAX_RETRY_AFTER_S)


def _parse_http_date(text: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT; the parser leaves "-0000" and asctime naive
        when = when.replace(tzinfo=UTC)
    return when


_jitter = random.Random()  # noqa: S311 - spreads retries in time; nothing secret depends on it


def backoff_delay(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number `attempt` (1 for the first retry).

    "Full jitter" from AWS's "Exponential Backoff and Jitter": a uniform draw between 0
    and min(cap, base * 2 ** (attempt - 1)). Drawing over the whole range spreads
    clients that failed together far better than adding a little noise to a fixed
    delay, at the same total wait on average.
    https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/

    Args:
        attempt: Which retry this is, from 1.
        base: The ceiling of the first retry's delay, in seconds.
        cap: The largest ceiling any retry may have, in seconds.
        rng: The random source; tests pass a seeded one.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, not {attempt}")
    if not (0 <= base <= cap and math.isfinite(cap)):
        raise ValueError(f"need 0 <= base <= cap (finite), not base={base} cap={cap}")
    try:
        ceiling = min(cap, base * 2.0 ** (attempt - 1))
    except OverflowError:  # attempt in the thousands: long past the cap
        ceiling = cap
    return (rng or _jitter).uniform(0.0, ceiling)
