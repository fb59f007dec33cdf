"""The blocking token bucket, the backoff and Retry-After parsing, on a fake clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from engine.enrich.ratelimit import MAX_RETRY_AFTER_S, Backoff, RateLimiter, parse_retry_after
from tests.engine.enrich.conftest import FakeClock


def test_one_per_second_spaces_requests(clock: FakeClock) -> None:
    limiter = RateLimiter(1.0, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(4)]
    assert waits == [0.0, 1.0, 1.0, 1.0]
    assert clock.sleeps == [1.0, 1.0, 1.0]


def test_time_passing_refills_the_bucket(clock: FakeClock) -> None:
    limiter = RateLimiter(2.0, burst=3, clock=clock, sleep=clock.sleep)
    assert [limiter.acquire() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]
    clock.now += 10  # idle: a full bucket again, but no more than `burst`
    assert [limiter.acquire() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


def test_defer_holds_every_request_until_retry_after(clock: FakeClock) -> None:
    limiter = RateLimiter(10.0, burst=5, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.defer(30.0)
    assert limiter.acquire() == pytest.approx(30.0)
    assert limiter.acquire() == 0.0  # the burst is still there after the hold
    limiter.defer(-5)  # a negative Retry-After is "now"
    assert limiter.acquire() == 0.0


def test_threads_get_distinct_slots() -> None:
    """Ten threads at the same instant: each reserves its own slot (0, 1, ... 9 s later)."""
    now = 50.0
    waits: list[float] = []
    lock = threading.Lock()

    def record(seconds: float) -> None:
        with lock:
            waits.append(round(seconds, 6))

    limiter = RateLimiter(1.0, clock=lambda: now, sleep=record)
    threads = [threading.Thread(target=limiter.acquire) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(waits) == [float(n) for n in range(1, 10)]  # and one did not wait


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_nonsense_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        RateLimiter(rate, burst=burst)


def test_backoff_doubles_to_a_cap_and_resets() -> None:
    backoff = Backoff(base_s=1.0, cap_s=10.0)
    assert [backoff.failure() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff.failures == 6
    backoff.success()
    assert backoff.failure() == 1.0


def test_backoff_honours_retry_after_within_the_cap() -> None:
    backoff = Backoff(base_s=1.0, cap_s=60.0)
    assert backoff.failure(retry_after_s=30.0) == 30.0
    assert backoff.failure(retry_after_s=0.5) == 2.0  # never shorter than the doubling
    assert backoff.failure(retry_after_s=86_400.0) == 60.0


def test_backoff_refuses_a_base_over_the_cap() -> None:
    with pytest.raises(ValueError, match="base_s"):
        Backoff(base_s=10, cap_s=1)


NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-3", 0.0),
        ("1e9", MAX_RETRY_AFTER_S),
        ("inf", MAX_RETRY_AFTER_S),
        ("nan", 60.0),
        ("Wed, 01 May 2024 12:01:30 GMT", 90.0),
        ("Wed, 01 May 2024 11:00:00 GMT", 0.0),
        ("soon", 60.0),
        ("", 60.0),
        (None, 60.0),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float) -> None:
    assert parse_retry_after(header, default_s=60.0, now=NOW) == seconds
