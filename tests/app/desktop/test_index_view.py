"""The index tab: a re-index runs to the end with its progress, or stops when cancelled."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.desktop.index_view import IndexView
from engine.models import RawRecord, SearchQuery
from tests.app.desktop.conftest import Engine, EngineFactory

COUNT = 60


def records() -> list[RawRecord]:
    return [
        RawRecord(source="upload", title=f"Open.Movie.{n}.1080p", info_hash=f"{n + 1:040x}")
        for n in range(COUNT)
    ]


def index_view(qtbot: QtBot, engine: Engine) -> IndexView:
    view = IndexView(engine.bridge)
    qtbot.addWidget(view)
    view.show()
    return view


def found(engine: Engine) -> int:
    page = engine.run(engine.core.services.search.search(SearchQuery(text="open movie")))
    return page.total


def test_a_reindex_runs_with_progress_and_the_index_answers_after(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    engine = start_engine()
    engine.ingest(records())
    view = index_view(qtbot, engine)
    qtbot.waitUntil(lambda: view.facts["torrents"].text() == str(COUNT))
    assert view.facts["backend"].text() == "embedded (Tantivy)"
    assert view.facts["backlog"].text() == "0"

    view.reindex.click()
    assert not view.reindex.isEnabled()
    assert view.cancel.isEnabled()

    qtbot.waitUntil(lambda: view.message.text() == f"Re-indexed {COUNT} torrents.", timeout=10000)
    assert (view.progress.maximum(), view.progress.value()) == (COUNT, COUNT)
    assert view.reindex.isEnabled()
    assert not view.cancel.isEnabled()
    assert found(engine) == COUNT


def test_a_cancelled_reindex_says_so_and_the_next_start_completes_it(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    engine = start_engine()
    engine.ingest(records())
    view = index_view(qtbot, engine)
    lock = engine.core.drainer._lock  # held: the re-index waits before its first page
    lock.acquire()
    try:
        view.reindex.click()
        view.cancel.click()
        assert "Cancelling" in view.message.text()
    finally:
        lock.release()

    qtbot.waitUntil(lambda: "re-index cancelled" in view.message.text(), timeout=10000)
    assert "incomplete until the next re-index or start" in view.message.text()
    assert view.reindex.isEnabled()
    assert engine.core.index.needs_rebuild  # the next start (Core.run) refills it
