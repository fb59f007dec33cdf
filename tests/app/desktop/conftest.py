"""The window against a real engine: a `Core` on a temp SQLite database, on its own thread.

Qt runs offscreen (no display needed); the engine thread is the one the desktop app
uses, so what the window sees went through the real bridge, services, index and store.
"""

from __future__ import annotations

import asyncio
import os
import warnings
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.desktop.bridge import CoreBridge
from app.desktop.engine_thread import EngineThread
from app.desktop.gc_guard import GuiThreadCollector
from engine.core import Core
from engine.models import RawRecord
from tests.conftest import SettingsFactory
from tests.site_server import SAVED_SITES, GatedSite, SavedSite

T = TypeVar("T")


class Engine:
    """A running engine for one test: its core, thread and bridge."""

    def __init__(self, core: Core, thread: EngineThread, bridge: CoreBridge) -> None:
        self.core = core
        self.thread = thread
        self.bridge = bridge

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        """Run `coro` on the engine's loop and wait for its result."""
        return self.thread.submit(coro).result(timeout_s)

    def ingest(self, records: list[RawRecord]) -> None:
        """Store and index `records` now."""
        report = self.run(self.core.pipeline.submit(list(enumerate(records))))
        assert report.created == len(records), report
        self.run(asyncio.to_thread(self.core.drainer.drain_all))


EngineFactory = Callable[..., Engine]


@pytest.fixture(autouse=True)
def collect_on_the_gui_thread(qapp: Any) -> Iterator[None]:
    """As the app does (`gc_guard`): no collection on the engine's threads.

    A test's windows and trays left in reference cycles would otherwise be freed by
    whichever thread collects next, during a later test: Qt objects destroyed off the
    GUI thread crash the process now and then.
    """
    collector = GuiThreadCollector()
    yield
    with warnings.catch_warnings():
        # A keep-alive socket to a local site server the test already closed can be
        # found here; before this fixture it was found at random in a later test.
        warnings.simplefilter("ignore", ResourceWarning)
        collector.stop()


@pytest.fixture
def start_engine(
    make_settings: SettingsFactory, tmp_path: Path, qapp: Any
) -> Iterator[EngineFactory]:
    """Open a core with the given settings overrides, run it on an engine thread, bridge it."""
    started: list[tuple[Core, EngineThread]] = []

    def start(**settings: Any) -> Engine:
        data_dir = tmp_path / f"data-{len(started)}"  # each engine its own index and database
        values: dict[str, Any] = {
            "pipeline.classify": False,
            "storage.data_dir": str(data_dir),
            **settings,
        }
        core = Core.open(make_settings("", **values))
        thread = EngineThread()
        thread.start(core.run)
        started.append((core, thread))
        return Engine(core, thread, CoreBridge(core.services, thread))

    yield start
    for core, thread in started:
        thread.stop()
        core.close()


class LocalSites:
    """Sites of saved pages on 127.0.0.1, run on a loop thread of their own."""

    def __init__(self) -> None:
        self.loop = EngineThread(name="sites")
        self.loop.start(lambda: asyncio.Event().wait())
        self._sites: list[SavedSite] = []

    def serve(self, site_id: str, *, gated: bool = False) -> SavedSite:
        """A saved site; `gated`: its search waits until `open_gate`."""
        pages = SAVED_SITES[site_id]
        site = GatedSite(pages) if gated else SavedSite(pages)
        self._sites.append(site)
        return self.loop.submit(site.start()).result(10)

    def open_gate(self, site: GatedSite) -> None:
        """Let a gated site answer (the event belongs to the sites' loop)."""
        self.loop.loop.call_soon_threadsafe(site.gate.set)

    def close(self) -> None:
        for site in self._sites:
            self.loop.submit(site.close()).result(10)
        self.loop.stop()


@pytest.fixture
def local_sites() -> Iterator[LocalSites]:
    """Start sites with `local_sites.serve(...)`; they are closed after the test."""
    sites = LocalSites()
    yield sites
    sites.close()
