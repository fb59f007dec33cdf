"""Feeds: the RSS/Atom/Torznab feeds Minato polls, adding one, removing one.

A feed added here is stored by the engine and polled at once, then on its
interval; it shows in the Sources sub-tab as `feed:<name>`. The engine checks
what is typed (name, URL, interval, a taken name) and its message is shown next
to the form, which keeps what was typed so it can be corrected. Feeds written in
the settings file are listed too; the engine refuses to remove them and says
where to do it. URLs are shown with their keys (apikey, passkey...) masked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from app.desktop.bridge import CoreBridge, Ticket
from app.desktop.labels import ago, crawler_state
from app.desktop.live_view import LiveView
from app.desktop.table_model import RowsModel, show_rows
from app.desktop.widgets import Note
from engine.errors import MinatoError
from engine.services import Services
from engine.services.feeds import FeedInfo

REFRESH_MS: Final = 5000
DEFAULT_EVERY: Final = "15m"
COLUMNS: Final = ("Name", "URL", "Every", "Last poll", "Last new / total", "State", "Last error")


async def _feeds(services: Services) -> list[FeedInfo]:
    return await services.feeds.list()


class FeedsModel(RowsModel[FeedInfo]):
    """One row a feed; its crawler's figures when the scheduler runs it."""

    columns = COLUMNS
    right_aligned = frozenset({2, 4})

    def __init__(self) -> None:
        super().__init__()
        self._now = datetime.now(UTC)

    def set_feeds(self, feeds: list[FeedInfo]) -> None:
        """Show `feeds`, keeping rows (and the selection) in place for the same feeds."""
        self._now = datetime.now(UTC)
        self.update_rows(feeds, key=lambda feed: feed.name)

    def feed(self, row: int) -> FeedInfo:
        """The feed shown at `row`."""
        return self.row(row)

    def cell(self, row: FeedInfo, column: int) -> str:
        """Name, URL (keys masked), interval, last poll, items, state, last error."""
        crawler = row.crawler
        match column:
            case 0:
                return row.name if row.origin != "settings" else f"{row.name} (settings file)"
            case 1:
                return row.shown_url
            case 2:
                return every_text(row.every_s)
            case 3:
                return ago(row.last_polled_at, self._now) or "never"
            case 4:
                if crawler is None or not crawler.runs:
                    return ""
                return f"{crawler.items_new:,} / {crawler.items_total:,}"
            case 5:
                return crawler_state(crawler) if crawler is not None else ""
            case _:
                return (crawler.last_error or "") if crawler is not None else ""

    def tooltip(self, row: FeedInfo, column: int) -> str | None:
        """The full URL (keys masked) and the feed's crawler id."""
        return f"{row.shown_url}\npolled as source {row.source}"


class FeedsPanel(LiveView):
    """The add form, the feeds table and the remove button."""

    def __init__(self, bridge: CoreBridge) -> None:
        super().__init__(REFRESH_MS)
        self._bridge = bridge
        self.name = QLineEdit(placeholderText="name: a-z, 0-9, - and _")
        self.url = QLineEdit(placeholderText="the feed's http(s) URL (RSS, Atom or Torznab)")
        self.every = QLineEdit(DEFAULT_EVERY, placeholderText="90s, 15m, 6h, 1d")
        self.add = QPushButton("Add feed")
        self.form_error = Note(error=True)
        self.model = FeedsModel()
        self.table = QTableView()
        self.remove = QPushButton("Remove selected feed…")
        self.message = Note()
        self._layout()
        self.add.clicked.connect(self._add)
        for field in (self.name, self.url, self.every):
            field.returnPressed.connect(self._add)
        self.remove.clicked.connect(self._remove)

    def load(self) -> Ticket:
        """Ask the engine for what the panel shows."""
        return self._bridge.call(_feeds, self.model.set_feeds, self._failed)

    def row_of(self, name: str) -> int:
        """The row showing the feed `name`, or -1."""
        for row in range(self.model.rowCount()):
            if self.model.feed(row).name == name:
                return row
        return -1

    # --- actions ------------------------------------------------------------------------

    def _add(self) -> None:
        name, url = self.name.text().strip(), self.url.text().strip()
        every = self.every.text().strip() or DEFAULT_EVERY
        if not name or not url:
            self.form_error.setText("Give the feed a name and its URL.")
            return
        self.form_error.setText("")
        self.add.setEnabled(False)

        async def add(services: Services) -> FeedInfo:
            return await services.feeds.add(name, url, every)

        self._bridge.call(add, self._added, self._refused)

    def _remove(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.message.setText("Select the feed to remove.")
            return
        feed = self.model.feed(rows[0].row())
        answer = QMessageBox.question(
            self,
            "Remove feed",
            f"Remove the feed {feed.name!r} ({feed.shown_url})? It is no longer polled; "
            "what it already indexed stays.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        name = feed.name

        async def remove(services: Services) -> None:
            await services.feeds.remove(name)

        self._bridge.call(remove, lambda _none: self._removed(name), self._failed)

    # --- answers ------------------------------------------------------------------------

    def _added(self, feed: FeedInfo) -> None:
        self.add.setEnabled(True)
        self.name.clear()
        self.url.clear()
        self.every.setText(DEFAULT_EVERY)
        self.message.setText(
            f"Added feed {feed.name} (source {feed.source}), polled every "
            f"{every_text(feed.every_s)}; the first poll starts now."
        )
        self.refresh()

    def _refused(self, error: MinatoError) -> None:
        self.add.setEnabled(True)
        self.form_error.setText(error.user_message)  # the form keeps what was typed

    def _removed(self, name: str) -> None:
        self.message.setText(f"Removed feed {name}.")
        self.refresh()

    def _failed(self, error: MinatoError) -> None:
        self.message.setText(error.user_message)

    def _layout(self) -> None:
        show_rows(self.table, self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.every.setMaximumWidth(90)
        form = QHBoxLayout()
        form.addWidget(QLabel("Name:"))
        form.addWidget(self.name, 1)
        form.addWidget(QLabel("URL:"))
        form.addWidget(self.url, 3)
        form.addWidget(QLabel("Every:"))
        form.addWidget(self.every)
        form.addWidget(self.add)
        bottom = QHBoxLayout()
        bottom.addWidget(self.remove)
        bottom.addWidget(self.message, 1)
        bottom.addStretch(0)  # the button keeps its size while there is no message
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.form_error)
        column.addWidget(self.table, 1)
        column.addLayout(bottom)


def every_text(seconds: float) -> str:
    """An interval as it is typed: 90s, 15m, 6h, 1d."""
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
