"""The search tab's filters row as a person uses it, against a real engine.

Records are classified by the real classifier (kind, category, year, resolution are
what it stores); each filter narrows the table to the rows it should, filters
combine, "Clear filters" brings every row back; the source list is the engine's; a
year that is not a year is refused in words and nothing is searched with it; and a
live search (saved pages on 127.0.0.1) shows only rows the filters allow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.desktop.search_filters import SearchFilters, last_year
from app.desktop.search_view import SearchView
from engine.models import ContentKind, LiveMode, RawRecord, SearchQuery
from engine.services import SearchService
from tests.app.desktop.conftest import Engine, EngineFactory, LocalSites
from tests.crawl_support import only_sites

NOW = datetime.now(UTC)
CLASSIFY = {"pipeline.classify": True, "pipeline.classify_workers": 1}
BUNNY_1080 = "Big.Buck.Bunny.2008.1080p.BluRay.x264-GRP"
BUNNY_720 = "Big.Buck.Bunny.2008.720p.BluRay.x264-GRP"
BUNNY_TV = "Big.Buck.Bunny.S01E01.720p.HDTV.x264-GRP"
ELEPHANTS = "Elephants.Dream.2006.1080p.BluRay.x264-GRP"
SINTEL_UHD = "Sintel.2010.2160p.WEB-DL.x264-OTHER"
RELEASES = [  # title, source
    (BUNNY_1080, "upload"),
    (BUNNY_720, "upload"),
    (BUNNY_TV, "upload"),
    (ELEPHANTS, "upload"),
    (SINTEL_UHD, "remote-box"),
]
EVERY = sorted(title for title, _ in RELEASES)


def records() -> list[RawRecord]:
    return [
        RawRecord(
            source=source,
            title=title,
            info_hash=f"{n + 1:040x}",
            seeders=10 + n,
            leechers=1,
            size=1_000_000_000 + n,
            published_at=NOW - timedelta(hours=n + 1),
        )
        for n, (title, source) in enumerate(RELEASES)
    ]


def searching(qtbot: QtBot, engine: Engine) -> SearchView:
    """The search tab showing every record (each title has "x264")."""
    view = SearchView(engine.bridge)
    qtbot.addWidget(view)
    view.show()
    qtbot.keyClicks(view.search_box, "x264")
    qtbot.waitUntil(lambda: shown(view) == EVERY, timeout=5000)
    return view


def shown(view: SearchView) -> list[str]:
    return sorted(view.model.hit(row).title for row in range(view.model.rowCount()))


def choose(box: Any, text: str) -> None:
    index = box.findText(text)
    assert index > 0, f"{text!r} is not offered"
    box.setCurrentIndex(index)


def type_year(qtbot: QtBot, filters: SearchFilters, text: str) -> None:
    filters.year.clear()
    qtbot.keyClicks(filters.year, text)


def noting(sent: list[str], name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    def note(*args: Any) -> Any:
        sent.append(name)
        return real(*args)

    return note


Pick = Callable[[QtBot, SearchFilters], None]
MOVIES = [BUNNY_1080, BUNNY_720, ELEPHANTS, SINTEL_UHD]
PICKS: list[tuple[str, Pick, list[str]]] = [
    ("kind TV", lambda _b, f: choose(f.kind, "TV"), [BUNNY_TV]),
    ("kind movie", lambda _b, f: choose(f.kind, "Movie"), MOVIES),
    ("top category", lambda _b, f: choose(f.category, "Movies"), MOVIES),
    ("subcategory", lambda _b, f: choose(f.category, "Movies/UHD"), [SINTEL_UHD]),
    ("tv subcategory", lambda _b, f: choose(f.category, "TV/HD"), [BUNNY_TV]),
    ("resolution", lambda _b, f: choose(f.resolution, "720p"), [BUNNY_720, BUNNY_TV]),
    ("resolution 4K", lambda _b, f: choose(f.resolution, "2160p (4K)"), [SINTEL_UHD]),
    ("year", lambda b, f: type_year(b, f, "2008"), [BUNNY_1080, BUNNY_720]),
    ("source", lambda _b, f: choose(f.source, "remote-box"), [SINTEL_UHD]),
]  # fmt: skip


@pytest.mark.parametrize(("pick", "expected"), [p[1:] for p in PICKS], ids=[p[0] for p in PICKS])
def test_each_filter_narrows_the_table_and_clearing_restores_it(
    qtbot: QtBot, start_engine: EngineFactory, pick: Pick, expected: list[str]
) -> None:
    engine = start_engine(**CLASSIFY)
    engine.ingest(records())
    view = searching(qtbot, engine)
    qtbot.waitUntil(lambda: "remote-box" in view.filters.sources(), timeout=5000)
    assert not view.filters.clear_button.isEnabled()  # nothing to clear yet

    pick(qtbot, view.filters)

    qtbot.waitUntil(lambda: shown(view) == sorted(expected), timeout=5000)
    assert view.filters.clear_button.isEnabled()
    qtbot.mouseClick(view.filters.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shown(view) == EVERY, timeout=5000)
    assert view.filters.is_default()
    assert view.query() == SearchQuery(text="x264", limit=view.query().limit)


def test_filters_combine_and_a_search_with_no_words_lists_what_they_allow(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    engine = start_engine(**CLASSIFY)
    engine.ingest(records())
    view = searching(qtbot, engine)
    filters = view.filters

    choose(filters.kind, "Movie")
    choose(filters.resolution, "1080p")
    qtbot.waitUntil(lambda: shown(view) == sorted([BUNNY_1080, ELEPHANTS]), timeout=5000)
    type_year(qtbot, filters, "2006")
    qtbot.waitUntil(lambda: shown(view) == [ELEPHANTS], timeout=5000)
    choose(filters.source, "remote-box")  # no 2006 1080p movie came from there
    qtbot.waitUntil(lambda: view.model.rowCount() == 0, timeout=5000)
    assert view.query() == SearchQuery(
        text="x264",
        kinds=(ContentKind.MOVIE,),
        resolution="1080p",
        year=2006,
        source="remote-box",
        limit=view.query().limit,
    )

    view.search_box.clear()  # the filters alone: browse what they allow
    choose(filters.source, "upload")
    qtbot.waitUntil(lambda: shown(view) == [ELEPHANTS], timeout=5000)

    filters.clear()
    qtbot.waitUntil(lambda: shown(view) == EVERY, timeout=5000)


def test_the_source_list_is_the_engines_and_follows_a_new_feed(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    engine = start_engine(**CLASSIFY)
    engine.ingest(records())
    filters = SearchFilters(engine.bridge)
    qtbot.addWidget(filters)
    filters.show()
    crawlers = {status.source for status in engine.core.services.crawlers.statuses()}

    qtbot.waitUntil(lambda: len(filters.sources()) > 2, timeout=5000)
    assert set(filters.sources()) == crawlers | {"upload", "remote-box"}
    assert filters.sources() == sorted(filters.sources())
    assert filters.source.itemText(0) == "Any source"
    choose(filters.source, "upload")

    engine.run(engine.core.services.feeds.add("news", "http://127.0.0.1:9/rss"))
    filters.source.showPopup()  # opening the list reads it again

    qtbot.waitUntil(lambda: "feed:news" in filters.sources(), timeout=5000)
    filters.source.hidePopup()
    assert filters.source.currentData() == "upload"  # the choice survived the new list


def test_categories_are_the_engines_torznab_tree_with_names(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    filters = SearchFilters(start_engine().bridge)
    qtbot.addWidget(filters)
    box = filters.category
    offered = [(box.itemText(i), box.itemData(i)) for i in range(box.count())]
    tree = SearchService.categories()

    assert offered[0] == ("Any category", None)
    assert offered[1:] == [
        entry for top, name, subs in tree for entry in ((name, top), *((n, c) for c, n in subs))
    ]
    assert ("Movies", 2000) in offered
    assert ("Movies/HD", 2040) in offered
    assert ("Books/EBook", 7020) in offered
    assert box.itemData(box.findText("Movies"), Qt.ItemDataRole.FontRole).bold()
    assert not box.itemData(box.findText("Movies/HD"), Qt.ItemDataRole.FontRole)


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("20x8", "“20x8” is not a year"),
        ("\uff12\uff10\uff10\uff18", "is not a year"),  # full-width 2008: no year the index has
        ("1850", "“1850” is out of range"),
        ("99999", "“99999” is out of range"),
        ("200", "“200” is not a whole year"),
        ("9" * 500, "“999999999999…” is out of range"),
        ("2008; DROP TABLE torrents", "“2008; DROP T…” is not a year"),
    ],
)
def test_a_bad_year_is_refused_in_words_and_nothing_is_searched(
    qtbot: QtBot,
    start_engine: EngineFactory,
    monkeypatch: pytest.MonkeyPatch,
    typed: str,
    said: str,
) -> None:
    engine = start_engine(**CLASSIFY)
    engine.ingest(records())
    view = searching(qtbot, engine)
    type_year(qtbot, view.filters, "2008")
    qtbot.waitUntil(lambda: shown(view) == sorted([BUNNY_1080, BUNNY_720]), timeout=5000)
    sent: list[str] = []
    for name in ("call", "stream"):  # the bridge still works; each use of it is noted
        monkeypatch.setattr(engine.bridge, name, noting(sent, name, getattr(engine.bridge, name)))

    QGuiApplication.clipboard().setText(typed)  # pasted over the good year, as people do
    view.filters.year.selectAll()
    view.filters.year.paste()
    qtbot.keyClick(view.search_box, Qt.Key.Key_Return)  # Enter would ask the sites too
    qtbot.wait(300)  # anything sent would have answered and painted by now

    message = view.filters.message
    assert message.isVisible()
    assert said in message.text()
    assert f"1900 to {last_year()}" in message.text()
    assert len(message.text()) < 200  # a huge paste is not echoed whole
    assert "border" in view.filters.year.styleSheet()
    assert view.status.text().startswith("Not searched: a filter needs fixing")
    assert sent == []
    assert shown(view) == sorted([BUNNY_1080, BUNNY_720])  # the last good answer stays

    view.filters.year.clear()  # the fix: clear it (any year)
    view.filters.year.textEdited.emit("")
    qtbot.waitUntil(lambda: shown(view) == EVERY, timeout=5000)
    assert not view.filters.message.isVisible()
    assert view.filters.year.styleSheet() == ""
    assert "in the index" in view.status.text()


def test_a_live_search_keeps_the_filters(
    qtbot: QtBot, start_engine: EngineFactory, local_sites: LocalSites
) -> None:
    lime = local_sites.serve("limetorrents")
    engine = start_engine(
        **only_sites({"limetorrents": {"mirrors": [lime.url], "min_interval_s": 0}}), **CLASSIFY
    )
    view = SearchView(engine.bridge)
    qtbot.addWidget(view)
    view.show()
    choose(view.filters.resolution, "1080p")

    qtbot.keyClicks(view.search_box, "sintel 2010")
    qtbot.keyClick(view.search_box, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: "the sites answered" in view.status.text(), timeout=15000)
    assert "limetorrents ✓ 14" in view.status.text()  # the site gave 14 rows of every kind
    unfiltered = engine.run(
        engine.core.services.search.search(SearchQuery(text="sintel 2010"), live=LiveMode.OFF)
    )
    hits = [view.model.hit(row) for row in range(view.model.rowCount())]
    assert hits, "no row of the site's answer was shown"
    assert all(hit.resolution == "1080p" for hit in hits)
    wanted = sorted(h.info_hash for h in unfiltered.hits if h.resolution == "1080p")
    assert sorted(hit.info_hash for hit in hits) == wanted
    assert len(hits) < unfiltered.total  # the filter left some of the site's rows out
    assert view.model.total == len(hits)
