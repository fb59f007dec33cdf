"""Screenshots of every view of the desktop window, offscreen, over a real engine and real data.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--theme light|dark|both]

Nothing here is drawn by hand or typed into a table: a `Core` on a temporary data dir
runs on its engine thread with the HTTP/Torznab server beside it, as `minato` runs it,
and the window (`MainWindow`, through `CoreBridge`) shows what that engine holds. The
engine gets its torrents by crawling saved pages of real sites (tests/fixtures, listed
in the tests' `SAVED_SITES`), served on 127.0.0.1, with the classifier on:

- LimeTorrents (two mirrors: the saved site and a port nobody listens on) and
  TorrentDownloads: their saved "sintel 2010" search pages, also answered at their
  latest-listing paths, and each one's saved detail page for the torrent it shows
  (the other detail pages were not saved: 404, so no row gets another's files);
- YTS and EZTV: the saved JSON answers of their APIs (YTS's empty answer for any
  other query, as YTS answers one);
- The Pirate Bay: every page answers the saved Cloudflare challenge, so it is blocked;
- the saved showRSS and Nyaa feeds, added through the Feeds form.

Every other built-in site is off, enrichment is off and the DHT is off (its default),
and an audit hook refuses any connection beyond loopback, so no public host is reached.
The window is then driven as a person would (typing, Enter, filters, generating a key
that a Sonarr-like poll of the Torznab feed then uses) and each view is grabbed to a
PNG of `--out`, once per theme asked (`name.png` light, `name-dark.png` dark).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import logging
import os
import re
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Final, TypeVar

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # no display needed, and none is used
ROOT: Final = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `engine`, `app` and `tests` importable
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import tomlkit  # noqa: E402
from aiohttp import web  # noqa: E402, TID251 - the local copies of the sites are web apps
from aiohttp.test_utils import TestServer  # noqa: E402
from PySide6.QtCore import QEventLoop, Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QWidget  # noqa: E402

from app.cli import serve_beside_window  # noqa: E402
from app.desktop.bridge import CoreBridge  # noqa: E402
from app.desktop.engine_thread import EngineThread  # noqa: E402
from app.desktop.launch import qt_application  # noqa: E402
from app.desktop.theme import Theme, ThemeChoice  # noqa: E402
from app.desktop.welcome import Startup  # noqa: E402
from app.desktop.window import MainWindow  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.core import Core  # noqa: E402
from engine.logs import configure_logging  # noqa: E402
from engine.services import Services  # noqa: E402
from engine.services.crawlers import CrawlerStatus  # noqa: E402
from engine.sources.catalog import load_catalog  # noqa: E402
from tests.crawl_support import closed_url, only_sites  # noqa: E402
from tests.site_server import (  # noqa: E402
    CHALLENGE,
    FIXTURES,
    SAVED_SITES,
    SavedPages,
    serve,
)

T = TypeVar("T")
WINDOW_SIZE: Final = (1280, 800)
QUERY: Final = "sintel 2010"
SELECTED: Final = "Sintel (2010) BR2Mini-DVD DD5 1 NL Subs"
"""The LimeTorrents row whose saved detail page is its own (files, description)."""
CRAWLED: Final = ("limetorrents", "torrentdownloads", "yts", "eztv")
BLOCKED: Final = "thepiratebay"
SAVED: Final = {
    "limetorrents": ("/latest100", "938931"),
    "torrentdownloads": ("/today/", "1652059056"),
}
"""Each saved site's latest-listing path (its definition's), answered with the saved
listing, and the id of the torrent its saved detail page shows."""
YTS_ANSWER: Final = FIXTURES / "json-yts" / "yts_list_movies_query_test.json"
YTS_EMPTY: Final = FIXTURES / "json-yts" / "yts_list_movies_empty.json"
EZTV_ANSWER: Final = FIXTURES / "json-eztv" / "baka_eztv_get_torrents_latest.json"
FEEDS: Final = {
    "showrss": FIXTURES / "rss" / "sonarr_showrss.xml",
    "nyaa": FIXTURES / "rss" / "sonarr_nyaa2021.xml",
}
"""The saved feeds, by the name each is added under (and its path on the feed server)."""
DEFAULT_PORT: Final = 9797
WAIT_S: Final = 90.0
_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})


def say(text: str) -> None:
    """A progress line on stdout (the script's only output besides the PNGs)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def loopback_only(event: str, args: tuple[Any, ...]) -> None:
    """Audit hook: refuse every connection and name lookup beyond this machine."""
    if event == "socket.connect":
        address = args[1]
        host = address[0] if isinstance(address, tuple) else None
    elif event == "socket.getaddrinfo":
        host = args[0]
    else:
        return
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if isinstance(host, str) and host not in _LOOPBACK:
        raise ConnectionRefusedError(f"screenshots reach no host but this one, not {host}")


# --------------------------------------------------------------------------- local sites


class SavedPagesSite:
    """A site of saved pages: its search page, also at its latest path, and one detail page.

    The detail page is served only for the torrent it shows; the site's other detail
    pages were not saved and answer 404, so every row keeps the values its listing
    gives and no torrent is shown with another one's files or size.
    """

    def __init__(self, pages: SavedPages, latest: str, detail_id: str) -> None:
        self.pages = pages
        self.latest = latest
        self.detail_id = detail_id
        self.url = ""
        self._server: TestServer | None = None

    async def handle(self, request: web.Request) -> web.Response:
        """The listing, the one saved detail page, or 404 as the site answers."""
        path = request.raw_path
        if path in (self.pages.search_path, self.latest):
            return _html(self.pages.listing)
        match = re.search(self.pages.detail_id, path)
        if match is not None and match.group(1) == self.detail_id:
            return _html(self.pages.detail)
        return web.Response(status=404, text="<html><body>Not Found</body></html>")

    async def start(self) -> SavedPagesSite:
        """Listen on a free 127.0.0.1 port (`url`)."""
        self._server, self.url = await serve(self.handle)
        return self

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            await self._server.close()


def _html(page: Path) -> web.Response:
    body = page.read_text("utf-8", errors="replace")
    return web.Response(text=body, content_type="text/html", charset="utf-8")


async def yts(request: web.Request) -> web.Response:
    """YTS's list_movies: the saved answer (asked "test"), its empty answer for other words."""
    words = request.query.get("query_term", "test")
    answer = YTS_ANSWER if words.strip().lower() == "test" else YTS_EMPTY
    return web.Response(body=answer.read_bytes(), content_type="application/json")


async def eztv(request: web.Request) -> web.Response:
    """EZTV's get-torrents: the saved first page of the latest torrents."""
    if request.path != "/api/get-torrents" or request.query.get("page", "1") != "1":
        return web.Response(status=404, text="Not Found")
    return web.Response(body=EZTV_ANSWER.read_bytes(), content_type="application/json")


async def challenged(_request: web.Request) -> web.Response:
    """Cloudflare's saved "checking your browser" page, as a blocked site answers."""
    return web.Response(
        status=503,
        text=CHALLENGE.read_text("utf-8"),
        content_type="text/html",
        headers={"Server": "cloudflare", "CF-RAY": "4a9e7b2d9c1e2f3a-AMS"},
    )


async def feeds(request: web.Request) -> web.Response:
    """The saved feeds: showRSS at /showrss, Nyaa at /nyaa."""
    saved = FEEDS.get(request.path.strip("/"))
    if saved is None:
        return web.Response(status=404, text="Not Found")
    return web.Response(body=saved.read_bytes(), content_type="application/rss+xml")


async def wait_forever() -> None:
    """The sites' loop has nothing to do but serve them."""
    await asyncio.Event().wait()


class LocalSites:
    """Every local site on a loop thread of its own; `urls` by site id (and "feed")."""

    def __init__(self) -> None:
        self.thread = EngineThread(name="sites")
        self.urls: dict[str, str] = {}
        self._closers: list[Callable[[], Coroutine[Any, Any, None]]] = []

    def start(self) -> LocalSites:
        """Start every site; their base URLs are in `urls`."""
        self.thread.start(wait_forever)
        for site_id, (latest, detail_id) in SAVED.items():
            site = SavedPagesSite(SAVED_SITES[site_id], latest, detail_id)
            self.thread.submit(site.start()).result(10)
            self.urls[site_id] = site.url
            self._closers.append(site.close)
        handlers = (("yts", yts), ("eztv", eztv), (BLOCKED, challenged), ("feeds", feeds))
        for name, handler in handlers:
            server, url = self.thread.submit(serve(handler)).result(10)
            self.urls[name] = url
            self._closers.append(server.close)
        return self

    def close(self) -> None:
        """Stop every site and their loop."""
        for close in self._closers:
            self.thread.submit(close()).result(10)
        self.thread.stop()


# --------------------------------------------------------------------------- the engine


def free_port(preferred: int) -> int:
    """`preferred` when nothing listens there (the default the docs name), else any free one."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            return 0
    return preferred


def write_settings(folder: Path, sites: LocalSites) -> Path:
    """The settings file a person would write to crawl these sites (and nothing else)."""
    site_settings: dict[str, dict[str, Any]] = {
        "limetorrents": {
            "mirrors": [sites.urls["limetorrents"], closed_url()],
            "health_path": SAVED["limetorrents"][0],
        },
        "torrentdownloads": {
            "mirrors": [sites.urls["torrentdownloads"]],
            "health_path": SAVED["torrentdownloads"][0],
        },
        "yts": {"mirrors": [sites.urls["yts"]], "depth": 1},
        "eztv": {"mirrors": [sites.urls["eztv"]], "depth": 1},
        BLOCKED: {"mirrors": [sites.urls[BLOCKED]]},
    }
    for values in site_settings.values():
        values["min_interval_s"] = 0.2
    overrides = only_sites(site_settings)
    overrides.pop("sites.dht")  # the DHT keeps its default: off until started
    document: dict[str, Any] = {
        "storage": {"data_dir": str(folder / "data")},
        "server": {"host": "127.0.0.1", "port": free_port(DEFAULT_PORT)},
        "crawl": {"enabled": True},
        "enrich": {"enabled": False},  # its lookups would reach public hosts
        "pipeline": {"classify": True, "classify_workers": 1},
        "sites": {key.removeprefix("sites."): value for key, value in overrides.items()
                  if key.startswith("sites.")},
    }  # fmt: skip
    path = folder / "config.toml"
    path.write_text(tomlkit.dumps(document), "utf-8")
    return path


class Session:
    """The engine, its thread and the window, for one run of the script."""

    def __init__(self, folder: Path, sites: LocalSites, themes: list[ThemeChoice]) -> None:
        self.urls = sites.urls
        self.themes = themes
        config = write_settings(folder, sites)
        self.settings = load_settings(config, {})
        data_dir = self.settings.data_path()
        configure_logging(logging.ERROR, log_file=data_dir / "logs" / "minato.log")
        catalog = load_catalog(self.settings, config_path=config)
        self.core = Core.open(self.settings, catalog=catalog, config_path=config)
        self.thread = EngineThread()
        self.startup = Startup(
            data_dir=str(data_dir),
            server_url=concurrent.futures.Future(),
            first_key=concurrent.futures.Future(),
        )
        self.thread.start(lambda: serve_beside_window(self.core, self.settings, self.startup))
        self.app = qt_application()
        self.theme = Theme(self.app, themes[0])
        self.bridge = CoreBridge(self.core.services, self.thread)
        self.window = MainWindow(self.bridge, self.startup)
        self.window.theme = self.theme
        self.window.resize(*WINDOW_SIZE)
        self.window.show()

    def run(self, work: Callable[[Services], Coroutine[Any, Any, T]]) -> T:
        """Run `work` on the engine's loop and wait for its answer."""
        return self.thread.submit(work(self.core.services)).result(WAIT_S)

    def wait(self, test: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
        """Let the window work (events, bridge answers) until `test` holds."""
        deadline = time.monotonic() + timeout_s
        while not test():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout_s:.0f} s for {what}")
            self.app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.02)

    def settle(self, seconds: float = 0.4) -> None:
        """Give pending answers and repaints a moment before a grab."""
        end = time.monotonic() + seconds
        self.wait(lambda: time.monotonic() >= end, "the window to settle")

    def statuses(self) -> dict[str, CrawlerStatus]:
        """Every crawler's status, by source."""

        async def read(services: Services) -> dict[str, CrawlerStatus]:
            return {status.source: status for status in services.crawlers.statuses()}

        return self.run(read)

    def close(self) -> None:
        """Close the window, stop the engine and close it."""
        self.window.hide_on_close = self.window.confirm_quit = False
        self.window.close()
        self.thread.stop()
        self.core.close()


