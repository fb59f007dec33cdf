"""The first-run welcome: what Minato does by default, where its data lives, how to connect.

Shown above the tabs on the first start only (when the engine had to make the first
API key): indexing has already begun, searches work at once through live
search-through, and the Torznab URL and key for Sonarr/Radarr are ready to copy. The
key is shown this once; the API keys tab makes more.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from typing import TypeVar

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from app.desktop.bridge import CoreBridge
from engine.errors import MinatoError
from engine.models import NewApiKey
from engine.services import Services
from engine.services.crawlers import CrawlerStatus

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Startup:
    """What the window learns as the engine starts beside it."""

    data_dir: str
    server_url: concurrent.futures.Future[str]
    """The HTTP server's base URL, once it listens."""
    first_key: concurrent.futures.Future[NewApiKey | None]
    """The key made because none existed (a first start), else None."""


@dataclass(frozen=True, slots=True)
class _Running:
    """What the welcome says about the running engine: its crawlers and its settings file."""

    crawlers: list[CrawlerStatus]
    settings_file: str


async def _running(services: Services) -> _Running:
    return _Running(services.crawlers.statuses(), str(services.settings.config_path))


class WelcomePanel(QFrame):
    """The welcome; hidden until the first start is known, and after "Got it"."""

    _first = Signal(object)  # NewApiKey | None, from the engine thread
    _url = Signal(str)

    def __init__(self, bridge: CoreBridge, startup: Startup) -> None:
        super().__init__()
        self._bridge = bridge
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)  # a notice, set apart from the tabs below it
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.headline = QLabel("<b>Welcome to Minato.</b> Indexing has started.")
        self.sources = QLabel("")
        self.sources.setWordWrap(True)
        self._data_dir = startup.data_dir
        self.where = QLabel(f"Your index and database live in {startup.data_dir}.")
        self.where.setWordWrap(True)
        self.torznab_url = QLineEdit(readOnly=True, placeholderText="the server is starting…")
        self.api_key = QLineEdit(readOnly=True)
        self.copy_url = QPushButton("Copy")
        self.copy_key = QPushButton("Copy")
        self.dismiss = QPushButton("Got it")
        self._layout()
        self.setVisible(False)
        self._first.connect(self._first_start)
        self._url.connect(lambda url: self.torznab_url.setText(f"{url}/torznab/all"))
        self.copy_url.clicked.connect(lambda: _copy(self.torznab_url.text()))
        self.copy_key.clicked.connect(lambda: _copy(self.api_key.text()))
        self.dismiss.clicked.connect(self.hide)
        startup.first_key.add_done_callback(lambda done: self._first.emit(_result_or_none(done)))
        startup.server_url.add_done_callback(
            lambda done: self._url.emit(_result_or_none(done) or "")
        )

    def _first_start(self, new: NewApiKey | None) -> None:
        if new is None:
            return  # not the first start: no welcome
        self.api_key.setText(new.secret)
        self._bridge.call(_running, self._show_sources, self._failed)
        self.setVisible(True)

    def _show_sources(self, running: _Running) -> None:
        statuses = running.crawlers
        self.where.setText(
            f"Your index and database live in {self._data_dir}; "
            f"your settings in {running.settings_file} (File > Settings…)."
        )
        crawling = sorted(s.source for s in statuses if s.enabled and s.source != "dht")
        dht = next((s for s in statuses if s.source == "dht"), None)
        dht_note = (
            "The DHT crawler is on."
            if dht is not None and dht.enabled
            else "The DHT crawler is off until you start it in the Crawlers tab "
            "(it uses bandwidth)."
        )
        listed = ", ".join(crawling) if crawling else "none (crawling is off in the settings)"
        self.sources.setText(
            f"Crawling now: {listed}. {dht_note} Searches work at once: what the index "
            "lacks is asked from the sites live, and kept."
        )

    def _failed(self, error: MinatoError) -> None:
        self.sources.setText(error.user_message)

    def _layout(self) -> None:
        grid = QGridLayout()
        grid.addWidget(QLabel("Torznab URL for Sonarr, Radarr, Prowlarr:"), 0, 0)
        grid.addWidget(self.torznab_url, 0, 1)
        grid.addWidget(self.copy_url, 0, 2)
        grid.addWidget(QLabel("API key (shown this once):"), 1, 0)
        grid.addWidget(self.api_key, 1, 1)
        grid.addWidget(self.copy_key, 1, 2)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.dismiss)
        column = QVBoxLayout(self)
        column.addWidget(self.headline)
        column.addWidget(self.sources)
        column.addWidget(self.where)
        column.addLayout(grid)
        column.addLayout(bottom)


def _copy(text: str) -> None:
    if text:
        QGuiApplication.clipboard().setText(text)


def _result_or_none(future: concurrent.futures.Future[_T]) -> _T | None:
    if future.cancelled() or future.exception() is not None:
        return None
    return future.result()
