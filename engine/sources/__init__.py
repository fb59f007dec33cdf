"""Sources: what the scheduler crawls, and the one place where they are registered.

`scheduled_sources` is where sources join: each entry of the factories table maps
a source id of the site settings to a factory that, given the site's
configuration and the engine's shared parts (`CrawlDeps`), returns the job the
scheduler runs. The table is `source_factories(definitions)`: one entry per HTML
site definition (built-in or the user's) plus `BUILTIN_SOURCES`, the sources
written in Python (the JSON APIs, feeds, the DHT and the Bitmagnet bridge come in
later issues). Registration is explicit and finite (no import-time side effects).

Every request a source makes goes through `CrawlDeps.site_client`, which shares
the mirror resolvers that the health worker keeps up to date: a crawl starts on
the mirror the last check found fastest, and a failover during a crawl is seen by
the next check and by the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from engine.errors import ConfigError
from engine.net.breaker import BreakerRegistry
from engine.net.clients import ClientPool
from engine.net.flaresolverr import FlareSolverr
from engine.net.mirrors import MirrorResolver
from engine.net.politeness import HostRateLimiter
from engine.net.proxies import ProxyManager
from engine.net.site_client import SiteClient
from engine.pipeline import Pipeline
from engine.scheduler import CrawlContext, Job, RunResult, ScheduledSource
from engine.site_config import SiteConfig
from engine.sources.api.source import API_SOURCES, api_source
from engine.sources.bitmagnet import bitmagnet_source
from engine.sources.html.parse import HtmlSite
from engine.sources.html.source import html_source
from engine.store.sightings import SightingLookup
from engine.store.source_state import SourceStateStore


@dataclass(frozen=True, slots=True, kw_only=True)
class CrawlDeps:
    """What a source needs from the engine, built once by `engine.core.Core`."""

    pool: ClientPool
    proxies: ProxyManager
    breakers: BreakerRegistry
    limiter: HostRateLimiter
    mirrors: Mapping[str, MirrorResolver]
    """One resolver per enabled site that has mirrors, by site id."""
    pipeline: Pipeline
    """Where found records go (normalize, classify, store, index)."""
    solver: FlareSolverr | None = None
    """Passes challenge pages when `[crawl] flaresolverr_url` is set."""
    lookup: SightingLookup | None = None
    """What the index already knows of a listing's rows (deep crawls skip known detail pages)."""
    state: SourceStateStore | None = None
    """Where a source keeps what it needs between runs (the Bitmagnet bridge's watermark)."""

    def site_client(self, config: SiteConfig) -> SiteClient:
        """The client for every request of one site: its mirrors, proxies, rate limit, breaker.

        Raises:
            ConfigError: the site has no mirrors (a DHT source) or is disabled.
        """
        resolver = self.mirrors.get(config.id)
        if resolver is None:
            raise ConfigError(f"sites.{config.id}: no mirrors to send requests to")
        return SiteClient(
            config,
            pool=self.pool,
            proxies=self.proxies,
            limiter=self.limiter,
            breaker=self.breakers.get(config.id),
            mirrors=resolver,
            solver=self.solver,
        )


SourceFactory = Callable[[SiteConfig, CrawlDeps], Job]
"""Builds the job that crawls one site (the scheduler calls it on each run)."""

BUILTIN_SOURCES: Mapping[str, SourceFactory] = MappingProxyType(
    {
        **{source_id: api_source(cls()) for source_id, cls in API_SOURCES.items()},
        "bitmagnet": bitmagnet_source,
    }
)
"""Source id -> factory for the sources written in Python (the JSON APIs, the Bitmagnet bridge)."""


def source_factories(html_sites: Mapping[str, HtmlSite]) -> dict[str, SourceFactory]:
    """Every source that can be scheduled: one per HTML site, then `BUILTIN_SOURCES`.

    Raises:
        ConfigError: a site definition reuses the id of a built-in source.
    """
    factories = {site_id: html_source(site) for site_id, site in html_sites.items()}
    for site_id, factory in BUILTIN_SOURCES.items():
        if site_id in factories:
            path = html_sites[site_id].definition.path
            raise ConfigError(f"{path}: id: {site_id!r} is a built-in source")
        factories[site_id] = factory
    return factories


def scheduled_sources(
    configs: Mapping[str, SiteConfig],
    deps: CrawlDeps,
    *,
    factories: Mapping[str, SourceFactory] = BUILTIN_SOURCES,
) -> list[ScheduledSource]:
    """The sources the scheduler runs: each configured site that has a factory, by id.

    A site disabled in the settings is still listed (disabled), so the API shows it
    and says why it does not run; its job is built only when it is enabled, because
    a disabled site may lack what its job needs (mirrors, a proxy).
    """
    sources: list[ScheduledSource] = []
    for site_id in sorted(factories):
        config = configs.get(site_id)
        if config is None:
            continue
        job = factories[site_id](config, deps) if config.enabled else _never_runs
        sources.append(
            ScheduledSource(id=site_id, every_s=config.every_s, run=job, enabled=config.enabled)
        )
    return sources


async def _never_runs(ctx: CrawlContext) -> RunResult:  # pragma: no cover - never called
    raise RuntimeError(f"{ctx.source}: a source disabled in the settings was run")
