"""A torrent site on 127.0.0.1 built from saved real pages, for end-to-end crawl tests and benches.

The saved 1337x pages (tests/fixtures/html-1337x) are served at the paths the
crawler asks for. To make listing pages 1..N hold different torrents (as a real
site's do), each page is the saved search page with its torrent ids shifted by
the page number and its pagination links pointing at the served listing; each
detail page is the saved detail page with the info hash replaced by one derived
from the torrent id. The markup is the site's own; only ids, hashes and links change.

`SiteServer` records every path asked for and can be told to answer a path with
another status or body (a challenge page, an empty body, a cut page, a 500).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LEETX_SEARCH = FIXTURES / "html-1337x" / "torrentscraper_1337x_search_lion_king_2019-11.html"
LEETX_DETAIL = FIXTURES / "html-1337x" / "magnetissimo_1337x_detail_2016-08.html"
CHALLENGE = FIXTURES / "html-other" / "torrentz2_cloudflare_503_challenge.html"
LEETX_LATEST = "/sort-cat/Movies/time/desc"
LEETX_LISTINGS = ("/sort-cat/Movies/time/desc", "/sort-cat/TV/time/desc")
"""The newest-first listings the 1337x definition crawls (`paths.latest`), in its order."""
ROWS_PER_PAGE = 20
FILES_PER_TORRENT = 22
_DETAIL_HASH = "7600F6F57EE08B4E560C907CF43B24727856249C"
_DETAIL_TITLE = (
    "The Settlers 7: Paths to a Kingdom. Deluxe Gold Edition (2011) PC | RePack by z10yded"
)
_TORRENT_LINK = re.compile(r"/torrent/(\d+)/")
_PAGE_LINK = re.compile(r"/search/lion\+king/(\d+)/")
_NEXT_ITEM = re.compile(r'<li><a href="[^"]*">&gt;&gt;</a></li>')


def torrent_hash(torrent_id: int) -> str:
    """The info hash the served detail page of `torrent_id` shows (40 lowercase hex)."""
    return hashlib.sha1(f"minato-test-{torrent_id}".encode()).hexdigest()  # noqa: S324


def _shift(page: int, listing: str) -> int:
    """Ids of each listing and page are apart, so every page lists torrents of its own."""
    rank = LEETX_LISTINGS.index(listing) + 1 if listing in LEETX_LISTINGS else 0
    return rank * 1_000_000_000 + page * 10_000_000


def page_ids(page: int, listing: str = LEETX_LATEST) -> list[int]:
    """The torrent ids listed on page `page` (1-based) of `listing`."""
    ids = [int(m) for m in _TORRENT_LINK.findall(LEETX_SEARCH.read_text("utf-8"))]
    return [torrent_id + _shift(page, listing) for torrent_id in dict.fromkeys(ids)]


def leetx_listing(page: int, last_page: int, listing: str = LEETX_LATEST) -> str:
    """Listing page `page` of `last_page`: the saved page, ids shifted, links to `listing`."""
    text = LEETX_SEARCH.read_text("utf-8")
    shift = _shift(page, listing)
    text = _TORRENT_LINK.sub(lambda m: f"/torrent/{int(m.group(1)) + shift}/", text)
    text = _PAGE_LINK.sub(lambda m: f"{listing}/{m.group(1)}/", text)
    text = text.replace(f'{listing}/2/">&gt;&gt;', f'{listing}/{page + 1}/">&gt;&gt;')
    if page >= last_page:
        text = _NEXT_ITEM.sub("", text)
    return text


def leetx_detail(torrent_id: int) -> str:
    """The saved detail page, showing `torrent_hash(torrent_id)` and a title of its own."""
    text = LEETX_DETAIL.read_text("utf-8")
    info_hash = torrent_hash(torrent_id)
    text = text.replace(_DETAIL_HASH, info_hash.upper()).replace(_DETAIL_HASH.lower(), info_hash)
    return text.replace(_DETAIL_TITLE, f"Minato Test Torrent {torrent_id} 2011 PC")


@dataclass
class Override:
    """An answer that replaces the served page at a path."""

    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class SiteServer:
    """1337x on 127.0.0.1: `pages` latest listing pages, a search, and every detail page."""

    def __init__(self, pages: int = 3) -> None:
        self.pages = pages
        self.paths: list[str] = []
        self.overrides: dict[str, Override] = {}
        self.override_all: Override | None = None
        self.delay_s = 0.0
        self._server: TestServer | None = None
        self.url = ""

    def detail_paths(self) -> list[str]:
        """The detail pages asked for, in order."""
        return [p for p in self.paths if p.startswith("/torrent/")]

    def listing_paths(self) -> list[str]:
        """The listing pages asked for, in order."""
        return [p for p in self.paths if not p.startswith("/torrent/")]

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path_qs
        self.paths.append(path)
        override = self.override_all or self.overrides.get(path)
        if override is not None:
            return web.Response(
                status=override.status,
                text=override.body,
                content_type="text/html",
                headers=override.headers,
            )
        return self.answer(path)

    def answer(self, path: str) -> web.Response:
        """The saved page for `path`, or 404 as the site would answer."""
        if match := re.fullmatch(r"/torrent/(\d+)/[^/]+/", path):
            return _html(leetx_detail(int(match.group(1))))
        if match := re.fullmatch(r"(/sort-cat/\w+/time/desc)/(\d+)/", path):
            page = int(match.group(2))
            if match.group(1) in LEETX_LISTINGS and 1 <= page <= self.pages:
                return _html(leetx_listing(page, self.pages, match.group(1)))
        if match := re.fullmatch(r"/(search|cat)/([^/]+)/(\d+)/", path):
            page = int(match.group(3))
            listing = f"/{match.group(1)}/{match.group(2)}"
            if 1 <= page <= self.pages:
                return _html(leetx_listing(page, self.pages, listing))
        return web.Response(status=404, text="<html><body>404 Not Found</body></html>")

    async def start(self) -> SiteServer:
        self._server, self.url = await serve(self._handle)
        return self

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()


async def serve(
    handler: Callable[[web.Request], Awaitable[web.Response]], method: str = "GET"
) -> tuple[TestServer, str]:
    """Serve every `method` request ("*": any) with `handler` on a free 127.0.0.1 port.

    Returns:
        The running server and its base URL (no trailing slash).
    """
    app = web.Application()
    app.router.add_route(method, "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server, str(server.make_url("")).rstrip("/")


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html", charset="utf-8")


def challenge_override() -> Override:
    """The saved Cloudflare "checking your browser" answer: 503 with its headers."""
    return Override(
        status=503,
        body=CHALLENGE.read_text("utf-8"),
        headers={"Server": "cloudflare", "CF-RAY": "4a9e7b2d9c1e2f3a-AMS"},
    )


class ThreadedSite:
    """A `SiteServer` on its own event loop thread, for code that runs `asyncio.run` itself."""

    def __init__(self, pages: int = 3) -> None:
        import asyncio

        self.site = SiteServer(pages)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> SiteServer:
        import asyncio

        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.site.start(), self._loop).result(timeout=10)
        return self.site

    def __exit__(self, *_exc: object) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self.site.close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


Answer = Callable[[str], web.Response]


# --------------------------------------------------------------- the other saved sites


@dataclass(frozen=True)
class SavedPages:
    """One saved search page of a site and its saved detail page, to serve for every row."""

    site: str
    search_path: str
    """The raw path (and query) the site's definition asks for the query below."""
    query: str
    listing: Path
    detail: Path
    detail_hash: str
    """The info hash the saved detail page shows (replaced by each row's)."""
    detail_id: str
    """A regex whose group 1 is the torrent id in a detail path."""
    row_hashes: str | None
    """A regex over the listing giving (id, hash) pairs (or (hash, id)); None: it has none."""
    hash_first: bool = False


