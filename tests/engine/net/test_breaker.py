"""CircuitBreaker and BreakerRegistry on a fake clock."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.errors import CircuitOpen, NetworkError
from engine.net.breaker import BreakerRegistry, BreakerState, CircuitBreaker

WALL_START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """Monotonic and wall time that move together, only when the test says so."""

    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return WALL_START + timedelta(seconds=self.now - 500.0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(clock: FakeClock, **overrides: Any) -> CircuitBreaker:
    """A breaker on the fake clock: 3 failures open it for 60 s, doubling up to 300 s."""
    params: dict[str, Any] = {"failure_threshold": 3, "cooldown": 60.0, "max_cooldown": 300.0}
    return CircuitBreaker("1337x", clock=clock, wall_clock=clock.wall, **(params | overrides))


def state(breaker: CircuitBreaker) -> BreakerState:
    """The state, read afresh (mypy would otherwise keep an earlier narrowing)."""
    return breaker.state


def trip(breaker: CircuitBreaker, times: int = 3) -> None:
    for i in range(times):
        breaker.before_request()
        breaker.record_failure(f"HTTP 502 #{i + 1}")


def test_stays_closed_below_the_threshold_and_success_resets(clock: FakeClock) -> None:
    breaker = make(clock)
    trip(breaker, 2)
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.consecutive_failures == 2
    breaker.record_success()
    assert breaker.consecutive_failures == 0
    trip(breaker, 2)  # not 4 in a row: the success broke the run
    assert state(breaker) is BreakerState.CLOSED
    breaker.before_request()


def test_opens_after_n_failures_in_a_row(clock: FakeClock) -> None:
    breaker = make(clock)
    trip(breaker)
    assert state(breaker) is BreakerState.OPEN
    with pytest.raises(CircuitOpen) as raised:
        breaker.before_request()
    assert raised.value.site == "1337x"
    assert raised.value.retry_after == pytest.approx(60.0)
    assert isinstance(raised.value, NetworkError)
    assert "60 s" in raised.value.user_message

    clock.now += 45.0
    assert breaker.retry_after() == pytest.approx(15.0)
    with pytest.raises(CircuitOpen) as raised:
        breaker.before_request()
    assert raised.value.retry_after == pytest.approx(15.0)


def test_after_the_cooldown_one_probe_goes_and_success_closes(clock: FakeClock) -> None:
    breaker = make(clock)
    trip(breaker)
    clock.now += 60.0
    assert breaker.retry_after() == 0.0
    breaker.before_request()  # the probe
    assert state(breaker) is BreakerState.HALF_OPEN
    with pytest.raises(CircuitOpen):
        breaker.before_request()  # a second caller while the probe is out
    breaker.record_success()
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.consecutive_failures == 0
    for _ in range(5):
        breaker.before_request()


async def test_concurrent_callers_during_the_probe_are_turned_away(clock: FakeClock) -> None:
    breaker = make(clock)
    trip(breaker)
    clock.now += 61.0
    answer = asyncio.Event()
    sent: list[int] = []

    async def request(i: int) -> str:
        try:
            breaker.before_request()
        except CircuitOpen:
            return "refused"
        sent.append(i)
        await answer.wait()  # the site takes its time to answer the probe
        breaker.record_success()
        return "sent"

    tasks = [asyncio.create_task(request(i)) for i in range(10)]
    await asyncio.sleep(0)
    assert state(breaker) is BreakerState.HALF_OPEN
    answer.set()
    results = await asyncio.gather(*tasks)
    assert results.count("sent") == 1
    assert results.count("refused") == 9
    assert sent == [0]
    assert state(breaker) is BreakerState.CLOSED
    await asyncio.gather(*(request(i) for i in range(10, 15)))
    assert sent == [0, 10, 11, 12, 13, 14]


def test_failed_probe_doubles_the_cooldown_up_to_the_cap(clock: FakeClock) -> None:
    breaker = make(clock, cooldown=60.0, max_cooldown=300.0)
    trip(breaker)
    cooldowns = []
    for _ in range(5):
        cooldowns.append(breaker.retry_after())
        clock.now += breaker.retry_after()
        breaker.before_request()
        breaker.record_failure("timed out")
        assert state(breaker) is BreakerState.OPEN
    cooldowns.append(breaker.retry_after())
    assert cooldowns == [60.0, 120.0, 240.0, 300.0, 300.0, 300.0]

    clock.now += 300.0
    breaker.before_request()
    breaker.record_success()
    trip(breaker)  # a later outage starts again from the base cool-down
    assert breaker.retry_after() == pytest.approx(60.0)


def test_a_lost_probe_does_not_wedge_the_breaker(clock: FakeClock) -> None:
    breaker = make(clock, probe_timeout=30.0)
    trip(breaker)
    clock.now += 60.0
    breaker.before_request()  # the probe, whose task is then cancelled: no result recorded
    clock.now += 10.0
    with pytest.raises(CircuitOpen) as raised:
        breaker.before_request()
    assert raised.value.retry_after == pytest.approx(20.0)
    clock.now += 20.0
    breaker.before_request()  # a new probe
    assert state(breaker) is BreakerState.HALF_OPEN


def test_results_of_stragglers_while_open_do_not_move_the_state(clock: FakeClock) -> None:
    breaker = make(clock)
    trip(breaker)
    clock.now += 30.0
    breaker.record_success()  # sent before the breaker opened
    assert state(breaker) is BreakerState.OPEN
    breaker.record_failure("connection reset")
    assert breaker.retry_after() == pytest.approx(30.0)  # not stretched
    assert breaker.snapshot().last_error == "connection reset"


def test_snapshot_for_the_api(clock: FakeClock) -> None:
    breaker = make(clock)
    snap = breaker.snapshot()
    assert snap.state is BreakerState.CLOSED
    assert snap.opened_at is None
    assert snap.last_error is None

    clock.now += 10.0
    trip(breaker)
    clock.now += 15.0
    snap = breaker.snapshot()
    assert snap.name == "1337x"
    assert snap.state is BreakerState.OPEN
    assert snap.consecutive_failures == 3
    assert snap.opened_at == WALL_START + timedelta(seconds=10)
    assert snap.retry_after == pytest.approx(45.0)
    assert snap.last_error == "HTTP 502 #3"
    data = json.loads(json.dumps(snap.to_dict()))
    assert data == {
        "name": "1337x",
        "state": "open",
        "consecutive_failures": 3,
        "opened_at": "2024-05-01T12:00:10+00:00",
        "retry_after": 45.0,
        "cooldown": 60.0,
        "last_error": "HTTP 502 #3",
    }


def test_threshold_of_one_opens_on_the_first_failure(clock: FakeClock) -> None:
    breaker = make(clock, failure_threshold=1)
    trip(breaker, 1)
    assert state(breaker) is BreakerState.OPEN


@pytest.mark.parametrize(
    "kwargs",
    [
        {"failure_threshold": 0},
        {"cooldown": 0.0},
        {"cooldown": 120.0, "max_cooldown": 60.0},
        {"probe_timeout": 0.0},
    ],
)
def test_bad_settings_are_refused(clock: FakeClock, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        make(clock, **kwargs)
    with pytest.raises(ValueError):
        BreakerRegistry(**kwargs)


def test_registry_makes_one_breaker_per_site(clock: FakeClock) -> None:
    registry = BreakerRegistry(failure_threshold=2, cooldown=10.0, clock=clock)
    assert len(registry) == 0
    eztv = registry.get("eztv")
    assert registry.get("eztv") is eztv
    assert "eztv" in registry
    assert "yts" not in registry
    yts = registry.get("yts")
    assert yts is not eztv
    for _ in range(2):
        eztv.before_request()
        eztv.record_failure("503")
    assert state(eztv) is BreakerState.OPEN
    assert state(yts) is BreakerState.CLOSED
    assert eztv.retry_after() == pytest.approx(10.0)
    assert [s.name for s in registry.snapshots()] == ["eztv", "yts"]
    assert {b.name for b in registry} == {"eztv", "yts"}
    assert len(registry) == 2
