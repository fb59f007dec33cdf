"""Feeds as the API, the CLI and the window see them: list, add, remove.

A feed from the settings file is listed but cannot be removed here (the file
would bring it back at the next start); one added here is stored in the database
and, when the scheduler runs in this process, polled at once and on its interval.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from engine.errors import InvalidFeed, NotFound
from engine.scheduler import CrawlerStatus, ScheduledSource, Scheduler
from engine.site_config import parse_every
from engine.sources.feeds import FeedPoller, check_feed, masked_feed_url, source_id
from engine.store.feeds import ORIGIN_API, ORIGIN_SETTINGS, FeedRow, FeedStore

__all__ = ["FeedInfo", "FeedService"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedInfo:
    """One feed: where it is, how often it is polled, where the last poll stopped."""

    name: str
    source: str
    url: str
    shown_url: str
    """`url` with its keys (apikey, passkey... parameters) as ***: the one to show people."""
    every_s: float
    origin: str
    added_at: datetime
    last_polled_at: datetime | None
    last_seen_guid: str | None
    crawler: CrawlerStatus | None
    """Its crawler's status, when the scheduler runs in this process."""


class FeedService:
    """Feeds in the database, and their crawlers in the scheduler (when there is one)."""

    def __init__(
        self,
        store: FeedStore,
        *,
        scheduler: Scheduler | None,
        poller_for: Callable[[str], FeedPoller],
        polling: bool,
    ) -> None:
        self._store = store
        self._scheduler = scheduler
        self._poller_for = poller_for
        self._polling = polling

    async def get(self, name: str) -> FeedInfo | None:
        """One feed by name, or None (a single row read, for a live search of that feed)."""
        row = await self._store.get(name)
        return self._info(row) if row is not None else None

    async def list(self) -> list[FeedInfo]:
        """Every feed, by name."""
        rows = await _all(self._store)
        return [self._info(row) for row in rows]

    async def add(self, name: str, url: str, every: str = "15m") -> FeedInfo:
        """Store a new feed and schedule it.

        Raises:
            InvalidFeed: a bad name, URL or interval, or the name is taken.
        """
        try:
            name, url = check_feed(name, url)
            every_s = parse_every(every)
        except ValueError as exc:
            raise InvalidFeed(str(exc)) from None
        if every_s is None:
            raise InvalidFeed("every: a feed is polled on an interval, not continuously")
        row = FeedRow(
            name=name, url=url, every_s=every_s, origin=ORIGIN_API, added_at=datetime.now(UTC)
        )
        if not await self._store.add(row):
            raise InvalidFeed(f"name {name!r}: a feed of that name exists")
        if self._scheduler is not None:
            self._scheduler.add(self.scheduled(row))
        return self._info(row)

    async def remove(self, name: str) -> None:
        """Delete a feed added through the API or the CLI, and stop polling it.

        Raises:
            NotFound: no such feed.
            InvalidFeed: the feed comes from the settings file (remove it there).
        """
        row = await self._store.get(name)
        if row is None:
            raise NotFound(f"no feed named {name[:64]!r}")
        if row.origin == ORIGIN_SETTINGS:
            raise InvalidFeed(f"{name!r} comes from the settings file: remove its [[feeds]] there")
        await self._store.remove(name)
        if self._scheduler is not None:
            # added by another process (the CLI): this scheduler never had it
            with contextlib.suppress(NotFound):
                self._scheduler.remove(source_id(name))

    def scheduled(self, row: FeedRow) -> ScheduledSource:
        """The scheduler's view of a feed."""
        poller = self._poller_for(row.name)
        return ScheduledSource(
            id=source_id(row.name), every_s=row.every_s, run=poller.job(), enabled=self._polling
        )

    def _info(self, row: FeedRow) -> FeedInfo:
        crawler = None
        if self._scheduler is not None:
            try:
                crawler = self._scheduler.status(source_id(row.name))
            except NotFound:
                crawler = None
        return FeedInfo(
            name=row.name,
            source=source_id(row.name),
            url=row.url,
            shown_url=masked_feed_url(row.url),
            every_s=row.every_s,
            origin=row.origin,
            added_at=row.added_at,
            last_polled_at=row.last_polled_at,
            last_seen_guid=row.last_seen_guid,
            crawler=crawler,
        )


async def _all(store: FeedStore) -> list[FeedRow]:
    return await asyncio.to_thread(store.load)
