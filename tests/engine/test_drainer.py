"""The outbox drainer and the rebuild, with the real tantivy index, on SQLite and PostgreSQL.

The database is the truth: whatever happens between the index update and the
outbox acknowledgement, the index converges on the database without duplicates.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, delete, func, select

from engine.errors import RebuildCancelled
from engine.models import (
    Classification,
    ClassifiedRecord,
    ContentKind,
    FileEntry,
    IndexDocument,
    SearchQuery,
    SortOrder,
    TorrentRecord,
)
from engine.search.drainer import IndexDrainer
from engine.search.tantivy_index import TantivyIndex
from engine.store.database import Database
from engine.store.schema import index_outbox, torrents
from engine.store.writer import Writer

HEAP = 20_000_000

MATRIX = "c9e15763f722f23e98a29decdfae341b98d53056"
OFFICE = "3f1a59cb2a1cd7e1a0bd7d2ce0f9a0e5f2b7a4c1"
DUNE = "8a19577fb5f690970ca43a57ff1011ae202244b8"
UBUNTU = "14ffe5dd23188fd5cb53a1d47f1289db70abf31e"
SLACKWARE = "6f8cd699135b491513e65d967a052a7087750d9c"

CATALOGUE = {
    MATRIX: "The.Matrix.1999.1080p.BluRay.x264-FGT",
    OFFICE: "The.Office.US.S05E14.720p.WEB-DL.DD5.1.H.264-NTb",
    DUNE: "Dune.Part.Two.2024.2160p.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX",
    UBUNTU: "ubuntu-12.04.1-desktop-i386.iso",
    SLACKWARE: "slackware-14.1-iso",
}


def rec(info_hash: str, **fields: Any) -> ClassifiedRecord:
    classification = fields.pop("classification", None)
    return ClassifiedRecord(
        record=TorrentRecord(
            info_hash=info_hash,
            title=CATALOGUE[info_hash],
            source=fields.pop("source", "1337x"),
            seen_at=datetime.now(UTC),
            **fields,
        ),
        classification=classification,
    )


@pytest.fixture
def index(tmp_path: Path) -> Iterator[TantivyIndex]:
    idx = TantivyIndex(tmp_path / "index", writer_heap_bytes=HEAP)
    yield idx
    idx.close()


@pytest.fixture
def drainer(index: TantivyIndex, database: Database, writer: Writer) -> IndexDrainer:
    return IndexDrainer(index, database.reader, writer, batch=2, poll_s=0.05)


def store(writer: Writer, *items: ClassifiedRecord) -> None:
    writer.upsert(items).result(timeout=30)


def search(index: TantivyIndex, text: str = "", **options: Any) -> list[str]:
    page = index.search(SearchQuery(text=text, limit=100, **options))
    return [hit.info_hash for hit in page.hits]


def outbox(database: Database) -> list[str]:
    with database.reader.connect() as conn:
        rows = conn.execute(select(index_outbox.c.info_hash).order_by(index_outbox.c.id))
        return list(rows.scalars())


def documents(index: TantivyIndex) -> int:
    return index.stats().documents


class CrashingWriter:
    """The real writer, except that the next `n` outbox acknowledgements die."""

    def __init__(self, inner: Writer, crashes: int = 1) -> None:
        self.inner = inner
        self.crashes = crashes

    def call(self, fn: Callable[[Connection], Any]) -> Future[Any]:
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("power cut between index upsert and outbox ack")
        return self.inner.call(fn)


# --- drain ---------------------------------------------------------------------------------------


def test_drain_moves_outbox_rows_into_the_index(
    database: Database, writer: Writer, index: TantivyIndex, drainer: IndexDrainer
) -> None:
    store(writer, rec(MATRIX, seeders=1520), rec(OFFICE), rec(DUNE))
    assert outbox(database) == [MATRIX, OFFICE, DUNE]
    assert drainer.drain_once() == 2  # batch of two
    assert len(outbox(database)) == 1
    assert documents(index) == 2
    assert drainer.drain_all() == 1
    assert outbox(database) == []
    assert documents(index) == 3
    assert search(index, "matrix") == [MATRIX]
    assert set(search(index, "the")) == {MATRIX, OFFICE}
    assert drainer.drain_once() == 0


def test_drain_indexes_what_search_filters_on(
    database: Database, writer: Writer, index: TantivyIndex, drainer: IndexDrainer
) -> None:
    movie = Classification(
        kind=ContentKind.MOVIE, category=2040, reason="test", year=1999, resolution="1080p"
    )
    store(
        writer,
        rec(MATRIX, classification=movie, seeders=1520, imdb_id="tt0133093"),
        rec(SLACKWARE, files=(FileEntry(path="slackware-14.1-install-dvd.iso", size=10),)),
    )
    drainer.drain_all()
    assert search(index, kinds=(ContentKind.MOVIE,)) == [MATRIX]
    assert search(index, categories=(2000,)) == [MATRIX]
    assert search(index, year=1999, resolution="1080p") == [MATRIX]
    assert search(index, imdb_id="tt0133093") == [MATRIX]
    assert search(index, source="1337x", sort=SortOrder.SEEDERS) == [MATRIX, SLACKWARE]
    assert search(index, "install") == [SLACKWARE]  # from the file list


def test_drain_reindexes_a_changed_torrent_in_place(
    database: Database, writer: Writer, index: TantivyIndex, drainer: IndexDrainer
) -> None:
    store(writer, rec(UBUNTU, seeders=5), rec(SLACKWARE, seeders=50))
    drainer.drain_all()
    assert search(index, sort=SortOrder.SEEDERS) == [SLACKWARE, UBUNTU]
    store(writer, rec(UBUNTU, seeders=500, source="thepiratebay"))
    assert outbox(database) == [UBUNTU]
    drainer.drain_all()
    assert search(index, sort=SortOrder.SEEDERS) == [UBUNTU, SLACKWARE]
    assert search(index, source="thepiratebay") == [UBUNTU]
    assert documents(index) == 2


def test_a_crash_before_the_ack_just_indexes_again(
    database: Database, writer: Writer, index: TantivyIndex
) -> None:
    store(writer, rec(MATRIX), rec(OFFICE), rec(DUNE))
    crashing = IndexDrainer(index, database.reader, CrashingWriter(writer), batch=10)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="power cut"):
        crashing.drain_once()
    assert documents(index) == 3  # the index got them...
    assert len(outbox(database)) == 3  # ...but the rows are still owed
    assert crashing.drain_all() == 3  # the next run (a restart) indexes them again
    assert outbox(database) == []
    assert documents(index) == 3  # no duplicates
    assert search(index, "matrix") == [MATRIX]


def test_a_crash_after_a_partial_index_update_converges(
    database: Database, writer: Writer, index: TantivyIndex, drainer: IndexDrainer
) -> None:
    """The index holds a stale copy of a document when the process dies: the drain replaces it."""
    store(writer, rec(UBUNTU, seeders=900))
    stale = IndexDocument(info_hash=UBUNTU, title="ubuntu old title", seeders=1)
    index.upsert([stale])
    drainer.drain_all()
    assert documents(index) == 1
    assert search(index, "old") == []
    assert search(index, "desktop") == [UBUNTU]


def test_a_deleted_torrent_leaves_the_index(
    database: Database, writer: Writer, index: TantivyIndex, drainer: IndexDrainer
) -> None:
    store(writer, rec(MATRIX), rec(DUNE))
    drainer.drain_all()

    def remove_dune(conn: Connection) -> None:
        conn.execute(delete(torrents).where(torrents.c.info_hash == DUNE))
        conn.execute(index_outbox.insert().values(info_hash=DUNE, queued_at=datetime.now(UTC)))

    writer.call(remove_dune).result(timeout=30)
    assert drainer.drain_all() == 1
    assert search(index) == [MATRIX]
    assert documents(index) == 1


def test_duplicate_outbox_rows_make_one_document(
    database: Database, writer: Writer, index: TantivyIndex
) -> None:
    for seeders in (1, 2, 3, 4, 5):
        store(writer, rec(MATRIX, seeders=seeders))
    assert outbox(database) == [MATRIX] * 5
    big_batch = IndexDrainer(index, database.reader, writer, batch=100)
    assert big_batch.drain_all() == 5
    assert documents(index) == 1


async def test_run_drains_when_the_writer_commits(database: Database, index: TantivyIndex) -> None:
    box: list[IndexDrainer] = []
    writer = Writer(database.writer, on_commit=lambda: box[0].wake() if box else None)
    writer.start()
    drainer = IndexDrainer(index, database.reader, writer, poll_s=30.0)  # only wake-ups
    box.append(drainer)
    task = asyncio.create_task(drainer.run())
    try:
        await asyncio.sleep(0.05)  # let run() set up its loop and event
        await asyncio.wrap_future(writer.upsert([rec(OFFICE)]))
        for _ in range(200):
            if documents(index) == 1 and not outbox(database):
                break
            await asyncio.sleep(0.025)
        assert search(index, "office") == [OFFICE]
        assert outbox(database) == []
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        writer.stop()


# --- rebuild -------------------------------------------------------------------------------------


def test_rebuild_clears_and_refills_with_progress(
    database: Database, writer: Writer, index: TantivyIndex, drainer: IndexDrainer
) -> None:
    store(writer, *(rec(h) for h in CATALOGUE))
    ghost = IndexDocument(info_hash="f" * 40, title="Ghost.In.The.Shell.1995.1080p")
    index.upsert([ghost])  # in the index but not in the database: must go
    calls: list[tuple[int, int]] = []
    assert drainer.rebuild(lambda done, total: calls.append((done, total)), page=2) == 5
    assert calls == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert documents(index) == 5
    assert search(index, "ghost") == []
    assert set(search(index)) == set(CATALOGUE)
    assert outbox(database) == []  # every queued row was covered by the rebuild


def test_rebuild_keeps_rows_queued_while_it_runs(
    database: Database, writer: Writer, index: TantivyIndex, drainer: IndexDrainer
) -> None:
    store(writer, rec(MATRIX), rec(OFFICE), rec(DUNE))

    def progress(done: int, total: int) -> None:
        if done == 2:  # a crawler stores a torrent halfway through the rebuild
            store(writer, rec(UBUNTU, seeders=3))

    assert drainer.rebuild(progress, page=2) == 3  # keyset paging: UBUNTU sorts before the cursor
    assert outbox(database) == [UBUNTU]  # queued after the rebuild began: still owed
    drainer.drain_all()
    assert set(search(index)) == {MATRIX, OFFICE, DUNE, UBUNTU}
    assert documents(index) == 4


def test_a_cancelled_rebuild_stops_between_pages_and_the_next_one_completes(
    database: Database, writer: Writer, index: TantivyIndex, drainer: IndexDrainer
) -> None:
    store(writer, *(rec(h) for h in CATALOGUE))
    drainer.rebuild()
    assert not index.needs_rebuild
    cancel = threading.Event()

    def progress(done: int, _total: int) -> None:
        if done == 2:  # the user presses Cancel after the first page
            cancel.set()

    with pytest.raises(RebuildCancelled, match="after 2 of 5 torrents"):
        drainer.rebuild(progress, page=2, cancel=cancel)

    assert documents(index) == 2  # what was done so far stays searchable
    assert index.needs_rebuild  # and the next start (or re-index) knows to finish it
    assert drainer.rebuild(page=2) == 5
    assert not index.needs_rebuild
    assert set(search(index)) == set(CATALOGUE)


def test_rebuild_of_an_empty_database(
    database: Database, index: TantivyIndex, drainer: IndexDrainer
) -> None:
    index.upsert([IndexDocument(info_hash="e" * 40, title="Leftover.From.Another.Install")])
    calls: list[tuple[int, int]] = []
    assert drainer.rebuild(lambda done, total: calls.append((done, total))) == 0
    assert calls == [(0, 0)]
    assert documents(index) == 0


def test_rebuild_counts_match_the_database(
    database: Database, writer: Writer, index: TantivyIndex, drainer: IndexDrainer
) -> None:
    hashes = [f"{n:040x}" for n in range(1, 23)]
    items = [
        ClassifiedRecord(
            record=TorrentRecord(
                info_hash=h,
                title=f"Linux.Kernel.6.{n}.Source",
                source="dht",
                seen_at=datetime.now(UTC),
            ),
            classification=None,
        )
        for n, h in enumerate(hashes)
    ]
    store(writer, *items)
    assert drainer.rebuild(page=5) == 22
    with database.reader.connect() as conn:
        assert conn.execute(select(func.count()).select_from(torrents)).scalar_one() == 22
    assert documents(index) == 22
    assert index.search(SearchQuery(text="kernel", limit=5)).total == 22
