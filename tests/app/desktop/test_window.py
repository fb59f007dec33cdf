"""The window as `minato` opens it: its tabs, its shortcuts, and closing it returns."""

from __future__ import annotations

import concurrent.futures

import pytest
from PySide6.QtGui import QShortcut
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app.desktop.launch import run_window
from app.desktop.welcome import Startup
from app.desktop.window import MainWindow
from tests.app.desktop.conftest import EngineFactory


def test_the_window_opens_with_its_tabs_and_closing_it_returns(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    engine = start_engine()
    startup = Startup(
        data_dir="/tmp/minato-data",
        server_url=concurrent.futures.Future(),
        first_key=concurrent.futures.Future(),
    )
    startup.server_url.set_result("http://127.0.0.1:9797")
    startup.first_key.set_result(None)  # not a first start: no welcome
    seen: dict[str, object] = {}

    def drive(window: MainWindow) -> None:
        seen["tabs"] = [window.tabs.tabText(i) for i in range(window.tabs.count())]
        seen["title"] = window.windowTitle()
        seen["welcome"] = window.welcome is not None and window.welcome.isVisible()
        shortcuts = {s.key().toString(): s for s in window.findChildren(QShortcut)}
        seen["shortcuts"] = sorted(k for k in shortcuts if k.startswith("Ctrl"))
        window.tabs.setCurrentWidget(window.keys)
        window.search.search_box.setText("dune")
        shortcuts["Ctrl+L"].activated.emit()  # offscreen windows get no key focus to press it
        seen["current"] = window.tabs.currentWidget() is window.search
        seen["selected"] = window.search.search_box.selectedText()
        seen["no_tray_note"] = any(
            "closing the window quits" in label.text()
            for label in window.statusBar().findChildren(QLabel)
        )
        window.quit_action.trigger()  # no tray offscreen: closing would ask first

    code = run_window(engine.core.services, engine.thread, startup=startup, on_shown=drive)

    assert code == 0
    assert seen == {
        "tabs": ["Search", "Crawlers", "Monitor", "Index", "API keys"],
        "shortcuts": ["Ctrl+F", "Ctrl+L"],
        "title": "Minato",
        "welcome": False,
        "current": True,
        "selected": "dune",
        "no_tray_note": True,
    }


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("http://127.0.0.1:9797", "API and Torznab on http://127.0.0.1:9797"),
        (OSError(98, "address already in use"), "could not start: [Errno 98] address already"),
    ],
)
def test_the_status_bar_says_where_the_api_listens_or_why_it_cannot(
    qtbot: QtBot, start_engine: EngineFactory, outcome: str | OSError, expected: str
) -> None:
    engine = start_engine()
    startup = Startup(
        data_dir="/tmp/minato-data",
        server_url=concurrent.futures.Future(),
        first_key=concurrent.futures.Future(),
    )
    window = MainWindow(engine.bridge, startup)
    qtbot.addWidget(window)
    window.show()
    if isinstance(outcome, str):
        startup.server_url.set_result(outcome)
    else:
        startup.server_url.set_exception(outcome)

    qtbot.waitUntil(lambda: expected in window.statusBar().currentMessage(), timeout=5000)
    if isinstance(outcome, OSError):
        assert "[server] port" in window.statusBar().currentMessage()
