"""The API keys tab: a key made here opens the API, shown once; revoked, it no longer does."""

from __future__ import annotations

import concurrent.futures
import re

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.desktop.keys_view import KeysView
from tests.app.desktop.conftest import Engine, EngineFactory


@pytest.fixture
def engine(start_engine: EngineFactory) -> Engine:
    return start_engine()


def keys_view(qtbot: QtBot, engine: Engine, url: concurrent.futures.Future[str]) -> KeysView:
    view = KeysView(engine.bridge, url)
    qtbot.addWidget(view)
    view.show()
    return view


def cell(view: KeysView, row: int, column: int) -> str:
    return str(view.model.data(view.model.index(row, column)))


def test_a_generated_key_is_shown_once_works_and_stops_working_when_revoked(
    qtbot: QtBot, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    url: concurrent.futures.Future[str] = concurrent.futures.Future()
    view = keys_view(qtbot, engine, url)
    assert view.torznab_url.text() == ""
    url.set_result("http://127.0.0.1:9797")  # the server came up
    qtbot.waitUntil(lambda: view.torznab_url.text() == "http://127.0.0.1:9797/torznab/all")

    view.generate.click()
    assert "Name the key first" in view.message.text()

    qtbot.keyClicks(view.name, "sonarr")
    view.generate.click()
    qtbot.waitUntil(lambda: view.new_secret.text() != "", timeout=5000)
    secret = view.new_secret.text()
    assert re.fullmatch(r"[0-9a-f]{32}", secret)
    assert "not shown again" in view.new_note.text()
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)
    assert (cell(view, 0, 0), cell(view, 0, 1), cell(view, 0, 4)) == (
        "sonarr", f"{secret[:8]}…", "active",
    )  # fmt: skip
    assert secret not in "".join(cell(view, 0, c) for c in range(5))  # only the prefix is listed
    assert engine.run(engine.core.services.keys.verify(secret)) is True
    view.copy_secret.click()
    assert QGuiApplication.clipboard().text() == secret

    view.table.selectRow(0)
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.No)
    view.revoke.click()
    assert engine.run(engine.core.services.keys.verify(secret)) is True  # said no: kept

    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Yes)
    view.revoke.click()
    qtbot.waitUntil(lambda: cell(view, 0, 4) == "revoked", timeout=5000)
    assert "Revoked 'sonarr'" in view.message.text()
    assert engine.run(engine.core.services.keys.verify(secret)) is False


def test_revoking_without_a_selection_says_so(qtbot: QtBot, engine: Engine) -> None:
    view = keys_view(qtbot, engine, concurrent.futures.Future())
    view.revoke.click()
    assert view.message.text() == "Select the key to revoke."


def test_a_name_the_service_refuses_is_explained(qtbot: QtBot, engine: Engine) -> None:
    view = keys_view(qtbot, engine, concurrent.futures.Future())
    qtbot.keyClicks(view.name, "x" * 200)
    view.generate.click()
    qtbot.waitUntil(lambda: "1-128 characters" in view.message.text(), timeout=5000)
    assert view.new_secret.text() == ""
