"""The DHT crawler: on or off, a start/stop button, and its figures, live.

The DHT crawler finds torrents no website lists by joining the BitTorrent DHT and
fetching their metadata from peers. It is off by default because it uses
bandwidth and a UDP port the internet can reach, so starting it asks first and
says so. When the settings forbid it, the engine refuses and its reason (naming
the setting to change) is shown. The figures refresh every two seconds while the
panel is on screen; when the crawler is not running they are the last ones it
saved, and the panel says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.desktop.bridge import CoreBridge, Ticket
from app.desktop.labels import crawler_state
from app.desktop.live_view import LiveView
from app.desktop.widgets import Note
from engine.errors import MinatoError
from engine.services import Services
from engine.services.dht import DhtFigures, DhtReport

REFRESH_MS: Final = 2000
START_TEXT: Final = "Start the DHT crawler…"
STOP_TEXT: Final = "Stop the DHT crawler"
BANDWIDTH_NOTE: Final = (
    "The DHT crawler finds torrents no website lists: it joins the BitTorrent DHT, learns "
    "the info hashes peers announce, and fetches each torrent's name and files from them. "
    "It is off by default: it uses bandwidth (up to the [dht] upload and download limits) "
    "and listens on a UDP port the internet can reach."
)
START_QUESTION: Final = (
    "The DHT crawler joins the public BitTorrent DHT to find torrents no website lists. "
    "It uses bandwidth (up to the [dht] upload and download limits, in the settings) and "
    "listens on a UDP port the internet can reach. It stays on, across restarts, until "
    "you stop it.\n\nStart it now?"
)


def _count(value: int) -> str:
    return f"{value:,}"


def _nodes(count: int) -> str:
    return "1 node" if count == 1 else f"{count:,} nodes"


_FIGURES: Final[tuple[tuple[str, str, Callable[[DhtFigures], str]], ...]] = (
    ("port", "Port", lambda f: str(f.listen_port) if f.listen_port is not None else "—"),
    (
        "since",
        "Running since",
        lambda f: f"{f.started_at:%Y-%m-%d %H:%M:%S} UTC" if f.started_at else "—",
    ),
    ("routing_table", "Routing table", lambda f: _nodes(f.routing_table)),
    ("nodes_known", "Nodes known for sampling", lambda f: _count(f.nodes_known)),
    (
        "samples",
        "BEP 51 samples",
        lambda f: f"{_count(f.sample_replies)} answered of {_count(f.sample_queries)} queries",
    ),
    (
        "seen",
        "Info hashes seen",
        lambda f: (
            f"{_count(f.discovered)} ({_count(f.from_samples)} from samples, "
            f"{_count(f.from_traffic)} from traffic), {f.discovered_per_min:,.1f}/min"
        ),
    ),
    (
        "fetched",
        "Metadata fetched",
        lambda f: f"{_count(f.fetched)}, {f.fetched_per_min:,.1f}/min",
    ),
    (
        "stored",
        "Torrents stored",
        lambda f: (
            f"{_count(f.stored_new)} new to the index; "
            f"{_count(f.already_indexed)} skipped (already indexed)"
        ),
    ),
    (
        "queue",
        "Fetch queue",
        lambda f: (
            f"{_count(f.queued)} queued, {_count(f.fetching)} fetching, "
            f"{_count(f.retries)} waiting to retry, {_count(f.dropped)} dropped (queue full)"
        ),
    ),
    (
        "failures",
        "Failed fetches",
        lambda f: (
            f"{_count(f.failures)}: no peers {_count(f.no_peers)}, timed out "
            f"{_count(f.timed_out)}, bad metadata {_count(f.bad_metadata)} "
            f"({f.failed_per_min:,.1f}/min)"
        ),
    ),
    ("last_error", "Last error", lambda f: f.last_error or "none"),
)


async def _report(services: Services) -> DhtReport:
    return await services.dht.report()


def state_text(report: DhtReport) -> str:
    """On and what the crawler is doing, or off and why: "DHT crawler: off until started"."""
    status = report.status
    if status.enabled:
        return f"DHT crawler: on, {crawler_state(status)}"
    why = status.message or status.last_error
    if why is None:
        return "DHT crawler: off"
    return f"DHT crawler: {why}" if why.startswith("off") else f"DHT crawler: off ({why})"


def source_text(report: DhtReport) -> str:
    """Whether the figures are live or the last ones saved."""
    if report.live:
        return "Figures: live."
    if report.figures.started_at is None:
        return "Figures: none yet (the crawler has not run)."
    return "Figures: the last ones saved (the crawler is not running now)."


class DhtPanel(LiveView):
    """The state line, the start/stop button, the bandwidth note, and the figures."""

    def __init__(self, bridge: CoreBridge) -> None:
        super().__init__(REFRESH_MS)
        self._bridge = bridge
        self._enabled = False
        self.state = QLabel("DHT crawler: …")
        bold = self.state.font()
        bold.setBold(True)
        self.state.setFont(bold)
        self.toggle = QPushButton(START_TEXT)
        self.note = QLabel(BANDWIDTH_NOTE)
        self.note.setWordWrap(True)
        self.note.setMaximumWidth(900)  # a paragraph, not one line across a wide window
        self.source = QLabel("")
        self.message = Note()
        self.figures = {key: QLabel("") for key, _title, _show in _FIGURES}
        self.figures_box = QWidget()  # hidden until the crawler has run: no rows of zeros
        self._layout()
        self.toggle.clicked.connect(self._toggle)

    def load(self) -> Ticket:
        """Ask the engine for what the panel shows."""
        return self._bridge.call(_report, self._show, self._failed)

    def _toggle(self) -> None:
        if self._enabled:
            self.message.setText("Stopping the DHT crawler (its node leaves the DHT)…")
            self._act("stop")
            return
        answer = QMessageBox.question(self, "Start the DHT crawler", START_QUESTION)
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.message.setText("Starting the DHT crawler…")
        self._act("start")

    def _act(self, action: str) -> None:
        self.toggle.setEnabled(False)

        async def act(services: Services) -> DhtReport:
            dht = services.dht
            return await (dht.start() if action == "start" else dht.stop())

        self._bridge.call(act, lambda report: self._acted(action, report), self._refused)

    def _acted(self, action: str, report: DhtReport) -> None:
        self.toggle.setEnabled(True)
        self.message.setText(
            "Started: the node is joining the DHT." if action == "start" else "Stopped."
        )
        self._show(report)

    def _refused(self, error: MinatoError) -> None:
        self.toggle.setEnabled(True)
        self.message.setText(error.user_message)

    def _show(self, report: DhtReport) -> None:
        self._enabled = report.status.enabled
        self.state.setText(state_text(report))
        self.toggle.setText(STOP_TEXT if self._enabled else START_TEXT)
        self.source.setText(source_text(report))
        for key, _title, show in _FIGURES:
            self.figures[key].setText(show(report.figures))
        self.figures_box.setVisible(report.live or report.figures.started_at is not None)

    def _failed(self, error: MinatoError) -> None:
        self.message.setText(error.user_message)

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.state, 1)
        top.addWidget(self.toggle)
        form = QFormLayout(self.figures_box)
        form.setContentsMargins(0, 0, 0, 0)
        for key, title, _show in _FIGURES:
            form.addRow(f"{title}:", self.figures[key])
        self.figures_box.setVisible(False)
        column = QVBoxLayout(self)
        column.addLayout(top)
        column.addWidget(self.note)
        column.addWidget(self.message)
        column.addWidget(self.source)
        column.addWidget(self.figures_box)
        column.addStretch(1)
