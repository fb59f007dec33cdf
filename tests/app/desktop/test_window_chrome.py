"""Around the views: the crash dialog, the theme, the remembered layout, and closing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMessageBox, QSplitter
from pytestqt.qtbot import QtBot

from app.desktop.crash import CrashReporter
from app.desktop.theme import Theme, wants_dark
from app.desktop.window import MainWindow
from app.desktop.window_state import FILE_NAME, WindowState
from engine.logs import configure_logging
from tests.app.desktop.conftest import EngineFactory


@pytest.fixture
def window(qtbot: QtBot, start_engine: EngineFactory) -> MainWindow:
    main = MainWindow(start_engine().bridge)
    qtbot.addWidget(main)
    main.show()
    return main


# --- crash dialog ---------------------------------------------------------------------------


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    path = tmp_path / "logs" / "minato.log"
    configure_logging(logging.WARNING, log_file=path)
    yield path
    for handler in root.handlers:
        handler.close()
    root.handlers[:], root.level = handlers, level


def _boom() -> None:
    raise ValueError("a bug in a slot")


@pytest.mark.qt_no_exception_capture
def test_an_unexpected_error_shows_a_dialog_naming_the_log(
    qtbot: QtBot, window: MainWindow, log_file: Path
) -> None:
    crash = CrashReporter(log_file, window)
    crash.install()
    try:
        QTimer.singleShot(0, _boom)
        qtbot.waitUntil(lambda: crash.dialog is not None and crash.dialog.isVisible(), timeout=5000)
        assert crash.dialog is not None
        assert str(log_file) in crash.dialog.informativeText()
        assert "ValueError: a bug in a slot" in crash.dialog.informativeText()
        QTimer.singleShot(0, _boom)  # a second error while the dialog is open: counted in it
        qtbot.waitUntil(lambda: "1 more error" in crash.dialog.informativeText(), timeout=5000)
        assert len([w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]) == 1
        with qtbot.waitSignal(crash.quit_requested, timeout=2000):
            quit_button = next(b for b in crash.dialog.buttons() if "Quit" in b.text())
            quit_button.click()
    finally:
        crash.uninstall()
    logged = log_file.read_text()
    assert "Traceback" in logged
    assert "a bug in a slot" in logged
    assert window.isVisible()  # the window goes on


@pytest.mark.qt_no_exception_capture
def test_an_error_on_another_thread_reaches_the_dialog(
    qtbot: QtBot, window: MainWindow, log_file: Path
) -> None:
    import threading

    crash = CrashReporter(log_file, window)
    crash.install()
    try:
        thread = threading.Thread(target=_boom, name="some-worker")
        thread.start()
        thread.join()
        qtbot.waitUntil(lambda: crash.dialog is not None and crash.dialog.isVisible(), timeout=5000)
        assert "in some-worker" in crash.dialog.informativeText()
    finally:
        crash.uninstall()
        if crash.dialog is not None:
            crash.dialog.close()


# --- theme ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "system", "dark"),
    [
        ("system", Qt.ColorScheme.Dark, True),
        ("system", Qt.ColorScheme.Light, False),
        ("system", Qt.ColorScheme.Unknown, False),
        ("dark", Qt.ColorScheme.Light, True),
        ("light", Qt.ColorScheme.Dark, False),
    ],
)
def test_the_choice_and_the_system_decide_dark(
    choice: str, system: Qt.ColorScheme, dark: bool
) -> None:
    assert wants_dark(choice, system) is dark  # type: ignore[arg-type]


def test_dark_and_light_palettes_apply_to_the_window(
    qtbot: QtBot, qapp: QApplication, window: MainWindow
) -> None:
    theme = Theme(qapp, "dark")
    try:
        window_colour = qapp.palette().color(QPalette.ColorRole.Window)
        text_colour = qapp.palette().color(QPalette.ColorRole.WindowText)
        assert window_colour.lightness() < 80 < text_colour.lightness()
        qtbot.waitUntil(
            lambda: window.palette().color(QPalette.ColorRole.Window) == window_colour,
            timeout=2000,
        )
        theme.choose("light")
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 180
    finally:
        theme.choose("light")


def test_the_chart_links_and_error_notes_follow_the_theme(
    qtbot: QtBot, qapp: QApplication, window: MainWindow
) -> None:
    """What Qt does not recolour by itself: QtCharts' card, rich-text links, red notes."""
    note = window.crawlers.feeds.form_error
    window.tabs.setCurrentWidget(window.crawlers)
    window.crawlers.tabs.setCurrentWidget(window.crawlers.feeds)
    window.crawlers.feeds.add.click()  # no name, no URL: the form says so, in red
    assert note.isVisible()
    assert note.text() == "Give the feed a name and its URL."
    chart = window.monitor.chart
    theme = Theme(qapp, "light")
    try:
        light_red = note.palette().color(QPalette.ColorRole.WindowText)
        theme.choose("dark")
        base = qapp.palette().color(QPalette.ColorRole.Base)
        qtbot.waitUntil(lambda: chart.backgroundBrush().color() == base, timeout=2000)
        assert chart.titleBrush().color() == qapp.palette().color(QPalette.ColorRole.WindowText)
        dark_red = note.palette().color(QPalette.ColorRole.WindowText)
        assert dark_red != light_red
        assert dark_red.lightness() > 128 > light_red.lightness()  # readable on each window
    finally:
        theme.choose("light")
    qtbot.waitUntil(lambda: chart.backgroundBrush().color().lightness() > 180, timeout=2000)
    note.setText("")
    assert not note.isVisible()  # an empty note takes no room


