"""Store side of the feed poller: which feeds exist, and where each poll stopped.

Feeds from the settings are written at start (`sync_settings_feeds`: their URL and
interval follow the settings, their poll state is kept); feeds added through the
API or the CLI live only here. The functions take a `Connection`: writes run inside
`Writer.call`, reads on the reader engine. `FeedStore` wraps both for async callers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, insert, select, update

from engine.store.schema import feeds
from engine.store.writer import Writer

ORIGIN_SETTINGS = "settings"
ORIGIN_API = "api"


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedRow:
    """One feed and its poll state."""

    name: str
    url: str
    every_s: float
    origin: str
    added_at: datetime
    last_seen_guid: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_polled_at: datetime | None = None


def feed_rows(conn: Connection) -> list[FeedRow]:
    """Every stored feed, by name."""
    rows = conn.execute(select(feeds).order_by(feeds.c.name)).mappings()
    return [FeedRow(**dict(row)) for row in rows]


def feed_row(conn: Connection, name: str) -> FeedRow | None:
    """One feed by name, or None."""
    row = conn.execute(select(feeds).where(feeds.c.name == name)).mappings().first()
    return FeedRow(**dict(row)) if row is not None else None


def add_feed(conn: Connection, row: FeedRow) -> bool:
    """Store a new feed; False when the name is taken (nothing is changed then)."""
    if conn.execute(select(feeds.c.name).where(feeds.c.name == row.name)).first():
        return False
    conn.execute(insert(feeds).values(**_values(row)))
    return True


def remove_feed(conn: Connection, name: str) -> bool:
    """Delete a feed; False when there was none of that name."""
    return conn.execute(delete(feeds).where(feeds.c.name == name)).rowcount > 0


def sync_settings_feeds(conn: Connection, wanted: Sequence[FeedRow]) -> None:
    """Make the settings' feeds match `wanted`, keeping the poll state of those that stay.

    A feed that left the settings is deleted; its URL or interval follows the
    settings; a changed URL forgets where the last poll stopped (another feed).
    """
    stored = {row.name: row for row in feed_rows(conn) if row.origin == ORIGIN_SETTINGS}
    names = {row.name for row in wanted}
    for gone in set(stored) - names:
        conn.execute(delete(feeds).where(feeds.c.name == gone))
    for row in wanted:
        old = stored.get(row.name)
        if old is None:
            conn.execute(delete(feeds).where(feeds.c.name == row.name))  # an API feed's name
            conn.execute(insert(feeds).values(**_values(row)))
        elif (old.url, old.every_s) != (row.url, row.every_s):
            changes = {"url": row.url, "every_s": row.every_s}
            if old.url != row.url:
                changes.update(last_seen_guid=None, etag=None, last_modified=None)
            conn.execute(update(feeds).where(feeds.c.name == row.name).values(**changes))


def record_poll(
    conn: Connection,
    name: str,
    *,
    polled_at: datetime,
    last_seen_guid: str | None,
    etag: str | None,
    last_modified: str | None,
) -> None:
    """Keep where a poll stopped and the validators for the next conditional request."""
    conn.execute(
        update(feeds)
        .where(feeds.c.name == name)
        .values(
            last_polled_at=polled_at,
            last_seen_guid=last_seen_guid,
            etag=etag,
            last_modified=last_modified,
        )
    )


def _values(row: FeedRow) -> dict[str, object]:
    return {
        "name": row.name,
        "url": row.url,
        "every_s": row.every_s,
        "origin": row.origin,
        "added_at": row.added_at,
        "last_seen_guid": row.last_seen_guid,
        "etag": row.etag,
        "last_modified": row.last_modified,
        "last_polled_at": row.last_polled_at,
    }


class FeedStore:
    """Feed rows for async code: writes through the single `Writer`, reads off the loop."""

    def __init__(self, reader: Engine, writer: Writer) -> None:
        self._reader = reader
        self._writer = writer

    def load(self) -> list[FeedRow]:
        """Every stored feed (a blocking read, for start-up)."""
        with self._reader.connect() as conn:
            return feed_rows(conn)

    async def get(self, name: str) -> FeedRow | None:
        """One feed's current row (read at every poll: one row, not the table)."""
        return await asyncio.to_thread(self._read_one, name)

    def _read_one(self, name: str) -> FeedRow | None:
        with self._reader.connect() as conn:
            return feed_row(conn, name)

    async def add(self, row: FeedRow) -> bool:
        """Store a new feed; False when the name is taken."""
        return bool(await asyncio.wrap_future(self._writer.call(lambda c: add_feed(c, row))))

    async def remove(self, name: str) -> bool:
        """Delete a feed; False when there was none."""
        return bool(await asyncio.wrap_future(self._writer.call(lambda c: remove_feed(c, name))))

    def sync_settings(self, wanted: Sequence[FeedRow]) -> None:
        """`sync_settings_feeds` through the writer, waiting for it (start-up)."""
        self._writer.call(lambda c: sync_settings_feeds(c, wanted)).result()

    async def record_poll(
        self,
        name: str,
        *,
        polled_at: datetime,
        last_seen_guid: str | None,
        etag: str | None,
        last_modified: str | None,
    ) -> None:
        """`record_poll` through the writer."""

        def write(conn: Connection) -> None:
            record_poll(
                conn,
                name,
                polled_at=polled_at,
                last_seen_guid=last_seen_guid,
                etag=etag,
                last_modified=last_modified,
            )

        await asyncio.wrap_future(self._writer.call(write))