# --------------------------------------------------------------------------- grabbing


def save(widget: QWidget, path: Path) -> None:
    """Grab `widget` to an RGB PNG at `path`, compressed as far as PNG goes (losslessly).

    Not a palette image: Qt's 256-colour reduction merges the dark theme's close greys
    (a text box vanishes into the window) and bands gradients with the highlight blue.
    """
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    if not image.save(str(path), quality=0):  # PNG by its suffix; 0: the strongest compression
        raise OSError(f"could not write {path}")
    say(f"  {path.name}: {widget.width()}x{widget.height()}, {path.stat().st_size // 1024} KB")


def grab(session: Session, widget: QWidget, out: Path, name: str) -> None:
    """`widget` as it is now, once per theme asked (`name.png`, `name-dark.png`)."""
    for theme in session.themes:
        session.theme.choose(theme)
        session.settle()
        save(widget, out / f"{name}{'-dark' if theme == 'dark' else ''}.png")
    session.theme.choose(session.themes[0])


def row_titled(session: Session, title: str) -> int:
    """The results row showing `title`, or -1."""
    model = session.window.search.model
    return next((r for r in range(model.rowCount()) if model.hit(r).title == title), -1)


def select(session: Session, title: str) -> None:
    """Click the row titled `title` and wait for its details (files) to load."""
    search = session.window.search
    session.wait(lambda: row_titled(session, title) >= 0, f"the row {title!r}")
    search.results.selectRow(row_titled(session, title))
    session.wait(
        lambda: (
            search.details.torrent is not None and search.details.torrent.summary.title == title
        ),
        "the selected torrent's details",
    )


