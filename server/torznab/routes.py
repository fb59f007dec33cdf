"""`GET /torznab/{indexer}/api`: caps and the search functions, answered in Torznab XML.

Errors here are XML `<error code description>` with HTTP 200, as Newznab clients
expect (never the JSON errors of /api, never an HTML page), so this handler does its
own key check and catches everything itself: `caps` needs no key, every other
function needs `apikey=` (any case) or `X-Api-Key`.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from aiohttp import web

from engine.errors import InvalidRecord, NotFound
from engine.models import ContentKind, LiveMode, SearchQuery, SortOrder, TorrentSummary
from engine.services.search import credit_of
from server.middleware import SERVICES
from server.torznab.params import TorznabError, TorznabRequest, lower_keys, parse_request
from server.torznab.xml import (
    MAGNET_TYPE,
    TORRENT_TYPE,
    Caps,
    Category,
    FeedItem,
    SearchMode,
    caps_xml,
    error_xml,
    feed_xml,
)

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 100
ALL = "all"
TORZNAB_VERSION = "1.3"  # the spec this endpoint follows (torznab.github.io)

_MODES = (
    SearchMode("search", True, ("q",)),
    SearchMode("tv-search", True, ("q", "season", "ep", "imdbid", "tvdbid")),
    SearchMode("movie-search", True, ("q", "imdbid", "tmdbid")),
    SearchMode("music-search", True, ("q", "artist", "album")),
    SearchMode("audio-search", True, ("q", "artist", "album")),
    SearchMode("book-search", True, ("q", "author", "title")),
)
_FUNCTION_CATEGORIES = {"tvsearch": (5000,), "movie": (2000,), "music": (3000,), "book": (7000,)}
"""Where a function looks when the client names no category."""


async def torznab_api(request: web.Request) -> web.Response:
    """Answer one Torznab request; every failure is an XML error, the server stays up."""
    query = lower_keys(request.query)
    try:
        if query.get("t", "").strip().lower() == "caps":
            return _xml(caps_xml(_caps(request)))
        key = await _check_key(request, query.get("apikey"))
        torznab = parse_request(query, default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT)
        indexer = request.match_info["indexer"].lower()  # source names are stored lower case
        # search-through: a thin or stale answer also asks the sites (an RSS poll never does)
        page = await request.app[SERVICES].search.search(
            search_query(torznab, indexer), live=LiveMode.AUTO
        )
        base = _base_url(request)
        links = _Links(base=base, indexer=indexer, key=key)
        items = [_item(hit, links) for hit in page.hits]
        title = f"Minato ({indexer})"
        document = feed_xml(items, title=title, link=base, offset=torznab.offset, total=page.total)
        return _xml(document, "application/rss+xml")
    except TorznabError as exc:
        return _xml(error_xml(exc.code, exc.description))
    except Exception:
        request_id = secrets.token_hex(6)
        log.exception("BUG answering Torznab %s (request %s)", request.path, request_id)
        return _xml(error_xml(900, f"Unknown error (request id {request_id})"))


async def torznab_download(request: web.Request) -> web.Response:
    """`GET /torznab/{indexer}/download/{info_hash}.torrent`: the kept .torrent file.

    What an item's enclosure points at when Minato holds the metainfo; the file
    carries every known tracker and hashes to the item's `infohash`. Failures keep
    their HTTP status (a download client reads the status, not a body) with the
    Newznab error as the body: 401 with code 100, 404 with code 300 (no such item).
    """
    query = lower_keys(request.query)
    info_hash = request.match_info["info_hash"]
    try:
        await _check_key(request, query.get("apikey"))
        data = await request.app[SERVICES].search.metainfo(info_hash)
    except TorznabError as exc:
        return _xml(error_xml(exc.code, exc.description), status=401)
    except (NotFound, InvalidRecord) as exc:
        return _xml(error_xml(300, f"No such item: {exc}"), status=404)
    return web.Response(
        body=data,
        content_type=TORRENT_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{info_hash.lower()}.torrent"'},
    )


async def _check_key(request: web.Request, from_query: str | None) -> str:
    """The verified key as supplied, so download links can carry it back to the client."""
    supplied = request.headers.get("X-Api-Key") or from_query
    if not supplied or not await request.app[SERVICES].keys.verify(supplied):
        raise TorznabError(100, "Incorrect user credentials: send apikey=")
    return supplied


def search_query(torznab: TorznabRequest, indexer: str) -> SearchQuery:
    """The index query for a Torznab request: ids first, then text; newest first when empty."""
    words = [torznab.text, torznab.artist, torznab.album, torznab.author, torznab.book_title]
    if torznab.air_date is not None:
        year, month, day = torznab.air_date
        words.append(f"{year} {month:02d} {day:02d}")
    by_id = torznab.imdb_id or torznab.tmdb_id or torznab.tvdb_id
    text = "" if by_id else " ".join(w for w in words if w)
    categories = torznab.categories or _FUNCTION_CATEGORIES.get(torznab.function, ())
    return SearchQuery(
        text=text,
        categories=categories,
        season=torznab.season,
        episode=torznab.episode,
        imdb_id=torznab.imdb_id,
        tmdb_id=torznab.tmdb_id,
        tvdb_id=torznab.tvdb_id,
        year=torznab.year,
        source=None if indexer == ALL else indexer,
        sort=SortOrder.RELEVANCE if text else SortOrder.DATE,
        offset=torznab.offset,
        limit=torznab.limit,
    )


def _caps(request: web.Request) -> Caps:
    categories = tuple(
        Category(cat_id, name, subcats)
        for cat_id, name, subcats in request.app[SERVICES].search.categories()
    )
    return Caps(
        title="Minato",
        version=TORZNAB_VERSION,
        default_limit=DEFAULT_LIMIT,
        max_limit=MAX_LIMIT,
        modes=_MODES,
        categories=categories,
    )


@dataclass(frozen=True, slots=True)
class _Links:
    """What an item's URLs are built from: this server, the indexer asked, the client's key."""

    base: str
    indexer: str
    key: str

    def download(self, info_hash: str) -> str:
        path = f"torznab/{quote(self.indexer, safe='')}/download/{info_hash}.torrent"
        return f"{self.base}{path}?{urlencode({'apikey': self.key})}"

    def details(self, info_hash: str) -> str:
        """The torrent's JSON details; opened from the client's UI, so it carries the key."""
        return f"{self.base}api/torrents/{info_hash}?{urlencode({'apikey': self.key})}"


_CREDIT_ATTRS = {ContentKind.MUSIC: ("artist", "album")}
"""Attribute names of a title's "X - Y" halves; every other credited kind is a book."""
_BOOK_ATTRS = ("author", "booktitle")


