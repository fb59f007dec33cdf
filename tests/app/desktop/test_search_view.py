"""The search tab as a person uses it: typing, Enter, filters, sorting, Esc.

Typing answers from the index alone (no site is asked for a half-typed word); Enter
also asks the sites (saved pages on 127.0.0.1) and their rows appear with a status per
site; a newer search wins over an older one still running.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.desktop.search_view import LIVE_AFTER_MS, SearchView
from engine.models import RawRecord
from tests.app.desktop.conftest import Engine, EngineFactory, LocalSites
from tests.crawl_support import only_sites
from tests.site_server import GatedSite

NOW = datetime.now(UTC)
RELEASES = [  # title, seeders, size, kind hint (a Torznab category), hours ago
    ("Big.Buck.Bunny.2008.1080p.BluRay.x264-GRP", 50, 2_000_000_000, "2040", 1),
    ("Big.Buck.Bunny.2008.720p.BluRay.x264-GRP", 80, 900_000_000, "2040", 2),
    ("Big.Buck.Bunny.S01E01.720p.HDTV.x264-GRP", 10, 400_000_000, "5040", 3),
    ("Elephants.Dream.2006.1080p.BluRay.x264-GRP", 5, 1_500_000_000, "2040", 4),
]


def records() -> list[RawRecord]:
    return [
        RawRecord(
            source="upload",
            title=title,
            info_hash=f"{n + 1:040x}",
            seeders=seeders,
            leechers=1,
            size=size,
            category=category,
            published_at=NOW - timedelta(hours=hours),
        )
        for n, (title, seeders, size, category, hours) in enumerate(RELEASES)
    ]


def view_of(qtbot: QtBot, engine: Engine) -> SearchView:
    view = SearchView(engine.bridge)
    qtbot.addWidget(view)
    view.show()
    return view


def titles(view: SearchView) -> list[str]:
    return [view.model.hit(row).title for row in range(view.model.rowCount())]


def test_typing_shows_index_results_without_asking_any_site(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    engine = start_engine()
    engine.ingest(records())
    view = view_of(qtbot, engine)

    qtbot.keyClicks(view.search_box, "big buck")

    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=5000)
    assert all("Big.Buck.Bunny" in title for title in titles(view))
    assert "3 in the index" in view.status.text()

    qtbot.keyClicks(view.search_box, " 1080")  # the last word is a prefix as you type
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)
    assert titles(view) == ["Big.Buck.Bunny.2008.1080p.BluRay.x264-GRP"]


def test_filters_and_sorting_change_the_rows(qtbot: QtBot, start_engine: EngineFactory) -> None:
    engine = start_engine(**{"pipeline.classify": True, "pipeline.classify_workers": 1})
    engine.ingest(records())
    view = view_of(qtbot, engine)
    qtbot.keyClicks(view.search_box, "big")
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=5000)

    view.kind_filter.setCurrentIndex(view.kind_filter.findText("TV"))
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)
    assert titles(view) == ["Big.Buck.Bunny.S01E01.720p.HDTV.x264-GRP"]

    view.kind_filter.setCurrentIndex(0)
    view.sort_order.setCurrentIndex(view.sort_order.findText("Seeders"))
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=5000)
    qtbot.waitUntil(lambda: [view.model.hit(r).seeders for r in range(3)] == [80, 50, 10])

    view.sort_order.setCurrentIndex(view.sort_order.findText("Size"))
    qtbot.waitUntil(
        lambda: (
            [view.model.hit(r).size for r in range(3)] == [2_000_000_000, 900_000_000, 400_000_000]
        )
    )


def test_enter_asks_the_sites_and_their_rows_appear_with_a_status(
    qtbot: QtBot, start_engine: EngineFactory, local_sites: LocalSites
) -> None:
    lime = local_sites.serve("limetorrents")
    live = start_engine(
        **only_sites({"limetorrents": {"mirrors": [lime.url], "min_interval_s": 0}})
    )
    view = view_of(qtbot, live)

    qtbot.keyClicks(view.search_box, "sintel 2010")
    qtbot.waitUntil(lambda: "in the index" in view.status.text(), timeout=5000)
    assert view.model.rowCount() == 0  # typing asked the index only
    assert lime.pages.search_path not in lime.paths

    qtbot.keyClick(view.search_box, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: "the sites answered" in view.status.text(), timeout=15000)
    assert "limetorrents ✓ 14" in view.status.text()
    assert view.model.rowCount() > 0
    assert all("sintel" in title.lower() for title in titles(view))
    assert all("limetorrents" in view.model.hit(r).sources for r in range(view.model.rowCount()))


def test_a_newer_search_wins_over_a_live_search_still_running(
    qtbot: QtBot, start_engine: EngineFactory, local_sites: LocalSites
) -> None:
    slow = local_sites.serve("limetorrents", gated=True)
    assert isinstance(slow, GatedSite)
    live = start_engine(
        **only_sites({"limetorrents": {"mirrors": [slow.url], "min_interval_s": 0}}),
        **{"live.source_deadline_s": 30.0, "live.global_deadline_s": 30.0},
    )
    live.ingest(records())
    view = view_of(qtbot, live)
    qtbot.keyClicks(view.search_box, "sintel 2010")
    qtbot.keyClick(view.search_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: slow.asked, timeout=5000)

    view.search_box.clear()
    qtbot.keyClicks(view.search_box, "elephants")  # typed while the sites are still searched
    qtbot.waitUntil(lambda: titles(view) == ["Elephants.Dream.2006.1080p.BluRay.x264-GRP"])
    local_sites.open_gate(slow)
    live.run(live.core.services.live.wait_idle())
    qtbot.wait(300)  # anything the old search still delivered would have painted by now

    assert titles(view) == ["Elephants.Dream.2006.1080p.BluRay.x264-GRP"]
    assert "sintel" not in view.status.text().lower()


def test_escape_clears_the_search(qtbot: QtBot, start_engine: EngineFactory) -> None:
    engine = start_engine()
    engine.ingest(records())
    view = view_of(qtbot, engine)
    qtbot.keyClicks(view.search_box, "elephants")
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)

    view.activateWindow()  # Esc belongs to the search tab: the keyboard focus must be in it
    view.search_box.setFocus()
    qtbot.waitUntil(view.search_box.hasFocus, timeout=5000)
    qtbot.keyClick(view.search_box, Qt.Key.Key_Escape)

    assert view.search_box.text() == ""
    assert view.model.rowCount() == 0
    qtbot.wait(LIVE_AFTER_MS + 300)  # the pause that would search the sites has passed
    assert view.model.rowCount() == 0  # nothing came back for the words cleared


def test_the_table_shows_every_column_and_enter_opens_a_result(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    engine = start_engine()
    engine.ingest(records())
    view = view_of(qtbot, engine)
    qtbot.keyClicks(view.search_box, "elephants")
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)
    header = [view.model.headerData(c, Qt.Orientation.Horizontal) for c in range(7)]
    cells = [view.model.index(0, c).data() for c in range(7)]

    view.results.setFocus()
    view.results.setCurrentIndex(view.model.index(0, 0))
    with qtbot.waitSignal(view.result_activated, timeout=5000) as opened:
        qtbot.keyClick(view.results, Qt.Key.Key_Return)

    assert header == ["Title", "Size", "Seeders", "Leechers", "Age", "Kind", "Sources"]
    assert cells[0] == "Elephants.Dream.2006.1080p.BluRay.x264-GRP"
    assert cells[2:5] == ["5", "1", "4 h"]
    assert cells[6] == "upload"
    assert opened.args[0].info_hash == f"{4:040x}"
    qtbot.waitUntil(lambda: view.details.torrent is not None, timeout=5000)
    assert view.details.torrent is not None
    assert view.details.torrent.summary.title == cells[0]


def test_fast_typing_keeps_one_search_on_its_way_and_ends_on_the_whole_word(
    qtbot: QtBot, start_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = start_engine()
    engine.ingest(records())
    view = view_of(qtbot, engine)
    asked: list[str] = []
    on_the_way: list[int] = []
    real_call = engine.bridge.call

    def call(work: Any, on_ok: Any, on_error: Any) -> Any:
        if getattr(on_ok, "__self__", None) is view:  # the search view's index searches
            asked.append(view.search_box.text())
            on_the_way.append(sum(1 for t in tickets if not t.done))
        ticket = real_call(work, on_ok, on_error)
        tickets.append(ticket)
        return ticket

    tickets: list[Any] = []
    monkeypatch.setattr(engine.bridge, "call", call)
    qtbot.keyClicks(view.search_box, "elephants dream")  # 15 keys, faster than any answer

    qtbot.waitUntil(lambda: titles(view) == [RELEASES[3][0]], timeout=5000)
    qtbot.wait(300)  # nothing more is asked once the whole words were answered
    assert asked[0] == "e"  # the first key is searched at once: no debounce
    assert asked[-1] == "elephants dream"
    assert len(asked) < len("elephants dream")  # keys typed meanwhile were searched as one
    assert max(on_the_way) == 0  # never a search sent while another was on its way
