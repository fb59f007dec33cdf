"""What the window's monitor shows: torrents indexed per minute, and totals by kind and source.

Read from the database's own per-minute counts (`ingest_counts`, written in the same
transaction as the torrents), so the figures survive restarts and count every
process that writes (the server, the CLI, remote workers).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from engine.models import IndexActivity
from engine.store.reads import outbox_size, torrent_count
from engine.store.schema import ingest_counts, sightings, torrents


def index_activity(conn: Connection, since: datetime) -> IndexActivity:
    """New torrents per minute since `since` (all sources together), and the totals."""
    c = ingest_counts.c
    per_minute = conn.execute(
        select(c.minute, func.sum(c.created))
        .where(c.minute >= since)
        .group_by(c.minute)
        .order_by(c.minute)
    ).all()
    kinds = conn.execute(
        select(torrents.c.kind, func.count())
        .group_by(torrents.c.kind)
        .order_by(func.count().desc())
    ).all()
    sources = conn.execute(
        select(sightings.c.source, func.count())
        .group_by(sightings.c.source)
        .order_by(func.count().desc())
    ).all()
    return IndexActivity(
        per_minute=tuple((minute, int(created)) for minute, created in per_minute),
        by_kind=tuple((kind or "unclassified", int(count)) for kind, count in kinds),
        by_source=tuple((source, int(count)) for source, count in sources),
        torrents=torrent_count(conn),
        index_backlog=outbox_size(conn),
    )
