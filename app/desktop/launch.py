"""Opening the window: the Qt application, its qasync loop, the bridge to the running engine.

The engine (server, crawlers, index) already runs on its own thread when this is
called; the GUI thread gets a qasync loop so Qt and asyncio share it. Returns when the
last window closes.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable

import qasync  # type: ignore[import-untyped]  # no type hints; QEventLoop is all we use
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.desktop.bridge import CoreBridge
from app.desktop.engine_thread import EngineThread
from app.desktop.welcome import Startup
from app.desktop.window import MainWindow
from engine.services import Services

SIGNAL_CHECK_MS = 200
_QUIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_window(
    services: Services,
    engine: EngineThread,
    *,
    startup: Startup | None = None,
    on_shown: Callable[[MainWindow], None] | None = None,
) -> int:
    """Show the window over the running engine; block until it is closed.

    Args:
        services: the engine's services (the bridge's only door into it).
        engine: the thread the engine runs on.
        startup: what the engine's start learns: the server's URL, the first key.
        on_shown: called with the window once shown (tests drive it from there).
    """
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("Minato")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = MainWindow(CoreBridge(services, engine), startup)
    window.show()
    closed = asyncio.Event()
    app.lastWindowClosed.connect(closed.set)
    if on_shown is not None:
        loop.call_soon(on_shown, window)
    previous = {sig: signal.getsignal(sig) for sig in _QUIT_SIGNALS}
    for sig in _QUIT_SIGNALS:  # Ctrl+C in the terminal, or a service manager's stop
        signal.signal(sig, lambda _sig, _frame: loop.call_soon_threadsafe(closed.set))
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
        asyncio.set_event_loop(None)
    return 0
