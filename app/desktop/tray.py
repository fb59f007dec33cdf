"""The system tray icon: what Minato is doing, pause/resume indexing, open the window, quit.

Closing the window hides it here while indexing and the Torznab server go on (the
launcher decides that; see `available`: some desktops have no tray, and then the
launcher makes quitting explicit). The menu's first entry says what Minato is doing,
refreshed every few seconds through the bridge. Notifications are kept for what a
person must act on or would want to know: a source that became blocked by a
challenge page (once, when it happens), the search index rebuilt, and the first time
the window hides here. Every notification is also emitted as `notified`, so the
window can show it where the desktop cannot.

Pausing holds every background crawl for this run of Minato only (not saved): the
next start crawls as each source's own start/stop choice says.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from app.desktop.bridge import CoreBridge, Ticket
from app.desktop.timers import every
from engine.errors import MinatoError
from engine.models import EngineHealth
from engine.services import Services
from engine.services.crawlers import CrawlerState, CrawlerStatus

log = logging.getLogger(__name__)

REFRESH_MS: Final = 10_000
"""The figures count rows (cheap, not free at millions): often enough for a tooltip; the
menu asks again as it opens."""
MESSAGE_MS: Final = 10_000
"""How long a notification stays up (desktops may cap or ignore it)."""
ICON_SIZES: Final = (16, 22, 24, 32, 48, 64)
_MARK: Final = QColor("#1f6f8b")
_MARK_PAUSED: Final = QColor("#7a7f85")


@dataclass(frozen=True, slots=True)
class TrayState:
    """What the tray shows: whether indexing is paused, every crawler, the engine's figures."""

    paused: bool
    crawlers: tuple[CrawlerStatus, ...]
    health: EngineHealth


async def _state(services: Services) -> TrayState:
    health = await services.status.health()
    crawlers = services.crawlers
    return TrayState(crawlers.paused, tuple(crawlers.statuses()), health)


def status_text(state: TrayState) -> str:
    """One line for the menu and the tooltip: paused or indexing, sources on, torrents."""
    torrents = f"{state.health.torrents:,} torrent{'s' if state.health.torrents != 1 else ''}"
    if state.paused:
        return f"Indexing paused: {torrents}"
    on = [s for s in state.crawlers if s.enabled]
    if not on:
        return f"Not indexing (no source is on): {torrents}"
    blocked = sum(1 for s in on if s.state is CrawlerState.BLOCKED)
    sources = f"{len(on)} source{'s' if len(on) != 1 else ''}"
    if blocked:
        sources += f" ({blocked} blocked)"
    return f"Indexing: {sources}, {torrents}"


def mark_icon(*, paused: bool = False) -> QIcon:
    """Minato's mark drawn in code: a white "M" on a rounded square; grey with bars if paused."""
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addPixmap(_mark_pixmap(size, paused))
    return icon


def _mark_pixmap(size: int, paused: bool) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(_MARK_PAUSED if paused else _MARK))
        painter.drawRoundedRect(0, 0, size, size, size * 0.22, size * 0.22)
        pen = QPen(QColor("white"), max(1.5, size * 0.12))
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        pen.setCapStyle(Qt.PenCapStyle.SquareCap)
        painter.setPen(pen)
        points = [(0.24, 0.76), (0.24, 0.26), (0.5, 0.56), (0.76, 0.26), (0.76, 0.76)]
        painter.drawPolyline([QPointF(x * size, y * size) for x, y in points])
        if paused:  # a pause badge in the corner, readable at 16 px
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(QColor("#f0b429")))
            painter.drawEllipse(QPointF(size * 0.76, size * 0.76), size * 0.24, size * 0.24)
            painter.setBrush(QBrush(QColor("black")))
            bar_w, bar_h = size * 0.07, size * 0.22
            for left in (0.68, 0.78):
                painter.drawRect(int(size * left), int(size * 0.65), int(bar_w) or 1, int(bar_h))
    finally:
        painter.end()
    return pixmap