# --- the remembered layout ------------------------------------------------------------------


def test_size_tab_and_splitter_come_back_at_the_next_start(
    qtbot: QtBot, start_engine: EngineFactory, tmp_path: Path
) -> None:
    engine = start_engine()
    first = MainWindow(engine.bridge)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    # Inside the offscreen screen's 800x600; the window's minimum width (style-dependent)
    # may win over 760, so compare with what the window really got.
    first.resize(760, 470)
    qtbot.waitUntil(lambda: first.height() == 470, timeout=2000)
    QApplication.processEvents()
    size = (first.width(), first.height())
    first.tabs.setCurrentWidget(first.keys)
    splitter = first.search.findChildren(QSplitter)[0]
    splitter.setSizes([100, 400])
    kept = splitter.sizes()
    WindowState(tmp_path).save(first, first.tabs, {"search": splitter})

    second = MainWindow(engine.bridge)
    qtbot.addWidget(second)
    splitter2 = second.search.findChildren(QSplitter)[0]
    WindowState(tmp_path).restore(second, second.tabs, {"search": splitter2})
    second.show()
    # The height, not the width: the window's minimum width (Fusion's, after a theme test)
    # can exceed the offscreen screen's 800 px, and Qt clamps a restored window to it.
    assert second.height() == size[1]
    assert size[1] == 470
    assert second.tabs.currentWidget() is second.keys
    restored = splitter2.sizes()  # the same split, scaled to the laid-out height
    assert restored[0] / sum(restored) == pytest.approx(kept[0] / sum(kept), abs=0.05)
    assert restored[0] < restored[1]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\xff garbage",
        b"[window]\ngeometry=@ByteArray(nonsense)\ntab=99\n",
        b"[window]\ntab=-1",
    ],
    ids=["empty", "binary", "bad-values", "negative-tab"],
)
def test_a_damaged_layout_file_means_the_default_layout(
    qtbot: QtBot, start_engine: EngineFactory, tmp_path: Path, content: bytes
) -> None:
    (tmp_path / FILE_NAME).write_bytes(content)
    window = MainWindow(start_engine().bridge)
    qtbot.addWidget(window)
    WindowState(tmp_path).restore(window, window.tabs, {})
    window.show()
    assert window.tabs.currentIndex() == 0
    assert window.width() > 300


# --- closing --------------------------------------------------------------------------------


def test_with_a_tray_closing_hides_and_does_not_quit(qtbot: QtBot, window: MainWindow) -> None:
    window.hide_on_close = True
    quits: list[bool] = []
    window.quit_requested.connect(lambda: quits.append(True))
    with qtbot.waitSignal(window.hidden_to_tray, timeout=2000):
        window.close()
    assert not window.isVisible()
    assert quits == []
    window.bring_to_front()
    assert window.isVisible()


@pytest.mark.parametrize(
    ("answer", "quits"),
    [(QMessageBox.StandardButton.Cancel, False), (QMessageBox.StandardButton.Yes, True)],
)
def test_without_a_tray_closing_asks_before_quitting(
    qtbot: QtBot,
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
    answer: QMessageBox.StandardButton,
    quits: bool,
) -> None:
    window.confirm_quit = True
    asked: list[str] = []

    def question(
        _parent: object, title: str, text: str, *_args: object
    ) -> QMessageBox.StandardButton:
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    quit_seen: list[bool] = []
    window.quit_requested.connect(lambda: quit_seen.append(True))
    window.close()
    assert "no system tray" in asked[0]
    assert window.isVisible() is not quits
    assert bool(quit_seen) is quits


def test_ctrl_q_quits(qtbot: QtBot, window: MainWindow) -> None:
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"
    with qtbot.waitSignal(window.quit_requested, timeout=2000):
        window.quit_action.trigger()


def test_escape_clears_the_search_only_from_the_search_tab(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.activateWindow()
    window.search.search_box.setText("dune")
    window.tabs.setCurrentWidget(window.keys)
    window.keys.setFocus()
    qtbot.keyClick(window.keys, Qt.Key.Key_Escape)  # Esc in another tab: nothing to clear
    assert window.search.search_box.text() == "dune"

    window.tabs.setCurrentWidget(window.search)
    window.search.results.setFocus()
    qtbot.keyClick(window.search.results, Qt.Key.Key_Escape)  # from the results table too
    assert window.search.search_box.text() == ""


def test_garbage_is_collected_on_the_gui_thread_only(qapp: QApplication) -> None:
    import gc

    from app.desktop.gc_guard import GuiThreadCollector

    collector = GuiThreadCollector()  # the fixture's is running too: nesting is harmless
    assert not gc.isenabled()  # no thread collects on its own: Qt objects die here
    young = [[] for _ in range(gc.get_threshold()[0] + 10)]  # the young generation is due
    assert gc.get_count()[0] > gc.get_threshold()[0]
    collector.collect_due()
    assert gc.get_count()[0] < gc.get_threshold()[0]
    collector.stop()
    assert not gc.isenabled()  # the fixture's collector still holds it off
    assert len(young) > 0
