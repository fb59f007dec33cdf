"""The results table's data: one search page of torrents as a Qt table model.

A model, not a widget per row: the view asks only for the rows it paints, so a page
of thousands of results costs what the visible rows cost.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from app.formatting import human_size
from engine.models import SearchPage, TorrentSummary

COLUMNS: Final = ("Title", "Size", "Seeders", "Leechers", "Age", "Kind", "Sources")
_RIGHT: Final = frozenset({1, 2, 3, 4})
"""Numbers (and ages) align right, as people compare them."""

Index = QModelIndex | QPersistentModelIndex


class ResultsModel(QAbstractTableModel):
    """The rows of the current search; `set_page` replaces them all at once."""

    def __init__(self) -> None:
        super().__init__()
        self._hits: tuple[TorrentSummary, ...] = ()
        self._total = 0
        self._now = datetime.now(UTC)

    @property
    def total(self) -> int:
        """Matches in the index (the rows are the first page of them)."""
        return self._total

    def set_page(self, page: SearchPage) -> None:
        """Show `page`: one reset, so the view repaints once however many rows change."""
        self.beginResetModel()
        self._hits = page.hits
        self._total = page.total
        self._now = datetime.now(UTC)
        self.endResetModel()

    def hit(self, row: int) -> TorrentSummary:
        """The torrent shown at `row`."""
        return self._hits[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's API
        """Rows: the hits of the page (none under a parent: it is a flat table)."""
        return 0 if parent.isValid() else len(self._hits)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Columns: title, size, seeders, leechers, age, kind, sources."""
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """A cell's text, its alignment, and the full title and hash as a tooltip."""
        if not index.isValid() or index.row() >= len(self._hits):
            return None
        hit = self._hits[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(hit, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _RIGHT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return f"{hit.title}\n{hit.info_hash}"
        return None

    def _cell(self, hit: TorrentSummary, column: int) -> str:
        match column:
            case 0:
                return hit.title
            case 1:
                return human_size(hit.size)
            case 2:
                return str(hit.seeders) if hit.seeders is not None else ""
            case 3:
                return str(hit.leechers) if hit.leechers is not None else ""
            case 4:
                return age(hit.published_at or hit.first_seen, self._now)
            case 5:
                return hit.kind.value if hit.kind else ""
            case _:
                return ", ".join(hit.sources)


def age(when: datetime | None, now: datetime) -> str:
    """How long ago, in the largest unit that fits: 5 min, 3 h, 12 d, 2 y."""
    if when is None:
        return ""
    seconds = max(0.0, (now - when).total_seconds())
    for unit, length in (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= length:
            return f"{int(seconds // length)} {unit}"
    return "now"
