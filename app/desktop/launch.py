"""Opening the window: the Qt application, its qasync loop, the bridge to the running engine.

The engine (server, crawlers, index) already runs on its own thread when this is
called; the GUI thread gets a qasync loop so Qt and asyncio share it. Around the
window: the theme, the crash dialog, the listener that lets a second `minato` bring
this window forward, and the window's remembered layout. Returns when Minato quits
(menu, Ctrl+Q, closing the window without a tray, SIGINT/SIGTERM).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import qasync  # type: ignore[import-untyped]  # no type hints; QEventLoop is all we use
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QSplitter

from app.desktop.bridge import CoreBridge
from app.desktop.crash import CrashReporter
from app.desktop.engine_thread import EngineThread
from app.desktop.gc_guard import GuiThreadCollector
from app.desktop.single_instance import InstanceServer
from app.desktop.theme import Theme, ThemeChoice
from app.desktop.tray import TrayIcon
from app.desktop.welcome import Startup
from app.desktop.window import MainWindow
from app.desktop.window_state import WindowState
from engine.services import Services

log = logging.getLogger("minato.desktop")

SIGNAL_CHECK_MS = 200
_QUIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True, slots=True)
class DesktopOptions:
    """How the window starts and behaves (from the `[desktop]` settings and the data dir)."""

    data_dir: Path | None = None
    """Where the window's layout is kept (`window.ini`); None: not kept."""
    log_path: Path | None = None
    """The log file the crash dialog names."""
    instance: str | None = None
    """The single-instance socket to listen on (`single_instance.instance_name`)."""
    start_minimized: bool = False
    close_to_tray: bool = True
    theme: ThemeChoice = "system"


def hold_quit_signals() -> None:
    """Keep SIGINT/SIGTERM pending until the window can quit cleanly on them.

    Called before the engine starts: a stop that arrives while the server already
    answers but the window is not up yet would otherwise kill the process mid-start.
    Threads started afterwards (the engine's) inherit the mask, so the main thread
    receives them once `run_window` lets them through.
    """
    if hasattr(signal, "pthread_sigmask"):  # not on Windows, where Ctrl+C works differently
        signal.pthread_sigmask(signal.SIG_BLOCK, _QUIT_SIGNALS)


def _release_quit_signals() -> None:
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _QUIT_SIGNALS)


def qt_application() -> QApplication:
    """The process's QApplication (made once; a second launch needs it to ask the first)."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("Minato")
    app.setQuitOnLastWindowClosed(False)  # hiding to the tray is not quitting
    return app


def run_window(
    services: Services,
    engine: EngineThread,
    *,
    startup: Startup | None = None,
    on_shown: Callable[[MainWindow], None] | None = None,
    options: DesktopOptions | None = None,
) -> int:
    """Show the window over the running engine; block until Minato quits.

    Args:
        services: the engine's services (the bridge's only door into it).
        engine: the thread the engine runs on.
        startup: what the engine's start learns: the server's URL, the first key.
        on_shown: called with the window once shown (tests drive it from there).
        options: start-up and closing behaviour; defaults keep nothing on disk.
    """
    options = options or DesktopOptions()
    app = qt_application()
    collector = GuiThreadCollector()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    theme = Theme(app, options.theme)
    bridge = CoreBridge(services, engine)
    window = MainWindow(bridge, startup)
    window.theme = theme
    closed = asyncio.Event()
    window.quit_requested.connect(closed.set)
    tray = _tray(bridge, window, options)
    tray.quit_requested.connect(closed.set)
    crash = CrashReporter(options.log_path, window)
    crash.quit_requested.connect(closed.set)
    crash.install()
    instance = _listen(options.instance, window)
    state = WindowState(options.data_dir) if options.data_dir is not None else None
    splitters = dict(zip(("search",), window.search.findChildren(QSplitter), strict=False))
    if state is not None:
        state.restore(window, window.tabs, splitters)
    if not (options.start_minimized and window.hide_on_close):
        window.show()  # minimized to the tray only where there is one to open it from
    if on_shown is not None:
        loop.call_soon(on_shown, window)
    previous = {sig: signal.getsignal(sig) for sig in _QUIT_SIGNALS}
    for sig in _QUIT_SIGNALS:  # Ctrl+C in the terminal, or a service manager's stop
        signal.signal(sig, lambda _sig, _frame: loop.call_soon_threadsafe(closed.set))
    _release_quit_signals()  # one that came during the start is handled now
    # Python runs signal handlers only when it gets control; Qt's loop may sleep in C++.
    ticker = QTimer()
    ticker.timeout.connect(lambda: None)
    ticker.start(SIGNAL_CHECK_MS)
    try:
        with loop:
            loop.run_until_complete(closed.wait())
    finally:
        ticker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if state is not None:
            state.save(window, window.tabs, splitters)
        if instance is not None:
            instance.close()
        tray.hide()
        crash.uninstall()
        window.hide_on_close = window.confirm_quit = False
        window.close()
        asyncio.set_event_loop(None)
        # Qt objects Python owns that sit in reference cycles (qasync's timers, the tray's
        # menu) are freed by the next collection: let it be this one, on the GUI thread.
        del window, tray, crash, instance
        collector.stop()
    return 0


def _tray(bridge: CoreBridge, window: MainWindow, options: DesktopOptions) -> TrayIcon:
    """The tray icon; where there is none, closing the window asks before quitting."""
    tray = TrayIcon(bridge, window)
    if tray.show():
        window.hide_on_close = options.close_to_tray
        window.hidden_to_tray.connect(tray.window_hidden)
    else:
        window.confirm_quit = True
        note = QLabel("No system tray here: closing the window quits Minato")
        note.setToolTip(
            "Indexing and the Torznab server run while the window is open. On a desktop "
            "with a tray, closing the window hides it there instead."
        )
        window.statusBar().addPermanentWidget(note)
    # With or without a tray, what it would announce also reaches the status bar.
    tray.notified.connect(lambda title, text: window.statusBar().showMessage(f"{title}: {text}"))
    window.index.rebuilt.connect(tray.index_rebuilt)
    return tray


def _listen(name: str | None, window: MainWindow) -> InstanceServer | None:
    """Let a later `minato` bring this window forward (None: no name, or cannot listen)."""
    if name is None:
        return None
    server = InstanceServer(name, window)
    if not server.listen():
        log.warning("a second `minato` will not find this window: %s", server.error)
        return None
    server.show_requested.connect(window.bring_to_front)
    return server
