"""The pipeline: normalize -> classify -> batched upsert, on SQLite and PostgreSQL.

Classification runs on a real executor: a ThreadPoolExecutor that records what
it is asked to classify (so the tests can see what is *not* sent again), and in
one test the real process pool `make_classifier_pool` builds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import FileEntry, IngestReport, RawRecord, Rejection
from engine.pipeline import Pipeline, classify_chunk, make_classifier_pool
from engine.store.database import Database, open_database
from engine.store.schema import index_outbox, sightings, torrents
from engine.store.writer import Writer

MATRIX = "c9e15763f722f23e98a29decdfae341b98d53056"
OFFICE = "3f1a59cb2a1cd7e1a0bd7d2ce0f9a0e5f2b7a4c1"
DUNE = "8a19577fb5f690970ca43a57ff1011ae202244b8"

MATRIX_TITLE = "The.Matrix.1999.1080p.BluRay.x264-FGT"
OFFICE_TITLE = "The.Office.US.S05E14.720p.WEB-DL.DD5.1.H.264-NTb"
DUNE_TITLE = "Dune.Part.Two.2024.2160p.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX"


def raw(info_hash: str = MATRIX, title: str = MATRIX_TITLE, **fields: Any) -> RawRecord:
    fields.setdefault("source", "1337x")
    return RawRecord(info_hash=info_hash, title=title, **fields)


class RecordingExecutor(ThreadPoolExecutor):
    """Runs the real `classify_chunk` in threads and remembers every title it was sent."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.chunks: list[list[str]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if fn is classify_chunk:
            self.chunks.append([title for title, _files, _category in args[0]])
        return super().submit(fn, *args, **kwargs)

    @property
    def titles(self) -> list[str]:
        return [title for chunk in self.chunks for title in chunk]


@pytest.fixture
def recorder() -> Iterator[RecordingExecutor]:
    executor = RecordingExecutor()
    yield executor
    executor.shutdown(wait=True)


def make_pipeline(
    database: Database, writer: Writer, classifier: Any = None, batch_records: int = 2000
) -> Pipeline:
    return Pipeline(writer, database.reader, classifier=classifier, batch_records=batch_records)


def stored(database: Database) -> dict[str, Any]:
    with database.reader.connect() as conn:
        return {row.info_hash: row for row in conn.execute(select(torrents))}


def count(database: Database, table: Any) -> int:
    with database.reader.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# --- counts and rejections -----------------------------------------------------------------------


async def test_submit_counts_created_and_updated(database: Database, writer: Writer) -> None:
    pipeline = make_pipeline(database, writer)
    report = await pipeline.submit(
        [(0, raw()), (1, raw(DUNE, DUNE_TITLE)), (2, raw(MATRIX.upper(), source="yts"))]
    )
    assert report == IngestReport(created=2, updated=1, rejected=())
    again = await pipeline.submit([(0, raw(source="thepiratebay"))])
    assert again == IngestReport(created=0, updated=1, rejected=())
    assert set(stored(database)) == {MATRIX, DUNE}
    assert count(database, sightings) == 4


async def test_rejections_come_back_sorted_with_their_index(
    database: Database, writer: Writer
) -> None:
    pipeline = make_pipeline(database, writer)
    future = datetime.now(UTC) + timedelta(days=30)
    report = await pipeline.submit(
        [
            (0, raw()),
            (2, raw(info_hash="not-a-hash")),
            (3, raw(DUNE, DUNE_TITLE, published_at=future)),
            (5, raw(OFFICE, OFFICE_TITLE)),
            (7, raw(title="\x00\x01")),
        ],
        rejected=[
            Rejection(index=6, error="record: must be a JSON object, not a number"),
            Rejection(index=1, error="seeders: Input should be a valid integer"),
        ],
    )
    assert (report.created, report.updated) == (2, 0)
    assert [r.index for r in report.rejected] == [1, 2, 3, 6, 7]
    errors = {r.index: r.error for r in report.rejected}
    assert errors[1] == "seeders: Input should be a valid integer"
    assert errors[2].startswith("info_hash: ")
    assert errors[3].startswith("published_at: is in the future")
    assert errors[7] == "title: must not be empty"
    assert set(stored(database)) == {MATRIX, OFFICE}


async def test_nothing_valid_writes_nothing(database: Database, writer: Writer) -> None:
    pipeline = make_pipeline(database, writer)
    report = await pipeline.submit([(0, raw(info_hash="0" * 40))])
    assert (report.created, report.updated, len(report.rejected)) == (0, 0, 1)
    assert await pipeline.submit([]) == IngestReport()
    assert count(database, torrents) == 0
    assert count(database, index_outbox) == 0


async def test_records_are_split_into_write_batches(database: Database, writer: Writer) -> None:
    pipeline = make_pipeline(database, writer, batch_records=2)
    hashes = [f"{n:040x}" for n in range(1, 8)]
    raws = [(n, raw(h, f"Linux.Distro.{n}.DVD.x86_64")) for n, h in enumerate(hashes)]
    raws.append((7, raw(hashes[0], "Linux.Distro.0.DVD.x86_64", source="dht")))
    report = await pipeline.submit(raws)
    assert (report.created, report.updated) == (7, 1)
    assert set(stored(database)) == set(hashes)


async def test_what_submit_acknowledges_is_committed(database: Database, writer: Writer) -> None:
    pipeline = make_pipeline(database, writer)
    await pipeline.submit([(0, raw(seeders=1520))])
    # a fresh connection from another engine sees it: the transaction has committed
    other = open_database(str(database.writer.url.render_as_string(hide_password=False)))
    try:
        with other.reader.connect() as conn:
            assert conn.execute(select(torrents.c.seeders)).scalar_one() == 1520
    finally:
        other.dispose()


