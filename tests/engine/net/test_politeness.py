"""HostRateLimiter, parse_retry_after, backoff_delay and should_retry.

Most tests run the limiter on a fake clock whose sleep only advances time, so they
check the schedule exactly and never wait. Two tests use real time against a local
aiohttp server: they check that requests really arrive spaced out (a lower bound on
the gaps, not a speed benchmark) and that a 429 with Retry-After holds the next one.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from engine.net.politeness import (
    MAX_RETRY_AFTER_S,
    RETRY_STATUSES,
    HostRateLimiter,
    backoff_delay,
    parse_retry_after,
    should_retry,
)


class FakeClock:
    """Monotonic time that moves only when someone sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], None] | None = None

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        hook, self.on_sleep = self.on_sleep, None
        if hook is not None:
            hook()
        self.now += seconds
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> HostRateLimiter:
    return HostRateLimiter(2.0, clock=clock, sleep=clock.sleep)


# -- HostRateLimiter on a fake clock ----------------------------------------------------


async def test_first_request_goes_at_once_then_the_interval(
    limiter: HostRateLimiter, clock: FakeClock
) -> None:
    assert await limiter.acquire("a.example") == 0.0
    assert limiter.next_slot_in("a.example") == pytest.approx(2.0)
    assert await limiter.acquire("a.example") == pytest.approx(2.0)
    assert clock.sleeps == [2.0]


async def test_time_already_passed_counts(limiter: HostRateLimiter, clock: FakeClock) -> None:
    await limiter.acquire("a.example")
    clock.now += 1.5
    assert await limiter.acquire("a.example") == pytest.approx(0.5)


async def test_hosts_do_not_wait_for_each_other(limiter: HostRateLimiter, clock: FakeClock) -> None:
    await limiter.acquire("a.example")
    assert limiter.next_slot_in("A.Example") == pytest.approx(2.0)  # host names ignore case
    assert await limiter.acquire("b.example") == 0.0
    assert limiter.next_slot_in("c.example") == 0.0
    assert clock.sleeps == []


async def test_concurrent_callers_are_spaced_first_come_first_served(
    limiter: HostRateLimiter, clock: FakeClock
) -> None:
    start = clock.now
    served: list[tuple[int, float]] = []

    async def request(i: int) -> None:
        await limiter.acquire("a.example")
        served.append((i, clock.now - start))

    async with asyncio.TaskGroup() as group:
        for i in range(5):
            group.create_task(request(i))
            await asyncio.sleep(0)  # arrival order 0, 1, 2, ...

    assert served == [(0, 0.0), (1, 2.0), (2, 4.0), (3, 6.0), (4, 8.0)]


async def test_interval_per_call_overrides_the_default(
    limiter: HostRateLimiter, clock: FakeClock
) -> None:
    await limiter.acquire("slow.example", interval=10.0)
    assert limiter.next_slot_in("slow.example") == pytest.approx(10.0)
    await limiter.acquire("slow.example", interval=0.5)
    assert clock.sleeps == [10.0]
    assert limiter.next_slot_in("slow.example") == pytest.approx(0.5)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
async def test_bad_interval_is_refused(limiter: HostRateLimiter, bad: float) -> None:
    with pytest.raises(ValueError, match="interval"):
        await limiter.acquire("a.example", interval=bad)
    with pytest.raises(ValueError, match="interval"):
        HostRateLimiter(bad)


async def test_defer_holds_the_host_and_never_brings_it_forward(
    limiter: HostRateLimiter, clock: FakeClock
) -> None:
    limiter.defer("a.example", 30.0)
    limiter.defer("a.example", 5.0)  # a shorter hint does not shorten the hold
    assert limiter.next_slot_in("a.example") == pytest.approx(30.0)
    assert limiter.next_slot_in("b.example") == 0.0
    assert await limiter.acquire("a.example") == pytest.approx(30.0)
    assert limiter.next_slot_in("a.example") == pytest.approx(2.0)


