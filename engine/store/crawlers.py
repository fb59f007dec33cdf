"""Store side of the crawler scheduler: one `crawler_status` row per source.

The scheduler keeps every source's `CrawlerStatus` in memory and hands each change
to a `StatusStore`; `CrawlerStatusStore` is that store for the database, so a
restart keeps the totals and the user's start/stop choice, and `minato crawlers`
can show the last known state without a running server.

The functions take a `Connection`: writes run inside `Writer.call` (the single
writer), reads on the reader engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from engine.scheduler import CrawlerState, CrawlerStatus
from engine.store.schema import crawler_status
from engine.store.writer import Writer

log = logging.getLogger(__name__)


def _values(status: CrawlerStatus) -> dict[str, Any]:
    return {
        "state": status.state.value,
        "enabled": status.enabled,
        "message": status.message,
        "last_heartbeat": status.last_heartbeat,
        "started_at": status.started_at,
        "finished_at": status.finished_at,
        "last_duration_s": status.last_duration_s,
        "items_seen": status.items_seen,
        "items_new": status.items_new,
        "items_total": status.items_total,
        "runs": status.runs,
        "consecutive_failures": status.consecutive_failures,
        "next_run_at": status.next_run_at,
        "last_error": status.last_error,
    }


def save_status(conn: Connection, status: CrawlerStatus) -> None:
    """Insert or replace the row of `status.source` (update first: the usual case)."""
    values = _values(status)
    done = conn.execute(
        update(crawler_status).where(crawler_status.c.source == status.source).values(values)
    )
    if done.rowcount == 0:
        conn.execute(insert(crawler_status).values(source=status.source, **values))


def _state(value: str, source: str) -> CrawlerState:
    try:
        return CrawlerState(value)
    except ValueError:
        # A row from a newer Minato (a state this version does not know): show it as idle
        # rather than fail every read of the table.
        log.warning("crawler %s: unknown stored state %r, shown as idle", source, value)
        return CrawlerState.IDLE


def load_statuses(conn: Connection) -> dict[str, CrawlerStatus]:
    """Every stored status, by source (in source order)."""
    c = crawler_status.c
    return {
        row.source: CrawlerStatus(
            source=row.source,
            state=_state(row.state, row.source),
            enabled=row.enabled,
            message=row.message,
            last_heartbeat=row.last_heartbeat,
            started_at=row.started_at,
            finished_at=row.finished_at,
            last_duration_s=row.last_duration_s,
            items_seen=row.items_seen,
            items_new=row.items_new,
            items_total=row.items_total,
            runs=row.runs,
            consecutive_failures=row.consecutive_failures,
            next_run_at=row.next_run_at,
            last_error=row.last_error,
        )
        for row in conn.execute(select(crawler_status).order_by(c.source))
    }


class CrawlerStatusStore:
    """The scheduler's `StatusStore` over the database: reads on the reader, writes via `Writer`."""

    def __init__(self, reader: Engine, writer: Writer) -> None:
        self._reader = reader
        self._writer = writer

    def load(self) -> Mapping[str, CrawlerStatus]:
        """Statuses saved by an earlier run, by source (a blocking read, done once at start)."""
        with self._reader.connect() as conn:
            return load_statuses(conn)

    async def save(self, status: CrawlerStatus) -> None:
        """Upsert `status` through the single writer; returns once it is committed.

        The wait is shielded: the scheduler saves while it is being cancelled (at
        shutdown, on stop), and cancelling the writer's future from here would make
        the writer thread set the result of a cancelled future, which it does not
        survive. The write itself always runs to its end.
        """
        done = self._writer.call(lambda conn: save_status(conn, status))
        await asyncio.shield(asyncio.wrap_future(done))
