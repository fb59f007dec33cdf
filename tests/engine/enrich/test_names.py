"""TitleNames: Torznab ids to a name, from the index, else TMDb (a local server), cached.

Over a real store (SQLite, and PostgreSQL when configured). TMDb answers
(tests/fixtures/enrichment, MANIFEST.tsv): find/tt0936501 (Taken) and movie/603
(The Matrix) are recorded; find/81189 by TVDB id and tv/1396 with external_ids
(Breaking Bad) were written for these tests in the shape of TMDb v3 answers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from engine.config import EnrichSettings
from engine.enrich.http import make_client
from engine.enrich.names import KnownTitle, TitleNames, build_title_names, normalize_imdb
from engine.enrich.ratelimit import RateLimiter
from engine.enrich.tmdb import TmdbEnricher
from engine.models import ContentKind
from engine.store.database import Database
from engine.store.schema import enrich_cache, torrents
from engine.store.writer import Writer
from tests.engine.enrich.conftest import FakeClock, FakeService, Reply, Seen, fixture_bytes

KEY = "k3y-0f-the-names-5ecret"
TV = ContentKind.TV
MOVIE = ContentKind.MOVIE
BASE_TIME = datetime(2024, 5, 1, tzinfo=UTC)
NOT_FOUND = {"success": False, "status_code": 34, "status_message": "Not found."}
EMPTY_FIND = {
    "movie_results": [],
    "person_results": [],
    "tv_results": [],
    "tv_episode_results": [],
    "tv_season_results": [],
}
_hashes = count(1)


def keyed(body: Any) -> Any:
    """Answers `body` to requests carrying our key, else TMDb's 401."""

    def respond(seen: Seen) -> Reply:
        if seen.param("api_key") != KEY:
            return Reply(401, {"status_code": 7, "status_message": "Invalid API key"})
        return body if isinstance(body, Reply) else Reply(200, body)

    return respond


def tmdb_routes(service: FakeService) -> None:
    """What TMDb knows in these tests: Breaking Bad (tv 1396), The Matrix (603), Taken."""
    routes = {
        "/3/find/81189": fixture_bytes("tmdb_v3_find_81189_tvdb.json"),
        "/3/find/tt0936501": fixture_bytes("tmdb_v3_find_tt0936501_imdb.json"),
        "/3/tv/1396": fixture_bytes("tmdb_v3_tv_1396_external_ids.json"),
        "/3/movie/603": fixture_bytes("tmdb_v3_movie_603.json"),
    }
    for path, body in routes.items():
        service.route("GET", path, keyed(Reply(body=body)))
    for path in ("/3/tv/999999", "/3/movie/999999"):
        service.route("GET", path, keyed(Reply(404, NOT_FOUND)))
    service.route("GET", "/3/find/99999", keyed(EMPTY_FIND))


def tmdb_at(base_url: str, client: httpx.Client) -> TmdbEnricher:
    limiter_clock = FakeClock()  # its own: limiter sleeps must not move the pause clock
    limiter = RateLimiter(10.0, clock=limiter_clock, sleep=limiter_clock.sleep)
    return TmdbEnricher(KEY, client=client, base_url=f"{base_url}/3", limiter=limiter)


@pytest.fixture
def names(
    database: Database, writer: Writer, service: FakeService, client: httpx.Client, clock: FakeClock
) -> TitleNames:
    """A TMDb-backed resolver on the local server, with TMDb's answers routed."""
    tmdb_routes(service)
    return TitleNames(database.reader, writer, tmdb_at(service.base_url, client), clock=clock)


def add(
    writer: Writer,
    title: str,
    *,
    kind: str | None = "tv",
    minutes: int = 0,
    year: int | None = None,
    **ids: object,
) -> None:
    """One torrent in the index, first seen `minutes` after BASE_TIME."""
    seen = BASE_TIME + timedelta(minutes=minutes)
    values = {
        "info_hash": f"{next(_hashes):040x}",
        "title": title,
        "kind": kind,
        "year": year,
        "first_seen": seen,
        "last_seen": seen,
        **ids,
    }
    writer.call(lambda conn: conn.execute(torrents.insert().values(**values))).result(timeout=30)