@pytest.mark.parametrize("bad", [0.0, -5.0, math.nan, math.inf, -math.inf])
def test_defer_ignores_values_that_are_not_a_positive_number(
    limiter: HostRateLimiter, bad: float
) -> None:
    limiter.defer("a.example", bad)
    assert limiter.next_slot_in("a.example") == 0.0


def test_defer_is_capped(limiter: HostRateLimiter) -> None:
    limiter.defer("a.example", 10 * MAX_RETRY_AFTER_S)
    assert limiter.next_slot_in("a.example") == pytest.approx(MAX_RETRY_AFTER_S)


async def test_defer_while_a_caller_waits_makes_it_wait_longer(
    limiter: HostRateLimiter, clock: FakeClock
) -> None:
    await limiter.acquire("a.example")
    start = clock.now
    # While the next caller sleeps toward its slot, a 429 elsewhere says "wait 30 s".
    clock.on_sleep = lambda: limiter.defer("a.example", 30.0)
    await limiter.acquire("a.example")
    assert clock.now - start == pytest.approx(30.0)
    assert clock.sleeps == [2.0, 28.0]


async def test_a_cancelled_waiter_does_not_use_up_a_slot(
    clock: FakeClock,
) -> None:
    gate = asyncio.Event()

    async def sleep(seconds: float) -> None:
        await gate.wait()  # hold the waiter until the test lets time pass
        clock.now += seconds

    limiter = HostRateLimiter(2.0, clock=clock, sleep=sleep)
    await limiter.acquire("a.example")
    first = asyncio.create_task(limiter.acquire("a.example"))
    second = asyncio.create_task(limiter.acquire("a.example"))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    gate.set()
    assert await second == pytest.approx(2.0)
    assert limiter.next_slot_in("a.example") == pytest.approx(2.0)


async def test_idle_hosts_are_forgotten_but_held_ones_are_kept(clock: FakeClock) -> None:
    limiter = HostRateLimiter(1.0, clock=clock, sleep=clock.sleep, max_hosts=4)
    limiter.defer("held.example", 3600.0)
    for i in range(50):
        await limiter.acquire(f"host{i}.example")
        clock.now += 5.0  # each host's slot passes before the next one is seen
    assert len(limiter) <= 4
    assert limiter.next_slot_in("held.example") > 3000.0


# -- against a real server --------------------------------------------------------------


Arrivals = list[tuple[str, float]]


@pytest.fixture
async def arrivals_server(aiohttp_server: AiohttpServer) -> tuple[TestServer, Arrivals]:
    """A local server that records when each request arrives; the first /limited is a 429."""
    arrivals: Arrivals = []

    async def ok(request: web.Request) -> web.Response:
        arrivals.append((request.path, time.monotonic()))
        return web.Response(text="ok")

    async def limited(request: web.Request) -> web.Response:
        arrivals.append((request.path, time.monotonic()))
        if len([p for p, _ in arrivals if p == "/limited"]) == 1:
            return web.Response(status=429, headers={"Retry-After": "1"}, text="slow down")
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/limited", limited)
    server = await aiohttp_server(app, host="127.0.0.1")
    return server, arrivals


async def test_real_requests_arrive_spaced_by_the_interval(
    arrivals_server: tuple[TestServer, Arrivals],
) -> None:
    server, arrivals = arrivals_server
    interval = 0.2
    limiter = HostRateLimiter(interval)
    host = f"127.0.0.1:{server.port}"
    async with httpx.AsyncClient(trust_env=False) as client:

        async def fetch() -> None:
            await limiter.acquire(host)
            response = await client.get(str(server.make_url("/ok")))
            assert response.status_code == 200

        await asyncio.gather(*(fetch() for _ in range(5)))

    times = sorted(t for _, t in arrivals)
    assert len(times) == 5
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # A lower bound only: a loaded machine may space them further apart, never closer.
    assert min(gaps) >= interval - 0.05, gaps


