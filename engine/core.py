"""`Core`: wires the engine once from settings, runs its background work, shuts it down.

Opening a core creates the data dir, opens and migrates the database, opens
the search index, starts the single writer thread and (optionally) the
classifier processes, and builds the crawl side: one client pool, proxy manager
and breaker registry, a mirror resolver per enabled site with mirrors, the
scheduler and the mirror health worker. Nothing is sent to any site while
opening. `run()` is the long-lived part (the index drainer, the enrichment
worker, the scheduler and the mirror checks); `close()` stops everything in order
so nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.config import Settings, default_config_path
from engine.dht.crawler import SOURCE as DHT_SOURCE
from engine.dht.crawler import DhtCrawler
from engine.enrich.names import TitleNames, build_title_names
from engine.enrich.setup import Enrichment
from engine.errors import ConfigError, NotFound
from engine.net.breaker import BreakerRegistry
from engine.net.clients import ClientPool
from engine.net.flaresolverr import FlareSolverr
from engine.net.health import MirrorHealthWorker, proxy_skip_reason, site_probe
from engine.net.mirrors import MirrorResolver
from engine.net.politeness import HostRateLimiter
from engine.net.proxies import ProxyManager, ProxyPolicy
from engine.pipeline import Pipeline, make_classifier_pool
from engine.scheduler import ScheduledSource, Scheduler
from engine.search.base import SearchIndex
from engine.search.drainer import IndexDrainer
from engine.search.tantivy_index import TantivyIndex
from engine.services import (
    CrawlerService,
    IngestService,
    KeyService,
    SearchService,
    Services,
    SettingsService,
    StatusService,
)
from engine.services.dht import DhtService
from engine.services.feeds import FeedService
from engine.services.keys import ensure_internal_secret
from engine.services.live import LiveSearch, searchable_sites
from engine.site_config import DEFAULT_USER_AGENT, SiteConfig, parse_every
from engine.sources import CrawlDeps, scheduled_sources, source_factories
from engine.sources.api.base import ApiSource
from engine.sources.api.source import API_SOURCES, api_crawler
from engine.sources.bitmagnet import bitmagnet_crawler
from engine.sources.bitmagnet_map import SOURCE as BITMAGNET
from engine.sources.catalog import SiteCatalog, load_catalog
from engine.sources.feed_search import FeedSearcher, can_search
from engine.sources.feeds import SOURCE_PREFIX as FEED_PREFIX
from engine.sources.feeds import FeedPoller, check_feed
from engine.sources.html.parse import HtmlSite
from engine.sources.html.sites import build_site
from engine.sources.html.source import html_crawler
from engine.sources.report import Crawler
from engine.store.crawlers import CrawlerStatusStore
from engine.store.database import Database, open_database, sqlite_url
from engine.store.feeds import ORIGIN_SETTINGS, FeedRow, FeedStore
from engine.store.live_searches import LiveSearchStore
from engine.store.mirrors import MirrorStore
from engine.store.reads import torrent_count
from engine.store.sightings import SightingLookup
from engine.store.source_state import SourceStateStore
from engine.store.writer import Writer

log = logging.getLogger(__name__)

INDEX_DIR = "index"


@dataclass(frozen=True, slots=True)
class Crawling:
    """The crawl side of the engine: the sites, their network parts, the scheduler, mirror checks.

    `health` is None when `[crawl] enabled = false` or no enabled site has mirrors:
    then nothing checks mirrors, and no request leaves for any site.
    """

    sites: Mapping[str, SiteConfig]
    deps: CrawlDeps
    mirror_store: MirrorStore
    status_store: CrawlerStatusStore
    scheduler: Scheduler
    health: MirrorHealthWorker | None
    html_sites: Mapping[str, HtmlSite]
    """The HTML sites by id, for crawls run on demand (`minato crawl`, live search)."""
    api_sources: Mapping[str, ApiSource]
    """The JSON APIs by id, likewise."""
    feeds: FeedService
    dht: DhtCrawler
    dht_refused: str | None
    """Why the settings forbid the DHT crawler; None when they allow it."""
    crawl_enabled: bool = True
    """`[crawl] enabled`: off, nothing is sent to any site, live searches included."""

    async def searchable_sources(
        self, categories: Sequence[int] = (), *, by: str = "text"
    ) -> list[str]:
        """The enabled sources that can search (live search), by source id.

        The sites, the APIs, the Bitmagnet bridge and the feeds that are Torznab indexers.

        Empty when `[crawl] enabled = false`: a live search must not reach a site either.

        Args:
            categories: Torznab categories asked; sources that carry none are left out.
            by: "text" for word searches; "imdb" for the APIs searched by IMDb id.
        """
        if not self.crawl_enabled:
            return []
        found = searchable_sites(self.sites, self.html_sites, self.api_sources, categories, by=by)
        if by == "text":
            feeds = await self.feeds.list()
            found += [f.source for f in feeds if can_search(f.url)]
        return found

    async def live_crawler(self, source: str, categories: Sequence[int] = ()) -> Crawler:
        """`crawler(source)` for a live search; a Torznab feed is searched, told `categories`.

        Raises:
            NotFound: no site, API or feed has this id.
            ConfigError: the site is disabled in the settings.
        """
        if not source.startswith(FEED_PREFIX):
            return self.crawler(source)
        name = source.removeprefix(FEED_PREFIX)
        feed = await self.feeds.get(name)
        if feed is None:
            raise NotFound(f"no feed named {name[:48]!r}")
        deps = self.deps
        return FeedSearcher(
            name, feed.url, pool=deps.pool, limiter=deps.limiter, pipeline=deps.pipeline,
            categories=categories,
        )  # fmt: skip

    def crawler(self, site_id: str) -> Crawler:
        """A crawler for one HTML site, API or the Bitmagnet bridge, outside the schedule.

        Raises:
            NotFound: no HTML site or API has this id.
            ConfigError: the site is disabled in the settings.
        """
        config = self.sites.get(site_id)
        if site_id == BITMAGNET and config is not None:
            if not config.enabled:
                raise ConfigError(
                    "sites.bitmagnet: the bridge is disabled (fix: set enabled = true and "
                    'mirrors = ["http://host:3333"] in [sites.bitmagnet])'
                )
            return bitmagnet_crawler(config, self.deps)
        site = self.html_sites.get(site_id)
        api = self.api_sources.get(site_id)
        if config is not None and not config.enabled and (site is not None or api is not None):
            raise ConfigError(
                f"sites.{site_id}: the site is disabled "
                f"(fix: set enabled = true in [sites.{site_id}])"
            )
        if config is not None and api is not None:
            return api_crawler(api, config, self.deps)
        if config is not None and site is not None:
            return html_crawler(site, config, self.deps)
        known = ", ".join(sorted({*self.html_sites, *self.api_sources, BITMAGNET}))
        raise NotFound(f"no site {site_id[:64]!r} to crawl (known: {known})")


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
        crawling: Crawling | None = None,
        names: TitleNames | None = None,
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
        self.crawling = crawling
        self.names = names

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        classify: bool | None = None,
        catalog: SiteCatalog | None = None,
        config_path: Path | None = None,
    ) -> Core:
        """Open every part; `classify=False` skips the classifier processes (quick CLI reads).

        Args:
            settings: the effective settings.
            classify: override `pipeline.classify`.
            catalog: the sites as `load_catalog` made them (the CLI loads them at start,
                naming the real config file in errors); None loads them here, from the
                built-in files, the default config directory and `settings.sites`.
            config_path: the file `settings` were loaded from, where the settings service
                saves; None: `default_config_path()` (`MINATO_CONFIG`, else the platform's).

        Raises:
            ConfigError: a setting cannot be honoured.
            StoreError: the database cannot be opened or migrated.
        """
        config_path = config_path or default_config_path()
        if catalog is None:
            # The path only names the file in error messages; the values are in `settings`.
            catalog = load_catalog(settings, config_path=config_path)
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
        try:
            crawling = _open_crawling(settings, catalog, database, writer, pipeline)
        except BaseException:
            # a bad proxy or mirror setting: close what is open, or the writer thread lingers
            writer.stop()
            if classifier is not None:
                classifier.shutdown(wait=True, cancel_futures=True)
            index.close()
            database.dispose()
            raise
        enrichment = (
            Enrichment(settings.enrich, database.reader, writer)
            if settings.enrich.enabled
            else None
        )
        secret = ensure_internal_secret(settings.server.internal_secret, data_dir)
        live = _live_search(settings, crawling, LiveSearchStore(database.reader, writer))
        names = build_title_names(settings.enrich, database.reader, writer)
        services = Services(
            ingest=IngestService(
                pipeline,
                max_records=settings.server.max_bulk_records,
                max_torrent_bytes=settings.server.max_torrent_bytes,
            ),
            search=SearchService(
                index,
                database.reader,
                live=live if settings.live.enabled else None,
                catch_up=drainer.catch_up,
                names=names,
            ),
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
            crawlers=CrawlerService(
                scheduler=crawling.scheduler,
                store=crawling.status_store,
                sites=crawling.sites,
                mirror_store=crawling.mirror_store,
                breakers=crawling.deps.breakers,
                proxies=crawling.deps.proxies,
                health=crawling.health,
                mirror_check_every_s=settings.crawl.mirror_check_minutes * 60.0,
                crawler_for=crawling.crawler,
            ),
            feeds=crawling.feeds,
            live=live,
            dht=DhtService(
                crawler=crawling.dht,
                scheduler=crawling.scheduler,
                status_store=crawling.status_store,
                state=SourceStateStore(database.reader, writer),
                refused=crawling.dht_refused,
            ),
            settings=SettingsService(settings, config_path),
        )
        return cls(
            settings,
            database,
            index,
            writer,
            drainer,
            classifier,
            services,
            pipeline,
            enrichment,
            crawling,
            names,
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
        """Background work until cancelled: index, enrich, crawl and check mirrors.

        A lost index is rebuilt first; then the outbox drainer, the enrichment worker,
        the scheduler and the mirror health worker run side by side. The site clients
        are closed when it ends: they belong to this loop.
        """
        try:
            await self.pipeline.warm_up()
            if await asyncio.to_thread(self.needs_rebuild):
                log.warning("the search index is empty but the database is not: rebuilding it")
                count = await asyncio.to_thread(self.drainer.rebuild)
                log.info("search index rebuilt: %d torrents", count)
            async with asyncio.TaskGroup() as group:
                group.create_task(self.drainer.run(), name="index-drainer")
                if self.enrichment is not None:
                    group.create_task(self.enrichment.worker.run(), name="enrichment")
                if self.crawling is not None:
                    group.create_task(self.crawling.scheduler.run(), name="scheduler")
                    if self.crawling.health is not None:
                        group.create_task(self.crawling.health.run(), name="mirror-health")
        finally:
            await self.close_network()

    async def close_network(self) -> None:
        """Close the HTTP clients, in the event loop that used them (`run` does it at its end)."""
        await self.services.live.close()  # late crawls end before their HTTP clients do
        if self.crawling is not None:
            await self.crawling.deps.pool.aclose()

    async def aclose(self) -> None:
        """`close_network`, then `close`: for callers that crawl without `run` (tests, benches)."""
        await self.close_network()
        self.close()

    def close(self) -> None:
        """Stop the writer (after its queued jobs), the classifiers and the index, in order."""
        if self.enrichment is not None:
            self.enrichment.close()
        if self.names is not None:
            self.names.close()
        self.writer.stop()
        if self.classifier is not None:
            self.classifier.shutdown(wait=True, cancel_futures=True)
        self.index.close()
        self.database.dispose()


def _open_crawling(
    settings: Settings,
    catalog: SiteCatalog,
    database: Database,
    writer: Writer,
    pipeline: Pipeline,
) -> Crawling:
    """The network parts, a resolver per enabled site with mirrors, the scheduler, the checks.

    Building sends nothing; only `Core.run` starts the scheduler and the health worker,
    and the worker only when `[crawl] enabled` is on.

    Raises:
        ConfigError: a proxy or a site's proxy policy is invalid.
    """
    sites = catalog.configs
    pool = ClientPool(user_agent=DEFAULT_USER_AGENT)
    proxies = ProxyManager(settings.proxies)
    mirror_store = MirrorStore(database.reader, writer)
    policies: dict[str, ProxyPolicy] = {}
    resolvers: dict[str, MirrorResolver] = {}
    for site in sites.values():
        if not site.enabled or not site.mirrors:
            continue
        policy = policies[site.id] = proxies.policy(site.proxy, site=site.id)
        resolvers[site.id] = MirrorResolver(
            site.id,
            site.mirrors,
            probe=site_probe(
                pool, proxies, policy, path=site.health_path, user_agent=site.user_agent
            ),
            store=mirror_store,
        )
    deps = CrawlDeps(
        pool=pool,
        proxies=proxies,
        breakers=BreakerRegistry(),
        limiter=HostRateLimiter(),
        mirrors=resolvers,
        pipeline=pipeline,
        solver=(
            FlareSolverr(settings.crawl.flaresolverr_url, client=pool.client_for(None))
            if settings.crawl.flaresolverr_url
            else None
        ),
        lookup=SightingLookup(database.reader),
        state=SourceStateStore(database.reader, writer),
    )
    html_sites = {site_id: build_site(d) for site_id, d in catalog.definitions.items()}
    sources = scheduled_sources(sites, deps, factories=source_factories(html_sites))
    if not settings.crawl.enabled:
        sources = [replace(source, enabled=False) for source in sources]
    status_store = CrawlerStatusStore(database.reader, writer)
    feed_store = FeedStore(database.reader, writer)
    feed_store.sync_settings(_settings_feeds(settings))
    scheduler = Scheduler(sources, store=status_store)
    feeds = FeedService(
        feed_store,
        scheduler=scheduler,
        poller_for=lambda name: FeedPoller(
            name, store=feed_store, pool=pool, limiter=deps.limiter, pipeline=pipeline
        ),
        polling=settings.crawl.enabled,
    )
    for row in feed_store.load():
        scheduler.add(feeds.scheduled(row))
    dht = DhtCrawler(
        settings.dht,
        pipeline=pipeline,
        reader=database.reader,
        data_dir=settings.data_path(),
        state=deps.state,
    )
    dht_refused = _dht_refused(settings, sites.get(DHT_SOURCE))
    scheduler.add(
        ScheduledSource(
            id=DHT_SOURCE,
            every_s=None,
            run=dht.run,
            enabled=dht_refused is None,
            on_by_default=settings.dht.enabled,
        )
    )
    health = None
    if settings.crawl.enabled and resolvers:
        health = MirrorHealthWorker(
            list(resolvers.values()),
            interval_s=settings.crawl.mirror_check_minutes * 60.0,
            skip_reason=proxy_skip_reason(proxies, policies),
        )
    return Crawling(
        sites=dict(sites),
        deps=deps,
        mirror_store=mirror_store,
        status_store=status_store,
        scheduler=scheduler,
        health=health,
        html_sites=html_sites,
        api_sources={site_id: cls() for site_id, cls in API_SOURCES.items()},
        feeds=feeds,
        dht=dht,
        dht_refused=dht_refused,
        crawl_enabled=settings.crawl.enabled,
    )


def _live_search(settings: Settings, crawling: Crawling, store: LiveSearchStore) -> LiveSearch:
    """The live fan-out over the crawl side, with the `[live]` deadlines, minimum and TTL."""
    live = settings.live
    return LiveSearch(
        crawling,
        store,
        breakers=crawling.deps.breakers,
        source_deadline_s=live.source_deadline_s,
        global_deadline_s=live.global_deadline_s,
        min_results=live.min_results,
        ttl=timedelta(hours=live.ttl_hours),
        thin_retry=timedelta(minutes=live.thin_retry_minutes),
    )


def _dht_refused(settings: Settings, config: SiteConfig | None) -> str | None:
    """Why the DHT may not run, naming the setting to change; None when it may."""
    if config is None or not config.enabled:
        return "the DHT is disabled in the settings (fix: remove enabled = false from [sites.dht])"
    if not settings.crawl.enabled:
        return "crawling is off: [crawl] enabled = false (fix: set it to true)"
    return None


def _settings_feeds(settings: Settings) -> list[FeedRow]:
    """The `[[feeds]]` of the settings as rows, checked.

    Raises:
        ConfigError: a feed's name, URL or interval is unusable, or a name is used twice.
    """
    rows: dict[str, FeedRow] = {}
    now = datetime.now(UTC)
    for index, feed in enumerate(settings.feeds):
        try:
            name, url = check_feed(feed.name, feed.url)
            every_s = parse_every(feed.every)
        except ValueError as exc:
            raise ConfigError(f"feeds[{index}]: {exc}") from None
        if every_s is None or name in rows:
            why = "is used twice" if name in rows else "needs an interval, not continuous"
            raise ConfigError(f"feeds[{index}]: {name!r} {why}")
        rows[name] = FeedRow(
            name=name, url=url, every_s=every_s, origin=ORIGIN_SETTINGS, added_at=now
        )
    return list(rows.values())


def _open_index(settings: Settings, data_dir: Path) -> SearchIndex:
    backend = settings.search.backend
    if backend == "meilisearch":
        raise ConfigError(
            "search.backend: the Meilisearch backend is not available in this version "
            '(fix: set search.backend to "auto" or "embedded")'
        )
    return TantivyIndex(data_dir / INDEX_DIR)