SAVED_SITES = {
    "thepiratebay": SavedPages(
        site="thepiratebay",
        search_path="/search/Arrow%20S05E07/0/99/0",
        query="Arrow S05E07",
        listing=FIXTURES / "html-tpb" / "tpb_search_arrow_s05e07_2019.html",
        detail=FIXTURES / "html-tpb" / "magnetissimo_tpb_detail_2016-08.html",
        detail_hash="F20ED5D4CF26BEF624064D23F89D7A447040CFBE",
        detail_id=r"^/torrent/(\d+)/",
        row_hashes=r'href="/torrent/(\d+)/[^"]*" class="detLink"[\s\S]*?btih:([0-9a-fA-F]{40})',
    ),
    "limetorrents": SavedPages(
        site="limetorrents",
        search_path="/search/all/sintel-2010/date/1/",
        query="sintel 2010",
        listing=FIXTURES / "html-other" / "magnetissimo_limetorrents_search_sintel.html",
        detail=FIXTURES / "html-other" / "magnetissimo_limetorrents_detail_sintel.html",
        detail_hash="70F1BD3E79A417159738BAEBA5EE1BF139F43919",
        detail_id=r"-torrent-(\d+)\.html$",
        row_hashes=(
            r'/torrent/([0-9A-F]{40})\.torrent[^"]*"[^>]*></a>'
            r'<a href="[^"]*-torrent-(\d+)\.html"'
        ),
        hash_first=True,
    ),
    "torrentdownloads": SavedPages(
        site="torrentdownloads",
        search_path="/search/?page=1&search=sintel+2010&s_cat=&srt=added&pp=50&order=desc",
        query="sintel 2010",
        listing=FIXTURES / "html-other" / "magnetissimo_torrentdownloads_search.html",
        detail=FIXTURES / "html-other" / "magnetissimo_torrentdownloads_detail.html",
        detail_hash="19288989FD99A41AD24F30C23B0271E0A825AC5F",
        detail_id=r"^/torrent/(\d+)/",
        row_hashes=None,
    ),
}


