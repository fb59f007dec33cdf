"""Live search of Torznab feeds: a real indexer on 127.0.0.1 searched by Minato, into the database.

The indexer answers with the saved real answers of tests/fixtures/torznab (Jackett,
Prowlarr, Bitmagnet). Each test checks what the indexer was asked (t=search, q,
cat, the apikey kept), what reached the database and the search index, that the
feed's poll state is left alone, and that no error or log line quotes the apikey.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from engine.core import Core
from engine.errors import LayoutChanged, MinatoError, RequestFailed, ResponseTooLarge
from engine.logs import redact
from engine.net.politeness import HostRateLimiter
from engine.services import parse_search_params
from engine.sources.feed_search import FeedSearcher, can_search, torznab_search_url
from engine.sources.feeds import MIN_FEED_INTERVAL_S
from engine.sources.report import MAX_QUERY_CHARS, CrawlRequestError
from tests.crawl_support import free_port
from tests.engine.sources import test_feed_poller
from tests.engine.sources.test_feed_poller import SERVED, TORRENTS, CoreFactory, poller, sighted
from tests.site_server import serve

open_core = test_feed_poller.open_core
"""The poller tests' fixture, reused: a real `Core` (pipeline, writer, index) on each database."""

TORZNAB = Path(__file__).resolve().parents[2] / "fixtures" / "torznab"
JACKETT = TORZNAB / "jackett_test_torznab_hdaccess.xml"
PROWLARR = TORZNAB / "prowlarr_torznab_morethantv.xml"
BITMAGNET = TORZNAB / "bitmagnet_torznab_result_example.xml"
UNAUTHORIZED = TORZNAB / "sonarr_newznab_error_unauthorized.xml"
APIKEY = "9f1c2e7a5b3d4c6e8f0a1b2c3d4e5f60"
JACKETT_PATH = "/api/v2.0/indexers/hdaccess/results/torznab/api"
PROWLARR_PATH = "/1/api"
_ITEM = re.compile(rb"<item>.*?</item>", re.S)
_ENCLOSURE = re.compile(rb'<enclosure url="([^"]+)"')


# ------------------------------------------------------------------ the search URL

JACKETT_URL = f"http://127.0.0.1:9117{JACKETT_PATH}?apikey=K&t=search&cat=5000"


@pytest.mark.parametrize(
    ("feed_url", "categories", "expected"),
    [
        (  # Jackett: the feed's own cat is kept when the search names none
            JACKETT_URL,
            (),
            {"apikey": ["K"], "t": ["search"], "cat": ["5000"], "q": ["the wire s01"]},
        ),
        (  # ... and replaced when it does
            JACKETT_URL,
            (5030, 5040, 5030),
            {"apikey": ["K"], "t": ["search"], "cat": ["5030,5040"], "q": ["the wire s01"]},
        ),
        (  # Prowlarr: a numbered indexer, no cat
            "http://192.168.1.5:9696/1/api?apikey=K&t=search",
            (),
            {"apikey": ["K"], "t": ["search"], "q": ["the wire s01"]},
        ),
        (  # NZBHydra: a tvsearch feed with its show and paging dropped, extended kept
            "http://hydra:5076/torznab/api?apikey=K&t=tvsearch&tvdbid=79126&season=1&ep=2"
            "&offset=100&extended=1&cat=5040",
            (),
            {
                "apikey": ["K"],
                "t": ["search"],
                "cat": ["5040"],
                "extended": ["1"],
                "q": ["the wire s01"],
            },
        ),
        (  # an /api path with an apikey and no t= (NZBHydra's RSS-style URL)
            "https://hydra.example/api?apikey=K",
            (2000,),
            {"apikey": ["K"], "t": ["search"], "cat": ["2000"], "q": ["the wire s01"]},
        ),
        (  # Bitmagnet's public endpoint: no apikey, t=movie
            "http://127.0.0.1:3333/torznab/api?t=movie&imdbid=tt0039689",
            (),
            {"t": ["search"], "q": ["the wire s01"]},
        ),
    ],
)
def test_the_search_url_of_a_torznab_feed(
    feed_url: str, categories: tuple[int, ...], expected: dict[str, list[str]]
) -> None:
    url = torznab_search_url(feed_url, "the wire s01", categories)
    assert url is not None
    parts, feed = urlsplit(url), urlsplit(feed_url)
    assert (parts.scheme, parts.netloc, parts.path) == (feed.scheme, feed.netloc, feed.path)
    assert parse_qs(parts.query, keep_blank_values=True) == expected
    assert "+" not in parts.query  # spaces are %20: strict servers read "+" as a plus
    assert can_search(feed_url)


