"""The window's size, place, splitters and open tab, as the person left them.

Kept in `window.ini` in the data dir (Qt's INI format), not in the TOML settings:
it is the window's memory, rewritten at every close, not something to edit. A missing,
corrupt or foreign file just means the default layout; a geometry from a screen that
is gone is dropped by Qt, which keeps the window on a visible screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter, QTabWidget

FILE_NAME: Final = "window.ini"
_MAX_BLOB: Final = 64 * 1024  # Qt's geometry/state blobs are a few hundred bytes


class WindowState:
    """Reads and writes one window's layout in `data_dir/window.ini`."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        self._settings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def restore(
        self, window: QMainWindow, tabs: QTabWidget, splitters: dict[str, QSplitter]
    ) -> None:
        """Put back what `save` kept; anything missing or unreadable keeps its default."""
        geometry = self._blob("window/geometry")
        if geometry is not None:
            window.restoreGeometry(geometry)
        state = self._blob("window/state")
        if state is not None:
            window.restoreState(state)
        for name, splitter in splitters.items():
            sizes = self._blob(f"splitters/{name}")
            if sizes is not None:
                splitter.restoreState(sizes)
        tab = self._settings.value("window/tab")
        if isinstance(tab, str) and tab.isdigit() and int(tab) < tabs.count():
            tabs.setCurrentIndex(int(tab))

    def save(self, window: QMainWindow, tabs: QTabWidget, splitters: dict[str, QSplitter]) -> None:
        """Keep the layout for the next start (at close; errors only cost the layout)."""
        self._settings.setValue("window/geometry", window.saveGeometry())
        self._settings.setValue("window/state", window.saveState())
        for name, splitter in splitters.items():
            self._settings.setValue(f"splitters/{name}", splitter.saveState())
        self._settings.setValue("window/tab", str(tabs.currentIndex()))
        self._settings.sync()

    def _blob(self, key: str) -> QByteArray | None:
        value = self._settings.value(key)
        if isinstance(value, QByteArray) and 0 < value.size() <= _MAX_BLOB:
            return value
        return None
