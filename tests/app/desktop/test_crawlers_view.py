"""The crawlers tab: a local site's crawler shows its runs live; stop and start act on it."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.desktop.crawlers_view import CrawlersView
from engine.services.crawlers import CrawlerState
from tests.app.desktop.conftest import EngineFactory
from tests.crawl_support import only_sites
from tests.site_server import SiteServer, ThreadedSite


def row_of(view: CrawlersView, source: str) -> int:
    for row in range(view.model.rowCount()):
        if view.model.status(row).source == source:
            return row
    return -1


def cell(view: CrawlersView, source: str, column: int) -> str:
    return str(view.model.data(view.model.index(row_of(view, source), column)))


def test_a_crawler_shows_its_run_and_stops_and_starts_from_the_tab(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    with ThreadedSite(pages=1) as site:
        engine = start_engine(**only_sites({"1337x": {"mirrors": [site.url], "min_interval_s": 0}}))
        view = CrawlersView(engine.bridge)
        qtbot.addWidget(view)
        view.show()

        # the scheduler crawls the local 1337x at start: its run shows up in the table
        qtbot.waitUntil(lambda: row_of(view, "1337x") >= 0, timeout=10000)
        qtbot.waitUntil(lambda: view.model.status(row_of(view, "1337x")).runs >= 1, timeout=30000)
        assert cell(view, "1337x", 3).startswith("40 / ")  # two latest listings of 20 rows
        assert row_of(view, "yts") >= 0  # every source is listed, the disabled ones too
        assert cell(view, "yts", 1).startswith("disabled")

        view.stop.click()
        assert view.message.text() == "Select a source first."
        view.table.selectRow(row_of(view, "1337x"))
        view.stop.click()
        qtbot.waitUntil(lambda: "1337x stopped" in view.message.text(), timeout=10000)
        qtbot.waitUntil(
            lambda: view.model.status(row_of(view, "1337x")).state is CrawlerState.DISABLED,
            timeout=10000,
        )
        runs = view.model.status(row_of(view, "1337x")).runs
        paths = len(site.paths)

        view.table.selectRow(row_of(view, "1337x"))
        view.start.click()
        qtbot.waitUntil(
            lambda: view.model.status(row_of(view, "1337x")).runs == runs + 1, timeout=30000
        )
        assert len(site.paths) > paths  # started again: it crawled the site again
        assert isinstance(site, SiteServer)
