"""The crawlers tab: its sources, their sites' mirrors, the feeds, and the DHT, as sub-tabs.

"Sources" lists every crawler's state and figures, live, with start (run now) and
stop; both choices survive a restart, as through the HTTP API. The other sub-tabs
are panels of their own modules. Each panel refreshes on its own timer only while
it is on screen (and once at once when it appears): a hidden tab costs the engine
nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import CoreBridge, Ticket
from app.desktop.dht_panel import DhtPanel
from app.desktop.feeds_panel import FeedsPanel
from app.desktop.labels import ago, crawler_state, until
from app.desktop.live_view import LiveView
from app.desktop.mirrors_panel import MirrorsPanel
from app.desktop.table_model import RowsModel, show_rows
from app.desktop.widgets import Note
from engine.errors import MinatoError
from engine.services import Services
from engine.services.crawlers import CrawlerStatus

REFRESH_MS: Final = 2000
COLUMNS: Final = (
    "Source",
    "State",
    "Heartbeat",
    "Last run new/seen",
    "Total",
    "Runs",
    "Next run",
    "Last error",
)
NEXT_RUN: Final = COLUMNS.index("Next run")
_ERROR_CHARS: Final = 120
"""A cell shows this much of an error; the tooltip has it whole."""


async def _statuses(services: Services) -> list[CrawlerStatus]:
    return services.crawlers.statuses()


class CrawlersModel(RowsModel[CrawlerStatus]):
    """One row a source; the last error (or state message) as the row's tooltip."""

    columns = COLUMNS
    right_aligned = frozenset({3, 4, 5})

    def __init__(self) -> None:
        super().__init__()
        self._now = datetime.now(UTC)

    def set_statuses(self, statuses: list[CrawlerStatus]) -> None:
        """Show `statuses`, keeping rows (and the selection) in place for the same sources."""
        self._now = datetime.now(UTC)
        self.update_rows(statuses, key=lambda status: status.source)

    def status(self, row: int) -> CrawlerStatus:
        """The status shown at `row`."""
        return self.row(row)

    def tooltip(self, row: CrawlerStatus, column: int) -> str | None:
        """The last error, or what the state means; over "Next run", its time."""
        if column == NEXT_RUN and row.next_run_at is not None:
            return f"{row.next_run_at:%Y-%m-%d %H:%M:%S} UTC"
        return row.last_error or row.message

    def cell(self, row: CrawlerStatus, column: int) -> str:
        """Source, state, heartbeat, last run, total, runs, next run, last error."""
        match column:
            case 0:
                return row.source
            case 1:
                return crawler_state(row)
            case 2:
                return ago(row.last_heartbeat, self._now)
            case 3:
                return f"{row.items_new:,} / {row.items_seen:,}" if row.runs else ""
            case 4:
                return f"{row.items_total:,}"
            case 5:
                return str(row.runs)
            case 6:
                return until(row.next_run_at, self._now)
            case _:
                return _short(row.last_error or "")


class SourcesPanel(LiveView):
    """The table of sources and the buttons acting on the selected one."""

    def __init__(self, bridge: CoreBridge) -> None:
        super().__init__(REFRESH_MS)
        self._bridge = bridge
        self.model = CrawlersModel()
        self.table = QTableView()
        self.start = QPushButton("Start / run now")
        self.stop = QPushButton("Stop")
        self.message = Note()
        self._layout()
        self.start.clicked.connect(lambda: self._act("start"))
        self.stop.clicked.connect(lambda: self._act("stop"))

    def load(self) -> Ticket:
        """Ask the engine for what the panel shows."""
        return self._bridge.call(_statuses, self.model.set_statuses, self._failed)

    def selected(self) -> CrawlerStatus | None:
        """The source of the selected row, if any."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.status(rows[0].row()) if rows else None

    def _act(self, action: str) -> None:
        status = self.selected()
        if status is None:
            self.message.setText("Select a source first.")
            return
        source = status.source

        async def act(services: Services) -> CrawlerStatus:
            crawlers = services.crawlers
            return await (crawlers.start(source) if action == "start" else crawlers.stop(source))

        self._bridge.call(act, lambda done: self._acted(action, done), self._failed)

    def _acted(self, action: str, status: CrawlerStatus) -> None:
        verb = "started" if action == "start" else "stopped"
        self.message.setText(f"{status.source} {verb}: {crawler_state(status)}")
        self.refresh()

    def _failed(self, error: MinatoError) -> None:
        self.message.setText(error.user_message)

    def _layout(self) -> None:
        show_rows(self.table, self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start)
        buttons.addWidget(self.stop)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.addWidget(self.table, 1)
        column.addLayout(buttons)
        column.addWidget(self.message)


class CrawlersView(QWidget):
    """The crawlers tab: "Sources", "Mirrors", "Feeds" and "DHT" as sub-tabs."""

    def __init__(self, bridge: CoreBridge) -> None:
        super().__init__()
        self.sources = SourcesPanel(bridge)
        self.mirrors = MirrorsPanel(bridge)
        self.feeds = FeedsPanel(bridge)
        self.dht = DhtPanel(bridge)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.sources, "Sources")
        self.tabs.addTab(self.mirrors, "Mirrors")
        self.tabs.addTab(self.feeds, "Feeds")
        self.tabs.addTab(self.dht, "DHT")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.tabs)


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _ERROR_CHARS else line[: _ERROR_CHARS - 1] + "…"
