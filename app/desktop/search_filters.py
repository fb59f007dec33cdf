"""The search tab's filters row: kind, category, resolution, year and source, and "Clear filters".

A widget that only holds choices: `narrow` applies them to a `SearchQuery` and
`changed` says they moved; the search tab decides what to search. A year that is not
a year is never turned into "any year" behind the person's back: `problem` names it
(shown under the row, the box marked) and the search tab sends nothing until it is
fixed or cleared.

The category names come from the engine's Torznab table (`SearchService.categories`);
the sources from the engine too (every crawler, feeds included, and every source
that reported a torrent), read again when the list is opened and on a slow timer, so a
feed added meanwhile shows up.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from app.desktop.bridge import CoreBridge, Ticket
from app.desktop.labels import kind_label
from app.desktop.live_view import LiveView
from app.desktop.widgets import Note
from engine.errors import MinatoError
from engine.models import ContentKind, SearchQuery
from engine.services import SearchService, Services

RESOLUTIONS: Final = SearchService.resolutions()
"""The height buckets the classifier stores (engine/classify/titles.py: "1080i" is "1080p",
"4K" is "2160p"); a filter on any other spelling could never match."""
_RESOLUTION_NOTES: Final = {"4320p": "8K", "2160p": "4K"}
FIRST_YEAR: Final = 1900
"""The classifier reads no release year before this (older numbers are not years in titles)."""
SOURCES_REFRESH_MS: Final = 60_000
"""The source list is read again this often (and whenever it is opened)."""
_SHOWN_CHARS: Final = 12
_INVALID_STYLE: Final = "QLineEdit { border: 1px solid #c0392b; }"


async def known_sources(services: Services) -> list[str]:
    """Every source a torrent may come from, by name.

    The crawlers (sites, feeds, the DHT), and every source that reported a torrent
    (uploads, remote workers), which no crawler lists.
    """
    crawling = {status.source for status in services.crawlers.statuses()}
    return sorted(crawling | set(await services.status.sources()))


def last_year() -> int:
    """The latest year a release can carry: next year (releases dated ahead exist)."""
    return datetime.now(UTC).year + 1


class _SourceBox(QComboBox):
    """A combo box that says when its list is about to open, so the list can be read again."""

    opening = Signal()

    def showPopup(self) -> None:
        """Ask for a fresh list, then open the current one (the fresh one replaces it)."""
        self.opening.emit()
        super().showPopup()


class SearchFilters(LiveView):
    """The filters row; `narrow(query)` applies its choices, `changed` fires when one moves."""

    changed = Signal()
    """A choice changed (once for "Clear filters", however many were set)."""

    def __init__(self, bridge: CoreBridge) -> None:
        super().__init__(SOURCES_REFRESH_MS)
        self._bridge = bridge
        self._source_error: str | None = None
        self.kind = _kind_box()
        self.category = _category_box()
        self.resolution = _resolution_box()
        self.year = QLineEdit(placeholderText="Any year")
        self.year.setAccessibleName("Year")
        self.year.setFixedWidth(self.year.fontMetrics().horizontalAdvance("Any year") + 24)
        self.source = _SourceBox()
        self.source.addItem("Any source", None)
        self.source.setAccessibleName("Source")
        self.clear_button = QPushButton("Clear filters")
        self.message = Note(error=True)
        self._layout()
        for box in (self.kind, self.category, self.resolution, self.source):
            box.currentIndexChanged.connect(lambda _index: self._moved())
        self.year.textEdited.connect(lambda _text: self._year_edited())
        self.source.opening.connect(self.refresh_sources)
        self.clear_button.clicked.connect(self.clear)
        self._update_clear_button()
        self._show_problem()
        self.refresh_sources()

    # --- what the search tab asks -------------------------------------------------------------

    def narrow(self, query: SearchQuery) -> SearchQuery:
        """`query` with every filter that is set; "any" leaves the query's own value.

        A year that is not valid is left out here: `problem` says so, and the search
        tab sends nothing while there is one.
        """
        kind = self.kind.currentData()  # Qt hands back a StrEnum as its str value
        category = self.category.currentData()
        resolution = self.resolution.currentData()
        source = self.source.currentData()
        year, problem = _parse_year(self.year.text())
        return dataclasses.replace(
            query,
            kinds=(ContentKind(kind),) if kind else query.kinds,
            categories=(int(category),) if category is not None else query.categories,
            resolution=str(resolution) if resolution else query.resolution,
            source=str(source) if source else query.source,
            year=year if year is not None and problem is None else query.year,
        )

    def problem(self) -> str | None:
        """What must be fixed before searching (a year that is not a year), or None."""
        return _parse_year(self.year.text())[1]

    def is_default(self) -> bool:
        """True when no filter is set (every choice is "any", the year empty)."""
        boxes = (self.kind, self.category, self.resolution, self.source)
        return all(box.currentIndex() == 0 for box in boxes) and not self.year.text().strip()

    def sources(self) -> list[str]:
        """The sources the list offers now (without "Any source")."""
        return [str(self.source.itemData(i)) for i in range(1, self.source.count())]

    # --- what the person does -----------------------------------------------------------------

    def clear(self) -> None:
        """Every filter back to "any", the year emptied; `changed` once if anything moved."""
        if self.is_default() and self.problem() is None:
            return
        for box in (self.kind, self.category, self.resolution, self.source):
            box.blockSignals(True)
            box.setCurrentIndex(0)
            box.blockSignals(False)
        self.year.clear()
        self._show_problem()
        self._moved()

    def refresh_sources(self) -> None:
        """Read the source list again (skipped while the previous read is still out)."""
        self.refresh()

    def load(self) -> Ticket:
        """Ask the engine for the sources to offer."""
        return self._bridge.call(known_sources, self._set_sources, self._sources_failed)

    def _moved(self) -> None:
        self._update_clear_button()
        self.changed.emit()

    def _year_edited(self) -> None:
        self._show_problem()
        self._moved()

    # --- what comes back ----------------------------------------------------------------------

    def _set_sources(self, names: list[str]) -> None:
        """Offer `names`; the chosen source stays chosen even if it is no longer listed."""
        self._source_error = None
        self._show_problem()
        chosen = self.source.currentData()
        wanted = sorted({*names, *([str(chosen)] if chosen else [])})
        if wanted == self.sources():
            return  # no change: an open list is left as it is
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItem("Any source", None)
        for name in wanted:
            self.source.addItem(name, name)
        self.source.setCurrentIndex(max(0, self.source.findData(chosen)) if chosen else 0)
        self.source.blockSignals(False)

    def _sources_failed(self, error: MinatoError) -> None:
        self._source_error = f"Could not read the list of sources: {error.user_message}"
        self._show_problem()

    def _show_problem(self) -> None:
        """Mark the year box and say what is wrong, under the row (or hide the message)."""
        problem = self.problem()
        self.year.setStyleSheet(_INVALID_STYLE if problem else "")
        self.year.setToolTip(
            problem or f"A release year, {FIRST_YEAR} to {last_year()}; empty: any"
        )
        text = problem or self._source_error or ""
        self.message.setText(text)  # empty: hidden

    def _update_clear_button(self) -> None:
        self.clear_button.setEnabled(not self.is_default())

    def _layout(self) -> None:
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.kind, self.category, self.resolution, self.year, self.source):
            row.addWidget(widget)
        row.addWidget(self.clear_button)
        row.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.message)


def _parse_year(text: str) -> tuple[int | None, str | None]:
    """(year, None) for a year, (None, None) for empty, (None, why) for anything else."""
    raw = text.strip()
    if not raw:
        return None, None
    shown = raw if len(raw) <= _SHOWN_CHARS else raw[:_SHOWN_CHARS] + "…"
    latest = last_year()
    expected = f"type four digits, {FIRST_YEAR} to {latest}, or clear it for any year"
    if not (raw.isascii() and raw.isdigit()):
        return None, f"Year: “{shown}” is not a year; {expected}."
    if len(raw) < 4:
        return None, f"Year: “{shown}” is not a whole year; {expected}."
    year = int(raw)
    if not FIRST_YEAR <= year <= latest:
        return None, f"Year: “{shown}” is out of range; {expected}."
    return year, None


def _kind_box() -> QComboBox:
    box = QComboBox()
    box.setAccessibleName("Kind")
    box.addItem("All kinds", None)
    for kind in ContentKind:
        box.addItem(kind_label(kind), kind)
    return box


def _category_box() -> QComboBox:
    """Every Torznab category: each top one in bold ("Movies"), then its own ("Movies/HD")."""
    box = QComboBox()
    box.setAccessibleName("Category")
    box.addItem("Any category", None)
    bold = QFont(box.font())
    bold.setBold(True)
    for parent, name, subcategories in SearchService.categories():
        box.addItem(name, parent)
        box.setItemData(box.count() - 1, bold, Qt.ItemDataRole.FontRole)
        box.setItemData(
            box.count() - 1, f"{name}: all of it ({parent})", Qt.ItemDataRole.ToolTipRole
        )
        for category, sub_name in subcategories:
            box.addItem(sub_name, category)
            box.setItemData(box.count() - 1, str(category), Qt.ItemDataRole.ToolTipRole)
    return box


def _resolution_box() -> QComboBox:
    box = QComboBox()
    box.setAccessibleName("Resolution")
    box.addItem("Any resolution", None)
    for resolution in RESOLUTIONS:
        note = _RESOLUTION_NOTES.get(resolution)
        box.addItem(f"{resolution} ({note})" if note else resolution, resolution)
    return box
