"""The main window: the views as tabs, and the keyboard shortcuts.

Views are added here as they are built (search, crawlers, index and API keys now;
monitor charts, settings and the tray next). Ctrl+F and Ctrl+L put the cursor in the search
bar from anywhere.
"""

from __future__ import annotations

import concurrent.futures

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QTabWidget

from app.desktop.bridge import CoreBridge
from app.desktop.crawlers_view import CrawlersView
from app.desktop.index_view import IndexView
from app.desktop.keys_view import KeysView
from app.desktop.search_view import SearchView

WINDOW_TITLE = "Minato"


class MainWindow(QMainWindow):
    """Minato's window over one engine bridge."""

    def __init__(
        self, bridge: CoreBridge, server_url: concurrent.futures.Future[str] | None = None
    ) -> None:
        """Build the tabs; `server_url` resolves once the HTTP server listens."""
        super().__init__()
        self.setWindowTitle(WINDOW_TITLE)
        self.resize(1100, 700)
        self.search = SearchView(bridge)
        self.crawlers = CrawlersView(bridge)
        self.index = IndexView(bridge)
        self.keys = KeysView(bridge, server_url)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.search, "Search")
        self.tabs.addTab(self.crawlers, "Crawlers")
        self.tabs.addTab(self.index, "Index")
        self.tabs.addTab(self.keys, "API keys")
        self.setCentralWidget(self.tabs)
        for keys in ("Ctrl+F", "Ctrl+L"):
            QShortcut(QKeySequence(keys), self, self.focus_search)

    def focus_search(self) -> None:
        """Show the search tab with its words selected, ready to be typed over."""
        self.tabs.setCurrentWidget(self.search)
        self.search.search_box.setFocus()
        self.search.search_box.selectAll()
