"""The feed poller end to end: a real feed on 127.0.0.1 polled by Minato, into the database.

The feed is the saved showRSS feed (tests/fixtures/rss). The first poll sees its
three oldest items; then the two newest appear, as on a live feed. Each item must
be ingested exactly once, across polls and across a restart; a 304 costs no
parsing; a feed that disappears or answers garbage fails the poll with its
reason, and the scheduler shows it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from engine.config import FeedSettings
from engine.core import Core
from engine.errors import InvalidFeed, LayoutChanged, NotFound, RequestFailed
from engine.scheduler import CrawlerState
from engine.services import parse_search_params
from engine.sources import feed_parse
from engine.sources.feeds import FeedPoller
from engine.store.schema import sightings
from tests.conftest import SettingsFactory
from tests.crawl_support import only_sites

FEED = Path(__file__).resolve().parents[2] / "fixtures" / "rss" / "sonarr_showrss.xml"
_ITEM = re.compile(rb"<item>.*?</item>\s*", re.S)


def feed_with(newest_dropped: int) -> bytes:
    """The saved feed without its `newest_dropped` first (newest) items."""
    body = FEED.read_bytes()
    items = list(_ITEM.finditer(body))
    cut = items[:newest_dropped]
    if not cut:
        return body
    return body[: cut[0].start()] + body[cut[-1].end() :]


class FeedServer:
    """Serves `body` at /rss with an ETag; answers 304 to a matching If-None-Match."""

    def __init__(self) -> None:
        self.body = feed_with(2)
        self.status = 200
        self.requests: list[str | None] = []
        self.server: TestServer | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(request.headers.get("If-None-Match"))
        if self.status != 200:
            return web.Response(status=self.status, text="gone")
        etag = f'"{hash(self.body) & 0xFFFFFFFF:x}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=self.body, content_type="application/rss+xml", headers={"ETag": etag}
        )

    async def start(self) -> FeedServer:
        app = web.Application()
        app.router.add_get("/rss", self.handle)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        self.url = str(self.server.make_url("/rss"))
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


@pytest.fixture
async def feed() -> AsyncIterator[FeedServer]:
    server = await FeedServer().start()
    yield server
    await server.close()


CoreFactory = Callable[..., Core]


@pytest.fixture
async def open_core(
    make_settings: SettingsFactory, database_url: str, tmp_path: Path
) -> AsyncIterator[CoreFactory]:
    opened: list[Core] = []

    def open_(feeds: list[FeedSettings] | None = None, **overrides: Any) -> Core:
        values = {"pipeline.classify": False, **only_sites({}), **overrides}
        settings = make_settings(database_url, **values)
        core = Core.open(settings.model_copy(update={"feeds": feeds or []}))
        opened.append(core)
        return core

    yield open_
    for core in opened:
        await core.aclose()


def poller(core: Core, name: str) -> FeedPoller:
    deps = core.crawling.deps
    return FeedPoller(
        name,
        store=core.crawling.feeds._store,
        pool=deps.pool,
        limiter=deps.limiter,
        pipeline=core.pipeline,
    )


def sighted(core: Core, source: str) -> int:
    with core.database.reader.connect() as conn:
        query = select(func.count()).select_from(sightings).where(sightings.c.source == source)
        return int(conn.execute(query).scalar_one())


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the calls of the feed parser the poller uses."""
    calls: list[int] = []
    real = feed_parse.parse_feed

    def counting(body: bytes, **kwargs: Any) -> Any:
        calls.append(len(body))
        return real(body, **kwargs)

    monkeypatch.setattr("engine.sources.feeds.parse_feed", counting)
    return calls


async def test_each_item_is_ingested_once_across_polls_and_a_restart(
    feed: FeedServer, open_core: CoreFactory, parses: list[int]
) -> None:
    core = open_core()
    added = await core.services.feeds.add("showrss", feed.url, "15m")
    assert added.source == "feed:showrss"
    first = await poller(core, "showrss").poll()
    assert (first.items, first.new_items, first.created) == (3, 3, 3)

    feed.body = feed_with(0)  # two new items at the top
    second = await poller(core, "showrss").poll()
    assert (second.items, second.new_items, second.created) == (5, 2, 2)
    assert sighted(core, "feed:showrss") == 5

    parsed = len(parses)
    third = await poller(core, "showrss").poll()  # unchanged: the server answers 304
    assert third.not_modified
    assert len(parses) == parsed  # a 304 costs no parsing
    assert feed.requests[-1] is not None  # the poll was conditional

    await core.aclose()
    again = open_core()  # a restart: where the last poll stopped is in the database
    feed.body = feed.body + b"\n"  # a new ETag, same items
    fourth = await poller(again, "showrss").poll()
    assert (fourth.not_modified, fourth.items, fourth.new_items) == (False, 5, 0)
    assert sighted(again, "feed:showrss") == 5
    listed = {f.name: f for f in await again.services.feeds.list()}
    assert listed["showrss"].last_seen_guid == "9bf12f5ecc9d61aec05b28e605784ee7"


async def test_a_feed_that_disappears_or_answers_garbage_fails_with_its_reason(
    feed: FeedServer, open_core: CoreFactory
) -> None:
    core = open_core()
    await core.services.feeds.add("showrss", feed.url)
    feed.status = 410
    with pytest.raises(RequestFailed, match="HTTP 410"):
        await poller(core, "showrss").poll()
    feed.status = 200
    feed.body = b"<html><body><h1>Welcome to nginx!</h1></body></html>"
    with pytest.raises(LayoutChanged, match="feed:showrss"):
        await poller(core, "showrss").poll()
    assert sighted(core, "feed:showrss") == 0

    # a private feed's key never reaches the error the crawler status shows
    await core.services.feeds.add("private", f"{feed.url}?passkey=9f8e7d6c5b4a&apikey=k3y-s3cret")
    with pytest.raises(LayoutChanged) as refused:
        await poller(core, "private").poll()
    shown = str(refused.value)
    assert "passkey=***" in shown
    assert "9f8e7d6c5b4a" not in shown
    assert "k3y-s3cret" not in shown


