"""Selecting a result shows the torrent in full, and its actions do what they say.

The torrents are real: a saved multi-file .torrent uploaded through the ingest service
(so Minato holds its metainfo) and a record a site reported with its page URL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from app.desktop.details_view import HINT
from app.desktop.search_view import SearchView
from engine.models import RawRecord
from engine.torrent import parse_torrent
from tests.app.desktop.conftest import Engine, EngineFactory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "torrents"
MULTI = FIXTURES / "flexget_multi.torrent"
SITE_PAGE = "http://127.0.0.1:9/torrent/1234/elephants-dream/"


@pytest.fixture
def engine(start_engine: EngineFactory) -> Engine:
    running = start_engine()
    report = running.run(running.core.services.ingest.ingest_torrent(MULTI.read_bytes(), "upload"))
    assert report.created == 1, report
    running.ingest(
        [
            RawRecord(
                source="1337x",
                title="Elephants.Dream.2006.1080p.BluRay.x264-GRP",
                info_hash="e" * 40,
                seeders=12,
                leechers=4,
                size=1_500_000_000,
                source_url=SITE_PAGE,
                description="An open movie by the Blender Foundation.",
            )
        ]
    )
    return running


def search(qtbot: QtBot, engine: Engine, words: str) -> SearchView:
    view = SearchView(engine.bridge)
    qtbot.addWidget(view)
    view.show()
    qtbot.keyClicks(view.search_box, words)
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)
    view.results.selectRow(0)
    qtbot.waitUntil(lambda: view.details.torrent is not None, timeout=5000)
    return view


def test_a_held_torrent_shows_its_files_and_saves_its_torrent_file(
    qtbot: QtBot, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = parse_torrent(MULTI.read_bytes())
    view = search(qtbot, engine, expected.name.split()[0][:4])
    details = view.details

    assert details.files.rowCount() == len(expected.files)
    assert details.file_pages.currentWidget() is details.files_table
    shown = [details.files.data(details.files.index(r, 0)) for r in range(len(expected.files))]
    assert shown == [f.path for f in expected.files]
    assert f"{len(expected.files)} files" in details.facts.text()
    assert "upload" in details.sightings.text()
    assert details.save_torrent.isEnabled()
    assert not details.open_source.isEnabled()  # an upload has no page to open

    target = tmp_path / "saved.torrent"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), ""))
    details.save_torrent.click()
    qtbot.waitUntil(lambda: "Saved saved.torrent" in details.message.text(), timeout=5000)

    assert parse_torrent(target.read_bytes()).info_hash == expected.info_hash


def test_a_site_torrent_copies_opens_and_links_to_its_page(
    qtbot: QtBot, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def open_url(url: QUrl) -> bool:
        opened.append(url.toString())
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", open_url)
    view = search(qtbot, engine, "elephants")
    details = view.details
    assert details.torrent is not None

    assert "1.4 GiB · 12 seeders · 4 leechers · file list unknown" in details.facts.text()
    assert details.file_pages.currentWidget() is details.no_files  # said, not an empty table
    assert f'<a href="{SITE_PAGE}">1337x</a> (12/4)' in details.sightings.text()
    assert details.description.toPlainText() == "An open movie by the Blender Foundation."
    assert not details.save_torrent.isEnabled()  # only a magnet is known

    details.copy_magnet.click()
    assert QGuiApplication.clipboard().text() == details.torrent.magnet
    assert details.torrent.magnet.startswith("magnet:?xt=urn:btih:" + "e" * 40)

    details.open_magnet.click()
    details.open_source.click()
    assert opened == [details.torrent.magnet, SITE_PAGE]


def test_a_failed_open_says_what_to_do(
    qtbot: QtBot, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda _url: False)
    view = search(qtbot, engine, "elephants")
    view.details.open_magnet.click()
    assert "No torrent client" in view.details.message.text()


def test_nothing_but_a_hint_shows_before_a_result_is_chosen(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    engine = start_engine(**{"pipeline.classify": True, "pipeline.classify_workers": 1})
    engine.ingest(
        [
            RawRecord(
                source="1337x",
                title="Elephants.Dream.2006.1080p.BluRay.x264-GRP",
                info_hash="e" * 40,
                category="2040",
            )
        ]
    )
    view = SearchView(engine.bridge)
    qtbot.addWidget(view)
    view.show()
    details = view.details
    assert details.title.text() == HINT
    assert not details.body.isVisible()  # no disabled buttons over an empty file table

    qtbot.keyClicks(view.search_box, "elephants")
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)
    view.results.selectRow(0)
    qtbot.waitUntil(details.body.isVisible, timeout=5000)
    assert details.title.font().bold()
    assert "Movie (Movies/HD)" in details.facts.text()  # the kind and category in words
    assert view.model.index(0, 5).data() == "Movie"
