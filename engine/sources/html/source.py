"""An HTML site as a scheduled source: its crawler, built per run from the shared parts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.scheduler import CrawlContext, Job, RunResult
from engine.site_config import SiteConfig
from engine.sources.html.crawl import CrawlReport, HtmlCrawler
from engine.sources.html.parse import HtmlSite

if TYPE_CHECKING:
    from engine.sources import CrawlDeps, SourceFactory


def html_crawler(site: HtmlSite, config: SiteConfig, deps: CrawlDeps) -> HtmlCrawler:
    """The crawler of one site, with the client and lookups every source shares.

    Raises:
        ConfigError: the site is disabled or has no mirrors.
    """
    return HtmlCrawler(site, config, deps.site_client(config), deps.pipeline, deps.lookup)


def latest_job(crawler: HtmlCrawler) -> Job:
    """The scheduled run: the newest listings to the site's depth, progress as heartbeats."""

    async def run(ctx: CrawlContext) -> RunResult:
        def progress(report: CrawlReport) -> None:
            ctx.heartbeat(items_seen=report.rows, items_new=report.new)

        report = await crawler.crawl("latest", crawl_id=ctx.crawl_id, progress=progress)
        return RunResult(items_seen=report.rows, items_new=report.new)

    return run


def html_source(site: HtmlSite) -> SourceFactory:
    """The factory the registry keeps for a site definition."""

    def factory(config: SiteConfig, deps: CrawlDeps) -> Job:
        return latest_job(html_crawler(site, config, deps))

    return factory
