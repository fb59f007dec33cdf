"""The index tab: what the search index holds, and a manual re-index with progress and cancel.

A re-index clears the search index and refills it from the database (the truth). It
runs on a worker thread of the engine, so the window, the server and the crawlers go
on meanwhile; searches answer from what is refilled so far. Cancelled, the index keeps
what was done and is completed at the next start (or the next re-index).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import CoreBridge
from app.desktop.widgets import Note
from engine.errors import MinatoError
from engine.models import EngineHealth
from engine.services import Services

FACTS: Final = (
    ("torrents", "Torrents in the database"),
    ("backend", "Search index"),
    ("backlog", "Changes waiting to be indexed"),
    ("database", "Database"),
)
BACKENDS: Final = {"tantivy": "embedded (Tantivy)", "meilisearch": "Meilisearch"}
HELP: Final = (
    "Searches read the search index; the database holds every torrent and is the truth. "
    "Re-indexing empties the search index and fills it again from the database: use it "
    "after switching the search backend, or when searches miss torrents the database "
    "holds. Searching, the server and the crawlers go on meanwhile, answering from what "
    "is refilled so far. Cancelled, the index keeps what was done and is completed at "
    "the next start."
)


class IndexView(QWidget):
    """Index figures, the re-index button, its progress bar and its cancel button."""

    _progressed = Signal(int, int)  # (done, total), emitted from the engine's worker thread
    rebuilt = Signal(int)
    """A re-index ran to its end: how many torrents the index now holds (the tray tells)."""

    def __init__(self, bridge: CoreBridge) -> None:
        super().__init__()
        self._bridge = bridge
        self._cancel: threading.Event | None = None
        self.facts = {key: QLabel("") for key, _title in FACTS}
        for fact in self.facts.values():
            fact.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reindex = QPushButton("Re-index")
        self.cancel = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.message = Note()
        self._layout()
        self._running(False)
        self._progressed.connect(self._show_progress)
        self.reindex.clicked.connect(self.start_reindex)
        self.cancel.clicked.connect(self.cancel_reindex)
        self.refresh()

    def refresh(self) -> None:
        """Load the index's figures (torrents, indexed documents, backlog)."""
        self._bridge.call(lambda services: services.status.health(), self._show, self._failed)

    def start_reindex(self) -> None:
        """Clear the index and refill it from the database, showing progress."""
        cancel = self._cancel = threading.Event()

        def progress(done: int, total: int) -> None:
            self._progressed.emit(done, total)  # from a worker thread: queued to the GUI

        async def rebuild(services: Services) -> int:
            return await asyncio.to_thread(services.status.reindex, progress, cancel)

        self._running(True)
        self.message.setText("Re-indexing from the database…")
        self._bridge.call(rebuild, self._done, self._stopped)

    def cancel_reindex(self) -> None:
        """Stop the re-index after the page under way."""
        if self._cancel is not None:
            self._cancel.set()
            self.cancel.setEnabled(False)
            self.message.setText("Cancelling after the current page…")

    # --- answers ------------------------------------------------------------------------

    def _show(self, health: EngineHealth) -> None:
        self.facts["torrents"].setText(f"{health.torrents:,}")
        backend = health.search_backend
        self.facts["backend"].setText(BACKENDS.get(backend, backend))
        self.facts["backlog"].setText(f"{health.index_backlog:,}")
        self.facts["database"].setText(health.database.removeprefix("sqlite:///"))  # its file

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _done(self, count: int) -> None:
        self._running(False)
        self.message.setText(f"Re-indexed {count:,} torrents.")
        self.rebuilt.emit(count)
        self.refresh()

    def _stopped(self, error: MinatoError) -> None:
        self._running(False)
        self.message.setText(error.user_message)
        self.refresh()

    def _failed(self, error: MinatoError) -> None:
        self.message.setText(error.user_message)

    def _running(self, running: bool) -> None:
        self.reindex.setEnabled(not running)
        self.cancel.setEnabled(running)
        self.progress.setVisible(running)
        if running:
            self.progress.setRange(0, 0)  # busy until the first page reports its total

    def _layout(self) -> None:
        facts = QFormLayout()
        for key, title in FACTS:
            facts.addRow(f"{title}:", self.facts[key])
        explained = QLabel(HELP, wordWrap=True)
        explained.setMaximumWidth(760)  # a paragraph, not one line across a wide window
        buttons = QHBoxLayout()
        buttons.addWidget(self.reindex)
        buttons.addWidget(self.cancel)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.addLayout(facts)
        column.addSpacing(8)
        column.addWidget(explained)
        column.addLayout(buttons)
        column.addWidget(self.progress)
        column.addWidget(self.message)
        column.addStretch(1)
