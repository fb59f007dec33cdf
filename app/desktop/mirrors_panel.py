"""Mirror health: each site's mirrors, whether they answer as the site, and the one in use.

The engine checks every enabled site's mirrors in the background (at start, then
on `[crawl] mirror_check_minutes`) and crawls go to the fastest usable one. This
panel shows what those checks found: up, down, challenged (an anti-bot page stands
in front) or parked (the domain no longer hosts the site), with latency, time of
the last check and the recent history as a tooltip. The checks are minutes apart,
so the panel reloads slowly, only while on screen; "Refresh now" reloads at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from app.desktop.bridge import CoreBridge, Ticket
from app.desktop.labels import age, ago
from app.desktop.live_view import LiveView
from app.desktop.table_model import RowsModel, show_rows
from app.desktop.widgets import Note
from engine.errors import MinatoError
from engine.services import Services
from engine.services.crawlers import MirrorCheck, MirrorCheckSchedule, MirrorReport, MirrorState

REFRESH_MS: Final = 30_000
HISTORY: Final = 8
"""Checks shown per mirror in its tooltip."""
COLUMNS: Final = ("Site", "Mirror", "State", "In use", "Latency", "Last check", "Failures", "Why")
_BLOCK_STATES: Final = {"challenge": "challenged", "parked": "parked"}


@dataclass(frozen=True, slots=True, kw_only=True)
class MirrorRow:
    """One mirror of one site, as a table row."""

    site: str
    site_enabled: bool
    current: bool
    """Crawls of the site go to this mirror."""
    report: MirrorReport


@dataclass(frozen=True, slots=True, kw_only=True)
class MirrorsHealth:
    """Every site's mirrors (sites by id, mirrors in config order) and the check schedule."""

    rows: tuple[MirrorRow, ...]
    schedule: MirrorCheckSchedule


async def load_health(services: Services) -> MirrorsHealth:
    """Every site that has mirrors, with each mirror's state and recent checks."""
    crawlers = services.crawlers
    sites = [site for site in await crawlers.sites() if site.mirrors]
    reports = await asyncio.gather(*(crawlers.mirrors(s.id, history=HISTORY) for s in sites))
    rows = tuple(
        MirrorRow(
            site=site.id,
            site_enabled=site.enabled,
            current=mirror.state.url == report.current,
            report=mirror,
        )
        for site, report in zip(sites, reports, strict=True)
        for mirror in report.mirrors
    )
    return MirrorsHealth(rows=rows, schedule=crawlers.mirror_checks())


def mirror_state(state: MirrorState) -> str:
    """Up, down, challenged, parked, or not checked yet."""
    if state.online is None:
        return "not checked yet"
    if state.blocked:
        return _BLOCK_STATES.get(state.blocked.partition(":")[0].strip(), "blocked")
    return "up" if state.online else "down"


class MirrorsModel(RowsModel[MirrorRow]):
    """One row a mirror; the tooltip is its recent history."""

    columns = COLUMNS
    right_aligned = frozenset({4, 6})

    def __init__(self) -> None:
        super().__init__()
        self._now = datetime.now(UTC)

    def set_mirrors(self, rows: tuple[MirrorRow, ...]) -> None:
        """Show `rows`, ages counted from now (the selection kept while they are the same)."""
        self._now = datetime.now(UTC)
        self.update_rows(rows, key=lambda row: (row.site, row.report.state.url))

    def mirror(self, row: int) -> MirrorRow:
        """The mirror shown at `row`."""
        return self.row(row)

    def cell(self, row: MirrorRow, column: int) -> str:
        """Site, URL, state, in use, latency, last check, failures in a row, why."""
        state = row.report.state
        match column:
            case 0:
                return row.site if row.site_enabled else f"{row.site} (off)"
            case 1:
                return state.url
            case 2:
                return mirror_state(state)
            case 3:
                return "in use" if row.current else ""
            case 4:
                return _ms(state.latency_ms)
            case 5:
                return ago(state.checked_at, self._now)
            case 6:
                return str(state.consecutive_failures) if state.consecutive_failures else ""
            case _:
                return state.blocked or state.last_error or ""

    def tooltip(self, row: MirrorRow, column: int) -> str | None:
        """The mirror's latest checks, newest first."""
        if not row.report.history:
            return f"{row.report.state.url}: not checked yet"
        lines = [_check_line(check) for check in row.report.history]
        return f"{row.report.state.url}, latest checks:\n" + "\n".join(lines)


class MirrorsPanel(LiveView):
    """The schedule line, the mirrors table, and the refresh button."""

    def __init__(self, bridge: CoreBridge) -> None:
        super().__init__(REFRESH_MS)
        self._bridge = bridge
        self._health: MirrorsHealth | None = None
        self.schedule = QLabel("")
        self.schedule.setWordWrap(True)
        self.show_off = QCheckBox("Show sites that are off")
        self.refresh_now = QPushButton("Refresh now")
        self.model = MirrorsModel()
        self.table = QTableView()
        self.message = Note()
        self._layout()
        self.refresh_now.clicked.connect(self.refresh)
        self.show_off.toggled.connect(lambda _on: self._show_rows())

    def load(self) -> Ticket:
        """Ask the engine for what the panel shows."""
        return self._bridge.call(load_health, self._loaded, self._failed)

    def _loaded(self, health: MirrorsHealth) -> None:
        self._health = health
        self.message.clear()
        self.schedule.setText(_schedule_text(health.schedule, datetime.now(UTC)))
        self._show_rows()

    def _show_rows(self) -> None:
        if self._health is None:
            return
        rows = self._health.rows
        if not self.show_off.isChecked():
            rows = tuple(row for row in rows if row.site_enabled)
        self.model.set_mirrors(rows)

    def _failed(self, error: MinatoError) -> None:
        self.message.setText(error.user_message)

    def _layout(self) -> None:
        show_rows(self.table, self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        top = QHBoxLayout()
        top.addWidget(self.schedule, 1)
        top.addWidget(self.show_off)
        top.addWidget(self.refresh_now)
        column = QVBoxLayout(self)
        column.addLayout(top)
        column.addWidget(self.table, 1)
        column.addWidget(self.message)


def _schedule_text(schedule: MirrorCheckSchedule, now: datetime) -> str:
    if not schedule.enabled:
        return (
            "Mirror checks are off: crawling is off ([crawl] enabled = false) "
            "or no enabled site has mirrors."
        )
    every = f"every {schedule.every_s / 60:g} min"
    if schedule.last_round_at is None:
        return f"Mirrors are checked {every}; the first check is under way."
    ago = age(schedule.last_round_at, now)
    when = f"{schedule.last_round_at:%H:%M} UTC" + (f", {ago} ago" if ago != "now" else "")
    return f"Mirrors are checked {every}; last check {when}."


def _check_line(check: MirrorCheck) -> str:
    if check.blocked:
        outcome = f"{_BLOCK_STATES.get(check.blocked.partition(':')[0], 'blocked')}: "
        outcome += check.blocked.partition(":")[2].strip()
    elif check.online:
        outcome = "up"
    else:
        outcome = f"down: {check.error}" if check.error else "down"
    latency = _ms(check.latency_ms)
    status = f"HTTP {check.status}" if check.status is not None and not check.error else ""
    details = ", ".join(part for part in (latency, status) if part)
    return f"{check.checked_at:%Y-%m-%d %H:%M:%S} UTC  {outcome}" + (
        f" ({details})" if details else ""
    )


def _ms(latency_ms: float | None) -> str:
    return f"{latency_ms:,.0f} ms" if latency_ms is not None else ""
