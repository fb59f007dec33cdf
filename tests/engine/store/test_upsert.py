"""The upsert by info hash, through the single Writer, on SQLite and PostgreSQL.

What the design promises: a new hash creates a torrent; a known hash refreshes
its swarm figures, fills what was missing and never overwrites what was known;
each (source, torrent) keeps one sighting; files and the .torrent are stored
once; every changed torrent gets an outbox row in the same transaction; and the
per-minute ingest counts say how many torrents each source created or updated.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from engine.errors import StoreError
from engine.models import Classification, ClassifiedRecord, ContentKind, FileEntry, TorrentRecord
from engine.store.database import Database
from engine.store.reads import torrent_detail
from engine.store.schema import (
    files,
    index_outbox,
    ingest_counts,
    metainfo,
    sightings,
    torrents,
)
from engine.store.upsert import MAX_TRACKERS, upsert_records
from engine.store.writer import Writer

MATRIX = "c9e15763f722f23e98a29decdfae341b98d53056"
DUNE = "8a19577fb5f690970ca43a57ff1011ae202244b8"
SLACKWARE = "6f8cd699135b491513e65d967a052a7087750d9c"

MATRIX_TITLE = "The.Matrix.1999.1080p.BluRay.x264-FGT"
DUNE_TITLE = "Dune.Part.Two.2024.2160p.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX"
SLACKWARE_TITLE = "slackware-14.1-iso"


def rec(
    info_hash: str = MATRIX,
    title: str = MATRIX_TITLE,
    source: str = "1337x",
    classification: Classification | None = None,
    **fields: Any,
) -> ClassifiedRecord:
    fields.setdefault("seen_at", datetime.now(UTC))
    return ClassifiedRecord(
        record=TorrentRecord(info_hash=info_hash, title=title, source=source, **fields),
        classification=classification,
    )


MOVIE = Classification(
    kind=ContentKind.MOVIE,
    category=2040,
    reason="test: movie rules",
    year=1999,
    resolution="1080p",
    video_codec="x264",
    media_source="BluRay",
    release_group="FGT",
    languages=("en", "fr"),
)


def store(writer: Writer, *items: ClassifiedRecord) -> list[bool]:
    return writer.upsert(items).result(timeout=30)


def rows(database: Database, table: Any, *order: Any) -> list[Any]:
    with database.reader.connect() as conn:
        return list(conn.execute(select(table).order_by(*order)))


def torrent(database: Database, info_hash: str = MATRIX) -> Any:
    with database.reader.connect() as conn:
        return conn.execute(select(torrents).where(torrents.c.info_hash == info_hash)).one()


def count(database: Database, table: Any) -> int:
    with database.reader.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def ingest_totals(database: Database) -> dict[str, tuple[int, int]]:
    """(created, updated) per source, summed over minutes (a test may straddle one)."""
    totals: dict[str, tuple[int, int]] = {}
    for row in rows(database, ingest_counts, ingest_counts.c.minute):
        created, updated = totals.get(row.source, (0, 0))
        totals[row.source] = (created + row.created, updated + row.updated)
    return totals


# --- creating ------------------------------------------------------------------------------------


def test_a_new_hash_creates_a_torrent_with_every_field(database: Database, writer: Writer) -> None:
    published = datetime(1999, 11, 2, 20, 15, tzinfo=timezone(timedelta(hours=-5)))
    before = datetime.now(UTC)
    created = store(
        writer,
        rec(
            classification=MOVIE,
            size=8_539_292_672,
            seeders=1520,
            leechers=87,
            source_url="https://1337x.to/torrent/12345/the-matrix/",
            published_at=published,
            description="Remastered",
            imdb_id="tt0133093",
            tmdb_id=603,
            trackers=("udp://tracker.opentrackr.org:1337/announce", "udp://open.demonii.com:1337"),
        ),
    )
    after = datetime.now(UTC)
    assert created == [True]
    row = torrent(database)
    assert row.title == MATRIX_TITLE
    assert (row.size, row.seeders, row.leechers, row.file_count) == (8_539_292_672, 1520, 87, 0)
    assert (row.kind, row.category, row.classified_by) == ("movie", 2040, "test: movie rules")
    assert (row.year, row.resolution, row.video_codec, row.media_source) == (
        1999,
        "1080p",
        "x264",
        "BluRay",
    )
    assert (row.release_group, row.languages) == ("FGT", "en,fr")
    assert (row.imdb_id, row.tmdb_id, row.tvdb_id) == ("tt0133093", 603, None)
    assert row.trackers == "udp://tracker.opentrackr.org:1337/announce\nudp://open.demonii.com:1337"
    assert row.description == "Remastered"
    assert row.published_at == published
    for stamp in (row.published_at, row.first_seen, row.last_seen):
        assert stamp.tzinfo is UTC
    assert before <= row.first_seen == row.last_seen <= after


def test_size_defaults_to_the_sum_of_the_files(database: Database, writer: Writer) -> None:
    store(
        writer,
        rec(
            SLACKWARE,
            SLACKWARE_TITLE,
            files=(
                FileEntry(path="slackware-14.1-install-dvd.iso", size=2_400_000_000),
                FileEntry(path="README.txt", size=1_200),
            ),
        ),
    )
    row = torrent(database, SLACKWARE)
    assert (row.size, row.file_count) == (2_400_001_200, 2)
    stored = rows(database, files, files.c.id)
    assert [(f.info_hash, f.path, f.size) for f in stored] == [
        (SLACKWARE, "slackware-14.1-install-dvd.iso", 2_400_000_000),
        (SLACKWARE, "README.txt", 1_200),
    ]


# --- merging ---------------------------------------------------------------------------------


def test_a_known_hash_refreshes_swarm_and_fills_but_never_overwrites(
    database: Database, writer: Writer
) -> None:
    store(
        writer,
        rec(seeders=1520, leechers=87, size=8_539_292_672, imdb_id="tt0133093", description=None),
    )
    first = torrent(database)
    time.sleep(0.01)
    created = store(
        writer,
        rec(
            title="The Matrix (1999) 1080p BrRip x264 - YIFY",  # a later site names it differently
            source="thepiratebay",
            seeders=1700,
            leechers=None,  # unknown here: keep the figure we have
            size=1,  # wrong size: never overwrites
            imdb_id="tt9999999",  # never overwrites
            tmdb_id=603,  # fills
            description="Wake up, Neo.",  # fills
            classification=MOVIE,  # fills every classification column
        ),
    )
    assert created == [False]
    row = torrent(database)
    assert row.title == MATRIX_TITLE
    assert (row.seeders, row.leechers) == (1700, 87)
    assert (row.size, row.imdb_id, row.tmdb_id) == (8_539_292_672, "tt0133093", 603)
    assert row.description == "Wake up, Neo."
    assert (row.kind, row.category, row.year) == ("movie", 2040, 1999)
    assert row.first_seen == first.first_seen
    assert row.last_seen > first.last_seen
    assert count(database, torrents) == 1


def test_trackers_of_every_source_are_merged(database: Database, writer: Writer) -> None:
    """A magnet from one site and a feed from another: the served magnet carries both."""
    store(writer, rec(trackers=("udp://a.example/announce", "udp://b.example/announce")))
    store(writer, rec(source="dht"))  # no trackers: keeps what is known
    store(
        writer,
        rec(source="tpb", trackers=("udp://b.example/announce", "udp://c.example/announce")),
        rec(source="rss", trackers=("udp://d.example/announce",)),  # same batch
    )
    assert torrent(database).trackers.split("\n") == [
        "udp://a.example/announce",
        "udp://b.example/announce",
        "udp://c.example/announce",
        "udp://d.example/announce",
    ]


def test_merged_trackers_are_bounded(database: Database, writer: Writer) -> None:
    for batch in range(3):
        many = tuple(f"udp://t{batch}-{n}.example/announce" for n in range(50))
        store(writer, rec(source=f"site{batch}", trackers=many))
    kept = torrent(database).trackers.split("\n")
    assert len(kept) == MAX_TRACKERS
    assert kept[0] == "udp://t0-0.example/announce"  # first reported stay


def test_a_known_classification_is_not_replaced(database: Database, writer: Writer) -> None:
    store(writer, rec(classification=MOVIE))
    other = Classification(kind=ContentKind.TV, category=5040, reason="test: tv", season=1)
    store(writer, rec(classification=other))
    row = torrent(database)
    assert (row.kind, row.category, row.classified_by) == ("movie", 2040, "test: movie rules")


def test_one_sighting_per_source_refreshed_on_resighting(
    database: Database, writer: Writer
) -> None:
    t0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    store(writer, rec(source="1337x", seeders=10, leechers=2, source_url=None, seen_at=t0))
    store(
        writer,
        rec(
            source="thepiratebay",
            seeders=30,
            source_url="https://thepiratebay.org/description.php?id=1",
            seen_at=t0 + timedelta(minutes=1),
        ),
    )
    first = {s.source: s for s in rows(database, sightings, sightings.c.source)}
    store(
        writer,
        rec(
            source="1337x",
            seeders=12,
            leechers=None,
            source_url="https://1337x.to/torrent/1/the-matrix/",
            seen_at=t0 + timedelta(hours=1),
        ),
    )
    found = rows(database, sightings, sightings.c.source)
    assert [(s.source, s.info_hash) for s in found] == [
        ("1337x", MATRIX),
        ("thepiratebay", MATRIX),
    ]
    again = {s.source: s for s in found}
    assert (again["1337x"].seeders, again["1337x"].leechers) == (12, 2)
    assert again["1337x"].source_url == "https://1337x.to/torrent/1/the-matrix/"
    assert again["1337x"].seen_at == t0 + timedelta(hours=1)
    assert again["1337x"].seen_at.tzinfo is UTC
    assert again["1337x"].first_seen == first["1337x"].first_seen
    assert again["thepiratebay"] == first["thepiratebay"]
    with database.reader.connect() as conn:
        detail = torrent_detail(conn, MATRIX)
    assert detail is not None
    assert detail.summary.sources == ("1337x", "thepiratebay")


def test_files_are_stored_once(database: Database, writer: Writer) -> None:
    listing = (
        FileEntry(path="slackware-14.1-iso/slackware-14.1-install-dvd.iso", size=2_400_000_000),
        FileEntry(path="slackware-14.1-iso/slackware-14.1-install-dvd.iso.md5", size=80),
    )
    store(writer, rec(SLACKWARE, SLACKWARE_TITLE, files=listing))
    store(writer, rec(SLACKWARE, SLACKWARE_TITLE, source="dht", files=listing))
    store(writer, rec(SLACKWARE, SLACKWARE_TITLE, source="dht", files=listing[:1]))
    assert count(database, files) == 2
    assert torrent(database, SLACKWARE).file_count == 2


def test_files_fill_in_when_a_later_sighting_brings_them(
    database: Database, writer: Writer
) -> None:
    store(writer, rec(SLACKWARE, SLACKWARE_TITLE, source="eztv"))  # a site row: no file list
    assert torrent(database, SLACKWARE).file_count == 0
    assert torrent(database, SLACKWARE).size is None
    listing = (
        FileEntry(path="slackware-14.1-install-dvd.iso", size=2_400_000_000),
        FileEntry(path="CHECKSUMS.md5", size=2_048),
    )
    assert store(writer, rec(SLACKWARE, SLACKWARE_TITLE, source="dht", files=listing)) == [False]
    row = torrent(database, SLACKWARE)
    assert (row.file_count, row.size) == (2, 2_400_002_048)
    assert [(f.path, f.size) for f in rows(database, files, files.c.id)] == [
        ("slackware-14.1-install-dvd.iso", 2_400_000_000),
        ("CHECKSUMS.md5", 2_048),
    ]


def test_metainfo_is_kept_first_come(database: Database, writer: Writer) -> None:
    store(writer, rec(source="1337x"))  # no .torrent yet
    store(writer, rec(source="upload", metainfo=b"d8:announce3:one4:infod4:name1:aee"))
    store(writer, rec(source="upload", metainfo=b"d8:announce3:two4:infod4:name1:aee"))
    kept = rows(database, metainfo)
    assert [(m.info_hash, bytes(m.data)) for m in kept] == [
        (MATRIX, b"d8:announce3:one4:infod4:name1:aee")
    ]


# --- outbox and counts ---------------------------------------------------------------------------


def test_every_changed_torrent_gets_an_outbox_row(database: Database, writer: Writer) -> None:
    before = datetime.now(UTC)
    store(writer, rec(MATRIX), rec(DUNE, DUNE_TITLE), rec(MATRIX, source="yts"))
    outbox = rows(database, index_outbox, index_outbox.c.id)
    assert sorted(r.info_hash for r in outbox) == sorted([MATRIX, DUNE])  # one per torrent
    assert all(r.queued_at >= before and r.queued_at.tzinfo is UTC for r in outbox)
    store(writer, rec(DUNE, DUNE_TITLE, seeders=5))
    assert [r.info_hash for r in rows(database, index_outbox, index_outbox.c.id)][-1] == DUNE
    assert count(database, index_outbox) == 3


def test_a_failed_upsert_leaves_nothing_half_written(database: Database, writer: Writer) -> None:
    """A file without a size breaks the upsert after the torrent row: all of it rolls back."""
    broken = rec(
        DUNE,
        DUNE_TITLE,
        size=1,
        files=(FileEntry(path="Dune.Part.Two.mkv", size=None),),  # type: ignore[arg-type]
        metainfo=b"d4:infod4:name1:aee",
    )
    with pytest.raises(StoreError, match="database write failed"):
        store(writer, broken)
    for table in (torrents, files, sightings, metainfo, index_outbox, ingest_counts):
        assert count(database, table) == 0, table.name


def test_outbox_is_in_the_same_transaction(database: Database, writer: Writer) -> None:
    """A transaction that fails after the upsert rolls the outbox row back with the torrent."""

    def upsert_then_fail(conn: Connection) -> None:
        upsert_records(conn, [rec()], datetime.now(UTC))
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError, match="crash before commit"):
        writer.call(upsert_then_fail).result(timeout=30)
    assert count(database, torrents) == 0
    assert count(database, index_outbox) == 0


def test_ingest_counts_per_source_and_minute(database: Database, writer: Writer) -> None:
    store(writer, rec(MATRIX, source="1337x"), rec(DUNE, DUNE_TITLE, source="1337x"))
    store(writer, rec(MATRIX, source="yts"), rec(SLACKWARE, SLACKWARE_TITLE, source="yts"))
    store(writer, rec(DUNE, DUNE_TITLE, source="1337x"))
    assert ingest_totals(database) == {"1337x": (2, 1), "yts": (1, 1)}
    for row in rows(database, ingest_counts):
        assert row.minute.tzinfo is UTC
        assert (row.minute.second, row.minute.microsecond) == (0, 0)
        assert abs(datetime.now(UTC) - row.minute) < timedelta(minutes=2)


def test_same_hash_twice_in_one_batch(database: Database, writer: Writer) -> None:
    created = store(
        writer,
        rec(MATRIX, source="1337x", seeders=100, size=None, imdb_id=None),
        rec(
            MATRIX,
            title="The Matrix 1999 REMASTERED",
            source="1337x",
            seeders=140,
            size=8_539_292_672,
            imdb_id="tt0133093",
            files=(FileEntry(path="The.Matrix.1999.1080p.mkv", size=8_539_292_672),),
        ),
    )
    assert created == [True, False]
    assert count(database, torrents) == 1
    row = torrent(database)
    assert row.title == MATRIX_TITLE  # the first sighting named it
    assert (row.seeders, row.size, row.imdb_id, row.file_count) == (
        140,
        8_539_292_672,
        "tt0133093",
        1,
    )
    assert count(database, sightings) == 1
    assert count(database, index_outbox) == 1
    assert ingest_totals(database) == {"1337x": (1, 1)}


def test_many_records_in_one_batch(database: Database, writer: Writer) -> None:
    """More hashes than one IN (...) chunk, on the existence check and the merge."""
    hashes = [f"{n:040x}" for n in range(1, 1201)]
    items = [rec(h, f"Ubuntu.Daily.Build.{n:04d}", source="dht") for n, h in enumerate(hashes)]
    assert store(writer, *items) == [True] * 1200
    assert store(writer, *items[:700]) == [False] * 700
    assert count(database, torrents) == 1200
    assert ingest_totals(database) == {"dht": (1200, 700)}


def test_empty_upsert_does_nothing(database: Database, writer: Writer) -> None:
    assert store(writer) == []
    assert count(database, index_outbox) == 0
    assert count(database, ingest_counts) == 0
