"""The crawlers tab: a local site's crawler shows its runs live; stop and start act on it.

The sources table (like every panel of the tab) refreshes only while it is on screen.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTabWidget
from pytestqt.qtbot import QtBot

from app.desktop.crawlers_view import CrawlersView, SourcesPanel
from engine.services.crawlers import CrawlerState
from tests.app.desktop.conftest import EngineFactory
from tests.crawl_support import only_sites
from tests.site_server import SiteServer, ThreadedSite

ToolTipRole = Qt.ItemDataRole.ToolTipRole


def row_of(panel: SourcesPanel, source: str) -> int:
    for row in range(panel.model.rowCount()):
        if panel.model.status(row).source == source:
            return row
    return -1


def cell(panel: SourcesPanel, source: str, column: int) -> str:
    return str(panel.model.data(panel.model.index(row_of(panel, source), column)))


def test_a_crawler_shows_its_run_and_stops_and_starts_from_the_tab(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    with ThreadedSite(pages=1) as site:
        engine = start_engine(**only_sites({"1337x": {"mirrors": [site.url], "min_interval_s": 0}}))
        view = CrawlersView(engine.bridge)
        qtbot.addWidget(view)
        view.show()
        panel = view.sources
        assert [view.tabs.tabText(i) for i in range(view.tabs.count())] == [
            "Sources",
            "Mirrors",
            "Feeds",
            "DHT",
        ]

        # the scheduler crawls the local 1337x at start: its run shows up in the table
        qtbot.waitUntil(lambda: row_of(panel, "1337x") >= 0, timeout=10000)
        qtbot.waitUntil(lambda: panel.model.status(row_of(panel, "1337x")).runs >= 1, timeout=30000)
        assert cell(panel, "1337x", 3).startswith("40 / ")  # two latest listings of 20 rows
        assert cell(panel, "1337x", 7) == ""  # no error
        assert cell(panel, "1337x", 6).startswith("in ")  # the next run, from now ("in 29 min")
        assert cell(panel, "1337x", 1) == "idle"
        assert row_of(panel, "yts") >= 0  # every source is listed, the disabled ones too
        assert cell(panel, "yts", 1).startswith("disabled")

        panel.stop.click()
        assert panel.message.text() == "Select a source first."
        panel.table.selectRow(row_of(panel, "1337x"))
        panel.stop.click()
        qtbot.waitUntil(lambda: "1337x stopped" in panel.message.text(), timeout=10000)
        qtbot.waitUntil(
            lambda: panel.model.status(row_of(panel, "1337x")).state is CrawlerState.DISABLED,
            timeout=10000,
        )
        runs = panel.model.status(row_of(panel, "1337x")).runs
        paths = len(site.paths)

        panel.table.selectRow(row_of(panel, "1337x"))
        panel.start.click()
        qtbot.waitUntil(
            lambda: panel.model.status(row_of(panel, "1337x")).runs == runs + 1, timeout=30000
        )
        assert len(site.paths) > paths  # started again: it crawled the site again
        assert isinstance(site, SiteServer)


def test_a_failing_source_shows_its_last_error(qtbot: QtBot, start_engine: EngineFactory) -> None:
    with ThreadedSite(pages=1) as site:
        site.pages = 0  # every listing answers 404: the crawl fails and says why
        engine = start_engine(**only_sites({"1337x": {"mirrors": [site.url], "min_interval_s": 0}}))
        view = CrawlersView(engine.bridge)
        qtbot.addWidget(view)
        view.show()
        panel = view.sources

        def failed() -> bool:
            row = row_of(panel, "1337x")
            return row >= 0 and panel.model.status(row).last_error is not None

        qtbot.waitUntil(failed, timeout=30000)
        error = panel.model.status(row_of(panel, "1337x")).last_error
        assert error is not None
        shown = cell(panel, "1337x", 7)
        assert shown
        assert shown.rstrip("…") in " ".join(error.split())  # long ones are cut in the cell
        tip = panel.model.data(panel.model.index(row_of(panel, "1337x"), 0), ToolTipRole)
        assert tip == error  # and whole in the tooltip


def test_the_panels_refresh_only_while_on_screen(qtbot: QtBot, start_engine: EngineFactory) -> None:
    engine = start_engine()
    window = QTabWidget()  # as the main window holds the tab: another tab is in front
    qtbot.addWidget(window)
    window.addTab(QLabel("search"), "Search")
    view = CrawlersView(engine.bridge)
    window.addTab(view, "Crawlers")
    window.show()

    panels = (view.sources, view.mirrors, view.feeds, view.dht)
    assert not any(panel.is_live() for panel in panels)
    assert view.sources.model.rowCount() == 0  # never loaded while hidden

    window.setCurrentWidget(view)  # shown: the sources load at once, then on their timer
    qtbot.waitUntil(lambda: view.sources.model.rowCount() > 0, timeout=10000)
    assert [panel.is_live() for panel in panels] == [True, False, False, False]

    view.tabs.setCurrentWidget(view.dht)  # another sub-tab: only it refreshes now
    qtbot.waitUntil(lambda: view.dht.state.text().startswith("DHT crawler: off"), timeout=10000)
    assert [panel.is_live() for panel in panels] == [False, False, False, True]

    window.setCurrentIndex(0)  # the crawlers tab hidden: nothing refreshes
    assert not any(panel.is_live() for panel in panels)
    window.hide()
    window.setCurrentWidget(view)
    assert not any(panel.is_live() for panel in panels)  # the window is hidden (in the tray)
