"""One torrent in full: what was parsed from it, its files, where it was seen, and what to do.

Actions: copy the magnet, open it in the system's torrent client, save the .torrent
when Minato holds it, and open the page of the source that listed it. Files are a
Qt model: a torrent of 10,000 files costs what the visible rows cost. Until a result
is chosen only a hint shows; a torrent whose file list is unknown says so where the
files would be.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Final

from PySide6.QtCore import QEvent, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import CoreBridge, Ticket
from app.desktop.labels import category_label, kind_label
from app.desktop.table_model import RowsModel, show_rows
from app.formatting import human_size
from engine.errors import MinatoError
from engine.models import FileEntry, Sighting, Torrent, TorrentSummary

_ID_FIELDS: Final = (
    ("IMDb", "imdb_id"),
    ("TMDb", "tmdb_id"),
    ("TVDB", "tvdb_id"),
    ("AniList", "anilist_id"),
    ("MAL", "mal_id"),
    ("MusicBrainz", "musicbrainz_id"),
)


HINT: Final = "Select a result to see its files, sources and details."
NO_FILES: Final = "No file list: no source that listed this torrent gave one."


class FilesModel(RowsModel[FileEntry]):
    """A torrent's files: path and size."""

    columns = ("File", "Size")
    right_aligned = frozenset({1})

    def cell(self, row: FileEntry, column: int) -> str:
        """The path, or the size for people."""
        return row.path if column == 0 else human_size(row.size)