class TrayIcon(QObject):
    """The icon, its menu and its notifications, over one bridge and one window."""

    quit_requested = Signal()
    """"Quit Minato" was chosen: the launcher stops the engine and the server."""
    notified = Signal(str, str)
    """(title, text) of every notification, shown by the tray or not."""
    refreshed = Signal(str)
    """The status line, after every refresh (or the reason the engine did not answer)."""

    def __init__(self, bridge: CoreBridge, window: QWidget, *, refresh_ms: int = REFRESH_MS):
        """Build the icon and its menu and start refreshing; `show` puts it in the tray."""
        super().__init__()
        self._bridge = bridge
        self._window = window
        self._state: TrayState | None = None
        self._refreshing: Ticket | None = None
        self._acting: Ticket | None = None
        self._blocked: set[str] = set()
        self._told_hidden = False
        self.status = "Minato is starting…"
        self.menu = QMenu()
        self.status_action = QAction(self.status, self.menu)
        self.status_action.setEnabled(False)
        self.open_action = QAction("Open Minato", self.menu)
        self.pause_action = QAction("Pause indexing", self.menu)
        self.pause_action.setEnabled(False)  # until the engine says whether it is paused
        self.quit_action = QAction("Quit Minato", self.menu)
        self._build_menu()
        self.tray = QSystemTrayIcon(mark_icon(), self)
        self.tray.setToolTip(f"Minato\n{self.status}")
        self.tray.setContextMenu(self.menu)
        self.tray.activated.connect(self._activated)
        self.open_action.triggered.connect(self.show_window)
        self.pause_action.triggered.connect(self.toggle_pause)
        self.quit_action.triggered.connect(self.quit_requested)
        self.menu.aboutToShow.connect(self.refresh)
        self._timer = every(self, refresh_ms, self.refresh)
        self.refresh()

    @staticmethod
    def available() -> bool:
        """Whether this desktop has a system tray to live in (False offscreen, on bare X...)."""
        return QSystemTrayIcon.isSystemTrayAvailable()

    @property
    def state(self) -> TrayState | None:
        """What the engine last said (None until its first answer)."""
        return self._state

    @property
    def paused(self) -> bool | None:
        """Whether indexing is paused, as last heard from the engine (None: not heard yet)."""
        return self._state.paused if self._state is not None else None

    def show(self) -> bool:
        """Put the icon in the tray; False (and nothing shown) when the desktop has none."""
        if not self.available():
            log.info("no system tray on this desktop: the window stays the way to Minato")
            return False
        self.tray.show()
        return True

    def hide(self) -> None:
        """Take the icon out of the tray (quitting)."""
        self.tray.hide()
        self._timer.stop()

    # --- what the menu and the icon do ----------------------------------------------------

    def refresh(self, *, force: bool = False) -> None:
        """Ask the engine what it is doing (skipped while the last answer is on its way)."""
        if self._refreshing is not None and not self._refreshing.done:
            if not force:
                return
            self._refreshing.cancel()  # an answer from before a pause/resume would mislead
        self._refreshing = self._bridge.call(_state, self.show_state, self._not_answering)

    def toggle_pause(self) -> None:
        """Pause indexing, or resume it, as the engine last said it was."""
        if self._state is None or (self._acting is not None and not self._acting.done):
            return
        resume = self._state.paused
        self.pause_action.setEnabled(False)
        self.pause_action.setText("Resuming indexing…" if resume else "Pausing indexing…")

        async def act(services: Services) -> list[CrawlerStatus]:
            crawlers = services.crawlers
            return await (crawlers.resume() if resume else crawlers.pause())

        self._acting = self._bridge.call(act, self._acted, self._act_failed)

    def show_window(self) -> None:
        """Show the window in front, restored if it was minimized, with the keyboard focus."""
        window = self._window
        if window.isMinimized():
            window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
        window.show()
        window.raise_()
        window.activateWindow()

    def toggle_window(self) -> None:
        """Hide the window when it is shown, show it otherwise (a click on the icon)."""
        if self._window.isVisible() and not self._window.isMinimized():
            self._window.hide()
        else:
            self.show_window()

    # --- notifications ------------------------------------------------------------------

    def index_rebuilt(self, count: int) -> None:
        """Tell that the search index was rebuilt from the database (the Index tab calls it)."""
        noun = "torrent is" if count == 1 else "torrents are"
        self.notify(
            "Minato: search index rebuilt", f"{count:,} {noun} searchable again.", warning=False
        )
        self.refresh()

    def window_hidden(self) -> None:
        """Tell, the first time only, that closing the window did not stop Minato."""
        if self._told_hidden:
            return
        self._told_hidden = True
        self.notify(
            "Minato is still running",
            "Indexing and the Torznab server go on. Open the window or quit from this icon.",
            warning=False,
        )

    def notify(self, title: str, text: str, *, warning: bool = True) -> None:
        """Show a notification from the icon when the tray can, and emit `notified` always."""
        log.info("notification: %s: %s", title, text)
        if self.tray.isVisible() and QSystemTrayIcon.supportsMessages():
            icons = QSystemTrayIcon.MessageIcon
            kind = icons.Warning if warning else icons.Information
            self.tray.showMessage(title, text, kind, MESSAGE_MS)
        self.notified.emit(title, text)

    # --- answers ------------------------------------------------------------------------

    def show_state(self, state: TrayState) -> None:
        """Show what the engine said, and tell of sources that just became blocked."""
        was_paused = self.paused
        self._state = state
        self.status = status_text(state)
        self.status_action.setText(self.status)
        blocked = sorted(s.source for s in state.crawlers if s.state is CrawlerState.BLOCKED)
        tooltip = f"Minato\n{self.status}"
        if blocked:
            tooltip += "\nBlocked: " + ", ".join(blocked)
        self.tray.setToolTip(tooltip)
        if was_paused != state.paused:
            self.tray.setIcon(mark_icon(paused=state.paused))
        if self._acting is None or self._acting.done:
            self.pause_action.setText("Resume indexing" if state.paused else "Pause indexing")
            self.pause_action.setEnabled(True)
        self._tell_newly_blocked(state.crawlers)
        self.refreshed.emit(self.status)

    def _tell_newly_blocked(self, crawlers: Sequence[CrawlerStatus]) -> None:
        """Notify once per source that enters "blocked"; again only after it recovered.

        A blocked source is retried (running, then blocked again): that is not news.
        It counts as recovered after a run that ended well, or when it is stopped.
        """
        known = {s.source for s in crawlers}
        self._blocked &= known  # a removed feed is forgotten
        fresh: list[str] = []
        for status in crawlers:
            if status.state is CrawlerState.BLOCKED:
                if status.source not in self._blocked:
                    self._blocked.add(status.source)
                    fresh.append(status.source)
            elif not status.enabled or status.consecutive_failures == 0:
                self._blocked.discard(status.source)
        if fresh:
            self.notify(*_blocked_message(sorted(fresh)))

    def _acted(self, statuses: list[CrawlerStatus]) -> None:
        self._acting = None
        self.refresh(force=True)

    def _act_failed(self, error: MinatoError) -> None:
        self._acting = None
        self.pause_action.setText("Resume indexing" if self.paused else "Pause indexing")
        self.pause_action.setEnabled(True)
        self.status_action.setText(f"Could not pause or resume: {error.user_message}")

    def _not_answering(self, error: MinatoError) -> None:
        self.status = f"The engine did not answer: {error.user_message}"
        self.status_action.setText(self.status)
        self.tray.setToolTip(f"Minato\n{self.status}")
        self.refreshed.emit(self.status)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason is QSystemTrayIcon.ActivationReason.Trigger:
            self.toggle_window()

    def _build_menu(self) -> None:
        self.menu.addAction(self.status_action)
        self.menu.addSeparator()
        self.menu.addAction(self.open_action)
        self.menu.addAction(self.pause_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.menu.setDefaultAction(self.open_action)


def _blocked_message(sources: Sequence[str]) -> tuple[str, str]:
    """Title and text naming the newly blocked sources and what to do about it."""
    fix = (
        "Fix: set up FlareSolverr ([crawl] flaresolverr_url) or a proxy for the site; "
        "Minato retries by itself."
    )
    if len(sources) == 1:
        [source] = sources
        return (
            f"Minato: {source} is blocked",
            f"{source} answers with a challenge page (Cloudflare or similar) instead of "
            f"its listings, so nothing new comes from it. {fix}",
        )
    names = ", ".join(sources)
    return (
        f"Minato: {len(sources)} sources are blocked",
        f"{names} answer with a challenge page (Cloudflare or similar) instead of their "
        f"listings, so nothing new comes from them. {fix}",
    )
