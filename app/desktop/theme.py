"""Light or dark: follow the system's colour scheme, or the one chosen in the settings.

Qt 6 reports the desktop's scheme (`QStyleHints.colorScheme`) where the platform
tells it (GNOME, KDE, Windows, macOS) and changes it live; where it does not
(`Unknown`: a bare X server, offscreen), the light palette is used. The palettes are
Fusion's, so the window looks the same on every desktop; a chosen dark or light
overrides the system's.
"""

from __future__ import annotations

from typing import Final, Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

ThemeChoice = Literal["system", "light", "dark"]

_DARK: Final = {
    QPalette.ColorRole.Window: "#2b2b2e",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1e1e21",
    QPalette.ColorRole.AlternateBase: "#26262a",
    QPalette.ColorRole.ToolTipBase: "#3a3a3f",
    QPalette.ColorRole.ToolTipText: "#f0f0f0",
    QPalette.ColorRole.PlaceholderText: "#8c8c92",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#35353a",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Light: "#4a4a50",
    QPalette.ColorRole.Midlight: "#3c3c42",
    QPalette.ColorRole.Mid: "#303035",
    QPalette.ColorRole.Dark: "#18181b",
    QPalette.ColorRole.Shadow: "#0c0c0e",
    QPalette.ColorRole.Highlight: "#3d7bd9",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6ea8ff",
    QPalette.ColorRole.LinkVisited: "#b78cff",
}
_DISABLED_TEXT: Final = "#76767c"


def dark_palette() -> QPalette:
    """Minato's dark palette (readable contrast; disabled text visibly dimmer)."""
    palette = QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QColor(colour))
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(_DISABLED_TEXT))
    return palette


def wants_dark(choice: ThemeChoice, system: Qt.ColorScheme) -> bool:
    """Whether `choice` means dark, given the scheme the system reports."""
    if choice == "system":
        return system is Qt.ColorScheme.Dark
    return choice == "dark"


class Theme:
    """Applies the chosen scheme, and re-applies it when the system's changes."""

    def __init__(self, app: QApplication, choice: ThemeChoice = "system") -> None:
        self._app = app
        self._choice: ThemeChoice = choice
        app.setStyle("Fusion")  # its palettes are ours on every desktop
        app.styleHints().colorSchemeChanged.connect(lambda _scheme: self.apply())
        self.apply()

    @property
    def dark(self) -> bool:
        """True while the dark palette is in use."""
        return wants_dark(self._choice, QGuiApplication.styleHints().colorScheme())

    def choose(self, choice: ThemeChoice) -> None:
        """Switch to `choice` now (the settings dialog's theme)."""
        self._choice = choice
        self.apply()

    def apply(self) -> None:
        """Set the palette the choice and the system's scheme call for."""
        style = self._app.style()
        self._app.setPalette(dark_palette() if self.dark else style.standardPalette())