async def test_retry_after_from_a_429_holds_the_next_request(
    arrivals_server: tuple[TestServer, Arrivals],
) -> None:
    server, arrivals = arrivals_server
    limiter = HostRateLimiter(0.05)
    host = f"127.0.0.1:{server.port}"
    statuses: list[int] = []
    async with httpx.AsyncClient(trust_env=False) as client:
        for _ in range(2):
            await limiter.acquire(host)
            response = await client.get(str(server.make_url("/limited")))
            statuses.append(response.status_code)
            if should_retry(response.status_code):
                delay = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
                assert delay == 1.0
                limiter.defer(host, delay)

    assert statuses == [429, 200]
    (_, first), (_, second) = arrivals
    assert second - first >= 1.0 - 0.05


# -- parse_retry_after ------------------------------------------------------------------

NOW = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("  5 ", 5.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),  # IMF-fixdate
        ("Wednesday, 21-Oct-15 07:28:00 GMT", 60.0),  # obsolete RFC 850
        ("Wed Oct 21 07:28:00 2015", 60.0),  # obsolete asctime
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),  # in the past: go now
        ("99999999999", MAX_RETRY_AFTER_S),
        ("9" * 60, MAX_RETRY_AFTER_S),
        ("Fri, 31 Dec 2100 23:59:59 GMT", MAX_RETRY_AFTER_S),
    ],
)
def test_parse_retry_after_values(value: str, expected: float) -> None:
    assert parse_retry_after(value, NOW) == pytest.approx(expected)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "-1",
        "-0.5",
        "soon",
        "1e3",
        "nan",
        "inf",
        "0x10",
        "120 seconds",
        "Wed, 99 Foo 2015 07:28:00 GMT",
        "Wed, 21 Oct 99999999 07:28:00 GMT",
        "9" * 5000,
        "\x00\xff\udcff",
    ],
)
def test_parse_retry_after_garbage_is_none(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


def test_parse_retry_after_takes_a_naive_now_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", naive) == pytest.approx(60.0)


def test_parse_retry_after_date_with_offset() -> None:
    # 11:28 at +0200 is 09:28 UTC, a minute after `now`.
    now = NOW + timedelta(hours=2)
    assert parse_retry_after("Wed, 21 Oct 2015 11:28:00 +0200", now) == pytest.approx(60.0)


# -- backoff_delay and should_retry -----------------------------------------------------


class TopOfRange(random.Random):
    """Always draws the top of the range, to read the ceiling backoff_delay uses."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_backoff_ceiling_doubles_up_to_the_cap() -> None:
    rng = TopOfRange()
    ceilings = [backoff_delay(n, base=1.0, cap=10.0, rng=rng) for n in range(1, 8)]
    assert ceilings == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    assert backoff_delay(10**6, base=1.0, cap=10.0, rng=rng) == 10.0


def test_backoff_is_full_jitter_over_the_whole_range() -> None:
    rng = random.Random(42)
    draws = [backoff_delay(4, base=1.0, cap=60.0, rng=rng) for _ in range(2000)]
    assert all(0.0 <= d <= 8.0 for d in draws)
    assert min(draws) < 0.5
    assert max(draws) > 7.5
    assert sum(draws) / len(draws) == pytest.approx(4.0, rel=0.1)


def test_backoff_without_rng_stays_in_range() -> None:
    assert all(0.0 <= backoff_delay(3, base=0.5, cap=1.0) <= 1.0 for _ in range(100))


@pytest.mark.parametrize(
    ("attempt", "base", "cap"),
    [(0, 1.0, 10.0), (-1, 1.0, 10.0), (1, -1.0, 10.0), (1, 5.0, 1.0), (1, 1.0, math.inf)],
)
def test_backoff_refuses_bad_arguments(attempt: int, base: float, cap: float) -> None:
    with pytest.raises(ValueError):
        backoff_delay(attempt, base=base, cap=cap)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_should_retry_rate_limits_and_gateways(status: int) -> None:
    assert should_retry(status)
    assert status in RETRY_STATUSES


@pytest.mark.parametrize("status", [200, 301, 400, 403, 404, 500, 501])
def test_should_not_retry_others(status: int) -> None:
    assert not should_retry(status)
