"""The enrichment worker over a real store (SQLite and PostgreSQL), with scripted services.

The services here are small scripted enrichers (the HTTP clients have their own
tests against a local server, and `test_enrichment_e2e.py` runs the whole chain);
what is checked is the worker's promise: queued torrents get their ids, the same
title is asked once, a rate-limited, offline or unconfigured service waits while
the others go on, and nothing can stall the queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.enrich.base import LookupRequest, Match
from engine.enrich.worker import EnrichmentWorker, lookup_request
from engine.errors import RateLimited, ServiceNotConfigured, ServiceUnavailable, UnexpectedResponse
from engine.models import Classification, ClassifiedRecord, ContentKind, TorrentRecord
from engine.store.database import Database
from engine.store.enrichment import QueuedLookup, enrich_backlog
from engine.store.schema import enrich_cache, index_outbox, torrents
from engine.store.writer import Writer
from tests.engine.enrich.conftest import FakeClock

Answer = Callable[[LookupRequest], Match | None]


@dataclass
class Scripted:
    """An enricher whose answers (or errors) the test decides; it records every request."""

    service: str
    kinds: frozenset[ContentKind]
    answer: Answer
    asked: list[LookupRequest] = field(default_factory=list)

    def lookup(self, request: LookupRequest) -> Match | None:
        self.asked.append(request)
        return self.answer(request)


def matrix_answer(request: LookupRequest) -> Match | None:
    if "matrix" not in request.title.casefold():
        return None
    return Match(
        service="tmdb",
        confidence=0.97,
        title="The Matrix",
        year=1999,
        imdb_id="tt0133093",
        tmdb_id=603,
    )


def anime_answer(request: LookupRequest) -> Match | None:
    return Match(service="anilist", confidence=0.93, title=request.title, anilist_id=21, mal_id=21)


MOVIE = Classification(kind=ContentKind.MOVIE, category=2040, reason="test")
ANIME = Classification(kind=ContentKind.ANIME, category=5070, reason="test")
MUSIC = Classification(kind=ContentKind.MUSIC, category=3040, reason="test")


def add(writer: Writer, info_hash: str, title: str, cls: Classification, **extra: object) -> None:
    record = TorrentRecord(
        info_hash=info_hash,
        title=title,
        source="test",
        seen_at=datetime.now(UTC),
        **extra,  # type: ignore[arg-type]
    )
    writer.upsert([ClassifiedRecord(record=record, classification=cls)]).result(timeout=30)


def hexhash(n: int) -> str:
    return f"{n:040x}"


def row(database: Database, info_hash: str) -> object:
    with database.reader.connect() as conn:
        return conn.execute(select(torrents).where(torrents.c.info_hash == info_hash)).one()


def backlog(database: Database) -> int:
    with database.reader.connect() as conn:
        return enrich_backlog(conn)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tmdb() -> Scripted:
    return Scripted("tmdb", frozenset({ContentKind.MOVIE, ContentKind.TV}), matrix_answer)


@pytest.fixture
def anilist() -> Scripted:
    return Scripted("anilist", frozenset({ContentKind.ANIME}), anime_answer)


def make_worker(
    database: Database, writer: Writer, clock: FakeClock, *enrichers: Scripted, batch: int = 20
) -> EnrichmentWorker:
    return EnrichmentWorker(database.reader, writer, list(enrichers), batch=batch, clock=clock)


def test_a_queued_movie_gets_its_ids_and_reaches_the_index(
    database: Database, writer: Writer, clock: FakeClock, tmdb: Scripted
) -> None:
    add(writer, hexhash(1), "The.Matrix.1999.1080p.BluRay.x264-FGT", MOVIE)
    worker = make_worker(database, writer, clock, tmdb)
    with database.reader.connect() as conn:
        outbox_before = conn.execute(select(func.count()).select_from(index_outbox)).scalar_one()
    assert worker.step() == 1
    got = row(database, hexhash(1))
    assert (got.imdb_id, got.tmdb_id, got.enriched_by) == ("tt0133093", 603, "tmdb 603 (0.97)")
    assert [r.title for r in tmdb.asked] == ["The Matrix"]
    assert tmdb.asked[0].year == 1999
    assert backlog(database) == 0
    with database.reader.connect() as conn:
        outbox = conn.execute(select(func.count()).select_from(index_outbox)).scalar_one()
    assert outbox == outbox_before + 1
    assert worker.step() == 0  # nothing left


def test_one_title_is_asked_once_then_served_from_the_cache(
    database: Database, writer: Writer, clock: FakeClock, tmdb: Scripted
) -> None:
    add(writer, hexhash(1), "The.Matrix.1999.1080p.BluRay.x264-FGT", MOVIE)
    add(writer, hexhash(2), "The Matrix (1999) [2160p] [YTS.MX]", MOVIE)
    add(writer, hexhash(3), "No.Such.Film.2003.720p.WEB-DL.x264-NOPE", MOVIE)
    worker = make_worker(database, writer, clock, tmdb)
    assert worker.step() == 3
    assert sorted(r.title for r in tmdb.asked) == ["No Such Film", "The Matrix"]
    assert worker.lookups == 2
    # Later arrivals with known titles, found or not, send nothing.
    add(writer, hexhash(4), "The.Matrix.1999.720p.HDTV.x264-OLD", MOVIE)
    add(writer, hexhash(5), "No.Such.Film.2003.1080p.BluRay.x264-AGAIN", MOVIE)
    assert worker.step() == 2
    assert worker.lookups == 2
    assert row(database, hexhash(4)).tmdb_id == 603
    assert row(database, hexhash(5)).tmdb_id is None
    with database.reader.connect() as conn:
        cached = dict(conn.execute(select(enrich_cache.c.lookup_key, enrich_cache.c.match)).all())
    assert len(cached) == 2
    assert None in cached.values()  # "nothing confident" is remembered too


def test_a_source_imdb_id_is_kept_and_sent(
    database: Database, writer: Writer, clock: FakeClock, tmdb: Scripted
) -> None:
    add(writer, hexhash(1), "The.Matrix.1999.1080p.BluRay.x264-FGT", MOVIE, imdb_id="tt0133093")
    make_worker(database, writer, clock, tmdb).step()
    assert tmdb.asked[0].imdb_id == "tt0133093"
    assert row(database, hexhash(1)).tmdb_id == 603


def test_a_rate_limited_service_waits_while_others_go_on(
    database: Database, writer: Writer, clock: FakeClock, tmdb: Scripted, anilist: Scripted
) -> None:
    calls = {"n": 0}

    def limited_then_fine(request: LookupRequest) -> Match | None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RateLimited("tmdb", retry_after=40.0)
        return matrix_answer(request)

    tmdb.answer = limited_then_fine
    add(writer, hexhash(1), "The.Matrix.1999.1080p.BluRay.x264-FGT", MOVIE)
    add(writer, hexhash(2), "[SubsPlease] Cowboy Bebop - 01 (1080p) [ABCD1234].mkv", ANIME)
    worker = make_worker(database, writer, clock, tmdb, anilist)
    assert worker.step() == 1  # the anime; the movie stays queued
    assert backlog(database) == 1
    states = {s.service: s for s in worker.status()}
    assert states["tmdb"].state == "paused"
    assert "rate limited" in states["tmdb"].detail
    assert states["anilist"].state == "ok"
    assert worker.step() == 0  # still paused: not even asked
    assert calls["n"] == 1
    clock.now += 41
    assert worker.step() == 1
    assert row(database, hexhash(1)).tmdb_id == 603
    assert row(database, hexhash(2)).anilist_id == 21


def test_offline_backs_off_doubling_and_recovers(
    database: Database, writer: Writer, clock: FakeClock, tmdb: Scripted
) -> None:
    online = {"up": False}

    def maybe(request: LookupRequest) -> Match | None:
        if not online["up"]:
            raise ServiceUnavailable("tmdb", "connection refused")
        return matrix_answer(request)

    tmdb.answer = maybe
    add(writer, hexhash(1), "The.Matrix.1999.1080p.BluRay.x264-FGT", MOVIE)
    worker = make_worker(database, writer, clock, tmdb)
    pauses = []
    for _ in range(3):
        start = clock.now
        assert worker.step() == 0
        detail = worker.status()[0].detail
        assert "connection refused" in detail
        pauses.append(float(detail.rsplit("retry in ", 1)[1].split()[0]))
        clock.now = start + pauses[-1] + 1
    assert pauses == [30.0, 60.0, 120.0]
    assert backlog(database) == 1  # nothing lost while offline
    online["up"] = True
    assert worker.step() == 1
    assert worker.status()[0].state == "ok"


def test_a_missing_key_turns_the_service_off_for_good(
    database: Database, writer: Writer, clock: FakeClock, tmdb: Scripted
) -> None:
    def rejected(request: LookupRequest) -> Match | None:
        raise ServiceNotConfigured("tmdb", "the API key was rejected (HTTP 401)")

    tmdb.answer = rejected
    add(writer, hexhash(1), "The.Matrix.1999.1080p.BluRay.x264-FGT", MOVIE)
    worker = make_worker(database, writer, clock, tmdb)
    assert worker.step() == 0
    clock.now += 10_000
    assert worker.step() == 0
    assert len(tmdb.asked) == 1
    assert worker.status()[0].state == "off"
    assert backlog(database) == 1


def test_a_lookup_that_cannot_work_leaves_the_queue_uncached(
    database: Database, writer: Writer, clock: FakeClock, tmdb: Scripted
) -> None:
    def odd(request: LookupRequest) -> Match | None:
        if "bug" in request.title.casefold():
            raise KeyError("results")
        if "shape" in request.title.casefold():
            raise UnexpectedResponse("tmdb", "answer of an unexpected shape at results")
        return matrix_answer(request)

    tmdb.answer = odd
    add(writer, hexhash(1), "Bug.Film.2001.1080p.BluRay.x264-GRP", MOVIE)
    add(writer, hexhash(2), "Shape.Film.2002.1080p.BluRay.x264-GRP", MOVIE)
    add(writer, hexhash(3), "The.Matrix.1999.1080p.BluRay.x264-FGT", MOVIE)
    worker = make_worker(database, writer, clock, tmdb)
    assert worker.step() == 3
    assert backlog(database) == 0
    assert row(database, hexhash(3)).tmdb_id == 603
    with database.reader.connect() as conn:
        assert conn.execute(select(func.count()).select_from(enrich_cache)).scalar_one() == 1


def test_kinds_without_a_running_service_stay_queued(
    database: Database, writer: Writer, clock: FakeClock, anilist: Scripted
) -> None:
    add(writer, hexhash(1), "The.Matrix.1999.1080p.BluRay.x264-FGT", MOVIE)  # no TMDb key
    worker = make_worker(database, writer, clock, anilist)
    assert worker.step() == 0
    assert backlog(database) == 1


def test_batches_are_bounded(
    database: Database, writer: Writer, clock: FakeClock, tmdb: Scripted
) -> None:
    for n in range(7):
        add(writer, hexhash(n + 1), f"Film.Number.{chr(65 + n)}.2001.1080p.BluRay.x264-G", MOVIE)
    worker = make_worker(database, writer, clock, tmdb, batch=3)
    assert [worker.step() for _ in range(4)] == [3, 3, 1, 0]


def test_hostile_titles_never_stop_the_worker(
    database: Database, writer: Writer, clock: FakeClock, tmdb: Scripted
) -> None:
    hostile = ["x" * 4000, "\x01\x02\x7f", "....", '"; DROP TABLE torrents; --', "🎬" * 300]
    for n, title in enumerate(hostile):
        add(writer, hexhash(n + 1), title, MOVIE)
    worker = make_worker(database, writer, clock, tmdb)
    while worker.step():
        pass
    assert backlog(database) == 0
    with database.reader.connect() as conn:
        keys = conn.execute(select(enrich_cache.c.lookup_key)).scalars().all()
    assert all(len(key) <= 512 for key in keys)


def queued_row(title: str, kind: str, year: int | None = None) -> QueuedLookup:
    return QueuedLookup(hexhash(1), title, kind, year, None)


def test_lookup_requests_come_from_the_parsed_title() -> None:
    movie = lookup_request(queued_row("The.Matrix.1999.1080p.BluRay.x264-FGT", "movie", 1999))
    assert movie is not None
    assert (movie.kind, movie.title, movie.year) == (ContentKind.MOVIE, "The Matrix", 1999)
    album = lookup_request(
        queued_row("Pink Floyd - The Dark Side of the Moon (1973) [FLAC]", "music")
    )
    assert album is not None
    assert (album.artist, album.album) == ("Pink Floyd", "The Dark Side of the Moon")
    assert lookup_request(queued_row("untitled", "music")) is None  # no artist - album
    assert lookup_request(queued_row("   ", "movie")) is None
