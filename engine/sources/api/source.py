"""A JSON API as a scheduled source, and the table of the API sources Minato has."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from engine.scheduler import Job
from engine.site_config import SiteConfig
from engine.sources.api.apibay import ApiBaySource
from engine.sources.api.base import ApiSource
from engine.sources.api.crawl import ApiCrawler
from engine.sources.api.eztv import EztvSource
from engine.sources.api.knaben import KnabenSource
from engine.sources.api.yts import YtsSource
from engine.sources.report import latest_job

if TYPE_CHECKING:
    from engine.sources import CrawlDeps, SourceFactory

API_SOURCES: Final[Mapping[str, type[ApiSource]]] = MappingProxyType(
    {
        "apibay": ApiBaySource,
        "eztv": EztvSource,
        "knaben": KnabenSource,
        "yts": YtsSource,
    }
)
"""Source id -> API class: explicit and finite (STYLE.md C5)."""


def api_crawler(source: ApiSource, config: SiteConfig, deps: CrawlDeps) -> ApiCrawler:
    """The crawler of one API, with the client every source shares.

    Raises:
        ConfigError: the site is disabled or has no mirrors.
    """
    return ApiCrawler(source, config, deps.site_client(config), deps.pipeline)


def api_source(source: ApiSource) -> SourceFactory:
    """The factory the registry keeps for an API."""

    def factory(config: SiteConfig, deps: CrawlDeps) -> Job:
        return latest_job(api_crawler(source, config, deps))

    return factory