def cache_rows(database: Database) -> dict[str, str | None]:
    with database.reader.connect() as conn:
        rows = conn.execute(select(enrich_cache.c.lookup_key, enrich_cache.c.match))
        return dict(rows.all())


def age_cache(writer: Writer, key: str, days: float) -> None:
    """Make a cache row `days` old."""
    when = datetime.now(UTC) - timedelta(days=days)
    stmt = update(enrich_cache).where(enrich_cache.c.lookup_key == key).values(fetched_at=when)
    writer.call(lambda conn: conn.execute(stmt)).result(timeout=30)


# --- the local index ---------------------------------------------------------------------


async def test_a_tvdb_id_in_the_index_is_named_from_release_titles_without_tmdb(
    names: TitleNames, writer: Writer, service: FakeService
) -> None:
    add(writer, "Breaking.Bad.S01E02.720p.HDTV.x264-CTU", tvdb_id=81189, minutes=1)
    add(writer, "Breaking Bad S01E03 1080p WEB-DL DD5.1 H.264-NTb", tvdb_id=81189, minutes=2)
    add(writer, "Breaking.Bad.S05E16.Felina.1080p.BluRay.x264-ROVERS", tvdb_id=81189, minutes=3)
    add(writer, "Better.Call.Saul.S01E01.720p.HDTV.x264-KILLERS", tvdb_id=81189, minutes=4)
    add(writer, "The.Wire.S01E01.720p.HDTV.x264-ABC", tvdb_id=79126, minutes=5)

    found = await names.resolve(kind=TV, tvdb_id=81189)

    assert found == KnownTitle(title="Breaking Bad", year=None, kind=TV, origin="index")
    assert service.seen == []


async def test_a_movie_in_the_index_gets_its_commonest_year(
    names: TitleNames, writer: Writer, service: FakeService
) -> None:
    add(writer, "The.Matrix.1999.1080p.BluRay.x264-FGT", kind="movie", imdb_id="tt0133093")
    add(writer, "The Matrix (1999) 2160p UHD BluRay x265", kind="movie", imdb_id="tt0133093")
    add(writer, "The.Matrix.1998.DVDRip.XviD", kind="movie", imdb_id="tt0133093")  # a typo

    found = await names.resolve(kind=MOVIE, imdb_id="0133093")  # normalized to tt0133093

    assert found == KnownTitle(title="The Matrix", year=1999, kind=MOVIE, origin="index")
    assert service.seen == []


async def test_the_newest_name_wins_a_tie_and_only_the_newest_torrents_count(
    database: Database, writer: Writer
) -> None:
    names = TitleNames(database.reader, writer, None)
    add(writer, "Old.Name.S01E01.720p.HDTV.x264", tvdb_id=1, minutes=1)
    add(writer, "New.Name.S02E01.720p.HDTV.x264", tvdb_id=1, minutes=2)
    tie = await names.resolve(kind=TV, tvdb_id=1)
    for minute in range(1, 31):  # 31 "Old Name" in all, but older than the rest
        add(writer, "Old.Name.S01E02.720p.HDTV.x264", tvdb_id=1, minutes=-minute)
    for minute in range(10, 29):  # 19 newer "New Name": 20 of the newest 20 with the first
        add(writer, "New.Name.S02E02.720p.HDTV.x264", tvdb_id=1, minutes=minute)
    sampled = await names.resolve(kind=TV, tvdb_id=1)

    assert tie is not None
    assert tie.title == "New Name"
    assert sampled is not None
    assert sampled.title == "New Name"  # 20 of the newest 20, though "Old Name" has 31


async def test_a_tmdb_id_counts_only_torrents_of_the_asked_kind(
    names: TitleNames, writer: Writer, service: FakeService
) -> None:
    # TMDb numbers movies and shows separately: movie 1396 is not show 1396.
    add(writer, "Some.Movie.2010.1080p.BluRay.x264", kind="movie", tmdb_id=1396)

    found = await names.resolve(kind=TV, tmdb_id=1396)

    assert found == KnownTitle(title="Breaking Bad", year=2008, kind=TV, origin="tmdb")
    assert service.paths() == ["/3/tv/1396"]
    add(writer, "Breaking.Bad.S02E01.720p.HDTV.x264-CTU", kind="tv", tmdb_id=1396)
    again = await names.resolve(kind=TV, tmdb_id=1396)
    assert again is not None
    assert again.origin == "index"
    movie = await names.resolve(kind=MOVIE, tmdb_id=1396)
    assert movie == KnownTitle(title="Some Movie", year=2010, kind=MOVIE, origin="index")


