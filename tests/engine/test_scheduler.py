"""The crawler scheduler with real asyncio tasks and short intervals.

What users depend on: every source runs on its schedule; one that fails, hangs or
meets a challenge never stops the others and is shown as such with a growing
backoff; stop cancels a crawl at once, start runs one now; totals and the user's
stop survive a restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest

from engine.errors import BlockedByChallenge, CircuitOpen, NotFound
from engine.scheduler import (
    CrawlContext,
    CrawlerState,
    CrawlerStatus,
    RunResult,
    ScheduledSource,
    Scheduler,
)

FAST = {"min_backoff_s": 0.05, "max_backoff_s": 0.4, "continuous_pause_s": 0.01}


class MemoryStore:
    """A `StatusStore` that keeps the last saved status per source, like the database does."""

    def __init__(self) -> None:
        self.saved: dict[str, CrawlerStatus] = {}

    def load(self) -> Mapping[str, CrawlerStatus]:
        return dict(self.saved)

    async def save(self, status: CrawlerStatus) -> None:
        self.saved[status.source] = status


FOUND = RunResult(3, 1)


def counting(result: RunResult = FOUND) -> tuple[list[str], ScheduledSource]:
    crawls: list[str] = []

    async def run(ctx: CrawlContext) -> RunResult:
        crawls.append(ctx.crawl_id)
        return result

    return crawls, ScheduledSource("counting", 0.03, run)


def raising(exc: Exception, name: str = "broken") -> ScheduledSource:
    async def run(ctx: CrawlContext) -> RunResult:
        raise exc

    return ScheduledSource(name, 0.03, run)


@asynccontextmanager
async def running(scheduler: Scheduler) -> AsyncIterator[Scheduler]:
    task = asyncio.create_task(scheduler.run())
    try:
        yield scheduler
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def until(check: Callable[[], bool], within_s: float = 5.0) -> None:
    """Wait for a condition the scheduler should reach; fails the test if it never does."""
    deadline = asyncio.get_running_loop().time() + within_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition never reached"
        await asyncio.sleep(0.005)


async def test_sources_run_on_their_schedule_and_count_items() -> None:
    crawls, source = counting()
    scheduler = Scheduler([source], **FAST)
    async with running(scheduler):
        await until(lambda: len(crawls) >= 3)
        await until(lambda: scheduler.status("counting").state is CrawlerState.IDLE)
    status = scheduler.status("counting")
    assert len(set(crawls)) == len(crawls)  # each crawl has its own id (sticky proxies)
    assert status.runs >= 3
    assert status.items_total == status.runs  # one new item per run
    assert (status.items_seen, status.items_new) == (3, 1)
    assert status.consecutive_failures == 0
    assert status.last_duration_s is not None
    assert status.next_run_at is not None
    assert status.next_run_at > (status.finished_at or datetime.now(UTC))


async def test_a_failing_source_backs_off_without_touching_the_others() -> None:
    crawls, healthy = counting()
    scheduler = Scheduler([healthy, raising(RuntimeError("selector broke"))], **FAST)
    delays: list[float] = []

    async def record_delays() -> None:
        seen = 0
        while len(delays) < 4:
            status = scheduler.status("broken")
            if status.consecutive_failures > seen and status.next_run_at and status.finished_at:
                seen = status.consecutive_failures
                delays.append((status.next_run_at - status.finished_at).total_seconds())
            await asyncio.sleep(0.002)

    async with running(scheduler):
        await asyncio.wait_for(record_delays(), 10)
        assert len(crawls) >= 3  # the healthy one kept going meanwhile
    status = scheduler.status("broken")
    assert status.state is CrawlerState.ERROR
    assert status.last_error == "RuntimeError: selector broke"
    assert status.message is not None
    assert status.message.startswith("retrying in")
    assert delays[1] == pytest.approx(2 * delays[0], rel=0.05)  # 0.05, 0.1, 0.2, 0.4 (cap)
    assert delays[2] == pytest.approx(4 * delays[0], rel=0.05)
    assert delays[3] <= FAST["max_backoff_s"] + 0.01


async def test_a_challenge_shows_as_blocked() -> None:
    scheduler = Scheduler([raising(BlockedByChallenge("1337x", "Cloudflare challenge"))], **FAST)
    async with running(scheduler):
        await until(lambda: scheduler.status("broken").consecutive_failures >= 1)
    status = scheduler.status("broken")
    assert status.state is CrawlerState.BLOCKED
    assert "Cloudflare challenge" in (status.last_error or "")


async def test_an_open_breaker_waits_at_least_its_retry_after() -> None:
    scheduler = Scheduler([raising(CircuitOpen("eztv", retry_after=600))], **FAST)
    async with running(scheduler):
        await until(lambda: scheduler.status("broken").consecutive_failures >= 1)
        await asyncio.sleep(0.2)
    status = scheduler.status("broken")
    assert status.state is CrawlerState.BACKING_OFF
    assert status.consecutive_failures == 1  # not retried before the breaker's 600 s
    assert status.next_run_at is not None
    assert status.finished_at is not None
    assert (status.next_run_at - status.finished_at).total_seconds() >= 600


async def test_a_hanging_source_does_not_hold_up_the_others() -> None:
    async def hang(ctx: CrawlContext) -> RunResult:
        await asyncio.Event().wait()
        return RunResult()

    crawls, healthy = counting()
    scheduler = Scheduler([healthy, ScheduledSource("hung", 0.03, hang)], **FAST)
    async with running(scheduler):
        await until(lambda: len(crawls) >= 3)
        assert scheduler.status("hung").state is CrawlerState.RUNNING


async def test_stop_cancels_a_running_crawl_and_start_runs_it_now() -> None:
    started: list[str] = []
    cancelled: list[str] = []

    async def slow(ctx: CrawlContext) -> RunResult:
        started.append(ctx.crawl_id)
        ctx.heartbeat(items_seen=7, items_new=2)
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(ctx.crawl_id)
            raise
        return RunResult()

    scheduler = Scheduler([ScheduledSource("slow", 3600, slow)], **FAST)
    async with running(scheduler):
        await until(lambda: bool(started))
        running_status = scheduler.status("slow")
        assert running_status.state is CrawlerState.RUNNING
        assert (running_status.items_seen, running_status.items_new) == (7, 2)
        stopped = await scheduler.stop("slow")
        assert (stopped.state, stopped.enabled) == (CrawlerState.DISABLED, False)
        await until(lambda: cancelled == started)
        await asyncio.sleep(0.05)
        assert len(started) == 1  # stays stopped
        assert scheduler.status("slow").items_total == 2  # what it found before the stop counts
        await scheduler.start("slow")
        await until(lambda: len(started) == 2)  # at once, not in an hour
        assert scheduler.status("slow").enabled is True


async def test_a_source_disabled_in_the_settings_never_runs() -> None:
    crawls, source = counting()
    off = ScheduledSource(source.id, source.every_s, source.run, enabled=False)
    scheduler = Scheduler([off], **FAST)
    async with running(scheduler):
        await scheduler.start("counting")  # the settings decide, not a click
        await asyncio.sleep(0.1)
    assert crawls == []
    status = scheduler.status("counting")
    assert (status.state, status.message) == (CrawlerState.DISABLED, "disabled in the settings")


async def test_recovery_resets_the_failure_count() -> None:
    attempts: list[int] = []

    async def flaky(ctx: CrawlContext) -> RunResult:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("mirror down")
        return RunResult(5, 5)

    scheduler = Scheduler([ScheduledSource("flaky", 0.03, flaky)], **FAST)
    async with running(scheduler):
        await until(lambda: scheduler.status("flaky").items_total >= 5)
        await until(lambda: scheduler.status("flaky").state is CrawlerState.IDLE)
    status = scheduler.status("flaky")
    assert status.consecutive_failures == 0
    assert status.last_error == "ConnectionError: mirror down"  # kept for people to read


async def test_statuses_and_the_users_stop_survive_a_restart() -> None:
    store = MemoryStore()
    crawls, source = counting()
    first = Scheduler([source, raising(ValueError("x"), "other")], store=store, **FAST)
    async with running(first):
        await until(lambda: len(crawls) >= 2)
        await first.stop("counting")
    total = first.status("counting").items_total
    assert store.saved["counting"].enabled is False
    assert store.saved["other"].last_error == "ValueError: x"

    second = Scheduler([source, raising(ValueError("x"), "other")], store=store, **FAST)
    restored = second.status("counting")
    assert (restored.enabled, restored.state) == (False, CrawlerState.DISABLED)
    assert restored.items_total == total
    assert second.status("other").last_error == "ValueError: x"
    before = len(crawls)
    async with running(second):
        await asyncio.sleep(0.1)
    assert len(crawls) == before  # stopped stays stopped across the restart


async def test_a_failing_store_does_not_stop_crawling() -> None:
    class BrokenStore(MemoryStore):
        async def save(self, status: CrawlerStatus) -> None:
            raise OSError("disk full")

    crawls, source = counting()
    scheduler = Scheduler([source], store=BrokenStore(), **FAST)
    async with running(scheduler):
        await until(lambda: len(crawls) >= 3)


async def test_unknown_crawler_is_not_found() -> None:
    _, source = counting()
    scheduler = Scheduler([source], **FAST)
    with pytest.raises(NotFound, match="no crawler named 'nope'"):
        scheduler.status("nope")
    for action in (scheduler.start, scheduler.stop):
        call: Callable[[str], Awaitable[CrawlerStatus]] = action
        with pytest.raises(NotFound):
            await call("nope")


async def test_crawls_wait_at_the_gate() -> None:
    """A worker whose central server is down: no crawl starts until the gate opens."""
    crawls, source = counting()
    open_gate = asyncio.Event()
    scheduler = Scheduler([source], gate=open_gate.wait, **FAST)
    async with running(scheduler):
        await asyncio.sleep(0.15)
        assert crawls == []
        open_gate.set()
        await until(lambda: len(crawls) >= 2)


async def test_a_source_added_while_running_runs_and_a_removed_one_stops() -> None:
    crawls, source = counting()
    scheduler = Scheduler([], **FAST)
    async with running(scheduler):
        await asyncio.sleep(0.01)  # the scheduler is up, with nothing to run
        status = scheduler.add(source)
        assert (status.source, status.state) == ("counting", CrawlerState.IDLE)
        await until(lambda: len(crawls) >= 2)  # on its schedule, like any source
        with pytest.raises(ValueError, match="exists"):
            scheduler.add(source)
        scheduler.remove("counting")
        seen = len(crawls)
        await asyncio.sleep(0.1)
        assert len(crawls) == seen  # no more runs
        assert scheduler.statuses() == []
        with pytest.raises(NotFound):
            scheduler.remove("counting")
    assert scheduler.add(source).state is CrawlerState.IDLE  # added before a run: starts with it


async def test_start_runs_an_idle_source_now_rather_than_at_its_next_run() -> None:
    crawls, source = counting()
    hourly = ScheduledSource("hourly", 3600, source.run)
    scheduler = Scheduler([hourly], **FAST)
    async with running(scheduler):
        await until(lambda: scheduler.status("hourly").next_run_at is not None)
        assert len(crawls) == 1
        started = await scheduler.start("hourly")  # "Start / run now" on an idle source
        assert started.message == "started"
        await until(lambda: len(crawls) == 2)  # now, not in an hour
