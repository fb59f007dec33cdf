"""A view whose figures load when it comes on screen, then every few seconds while it stays.

A view in a hidden tab, or in a window hidden to the tray, asks the engine nothing. A
load still on its way is not sent again, so a busy engine is never queued up. The
view says what to load in `load` (a bridge call, whose ticket it returns).
"""

from __future__ import annotations

from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QWidget

from app.desktop.bridge import Ticket
from app.desktop.timers import every


class LiveView(QWidget):
    """Base of the views that refresh themselves while shown (crawlers, feeds, monitor...)."""

    def __init__(self, refresh_ms: int) -> None:
        super().__init__()
        self._ticket: Ticket | None = None
        self._timer = every(self, refresh_ms, self.refresh)
        self._timer.stop()  # until shown

    def load(self) -> Ticket:
        """Ask the engine for the figures (through the bridge); the answer updates the view."""
        raise NotImplementedError

    def is_live(self) -> bool:
        """True while the view reloads on its timer (while it is on screen)."""
        return self._timer.isActive()

    def refresh(self, *, force: bool = False) -> None:
        """Load now, unless the previous load is still on its way (`force`: drop that one)."""
        if self._ticket is not None and not self._ticket.done:
            if not force:
                return
            self._ticket.cancel()  # it answers what was asked before: a stale answer
        self._ticket = self.load()

    def showEvent(self, event: QShowEvent) -> None:
        """On screen: load now, then on the timer."""
        super().showEvent(event)
        self.refresh()
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        """Off screen (another tab, the window in the tray): no more loads."""
        super().hideEvent(event)
        self._timer.stop()