async def test_an_index_only_resolver_answers_none_for_an_unknown_id(
    database: Database, writer: Writer
) -> None:
    names = TitleNames(database.reader, writer, None)
    add(writer, "Breaking.Bad.S01E02.720p.HDTV.x264-CTU", tvdb_id=81189)

    assert await names.resolve(kind=TV, tvdb_id=12345) is None
    assert await names.resolve(kind=MOVIE, imdb_id="tt0133093") is None
    assert await names.resolve(kind=TV) is None  # no id at all: no name
    names.close()  # nothing to close: no error


# --- TMDb --------------------------------------------------------------------------------


async def test_a_tvdb_id_not_in_the_index_is_found_on_tmdb(
    names: TitleNames, service: FakeService
) -> None:
    found = await names.resolve(kind=TV, tvdb_id=81189)

    assert found == KnownTitle(title="Breaking Bad", year=2008, kind=TV, origin="tmdb")
    (find,) = service.seen
    assert find.path == "/3/find/81189"
    assert find.param("external_source") == "tvdb_id"
    assert find.param("api_key") == KEY


async def test_an_imdb_id_names_a_movie_with_its_year(
    names: TitleNames, service: FakeService
) -> None:
    found = await names.resolve(kind=MOVIE, imdb_id="tt0936501")

    assert found == KnownTitle(title="Taken", year=2008, kind=MOVIE, origin="tmdb")
    (find,) = service.seen
    assert (find.path, find.param("external_source")) == ("/3/find/tt0936501", "imdb_id")


async def test_tmdb_ids_read_the_show_or_movie_details(
    names: TitleNames, service: FakeService
) -> None:
    show = await names.resolve(kind=TV, tmdb_id=1396)
    movie = await names.resolve(kind=MOVIE, tmdb_id=603)

    assert show == KnownTitle(title="Breaking Bad", year=2008, kind=TV, origin="tmdb")
    assert movie == KnownTitle(title="The Matrix", year=1999, kind=MOVIE, origin="tmdb")
    tv, details = service.seen
    assert (tv.path, tv.param("append_to_response")) == ("/3/tv/1396", "external_ids")
    assert details.path == "/3/movie/603"


async def test_the_preferred_id_is_asked_first_and_the_next_only_when_unknown(
    names: TitleNames, service: FakeService
) -> None:
    first = await names.resolve(kind=TV, imdb_id="tt0903747", tmdb_id=1396, tvdb_id=81189)
    assert first is not None
    assert service.paths() == ["/3/find/81189"]  # TV: tvdb first; nothing else asked

    service.seen.clear()
    second = await names.resolve(kind=TV, tvdb_id=99999, tmdb_id=1396)
    assert second is not None
    assert second.title == "Breaking Bad"
    assert service.paths() == ["/3/find/99999", "/3/tv/1396"]


async def test_name_by_id_returns_the_ids_tmdb_gave(
    service: FakeService, client: httpx.Client
) -> None:
    tmdb_routes(service)
    tmdb = tmdb_at(service.base_url, client)

    show = await asyncio.to_thread(tmdb.name_by_id, TV, tmdb_id=1396, imdb_id="tt0903747")
    unknown = await asyncio.to_thread(tmdb.name_by_id, MOVIE, tmdb_id=999999)

    assert show is not None
    assert (show.tmdb_id, show.tvdb_id, show.imdb_id, show.confidence) == (
        1396,
        81189,
        "tt0903747",
        1.0,
    )
    assert unknown is None
    with pytest.raises(ValueError, match="imdb_id"):
        tmdb.name_by_id(MOVIE, imdb_id="tt133093")  # it takes normalized ids only
    with pytest.raises(ValueError, match="needs"):
        tmdb.name_by_id(MOVIE)
    with pytest.raises(ValueError, match="anime"):
        tmdb.name_by_id(ContentKind.ANIME, tmdb_id=1)


# --- the cache ---------------------------------------------------------------------------


