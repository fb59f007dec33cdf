"""The store side of enrichment, on SQLite and PostgreSQL: queue, cache, found ids.

What users depend on: every newly classified movie, show, anime or album gets
looked up once (and a database from before enrichment is looked up too); ids a
source supplied are never replaced by a lookup's; found ids reach the search index;
an answered lookup is remembered.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, insert, select

from engine.models import Classification, ContentKind
from engine.store.database import MIGRATIONS_DIR, Database, migrate_to_head
from engine.store.enrichment import (
    CacheEntry,
    FoundIds,
    apply_lookups,
    cached_matches,
    enrich_backlog,
    queued_lookups,
)
from engine.store.schema import enrich_cache, enrich_queue, index_outbox, torrents
from engine.store.upsert import replace_classifications
from engine.store.writer import Writer
from tests.engine.store.test_upsert import (
    DUNE,
    MATRIX,
    MOVIE,
    SLACKWARE,
    rec,
    rows,
    store,
    torrent,
)

SOFTWARE = Classification(kind=ContentKind.SOFTWARE, category=4000, reason="test: iso")
TV = Classification(kind=ContentKind.TV, category=5040, reason="test: episode")


def queued(database: Database, *kinds: str, limit: int = 100) -> list[str]:
    with database.reader.connect() as conn:
        return [row.info_hash for row in queued_lookups(conn, kinds or ("movie", "tv"), limit)]


def test_new_torrents_of_looked_up_kinds_are_queued(database: Database, writer: Writer) -> None:
    store(
        writer,
        rec(MATRIX, classification=MOVIE),
        rec(SLACKWARE, "slackware-14.1-iso", classification=SOFTWARE),
        rec(DUNE, "Dune.Part.Two.2024.2160p.WEB-DL"),  # unclassified: nothing to ask yet
    )
    assert queued(database, "movie", "software", "other") == [MATRIX]
    store(writer, rec(MATRIX, classification=MOVIE, seeders=5))  # seen again: not queued twice
    with database.reader.connect() as conn:
        assert enrich_backlog(conn) == 1


def test_queue_is_oldest_first_and_filtered_by_kind(database: Database, writer: Writer) -> None:
    store(writer, rec(MATRIX, classification=MOVIE))
    store(writer, rec(DUNE, "Show.S01E01.720p.HDTV.x264-GRP", classification=TV))
    assert queued(database, "movie", "tv") == [MATRIX, DUNE]
    assert queued(database, "tv") == [DUNE]  # TMDb paused: only what the others can do
    assert queued(database, "movie", "tv", limit=1) == [MATRIX]
    assert queued(database, "anime") == []
    with database.reader.connect() as conn:
        assert queued_lookups(conn, (), 10) == []
        row = queued_lookups(conn, ("movie",), 10)[0]
    assert (row.title, row.kind, row.year) == (
        "The.Matrix.1999.1080p.BluRay.x264-FGT",
        "movie",
        1999,
    )


def test_reclassified_torrents_are_queued(database: Database, writer: Writer) -> None:
    store(writer, rec(DUNE, "Dune.Part.Two.2024.2160p.WEB-DL"))
    assert queued(database, "movie") == []
    changed = writer.call(lambda conn: replace_classifications(conn, [(DUNE, MOVIE)])).result()
    assert changed == 1
    assert queued(database, "movie") == [DUNE]


def test_found_ids_fill_gaps_and_reach_the_index(database: Database, writer: Writer) -> None:
    store(writer, rec(MATRIX, classification=MOVIE, imdb_id="tt0133093"))
    store(writer, rec(DUNE, "Show.S01E01.720p.HDTV.x264-GRP", classification=TV))
    with database.reader.connect() as conn:
        outbox_before = len(list(conn.execute(select(index_outbox))))
    found = [
        FoundIds(
            info_hash=MATRIX,
            enriched_by="tmdb 603 (0.97)",
            imdb_id="tt9999999",  # a source's id wins over a lookup's
            tmdb_id=603,
        ),
        FoundIds(info_hash=DUNE, enriched_by="tmdb 1399 (0.91)", tvdb_id=121361, tmdb_id=1399),
    ]
    written = writer.call(
        lambda conn: apply_lookups(
            conn, found=found, cache=[], done=[MATRIX, DUNE], now=datetime.now(UTC)
        )
    ).result()
    assert written == 2
    matrix = torrent(database, MATRIX)
    assert (matrix.imdb_id, matrix.tmdb_id, matrix.enriched_by) == (
        "tt0133093",
        603,
        "tmdb 603 (0.97)",
    )
    dune = torrent(database, DUNE)
    assert (dune.tvdb_id, dune.tmdb_id, dune.imdb_id) == (121361, 1399, None)
    assert queued(database) == []
    outbox = rows(database, index_outbox, index_outbox.c.id)
    assert [row.info_hash for row in outbox[outbox_before:]] == [MATRIX, DUNE]


def test_cache_remembers_answers_and_nothing(database: Database, writer: Writer) -> None:
    now = datetime.now(UTC)
    entries = [
        CacheEntry("tmdb", "movie|the matrix|1999", '{"tmdb_id": 603}'),
        CacheEntry("tmdb", "movie|no such film|", None),
    ]
    writer.call(
        lambda conn: apply_lookups(conn, found=[], cache=entries, done=[], now=now)
    ).result()
    later = [CacheEntry("tmdb", "movie|the matrix|1999", '{"tmdb_id": 604}')]
    writer.call(
        lambda conn: apply_lookups(
            conn, found=[], cache=later, done=[], now=now + timedelta(days=1)
        )
    ).result()
    with database.reader.connect() as conn:
        got = cached_matches(
            conn, "tmdb", ["movie|the matrix|1999", "movie|no such film|", "movie|unknown|"]
        )
        assert cached_matches(conn, "anilist", ["movie|the matrix|1999"]) == {}
    assert got == {"movie|the matrix|1999": '{"tmdb_id": 604}', "movie|no such film|": None}
    assert len(rows(database, enrich_cache, enrich_cache.c.lookup_key)) == 2


def test_deleting_a_torrent_drops_it_from_the_queue(database: Database, writer: Writer) -> None:
    store(writer, rec(MATRIX, classification=MOVIE))
    with database.writer.begin() as conn:
        conn.execute(torrents.delete().where(torrents.c.info_hash == MATRIX))
    assert rows(database, enrich_queue, enrich_queue.c.info_hash) == []


def test_upgrading_an_older_database_queues_its_torrents(database_url: str) -> None:
    """A database made before enrichment existed gets its movies and shows looked up too."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
        with engine.begin() as conn:
            for info_hash, kind in ((MATRIX, "movie"), (DUNE, "tv"), (SLACKWARE, "software")):
                # Only columns revision 0002 had: the insert names nothing else.
                conn.execute(
                    insert(torrents).values(
                        info_hash=info_hash,
                        title=info_hash,
                        file_count=0,
                        kind=kind,
                        first_seen=now,
                        last_seen=now,
                    )
                )
        migrate_to_head(engine)
        with engine.connect() as conn:
            hashes = set(conn.execute(select(enrich_queue.c.info_hash)).scalars())
        assert hashes == {MATRIX, DUNE}
    finally:
        engine.dispose()