def crawled(session: Session) -> bool:
    """Each crawled site ran once, the blocked one was refused, and all is indexed."""
    statuses = session.statuses()
    if any(statuses[s].runs < 1 for s in CRAWLED) or statuses[BLOCKED].last_error is None:
        return False
    return session.run(lambda services: services.status.health()).index_backlog == 0


def shoot(session: Session, out: Path) -> None:
    """Drive every view as a person would, and grab each."""
    window = session.window
    welcome = window.welcome
    if welcome is None:  # the window makes it only when told how the engine started
        raise RuntimeError("the window has no welcome panel")
    session.wait(welcome.isVisible, "the welcome")
    session.wait(lambda: "Crawling now" in welcome.sources.text(), "the welcome's text")
    session.wait(lambda: welcome.torznab_url.text() != "", "the server's URL")
    grab(session, window, out, "welcome")
    welcome.dismiss.click()
    session.wait(lambda: crawled(session), "the first crawls")
    add_feeds(session)
    shoot_search(session, out)
    shoot_crawlers(session, out)
    tabs = window.tabs
    tabs.setCurrentWidget(window.monitor)
    window.monitor.refresh()
    session.wait(lambda: "torrents in all" in window.monitor.totals.text(), "the monitor")
    grab(session, window, out, "monitor")
    tabs.setCurrentWidget(window.index)
    window.index.refresh()
    session.wait(lambda: window.index.facts["database"].text() != "", "the index")
    grab(session, window, out, "index")
    tabs.setCurrentWidget(window.keys)
    keys = window.keys
    QTest.keyClicks(keys.name, "sonarr")
    keys.generate.click()
    session.wait(lambda: keys.model.rowCount() == 2 and keys.new_secret.text() != "", "the key")
    sonarr_polls(session, keys.new_secret.text())
    keys.refresh()
    session.wait(lambda: "never" not in keys.model.index(1, 3).data(), "the key's last use")
    grab(session, window, out, "api-keys")
    dialog = window.open_settings()
    session.wait(dialog.save_button.isEnabled, "the settings")
    grab(session, dialog, out, "settings-general")
    dialog.tabs.setCurrentWidget(dialog.sites)
    grab(session, dialog, out, "settings-sites")
    dialog.reject()


