"""End to end: Minato crawls 1337x served from saved pages on 127.0.0.1, into a searchable index.

The site (tests/site_server.py) serves the saved listing and detail pages at the
paths the crawler asks for, as the site's only mirror (or behind a dead one, or
through a real proxy). Each test reads the result where a user would: in the
database through the search service, and in the crawler status.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from engine.config import ProxySettings
from engine.core import Core
from engine.errors import AllMirrorsDown, BlockedByChallenge, LayoutChanged, NotFound
from engine.scheduler import CrawlerState
from engine.services import parse_search_params
from engine.services.crawlers import CrawlRequestError
from tests.conftest import SettingsFactory
from tests.crawl_support import closed_url, only_sites
from tests.engine.net.proxy_servers import ProxyFarm
from tests.site_server import (
    FILES_PER_TORRENT,
    LEETX_LATEST,
    LEETX_LISTINGS,
    ROWS_PER_PAGE,
    Override,
    SiteServer,
    challenge_override,
    page_ids,
    torrent_hash,
)

CoreFactory = Callable[..., Core]
LISTINGS = len(LEETX_LISTINGS)


@pytest.fixture
async def site() -> AsyncIterator[SiteServer]:
    server = await SiteServer(pages=4).start()
    yield server
    await server.close()


@pytest.fixture
async def open_core(
    make_settings: SettingsFactory, database_url: str
) -> AsyncIterator[CoreFactory]:
    """A core whose only site is 1337x at the given mirrors (crawling and classifying on)."""
    opened: list[Core] = []

    def open_(
        mirrors: list[str], *, proxies: list[ProxySettings] | None = None, **site: Any
    ) -> Core:
        values = only_sites({"1337x": {"mirrors": mirrors, "min_interval_s": 0, **site}})
        settings = make_settings(database_url, **values, **{"pipeline.classify": False})
        core = Core.open(settings.model_copy(update={"proxies": proxies or []}))
        opened.append(core)
        return core

    yield open_
    for core in opened:
        await core.aclose()


def stored(core: Core) -> int:
    core.services.status.drain_index()
    return core.services.search.search_sync(parse_search_params({"limit": "1"})).total


def find(core: Core, text: str) -> list[Any]:
    core.services.status.drain_index()
    return list(core.services.search.search_sync(parse_search_params({"q": text})).hits)


async def test_latest_crawl_follows_pages_and_details_into_the_index(
    site: SiteServer, open_core: CoreFactory
) -> None:
    core = open_core([site.url], depth=3)
    report = await core.services.crawlers.crawl_site("1337x")
    assert site.listing_paths() == [f"{lst}/{n}/" for lst in LEETX_LISTINGS for n in (1, 2, 3)]
    found = 3 * ROWS_PER_PAGE * LISTINGS  # depth 3 of 4 pages, each listing
    assert (report.pages, report.rows, report.new) == (3 * LISTINGS, found, found)
    assert report.details == found
    assert report.errors == 0
    assert stored(core) == found
    torrent_id = page_ids(2)[0]
    detail = await core.services.search.torrent(torrent_hash(torrent_id))
    assert detail.summary.title == "The Lion King (2019) [BluRay] [1080p] [YTS] [YIFY]"
    assert len(detail.files) == FILES_PER_TORRENT
    assert detail.summary.seeders == 29  # the detail page's figure wins over the listing's
    assert detail.description
    assert detail.description.startswith("Year: 2011")
    assert any(s.source == "1337x" for s in detail.sightings)
    hits = find(core, "lion king 1080p")
    assert torrent_hash(torrent_id) in {hit.info_hash for hit in hits}


async def test_a_second_crawl_skips_known_detail_pages_and_stops_when_nothing_is_new(
    site: SiteServer, open_core: CoreFactory
) -> None:
    core = open_core([site.url], depth=3)
    await core.services.crawlers.crawl_site("1337x")
    site.paths.clear()
    report = await core.services.crawlers.crawl_site("1337x")
    assert site.listing_paths() == [f"{lst}/1/" for lst in LEETX_LISTINGS]  # nothing new: stop
    assert site.detail_paths() == []
    seen = ROWS_PER_PAGE * LISTINGS
    assert (report.new, report.updated, report.details_skipped) == (0, seen, seen)
    assert report.stopped == "nothing new"
    assert stored(core) == 3 * ROWS_PER_PAGE * LISTINGS


async def test_depth_from_the_request_and_the_last_page_end_the_walk(
    site: SiteServer, open_core: CoreFactory
) -> None:
    core = open_core([site.url], depth=1)
    report = await core.services.crawlers.crawl_site("1337x", depth=10)
    assert report.pages == 4 * LISTINGS  # 4 pages each
    assert report.stopped == "last page"
    assert stored(core) == 4 * ROWS_PER_PAGE * LISTINGS


async def test_search_mode_asks_the_search_path_and_stores_the_results(
    site: SiteServer, open_core: CoreFactory
) -> None:
    core = open_core([site.url])
    report = await core.services.crawlers.crawl_site("1337x", "search", query="lion  king")
    assert site.listing_paths() == ["/search/lion+king/1/"]  # searches read 1 page by default
    assert report.new == ROWS_PER_PAGE
    with pytest.raises(CrawlRequestError, match="needs a query"):
        await core.services.crawlers.crawl_site("1337x", "search", query="  ")
    with pytest.raises(CrawlRequestError, match="unknown mode"):
        await core.services.crawlers.crawl_site("1337x", "everything")
    with pytest.raises(NotFound):
        await core.services.crawlers.crawl_site("no-such-site")


async def test_browse_mode_walks_a_category_by_its_next_links(
    site: SiteServer, open_core: CoreFactory
) -> None:
    core = open_core([site.url], depth=2)
    report = await core.services.crawlers.crawl_site("1337x", "browse", category="Movies")
    assert site.listing_paths() == ["/cat/Movies/1/", "/cat/Movies/2/"]
    assert report.new == 2 * ROWS_PER_PAGE
    with pytest.raises(CrawlRequestError, match="not a category name"):
        await core.services.crawlers.crawl_site("1337x", "browse", category="../admin")


async def test_a_dead_mirror_fails_over_to_the_live_one(
    site: SiteServer, open_core: CoreFactory
) -> None:
    core = open_core([closed_url(), site.url], depth=1)
    report = await core.services.crawlers.crawl_site("1337x")
    assert report.new == ROWS_PER_PAGE * LISTINGS
    assert core.crawling.deps.mirrors["1337x"].current() == site.url


async def test_requests_go_through_the_configured_proxy(
    site: SiteServer, open_core: CoreFactory, tmp_path: Path
) -> None:
    farm = ProxyFarm(tmp_path)
    try:
        (proxy,) = farm.start(kind="http")
        core = open_core(
            [site.url],
            depth=1,
            proxy=["local"],
            proxies=[ProxySettings(name="local", url=proxy.url())],
        )
        report = await core.services.crawlers.crawl_site("1337x")
        assert report.new == ROWS_PER_PAGE * LISTINGS
        target = site.url.removeprefix("http://")
        assert proxy.connections_to(target) >= 1
    finally:
        farm.close()


@pytest.mark.parametrize(
    ("override", "error"),
    [
        (Override(body=""), "no result rows found"),
        (Override(body="<html><body><h1>Welcome to nginx!</h1></body></html>"), "no result rows"),
    ],
)
async def test_a_page_that_is_not_a_listing_is_a_layout_change_and_stores_nothing(
    site: SiteServer, open_core: CoreFactory, override: Override, error: str
) -> None:
    core = open_core([site.url], depth=1)
    site.overrides[f"{LEETX_LATEST}/1/"] = override
    with pytest.raises(LayoutChanged, match=f"layout changed on 1337x .*{error}"):
        await core.services.crawlers.crawl_site("1337x")
    assert site.detail_paths() == []
    assert stored(core) == 0


async def test_a_truncated_page_stores_only_its_whole_rows(
    site: SiteServer, open_core: CoreFactory
) -> None:
    core = open_core([site.url], depth=1)
    page = site.answer(f"{LEETX_LATEST}/1/").text or ""
    cut = page.index(f"/torrent/{page_ids(1)[7]}/")  # inside the 8th row
    site.overrides[f"{LEETX_LATEST}/1/"] = Override(body=page[:cut])
    report = await core.services.crawlers.crawl_site("1337x")
    assert report.new == 7 + ROWS_PER_PAGE  # + TV page
    assert stored(core) == 7 + ROWS_PER_PAGE
    for torrent_id in page_ids(1)[:7]:
        torrent = await core.services.search.torrent(torrent_hash(torrent_id))
        assert len(torrent.files) == FILES_PER_TORRENT


async def test_broken_rows_are_skipped_and_counted(
    site: SiteServer, open_core: CoreFactory
) -> None:
    core = open_core([site.url], depth=1)
    page = site.answer(f"{LEETX_LATEST}/1/").text or ""
    broken = page.replace(
        '<td class="coll-2 seeds">15105</td>', '<td class="coll-2 seeds">n/a</td>'
    )
    site.overrides[f"{LEETX_LATEST}/1/"] = Override(body=broken)
    report = await core.services.crawlers.crawl_site("1337x")
    assert (report.bad_rows, report.new) == (1, ROWS_PER_PAGE * LISTINGS - 1)


async def test_a_failing_detail_page_is_counted_and_the_crawl_goes_on(
    site: SiteServer, open_core: CoreFactory
) -> None:
    core = open_core([site.url], depth=1)
    first = page_ids(1)[0]
    page = site.answer(f"{LEETX_LATEST}/1/").text or ""
    path = next(p for p in _detail_paths(page) if f"/torrent/{first}/" in p)
    site.overrides[path] = Override(status=404, body="gone")
    report = await core.services.crawlers.crawl_site("1337x")
    assert report.errors == 1
    assert report.new == ROWS_PER_PAGE * LISTINGS - 1


async def test_a_challenge_on_a_detail_page_stops_the_crawl_and_its_other_fetches(
    site: SiteServer, open_core: CoreFactory
) -> None:
    core = open_core([site.url], depth=1)
    page = site.answer(f"{LEETX_LATEST}/1/").text or ""
    site.overrides[_detail_paths(page)[0]] = challenge_override()
    with pytest.raises(AllMirrorsDown) as caught:
        await core.services.crawlers.crawl_site("1337x")
    assert isinstance(caught.value.__context__, BlockedByChallenge)
    asked = len(site.detail_paths())
    assert asked < ROWS_PER_PAGE
    await asyncio.sleep(0.3)  # a fetch left running would ask for more now
    assert len(site.detail_paths()) == asked
    assert site.listing_paths() == [f"{LEETX_LATEST}/1/"]
    assert stored(core) == 0


def _detail_paths(page: str) -> list[str]:
    import re

    return re.findall(r'href="(/torrent/\d+/[^"]+/)"', page)


# ---------------------------------------------------------------- through the scheduler


async def run_scheduled(core: Core) -> Any:
    """Run the 1337x crawler once through the real scheduler and return its status."""
    scheduler = core.crawling.scheduler
    task = asyncio.create_task(scheduler.run())
    try:
        for _ in range(1000):
            status = {s.source: s for s in scheduler.statuses()}["1337x"]
            if status.runs >= 1 and status.state is not CrawlerState.RUNNING:
                return status
            await asyncio.sleep(0.02)
        raise AssertionError("the crawl did not finish")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_the_scheduled_crawl_reports_its_figures(
    site: SiteServer, open_core: CoreFactory
) -> None:
    core = open_core([site.url], depth=2)
    status = await run_scheduled(core)
    assert status.state is CrawlerState.IDLE
    assert status.last_error is None
    found = 2 * ROWS_PER_PAGE * LISTINGS
    assert (status.items_seen, status.items_new) == (found, found)
    assert stored(core) == found


@pytest.mark.parametrize(
    ("override", "state", "message"),
    [
        (challenge_override(), CrawlerState.BLOCKED, "challenge"),
        (Override(body=""), CrawlerState.ERROR, "layout changed on 1337x"),
        (Override(status=500, body="<html>oops</html>"), CrawlerState.BACKING_OFF, "HTTP 500"),
    ],
)
async def test_bad_pages_give_the_right_crawler_state_and_no_rows(
    site: SiteServer,
    open_core: CoreFactory,
    override: Override,
    state: CrawlerState,
    message: str,
) -> None:
    core = open_core([site.url], depth=1)
    site.override_all = override
    status = await run_scheduled(core)
    assert status.state is state
    assert message in (status.last_error or "")
    assert stored(core) == 0
