"""Unexpected errors: logged with their traceback, and shown as a dialog naming the log file.

A bug in a slot would otherwise print to a terminal the person never sees. The hook
logs it (the log file keeps the traceback for a bug report), then shows one dialog
saying what happened and where the log is; errors arriving while it is open are
counted in it rather than stacking dialogs. Errors on other threads (the engine's)
are logged and reported to the window through a queued signal. The window keeps
running: the person may go on, or quit.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

log = logging.getLogger("minato.desktop")

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


class CrashReporter(QObject):
    """Installs the hooks; `dialog` is the open report, if any (tests read it)."""

    _reported = Signal(str)  # summary, from any thread; shown on the GUI thread
    quit_requested = Signal()

    def __init__(self, log_path: Path | None, parent_window: QWidget | None = None) -> None:
        super().__init__()
        self.log_path = log_path
        self._parent = parent_window
        self.dialog: QMessageBox | None = None
        self._more = 0
        self._previous: ExceptHook | None = None
        self._previous_thread: Callable[[threading.ExceptHookArgs], object] | None = None
        self._reported.connect(self._show)

    def install(self) -> None:
        """Take over `sys.excepthook` and `threading.excepthook` until `uninstall`."""
        self._previous, sys.excepthook = sys.excepthook, self._hook
        self._previous_thread, threading.excepthook = threading.excepthook, self._thread_hook

    def uninstall(self) -> None:
        """Give the hooks back (at quit)."""
        if self._previous is not None:
            sys.excepthook = self._previous
        if self._previous_thread is not None:
            threading.excepthook = self._previous_thread

    def report(self, summary: str, error: BaseException | None = None) -> None:
        """Log `summary` (with `error`'s traceback) and show it; callable from any thread."""
        log.critical("unexpected error: %s", summary, exc_info=error)
        self._reported.emit(summary)

    def _hook(
        self, kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        self.report(f"{kind.__name__}: {error}", error.with_traceback(trace))

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or isinstance(args.exc_value, SystemExit):
            return
        where = args.thread.name if args.thread is not None else "a thread"
        self.report(f"{args.exc_type.__name__} in {where}: {args.exc_value}", args.exc_value)

    def _show(self, summary: str) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            self._more += 1
            self.dialog.setInformativeText(self._details(summary))
            return
        self._more = 0
        box = QMessageBox(self._parent)
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Minato: unexpected error")
        box.setText(
            "Minato hit an error it did not expect. Indexing and the server go on; "
            "what you were doing may not have finished."
        )
        box.setInformativeText(self._details(summary))
        box.addButton("Keep running", QMessageBox.ButtonRole.AcceptRole)
        quit_button = box.addButton("Quit Minato", QMessageBox.ButtonRole.DestructiveRole)
        if self.log_path is not None:
            folder = box.addButton("Open log folder", QMessageBox.ButtonRole.HelpRole)
            folder.clicked.disconnect()  # keep the box open after opening the folder
            folder.clicked.connect(self._open_log_folder)
        quit_button.clicked.connect(self.quit_requested.emit)
        box.setModal(True)
        self.dialog = box
        box.open()  # not exec(): the engine's answers keep flowing meanwhile

    def _details(self, summary: str) -> str:
        where = (
            f"The details are in the log: {self.log_path}"
            if self.log_path is not None
            else "The details were printed to the terminal (no log file)."
        )
        more = f"\n\n({self._more} more error(s) since.)" if self._more else ""
        return f"{summary[:500]}\n\n{where}\nPlease include it when you report this.{more}"

    def _open_log_folder(self) -> None:
        if self.log_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.log_path.parent)))
