"""Pacing for the metadata services: a blocking rate limiter per service, and a backoff.

Each service publishes a limit (MusicBrainz: 1 request/s per client, and it blocks
clients that exceed it; AniList: 90/min, 30/min while degraded; TMDb: about 50/s)
and answers 429 (MusicBrainz: 503) with Retry-After when we go over. The limiter
spaces our requests under the published limit and, told of a Retry-After, holds
every request until it has passed. Clock and sleep are injectable so tests run
on a fake clock and never wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER_S = 3600.0
"""A Retry-After longer than this is taken as this: a bad header must not stop us for days."""


class RateLimiter:
    """A thread-safe token bucket that blocks: `rate_per_s` requests a second, `burst` at once.

    Implemented as a schedule (GCRA): each caller reserves the next free slot under
    the lock and sleeps outside it, so waiting threads do not hold each other up and
    the order of slots is the order of arrival.
    """

    def __init__(
        self,
        rate_per_s: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"rate_per_s must be positive, not {rate_per_s}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst}")
        self._interval = 1.0 / rate_per_s
        self._tolerance = self._interval * (burst - 1)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = float("-inf")  # the theoretical time of the next request
        self._hold_until = float("-inf")

    @property
    def interval_s(self) -> float:
        """Seconds between requests at the steady rate."""
        return self._interval

    def acquire(self) -> float:
        """Block until this caller may send one request; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            due = max(self._next, now)
            start = max(now, due - self._tolerance, self._hold_until)
            self._next = max(due, start) + self._interval
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)

    def defer(self, delay_s: float) -> None:
        """Send nothing for `delay_s` seconds from now (the service's Retry-After)."""
        with self._lock:
            self._hold_until = max(self._hold_until, self._clock() + max(delay_s, 0.0))


class Backoff:
    """Delays for retrying a failing service: doubling from `base_s` up to `cap_s`.

    A Retry-After from the service is honoured (the delay is never shorter), but the
    cap still bounds it, so a hostile or broken header cannot park us for hours.
    """

    def __init__(self, *, base_s: float = 30.0, cap_s: float = 900.0, factor: float = 2.0) -> None:
        if not 0 < base_s <= cap_s:
            raise ValueError(f"need 0 < base_s <= cap_s, not {base_s} and {cap_s}")
        self._base = base_s
        self._cap = cap_s
        self._factor = factor
        self._failures = 0

    @property
    def failures(self) -> int:
        """Failures in a row since the last success."""
        return self._failures

    def failure(self, retry_after_s: float | None = None) -> float:
        """Record one failure; returns how long to wait before the next attempt."""
        delay = self._base * self._factor**self._failures
        self._failures += 1
        if retry_after_s is not None:
            delay = max(delay, retry_after_s)
        return min(delay, self._cap)

    def success(self) -> None:
        """The service answered: the next failure starts again from `base_s`."""
        self._failures = 0


def parse_retry_after(value: str | None, *, default_s: float, now: datetime | None = None) -> float:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110 10.2.3).

    Missing or unparsable gives `default_s`; the result is within 0..MAX_RETRY_AFTER_S.
    """
    if not value:
        return default_s
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return default_s
        if when.tzinfo is None:  # RFC 9110 dates are GMT; the parser leaves "-0000" naive
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return default_s
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
