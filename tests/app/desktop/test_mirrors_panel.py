"""Mirror health: the engine's real checks of local mirrors (up, down, challenged) in the panel.

1337x gets three mirrors on 127.0.0.1: the saved site, a port nobody listens on, and
a server answering Cloudflare's saved challenge page. The engine checks them at start;
a crawl that fails later marks its mirror down, which "Refresh now" shows at once.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.desktop.mirrors_panel import MirrorsPanel
from engine.services import Services
from engine.services.crawlers import SiteMirrors
from tests.app.desktop.conftest import Engine, EngineFactory
from tests.crawl_support import closed_url, only_sites
from tests.site_server import Override, ThreadedSite, challenge_override

HEALTH_PATH = "/sort-cat/Movies/time/desc/1/"  # a page the saved site serves


def shown(panel: MirrorsPanel) -> dict[str, dict[str, str]]:
    """Each mirror's row as the table shows it, by URL."""
    rows: dict[str, dict[str, str]] = {}
    model = panel.model
    for row in range(model.rowCount()):
        cells = {model.columns[c]: str(model.data(model.index(row, c))) for c in range(8)}
        rows[cells["Mirror"]] = cells
    return rows


def mirrors(engine: Engine, site: str) -> SiteMirrors:
    async def read(services: Services) -> SiteMirrors:
        return await services.crawlers.mirrors(site)

    return engine.run(read(engine.core.services))


def checked(engine: Engine) -> bool:
    async def read(services: Services) -> Any:
        return services.crawlers.mirror_checks().last_round_at

    return engine.run(read(engine.core.services)) is not None


def test_live_dead_and_challenged_mirrors_show_as_such(
    qtbot: QtBot, start_engine: EngineFactory
) -> None:
    with ThreadedSite(pages=1) as live, ThreadedSite(pages=1) as challenged:
        challenged.override_all = challenge_override()
        dead = closed_url()
        site = {"mirrors": [live.url, dead, challenged.url], "health_path": HEALTH_PATH}
        engine = start_engine(**only_sites({"1337x": {**site, "min_interval_s": 0}}))
        panel = MirrorsPanel(engine.bridge)
        qtbot.addWidget(panel)
        panel.show()
        assert panel.is_live()

        qtbot.waitUntil(lambda: checked(engine), timeout=30000)  # the engine's first round
        panel.refresh_now.click()
        qtbot.waitUntil(
            lambda: [r["State"] for r in shown(panel).values()] == ["up", "down", "challenged"],
            timeout=10000,
        )
        rows = shown(panel)
        assert list(rows) == [live.url, dead, challenged.url]  # the configured order
        assert {url: r["Site"] for url, r in rows.items()} == dict.fromkeys(rows, "1337x")
        assert rows[live.url]["In use"] == "in use"  # the only usable one: crawls go there
        assert rows[dead]["In use"] == rows[challenged.url]["In use"] == ""
        assert rows[live.url]["Latency"].endswith(" ms")
        assert rows[live.url]["Last check"].endswith(("just now", "ago"))
        assert "ConnectError" in rows[dead]["Why"]
        assert rows[dead]["Failures"] == "1"
        assert rows[challenged.url]["Why"].startswith("challenge:")
        assert "Cloudflare" in rows[challenged.url]["Why"]
        assert "every 15 min; last check" in panel.schedule.text()

        tip = panel.model.data(panel.model.index(1, 0), Qt.ItemDataRole.ToolTipRole)
        assert tip.startswith(f"{dead}, latest checks:\n")
        assert "down: ConnectError" in tip

        # every other site is off in these settings: listed only when asked for
        assert {r["Site"] for r in shown(panel).values()} == {"1337x"}
        panel.show_off.setChecked(True)
        sites = {r["Site"] for r in shown(panel).values()}
        assert {"1337x", "yts (off)", "thepiratebay (off)"} <= sites
        assert "dht" not in {s.split()[0] for s in sites}  # no mirrors, no rows
        off = [r for r in shown(panel).values() if r["Site"] == "yts (off)"]
        assert {r["State"] for r in off} == {"not checked yet"}
        panel.show_off.setChecked(False)

        # a crawl that fails on the mirror in use marks it down; "Refresh now" shows it
        async def crawled_once(services: Services) -> int:
            return next(s.runs for s in services.crawlers.statuses() if s.source == "1337x")

        qtbot.waitUntil(lambda: engine.run(crawled_once(engine.core.services)) >= 1, timeout=30000)
        live.override_all = Override(status=500, body="<html>Internal Server Error</html>")

        async def crawl_now(services: Services) -> None:
            await services.crawlers.start("1337x")

        engine.run(crawl_now(engine.core.services))
        qtbot.waitUntil(
            lambda: mirrors(engine, "1337x").mirrors[0].state.online is False, timeout=30000
        )
        panel.refresh_now.click()
        qtbot.waitUntil(lambda: shown(panel)[live.url]["State"] == "down", timeout=10000)
        assert "500" in shown(panel)[live.url]["Why"]


def test_mirror_checks_off_are_said_so(qtbot: QtBot, start_engine: EngineFactory) -> None:
    engine = start_engine()  # crawling off: nothing is checked, nothing is sent
    panel = MirrorsPanel(engine.bridge)
    qtbot.addWidget(panel)
    assert not panel.is_live()
    panel.show()
    qtbot.waitUntil(lambda: panel.schedule.text() != "", timeout=10000)
    assert panel.schedule.text().startswith("Mirror checks are off: crawling is off")
    qtbot.waitUntil(lambda: panel.model.rowCount() > 0, timeout=10000)
    states = {str(panel.model.data(panel.model.index(r, 2))) for r in range(panel.model.rowCount())}
    assert states == {"not checked yet"}  # the sites are on, but nothing is sent to them
    panel.hide()
    assert not panel.is_live()
