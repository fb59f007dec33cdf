"""Circuit breakers: stop asking a site that keeps failing, and try again later with one probe.

A site that is down answers every request with a timeout or a 5xx. Retrying each
request on its own would keep hammering it and keep our crawl busy for nothing. A
breaker counts failures in a row; at `failure_threshold` it opens and every request
fails at once with `CircuitOpen` for a cool-down. After the cool-down a single probe
request is let through (half-open): success closes the breaker, failure opens it
again for twice as long, up to `max_cooldown`.

The same breaker guards a worker's submissions to the central ingest API: while it
is open the worker pauses crawling and keeps its submissions until a probe succeeds.

    closed --N failures in a row--> open --cool-down--> half_open --probe ok--> closed
                                      ^                     |
                                      +---probe failed------+ (cool-down doubled)
"""

from __future__ import annotations

import enum
import functools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.errors import CircuitOpen

log = logging.getLogger(__name__)

Clock = Callable[[], float]
WallClock = Callable[[], datetime]


class BreakerState(enum.Enum):
    """Where a breaker is in its cycle; the value is what APIs and the GUI show."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """A breaker's state at one moment, for the status API and the GUI."""

    name: str
    state: BreakerState
    consecutive_failures: int
    opened_at: datetime | None
    """When the breaker last opened (UTC); None while it has never opened since closing."""
    retry_after: float
    """Seconds until a request may be tried (0 when one may go now)."""
    cooldown: float
    """The cool-down in force: doubles after each failed probe, resets on success."""
    last_error: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the state as its string, the time as ISO 8601."""
        return {
            "name": self.name,
            "state": self.state.value,
            "consecutive_failures": self.consecutive_failures,
            "opened_at": self.opened_at.isoformat() if self.opened_at else None,
            "retry_after": round(self.retry_after, 3),
            "cooldown": self.cooldown,
            "last_error": self.last_error,
        }


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CircuitBreaker:
    """One site's breaker (or the ingest API's). Call `before_request`, then record the result.

    Usage::

        breaker.before_request()          # raises CircuitOpen while open
        try:
            response = await send()
        except TransportError as exc:
            breaker.record_failure(str(exc))
            raise
        breaker.record_success()

    In half-open exactly one caller, the probe, gets through; others get `CircuitOpen`
    until the probe's result is recorded. If that result never comes (the probe was
    cancelled without recording), another probe is allowed after `probe_timeout`, so
    a lost probe cannot wedge the breaker.

    Results that arrive while the breaker is open come from requests sent before it
    opened; they update `last_error` but do not move the state, so stragglers neither
    close the breaker early nor stretch its cool-down.

    Not thread-safe: it belongs to the engine's event loop, where each method runs
    without interruption.
    """

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        cooldown: float = 60.0,
        max_cooldown: float = 3600.0,
        probe_timeout: float = 120.0,
        clock: Clock = time.monotonic,
        wall_clock: WallClock = _utc_now,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, not {failure_threshold}")
        if not 0 < cooldown <= max_cooldown:
            raise ValueError(f"need 0 < cooldown <= max_cooldown, not {cooldown}, {max_cooldown}")
        if probe_timeout <= 0:
            raise ValueError(f"probe_timeout must be positive, not {probe_timeout}")
        self.name = name
        self._threshold = failure_threshold
        self._base_cooldown = cooldown
        self._max_cooldown = max_cooldown
        self._probe_timeout = probe_timeout
        self._clock = clock
        self._wall_clock = wall_clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._cooldown = cooldown
        self._opened_mono = 0.0
        self._opened_at: datetime | None = None
        self._probe_started: float | None = None  # set while a half-open probe is out
        self._last_error: str | None = None

    @property
    def state(self) -> BreakerState:
        """The current state.

        An open breaker past its cool-down turns half-open on the next `before_request`;
        until then it reads as open, with `retry_after() == 0`.
        """
        return self._state

    @property
    def consecutive_failures(self) -> int:
        """Failures in a row since the last success."""
        return self._failures

    @property
    def cooldown(self) -> float:
        """The cool-down the breaker uses when it opens (or has opened) now."""
        return self._cooldown

    def before_request(self) -> None:
        """Let a request go, or raise `CircuitOpen` with how long to wait.

        Raises:
            CircuitOpen: The breaker is open and cooling down, or half-open with the
                probe already out.
        """
        if self._state is BreakerState.CLOSED:
            return
        now = self._clock()
        if self._state is BreakerState.OPEN:
            if now < self._opened_mono + self._cooldown:
                raise CircuitOpen(self.name, self.retry_after())
            self._state = BreakerState.HALF_OPEN
            log.info("%s: cool-down over, sending one probe request", self.name)
        elif self._probe_started is not None and now < self._probe_started + self._probe_timeout:
            raise CircuitOpen(self.name, self.retry_after())
        self._probe_started = now  # this caller is the probe

    def record_success(self) -> None:
        """The request got a usable answer: close the breaker and forget past failures."""
        if self._state is BreakerState.OPEN:
            return  # a straggler sent before the breaker opened; wait for the probe
        if self._state is BreakerState.HALF_OPEN:
            log.info("%s: probe succeeded, resuming requests", self.name)
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._cooldown = self._base_cooldown
        self._probe_started = None
        self._opened_at = None

    def record_failure(self, reason: str) -> None:
        """The request failed (transport error, timeout, 5xx): count it, maybe open.

        Args:
            reason: What went wrong, for `snapshot()` and the logs (no secrets).
        """
        self._last_error = reason
        if self._state is BreakerState.OPEN:
            return  # a straggler sent before the breaker opened
        self._failures += 1
        if self._state is BreakerState.HALF_OPEN:
            self._cooldown = min(self._cooldown * 2, self._max_cooldown)
            self._open(f"probe failed ({reason})")
        elif self._failures >= self._threshold:
            self._open(f"{self._failures} failures in a row, last: {reason}")

    def retry_after(self) -> float:
        """Seconds until a request may be tried: the rest of the cool-down, or of the probe."""
        now = self._clock()
        if self._state is BreakerState.OPEN:
            return max(0.0, self._opened_mono + self._cooldown - now)
        if self._state is BreakerState.HALF_OPEN and self._probe_started is not None:
            return max(0.0, self._probe_started + self._probe_timeout - now)
        return 0.0

    def snapshot(self) -> BreakerSnapshot:
        """The breaker's state for APIs and the GUI."""
        return BreakerSnapshot(
            name=self.name,
            state=self._state,
            consecutive_failures=self._failures,
            opened_at=self._opened_at,
            retry_after=self.retry_after(),
            cooldown=self._cooldown,
            last_error=self._last_error,
        )

    def _open(self, why: str) -> None:
        self._state = BreakerState.OPEN
        self._opened_mono = self._clock()
        self._opened_at = self._wall_clock()
        self._probe_started = None
        log.warning("%s: pausing requests for %.0f s: %s", self.name, self._cooldown, why)