def shoot_search(session: Session, out: Path) -> None:
    """A live search with a row open, then the whole index narrowed by filters."""
    window = session.window
    search = window.search
    window.focus_search()  # Ctrl+F
    QTest.keyClicks(search.search_box, QUERY)
    QTest.keyClick(search.search_box, Qt.Key.Key_Return)
    session.wait(lambda: "the sites answered" in search.status.text(), "the live search")
    select(session, SELECTED)
    grab(session, window, out, "search")
    search.clear()  # Esc: no words, so the filters below narrow the whole index
    filters = search.filters
    filters.kind.setCurrentIndex(filters.kind.findText("Movie"))
    filters.resolution.setCurrentIndex(filters.resolution.findData("1080p"))
    search.sort_order.setCurrentIndex(search.sort_order.findText("Seeders"))
    session.wait(lambda: "in the index" in search.status.text(), "the filtered search")
    session.wait(lambda: search.model.rowCount() > 0, "the filtered rows")
    select(session, search.model.hit(0).title)
    grab(session, window, out, "search-filtered")


def shoot_crawlers(session: Session, out: Path) -> None:
    """The crawlers tab's four sub-tabs."""
    window = session.window
    crawlers = window.crawlers
    window.tabs.setCurrentWidget(crawlers)
    crawlers.tabs.setCurrentWidget(crawlers.sources)
    session.wait(lambda: crawlers.sources.model.rowCount() > 0, "the sources")
    grab(session, window, out, "crawlers-sources")
    crawlers.tabs.setCurrentWidget(crawlers.mirrors)
    session.wait(lambda: crawlers.mirrors.model.rowCount() > 0, "the mirrors")
    grab(session, window, out, "crawlers-mirrors")
    crawlers.tabs.setCurrentWidget(crawlers.feeds)
    session.wait(lambda: crawlers.feeds.model.rowCount() > 0, "the feeds")
    grab(session, window, out, "crawlers-feeds")
    crawlers.tabs.setCurrentWidget(crawlers.dht)
    session.wait(lambda: crawlers.dht.state.text().startswith("DHT crawler: off"), "the DHT")
    grab(session, window, out, "crawlers-dht")
    crawlers.tabs.setCurrentWidget(crawlers.sources)


