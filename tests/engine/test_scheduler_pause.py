"""Pausing and resuming all background crawling ("Pause indexing" in the tray).

What users depend on: pausing stops every crawl under way at once and starts none
until resumed, without touching (or saving) any source's own start/stop choice;
resuming puts back what ran: crawls cut short and overdue ones run now, the rest
keep their schedule; stop and start while paused do what they say, start waiting
for the resume; a pause lasts for this run only; pausing twice or resuming when not
paused changes nothing.
"""

from __future__ import annotations

import asyncio

from engine.errors import BlockedByChallenge
from engine.scheduler import (
    CrawlContext,
    CrawlerState,
    RunResult,
    ScheduledSource,
    Scheduler,
)
from tests.engine.test_scheduler import FAST, MemoryStore, counting, running, until


class Slow:
    """A source whose crawl reports progress and then waits until cancelled."""

    def __init__(self, name: str = "slow", every_s: float | None = 3600) -> None:
        self.started: list[str] = []
        self.cancelled: list[str] = []
        self.cleaned: list[str] = []
        self.source = ScheduledSource(name, every_s, self.run)

    async def run(self, ctx: CrawlContext) -> RunResult:
        self.started.append(ctx.crawl_id)
        ctx.heartbeat(items_seen=4, items_new=2)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.append(ctx.crawl_id)
            await asyncio.sleep(0.02)  # closes something, as the DHT closes its node
            self.cleaned.append(ctx.crawl_id)
            raise
        return RunResult()


async def test_pause_cancels_crawls_under_way_and_starts_none_until_resumed() -> None:
    slow = Slow()
    crawls, quick = counting()
    scheduler = Scheduler([slow.source, quick], **FAST)
    async with running(scheduler):
        await until(lambda: bool(slow.started) and len(crawls) >= 2)
        assert scheduler.paused is False

        statuses = {s.source: s for s in await scheduler.pause()}
        assert scheduler.paused is True
        assert slow.cleaned == slow.started  # the crawl had ended when pause answered
        for name in ("slow", "counting"):
            status = statuses[name]
            assert (status.state, status.enabled, status.message) == (
                CrawlerState.IDLE,
                True,
                "paused",
            )
        assert (statuses["slow"].runs, statuses["slow"].items_total) == (1, 2)  # its finds count
        seen = len(crawls)
        await asyncio.sleep(0.2)  # several of `counting`'s 0.03 s intervals
        assert len(crawls) == seen
        assert len(slow.started) == 1

        await scheduler.resume()
        assert scheduler.paused is False
        await until(lambda: len(slow.started) == 2)  # cut short: runs again now, not in 1 h
        await until(lambda: len(crawls) >= seen + 2)
        assert scheduler.status("counting").message is None
        assert scheduler.status("slow").state is CrawlerState.RUNNING


async def test_pause_keeps_and_saves_no_start_stop_choice_and_lasts_one_run() -> None:
    store = MemoryStore()
    crawls, quick = counting()
    off = Slow("off")
    first = Scheduler([quick, off.source], store=store, **FAST)
    async with running(first):
        await first.stop("off")
        await until(lambda: len(crawls) >= 1)
        await first.pause()
        await until(lambda: store.saved["counting"].message == "paused")
        assert store.saved["counting"].enabled is True  # still "on": only paused
        assert first.status("off").message == "stopped"  # a stopped source is not "paused"
        await first.resume()
        await until(lambda: first.status("counting").runs >= 2)
        await asyncio.sleep(0.05)
        assert off.started == []  # stopped stays stopped through pause and resume
        await first.pause()  # quit while paused

    second = Scheduler([quick, off.source], store=store, **FAST)
    assert second.paused is False  # the pause was for that run only
    assert second.status("counting").message is None
    before = len(crawls)
    async with running(second):
        await until(lambda: len(crawls) > before)
    assert second.status("off").enabled is False


async def test_start_while_paused_waits_for_resume_and_stop_while_paused_stays_stopped() -> None:
    slow = Slow()
    crawls, quick = counting()
    scheduler = Scheduler([slow.source, quick], **FAST)
    async with running(scheduler):
        await until(lambda: bool(slow.started))
        await scheduler.stop("slow")
        await until(lambda: slow.cleaned == slow.started)
        await scheduler.pause()

        started = await scheduler.start("slow")  # the person's choice is kept...
        assert (started.enabled, started.state, started.message) == (
            True,
            CrawlerState.IDLE,
            "started: runs when indexing is resumed",
        )
        stopped = await scheduler.stop("counting")
        assert (stopped.enabled, stopped.state) == (False, CrawlerState.DISABLED)
        await asyncio.sleep(0.1)
        assert len(slow.started) == 1  # ...but nothing runs while paused

        seen = len(crawls)
        await scheduler.resume()
        await until(lambda: len(slow.started) == 2)  # started while paused: runs at resume
        await asyncio.sleep(0.1)
        assert len(crawls) == seen  # stopped while paused: stays stopped
        assert scheduler.status("counting").message == "stopped"