@pytest.mark.parametrize(
    "feed_url",
    [
        "https://showrss.info/user/2202.rss?magnets=true&namespaces=true",
        "https://nyaa.si/?page=rss&q=one+piece",
        "https://tracker.example/rss.php?passkey=abc&cat=7",  # a key, but no Torznab API
        "https://example.com/api",  # /api without a key
        "https://example.com/api?t=caps&x=1",  # no search function, no key
        "ftp://example.com/api?apikey=K&t=search",
    ],
)
def test_a_plain_rss_feed_has_no_search_url(feed_url: str) -> None:
    assert torznab_search_url(feed_url, "anything") is None
    assert not can_search(feed_url)


# ------------------------------------------------------------------ a Torznab indexer


class Indexer:
    """A Torznab API on 127.0.0.1: answers its path with `body`, keeps each query it got.

    Serves the .torrent files of tests/fixtures/torrents at /t/<n>.torrent (404 past
    them), as Jackett serves its /dl/ links.
    """

    def __init__(self, body: bytes, path: str = JACKETT_PATH) -> None:
        self.body = body
        self.path = path
        self.status = 200
        self.content_type = "application/rss+xml"
        self.queries: list[dict[str, list[str]]] = []
        self.torrents: list[str] = []
        self.server: TestServer | None = None
        self.base = ""

    @property
    def feed_url(self) -> str:
        """The URL a user adds as the feed: the indexer's own RSS search, with its key."""
        return f"{self.base}{self.path}?apikey={APIKEY}&t=search&cat=5000"

    async def handle(self, request: web.Request) -> web.Response:
        if request.path.startswith("/t/"):
            return self.torrent(request.path)
        if request.path != self.path:
            return web.Response(status=404, text="no such indexer")
        self.queries.append(parse_qs(request.query_string, keep_blank_values=True))
        return web.Response(
            status=self.status,
            body=self.body,
            content_type=self.content_type,
            headers={"ETag": '"v1"', "Last-Modified": "Sat, 14 Mar 2015 21:10:42 GMT"},
        )

    def torrent(self, path: str) -> web.Response:
        number = path.removeprefix("/t/").removesuffix(".torrent")
        self.torrents.append(number)
        if not number.isdigit() or int(number) >= len(SERVED):
            return web.Response(status=404, text="gone")
        data = (TORRENTS / f"{SERVED[int(number)]}.torrent").read_bytes()
        return web.Response(body=data, content_type="application/x-bittorrent")

    def link_torrents(self) -> None:
        """Point the .torrent download of each item that has one at /t/<n>.torrent, n from 0."""
        parts: list[bytes] = []
        last = number = 0
        for item in _ITEM.finditer(self.body):
            text = item[0]
            enclosure = _ENCLOSURE.search(text)
            if enclosure is not None and not enclosure[1].startswith(b"magnet:"):
                text = text.replace(enclosure[1], f"{self.base}/t/{number}.torrent".encode())
                number += 1
            parts += [self.body[last : item.start()], text]
            last = item.end()
        self.body = b"".join([*parts, self.body[last:]])

    async def start(self) -> Indexer:
        self.server, self.base = await serve(self.handle)
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


@pytest.fixture
async def jackett() -> AsyncIterator[Indexer]:
    indexer = await Indexer(JACKETT.read_bytes()).start()
    yield indexer
    await indexer.close()


