"""The search tab: a search bar answering as the user types, then the sites for what is missing.

Every keystroke asks the local index alone, at once: no half-typed word ever reaches
a site. At most one index search is on its way: keys typed meanwhile are searched,
as one, the moment its answer is in, so a fast typist never queues searches up and
nobody waits for a debounce. When typing pauses, or on Enter, the same words
go out as a live search-through (`LiveMode.AUTO`): the index answers first, then a new
page arrives after each site answers, with a per-site status line. A newer search
cancels the older one, so a stale answer never paints over a fresh one.

The filters row (`SearchFilters`) narrows both: a filter change asks the index again at
once, and a live search keeps the filters, since each page it shows is the index read
again with the whole query once a site's rows are stored (the sites themselves get
only the words and the categories). While a filter holds something unusable (a year
that is not a year) nothing is searched, and the status line says why.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import CoreBridge, Ticket
from app.desktop.details_view import DetailsView
from app.desktop.results_model import ResultsModel
from app.desktop.search_filters import SearchFilters
from app.desktop.table_model import show_rows
from app.desktop.timers import single_shot
from engine.errors import MinatoError
from engine.models import (
    LiveMode,
    LiveStatus,
    SearchPage,
    SearchQuery,
    SortOrder,
    SourceOutcome,
)
from engine.services import SearchUpdate

LIVE_AFTER_MS: Final = 900
"""A pause this long (or Enter) sends the words to the sites as well."""
PAGE_SIZE: Final = 200
_SORTS: Final = (
    ("Relevance", SortOrder.RELEVANCE),
    ("Seeders", SortOrder.SEEDERS),
    ("Size", SortOrder.SIZE),
    ("Newest", SortOrder.DATE),
)
_WIDEST: Final = {
    1: "999.9 MiB",
    2: "Seeders",
    3: "Leechers",
    4: "12 min",
    5: "Audiobook",
    6: "limetorrents, thepiratebay",
}
"""What each column after the title is sized for at first (a person may drag them)."""
_MARKS: Final = {
    LiveStatus.ANSWERED: "✓",
    LiveStatus.FAILED: "✗",
    LiveStatus.SKIPPED: "⏸",
    LiveStatus.TIMED_OUT: "⌛",
}


class SearchView(QWidget):
    """Search bar, filters, results table and the live search's per-site status."""

    result_activated = Signal(object)
    """A row was opened (double-click or Enter): its `TorrentSummary`."""

    def __init__(self, bridge: CoreBridge) -> None:
        super().__init__()
        self._bridge = bridge
        self._ticket: Ticket | None = None
        self._live_ticket: Ticket | None = None
        self.search_box = QLineEdit(placeholderText="Search torrents (Enter also asks the sites)")
        self.search_box.setClearButtonEnabled(True)
        self.filters = SearchFilters(bridge)
        self.kind_filter = self.filters.kind
        self.sort_order = QComboBox()
        for label, order in _SORTS:
            self.sort_order.addItem(label, order)
        self.status = QLabel("Type to search the index.")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = ResultsModel()
        self.results = self._table()
        self.details = DetailsView(bridge)
        self._typed_meanwhile = False  # keys typed while an index search was on its way
        self._pause = single_shot(self, LIVE_AFTER_MS, self._search_live)
        self._layout()
        self.search_box.textEdited.connect(self._edited)
        self.search_box.returnPressed.connect(self._search_live)
        self.filters.changed.connect(self._search_index)
        self.sort_order.currentIndexChanged.connect(lambda _index: self._search_index())
        self.results.activated.connect(lambda index: self._activate(index.row()))  # Enter too
        self.results.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self._select(current.row())
        )
        escape = QShortcut(QKeySequence("Escape"), self, self.clear)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # this tab only

    # --- what the user does ---------------------------------------------------------------

    def clear(self) -> None:
        """Esc: empty the search and the table (and forget the words' pending searches)."""
        self._pause.stop()  # no live search of the words just cleared
        self._typed_meanwhile = False
        self._cancel()
        self.search_box.clear()
        self.model.set_page(SearchPage(total=0, hits=()))
        self._say("Type to search the index.")

    def query(self) -> SearchQuery:
        """The search the bar and the filters describe (the one place a search is built)."""
        return self.filters.narrow(
            SearchQuery(
                text=" ".join(self.search_box.text().split()),
                sort=SortOrder(self.sort_order.currentData() or SortOrder.RELEVANCE),
                limit=PAGE_SIZE,
            )
        )

    def _edited(self, _text: str) -> None:
        self._pause.start()
        if self._ticket is not None and not self._ticket.done:
            self._typed_meanwhile = True  # searched as soon as the answer on its way is in
            return
        self._search_index()

    def _search_index(self) -> None:
        """The index alone: as the user types (no site is asked for a half-typed word)."""
        self._typed_meanwhile = False  # this search reads the words as they are now
        self._cancel()
        if self._refused():
            return
        query = self.query()
        self._ticket = self._bridge.call(
            lambda services: services.search.search(query, live=LiveMode.OFF),
            self._show_local,
            self._index_failed,
        )

    def _search_live(self) -> None:
        """The index, then the sites for what it lacks, each site's answer as it comes."""
        self._typed_meanwhile = False  # the stream's first page answers the words as they are
        self._pause.stop()
        if self._refused():
            self._cancel()
            return
        query = self.query()
        if not query.text:
            self._search_index()
            return
        self._cancel()
        self._say(f"Searching the index and the sites for “{query.text}”…")
        self._live_ticket = self._bridge.stream(
            lambda services: services.search.search_stream(query, live=LiveMode.AUTO),
            self._show_update,
            lambda: None,
            self._show_error,
        )

    def _refused(self) -> bool:
        """True while a filter cannot be searched with (the filters row says why)."""
        if self.filters.problem() is None:
            return False
        self._say(
            "Not searched: a filter needs fixing (see above); the rows are from the last search."
        )
        return True

    def _select(self, row: int) -> None:
        """A row became current (click, arrows): its details load below the table."""
        if 0 <= row < self.model.rowCount():
            self.details.show_torrent(self.model.hit(row))

    def _activate(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self._select(row)
            self.result_activated.emit(self.model.hit(row))

    # --- what comes back --------------------------------------------------------------------

    def _show_local(self, page: SearchPage) -> None:
        self.model.set_page(page)
        self._say(_count(page))
        self._search_what_was_typed_meanwhile()

    def _index_failed(self, error: MinatoError) -> None:
        self._show_error(error)
        self._search_what_was_typed_meanwhile()

    def _search_what_was_typed_meanwhile(self) -> None:
        if self._typed_meanwhile:
            self._typed_meanwhile = False
            self._search_index()

    def _show_update(self, update: SearchUpdate) -> None:
        self.model.set_page(update.page)
        self._say(_live_status(update), _live_details(update.page.live))

    def _show_error(self, error: MinatoError) -> None:
        self._say(f"Search failed: {error.user_message}")

    def _say(self, text: str, details: str = "") -> None:
        """The status line; `details` (each site's answer or error) as its tooltip."""
        self.status.setText(text)
        self.status.setToolTip(details)

    def _cancel(self) -> None:
        for ticket in (self._ticket, self._live_ticket):
            if ticket is not None:
                ticket.cancel()
        self._ticket = self._live_ticket = None

    # --- building ---------------------------------------------------------------------------

    def _table(self) -> QTableView:
        table = QTableView()
        show_rows(table, self.model)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        metrics = table.fontMetrics()
        for column, sample in _WIDEST.items():
            shown = max(sample, str(self.model.columns[column]), key=metrics.horizontalAdvance)
            header.resizeSection(column, metrics.horizontalAdvance(shown) + 24)
        return table

    def _layout(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(self.search_box, 1)
        bar.addWidget(QLabel("Sort:"))
        bar.addWidget(self.sort_order)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.results)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([5000, 4000])  # a share each at first: room for the files of a torrent
        column = QVBoxLayout(self)
        column.addLayout(bar)
        column.addWidget(self.filters)
        column.addWidget(self.status)
        column.addWidget(split, 1)


def _count(page: SearchPage) -> str:
    shown = len(page.hits)
    more = f" (showing {shown})" if page.total > shown else ""
    return f"{page.total:,} in the index{more}"


def _live_status(update: SearchUpdate) -> str:
    """The count, then each site's mark: "412 results · the sites answered: 1337x ✓ 20"."""
    page = update.page
    if page.live_text is None:
        return _count(page)
    parts = [_outcome(o) for o in page.live]
    state = "the sites answered" if update.done else "searching the sites"
    sites = " · ".join(parts) if parts else "no site asked yet"
    return f"{page.total:,} results · {state}: {sites}"


def _live_details(outcomes: tuple[SourceOutcome, ...]) -> str:
    """One line a site: what it answered, or why it did not ("thepiratebay: failed, ...")."""
    lines = []
    for outcome in outcomes:
        if outcome.status is LiveStatus.ANSWERED:
            said = f"{outcome.results:,} results, {outcome.new:,} new to the index"
        else:
            said = outcome.status.value.replace("_", " ")
            said += f": {outcome.error}" if outcome.error else ""
        lines.append(f"{outcome.source}: {said} ({outcome.duration_s:.1f} s)")
    return "\n".join(lines)


def _outcome(outcome: SourceOutcome) -> str:
    mark = _MARKS[outcome.status]
    if outcome.status is LiveStatus.ANSWERED:
        return f"{outcome.source} {mark} {outcome.results}"
    return f"{outcome.source} {mark}"
