"""The Bitmagnet bridge end to end: a real engine pulling a fake Bitmagnet over HTTP on 127.0.0.1.

The fake (fake_bitmagnet.py) validates and executes every request with graphql-core
against Bitmagnet's real schema, over 320 torrents in its shapes. Each test opens
an engine on a temp database whose only site is the fake, runs the bridge's
crawler (as `minato crawl bitmagnet` will) and checks the database, the search
service, the requests sent and the saved state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web
from sqlalchemy import func, select

from engine.core import Core
from engine.errors import ConfigError, LayoutChanged, NetworkError, RequestFailed
from engine.models import ContentKind, FileEntry
from engine.scheduler import CrawlContext
from engine.sources.bitmagnet import bitmagnet_source
from engine.sources.bitmagnet_map import FILES_PER_REQUEST, MAX_FILES_PER_TORRENT, SEARCH_DOCUMENT
from engine.sources.report import CrawlRequestError
from engine.store.schema import sightings, torrents
from tests.conftest import SettingsFactory
from tests.crawl_support import only_sites
from tests.engine.sources.api.local_api import hits
from tests.engine.sources.bitmagnet.conftest import Engines, crawler_of
from tests.engine.sources.bitmagnet.fake_bitmagnet import (
    BASE_TIME,
    BIG_FILES,
    PLAYGROUND,
    VERSION,
    FakeBitmagnet,
    Seen,
    filler,
    info_hash,
    iso,
)

TOTAL = 320
NEWEST = BASE_TIME - timedelta(hours=1)
"""When the corpus's newest torrent (Dune) was published."""
DUNE, EXPANSE, RADIOHEAD, UBUNTU, BIG, MYSTERY = (info_hash(900_001 + n) for n in range(6))
PASS_ORDER = [
    {"field": "published_at", "descending": True},
    {"field": "info_hash", "descending": True},
]


def stored(core: Core) -> list[str]:
    """Every info hash in the database."""
    with core.database.reader.connect() as conn:
        return list(conn.execute(select(torrents.c.info_hash)).scalars())


def bitmagnet_sightings(core: Core) -> int:
    with core.database.reader.connect() as conn:
        query = select(func.count()).select_from(sightings).where(sightings.c.source == "bitmagnet")
        return int(conn.execute(query).scalar_one())


async def saved_state(core: Core) -> dict[str, Any] | None:
    assert core.crawling is not None
    assert core.crawling.deps.state is not None
    return await core.crawling.deps.state.load("bitmagnet")


def offsets(server: FakeBitmagnet, since: int = 0) -> list[int]:
    return [search["offset"] for search in server.searches()[since:]]


async def first_pass(server: FakeBitmagnet, engines: Engines, **site: Any) -> Core:
    core = engines.start(server.url, depth=10, **site)
    report = await crawler_of(core).crawl("latest")
    assert (report.new, report.stopped) == (TOTAL, "last page")
    return core


# ------------------------------------------------------------------ a first import


