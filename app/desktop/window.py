"""The main window: the views as tabs, the menus, the keyboard shortcuts, and closing.

Ctrl+F and Ctrl+L put the cursor in the search bar from anywhere; Ctrl+Q quits. What
closing the window does is the launcher's choice (`hide_on_close`: with a tray, the
window hides and indexing goes on; `confirm_quit`: without one, closing asks first,
since it stops indexing and the Torznab server). `quit_requested` is the one way out.
"""

from __future__ import annotations

import concurrent.futures

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QMessageBox, QTabWidget, QVBoxLayout, QWidget

from app.desktop.bridge import CoreBridge
from app.desktop.crawlers_view import CrawlersView
from app.desktop.index_view import IndexView
from app.desktop.keys_view import KeysView
from app.desktop.monitor_view import MonitorView
from app.desktop.search_view import SearchView
from app.desktop.settings_dialog import SettingsDialog
from app.desktop.theme import Theme
from app.desktop.welcome import Startup, WelcomePanel
from engine.errors import MinatoError

WINDOW_TITLE = "Minato"


class MainWindow(QMainWindow):
    """Minato's window over one engine bridge."""

    _server_state = Signal(str)  # from the engine's thread, once the server listens or cannot
    quit_requested = Signal()
    """Quit Minato (menu, Ctrl+Q, or closing the window without a tray)."""
    hidden_to_tray = Signal()
    """The window was closed and hid itself: the tray says so the first time."""

    def __init__(self, bridge: CoreBridge, startup: Startup | None = None) -> None:
        """Build the tabs; `startup` tells what the engine's start learns (URL, first key)."""
        super().__init__()
        self.setWindowTitle(WINDOW_TITLE)
        self._bridge = bridge
        self.resize(1100, 700)
        self.search = SearchView(bridge)
        self.crawlers = CrawlersView(bridge)
        self.monitor = MonitorView(bridge)
        self.index = IndexView(bridge)
        self.keys = KeysView(bridge, startup.server_url if startup else None)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.search, "Search")
        self.tabs.addTab(self.crawlers, "Crawlers")
        self.tabs.addTab(self.monitor, "Monitor")
        self.tabs.addTab(self.index, "Index")
        self.tabs.addTab(self.keys, "API keys")
        self.welcome = WelcomePanel(bridge, startup) if startup is not None else None
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        if self.welcome is not None:
            column.addWidget(self.welcome)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        for keys in ("Ctrl+F", "Ctrl+L"):
            QShortcut(QKeySequence(keys), self, self.focus_search)
        self.theme: Theme | None = None  # the launcher's; the settings switch it live
        self.hide_on_close = False
        self.confirm_quit = False
        self.quit_action = QAction("&Quit Minato", self, shortcut=QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self.quit_requested.emit)
        self.settings_action = QAction(
            "&Settings…", self, shortcut=QKeySequence("Ctrl+,")
        )  # the Preferences standard key has no binding on X11: the common one, spelled out
        self.settings_action.triggered.connect(self.open_settings)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self._server_state.connect(self.statusBar().showMessage)
        if startup is not None:
            startup.server_url.add_done_callback(self._server_started)

    def _server_started(self, started: concurrent.futures.Future[str]) -> None:
        """Say where the API listens, or why it could not (a taken port...)."""
        if started.cancelled():
            return
        error = started.exception()
        if error is None:
            self._server_state.emit(f"API and Torznab on {started.result()}")
        else:
            reason = error.user_message if isinstance(error, MinatoError) else str(error)
            self._server_state.emit(
                f"The API server could not start: {reason or type(error).__name__}. "
                "Searching and crawling work; Sonarr and Radarr cannot connect "
                "(fix: change [server] port, or stop what uses it)."
            )

    def bring_to_front(self) -> None:
        """Show the window from the tray or behind others (a second `minato` asks this)."""
        if self.isMinimized():
            self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.show()
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Hide to the tray, or ask before quitting, as the launcher set it up."""
        if self.hide_on_close:
            event.ignore()
            self.hide()
            self.hidden_to_tray.emit()
            return
        if self.confirm_quit and not self._quit_confirmed():
            event.ignore()
            return
        event.accept()
        self.quit_requested.emit()

    def _quit_confirmed(self) -> bool:
        answer = QMessageBox.question(
            self,
            "Quit Minato?",
            "This desktop has no system tray for Minato to keep running in, so closing the "
            "window quits: indexing stops, and Sonarr and Radarr cannot search Minato until "
            "it is started again.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def open_settings(self) -> SettingsDialog:
        """The settings dialog, window-modal (the engine and the server keep running)."""
        dialog = SettingsDialog(self._bridge, self, theme=self.theme)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def focus_search(self) -> None:
        """Show the search tab with its words selected, ready to be typed over."""
        self.tabs.setCurrentWidget(self.search)
        self.search.search_box.setFocus()
        self.search.search_box.selectAll()