async def test_resume_runs_overdue_sources_and_keeps_the_schedule_of_the_others() -> None:
    hourly_runs, hourly = counting()
    hourly = ScheduledSource("hourly", 3600, hourly.run)
    often_runs, often = counting()
    often = ScheduledSource("often", 0.05, often.run)
    scheduler = Scheduler([hourly, often], **FAST)
    async with running(scheduler):
        await until(lambda: scheduler.status("hourly").next_run_at is not None)
        await until(lambda: scheduler.status("often").runs >= 1)
        await scheduler.pause()
        next_hourly = scheduler.status("hourly").next_run_at
        seen = len(often_runs)
        await asyncio.sleep(0.15)  # "often" is overdue now, "hourly" is not
        assert len(often_runs) == seen

        await scheduler.resume()
        await until(lambda: len(often_runs) > seen)
        await asyncio.sleep(0.05)
        assert len(hourly_runs) == 1
        assert scheduler.status("hourly").next_run_at == next_hourly


async def test_pausing_twice_and_resuming_when_not_paused_change_nothing() -> None:
    slow = Slow()
    scheduler = Scheduler([slow.source], **FAST)
    async with running(scheduler):
        await until(lambda: bool(slow.started))
        before = scheduler.statuses()
        assert await scheduler.resume() == before  # not paused: nothing to resume
        assert len(slow.started) == 1
        assert slow.cancelled == []

        first = await scheduler.pause()
        second = await scheduler.pause()
        assert first == second
        assert scheduler.paused is True
        await scheduler.resume()
        await scheduler.resume()
        await until(lambda: len(slow.started) == 2)
        await asyncio.sleep(0.05)
        assert len(slow.started) == 2  # one resume, one new crawl


async def test_a_blocked_source_stays_blocked_while_paused_and_says_when_it_retries() -> None:
    async def challenged(ctx: CrawlContext) -> RunResult:
        raise BlockedByChallenge("1337x", "Cloudflare challenge")

    source = ScheduledSource("1337x", 0.03, challenged)
    scheduler = Scheduler([source], min_backoff_s=600, max_backoff_s=600)
    async with running(scheduler):
        await until(lambda: scheduler.status("1337x").consecutive_failures == 1)
        paused = (await scheduler.pause())[0]
        assert (paused.state, paused.message) == (CrawlerState.BLOCKED, "paused")
        resumed = (await scheduler.resume())[0]
        assert resumed.state is CrawlerState.BLOCKED
        assert resumed.message == "retrying in 10 min"
        await asyncio.sleep(0.05)
        assert scheduler.status("1337x").consecutive_failures == 1  # not retried early


async def test_a_continuous_source_stops_on_pause_and_starts_again_on_resume() -> None:
    node = Slow("dht", every_s=None)  # like the DHT: runs until cancelled
    scheduler = Scheduler([node.source], **FAST)
    async with running(scheduler):
        await until(lambda: bool(node.started))
        await scheduler.pause()
        assert node.cleaned == node.started  # its node closed before pause answered
        await asyncio.sleep(0.1)  # well past the continuous source's restart pause
        assert len(node.started) == 1
        await scheduler.resume()
        await until(lambda: len(node.started) == 2)


async def test_a_crawl_waiting_at_the_gate_does_not_start_while_paused() -> None:
    crawls, quick = counting()
    gate = asyncio.Event()
    scheduler = Scheduler([quick], gate=gate.wait, **FAST)
    async with running(scheduler):
        await asyncio.sleep(0.05)  # the loop waits at the closed gate
        await scheduler.pause()
        gate.set()
        await asyncio.sleep(0.1)
        assert crawls == []
        await scheduler.resume()
        await until(lambda: len(crawls) >= 1)


async def test_a_source_added_while_paused_waits_for_resume() -> None:
    crawls, quick = counting()
    scheduler = Scheduler([], **FAST)
    async with running(scheduler):
        await asyncio.sleep(0.01)
        await scheduler.pause()
        added = scheduler.add(quick)
        assert (added.state, added.enabled, added.message) == (CrawlerState.IDLE, True, "paused")
        await asyncio.sleep(0.1)
        assert crawls == []
        await scheduler.resume()
        await until(lambda: len(crawls) >= 1)


async def test_pause_before_the_scheduler_runs_holds_its_first_crawls() -> None:
    crawls, quick = counting()
    scheduler = Scheduler([quick], **FAST)
    await scheduler.pause()
    async with running(scheduler):
        await asyncio.sleep(0.1)
        assert crawls == []
        await scheduler.resume()
        await until(lambda: len(crawls) >= 1)
