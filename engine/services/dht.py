"""The DHT crawler as the API, the CLI and the window see it: its state, its figures, start/stop.

The scheduler runs the crawler as the continuous source "dht" and keeps its
state (running, disabled, backing off) and the user's start/stop choice; the
crawler keeps the figures (routing table, hashes discovered, metadata fetched,
failures, rates). When the crawler is not running in this process (the CLI
without a server, or the DHT stopped) the figures shown are the last ones it
saved, marked as not live.

Pausing indexing (`CrawlerService.pause`) closes the node like `stop` does but
keeps the start/stop choice: `resume` starts a node again when the DHT was on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.dht.crawler import SOURCE, DhtCrawler
from engine.dht.figures import DhtFigures
from engine.errors import DisabledBySettings, NotFound
from engine.scheduler import CrawlerState, CrawlerStatus, Scheduler
from engine.store.crawlers import CrawlerStatusStore
from engine.store.source_state import SourceStateStore

__all__ = ["DhtFigures", "DhtReport", "DhtService"]

STOP_WAIT_S = 15.0
"""How long `stop` waits for the node to close before answering anyway."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DhtReport:
    """The DHT crawler's scheduler status and its figures."""

    status: CrawlerStatus
    figures: DhtFigures
    live: bool
    """True: the figures are this process's crawler's now; False: the last ones saved."""


class DhtService:
    """Start, stop and look at the DHT crawler."""

    def __init__(
        self,
        *,
        crawler: DhtCrawler | None,
        scheduler: Scheduler,
        status_store: CrawlerStatusStore,
        state: SourceStateStore,
        refused: str | None = None,
    ) -> None:
        """`refused`: why the settings forbid the DHT (None: they allow it)."""
        self._crawler = crawler
        self._refused = refused
        self._scheduler = scheduler
        self._status_store = status_store
        self._state = state

    async def report(self) -> DhtReport:
        """The state and figures now (live when the crawler runs in this process)."""
        status = self._status()
        live = self._crawler.figures() if self._crawler is not None else None
        if live is not None and live.running:
            return DhtReport(status=status, figures=live, live=True)
        return DhtReport(status=status, figures=await self._saved_figures(), live=False)

    async def start(self) -> DhtReport:
        """Turn the DHT crawler on (kept across restarts) and start it now.

        While indexing is paused the choice is kept and the node starts at `resume`.

        Raises:
            DisabledBySettings: the settings forbid the DHT (saying which setting).
        """
        self.check_allowed()
        await self._scheduler.start(SOURCE)
        return await self.report()

    async def stop(self) -> DhtReport:
        """Turn the DHT crawler off (kept across restarts); answers once its node has left."""
        await self._scheduler.stop(SOURCE)
        if self._crawler is not None:
            await self._crawler.wait_ended(STOP_WAIT_S)
        return await self.report()

    def saved_report(self) -> DhtReport:
        """What the last run saved, read from the database (the CLI, with no server running)."""
        status = self._status_store.load().get(SOURCE) or _unsaved(self._scheduler)
        figures = self._state.load_now(SOURCE)
        return DhtReport(
            status=status,
            figures=DhtFigures.from_json(figures) if figures else DhtFigures(),
            live=False,
        )

    async def saved_start_choice(self, enabled: bool) -> CrawlerStatus:
        """Keep the user's start/stop choice for the next `minato serve` (no server running)."""
        current = self._status_store.load().get(SOURCE) or _unsaved(self._scheduler)
        state = CrawlerState.IDLE if enabled else CrawlerState.DISABLED
        message = "started: runs with the server" if enabled else "stopped"
        chosen = replace(current, enabled=enabled, state=state, message=message)
        await self._status_store.save(chosen)
        return chosen

    def check_allowed(self) -> None:
        """Raise `DisabledBySettings` naming the setting when the settings forbid the DHT."""
        if self._refused is not None:
            raise DisabledBySettings(self._refused)

    def _status(self) -> CrawlerStatus:
        return _unsaved(self._scheduler)

    async def _saved_figures(self) -> DhtFigures:
        data = await self._state.load(SOURCE)
        return DhtFigures.from_json(data) if data else DhtFigures()


def _unsaved(scheduler: Scheduler) -> CrawlerStatus:
    try:
        return scheduler.status(SOURCE)
    except NotFound:
        return CrawlerStatus(source=SOURCE, state=CrawlerState.DISABLED, enabled=False)
