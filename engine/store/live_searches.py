"""Store side of live search: the query log (one row per source asked, per query).

A live search asks the sites only when the index is thin or the query was not
asked within a TTL; this log answers "when was this query last asked live", and
shows what each source answered (results, new ones, time, error) for the status
API. Queries are kept normalized (lowercase, whitespace collapsed, bounded), so
"Dune  2021" and "dune 2021" are one query. The log is bounded: each write prunes
it to the newest `MAX_ROWS` rows, so a busy server never grows it without end.

The functions take a `Connection`: writes run inside `Writer.call`, reads on the
reader engine. `LiveSearchStore` wraps both for async callers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TypeVar

from sqlalchemy import Connection, Engine, delete, func, insert, select

from engine.store.schema import live_searches
from engine.store.writer import Writer

T = TypeVar("T")

MAX_QUERY_CHARS: Final = 200
"""Longer queries are cut here (the column's size; sites refuse longer queries anyway)."""
MAX_SOURCE_CHARS: Final = 64
MAX_ROWS: Final = 100_000
"""Rows kept: weeks of a busy Sonarr's searches across a dozen sources, a few MB."""
MAX_LATEST: Final = 1000
"""The most rows `latest_searches` returns at once, whatever the caller asks."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveSearchRow:
    """One source's answer to one live query."""

    query: str
    source: str
    searched_at: datetime
    results: int
    """Records the source returned."""
    new: int
    """Of those, torrents new to the index."""
    duration_s: float
    error: str | None = None
    """Why the source gave no answer (None: it answered, maybe with no results)."""
    late: bool = False
    """It answered after the live search had returned its answer (stored anyway)."""


def normalize_query(text: str) -> str:
    """The log's key for a query: lowercase, whitespace collapsed, at most `MAX_QUERY_CHARS`."""
    return " ".join(text.lower().split())[:MAX_QUERY_CHARS].rstrip()


def record_search(conn: Connection, row: LiveSearchRow, *, keep: int = MAX_ROWS) -> None:
    """Log one source's answer, then drop all but the newest `keep` rows.

    Ids only grow, so "newest" is "highest id" and the prune is one indexed delete.
    """
    values = {
        "query": normalize_query(row.query),
        "source": row.source[:MAX_SOURCE_CHARS],
        "searched_at": row.searched_at,
        "results": max(0, row.results),
        "new": max(0, row.new),
        "duration_s": max(0.0, row.duration_s),
        "error": row.error,
        "late": row.late,
    }
    new_id = conn.execute(insert(live_searches).values(**values)).inserted_primary_key
    if new_id is not None and new_id[0] is not None:
        conn.execute(delete(live_searches).where(live_searches.c.id <= new_id[0] - max(1, keep)))


def last_searched(conn: Connection, query: str, source: str | None = None) -> datetime | None:
    """When `query` was last answered live (by `source`, or by any source); None: never.

    Only answers count: a source that failed did not search, so the query is not
    fresh because of it.
    """
    where = [live_searches.c.query == normalize_query(query), live_searches.c.error.is_(None)]
    if source is not None:
        where.append(live_searches.c.source == source)
    found: datetime | None = conn.execute(
        select(func.max(live_searches.c.searched_at)).where(*where)
    ).scalar()
    return found


def latest_searches(
    conn: Connection, limit: int = 50, *, query: str | None = None
) -> list[LiveSearchRow]:
    """The newest logged answers (of one query when given), newest first."""
    newest_first = (live_searches.c.searched_at.desc(), live_searches.c.id.desc())
    stmt = select(live_searches).order_by(*newest_first)
    if query is not None:
        stmt = stmt.where(live_searches.c.query == normalize_query(query))
    rows = conn.execute(stmt.limit(max(0, min(limit, MAX_LATEST)))).mappings()
    return [
        LiveSearchRow(
            query=row["query"],
            source=row["source"],
            searched_at=row["searched_at"],
            results=row["results"],
            new=row["new"],
            duration_s=row["duration_s"],
            error=row["error"],
            late=row["late"],
        )
        for row in rows
    ]


class LiveSearchStore:
    """The query log for async code: writes through the single `Writer`, reads off the loop."""

    def __init__(self, reader: Engine, writer: Writer, *, keep: int = MAX_ROWS) -> None:
        self._reader = reader
        self._writer = writer
        self._keep = keep

    async def record(self, row: LiveSearchRow) -> None:
        """Log one answer once the writer has committed it."""
        await asyncio.wrap_future(
            self._writer.call(lambda conn: record_search(conn, row, keep=self._keep))
        )

    async def last_searched(self, query: str, source: str | None = None) -> datetime | None:
        """`last_searched`, read in a thread."""
        return await asyncio.to_thread(self._read, lambda conn: last_searched(conn, query, source))

    async def latest(self, limit: int = 50, *, query: str | None = None) -> list[LiveSearchRow]:
        """`latest_searches`, read in a thread (for `/api/search/live-status`)."""
        return await asyncio.to_thread(
            self._read, lambda conn: latest_searches(conn, limit, query=query)
        )

    def _read(self, fn: Callable[[Connection], T]) -> T:
        with self._reader.connect() as conn:
            return fn(conn)
