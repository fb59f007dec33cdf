"""The first-run welcome: shown on a first start only, with the URL and the key to copy."""

from __future__ import annotations

import concurrent.futures

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from app.desktop.welcome import Startup, WelcomePanel
from tests.app.desktop.conftest import EngineFactory


def shown(qtbot: QtBot, panel: WelcomePanel) -> QWidget:
    """The panel inside a shown window, as the main window holds it (keep the window)."""
    window = QWidget()
    QVBoxLayout(window).addWidget(panel)
    qtbot.addWidget(window)
    window.show()
    return window


def startup() -> Startup:
    return Startup(
        data_dir="/home/me/.local/share/minato",
        server_url=concurrent.futures.Future(),
        first_key=concurrent.futures.Future(),
    )


def test_a_first_start_welcomes_with_what_runs_and_how_to_connect(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    engine = start_engine()
    start = startup()
    panel = WelcomePanel(engine.bridge, start)
    window = shown(qtbot, panel)
    assert window.isVisible()
    assert not panel.isVisible()  # nothing known yet

    new = engine.run(engine.core.services.keys.create("default"))
    start.first_key.set_result(new)
    start.server_url.set_result("http://127.0.0.1:9797")

    qtbot.waitUntil(panel.isVisible, timeout=5000)
    qtbot.waitUntil(lambda: "DHT crawler is off" in panel.sources.text(), timeout=5000)
    assert "crawling is off in the settings" in panel.sources.text()  # the tests' settings
    assert "/home/me/.local/share/minato" in panel.where.text()
    qtbot.waitUntil(lambda: panel.torznab_url.text() == "http://127.0.0.1:9797/torznab/all")
    assert panel.api_key.text() == new.secret
    panel.copy_key.click()
    assert QGuiApplication.clipboard().text() == new.secret
    assert engine.run(engine.core.services.keys.verify(panel.api_key.text())) is True

    panel.dismiss.click()
    assert not panel.isVisible()


def test_a_later_start_shows_no_welcome(qtbot: QtBot, start_engine: EngineFactory) -> None:
    engine = start_engine()
    start = startup()
    panel = WelcomePanel(engine.bridge, start)
    window = shown(qtbot, panel)
    assert window.isVisible()
    start.first_key.set_result(None)
    start.server_url.set_result("http://127.0.0.1:9797")
    qtbot.wait(200)
    assert not panel.isVisible()
