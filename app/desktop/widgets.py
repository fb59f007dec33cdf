"""Small widgets the views share: a note line that takes no room while it has nothing to say.

Views say what happened ("Added feed…", "Select a key first.") in a line under their
controls. Empty, such a line would still take its height and leave a gap in the
layout; a `Note` hides itself instead. An error note is red, in a red readable on the
light and on the dark palette alike (one red cannot be: it is picked per palette).
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel

ERROR_ON_LIGHT: Final = "#b00020"
ERROR_ON_DARK: Final = "#ff7b72"


def error_colour(palette: QPalette) -> QColor:
    """The red for error text on `palette`'s window colour."""
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    return QColor(ERROR_ON_DARK if dark else ERROR_ON_LIGHT)


class Note(QLabel):
    """A word-wrapped line shown only while it holds text; red while `error` is set."""

    def __init__(self, text: str = "", *, error: bool = False) -> None:
        super().__init__()
        self.setWordWrap(True)
        self._error = error
        self._colour()
        self.setText(text)

    @property
    def error(self) -> bool:
        """True while the note shows an error (in red)."""
        return self._error

    def setText(self, text: str) -> None:
        """Show `text`; an empty one hides the note."""
        super().setText(text)
        self.setVisible(bool(text))

    def clear(self) -> None:
        """Empty and hide the note."""
        self.setText("")

    def set_error(self, text: str, *, error: bool = True) -> None:
        """Show `text` as an error (red), or, with `error=False`, as a plain note."""
        self._error = error
        self._colour()
        self.setText(text)

    def changeEvent(self, event: QEvent) -> None:
        """The palette changed (light or dark chosen): pick the red for it."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._colour()

    def _colour(self) -> None:
        if not self._error:
            if self.testAttribute(Qt.WidgetAttribute.WA_SetPalette):
                self.setPalette(QPalette())  # the window's colours again, whichever they are
            return
        palette = self.palette()
        wanted = error_colour(palette)
        if palette.color(QPalette.ColorRole.WindowText) != wanted:  # else no change: no loop
            palette.setColor(QPalette.ColorRole.WindowText, wanted)
            self.setPalette(palette)
