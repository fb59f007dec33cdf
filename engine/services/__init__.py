"""The only API that `server/` and `app/` call: ingest, search, keys, status, crawlers, the DHT.

The server and the GUI are peers: both hold a `Services` and neither touches
the store, the search index or the sources directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.services.crawlers import CrawlerService
from engine.services.dht import DhtService
from engine.services.feeds import FeedService
from engine.services.ingest import IngestService
from engine.services.keys import KeyService
from engine.services.live import LiveSearch
from engine.services.search import (
    SearchService,
    SearchUpdate,
    parse_live_mode,
    parse_search_params,
)
from engine.services.settings import SaveReport, SettingsForm, SettingsService, SiteEntry
from engine.services.status import StatusService

__all__ = [
    "CrawlerService",
    "DhtService",
    "FeedService",
    "IngestService",
    "KeyService",
    "LiveSearch",
    "SaveReport",
    "SearchService",
    "SearchUpdate",
    "Services",
    "SettingsForm",
    "SettingsService",
    "SiteEntry",
    "StatusService",
    "parse_live_mode",
    "parse_search_params",
]


@dataclass(frozen=True, slots=True)
class Services:
    """Every service, wired once by `engine.core.Core`."""

    ingest: IngestService
    search: SearchService
    keys: KeyService
    status: StatusService
    crawlers: CrawlerService
    feeds: FeedService
    dht: DhtService
    live: LiveSearch
    settings: SettingsService