async def test_a_scheduled_feed_polls_and_shows_its_state(
    feed: FeedServer, open_core: CoreFactory
) -> None:
    core = open_core(**{"crawl.enabled": True})
    scheduler = core.crawling.scheduler
    task = asyncio.create_task(scheduler.run())
    try:
        await core.services.feeds.add("showrss", feed.url, "1h")  # added live: polled at once
        for _ in range(500):
            status = scheduler.status("feed:showrss")
            if status.runs and status.state is not CrawlerState.RUNNING:
                break
            await asyncio.sleep(0.02)
        assert (status.state, status.items_new) == (CrawlerState.IDLE, 3)
        await core.services.feeds.remove("showrss")
        with pytest.raises(NotFound):
            scheduler.status("feed:showrss")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


@pytest.mark.parametrize(
    ("status", "body", "state", "reason"),
    [
        (410, b"", CrawlerState.BACKING_OFF, "HTTP 410"),
        (200, b"<html><body>parked domain</body></html>", CrawlerState.ERROR, "not a feed"),
    ],
)
async def test_a_failing_feed_is_backed_off_and_shows_why(
    feed: FeedServer,
    open_core: CoreFactory,
    status: int,
    body: bytes,
    state: CrawlerState,
    reason: str,
) -> None:
    feed.status, feed.body = status, body or feed.body
    core = open_core(**{"crawl.enabled": True})
    scheduler = core.crawling.scheduler
    task = asyncio.create_task(scheduler.run())
    try:
        await core.services.feeds.add("broken", feed.url, "1h")
        for _ in range(500):
            current = scheduler.status("feed:broken")
            if current.runs and current.state is not CrawlerState.RUNNING:
                break
            await asyncio.sleep(0.02)
        assert current.state is state
        assert reason in (current.last_error or "")
        assert current.message is not None
        assert current.message.startswith("retrying in")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert sighted(core, "feed:broken") == 0


async def test_feeds_from_the_settings_are_listed_and_kept(
    feed: FeedServer, open_core: CoreFactory
) -> None:
    settings_feed = [FeedSettings(name="fromfile", url=feed.url, every="30m")]
    core = open_core(feeds=settings_feed)
    [listed] = await core.services.feeds.list()
    assert (listed.name, listed.origin, listed.every_s) == ("fromfile", "settings", 1800.0)
    with pytest.raises(InvalidFeed, match="settings file"):
        await core.services.feeds.remove("fromfile")


@pytest.mark.parametrize(
    ("name", "url", "every", "error"),
    [
        ("Bad Name", "https://x.example/rss", "15m", "name"),
        ("ok", "ftp://x.example/rss", "15m", "http:// or https://"),
        ("ok", "https://user:pw@x.example/rss", "15m", "credentials"),
        ("ok", "https://x.example/rss", "continuous", "interval"),
        ("ok", "https://x.example/rss", "5s", "outside"),
    ],
)
async def test_bad_feeds_are_refused_with_the_reason(
    open_core: CoreFactory, name: str, url: str, every: str, error: str
) -> None:
    core = open_core()
    with pytest.raises(InvalidFeed, match=error):
        await core.services.feeds.add(name, url, every)
    assert await core.services.feeds.list() == []


TORRENTS = Path(__file__).resolve().parents[2] / "fixtures" / "torrents"
LIMETORRENTS_FEED = FEED.parent / "sonarr_limetorrents.xml"
SERVED = ["flexget_test", "flexget_multi", "libtorrent_sample", "libtorrent_v2_hybrid"]


async def test_items_with_only_a_torrent_link_are_downloaded_and_hashed(
    open_core: CoreFactory,
) -> None:
    """LimeTorrents' feed gives no hash, only .torrent enclosures: the poller fetches them."""
    served: list[str] = []

    async def torrent(request: web.Request) -> web.Response:
        served.append(request.match_info["n"])
        index = int(request.match_info["n"])
        if index >= len(SERVED):
            return web.Response(status=404, text="gone")
        data = (TORRENTS / f"{SERVED[index]}.torrent").read_bytes()
        return web.Response(body=data, content_type="application/x-bittorrent")

    app = web.Application()
    app.router.add_get("/t/{n}.torrent", torrent)
    body = LIMETORRENTS_FEED.read_bytes()
    urls = re.findall(rb'<enclosure url="([^"]+)"', body)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    for index, url in enumerate(urls):
        body = body.replace(url, f"{base}/t/{index}.torrent".encode())

    async def rss(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/rss+xml")

    app2 = web.Application()
    app2.router.add_get("/rss", rss)
    feed_server = TestServer(app2, host="127.0.0.1")
    await feed_server.start_server()
    try:
        core = open_core()
        await core.services.feeds.add("lime", str(feed_server.make_url("/rss")))
        result = await poller(core, "lime").poll()
        assert (result.items, result.new_items, result.created) == (5, 5, len(SERVED))
        assert result.skipped == 1  # the .torrent that answered 404
        assert sorted(served) == ["0", "1", "2", "3", "4"]
        core.services.status.drain_index()
        found = core.services.search.search_sync(parse_search_params({"limit": "10"})).hits
        assert len(found) == len(SERVED)
        for hit in found:
            torrent_info = await core.services.search.torrent(hit.info_hash)
            assert torrent_info.has_metainfo  # the .torrent is kept, to be served back
            assert torrent_info.files
    finally:
        await feed_server.close()
        await server.close()
