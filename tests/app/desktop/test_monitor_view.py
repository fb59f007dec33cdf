"""The monitor tab: the chart counts what was indexed this minute; totals by kind and source."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.desktop.monitor_view import MonitorView
from engine.models import RawRecord
from tests.app.desktop.conftest import EngineFactory


def test_the_chart_and_totals_count_what_was_indexed(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    engine = start_engine()
    engine.ingest(
        [
            RawRecord(source="upload", title=f"Open.Movie.{n}", info_hash=f"{n + 1:040x}")
            for n in range(7)
        ]
        + [
            RawRecord(source="1337x", title=f"Other.Show.{n}", info_hash=f"{n + 100:040x}")
            for n in range(3)
        ]
    )
    view = MonitorView(engine.bridge)
    qtbot.addWidget(view)
    view.show()

    qtbot.waitUntil(lambda: "10 new in this span" in view.totals.text(), timeout=5000)
    points = [view.series.at(i).y() for i in range(view.series.count())]
    assert sum(points) == 10  # all in this minute (or the last two, at a minute's edge)
    assert 60 <= len(points) <= 62  # one point a minute over the last hour, zeros included
    assert "By source: upload 7, 1337x 3" in view.totals.text()
    assert "Unclassified 10" in view.totals.text()  # the classifier is off in these tests
    assert "10 torrents in all" in view.totals.text()

    view.span.setCurrentIndex(1)  # last day
    qtbot.waitUntil(lambda: view.series.count() > 1000, timeout=5000)
    assert sum(view.series.at(i).y() for i in range(view.series.count())) == 10