async def test_a_name_costs_one_request_ever(
    names: TitleNames, database: Database, writer: Writer, service: FakeService, client: Any
) -> None:
    first = await names.resolve(kind=TV, tvdb_id=81189)
    second = await names.resolve(kind=TV, tvdb_id=81189)
    age_cache(writer, "name|tv|tvdb=81189", days=400)  # kept for good
    fresh = TitleNames(database.reader, writer, tmdb_at(service.base_url, client))
    third = await fresh.resolve(kind=TV, tvdb_id=81189)  # another process, same database

    assert first == second == third
    assert service.paths() == ["/3/find/81189"]
    assert cache_rows(database)["name|tv|tvdb=81189"] is not None


async def test_not_found_is_cached_for_a_day(
    names: TitleNames, database: Database, writer: Writer, service: FakeService
) -> None:
    assert await names.resolve(kind=MOVIE, tmdb_id=999999) is None  # a 404
    assert await names.resolve(kind=MOVIE, tmdb_id=999999) is None
    assert service.paths() == ["/3/movie/999999"]
    assert cache_rows(database) == {"name|movie|tmdb=999999": None}

    age_cache(writer, "name|movie|tmdb=999999", days=1.1)
    assert await names.resolve(kind=MOVIE, tmdb_id=999999) is None
    assert service.paths() == ["/3/movie/999999", "/3/movie/999999"]


async def test_concurrent_searches_for_one_id_share_one_request(
    names: TitleNames, service: FakeService
) -> None:
    answers = await asyncio.gather(*(names.resolve(kind=TV, tvdb_id=81189) for _ in range(5)))

    assert {a.title for a in answers if a is not None} == {"Breaking Bad"}
    assert None not in answers
    assert service.paths() == ["/3/find/81189"]


async def test_a_cached_name_is_served_while_tmdb_is_paused(
    names: TitleNames, service: FakeService
) -> None:
    await names.resolve(kind=TV, tvdb_id=81189)
    service.route("GET", "/3/find/tt0936501", Reply(503, {"status_message": "down"}))
    assert await names.resolve(kind=MOVIE, imdb_id="tt0936501") is None  # pauses TMDb

    cached = await names.resolve(kind=TV, tvdb_id=81189)

    assert cached is not None
    assert cached.origin == "tmdb"
    assert service.paths() == ["/3/find/81189", "/3/find/tt0936501"]


# --- TMDb failing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Reply(404, NOT_FOUND),
        Reply(401, {"status_code": 7, "status_message": "Invalid API key"}),
        Reply(500, {"status_code": 11, "status_message": "Internal error."}),
        Reply(429, {"status_code": 25}, headers={"Retry-After": "7"}),
        Reply(200, b"<html><body>Maintenance</body></html>", {"Content-Type": "text/html"}),
        Reply(200, {"tv_results": "not a list"}),
        Reply(200, [1, 2, 3]),
    ],
    ids=["404", "401", "500", "429", "html", "wrong-shape", "not-an-object"],
)
async def test_a_failing_tmdb_gives_none_and_never_logs_the_key(
    database: Database,
    writer: Writer,
    service: FakeService,
    client: httpx.Client,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    reply: Reply,
) -> None:
    caplog.set_level(logging.DEBUG)
    service.route("GET", "/3/find/81189", reply)
    names = TitleNames(database.reader, writer, tmdb_at(service.base_url, client), clock=clock)

    assert await names.resolve(kind=TV, tvdb_id=81189) is None

    assert service.paths() == ["/3/find/81189"]
    assert KEY not in caplog.text
    if reply.status == 404:  # "TMDb has no such id": an answer, cached
        assert cache_rows(database) == {"name|tv|tvdb=81189": None}
    else:  # a failure: nothing cached, a warning says why
        assert cache_rows(database) == {}
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert any(r.name == "engine.enrich.names" for r in warnings)


