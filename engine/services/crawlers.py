"""Crawlers, sites and mirrors as the API, the CLI and the window see them.

The scheduler holds the live state of every crawler; the database holds what the
last run saved (the CLI reads that, since it has no scheduler running). Sites are
the merged site configuration plus what the network layer knows of each: its
mirrors (configured order, last health check, the one in use), its circuit
breaker and the proxies it may use (shown by their safe URLs, never with
credentials).

"Pause indexing" (`pause`/`resume`) holds every background crawl (sites, APIs,
feeds, the DHT) for this run of the program; it is not saved. What a person asks
for is not background indexing and keeps working while paused: live search from
the search bar, a crawl started by hand (`crawl_site`), and the ingest API.

Ids come from URLs, so every lookup checks the id against the known ones first
and answers `NotFound` with a shortened id: a 4 KB id is not echoed back whole.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from engine.errors import NotFound
from engine.net.breaker import BreakerRegistry, BreakerSnapshot, BreakerState
from engine.net.health import MirrorHealthWorker
from engine.net.proxies import ProxyManager, ProxyStatus
from engine.scheduler import CrawlerState, CrawlerStatus, Scheduler
from engine.site_config import SiteConfig
from engine.sources.report import Crawler, CrawlReport, CrawlRequestError
from engine.store.crawlers import CrawlerStatusStore
from engine.store.mirrors import MirrorCheck, MirrorState, MirrorStore

__all__ = [
    "BreakerSnapshot",
    "BreakerState",
    "CrawlReport",
    "CrawlRequestError",
    "CrawlerService",
    "CrawlerState",
    "CrawlerStatus",
    "MirrorCheck",
    "MirrorCheckSchedule",
    "MirrorReport",
    "MirrorState",
    "ProxyStatus",
    "SiteInfo",
    "SiteMirrors",
]

DEFAULT_HISTORY = 10
"""Checks shown per mirror: enough to see a pattern (flapping, slowly dying), short to read."""
MAX_HISTORY = 100
"""The store keeps no more than this per mirror anyway (`HISTORY_PER_MIRROR`)."""
_SHOWN_ID_CHARS = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteInfo:
    """One site: its settings and what the network layer knows of it now."""

    id: str
    kind: str
    enabled: bool
    every_s: float | None
    """Seconds between crawls; None: continuous (the DHT)."""
    proxy: str | tuple[str, ...]
    """The proxy policy: "none", "pool", "sticky", or the names of the proxies it uses."""
    current_mirror: str | None
    """The mirror crawls use (the chosen one, else the first configured); None without mirrors."""
    mirrors: int
    mirrors_online: int
    """Mirrors whose last check found them answering as the site (not blocked)."""
    checked_at: datetime | None
    """The most recent check of any of its mirrors."""
    breaker: BreakerSnapshot | None
    """None while no request was sent to the site (its breaker is closed)."""
    crawler: CrawlerState | None
    """The scheduler's state of its crawler; None when no crawler exists for it yet."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MirrorReport:
    """One mirror's state and its latest checks, newest first."""

    state: MirrorState
    history: tuple[MirrorCheck, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteMirrors:
    """Every configured mirror of one site, in config order."""

    site: str
    current: str | None
    mirrors: tuple[MirrorReport, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MirrorCheckSchedule:
    """Whether the background mirror checks run, how often, and when they last did."""

    enabled: bool
    every_s: float
    last_round_at: datetime | None


class CrawlerService:
    """What `/api/crawlers`, `/api/sites`, `minato crawlers` and the crawler view call."""

    def __init__(
        self,
        *,
        scheduler: Scheduler,
        store: CrawlerStatusStore,
        sites: Mapping[str, SiteConfig],
        mirror_store: MirrorStore,
        breakers: BreakerRegistry,
        proxies: ProxyManager,
        health: MirrorHealthWorker | None,
        mirror_check_every_s: float,
        crawler_for: Callable[[str], Crawler] | None = None,
    ) -> None:
        self._scheduler = scheduler
        self._store = store
        self._sites = dict(sites)
        self._mirror_store = mirror_store
        self._breakers = breakers
        self._proxies = proxies
        self._health = health
        self._check_every_s = mirror_check_every_s
        self._crawler_for = crawler_for

    # --- crawlers ---------------------------------------------------------------------------

    async def crawl_site(
        self,
        site: str,
        mode: str = "latest",
        *,
        query: str | None = None,
        category: str | None = None,
        depth: int | None = None,
        progress: Callable[[CrawlReport], None] | None = None,
    ) -> CrawlReport:
        """Crawl one HTML site now, outside its schedule (`minato crawl`, a button).

        Raises:
            NotFound: no HTML site has this id.
            ConfigError: the site is disabled in the settings.
            CrawlRequestError: the mode, query, category or depth is unusable.
            LayoutChanged / NetworkError: the crawl stopped (what it found is kept).
        """
        if self._crawler_for is None:
            raise NotFound("no HTML sites are configured")
        crawler = self._crawler_for(site)
        crawl_id = f"{site}:manual:{uuid.uuid4().hex[:8]}"
        return await crawler.crawl(
            mode, query=query, category=category, depth=depth, crawl_id=crawl_id, progress=progress
        )

    def statuses(self) -> list[CrawlerStatus]:
        """Every crawler's live status, by id (from the running scheduler)."""
        return self._scheduler.statuses()

    def saved_statuses(self) -> list[CrawlerStatus]:
        """Every status the database holds, by id: what the last run saved (blocking read).

        For callers without a running scheduler (the CLI); a source that is no longer
        configured still shows with its last state.
        """
        return list(self._store.load().values())

    @property
    def paused(self) -> bool:
        """True while indexing is paused (`pause` until `resume`)."""
        return self._scheduler.paused

    async def pause(self) -> list[CrawlerStatus]:
        """Pause indexing: cancel every crawl under way, start none, stop polling feeds and the DHT.

        Each crawler keeps its own start/stop choice (nothing is saved as stopped), and
        the pause itself lasts only for this run of the program. Pausing twice is harmless.
        Answers with every crawler's status once the cancelled crawls have ended.
        """
        return await self._scheduler.pause()

    async def resume(self) -> list[CrawlerStatus]:
        """Resume indexing: overdue crawlers (and those cancelled by the pause) run now.

        The others keep their schedule; a crawler stopped meanwhile stays stopped and
        one started meanwhile runs now. Resuming when not paused is harmless.
        """
        return await self._scheduler.resume()

    async def start(self, source: str) -> CrawlerStatus:
        """Enable a crawler and run it now; a crawler off in the settings stays off.

        While indexing is paused the choice is kept, and the crawler runs at `resume`.

        Raises:
            NotFound: no crawler has this id.
        """
        self._known_crawler(source)
        return await self._scheduler.start(source)

    async def stop(self, source: str) -> CrawlerStatus:
        """Disable a crawler, cancelling its crawl if one runs (paused or not: it stays off).

        Raises:
            NotFound: no crawler has this id.
        """
        self._known_crawler(source)
        return await self._scheduler.stop(source)

    # --- sites and mirrors --------------------------------------------------------------------

    async def sites(self) -> list[SiteInfo]:
        """Every known site (built-in and configured), by id."""
        stored = await self._mirror_store.states()
        by_site: dict[str, list[MirrorState]] = {}
        for state in stored:
            by_site.setdefault(state.site, []).append(state)
        crawlers = {s.source: s.state for s in self._scheduler.statuses()}
        return [
            self._site_info(config, _configured(config, by_site.get(site_id, ())), crawlers)
            for site_id, config in sorted(self._sites.items())
        ]

    async def mirrors(self, site_id: str, *, history: int = DEFAULT_HISTORY) -> SiteMirrors:
        """One site's mirrors in config order, each with its latest checks (newest first).

        Raises:
            NotFound: no site has this id.
        """
        config = self._sites.get(site_id)
        if config is None:
            raise NotFound(f"no site named {_shown(site_id)}")
        limit = max(0, min(history, MAX_HISTORY))
        states = _configured(config, await self._mirror_store.states(site_id))
        checks = await asyncio.gather(
            *(self._mirror_store.history(site_id, s.url, limit) for s in states)
        )
        return SiteMirrors(
            site=site_id,
            current=_current(config, states),
            mirrors=tuple(
                MirrorReport(state=state, history=tuple(found))
                for state, found in zip(states, checks, strict=True)
            ),
        )

    def proxies(self) -> list[ProxyStatus]:
        """Every configured proxy's health, by its safe URL (the password shown as ***)."""
        return self._proxies.status()

    def mirror_checks(self) -> MirrorCheckSchedule:
        """Whether the background mirror checks run, how often, and when they last ran."""
        return MirrorCheckSchedule(
            enabled=self._health is not None,
            every_s=self._check_every_s,
            last_round_at=self._health.last_round_at if self._health is not None else None,
        )

    # --- helpers ----------------------------------------------------------------------------

    def _known_crawler(self, source: str) -> None:
        if source not in {s.source for s in self._scheduler.statuses()}:
            raise NotFound(f"no crawler named {_shown(source)}")

    def _site_info(
        self,
        config: SiteConfig,
        states: Sequence[MirrorState],
        crawlers: Mapping[str, CrawlerState],
    ) -> SiteInfo:
        checked = [s.checked_at for s in states if s.checked_at is not None]
        return SiteInfo(
            id=config.id,
            kind=config.kind,
            enabled=config.enabled,
            every_s=config.every_s,
            proxy=config.proxy,
            current_mirror=_current(config, states),
            mirrors=len(states),
            mirrors_online=sum(1 for s in states if s.usable),
            checked_at=max(checked, default=None),
            breaker=(
                self._breakers.get(config.id).snapshot() if config.id in self._breakers else None
            ),
            crawler=crawlers.get(config.id),
        )


def _configured(config: SiteConfig, stored: Sequence[MirrorState]) -> list[MirrorState]:
    """The configured mirrors in config order, each with its stored state when there is one.

    The database may still hold mirrors the config dropped (until a resolver syncs)
    and may lack new ones; the config decides which mirrors exist.
    """
    known = {s.url: s for s in stored}
    return [
        replace(known[url], position=position)
        if url in known
        else MirrorState(site=config.id, url=url, position=position)
        for position, url in enumerate(config.mirrors)
    ]


def _current(config: SiteConfig, states: Sequence[MirrorState]) -> str | None:
    """What `MirrorResolver.current()` answers: the chosen mirror, else the first configured."""
    chosen = next((s.url for s in states if s.chosen), None)
    return chosen or (config.mirrors[0] if config.mirrors else None)


def _shown(value: str) -> str:
    """`value` quoted for a message, cut short: ids come from URLs and may be huge."""
    if len(value) <= _SHOWN_ID_CHARS:
        return repr(value)
    return repr(value[:_SHOWN_ID_CHARS]) + f"... ({len(value)} characters)"
