"""The monitor tab: torrents indexed per minute (last hour or last day), totals, backlog.

The figures come from the database's per-minute counts, so they include what other
processes wrote (the CLI, remote workers) and survive restarts. Refreshed every 15 s.
The chart takes the window's colours (QtCharts draws its own white card otherwise,
glaring in the dark theme), again whenever the palette changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import QDateTime, QEvent, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout

from app.desktop.bridge import CoreBridge, Ticket
from app.desktop.labels import kind_label
from app.desktop.live_view import LiveView
from engine.errors import MinatoError
from engine.models import IndexActivity

REFRESH_MS: Final = 15_000
_SPANS: Final = (("Last hour", 1.0), ("Last day", 24.0))
_TOP: Final = 6
"""Kinds and sources named in the totals line; the rest are summed."""


class MonitorView(LiveView):
    """The per-minute chart, the span chooser, and the totals below it."""

    def __init__(self, bridge: CoreBridge) -> None:
        super().__init__(REFRESH_MS)
        self._bridge = bridge
        self.span = QComboBox()
        for label, hours in _SPANS:
            self.span.addItem(label, hours)
        self.series = QLineSeries()
        self.series.setName("torrents indexed per minute")
        self.chart = QChart()
        self.chart.addSeries(self.series)
        self.chart.legend().setVisible(False)
        self.chart.setTitle("Torrents indexed per minute")
        self.time_axis = QDateTimeAxis()
        self.count_axis = QValueAxis()
        self.count_axis.setLabelFormat("%d")
        self.chart.addAxis(self.time_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(self.count_axis, Qt.AlignmentFlag.AlignLeft)
        self.series.attachAxis(self.time_axis)
        self.series.attachAxis(self.count_axis)
        view = QChartView(self.chart)
        view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view = view
        self._colour()
        self.totals = QLabel("")
        self.totals.setWordWrap(True)
        self._layout(view)
        # A new span: its answer, not one for the span before that may still be coming.
        self.span.currentIndexChanged.connect(lambda _index: self.refresh(force=True))

    def load(self) -> Ticket:
        """Ask for the figures of the chosen span."""
        hours = float(self.span.currentData())
        return self._bridge.call(
            lambda services: services.status.activity(hours),
            lambda activity: self._show(activity, hours),
            self._failed,
        )

    def _show(self, activity: IndexActivity, hours: float) -> None:
        now = datetime.now(UTC)
        start = now - timedelta(hours=hours)
        by_minute = dict(activity.per_minute)
        points = []
        minute = start.replace(second=0, microsecond=0)
        while minute <= now:  # quiet minutes are zeros, not gaps
            points.append((minute, by_minute.get(minute, 0)))
            minute += timedelta(minutes=1)
        self.series.clear()
        for when, count in points:
            self.series.append(QDateTime(when).toMSecsSinceEpoch(), count)
        self.time_axis.setRange(QDateTime(start), QDateTime(now))
        self.time_axis.setFormat("HH:mm" if hours <= 1 else "dd HH:mm")
        self.count_axis.setRange(0, max(4, max((c for _w, c in points), default=0)))
        self.count_axis.applyNiceNumbers()  # ticks at round counts: 0, 5, 10... not 0, 6, 12, 18
        self.totals.setText(_totals(activity, sum(c for _w, c in points)))

    def _failed(self, error: MinatoError) -> None:
        self.totals.setText(error.user_message)

    def changeEvent(self, event: QEvent) -> None:
        """The palette changed (light or dark): the chart follows it."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._colour()

    def _colour(self) -> None:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        window = palette.color(QPalette.ColorRole.Window)
        grid = QColor(  # a fifth of the way from the window's colour to the text's
            round(window.red() + (text.red() - window.red()) * 0.2),
            round(window.green() + (text.green() - window.green()) * 0.2),
            round(window.blue() + (text.blue() - window.blue()) * 0.2),
        )
        self.chart_view.setBackgroundBrush(palette.brush(QPalette.ColorRole.Window))
        self.chart.setBackgroundBrush(palette.brush(QPalette.ColorRole.Base))
        self.chart.setBackgroundPen(QPen(grid))
        self.chart.setTitleBrush(QBrush(text))
        for axis in (self.time_axis, self.count_axis):
            axis.setLabelsBrush(QBrush(text))
            axis.setLinePenColor(grid)
            axis.setGridLineColor(grid)
        pen = QPen(palette.color(QPalette.ColorRole.Highlight))
        pen.setWidthF(2.0)
        self.series.setPen(pen)

    def _layout(self, chart: QChartView) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.span)
        top.addStretch(1)
        column = QVBoxLayout(self)
        column.addLayout(top)
        column.addWidget(chart, 1)
        column.addWidget(self.totals)


def _totals(activity: IndexActivity, in_span: int) -> str:
    return (
        f"{in_span:,} new in this span · {activity.torrents:,} torrents in all · "
        f"{activity.index_backlog:,} waiting to be indexed\n"
        f"By kind: {_named(tuple((kind_label(k), n) for k, n in activity.by_kind))}\n"
        f"By source: {_named(activity.by_source)}"
    )


def _named(counts: tuple[tuple[str, int], ...]) -> str:
    shown = ", ".join(f"{name} {count:,}" for name, count in counts[:_TOP])
    rest = sum(count for _name, count in counts[_TOP:])
    return f"{shown}, others {rest:,}" if rest else (shown or "none yet")