class SavedSite:
    """A site made of one saved search page and one saved detail page, on 127.0.0.1.

    Every detail path answers the saved detail page, showing the info hash of the
    row that links it (from the listing, or derived from the id when the listing
    has no hash), so each row's torrent gets a detail page of its own.
    """

    def __init__(self, pages: SavedPages) -> None:
        self.pages = pages
        self.paths: list[str] = []
        listing = pages.listing.read_text("utf-8", errors="replace")
        self.hashes: dict[str, str] = {}
        if pages.row_hashes is not None:
            for first, second in re.findall(pages.row_hashes, listing):
                torrent_id, info_hash = (second, first) if pages.hash_first else (first, second)
                self.hashes.setdefault(torrent_id, info_hash.lower())
        self._server: TestServer | None = None
        self.url = ""

    def hash_of(self, torrent_id: str) -> str:
        """The info hash served for a torrent id."""
        return self.hashes.get(torrent_id) or torrent_hash(int(torrent_id))

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.raw_path
        self.paths.append(path)
        if path == self.pages.search_path:
            return _html(self.pages.listing.read_text("utf-8", errors="replace"))
        match = re.search(self.pages.detail_id, path)
        if match is None:
            return web.Response(status=404, text="<html><body>Not Found</body></html>")
        info_hash = self.hash_of(match.group(1))
        text = self.pages.detail.read_text("utf-8", errors="replace")
        old = self.pages.detail_hash
        text = text.replace(old.upper(), info_hash.upper()).replace(old.lower(), info_hash)
        return _html(text)

    async def start(self) -> SavedSite:
        self._server, self.url = await serve(self._handle)
        return self

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()


class GatedSite(SavedSite):
    """A saved site whose search page waits until the test opens `gate` (a slow site)."""

    def __init__(self, pages: SavedPages) -> None:
        super().__init__(pages)
        self.gate = asyncio.Event()
        self.asked = False
        self.answered = False

    async def _handle(self, request: web.Request) -> web.Response:
        if request.raw_path == self.pages.search_path:
            self.asked = True
            await self.gate.wait()
            self.answered = True
        return await super()._handle(request)
