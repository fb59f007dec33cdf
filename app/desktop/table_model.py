"""The one shape of every table in the window: a tuple of rows, named columns, a cell per role.

Views ask only for the rows they paint, so a table of thousands of rows costs what
its visible rows cost. Subclasses say what a cell shows (`cell`), and optionally its
alignment and tooltip. `show_rows` gives every table the same look: one line a row
(a long cell is cut, its whole text in the tooltip), whole rows selected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

Row = TypeVar("Row")
Index = QModelIndex | QPersistentModelIndex
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
"""Numbers align right, as people compare them."""


class RowsModel(QAbstractTableModel, Generic[Row]):
    """Rows of one type under fixed column titles."""

    columns: tuple[str, ...] = ()
    right_aligned: frozenset[int] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        self._rows: tuple[Row, ...] = ()

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Show `rows` instead of the current ones (one reset: one repaint)."""
        self.beginResetModel()
        self._rows = tuple(rows)
        self.endResetModel()

    def update_rows(self, rows: Sequence[Row], key: Callable[[Row], object]) -> None:
        """Show `rows`; the same rows as shown (by `key`, in order) are repainted in place.

        A live table refreshed every few seconds keeps its selection and scroll position
        that way; a reset (rows added, removed or moved) would drop them.
        """
        fresh = tuple(rows)
        if not fresh or [key(r) for r in fresh] != [key(r) for r in self._rows]:
            self.set_rows(fresh)
            return
        self._rows = fresh
        last = self.index(len(fresh) - 1, len(self.columns) - 1)
        self.dataChanged.emit(self.index(0, 0), last)

    def row(self, index: int) -> Row:
        """The row shown at `index`."""
        return self._rows[index]

    def cell(self, row: Row, column: int) -> str:
        """What a cell shows."""
        raise NotImplementedError

    def tooltip(self, row: Row, column: int) -> str | None:
        """A cell's tooltip; none unless a subclass says so."""
        return None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """The rows (none under a parent: a flat table)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """The columns."""
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """A cell's text, alignment or tooltip."""
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.right_aligned:
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row, column)
        return None


def show_rows(table: QTableView, model: QAbstractItemModel) -> None:
    """Show `model` in `table` as every table of the window: rows of one line, selected whole.

    Rows of one height are never measured one by one (a table of thousands stays fast)
    and keep a long error or URL from making one row twice as tall as the others.
    """
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setWordWrap(False)
    table.setAlternatingRowColors(True)
    rows = table.verticalHeader()
    rows.setVisible(False)
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(max(22, table.fontMetrics().height() + 8))
