"""`CrawlerService`, on SQLite and PostgreSQL: what the API, the CLI and the window are told.

What users depend on: the crawler list is the scheduler's live state and the
database's saved one agrees with it; start and stop act on the scheduler and
unknown ids are `NotFound` without echoing a huge id; every site is listed with
its schedule, proxy policy, the mirror in use, how many mirrors answer, its breaker
and its crawler's state; a site's mirrors come in config order with their recent
checks; proxies never show their passwords.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.config import ProxySettings
from engine.core import Core
from engine.errors import NotFound
from engine.scheduler import CrawlContext, CrawlerState, CrawlerStatus, RunResult
from engine.store.mirrors import HISTORY_PER_MIRROR, MirrorCheck
from tests.conftest import SettingsFactory
from tests.crawl_support import counting_job, only_sites, register

A, B, C = "https://yts.one.example", "https://yts.two.example", "https://yts.gone.example"
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

CoreFactory = Callable[..., Core]


@pytest.fixture
def open_core(
    make_settings: SettingsFactory, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CoreFactory]:
    """Open a core whose registry schedules a counting job for "yts" (crawling still off)."""
    opened: list[Core] = []

    def open_(
        runs: list[str] | None = None, proxies: Sequence[ProxySettings] = (), **overrides: Any
    ) -> Core:
        register(monkeypatch, {"yts": counting_job(runs if runs is not None else [])})
        values = {"pipeline.classify": False, "sites.yts": {"mirrors": [A, B]}, **overrides}
        settings = make_settings(database_url, **values)
        core = Core.open(settings.model_copy(update={"proxies": list(proxies)}))
        opened.append(core)
        return core

    yield open_
    for core in opened:
        core.close()


@pytest.fixture
async def scheduled(open_core: CoreFactory) -> AsyncIterator[tuple[Core, list[str]]]:
    """A core with crawling on for "yts" only, its scheduler running (no mirror checks run)."""
    runs: list[str] = []
    core = open_core(runs, **only_sites({"yts": {"mirrors": [A, B]}}))
    assert core.crawling is not None
    task = asyncio.create_task(core.crawling.scheduler.run())  # the scheduler alone: no checks
    yield core, runs
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def until(check: Callable[[], bool], within_s: float = 5.0) -> None:
    for _ in range(int(within_s / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


def yts_of(statuses: Sequence[CrawlerStatus]) -> CrawlerStatus:
    """The status of the registered test job (the HTML sites are listed too, disabled)."""
    [status] = [s for s in statuses if s.source == "yts"]
    return status


async def test_start_and_stop_act_on_the_scheduler_and_are_saved(
    scheduled: tuple[Core, list[str]],
) -> None:
    core, runs = scheduled
    crawlers = core.services.crawlers
    await until(lambda: yts_of(crawlers.statuses()).runs == 1)
    status = yts_of(crawlers.statuses())
    assert (status.source, status.state, status.items_new, status.items_total) == (
        "yts",
        CrawlerState.IDLE,
        3,
        3,
    )
    assert status.next_run_at is not None  # an hour after the run: "every" of yts

    stopped = await crawlers.stop("yts")
    assert (stopped.state, stopped.enabled, stopped.message) == (
        CrawlerState.DISABLED,
        False,
        "stopped",
    )
    assert yts_of(crawlers.saved_statuses()) == yts_of(crawlers.statuses())

    await crawlers.start("yts")  # runs now, not in an hour
    await until(lambda: yts_of(crawlers.statuses()).runs == 2)
    assert runs == ["yts#1", "yts#2"]
    assert yts_of(crawlers.statuses()).items_total == 6
    await until(lambda: yts_of(crawlers.saved_statuses()).runs == 2)


@pytest.mark.parametrize("bad", ["nope", "", "YTS", "yts/", "../yts", "ütß", "\x00", "x" * 5000])
async def test_unknown_crawler_ids_are_not_found(open_core: CoreFactory, bad: str) -> None:
    crawlers = open_core().services.crawlers
    for action in (crawlers.start, crawlers.stop):
        with pytest.raises(NotFound) as caught:
            await action(bad)
        assert len(caught.value.user_message) < 140  # a huge id is not echoed whole


async def test_crawling_off_in_the_settings_lists_the_crawler_as_disabled(
    open_core: CoreFactory,
) -> None:
    runs: list[str] = []
    core = open_core(runs)  # make_settings turns crawling off
    crawlers = core.services.crawlers
    status = yts_of(crawlers.statuses())
    assert (status.state, status.enabled, status.message) == (
        CrawlerState.DISABLED,
        False,
        "disabled in the settings",
    )
    assert (await crawlers.start("yts")).state is CrawlerState.DISABLED  # the settings decide
    assert crawlers.mirror_checks().enabled is False
    assert core.crawling is not None
    assert core.crawling.health is None


async def test_sites_lists_every_site_with_its_mirror_breaker_and_crawler(
    open_core: CoreFactory,
) -> None:
    core = open_core(
        proxies=[ProxySettings(name="tor", url="socks5h://alice:pr0xy-s3cret@127.0.0.1:9050")],
        **{"sites.eztv": {"proxy": "pool"}},
    )
    assert core.crawling is not None
    crawlers = core.services.crawlers
    sites = {s.id: s for s in await crawlers.sites()}
    assert list(sites) == sorted(sites)
    assert {"1337x", "yts", "eztv", "dht", "bitmagnet"} <= set(sites)
    yts = sites["yts"]
    assert (yts.kind, yts.enabled, yts.every_s, yts.proxy) == ("api", True, 3600.0, "none")
    assert (yts.current_mirror, yts.mirrors, yts.mirrors_online, yts.checked_at) == (A, 2, 0, None)
    assert yts.breaker is None
    assert yts.crawler is CrawlerState.DISABLED  # crawling is off in the test settings
    assert sites["eztv"].proxy == "pool"
    assert sites["1337x"].crawler is CrawlerState.DISABLED  # an HTML site: off in the tests
    assert sites["knaben"].crawler is CrawlerState.DISABLED  # an API: off in the tests
    assert sites["dht"].crawler is CrawlerState.DISABLED  # off until started, and crawl is off
    dht = sites["dht"]
    assert (dht.enabled, dht.every_s, dht.current_mirror, dht.mirrors) == (True, None, None, 0)

    await core.crawling.mirror_store.save(
        "yts",
        [
            MirrorCheck(site="yts", url=A, checked_at=T0, online=False, error="refused"),
            MirrorCheck(site="yts", url=B, checked_at=T0, online=True, latency_ms=81.5),
        ],
        B,
    )
    breaker = core.crawling.deps.breakers.get("yts")
    for _ in range(5):
        breaker.record_failure("HTTP 503")
    yts = {s.id: s for s in await crawlers.sites()}["yts"]
    assert (yts.current_mirror, yts.mirrors_online, yts.checked_at) == (B, 1, T0)
    assert yts.breaker is not None
    assert yts.breaker.state.value == "open"
    assert yts.breaker.last_error == "HTTP 503"

    [proxy] = crawlers.proxies()
    assert proxy.safe_url == "socks5h://alice:***@127.0.0.1:9050"


async def test_mirrors_in_config_order_with_recent_checks(open_core: CoreFactory) -> None:
    core = open_core()
    assert core.crawling is not None
    store = core.crawling.mirror_store
    await store.sync("yts", [C, B, A])  # what an older config left behind: C is gone now
    checks = [
        MirrorCheck(
            site="yts", url=B, checked_at=T0 + timedelta(minutes=i), online=True, latency_ms=i
        )
        for i in range(12)
    ]
    gone = MirrorCheck(site="yts", url=C, checked_at=T0, online=True)
    await store.save("yts", [*checks, gone], B)

    found = await core.services.crawlers.mirrors("yts")
    assert found.site == "yts"
    assert found.current == B
    assert [(m.state.url, m.state.position) for m in found.mirrors] == [(A, 0), (B, 1)]
    a, b = found.mirrors
    assert (a.state.online, a.history) == (None, ())
    assert b.state.chosen
    assert [c.latency_ms for c in b.history] == [11, 10, 9, 8, 7, 6, 5, 4, 3, 2]  # newest first
    assert len((await core.services.crawlers.mirrors("yts", history=3)).mirrors[1].history) == 3
    assert (await core.services.crawlers.mirrors("yts", history=-5)).mirrors[1].history == ()
    big = await core.services.crawlers.mirrors("yts", history=10 * HISTORY_PER_MIRROR)
    assert len(big.mirrors[1].history) == 12

    dht = await core.services.crawlers.mirrors("dht")
    assert (dht.current, dht.mirrors) == (None, ())


@pytest.mark.parametrize("bad", ["nope", "", "YTS", "yts/mirrors", "..", "ütß", "x" * 5000])
async def test_unknown_site_ids_are_not_found(open_core: CoreFactory, bad: str) -> None:
    with pytest.raises(NotFound) as caught:
        await open_core().services.crawlers.mirrors(bad)
    assert len(caught.value.user_message) < 140


async def test_pause_and_resume_hold_every_crawl_and_keep_the_choices(
    make_settings: SettingsFactory, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Pause indexing": the crawl under way ends, the choices are kept; ingest still works."""
    started: list[str] = []
    cancelled: list[str] = []

    async def hang(ctx: CrawlContext) -> RunResult:
        started.append(ctx.crawl_id)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(ctx.crawl_id)
            raise
        return RunResult()

    register(monkeypatch, {"yts": hang})
    values = {"pipeline.classify": False, **only_sites({"yts": {"mirrors": [A]}})}
    core = Core.open(make_settings(database_url, **values))
    assert core.crawling is not None
    task = asyncio.create_task(core.crawling.scheduler.run())
    crawlers = core.services.crawlers
    try:
        await until(lambda: bool(started))
        assert crawlers.paused is False
        paused = yts_of(await crawlers.pause())
        assert crawlers.paused is True
        assert cancelled == started  # ended before pause answered
        assert (paused.state, paused.enabled, paused.message) == (
            CrawlerState.IDLE,
            True,
            "paused",
        )
        assert yts_of(await crawlers.pause()) == paused  # twice: harmless
        await until(lambda: yts_of(crawlers.saved_statuses()).message == "paused")
        assert yts_of(crawlers.saved_statuses()).enabled is True  # not saved as stopped
        dht = (await core.services.dht.report()).status
        assert (dht.state, dht.message) == (CrawlerState.DISABLED, "disabled in the settings")

        record = {"info_hash": "a" * 40, "title": "Ubuntu 24.04 LTS", "source": "manual"}
        report = await core.services.ingest.ingest_json(json.dumps([record]).encode())
        assert report.created == 1  # the ingest API keeps accepting while paused

        assert (await crawlers.stop("yts")).enabled is False
        again = await crawlers.start("yts")
        assert again.message == "started: runs when indexing is resumed"
        await asyncio.sleep(0.1)
        assert len(started) == 1
        resumed = yts_of(await crawlers.resume())
        assert crawlers.paused is False
        assert resumed.message is None
        await until(lambda: len(started) == 2)  # cut short, then started: runs at once
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        core.close()
