"""The DHT panel: off by default, the engine's refusal shown, and a real start and stop.

The started crawler is a real libtorrent node on loopback joining a private DHT of
two nodes (tests/dht_swarm), as in the engine's DHT tests: nothing leaves the machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.desktop.dht_panel import START_TEXT, STOP_TEXT, DhtPanel
from engine.services import Services
from engine.services.dht import DhtReport
from tests.app.desktop.conftest import Engine, EngineFactory
from tests.crawl_support import only_sites
from tests.dht_swarm import Swarm


def answering(monkeypatch: pytest.MonkeyPatch, button: QMessageBox.StandardButton) -> list[str]:
    """Make the confirmation answer `button`; the questions asked are collected."""
    asked: list[str] = []

    def question(_parent: object, _title: str, text: str) -> QMessageBox.StandardButton:
        asked.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def report(engine: Engine) -> DhtReport:
    async def read(services: Services) -> DhtReport:
        return await services.dht.report()

    return engine.run(read(engine.core.services))


def test_the_dht_is_off_and_the_engines_refusal_is_shown(
    qtbot: QtBot, start_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = start_engine()  # crawling off (the test settings): the DHT may not run
    panel = DhtPanel(engine.bridge)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.is_live()
    qtbot.waitUntil(lambda: panel.state.text().startswith("DHT crawler: off"), timeout=10000)
    assert panel.state.text() == "DHT crawler: off (disabled in the settings)"
    assert not panel.figures_box.isVisible()  # it never ran: no rows of zeros
    assert panel.toggle.text() == START_TEXT
    assert "uses bandwidth" in panel.note.text()
    assert panel.source.text() == "Figures: none yet (the crawler has not run)."
    assert panel.figures["fetched"].text() == "0, 0.0/min"
    assert panel.figures["port"].text() == "—"

    asked = answering(monkeypatch, QMessageBox.StandardButton.No)
    panel.toggle.click()
    assert "uses bandwidth" in asked[0]
    assert panel.message.text() == ""  # "no": nothing was asked of the engine

    answering(monkeypatch, QMessageBox.StandardButton.Yes)
    panel.toggle.click()
    qtbot.waitUntil(lambda: "[crawl] enabled" in panel.message.text(), timeout=10000)
    assert panel.message.text() == "crawling is off: [crawl] enabled = false (fix: set it to true)"
    assert panel.toggle.isEnabled()
    assert report(engine).status.enabled is False

    panel.hide()
    assert not panel.is_live()


@pytest.fixture
def swarm(tmp_path: Path) -> Iterator[Swarm]:
    with Swarm(2, tmp=tmp_path / "swarm") as started:
        started.wait_ready(timeout_s=20)
        yield started


def test_starting_shows_live_figures_and_stopping_turns_it_off(
    qtbot: QtBot, start_engine: EngineFactory, swarm: Swarm, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry, port = swarm.endpoints[0]
    engine = start_engine(
        **only_sites({"dht": {}}),  # crawling on, every site off, the DHT allowed
        **{"dht.listen": f"{swarm.spare_ip()}:0", "dht.bootstrap": [f"{entry}:{port}"]},
    )
    panel = DhtPanel(engine.bridge)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.state.text().startswith("DHT crawler: off"), timeout=10000)
    assert panel.state.text() == "DHT crawler: off until started"
    assert not report(engine).figures.running  # off by default: no node

    asked = answering(monkeypatch, QMessageBox.StandardButton.Yes)
    panel.toggle.click()
    assert "bandwidth" in asked[0]
    qtbot.waitUntil(lambda: panel.toggle.text() == STOP_TEXT, timeout=10000)
    qtbot.waitUntil(lambda: panel.source.text() == "Figures: live.", timeout=30000)
    assert panel.state.text().startswith("DHT crawler: on, running")
    live = report(engine).figures
    assert panel.figures["port"].text() == str(live.listen_port)
    assert panel.figures["since"].text().endswith(" UTC")
    # it joined the private DHT: the swarm's nodes are in its routing table
    qtbot.waitUntil(lambda: panel.figures["routing_table"].text() != "0 nodes", timeout=30000)
    assert re.fullmatch(r"[1-9][\d,]* nodes?", panel.figures["routing_table"].text())
    assert panel.figures["last_error"].text() == "none"

    panel.toggle.click()  # stopping asks nothing: it only saves bandwidth
    assert len(asked) == 1
    qtbot.waitUntil(lambda: panel.message.text() == "Stopped.", timeout=30000)
    assert panel.toggle.text() == START_TEXT
    assert panel.state.text() == "DHT crawler: off (stopped)"
    assert panel.figures_box.isVisible()  # the last figures it saved
    assert panel.source.text() == "Figures: the last ones saved (the crawler is not running now)."
    assert report(engine).status.enabled is False
    assert not report(engine).figures.running