async def test_a_first_pass_reads_every_page_and_stores_every_torrent(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    core = engines.start(bitmagnet.url, depth=10)
    report = await crawler_of(core).crawl("latest")

    assert offsets(bitmagnet) == [0, 100, 200, 300]
    assert all(s["limit"] == 100 and s["orderBy"] == PASS_ORDER for s in bitmagnet.searches())
    assert "queryString" not in bitmagnet.searches()[0]
    assert (report.pages, report.rows, report.bad_rows, report.errors) == (4, TOTAL, 0, 0)
    assert (report.new, report.updated, report.stopped) == (TOTAL, 0, "last page")
    assert sorted(stored(core)) == sorted(bitmagnet.corpus.torrents)
    assert bitmagnet_sightings(core) == TOTAL
    assert await saved_state(core) == {
        "version": 1,
        "watermark": {"published_at": NEWEST.isoformat(), "hashes": [DUNE]},
        "pass": None,
    }


async def test_records_carry_bitmagnets_metadata_and_minatos_classification(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    core = await first_pass(bitmagnet, engines)
    search = core.services.search

    dune = (await search.torrent(DUNE)).summary
    assert (dune.title, dune.size, dune.seeders, dune.leechers) == (
        "Dune Part Two 2024 1080p WEB-DL x265-MINATO",
        8_123_456_789,
        1209,
        269,
    )
    assert (dune.kind, dune.category, dune.year) == (ContentKind.MOVIE, 2040, 2024)
    assert (dune.imdb_id, dune.tmdb_id, dune.published_at) == ("tt15239678", 693134, NEWEST)
    assert dune.sources == ("bitmagnet",)

    expanse = await search.torrent(EXPANSE)
    summary = expanse.summary
    assert (summary.kind, summary.category, summary.season, summary.episode) == (
        ContentKind.TV,
        5040,
        3,
        5,
    )
    assert (summary.tmdb_id, summary.tvdb_id, summary.imdb_id) == (63639, 280619, None)
    assert expanse.files == (
        FileEntry(path="The.Expanse.S03E05.1080p.WEB-DL.x264-MINATO.mkv", size=1_500_000_000),
        FileEntry(path="The.Expanse.S03E05.1080p.WEB-DL.x264-MINATO.nfo", size=3_000),
    )

    album = await search.torrent(RADIOHEAD)
    assert (album.summary.kind, album.summary.category) == (ContentKind.MUSIC, 3040)  # FLAC
    assert [f.path for f in album.files] == [
        f"Radiohead - OK Computer (1997)/{t:02d}.flac" for t in range(1, 13)
    ]

    ubuntu = await search.torrent(UBUNTU)
    assert (ubuntu.summary.kind, ubuntu.summary.size) == (ContentKind.SOFTWARE, 6_114_656_256)
    assert ubuntu.files == (FileEntry(path="Ubuntu 24.04 LTS Desktop amd64", size=6_114_656_256),)

    big = await search.torrent(BIG)
    assert big.summary.size == sum(1_000 + i for i in range(BIG_FILES))  # the whole torrent
    assert len(big.files) == big.summary.file_count == MAX_FILES_PER_TORRENT  # the first, by index
    assert (big.files[0].path, big.files[-1].path) == (
        "linux/src/dir000/file00000.c",
        "linux/src/dir099/file09999.c",
    )

    mystery = await search.torrent(MYSTERY)
    assert (mystery.files, mystery.summary.seeders) == ((), 10)


async def test_what_the_bridge_stored_is_searchable(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    core = await first_pass(bitmagnet, engines)
    assert [h.info_hash for h in hits(core, q="dune part two")] == [DUNE]
    assert [h.info_hash for h in hits(core, tmdb_id="693134")] == [DUNE]
    assert [h.info_hash for h in hits(core, q="expanse", cat="5000")] == [EXPANSE]
    assert [h.info_hash for h in hits(core, q="ok computer", kind="music")] == [RADIOHEAD]
    movies = hits(core, kind="movie", limit="100")
    assert len(movies) == 1 + sum(1 for n in range(314) if n % 8 in (0, 1))  # Dune + fillers
    assert {h.sources for h in movies} == {("bitmagnet",)}


async def test_files_are_asked_for_in_bounded_batches(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    await first_pass(bitmagnet, engines)
    requests = bitmagnet.file_requests()
    assert all(r["limit"] == FILES_PER_REQUEST and len(r["infoHashes"]) <= 100 for r in requests)
    big = [r for r in requests if BIG in r["infoHashes"]]
    assert [(r["infoHashes"], r["offset"]) for r in big] == [
        ([BIG], offset) for offset in range(0, MAX_FILES_PER_TORRENT, FILES_PER_REQUEST)
    ]
    single_or_none = {DUNE, UBUNTU, MYSTERY}
    asked = {h for r in requests for h in r["infoHashes"]}
    assert not asked & single_or_none  # single-file and no-info torrents need no request
    assert {EXPANSE, RADIOHEAD} <= asked


# ------------------------------------------------------------------ the watermark


async def test_a_second_pass_reads_only_what_is_newer_than_the_watermark(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    core = await first_pass(bitmagnet, engines)
    crawler = crawler_of(core)
    newer = bitmagnet.corpus.add_newer(30)
    tie = filler(7_000, NEWEST)  # published in the watermark's very second, after the pass
    bitmagnet.corpus.put(tie)
    before = len(bitmagnet.searches())

    report = await crawler.crawl("latest")
    assert offsets(bitmagnet, before) == [0]
    assert (report.new, report.updated, report.stopped) == (31, 0, "reached the watermark")
    assert sorted(stored(core)) == sorted(bitmagnet.corpus.torrents)
    state = await saved_state(core)
    assert state is not None
    assert state["watermark"]["published_at"] == (BASE_TIME + timedelta(seconds=30)).isoformat()
    assert state["watermark"]["hashes"] == [newer[-1]]

    again = await crawler.crawl("latest")  # nothing new: one page, nothing stored again
    assert (again.pages, again.new, again.updated, again.stopped) == (
        1,
        0,
        0,
        "reached the watermark",
    )


# ------------------------------------------------------------------ resumption


async def test_an_interrupted_first_import_resumes_after_a_restart(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    first = engines.start(bitmagnet.url, depth=2)
    report = await crawler_of(first).crawl("latest")
    assert (report.pages, report.new, report.stopped) == (2, 200, None)  # the depth, not the end
    state = await saved_state(first)
    assert state is not None
    assert (state["watermark"], state["pass"]["offset"]) == (None, 200)
    await engines.stop(first)

    newer = bitmagnet.corpus.add_newer(10)  # published while Minato was down
    restarted = engines.start(bitmagnet.url, depth=10)
    before = len(bitmagnet.searches())
    report = await crawler_of(restarted).crawl("latest")
    # one item of overlap; the 10 newer ones pushed the rest down, so 11 are read again
    assert offsets(bitmagnet, before) == [199, 299]
    assert (report.new, report.updated, report.stopped) == (TOTAL - 200, 11, "last page")
    assert sorted(stored(restarted)) == sorted(set(bitmagnet.corpus.torrents) - set(newer))
    assert bitmagnet_sightings(restarted) == TOTAL  # no duplicates

    report = await crawler_of(restarted).crawl("latest")  # the next pass: what came meanwhile
    assert (report.new, report.stopped) == (10, "reached the watermark")
    assert sorted(stored(restarted)) == sorted(bitmagnet.corpus.torrents)


async def test_a_pass_that_failed_midway_goes_on_from_the_last_stored_page(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    core = engines.start(bitmagnet.url, depth=10)

    def fail_page_three(seen: Seen) -> web.Response | None:
        if seen.operation == "MinatoTorrentContent" and seen.input["offset"] == 200:
            return web.Response(status=500, text="boom", headers={"Retry-After": "0"})
        return None

    bitmagnet.override = fail_page_three
    with pytest.raises(NetworkError, match="HTTP 500"):
        await crawler_of(core).crawl("latest")
    assert len(stored(core)) == 200
    state = await saved_state(core)
    assert state is not None
    assert (state["watermark"], state["pass"]["offset"]) == (None, 200)

    bitmagnet.override = None
    before = len(bitmagnet.searches())
    report = await crawler_of(core).crawl("latest")
    assert offsets(bitmagnet, before) == [199, 299]
    assert (report.new, report.updated) == (TOTAL - 200, 1)
    assert sorted(stored(core)) == sorted(bitmagnet.corpus.torrents)


async def test_a_resumed_pass_steps_back_when_bitmagnet_deleted_torrents_above_it(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    core = engines.start(bitmagnet.url, depth=2)
    await crawler_of(core).crawl("latest")
    read = bitmagnet.corpus.ordered()[:200]
    bitmagnet.corpus.delete([t.info_hash for t in read[:15]])  # the unread ones move up 15
    before = len(bitmagnet.searches())

    report = await crawler_of(core).crawl("latest", depth=10)
    # at 199 sits an item after the last one read: back a page, then on from there
    assert offsets(bitmagnet, before) == [199, 99, 199, 299]
    assert report.stopped == "last page"
    assert set(bitmagnet.corpus.torrents) <= set(stored(core))  # nothing missed


# ------------------------------------------------------------------ failures


def graphql_errors(_seen: Seen) -> web.Response:
    body = {
        "errors": [
            {
                "message": "pq: the database system is starting up",
                "path": ["torrentContent", "search"],
            }
        ],
        "data": None,
    }
    return web.json_response(body)


def status_500(_seen: Seen) -> web.Response:
    return web.Response(status=500, text="Internal Server Error", headers={"Retry-After": "0"})


def not_json(_seen: Seen) -> web.Response:
    return web.Response(text="<html><body>502 Bad Gateway</body></html>", content_type="text/html")


def wrong_shape(_seen: Seen) -> web.Response:
    return web.json_response({"data": {"torrentContent": {"search": {"items": "none"}}}})


def deeply_nested(_seen: Seen) -> web.Response:
    return web.Response(text="[" * 200_000 + "]" * 200_000, content_type="application/json")


def oversized(_seen: Seen) -> web.Response:
    padding = "x" * (9 * 1024 * 1024)
    return web.json_response({"data": {"torrentContent": {"search": {"items": [], "p": padding}}}})


def not_bitmagnet(_seen: Seen) -> web.Response:
    return web.Response(status=404, text="404 page not found")


FAILURES = {
    "graphql-errors": (graphql_errors, RequestFailed, "database system is starting up"),
    "http-500": (status_500, NetworkError, "HTTP 500 after 4 attempts"),
    "not-json": (not_json, LayoutChanged, "not JSON"),
    "wrong-shape": (wrong_shape, LayoutChanged, "items is not a list"),
    "deeply-nested": (deeply_nested, LayoutChanged, "not JSON"),
    "oversized": (oversized, NetworkError, "over the 8388608-byte limit"),
    "not-bitmagnet": (not_bitmagnet, RequestFailed, "is this Bitmagnet's address"),
}


@pytest.mark.parametrize("name", list(FAILURES))
async def test_a_failing_answer_loses_nothing_and_keeps_the_watermark(
    bitmagnet: FakeBitmagnet, engines: Engines, name: str
) -> None:
    answer, error, message = FAILURES[name]
    core = await first_pass(bitmagnet, engines)
    state = await saved_state(core)
    bitmagnet.corpus.add_newer(20)
    bitmagnet.override = answer

    with pytest.raises(error, match=message) as raised:
        await crawler_of(core).crawl("latest")
    assert "bitmagnet" in str(raised.value)
    assert len(stored(core)) == TOTAL
    assert await saved_state(core) == state

    bitmagnet.override = None  # Bitmagnet is well again: the pass goes on
    report = await crawler_of(core).crawl("latest")
    assert (report.new, len(stored(core))) == (20, TOTAL + 20)


async def test_a_query_bitmagnets_schema_refuses_is_a_layout_change(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    core = engines.start(bitmagnet.url, depth=10)

    def older_schema(seen: Seen) -> web.Response:  # a Bitmagnet without `filesCount`
        wrong = SEARCH_DOCUMENT.replace("filesCount", "filesTotal")
        body, status = bitmagnet.execute(wrong, {"input": seen.input}, seen.operation)
        return web.json_response(body, status=status)

    bitmagnet.override = older_schema
    with pytest.raises(LayoutChanged, match=r"Bitmagnet refused the query: .*filesTotal"):
        await crawler_of(core).crawl("latest")
    assert stored(core) == []
    assert await saved_state(core) is None


async def test_a_dead_bitmagnet_is_a_network_error_and_loses_nothing(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    core = await first_pass(bitmagnet, engines)
    state = await saved_state(core)
    await bitmagnet.close()
    with pytest.raises(NetworkError, match="bitmagnet"):
        await crawler_of(core).crawl("latest")
    assert len(stored(core)) == TOTAL
    assert await saved_state(core) == state


async def test_bad_items_are_skipped_and_counted(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    core = engines.start(bitmagnet.url, depth=10)
    breakages: list[Callable[[dict[str, Any]], object]] = [
        lambda i: i.update(infoHash="zz" * 20),
        lambda i: i.update(infoHash="0123"),
        lambda i: i.update(torrent=None),
        lambda i: i["torrent"].update(size="huge"),
        lambda i: i.update(publishedAt="not a time"),
        lambda i: i.update(seeders=-1),
        lambda i: i.pop("infoHash"),
    ]
    broken: list[str] = []

    def corrupt(seen: Seen, answer: dict[str, Any]) -> None:
        if seen.operation == "MinatoTorrentContent" and seen.input["offset"] == 0:
            items = answer["data"]["torrentContent"]["search"]["items"]
            for item, breakage in zip(items[10:], breakages, strict=False):
                broken.append(item["infoHash"])
                breakage(item)

    bitmagnet.corrupt = corrupt
    report = await crawler_of(core).crawl("latest")
    assert (report.bad_rows, report.new, report.stopped) == (7, TOTAL - 7, "last page")
    assert set(stored(core)) == set(bitmagnet.corpus.torrents) - set(broken)


async def test_a_page_of_mostly_bad_items_is_a_layout_change(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    core = engines.start(bitmagnet.url, depth=10)

    def corrupt(_seen: Seen, answer: dict[str, Any]) -> None:
        for item in answer["data"]["torrentContent"]["search"]["items"][:60]:
            item["publishedAt"] = 12345

    bitmagnet.corrupt = corrupt
    with pytest.raises(LayoutChanged, match="60 of 100 items did not parse"):
        await crawler_of(core).crawl("latest")
    assert stored(core) == []


# ------------------------------------------------------------------ search, job, config


async def test_a_search_sends_its_query_and_keeps_the_pass_as_it_was(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    core = engines.start(bitmagnet.url)
    report = await crawler_of(core).crawl("search", query="  Expanse   S03E05 ")
    (search,) = bitmagnet.searches()
    assert search["queryString"] == "Expanse S03E05"
    assert "orderBy" not in search  # Bitmagnet's relevance
    assert (report.new, report.stopped) == (1, "last page")
    assert stored(core) == [EXPANSE]
    assert await saved_state(core) is None

    again = await crawler_of(core).crawl("search", query="expanse")
    assert (again.new, again.updated) == (0, 1)
    assert len(bitmagnet.file_requests()) == 1  # its files are known: not asked for again


@pytest.mark.parametrize(
    ("mode", "kwargs", "message"),
    [
        ("browse", {}, "bitmagnet has no browse mode"),
        ("latest", {"category": "movies"}, "categories cannot be browsed"),
        ("search", {}, "a search needs a query"),
    ],
)
async def test_what_the_bridge_cannot_do_is_a_crawl_request_error(
    bitmagnet: FakeBitmagnet, engines: Engines, mode: str, kwargs: dict[str, Any], message: str
) -> None:
    core = engines.start(bitmagnet.url)
    with pytest.raises(CrawlRequestError, match=message):
        await crawler_of(core).crawl(mode, **kwargs)
    assert bitmagnet.seen == []


async def test_the_scheduled_job_runs_a_pass_with_heartbeats(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    core = engines.start(bitmagnet.url, depth=10)
    assert core.crawling is not None
    job = bitmagnet_source(core.crawling.sites["bitmagnet"], core.crawling.deps)
    beats: list[tuple[int, int]] = []
    result = await job(CrawlContext("bitmagnet", "run-1", lambda *beat: beats.append(beat)))
    assert (result.items_seen, result.items_new) == (TOTAL, TOTAL)
    assert beats == [(100, 100), (200, 200), (300, 300), (TOTAL, TOTAL)]
    assert sorted(stored(core)) == sorted(bitmagnet.corpus.torrents)


async def test_the_health_path_answers_while_bitmagnet_is_up(
    bitmagnet: FakeBitmagnet, engines: Engines
) -> None:
    core = engines.start(bitmagnet.url)
    assert core.crawling is not None
    path = core.crawling.sites["bitmagnet"].health_path
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{bitmagnet.url}{path}")
        assert (response.status_code, response.text) == (200, PLAYGROUND)
        version = await client.post(f"{bitmagnet.url}/graphql", json={"query": "{ version }"})
    assert version.json() == {"data": {"version": VERSION}}


def test_the_fake_sends_times_as_gqlgen_does() -> None:
    assert iso(BASE_TIME) == "2025-06-01T12:00:00.000000000Z"


async def test_a_disabled_bridge_says_how_to_turn_it_on(
    make_settings: SettingsFactory, database_url: str
) -> None:
    core = Core.open(make_settings(database_url, **only_sites({})))
    try:
        assert core.crawling is not None
        with pytest.raises(ConfigError, match=r"sites\.bitmagnet: the bridge is disabled"):
            core.crawling.crawler("bitmagnet")
        with pytest.raises(ConfigError, match="disabled"):
            await core.services.crawlers.crawl_site("bitmagnet")
    finally:
        await core.aclose()
