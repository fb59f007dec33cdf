"""Python's garbage collector, run on the GUI thread only.

The collector runs in whichever thread happens to allocate when a threshold is
crossed: the engine's, or a worker's. A Qt object it frees there (a closed dialog or
a menu caught in a reference cycle, with its timers) is destroyed off the GUI thread,
which Qt does not allow: at best a warning, often a crash. So while the window is
open automatic collection is off and a timer on the GUI thread does the same work,
generation by generation, as the thresholds say.
"""

from __future__ import annotations

import gc
from typing import Final

from PySide6.QtCore import QObject, QTimer

CHECK_MS: Final = 500
"""How often the thresholds are looked at (a young-generation pass takes microseconds)."""


class GuiThreadCollector(QObject):
    """Turns automatic collection off; collects on the GUI thread instead until `stop`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start()

    def collect_due(self) -> int:
        """Collect the oldest generation whose count passed its threshold; objects freed."""
        counts, limits = gc.get_count(), gc.get_threshold()
        due = [generation for generation in range(3) if counts[generation] > limits[generation]]
        return gc.collect(max(due)) if due else 0

    def stop(self) -> None:
        """Collect everything now, here, and give collection back to Python."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