class DetailsView(QWidget):
    """The selected torrent; `show_torrent` loads it through the bridge."""

    def __init__(self, bridge: CoreBridge) -> None:
        super().__init__()
        self._bridge = bridge
        self._ticket: Ticket | None = None
        self.torrent: Torrent | None = None
        self.title = QLabel(HINT)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts = QLabel("")
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.files = FilesModel()
        self.sightings = QLabel("")
        self.sightings.setWordWrap(True)
        self.sightings.setOpenExternalLinks(True)
        self.description = QPlainTextEdit(readOnly=True)
        self.no_files = QLabel(NO_FILES, wordWrap=True, alignment=Qt.AlignmentFlag.AlignTop)
        self.no_files.setMargin(8)
        self.copy_magnet = QPushButton("Copy magnet")
        self.open_magnet = QPushButton("Open in torrent client")
        self.save_torrent = QPushButton("Save .torrent…")
        self.open_source = QPushButton("Open source page")
        self.message = QLabel("")
        self._layout()
        self.copy_magnet.clicked.connect(self._copy_magnet)
        self.open_magnet.clicked.connect(self._open_magnet)
        self.save_torrent.clicked.connect(self._save_torrent)
        self.open_source.clicked.connect(self._open_source)
        self._enable(None)

    def show_torrent(self, hit: TorrentSummary) -> None:
        """Load and show everything about `hit` (a newer selection cancels this one)."""
        if self._ticket is not None:
            self._ticket.cancel()
        self.title.setText(hit.title)
        bold = self.title.font()
        bold.setBold(True)  # a torrent's name; the hint before any choice is plain
        self.title.setFont(bold)
        self._ticket = self._bridge.call(
            lambda services: services.search.torrent(hit.info_hash), self._show, self._failed
        )

    # --- actions ------------------------------------------------------------------------

    def _copy_magnet(self) -> None:
        if self.torrent is not None:
            QGuiApplication.clipboard().setText(self.torrent.magnet)
            self.message.setText("Magnet copied.")

    def _open_magnet(self) -> None:
        if self.torrent is not None and not QDesktopServices.openUrl(QUrl(self.torrent.magnet)):
            self.message.setText("No torrent client is set to open magnet links.")

    def _open_source(self) -> None:
        url = self._source_url()
        if url is not None:
            QDesktopServices.openUrl(QUrl(url))

    def _save_torrent(self) -> None:
        torrent = self.torrent
        if torrent is None or not torrent.has_metainfo:
            return
        suggested = f"{_file_name(torrent.summary.title)}.torrent"
        path, _filter = QFileDialog.getSaveFileName(
            self, "Save .torrent", suggested, "Torrent files (*.torrent)"
        )
        if not path:
            return
        info_hash = torrent.summary.info_hash
        self._bridge.call(
            lambda services: services.search.metainfo(info_hash),
            lambda data: self._write(Path(path), data),
            self._failed,
        )

    def _write(self, path: Path, data: bytes) -> None:
        try:
            path.write_bytes(data)
        except OSError as exc:
            self.message.setText(f"Could not save {path.name}: {exc.strerror or exc}")
            return
        self.message.setText(f"Saved {path.name}.")

    # --- showing ------------------------------------------------------------------------

    def _show(self, torrent: Torrent) -> None:
        self.torrent = torrent
        hit = torrent.summary
        self.title.setText(hit.title)
        self.facts.setText(_facts(hit, len(torrent.files)))
        self.files.set_rows(torrent.files)
        self.file_pages.setCurrentWidget(self.files_table if torrent.files else self.no_files)
        self.sightings.setText(_sightings(torrent.sightings))
        self.description.setPlainText(torrent.description or "")
        self.message.setText("")
        self._enable(torrent)
        self.body.setVisible(True)

    def changeEvent(self, event: QEvent) -> None:
        """A new palette (the theme changed): links take its colour when their text is set."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.torrent is not None:
            self.sightings.clear()  # the same text again would be ignored, links and all
            self.sightings.setText(_sightings(self.torrent.sightings))

    def _failed(self, error: MinatoError) -> None:
        self.message.setText(error.user_message)
        self.body.setVisible(True)  # the message lives there: a first failure must show too

    def _enable(self, torrent: Torrent | None) -> None:
        known = torrent is not None
        self.copy_magnet.setEnabled(known)
        self.open_magnet.setEnabled(known)
        self.save_torrent.setEnabled(known and torrent is not None and torrent.has_metainfo)
        self.open_source.setEnabled(self._source_url() is not None)

    def _source_url(self) -> str | None:
        if self.torrent is None:
            return None
        return next((s.source_url for s in self.torrent.sightings if s.source_url), None)

    def _layout(self) -> None:
        actions = QHBoxLayout()
        actions.setContentsMargins(0, 0, 0, 0)
        for button in (self.copy_magnet, self.open_magnet, self.save_torrent, self.open_source):
            actions.addWidget(button)
        actions.addWidget(self.message, 1)
        files = QTableView()
        show_rows(files, self.files)
        files.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        files.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.files_table = files
        self.file_pages = QStackedWidget()
        self.file_pages.addWidget(files)
        self.file_pages.addWidget(self.no_files)
        pages = QTabWidget()
        pages.addTab(self.file_pages, "Files")
        pages.addTab(self.description, "Description")
        self.body = QWidget()  # hidden until a torrent is shown: only the hint before
        inner = QVBoxLayout(self.body)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(self.facts)
        inner.addWidget(self.sightings)
        inner.addLayout(actions)
        inner.addWidget(pages, 1)
        self.body.setVisible(False)
        column = QVBoxLayout(self)
        column.addWidget(self.title)
        column.addWidget(self.body, 1)
        column.addStretch(0)


def _facts(hit: TorrentSummary, files: int) -> str:
    """Size, swarm, kind and what the classifier and enrichment found, on one line."""
    parts = [human_size(hit.size, "size unknown"), f"{hit.seeders or 0} seeders"]
    parts.append(f"{hit.leechers or 0} leechers")
    parts.append(f"{files:,} files" if files else "file list unknown")
    if hit.kind is not None:
        category = f" ({category_label(hit.category)})" if hit.category else ""
        parts.append(kind_label(hit.kind) + category)
    if hit.season is not None:
        episode = f"E{hit.episode:02d}" if hit.episode is not None else ""
        parts.append(f"S{hit.season:02d}{episode}")
    parsed = (hit.year, hit.resolution, hit.video_codec, hit.audio, hit.media_source)
    parts.extend(str(value) for value in parsed if value)
    if hit.release_group:
        parts.append(f"group {hit.release_group}")
    if hit.languages:
        parts.append(", ".join(hit.languages))
    ids = [f"{label} {getattr(hit, field)}" for label, field in _ID_FIELDS if getattr(hit, field)]
    return " · ".join(parts + ids)


def _sightings(sightings: tuple[Sighting, ...]) -> str:
    """Where it was seen, as links when the source gave a page."""
    if not sightings:
        return "Seen by: nobody yet"
    items = []
    for seen in sightings:
        swarm = f" ({seen.seeders or 0}/{seen.leechers or 0})" if seen.seeders is not None else ""
        name = html.escape(seen.source)
        if seen.source_url and seen.source_url.startswith(("http://", "https://")):
            name = f'<a href="{html.escape(seen.source_url)}">{name}</a>'
        items.append(f"{name}{swarm}, {seen.seen_at:%Y-%m-%d}")
    return "Seen by: " + "; ".join(items)


def _file_name(title: str) -> str:
    """A title made safe as a file name on every system."""
    safe = "".join(c if c.isalnum() or c in " ._-()[]" else "_" for c in title).strip(" .")
    return safe[:150] or "torrent"
