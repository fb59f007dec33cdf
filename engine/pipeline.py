"""The pipeline: normalize -> classify -> batched upsert (+ outbox) -> the drainer indexes.

Every record that enters Minato, from the ingest API, the CLI or a source,
comes through `Pipeline.submit`. Classification runs in worker processes
(guessit is pure Python and slow, so it must neither block the event loop nor
hold the GIL against the server); records whose torrent is already classified
skip it. The writer commits, and only then does `submit` return, so an
acknowledged record is durable.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import Engine

from engine.errors import InvalidRecord
from engine.models import (
    Classification,
    ClassifiedRecord,
    FileEntry,
    IngestReport,
    RawRecord,
    Rejection,
    TorrentRecord,
)
from engine.normalize import normalize
from engine.store.reads import classified_hashes
from engine.store.writer import Writer

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_CLASSIFY_CHUNK = 64  # titles per task sent to a worker process

_ClassifyInput = tuple[str, tuple[FileEntry, ...], str | None]


def classify_chunk(items: Sequence[_ClassifyInput]) -> list[Classification | None]:
    """Classify titles in a worker process; a title that breaks the parser stays unclassified."""
    from engine.classify import classify  # imported in the worker, not at module load

    results: list[Classification | None] = []
    for title, files, category in items:
        try:
            results.append(classify(title, files, category))
        except Exception:
            log.exception("BUG: classifier failed on %r", title[:200])
            results.append(None)
    return results


def make_classifier_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes for title parsing ('spawn': forking a threaded process is unsafe)."""
    count = workers or os.cpu_count() or 1
    return ProcessPoolExecutor(
        max_workers=count,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_die_with_parent,
    )


def _die_with_parent() -> None:
    """Linux: end this worker when the server dies, even by SIGKILL (no orphans left behind)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(0)


class Pipeline:
    """Turns raw records into stored, indexed torrents; the only path into the database."""

    def __init__(
        self,
        writer: Writer,
        reader: Engine,
        *,
        classifier: Executor | None,
        batch_records: int,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._classifier = classifier
        self._batch_records = batch_records

    async def warm_up(self) -> None:
        """Start the classifier processes now rather than on the first request."""
        if self._classifier is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(
                self._classifier, classify_chunk, [("warm.up.2024", (), None)]
            )

    async def submit(
        self,
        raws: Sequence[tuple[int, RawRecord]],
        rejected: Sequence[Rejection] = (),
    ) -> IngestReport:
        """Store `raws` (each with its index in the request); returns counts and rejections.

        Records that fail normalization are rejected with their index; the
        others are stored even so. Returns once everything stored is committed.
        """
        now = datetime.now(UTC)
        rejections = list(rejected)
        records: list[TorrentRecord] = []
        for index, raw in raws:
            try:
                records.append(normalize(raw, now))
            except InvalidRecord as exc:
                rejections.append(Rejection(index=index, error=str(exc)))
        classified = await self._classify(records)
        created = await self._store(classified)
        n_created = sum(created)
        rejections.sort(key=lambda r: r.index)
        return IngestReport(
            created=n_created, updated=len(created) - n_created, rejected=tuple(rejections)
        )

    async def _classify(self, records: list[TorrentRecord]) -> list[ClassifiedRecord]:
        if self._classifier is None or not records:
            return [ClassifiedRecord(record=r, classification=None) for r in records]
        known = await asyncio.to_thread(self._known, [r.info_hash for r in records])
        todo = [r for r in records if r.info_hash not in known]
        loop = asyncio.get_running_loop()
        chunks = [todo[i : i + _CLASSIFY_CHUNK] for i in range(0, len(todo), _CLASSIFY_CHUNK)]
        answers = await asyncio.gather(
            *(
                loop.run_in_executor(
                    self._classifier,
                    classify_chunk,
                    [(r.title, r.files, r.category) for r in chunk],
                )
                for chunk in chunks
            )
        )
        by_record = {
            id(r): c
            for chunk, found in zip(chunks, answers, strict=True)
            for r, c in zip(chunk, found, strict=True)
        }
        return [ClassifiedRecord(record=r, classification=by_record.get(id(r))) for r in records]

    def _known(self, hashes: list[str]) -> set[str]:
        with self._reader.connect() as conn:
            return classified_hashes(conn, hashes)

    async def _store(self, items: list[ClassifiedRecord]) -> list[bool]:
        step = self._batch_records
        futures = [
            asyncio.wrap_future(self._writer.upsert(items[i : i + step]))
            for i in range(0, len(items), step)
        ]
        created: list[bool] = []
        for flags in await asyncio.gather(*futures):
            created.extend(flags)
        return created
