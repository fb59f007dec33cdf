"""An HTML site as a scheduled source: its crawler, built per run from the shared parts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.scheduler import Job
from engine.site_config import SiteConfig
from engine.sources.html.crawl import HtmlCrawler
from engine.sources.html.parse import HtmlSite
from engine.sources.report import latest_job

if TYPE_CHECKING:
    from engine.sources import CrawlDeps, SourceFactory


def html_crawler(site: HtmlSite, config: SiteConfig, deps: CrawlDeps) -> HtmlCrawler:
    """The crawler of one site, with the client and lookups every source shares.

    Raises:
        ConfigError: the site is disabled or has no mirrors.
    """
    return HtmlCrawler(site, config, deps.site_client(config), deps.pipeline, deps.lookup)


def html_source(site: HtmlSite) -> SourceFactory:
    """The factory the registry keeps for a site definition."""

    def factory(config: SiteConfig, deps: CrawlDeps) -> Job:
        return latest_job(html_crawler(site, config, deps))

    return factory