# --- classification ------------------------------------------------------------------------------


async def test_without_a_classifier_nothing_is_classified(
    database: Database, writer: Writer
) -> None:
    await make_pipeline(database, writer).submit([(0, raw())])
    row = stored(database)[MATRIX]
    assert (row.kind, row.category) == (None, None)


async def test_classified_torrents_are_not_classified_again(
    database: Database, writer: Writer, recorder: RecordingExecutor
) -> None:
    pipeline = make_pipeline(database, writer, classifier=recorder)
    await pipeline.submit([(0, raw())])
    assert recorder.titles == [MATRIX_TITLE]
    assert (stored(database)[MATRIX].kind, stored(database)[MATRIX].category) == ("movie", 2040)

    report = await pipeline.submit(
        [
            (0, raw(title="The Matrix 1999 1080p BrRip x264 - YIFY", source="yts")),
            (1, raw(OFFICE, OFFICE_TITLE, source="eztv")),
        ]
    )
    assert (report.created, report.updated) == (1, 1)
    assert recorder.titles == [MATRIX_TITLE, OFFICE_TITLE]  # only the new one went out
    rows = stored(database)
    assert (rows[MATRIX].kind, rows[MATRIX].year, rows[MATRIX].release_group) == (
        "movie",
        1999,
        "FGT",
    )
    assert (rows[OFFICE].kind, rows[OFFICE].season, rows[OFFICE].episode) == ("tv", 5, 14)

    await pipeline.submit([(0, raw(source="1337x")), (1, raw(OFFICE, OFFICE_TITLE))])
    assert len(recorder.chunks) == 2  # nothing left to classify: no task at all


async def test_stored_but_unclassified_torrents_are_classified_later(
    database: Database, writer: Writer, recorder: RecordingExecutor
) -> None:
    await make_pipeline(database, writer).submit([(0, raw(DUNE, DUNE_TITLE))])
    assert stored(database)[DUNE].kind is None
    await make_pipeline(database, writer, classifier=recorder).submit(
        [(0, raw(DUNE, DUNE_TITLE, source="dht"))]
    )
    assert recorder.titles == [DUNE_TITLE]
    row = stored(database)[DUNE]
    assert (row.kind, row.year, row.resolution) == ("movie", 2024, "2160p")


async def test_titles_go_to_workers_in_chunks(
    database: Database, writer: Writer, recorder: RecordingExecutor
) -> None:
    hashes = [f"{n:040x}" for n in range(1, 66)]
    raws = [
        (n, raw(h, f"Show.Name.S01E{n:02d}.1080p.WEB.h264-GROUP")) for n, h in enumerate(hashes)
    ]
    report = await make_pipeline(database, writer, classifier=recorder).submit(raws)
    assert report.created == 65
    assert [len(chunk) for chunk in recorder.chunks] == [64, 1]
    rows = stored(database)
    assert {rows[h].kind for h in hashes} == {"tv"}
    assert rows[hashes[41]].episode == 41


async def test_files_and_category_reach_the_classifier(
    database: Database, writer: Writer, recorder: RecordingExecutor
) -> None:
    """An untelling title: the site's category and the file list decide."""
    sent: list[Any] = []
    original = recorder.submit

    def spy(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        sent.extend(args[0])
        return original(fn, *args, **kwargs)

    recorder.submit = spy  # type: ignore[method-assign]
    files = (FileEntry(path="Pink Floyd - Wish You Were Here/01 - Shine On.flac", size=9),)
    await make_pipeline(database, writer, classifier=recorder).submit(
        [(0, raw(DUNE, "Wish You Were Here", files=files, category=" Music/Lossless "))]
    )
    assert sent == [("Wish You Were Here", files, "Music/Lossless")]


async def test_a_title_that_breaks_the_classifier_is_stored_unclassified(
    database: Database,
    writer: Writer,
    recorder: RecordingExecutor,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import engine.classify  # here, so a broken classifier fails only the tests that need it

    real = engine.classify.classify

    def fragile(title: str, files: Any, category: str | None) -> Any:
        if "Dune" in title:
            raise RuntimeError("parser bug")
        return real(title, files, category)

    monkeypatch.setattr(engine.classify, "classify", fragile)
    with caplog.at_level(logging.ERROR, logger="engine.pipeline"):
        report = await make_pipeline(database, writer, classifier=recorder).submit(
            [(0, raw()), (1, raw(DUNE, DUNE_TITLE))]
        )
    assert report.created == 2
    rows = stored(database)
    assert rows[MATRIX].kind == "movie"
    assert rows[DUNE].kind is None
    assert "BUG: classifier failed" in caplog.text


async def test_a_real_classifier_process_pool(database: Database, writer: Writer) -> None:
    pool = make_classifier_pool(1)
    try:
        pipeline = make_pipeline(database, writer, classifier=pool)
        await pipeline.warm_up()
        report = await pipeline.submit(
            [(0, raw()), (1, raw(OFFICE, OFFICE_TITLE, source="eztv")), (2, raw(info_hash="x"))]
        )
        assert (report.created, report.updated, [r.index for r in report.rejected]) == (2, 0, [2])
        again = await pipeline.submit([(0, raw(source="yts"))])
        assert (again.created, again.updated) == (0, 1)
    finally:
        pool.shutdown(wait=True)
    rows = stored(database)
    assert (rows[MATRIX].kind, rows[MATRIX].category, rows[MATRIX].year) == ("movie", 2040, 1999)
    assert (rows[OFFICE].kind, rows[OFFICE].category, rows[OFFICE].season) == ("tv", 5040, 5)
