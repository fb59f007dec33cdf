"""API keys: generate one (its secret shown once, ready to copy), list them, revoke them.

With the Torznab URL Sonarr and Radarr need, ready to copy. Secrets are never stored
in clear: after the panel showing a new key is closed, only its prefix remains.
"""

from __future__ import annotations

import concurrent.futures
from datetime import datetime
from typing import Final

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import CoreBridge
from app.desktop.table_model import RowsModel, show_rows
from app.desktop.widgets import Note
from engine.errors import MinatoError
from engine.models import ApiKeyInfo, NewApiKey

COLUMNS: Final = ("Name", "Prefix", "Created", "Last used", "State")


class KeysModel(RowsModel[ApiKeyInfo]):
    """Every key, oldest first: name, prefix, created, last used, active or revoked."""

    columns = COLUMNS

    def key(self, row: int) -> ApiKeyInfo:
        """The key shown at `row`."""
        return self.row(row)

    def cell(self, row: ApiKeyInfo, column: int) -> str:
        """A key's cell; the secret is never among them, only its first 8 characters."""
        return (
            row.name,
            f"{row.prefix}…",
            _when(row.created_at),
            _when(row.last_used_at) or "never",
            "revoked" if row.revoked_at is not None else "active",
        )[column]


class KeysView(QWidget):
    """The keys tab."""

    _url_known = Signal(str)

    def __init__(
        self, bridge: CoreBridge, server_url: concurrent.futures.Future[str] | None = None
    ) -> None:
        super().__init__()
        self._bridge = bridge
        self.torznab_url = QLineEdit(readOnly=True, placeholderText="the server is starting…")
        self.copy_url = QPushButton("Copy")
        self.name = QLineEdit(placeholderText="what the key is for, e.g. sonarr")
        self.generate = QPushButton("Generate key")
        self.new_secret = QLineEdit(readOnly=True)
        self.copy_secret = QPushButton("Copy key")
        self.new_note = QLabel("")
        font = self.new_note.font()
        font.setBold(True)  # the one moment the secret can be copied
        self.new_note.setFont(font)
        self.model = KeysModel()
        self.table = QTableView()
        self.revoke = QPushButton("Revoke selected key…")
        self.message = Note()
        self._layout()
        self._show_new(None)
        self.copy_url.clicked.connect(lambda: _copy(self.torznab_url.text()))
        self.copy_secret.clicked.connect(lambda: _copy(self.new_secret.text()))
        self.generate.clicked.connect(self._generate)
        self.name.returnPressed.connect(self._generate)
        self.revoke.clicked.connect(self._revoke)
        self._url_known.connect(lambda url: self.torznab_url.setText(f"{url}/torznab/all"))
        if server_url is not None:
            server_url.add_done_callback(self._server_started)
        self.refresh()

    def refresh(self) -> None:
        """Load the list of keys."""
        self._bridge.call(lambda services: services.keys.list_all(), self._listed, self._failed)

    # --- actions ------------------------------------------------------------------------

    def _generate(self) -> None:
        name = self.name.text().strip()
        if not name:
            self.message.setText("Name the key first (what will use it: sonarr, radarr…).")
            return
        self._bridge.call(lambda services: services.keys.create(name), self._created, self._failed)

    def _revoke(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.message.setText("Select the key to revoke.")
            return
        key = self.model.key(rows[0].row())
        if key.revoked_at is not None:
            self.message.setText(f"{key.name!r} is already revoked.")
            return
        answer = QMessageBox.question(
            self,
            "Revoke key",
            f"Revoke {key.name!r} ({key.prefix}…)? Whatever uses it stops working at once.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        ref = str(key.id)
        self._bridge.call(
            lambda services: services.keys.revoke(ref),
            lambda _keys: self._revoked(key),
            self._failed,
        )

    # --- answers ------------------------------------------------------------------------

    def _listed(self, keys: list[ApiKeyInfo]) -> None:
        self.model.set_rows(keys)

    def _created(self, new: NewApiKey) -> None:
        self.name.clear()
        self._show_new(new)
        self.message.setText("")
        self.refresh()

    def _revoked(self, key: ApiKeyInfo) -> None:
        self.message.setText(f"Revoked {key.name!r}.")
        self.refresh()

    def _failed(self, error: MinatoError) -> None:
        self.message.setText(error.user_message)

    def _server_started(self, future: concurrent.futures.Future[str]) -> None:
        if not future.cancelled() and future.exception() is None:
            self._url_known.emit(future.result())  # from the engine thread: queued to the GUI

    def _show_new(self, new: NewApiKey | None) -> None:
        shown = new is not None
        self.new_secret.setText(new.secret if new is not None else "")
        self.new_note.setText(
            f"New key {new.info.name!r}: copy it now, it is not shown again." if new else ""
        )
        for widget in (self.new_secret, self.copy_secret, self.new_note):
            widget.setVisible(shown)

    def _layout(self) -> None:
        show_rows(self.table, self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        form = QGridLayout()  # the labels in one column, the fields lined up beside them
        form.addWidget(QLabel("Torznab URL for Sonarr, Radarr, Prowlarr:"), 0, 0)
        form.addWidget(self.torznab_url, 0, 1)
        form.addWidget(self.copy_url, 0, 2)
        form.addWidget(QLabel("New key for:"), 1, 0)
        form.addWidget(self.name, 1, 1)
        form.addWidget(self.generate, 1, 2)
        form.addWidget(self.new_note, 2, 1, 1, 2)
        form.addWidget(self.new_secret, 3, 1)
        form.addWidget(self.copy_secret, 3, 2)
        bottom = QHBoxLayout()
        bottom.addWidget(self.revoke)
        bottom.addWidget(self.message, 1)
        bottom.addStretch(0)  # the button keeps its size while there is no message
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.table, 1)
        column.addLayout(bottom)


def _copy(text: str) -> None:
    if text:
        QGuiApplication.clipboard().setText(text)


def _when(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"