def _item(hit: TorrentSummary, links: _Links) -> FeedItem:
    categories = _categories(hit.category)
    seeders, leechers = hit.seeders or 0, hit.leechers or 0
    attrs: list[tuple[str, str | int]] = [("category", c) for c in categories]
    attrs += [
        ("size", hit.size or 0),
        ("seeders", seeders),
        ("leechers", leechers),
        ("peers", seeders + leechers),
        ("infohash", hit.info_hash),
        ("magneturl", hit.magnet),
        ("downloadvolumefactor", 0),
        ("uploadvolumefactor", 1),
    ]
    if hit.file_count:  # 0 means the file list is unknown (magnet-only), not empty
        attrs.append(("files", hit.file_count))
    if hit.imdb_id:
        attrs += [("imdb", hit.imdb_id.removeprefix("tt")), ("imdbid", hit.imdb_id)]
    for name, value in (
        ("tmdbid", hit.tmdb_id),
        ("tvdbid", hit.tvdb_id),
        ("season", hit.season),
        ("episode", hit.episode),
        ("year", hit.year),
        ("resolution", hit.resolution),
        ("video", hit.video_codec),
        ("audio", hit.audio),
        ("team", hit.release_group),
    ):
        if value is not None:
            attrs.append((name, value))
    if hit.languages:
        attrs.append(("language", ", ".join(hit.languages)))
    attrs += _credit_attrs(hit)
    download = links.download(hit.info_hash) if hit.has_metainfo else hit.magnet
    return FeedItem(
        title=hit.title,
        guid=hit.info_hash,
        published=hit.published_at or hit.first_seen or datetime.now(UTC),
        size=hit.size or 0,
        link=download,
        comments=links.details(hit.info_hash),
        enclosure_url=download,
        enclosure_type=TORRENT_TYPE if hit.has_metainfo else MAGNET_TYPE,
        categories=categories,
        attrs=tuple(attrs),
    )


def _credit_attrs(hit: TorrentSummary) -> list[tuple[str, str | int]]:
    """`artist`/`album` or `author`/`booktitle` when the title splits as "X - Y"."""
    split = credit_of(hit)
    if split is None:
        return []
    names = _CREDIT_ATTRS.get(hit.kind, _BOOK_ATTRS) if hit.kind else _BOOK_ATTRS
    return [(names[0], split[0]), (names[1], split[1])]


def _categories(category: int | None) -> tuple[int, ...]:
    """The parent and the subcategory, as clients filter on either."""
    if category is None:
        return (8000,)
    parent = category // 1000 * 1000 if category < 100_000 else category
    return (parent,) if parent == category else (parent, category)


def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}/"


def _xml(
    document: str, content_type: str = "application/xml", *, status: int = 200
) -> web.Response:
    return web.Response(text=document, content_type=content_type, charset="utf-8", status=status)
