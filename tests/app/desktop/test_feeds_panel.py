"""Feeds: add one served on 127.0.0.1 (the saved showRSS feed) and see it polled; bad input; remove.

What the engine refuses is shown next to the form, which keeps what was typed; a
feed added shows in the Sources sub-tab and the scheduler polls it; removing asks
first. Keys in a feed's URL are never shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.desktop.crawlers_view import CrawlersView
from app.desktop.feeds_panel import FeedsPanel
from engine.services import Services
from engine.services.crawlers import CrawlerStatus
from engine.services.feeds import FeedInfo
from tests.app.desktop.conftest import Engine, EngineFactory, LocalSites
from tests.crawl_support import only_sites
from tests.engine.sources.test_feed_poller import FeedServer

PASSKEY = "9f8e7d6c5b4a"
ToolTipRole = Qt.ItemDataRole.ToolTipRole


@pytest.fixture
def feed(local_sites: LocalSites) -> Iterator[FeedServer]:
    """The saved showRSS feed (its three oldest items) at /rss on 127.0.0.1."""
    server = local_sites.loop.submit(FeedServer().start()).result(10)
    yield server
    local_sites.loop.submit(server.close()).result(10)


def statuses(engine: Engine) -> dict[str, CrawlerStatus]:
    async def read(services: Services) -> dict[str, CrawlerStatus]:
        return {s.source: s for s in services.crawlers.statuses()}

    return engine.run(read(engine.core.services))


def feeds(engine: Engine) -> list[FeedInfo]:
    async def read(services: Services) -> list[FeedInfo]:
        return await services.feeds.list()

    return engine.run(read(engine.core.services))


def cells(panel: FeedsPanel, name: str) -> dict[str, str]:
    row = panel.row_of(name)
    model = panel.model
    return {
        model.columns[c]: str(model.data(model.index(row, c))) for c in range(len(model.columns))
    }


def fill(panel: FeedsPanel, name: str, url: str, every: str = "15m") -> None:
    panel.name.setText(name)
    panel.url.setText(url)
    panel.every.setText(every)
    panel.add.click()


def test_an_added_feed_is_listed_scheduled_and_polled(
    qtbot: QtBot, start_engine: EngineFactory, feed: FeedServer
) -> None:
    engine = start_engine(**only_sites({}))  # crawling on, every site off: feeds are polled
    view = CrawlersView(engine.bridge)
    qtbot.addWidget(view)
    view.show()
    view.tabs.setCurrentWidget(view.feeds)
    panel = view.feeds
    assert panel.is_live()
    assert not view.sources.is_live()

    url = f"{feed.url}?passkey={PASSKEY}"  # a private feed's key
    fill(panel, "showrss", url, "1h")
    qtbot.waitUntil(lambda: panel.row_of("showrss") >= 0, timeout=10000)
    assert panel.message.text().startswith("Added feed showrss (source feed:showrss)")
    assert "polled every 1h" in panel.message.text()
    assert (panel.name.text(), panel.url.text(), panel.every.text()) == ("", "", "15m")
    assert panel.form_error.text() == ""

    # polled at once by the scheduler: its items show in the row
    qtbot.waitUntil(lambda: cells(panel, "showrss")["Last new / total"] == "3 / 3", timeout=30000)
    row = cells(panel, "showrss")
    assert row["URL"] == f"{feed.url}?passkey=***"
    tooltip = panel.model.data(panel.model.index(panel.row_of("showrss"), 1), ToolTipRole)
    assert tooltip.startswith(f"{feed.url}?passkey=***\n")
    assert PASSKEY not in " ".join([*row.values(), tooltip])  # never shown
    assert row["Every"] == "1h"
    assert row["Last poll"].endswith(("just now", "ago"))
    assert row["State"].startswith("idle")
    assert row["Last error"] == ""
    scheduled = statuses(engine)["feed:showrss"]
    assert (scheduled.runs, scheduled.items_new, scheduled.enabled) == (1, 3, True)
    assert len(feed.requests) == 1

    # the Sources sub-tab lists it as soon as it is shown
    view.tabs.setCurrentWidget(view.sources)
    assert view.sources.is_live()
    assert not panel.is_live()
    sources = view.sources.model

    def listed() -> bool:
        return "feed:showrss" in [sources.status(r).source for r in range(sources.rowCount())]

    qtbot.waitUntil(listed, timeout=10000)


@pytest.mark.parametrize(
    ("name", "url", "every", "said"),
    [
        ("ok", "ftp://x.example/rss", "15m", "http:// or https://"),
        ("ok", "not a url", "15m", "http:// or https://"),
        ("ok", "https://user:pw@x.example/rss", "15m", "no credentials"),
        ("Bad Name!", "https://x.example/rss", "15m", "name"),
        ("x" * 5000, "https://x.example/rss", "15m", "name"),
        ("ok", "https://x.example/" + "a" * 5000, "15m", "http:// or https://"),
        ("ok", "https://x.example/rss", "soon", "not an interval"),
        ("ok", "https://x.example/rss", "1s", "outside"),
        ("ok", "https://x.example/rss", "continuous", "interval"),
    ],
)
def test_the_engines_refusal_shows_by_the_form_and_nothing_is_added(
    qtbot: QtBot, start_engine: EngineFactory, name: str, url: str, every: str, said: str
) -> None:
    engine = start_engine()
    panel = FeedsPanel(engine.bridge)
    qtbot.addWidget(panel)
    panel.show()

    fill(panel, name, url, every)
    qtbot.waitUntil(lambda: panel.form_error.text() != "", timeout=10000)
    assert said in panel.form_error.text()
    assert len(panel.form_error.text()) < 300  # a huge input is not echoed whole
    assert (panel.name.text(), panel.url.text(), panel.every.text()) == (name, url, every)
    assert panel.add.isEnabled()  # ready for the corrected input
    assert feeds(engine) == []
    assert "feed:ok" not in statuses(engine)


def test_an_empty_form_and_a_taken_name_are_refused(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    engine = start_engine()
    panel = FeedsPanel(engine.bridge)
    qtbot.addWidget(panel)
    panel.show()

    fill(panel, "", "", "")
    assert panel.form_error.text() == "Give the feed a name and its URL."
    fill(panel, "nyaa", "https://nyaa.example/?page=rss")
    qtbot.waitUntil(lambda: panel.row_of("nyaa") >= 0, timeout=10000)
    assert cells(panel, "nyaa")["State"].startswith("disabled")  # crawling is off here

    fill(panel, "nyaa", "https://other.example/rss")
    qtbot.waitUntil(lambda: "exists" in panel.form_error.text(), timeout=10000)
    assert panel.url.text() == "https://other.example/rss"
    assert [(f.name, f.url) for f in feeds(engine)] == [("nyaa", "https://nyaa.example/?page=rss")]


def test_removing_asks_first_then_removes_and_unschedules(
    qtbot: QtBot, start_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = start_engine()
    panel = FeedsPanel(engine.bridge)
    qtbot.addWidget(panel)
    panel.show()
    fill(panel, "showrss", "https://showrss.example/feeds/all.rss")
    qtbot.waitUntil(lambda: panel.row_of("showrss") >= 0, timeout=10000)
    fill(panel, "other", "https://other.example/rss")
    qtbot.waitUntil(lambda: panel.row_of("other") >= 0, timeout=10000)

    panel.remove.click()
    assert panel.message.text() == "Select the feed to remove."
    asked: list[str] = []

    def answer(button: QMessageBox.StandardButton) -> Callable[..., QMessageBox.StandardButton]:
        def question(_parent: object, _title: str, text: str) -> QMessageBox.StandardButton:
            asked.append(text)
            return button

        return question

    panel.table.selectRow(panel.row_of("showrss"))
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    panel.remove.click()
    assert "Remove the feed 'showrss'" in asked[-1]
    assert {f.name for f in feeds(engine)} == {"showrss", "other"}  # "no": nothing changes

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    panel.remove.click()
    qtbot.waitUntil(lambda: panel.message.text() == "Removed feed showrss.", timeout=10000)
    qtbot.waitUntil(lambda: panel.row_of("showrss") < 0, timeout=10000)
    assert {f.name for f in feeds(engine)} == {"other"}
    assert "feed:showrss" not in statuses(engine)

    # removed meanwhile by another hand (the CLI, the API): the engine's answer is shown
    panel.table.selectRow(panel.row_of("other"))

    async def remove_other(services: Services) -> None:
        await services.feeds.remove("other")

    engine.run(remove_other(engine.core.services))
    panel.remove.click()
    qtbot.waitUntil(lambda: panel.message.text() == "no feed named 'other'", timeout=10000)
    assert feeds(engine) == []
