"""The results table's cells: what a person reads in each column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt

from app.desktop.results_model import COLUMNS, ResultsModel, age
from engine.models import ContentKind, SearchPage, TorrentSummary

NOW = datetime.now(UTC)


def summary(**fields: Any) -> TorrentSummary:
    values: dict[str, Any] = {
        "info_hash": "a" * 40,
        "title": "Big.Buck.Bunny.2008.1080p.BluRay.x264-GRP",
        "size": 1_610_612_736,
        "file_count": 2,
        "kind": ContentKind.MOVIE,
        "category": 2040,
        "seeders": 50,
        "leechers": 3,
        "published_at": NOW - timedelta(days=3, hours=2),
        "first_seen": NOW,
        "last_seen": NOW,
        "sources": ("1337x", "dht"),
        **fields,
    }
    return TorrentSummary(**values)


def cells(model: ResultsModel, row: int) -> list[Any]:
    return [model.data(model.index(row, column)) for column in range(len(COLUMNS))]


def test_each_column_reads_as_people_expect(qapp: Any) -> None:
    model = ResultsModel()
    model.set_page(
        SearchPage(total=7, hits=(summary(), summary(size=None, seeders=None, kind=None)))
    )
    assert (model.rowCount(), model.columnCount(), model.total) == (2, 7, 7)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(7)] == list(COLUMNS)
    assert cells(model, 0) == [
        "Big.Buck.Bunny.2008.1080p.BluRay.x264-GRP", "1.5 GiB", "50", "3", "3 d", "Movie",
        "1337x, dht",
    ]  # fmt: skip
    assert cells(model, 1)[1:3] == ["", ""]  # unknown size and seeders: blank, not zero
    assert cells(model, 1)[5] == ""
    tooltip = model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert "a" * 40 in tooltip
    assert model.data(model.index(5, 0)) is None  # past the rows


def test_ages_use_the_largest_unit_that_fits() -> None:
    assert age(NOW - timedelta(seconds=20), NOW) == "now"
    assert age(NOW - timedelta(minutes=5), NOW) == "5 min"
    assert age(NOW - timedelta(hours=3, minutes=59), NOW) == "3 h"
    assert age(NOW - timedelta(days=400), NOW) == "1 y"
    assert age(None, NOW) == ""
    assert age(NOW + timedelta(hours=1), NOW) == "now"  # a clock ahead is not "in the future"
