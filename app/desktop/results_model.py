"""The results table's data: one search page of torrents as a Qt table model.

A model, not a widget per row: the view asks only for the rows it paints, so a page
of thousands of results costs what the visible rows cost.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from app.desktop.labels import age, kind_label
from app.desktop.table_model import RowsModel
from app.formatting import human_size
from engine.models import SearchPage, TorrentSummary

__all__ = ["COLUMNS", "ResultsModel", "age"]

COLUMNS: Final = ("Title", "Size", "Seeders", "Leechers", "Age", "Kind", "Sources")


class ResultsModel(RowsModel[TorrentSummary]):
    """The rows of the current search; `set_page` replaces them all at once."""

    columns = COLUMNS
    right_aligned = frozenset({1, 2, 3, 4})

    def __init__(self) -> None:
        super().__init__()
        self._total = 0
        self._now = datetime.now(UTC)

    @property
    def total(self) -> int:
        """Matches in the index (the rows are the first page of them)."""
        return self._total

    def set_page(self, page: SearchPage) -> None:
        """Show `page`: one reset, so the view repaints once however many rows change."""
        self._total = page.total
        self._now = datetime.now(UTC)
        self.set_rows(page.hits)

    def hit(self, row: int) -> TorrentSummary:
        """The torrent shown at `row`."""
        return self.row(row)

    def tooltip(self, row: TorrentSummary, column: int) -> str | None:
        """The full title and the info hash over the title; every source over the sources."""
        if column == 0:
            return f"{row.title}\n{row.info_hash}"
        return ", ".join(row.sources) if column == len(COLUMNS) - 1 else None

    def cell(self, row: TorrentSummary, column: int) -> str:
        """Title, size, seeders, leechers, age, kind, sources."""
        match column:
            case 0:
                return row.title
            case 1:
                return human_size(row.size)
            case 2:
                return str(row.seeders) if row.seeders is not None else ""
            case 3:
                return str(row.leechers) if row.leechers is not None else ""
            case 4:
                return age(row.published_at or row.first_seen, self._now)
            case 5:
                return kind_label(row.kind) if row.kind else ""
            case _:
                return ", ".join(row.sources)
