"""`Core`: wires the engine once from settings, runs its background work, shuts it down.

Opening a core creates the data dir, opens and migrates the database, opens
the search index, starts the single writer thread and (optionally) the
classifier processes. `run()` is the long-lived part (the index drainer and the enrichment worker);
`close()` stops everything in order so nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from engine.config import Settings
from engine.enrich.setup import Enrichment
from engine.errors import ConfigError
from engine.pipeline import Pipeline, make_classifier_pool
from engine.search.base import SearchIndex
from engine.search.drainer import IndexDrainer
from engine.search.tantivy_index import TantivyIndex
from engine.services import (
    IngestService,
    KeyService,
    SearchService,
    Services,
    StatusService,
)
from engine.services.keys import ensure_internal_secret
from engine.store.database import Database, open_database, sqlite_url
from engine.store.reads import torrent_count
from engine.store.writer import Writer

log = logging.getLogger(__name__)

INDEX_DIR = "index"


class Core:
    """The engine, assembled: database, writer, pipeline, index, drainer, services."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        index: SearchIndex,
        writer: Writer,
        drainer: IndexDrainer,
        classifier: ProcessPoolExecutor | None,
        services: Services,
        pipeline: Pipeline,
        enrichment: Enrichment | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.index = index
        self.writer = writer
        self.drainer = drainer
        self.classifier = classifier
        self.services = services
        self.pipeline = pipeline
        self.enrichment = enrichment

    @classmethod
    def open(cls, settings: Settings, *, classify: bool | None = None) -> Core:
        """Open every part; `classify=False` skips the classifier processes (quick CLI reads).

        Raises:
            ConfigError: a setting cannot be honoured.
            StoreError: the database cannot be opened or migrated.
        """
        data_dir = settings.data_path()
        data_dir.mkdir(parents=True, exist_ok=True)
        database = open_database(settings.storage.database_url or sqlite_url(data_dir))
        index = _open_index(settings, data_dir)
        drainer_box: list[IndexDrainer] = []
        writer = Writer(
            database.writer,
            batch_records=settings.pipeline.batch_records,
            on_commit=lambda: drainer_box[0].wake() if drainer_box else None,
        )
        writer.start()
        drainer = IndexDrainer(index, database.reader, writer, batch=settings.pipeline.index_batch)
        drainer_box.append(drainer)
        use_classifier = settings.pipeline.classify if classify is None else classify
        classifier = (
            make_classifier_pool(settings.pipeline.classify_workers) if use_classifier else None
        )
        pipeline = Pipeline(
            writer,
            database.reader,
            classifier=classifier,
            batch_records=settings.pipeline.batch_records,
        )
        enrichment = (
            Enrichment(settings.enrich, database.reader, writer)
            if settings.enrich.enabled
            else None
        )
        secret = ensure_internal_secret(settings.server.internal_secret, data_dir)
        services = Services(
            ingest=IngestService(
                pipeline,
                max_records=settings.server.max_bulk_records,
                max_torrent_bytes=settings.server.max_torrent_bytes,
            ),
            search=SearchService(index, database.reader),
            keys=KeyService(database.reader, writer, secret),
            status=StatusService(
                index,
                drainer,
                database.reader,
                database.location,
                writer=writer,
                classifier=classifier,
                enrichment=enrichment.status if enrichment else None,
            ),
        )
        return cls(
            settings, database, index, writer, drainer, classifier, services, pipeline, enrichment
        )

    def needs_rebuild(self) -> bool:
        """True when the index was (re)created, or is empty while the database is not."""
        if self.index.needs_rebuild:
            return True
        if self.index.stats().documents > 0:
            return False
        with self.database.reader.connect() as conn:
            return torrent_count(conn) > 0

    async def run(self) -> None:
        """Background work until cancelled: rebuild a lost index, then drain the outbox."""
        await self.pipeline.warm_up()
        if await asyncio.to_thread(self.needs_rebuild):
            log.warning("the search index is empty but the database is not: rebuilding it")
            count = await asyncio.to_thread(self.drainer.rebuild)
            log.info("search index rebuilt: %d torrents", count)
        async with asyncio.TaskGroup() as group:
            group.create_task(self.drainer.run())
            if self.enrichment is not None:
                group.create_task(self.enrichment.worker.run())

    def close(self) -> None:
        """Stop the writer (after its queued jobs), the classifiers and the index, in order."""
        if self.enrichment is not None:
            self.enrichment.close()
        self.writer.stop()
        if self.classifier is not None:
            self.classifier.shutdown(wait=True, cancel_futures=True)
        self.index.close()
        self.database.dispose()


def _open_index(settings: Settings, data_dir: Path) -> SearchIndex:
    backend = settings.search.backend
    if backend == "meilisearch":
        raise ConfigError(
            "search.backend: the Meilisearch backend is not available in this version "
            '(fix: set search.backend to "auto" or "embedded")'
        )
    return TantivyIndex(data_dir / INDEX_DIR)