def sonarr_polls(session: Session, key: str) -> None:
    """Poll the Torznab feed with `key` as Sonarr does every 15 minutes (its RSS sync)."""
    url = f"{session.startup.server_url.result(WAIT_S)}/torznab/all/api"
    answer = httpx.get(url, params={"t": "tvsearch", "cat": "5000", "apikey": key}, timeout=WAIT_S)
    answer.raise_for_status()
    if b"<rss" not in answer.content:
        raise RuntimeError(f"the Torznab feed did not answer RSS: {answer.text[:200]!r}")


def add_feeds(session: Session) -> None:
    """Add the saved feeds through the Feeds form, as a person would, and wait for their polls."""
    window = session.window
    crawlers = window.crawlers
    window.tabs.setCurrentWidget(crawlers)
    crawlers.tabs.setCurrentWidget(crawlers.feeds)
    panel = crawlers.feeds
    for name, every in zip(FEEDS, ("30m", "1h"), strict=True):
        QTest.keyClicks(panel.name, name)
        QTest.keyClicks(panel.url, f"{session.urls['feeds']}/{name}")
        panel.every.setText(every)
        panel.add.click()
        added = f"Added feed {name}"
        session.wait(lambda: added in panel.message.text(), added)  # noqa: B023 - waited here
        source = f"feed:{name}"
        session.wait(lambda: polled(session, source), f"the first poll of {source}")  # noqa: B023


def polled(session: Session, source: str) -> bool:
    """Whether the crawler `source` ran once."""
    status = session.statuses().get(source)
    return status is not None and status.runs >= 1


def main(argv: list[str] | None = None) -> int:
    """Make the screenshots; 0 when all were written."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--theme", choices=("light", "dark", "both"), default="both")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    themes: list[ThemeChoice] = ["light", "dark"] if args.theme == "both" else [args.theme]
    sys.addaudithook(loopback_only)
    sites = LocalSites().start()
    try:
        with tempfile.TemporaryDirectory(prefix="minato-") as folder:
            session = Session(Path(folder), sites, themes)
            try:
                shoot(session, out)
            finally:
                session.close()
    finally:
        sites.close()
    total = sum(p.stat().st_size for p in out.glob("*.png"))
    say(f"{len(list(out.glob('*.png')))} screenshots, {total / 1024:.0f} KB in all, in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
