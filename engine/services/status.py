"""Health, counts and index maintenance (drain, rebuild)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from engine import __version__
from engine.models import EngineHealth, EnricherStatus, IndexActivity, ProgressCallback
from engine.reclassify import reclassify_all
from engine.search.base import SearchIndex
from engine.search.drainer import IndexDrainer
from engine.store.activity import index_activity
from engine.store.enrichment import enrich_backlog
from engine.store.reads import outbox_size, source_names, torrent_count
from engine.store.writer import Writer


class StatusService:
    """What `/api/health`, `minato reindex` and status views call."""

    def __init__(
        self,
        index: SearchIndex,
        drainer: IndexDrainer,
        reader: Engine,
        database: str,
        *,
        writer: Writer,
        classifier: Executor | None,
        enrichment: Callable[[], Sequence[EnricherStatus]] | None = None,
    ) -> None:
        self._index = index
        self._drainer = drainer
        self._reader = reader
        self._database = database
        self._writer = writer
        self._classifier = classifier
        self._enrichment = enrichment

    async def health(self) -> EngineHealth:
        """Version, database, backend, torrent count, index and lookup backlogs, services."""
        return await asyncio.to_thread(self.health_sync)

    def health_sync(self) -> EngineHealth:
        """`health` for callers outside an event loop."""
        with self._reader.connect() as conn:
            torrents, backlog = torrent_count(conn), outbox_size(conn)
            lookups = enrich_backlog(conn)
        return EngineHealth(
            version=__version__,
            database=self._database,
            search_backend=self._index.stats().backend,
            torrents=torrents,
            index_backlog=backlog,
            enrich_backlog=lookups,
            enrichment=tuple(self._enrichment()) if self._enrichment else (),
        )

    async def activity(self, hours: float = 1.0) -> IndexActivity:
        """Torrents indexed per minute over the last `hours`, and totals by kind and source."""
        since = datetime.now(UTC) - timedelta(hours=hours)
        return await asyncio.to_thread(self._activity, since)

    def _activity(self, since: datetime) -> IndexActivity:
        with self._reader.connect() as conn:
            return index_activity(conn, since)

    async def sources(self) -> list[str]:
        """Every source that reported a torrent (uploads and workers too), by name."""
        return await asyncio.to_thread(self._sources)

    def _sources(self) -> list[str]:
        with self._reader.connect() as conn:
            return source_names(conn)

    def reindex(
        self, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> int:
        """Rebuild the search index from the database; returns torrents indexed.

        Raises:
            RebuildCancelled: `cancel` was set before the end (the next start completes it).
        """
        return self._drainer.rebuild(progress, cancel=cancel)

    def reclassify(self, progress: ProgressCallback | None = None) -> tuple[int, int]:
        """Run the classifier again over every torrent; returns (examined, changed)."""
        return reclassify_all(self._reader, self._writer, self._classifier, progress)

    def drain_index(self) -> int:
        """Bring the search index up to date with the database now (CLI)."""
        return self._drainer.drain_all()