class BreakerRegistry:
    """One breaker per site name, made on first use with the registry's settings."""

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cooldown: float = 60.0,
        max_cooldown: float = 3600.0,
        probe_timeout: float = 120.0,
        clock: Clock = time.monotonic,
        wall_clock: WallClock = _utc_now,
    ) -> None:
        self._make: Callable[[str], CircuitBreaker] = functools.partial(
            CircuitBreaker,
            failure_threshold=failure_threshold,
            cooldown=cooldown,
            max_cooldown=max_cooldown,
            probe_timeout=probe_timeout,
            clock=clock,
            wall_clock=wall_clock,
        )
        self._make("settings-check")  # a bad setting fails at startup, not at the first request
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, name: str) -> CircuitBreaker:
        """The breaker for `name`, made now if this is the first time it is asked for."""
        breaker = self._breakers.get(name)
        if breaker is None:
            breaker = self._breakers[name] = self._make(name)
        return breaker

    def __contains__(self, name: object) -> bool:
        return name in self._breakers

    def __iter__(self) -> Iterator[CircuitBreaker]:
        return iter(list(self._breakers.values()))

    def __len__(self) -> int:
        return len(self._breakers)

    def snapshots(self) -> list[BreakerSnapshot]:
        """Every breaker's snapshot, by name, for the status API."""
        return [self._breakers[name].snapshot() for name in sorted(self._breakers)]
