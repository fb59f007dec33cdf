"""The single writer: one thread, one connection, every database write in Minato.

SQLite allows one writer at a time, and PostgreSQL upserts are cheapest when
batched, so writes are jobs on a queue served by one thread. Upsert jobs that
wait together are committed together (group commit): many small ingest
requests cost one transaction, and each request's future resolves only after
its records are durable. A job that fails is retried alone, so one bad job
never sinks the others that shared its transaction.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import StoreError
from engine.models import ClassifiedRecord
from engine.store.upsert import upsert_records

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(slots=True)
class _UpsertJob:
    items: Sequence[ClassifiedRecord]
    future: Future[list[bool]] = field(default_factory=Future)


@dataclass(slots=True)
class _CallJob:
    fn: Callable[[Connection], Any]
    future: Future[Any] = field(default_factory=Future)


_STOP = object()


class Writer:
    """Owns the write connection; everything that changes the database goes through here."""

    def __init__(
        self,
        engine: Engine,
        *,
        batch_records: int = 2000,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._batch_records = batch_records
        self._on_commit = on_commit
        # Unbounded on purpose: jobs are put from the event loop, where a full queue would
        # block every request; callers await each job, so the backlog is bounded by them.
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="minato-writer", daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the writer thread (once)."""
        with self._lock:
            if not self._started:
                self._started = True
                self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish queued jobs, then end the thread."""
        with self._lock:
            if not self._started:
                return
            self._started = False
        self._jobs.put(_STOP)
        self._thread.join(timeout_s)

    def upsert(self, items: Sequence[ClassifiedRecord]) -> Future[list[bool]]:
        """Queue records; the future gives each one's "created" flag once committed."""
        job = _UpsertJob(items)
        self._submit(job)
        return job.future

    def call(self, fn: Callable[[Connection], T]) -> Future[T]:
        """Run `fn(connection)` in its own write transaction on the writer thread."""
        job = _CallJob(fn)
        self._submit(job)
        return job.future

    def _submit(self, job: _UpsertJob | _CallJob) -> None:
        if not self._started:
            raise StoreError("the database writer is not running")
        self._jobs.put(job)

    def _run(self) -> None:
        pending: list[Any] = []
        while True:
            job = pending.pop(0) if pending else self._jobs.get()
            if job is _STOP:
                return
            if isinstance(job, _CallJob):
                if job.future.set_running_or_notify_cancel():
                    self._run_call(job)
                continue
            group = [job]
            size = len(job.items)
            while size < self._batch_records:
                try:
                    nxt = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if not isinstance(nxt, _UpsertJob):
                    pending.append(nxt)
                    break
                group.append(nxt)
                size += len(nxt.items)
            # A job whose caller gave up before it ran is skipped (nothing was acknowledged);
            # once running, a future can no longer be cancelled, so its result always lands.
            started = [j for j in group if j.future.set_running_or_notify_cancel()]
            if started:
                self._run_upserts(started)

    def _run_upserts(self, group: list[_UpsertJob]) -> None:
        now = datetime.now(UTC)
        try:
            with self._engine.begin() as conn:
                results = [upsert_records(conn, job.items, now) for job in group]
        except Exception as exc:
            if len(group) == 1:
                self._fail(group[0].future, exc)
                return
            log.warning("group commit of %d jobs failed (%s); retrying each alone", len(group), exc)
            for job in group:
                self._run_upserts([job])
            return
        self._committed()
        for job, created in zip(group, results, strict=True):
            job.future.set_result(created)

    def _run_call(self, job: _CallJob) -> None:
        try:
            with self._engine.begin() as conn:
                result = job.fn(conn)
        except Exception as exc:
            self._fail(job.future, exc)
            return
        self._committed()
        job.future.set_result(result)

    def _committed(self) -> None:
        if self._on_commit is not None:
            self._on_commit()

    @staticmethod
    def _fail(future: Future[Any], exc: Exception) -> None:
        if isinstance(exc, SQLAlchemyError):
            # The driver's own message only: str(exc) carries the SQL and other records' values.
            reason = str(getattr(exc, "orig", None) or type(exc).__name__).strip()
            log.error("database write failed: %s", reason)
            future.set_exception(StoreError(f"database write failed: {reason}"))
        else:
            future.set_exception(exc)
