"""Feeds the search index from the database's outbox, and rebuilds it from scratch.

The writer adds an outbox row in the same transaction as every change that
matters to search; the drainer turns those rows into index documents, upserts
them, and only then deletes the rows (through the writer). A crash anywhere
leaves the rows in place, so the next run indexes them again (upserts are
idempotent): the index converges on the database, never the other way round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time

from sqlalchemy import Connection, Engine, delete, func, select

from engine.errors import IndexBusy, MinatoError, RebuildCancelled
from engine.models import ProgressCallback
from engine.search.base import SearchIndex
from engine.store.batches import in_chunks
from engine.store.reads import hash_pages, index_documents, outbox_batch, torrent_count
from engine.store.schema import index_outbox
from engine.store.writer import Writer

log = logging.getLogger(__name__)


class IndexDrainer:
    """Moves outbox rows into the search index, in batches, until told to stop."""

    def __init__(
        self,
        index: SearchIndex,
        reader: Engine,
        writer: Writer,
        *,
        batch: int = 5000,
        poll_s: float = 1.0,
    ) -> None:
        self._index = index
        self._reader = reader
        self._writer = writer
        self._batch = batch
        self._poll_s = poll_s
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()  # one drain (or rebuild) at a time

    def wake(self) -> None:
        """Ask for a drain soon; safe to call from any thread (the writer calls it on commit)."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def run(self) -> None:
        """Drain forever: on every wake-up, and every `poll_s` for other processes' writes."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        failures = 0
        while True:
            try:
                moved = await asyncio.to_thread(self.drain_once)
                failures = 0
            except Exception as exc:  # the server must outlive a failing index: retry with backoff
                failures += 1
                if isinstance(exc, MinatoError):
                    log.warning("search index update failed (%s); retrying", exc)
                else:
                    log.exception("BUG while updating the search index; retrying")
                moved = 0
                await asyncio.sleep(min(60.0, self._poll_s * 2**failures))
            if moved:
                continue  # more may wait
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                # asyncio.timeout: 3.11's wait_for can lose a cancel that meets a wake-up
                async with asyncio.timeout(self._poll_s):
                    await self._wake.wait()

    def drain_once(self) -> int:
        """Index one batch of outbox rows; returns how many rows it consumed."""
        with self._lock:
            with self._reader.connect() as conn:
                rows = outbox_batch(conn, self._batch)
                if not rows:
                    return 0
                hashes = list(dict.fromkeys(h for _, h in rows))
                docs = index_documents(conn, hashes)
            gone = set(hashes) - {d.info_hash for d in docs}
            if docs:
                self._index.upsert(docs)
            if gone:
                self._index.delete(sorted(gone))
            ids = [row_id for row_id, _ in rows]
            self._writer.call(lambda c: _ack(c, ids)).result()
            return len(rows)

    def drain_all(self) -> int:
        """Drain until the outbox is empty (CLI, tests); returns rows consumed."""
        total = 0
        while moved := self.drain_once():
            total += moved
        return total

    def catch_up(self, wait_s: float = 5.0) -> int:
        """Index now what is committed and not yet indexed (after a live search stored some).

        When another process owns the index (the running server, while the CLI searches),
        that process's drainer indexes the rows: wait up to `wait_s` for the outbox to
        empty, then reload so its commits are seen here. Returns rows this call indexed.
        """
        try:
            return self.drain_all()
        except IndexBusy:
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                with self._reader.connect() as conn:
                    if not outbox_batch(conn, 1):
                        break
                time.sleep(0.05)
            self._index.reload()
            return 0

    def rebuild(
        self,
        progress: ProgressCallback | None = None,
        page: int = 5000,
        cancel: threading.Event | None = None,
    ) -> int:
        """Clear the index and refill it from every torrent in the database.

        Outbox rows queued before the rebuild started are covered by it and
        removed; rows queued during it stay for the next drain.

        Args:
            progress: told (done, total) after every page.
            page: torrents indexed per step.
            cancel: set from another thread to stop between two pages.

        Raises:
            RebuildCancelled: `cancel` was set; the index holds the pages done so far
                and stays marked for rebuilding (the next start completes it).
        """
        with self._lock:
            with self._reader.connect() as conn:
                total = torrent_count(conn)
                covered = conn.execute(select(func.max(index_outbox.c.id))).scalar_one()
            self._index.mark_stale()  # a crash or a cancel from here on: the next start redoes it
            self._index.clear()
            done = 0
            if progress:
                progress(0, total)
            with self._reader.connect() as conn:
                for hashes in hash_pages(conn, page):
                    if cancel is not None and cancel.is_set():
                        raise RebuildCancelled(
                            f"re-index cancelled after {done:,} of {total:,} torrents; "
                            "the search index is incomplete until the next re-index or start"
                        )
                    self._index.upsert(index_documents(conn, hashes))
                    done += len(hashes)
                    if progress:
                        progress(done, total)
            if covered is not None:
                self._writer.call(lambda c: _ack_through(c, covered)).result()
            self._index.mark_rebuilt()
            return done


def _ack(conn: Connection, ids: list[int]) -> None:
    for chunk in in_chunks(ids):
        conn.execute(delete(index_outbox).where(index_outbox.c.id.in_(chunk)))


def _ack_through(conn: Connection, last_id: int) -> None:
    conn.execute(delete(index_outbox).where(index_outbox.c.id <= last_id))