async def test_an_unreachable_or_hanging_tmdb_gives_none(
    database: Database,
    writer: Writer,
    service: FakeService,
    closed_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    hang = threading.Event()
    service.route("GET", "/3/find/81189", Reply(hang=hang))
    try:
        with make_client(timeout_s=0.2) as quick:
            refused = TitleNames(
                database.reader, writer, tmdb_at(f"http://127.0.0.1:{closed_port}", quick)
            )
            hanging = TitleNames(database.reader, writer, tmdb_at(service.base_url, quick))
            assert await refused.resolve(kind=TV, tvdb_id=81189) is None
            assert await hanging.resolve(kind=TV, tvdb_id=81189) is None
    finally:
        hang.set()
    assert "timed out" in caplog.text
    assert KEY not in caplog.text
    assert cache_rows(database) == {}


async def test_after_an_outage_tmdb_is_left_alone_for_a_while(
    names: TitleNames, service: FakeService, clock: FakeClock
) -> None:
    service.route("GET", "/3/find/tt0936501", Reply(500, {"status_message": "down"}))
    assert await names.resolve(kind=MOVIE, imdb_id="tt0936501") is None
    assert await names.resolve(kind=TV, tvdb_id=81189) is None  # not asked: paused

    assert service.paths() == ["/3/find/tt0936501"]
    clock.now += 61
    found = await names.resolve(kind=TV, tvdb_id=81189)
    assert found is not None
    assert service.paths() == ["/3/find/tt0936501", "/3/find/81189"]


async def test_a_refused_key_turns_tmdb_off(
    database: Database,
    writer: Writer,
    service: FakeService,
    client: httpx.Client,
    clock: FakeClock,
) -> None:
    tmdb_routes(service)
    tmdb = TmdbEnricher("wrong-key", client=client, base_url=f"{service.base_url}/3")
    names = TitleNames(database.reader, writer, tmdb, clock=clock)

    assert await names.resolve(kind=TV, tvdb_id=81189) is None
    clock.now += 3600
    assert await names.resolve(kind=TV, tvdb_id=81189) is None
    assert service.paths() == ["/3/find/81189"]


# --- building and bad input --------------------------------------------------------------


async def test_build_title_names_uses_tmdb_only_when_configured(
    database: Database, writer: Writer, service: FakeService
) -> None:
    tmdb_routes(service)
    url = f"{service.base_url}/3"
    configured = build_title_names(
        EnrichSettings(tmdb_api_key=KEY, tmdb_url=url), database.reader, writer
    )
    keyless = build_title_names(EnrichSettings(tmdb_url=url), database.reader, writer)
    disabled = build_title_names(
        EnrichSettings(enabled=False, tmdb_api_key=KEY, tmdb_url=url), database.reader, writer
    )
    try:
        assert await keyless.resolve(kind=TV, tvdb_id=81189) is None
        assert await disabled.resolve(kind=TV, tvdb_id=81189) is None
        assert service.seen == []
        found = await configured.resolve(kind=TV, tvdb_id=81189)
        assert found is not None
        assert found.origin == "tmdb"
    finally:
        for built in (configured, keyless, disabled):
            built.close()
    assert service.paths() == ["/3/find/81189"]


@pytest.fixture
def index_only(database: Database, writer: Writer) -> Iterator[TitleNames]:
    names = TitleNames(database.reader, writer, None)
    yield names
    names.close()


@pytest.mark.parametrize(
    "ids",
    [
        {"imdb_id": "nm0000206"},
        {"imdb_id": "tt"},
        {"imdb_id": "tt0000000"},
        {"imdb_id": "tt12345678901"},
        {"imdb_id": "tt0133093; DROP TABLE torrents"},
        {"imdb_id": 133093},
        {"tvdb_id": -1},
        {"tvdb_id": 0},
        {"tvdb_id": 2**31},
        {"tvdb_id": True},
        {"tmdb_id": "603"},
        {"tmdb_id": 60.3},
    ],
)
async def test_bad_ids_are_value_errors(index_only: TitleNames, ids: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        await index_only.resolve(kind=MOVIE, **ids)


async def test_only_tv_and_movies_are_named(index_only: TitleNames) -> None:
    with pytest.raises(ValueError, match="music"):
        await index_only.resolve(kind=ContentKind.MUSIC, imdb_id="tt0133093")


@pytest.mark.parametrize(
    ("given", "stored"),
    [("tt0133093", "tt0133093"), ("TT0133093", "tt0133093"), ("133093", "tt0133093")],
)
def test_imdb_ids_are_normalized(given: str, stored: str) -> None:
    assert normalize_imdb(f" {given} ") == stored
    assert normalize_imdb("tt10872600") == "tt10872600"