class FakeTime:
    """A clock that sleeping moves forward: politeness waits are counted, not slept."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def searcher(
    core: Core, name: str, url: str, limiter: HostRateLimiter | None = None
) -> FeedSearcher:
    deps = core.crawling.deps
    return FeedSearcher(
        name,
        url,
        pool=deps.pool,
        limiter=deps.limiter if limiter is None else limiter,
        pipeline=core.pipeline,
    )


def assert_no_key(caplog: pytest.LogCaptureFixture, *texts: str) -> None:
    """The apikey is in none of `texts`, no Minato log line, no line as logging writes it."""
    for text in texts:
        assert APIKEY not in text
    for record in caplog.records:
        if record.name.startswith("engine"):
            assert APIKEY not in record.getMessage(), record.getMessage()
        # third-party lines (httpx quotes request URLs) go out through the redaction filter
        assert APIKEY not in redact(record.getMessage())


# ------------------------------------------------------------------ searching


async def test_a_jackett_feed_is_searched_into_the_index_and_its_poll_state_kept(
    jackett: Indexer, open_core: CoreFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    core = open_core()
    await core.services.feeds.add("jackett", jackett.feed_url)
    found = searcher(core, "jackett", jackett.feed_url)
    seen: list[int] = []

    report = await found.crawl(
        "search",
        query="  Better   Call Saul ",
        category="5000, 5040",
        progress=lambda r: seen.append(r.new),
    )

    assert jackett.queries == [
        {"apikey": [APIKEY], "t": ["search"], "q": ["Better Call Saul"], "cat": ["5000,5040"]}
    ]
    assert (report.site, report.mode, report.pages, report.rows) == ("feed:jackett", "search", 1, 5)
    assert (report.new, report.updated, report.bad_rows, report.errors) == (5, 0, 0, 0)
    assert seen == [5]
    assert sighted(core, "feed:jackett") == 5
    core.services.status.drain_index()
    hits = core.services.search.search_sync(parse_search_params({"q": "Better Call Saul"})).hits
    assert [hit.info_hash for hit in hits] == ["63e07ff523710ca268567dad344ce1e0e6b7e8a3"]

    again = await found.crawl("search", query="Better Call Saul")  # the feed's own cat
    assert jackett.queries[-1]["cat"] == ["5000"]
    assert (again.new, again.updated) == (0, 5)

    [feed] = await core.services.feeds.list()  # a search is not a poll
    assert (feed.last_seen_guid, feed.last_polled_at) == (None, None)
    row = await core.crawling.feeds._store.get("jackett")
    assert row is not None
    assert (row.etag, row.last_modified) == (None, None)
    assert_no_key(caplog)


async def test_a_prowlarr_feed_of_torrent_links_has_them_downloaded_and_hashed(
    open_core: CoreFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """MoreThanTV gives no usable hash (Prowlarr's saved answer has it removed): only .torrents."""
    caplog.set_level(logging.DEBUG)
    prowlarr = await Indexer(PROWLARR.read_bytes(), PROWLARR_PATH).start()
    try:
        prowlarr.link_torrents()
        core = open_core()
        url = f"{prowlarr.base}{PROWLARR_PATH}?apikey={APIKEY}&t=search"
        report = await searcher(core, "prowlarr", url).crawl("search", query="Out of the Past")
        assert prowlarr.queries == [{"apikey": [APIKEY], "t": ["search"], "q": ["Out of the Past"]}]
        assert sorted(prowlarr.torrents) == ["0", "1"]
        assert (report.rows, report.new, report.errors) == (2, 2, 0)
        core.services.status.drain_index()
        hits = core.services.search.search_sync(parse_search_params({"q": "Out of the Past"})).hits
        assert len(hits) == 2
        for hit in hits:
            torrent = await core.services.search.torrent(hit.info_hash)
            assert torrent.has_metainfo
            assert torrent.files
        assert_no_key(caplog)
    finally:
        await prowlarr.close()


async def test_magnets_are_stored_at_once_and_torrent_links_fetched_politely(
    open_core: CoreFactory,
) -> None:
    """Bitmagnet's example: 2 magnets, 5 .torrent links (the 5th answers 404)."""
    bitmagnet = await Indexer(BITMAGNET.read_bytes(), "/torznab/api").start()
    try:
        bitmagnet.link_torrents()
        core = open_core()
        fake = FakeTime()
        limiter = HostRateLimiter(clock=fake.clock, sleep=fake.sleep)
        url = f"{bitmagnet.base}/torznab/api?t=search"
        progress: list[tuple[int, int]] = []
        report = await searcher(core, "bitmagnet", url, limiter).crawl(
            "search", query="TENOKE", progress=lambda r: progress.append((r.new, r.errors))
        )
        assert bitmagnet.queries == [{"t": ["search"], "q": ["TENOKE"]}]
        assert progress == [(2, 0), (6, 1)]  # the magnets first, then the .torrents
        assert (report.rows, report.new, report.errors) == (7, 6, 1)
        assert report.error_messages == ["1 items whose .torrent could not be had"]
        assert sorted(bitmagnet.torrents) == ["0", "1", "2", "3", "4"]
        # one host: the answer and its five .torrents, each after the politeness interval
        assert fake.now >= 5 * MIN_FEED_INTERVAL_S
        assert sighted(core, "feed:bitmagnet") == 6
    finally:
        await bitmagnet.close()


async def test_a_poll_after_a_search_still_ingests_every_item(
    jackett: Indexer, open_core: CoreFactory
) -> None:
    core = open_core()
    await core.services.feeds.add("jackett", jackett.feed_url)
    await searcher(core, "jackett", jackett.feed_url).crawl("search", query="Wild")
    polled = await poller(core, "jackett").poll()
    assert (polled.items, polled.new_items) == (5, 5)  # the search moved nothing
    assert jackett.queries[-1] == {"apikey": [APIKEY], "t": ["search"], "cat": ["5000"]}
    [feed] = await core.services.feeds.list()
    assert feed.last_seen_guid == "https://hdaccess.net/details.php?id=11515"


# ------------------------------------------------------------------ what is refused


@pytest.mark.parametrize(
    ("mode", "query", "category", "error"),
    [
        ("latest", "x", None, "no 'latest' mode \\(it has: search\\)"),
        ("search", None, None, "needs a query"),
        ("search", "   ", None, "needs a query"),
        ("search", "x" * (MAX_QUERY_CHARS + 1), None, "at most 200"),
        ("search", "evil\x00query", None, "one line"),
        ("search", "evil\x1b[2Jquery", None, "one line"),
        ("search", "x", "5000,tv", "category 'tv'"),
        ("search", "x", "-5000", "category '-5000'"),
        ("search", "x", ",".join(["5000"] * 51), "at most 50"),
    ],
)
async def test_bad_requests_are_refused_before_any_request(
    jackett: Indexer,
    open_core: CoreFactory,
    mode: str,
    query: str | None,
    category: str | None,
    error: str,
) -> None:
    core = open_core()
    with pytest.raises(CrawlRequestError, match=error):
        await searcher(core, "jackett", jackett.feed_url).crawl(
            mode, query=query, category=category
        )
    assert jackett.queries == []


async def test_a_query_on_several_lines_goes_out_as_one(
    jackett: Indexer, open_core: CoreFactory
) -> None:
    core = open_core()
    await searcher(core, "jackett", jackett.feed_url).crawl(
        "search", query="Wild\r\nX-Injected: 1\n2014"
    )
    assert jackett.queries[-1]["q"] == ["Wild X-Injected: 1 2014"]


async def test_a_plain_rss_feed_cannot_search(jackett: Indexer, open_core: CoreFactory) -> None:
    core = open_core()
    rss = f"{jackett.base}/rss.php?passkey={APIKEY}"
    with pytest.raises(CrawlRequestError, match="feed:plain cannot search: it is a plain RSS"):
        await searcher(core, "plain", rss).crawl("search", query="Wild")
    assert jackett.queries == []


# ------------------------------------------------------------------ failures


ERROR_DOCUMENT = UNAUTHORIZED.read_bytes()


@pytest.mark.parametrize(
    ("status", "body", "content_type", "error", "message"),
    [
        (401, ERROR_DOCUMENT, "application/xml", RequestFailed, "HTTP 401 from 127.0.0.1: .*"
         "error 100: Incorrect user credentials"),
        (200, ERROR_DOCUMENT, "application/xml", RequestFailed, "127.0.0.1: the indexer answered"
         " with an error \\(error 100: Incorrect user credentials\\)"),
        (500, b"Internal Server Error", "text/plain", RequestFailed, "HTTP 500 from 127.0.0.1$"),
        (502, b"<html><body>Bad gateway</body></html>", "text/html", RequestFailed, "HTTP 502"),
        (200, b"<!DOCTYPE html><html><head><title>Jackett</title></head><body>login</body></html>",
         "text/html", LayoutChanged, "an HTML page, not a feed"),
        (200, b'{"error": "not here"}', "application/json", LayoutChanged, "JSON, not a feed"),
    ],
)  # fmt: skip
async def test_an_indexer_failure_is_raised_with_its_reason_and_no_key(
    jackett: Indexer,
    open_core: CoreFactory,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: bytes,
    content_type: str,
    error: type[MinatoError],
    message: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    jackett.status, jackett.body, jackett.content_type = status, body, content_type
    core = open_core()
    with pytest.raises(error, match=message) as raised:
        await searcher(core, "jackett", jackett.feed_url).crawl("search", query="Wild")
    assert str(raised.value).startswith(("feed:jackett: ", "layout changed on feed:jackett"))
    assert len(jackett.queries) == 1
    assert sighted(core, "feed:jackett") == 0
    assert_no_key(caplog, str(raised.value), raised.value.user_message)


async def test_an_answer_past_the_size_limit_is_refused(
    jackett: Indexer,
    open_core: CoreFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr("engine.sources.feed_search.MAX_FEED_BYTES", 4096)  # the answer: 8 KiB
    core = open_core()
    with pytest.raises(
        ResponseTooLarge, match=r"127\.0\.0\.1: the answer passed the 4096"
    ) as raised:
        await searcher(core, "jackett", jackett.feed_url).crawl("search", query="Wild")
    assert sighted(core, "feed:jackett") == 0
    assert_no_key(caplog, str(raised.value))


async def test_an_indexer_that_is_down_fails_naming_its_host(
    open_core: CoreFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    core = open_core()
    url = f"http://127.0.0.1:{free_port()}{PROWLARR_PATH}?apikey={APIKEY}&t=search"
    with pytest.raises(RequestFailed, match=r"feed:dead: 127\.0\.0\.1: ") as raised:
        await searcher(core, "dead", url).crawl("search", query="Wild")
    assert_no_key(caplog, str(raised.value))
