"""Qt timers the views share: a debounce that fires once, and a refresh that repeats."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


def single_shot(parent: QObject, msec: int, slot: Callable[[], None]) -> QTimer:
    """A stopped timer firing `slot` once, `msec` after each `start()` (a debounce)."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(msec)
    timer.timeout.connect(slot)
    return timer


def every(parent: QObject, msec: int, slot: Callable[[], None]) -> QTimer:
    """A running timer firing `slot` every `msec` (a live view's refresh)."""
    timer = QTimer(parent)
    timer.setInterval(msec)
    timer.timeout.connect(slot)
    timer.start()
    return timer
