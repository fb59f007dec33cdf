"""Re-classification of stored torrents: fields replaced where changed, index updates queued."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update

from engine.models import ClassifiedRecord, ContentKind, FileEntry, TorrentRecord
from engine.reclassify import reclassify_all
from engine.store.reads import summaries
from engine.store.schema import index_outbox, torrents
from engine.store.writer import Writer

MATRIX = "c9e15763f722f23e98a29decdfae341b98d53056"
OFFICE = "3f1a59cb2a1cd7e1a0bd7d2ce0f9a0e5f2b7a4c1"
ALBUM = "8a19577fb5f690970ca43a57ff1011ae202244b8"


def store_unclassified(writer: Writer) -> None:
    now = datetime.now(UTC)
    rows = [
        TorrentRecord(
            info_hash=MATRIX,
            title="The.Matrix.1999.1080p.BluRay.x264-FGT",
            source="1337x",
            seen_at=now,
        ),
        TorrentRecord(
            info_hash=OFFICE,
            title="The.Office.US.S05E14.720p.WEB-DL.DD5.1.H.264-NTb",
            source="eztv",
            seen_at=now,
        ),
        TorrentRecord(
            info_hash=ALBUM,
            title="Radiohead - OK Computer",
            source="tpb",
            seen_at=now,
            category="Music",
            files=(FileEntry(path="01 Airbag.flac", size=40_000_000),),
        ),
    ]
    writer.upsert([ClassifiedRecord(record=r, classification=None) for r in rows]).result(30)


def outbox_rows(database) -> int:
    with database.reader.connect() as conn:
        return conn.execute(select(func.count()).select_from(index_outbox)).scalar_one()


def test_reclassify_fills_and_then_finds_nothing_to_change(database, writer):
    store_unclassified(writer)
    before = outbox_rows(database)
    seen: list[tuple[int, int]] = []
    examined, changed = reclassify_all(
        database.reader, writer, None, lambda d, t: seen.append((d, t))
    )
    assert (examined, changed) == (3, 3)
    assert seen[0] == (0, 3)
    assert seen[-1] == (3, 3)
    assert outbox_rows(database) == before + 3
    with database.reader.connect() as conn:
        found = summaries(conn, [MATRIX, OFFICE, ALBUM])
    assert (found[MATRIX].kind, found[MATRIX].category, found[MATRIX].year) == (
        ContentKind.MOVIE,
        2040,
        1999,
    )
    assert (found[OFFICE].kind, found[OFFICE].season, found[OFFICE].episode) == (
        ContentKind.TV,
        5,
        14,
    )
    # the sighting's own category ("Music") and the .flac file decide the album
    assert found[ALBUM].kind == ContentKind.MUSIC
    assert found[ALBUM].category == 3040

    assert reclassify_all(database.reader, writer, None) == (3, 0)
    assert outbox_rows(database) == before + 3  # nothing changed, nothing queued


def test_reclassify_replaces_a_stale_classification(database, writer):
    store_unclassified(writer)
    reclassify_all(database.reader, writer, None)
    with database.writer.begin() as conn:
        conn.execute(
            update(torrents)
            .where(torrents.c.info_hash == MATRIX)
            .values(kind="other", category=8000)
        )
    assert reclassify_all(database.reader, writer, None) == (3, 1)
    with database.reader.connect() as conn:
        assert summaries(conn, [MATRIX])[MATRIX].category == 2040
