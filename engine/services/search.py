"""Search and torrent details: the index finds, the database describes."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from sqlalchemy import Engine

from engine.classify.categories import TORZNAB_CATEGORIES
from engine.classify.credits import split_credit
from engine.classify.titles import clean_title
from engine.errors import BadRequest, NotFound
from engine.metainfo import with_trackers
from engine.models import (
    ContentKind,
    SearchPage,
    SearchQuery,
    SortOrder,
    Torrent,
    TorrentSummary,
)
from engine.search.base import SearchIndex
from engine.store.reads import known_trackers, metainfo_bytes, summaries, torrent_detail
from engine.torrent import normalize_info_hash

MAX_LIMIT = 500
MAX_OFFSET = 100_000
MAX_QUERY_CHARS = 500

_INT_FILTERS = ("year", "season", "episode", "tmdb_id", "tvdb_id")


CREDITED_KINDS = frozenset(
    (ContentKind.MUSIC, ContentKind.EBOOK, ContentKind.AUDIOBOOK, ContentKind.COMIC)
)


def credit_of(hit: TorrentSummary) -> tuple[str, str] | None:
    """(artist, album) for music, (author, book) for books, when the title splits as "X - Y".

    Derived from the title on demand rather than stored: the split is cheap and
    improves without a migration.
    """
    if hit.kind not in CREDITED_KINDS:
        return None
    return split_credit(clean_title(hit.title))


class SearchService:
    """What the JSON API, the CLI and the GUI call to find and show torrents."""

    def __init__(self, index: SearchIndex, reader: Engine) -> None:
        self._index = index
        self._reader = reader

    @staticmethod
    def categories() -> tuple[tuple[int, str, tuple[tuple[int, str], ...]], ...]:
        """The Torznab categories Minato files torrents under: (id, name, subcategories)."""
        return TORZNAB_CATEGORIES

    async def search(self, query: SearchQuery) -> SearchPage:
        """Matching torrents, ordered and paged, hydrated from the database."""
        return await asyncio.to_thread(self.search_sync, query)

    def search_sync(self, query: SearchQuery) -> SearchPage:
        """`search` for callers outside an event loop (CLI, benchmarks)."""
        page = self._index.search(query)
        hashes = [hit.info_hash for hit in page.hits]
        with self._reader.connect() as conn:
            found = summaries(conn, hashes)
        return SearchPage(total=page.total, hits=tuple(found[h] for h in hashes if h in found))

    async def torrent(self, info_hash: str) -> Torrent:
        """Everything about one torrent.

        Raises:
            NotFound: no torrent has this info hash.
            InvalidRecord: `info_hash` is not a hash.
        """
        key = normalize_info_hash(info_hash)
        detail = await asyncio.to_thread(self._detail, key)
        if detail is None:
            raise NotFound(f"no torrent with info hash {key}")
        return detail

    async def metainfo(self, info_hash: str) -> bytes:
        """The kept .torrent file, with every tracker any source reported added.

        The info dictionary is untouched, so the info hash is the torrent's own.

        Raises:
            NotFound: unknown torrent, or no .torrent kept for it.
        """
        key = normalize_info_hash(info_hash)
        data = await asyncio.to_thread(self._metainfo, key)
        if data is None:
            raise NotFound(f"no .torrent file is kept for {key}")
        return data

    def _detail(self, key: str) -> Torrent | None:
        with self._reader.connect() as conn:
            return torrent_detail(conn, key)

    def _metainfo(self, key: str) -> bytes | None:
        with self._reader.connect() as conn:
            data = metainfo_bytes(conn, key)
            trackers = known_trackers(conn, key) if data is not None else ()
        return with_trackers(data, trackers) if data is not None else None


def parse_search_params(params: Mapping[str, str], *, default_limit: int = 50) -> SearchQuery:
    """A `SearchQuery` from URL/CLI parameters; each bad value is named in the error.

    Raises:
        BadRequest: a parameter has a value that cannot be used.
    """
    text = params.get("q", "")
    if len(text) > MAX_QUERY_CHARS:
        raise BadRequest(f"q: longer than {MAX_QUERY_CHARS} characters")
    ints = {name: _int_param(params, name, 0, 10**9) for name in _INT_FILTERS}
    return SearchQuery(
        text=text,
        kinds=_kinds(params.get("kind", "")),
        categories=_categories(params.get("category", "") or params.get("cat", "")),
        year=ints["year"],
        season=ints["season"],
        episode=ints["episode"],
        resolution=params.get("resolution") or None,
        source=params.get("source") or None,
        imdb_id=params.get("imdb_id") or None,
        tmdb_id=ints["tmdb_id"],
        tvdb_id=ints["tvdb_id"],
        sort=_sort(params.get("sort", "")),
        offset=_int_param(params, "offset", 0, MAX_OFFSET) or 0,
        limit=_int_param(params, "limit", 1, MAX_LIMIT) or default_limit,
    )


def _int_param(params: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name}: must be an integer, got {raw[:20]!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name}: must be between {low} and {high}")
    return value


def _kinds(raw: str) -> tuple[ContentKind, ...]:
    kinds = []
    for part in filter(None, (p.strip().lower() for p in raw.split(","))):
        try:
            kinds.append(ContentKind(part))
        except ValueError:
            allowed = ", ".join(k.value for k in ContentKind)
            raise BadRequest(f"kind: unknown kind {part[:20]!r} (use {allowed})") from None
    return tuple(kinds)


def _categories(raw: str) -> tuple[int, ...]:
    cats = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        if not part.isdigit() or len(part) > 7:
            raise BadRequest(f"category: {part[:20]!r} is not a category number")
        cats.append(int(part))
    return tuple(cats)


def _sort(raw: str) -> SortOrder:
    if not raw:
        return SortOrder.RELEVANCE
    try:
        return SortOrder(raw.strip().lower())
    except ValueError:
        allowed = ", ".join(s.value for s in SortOrder)
        raise BadRequest(f"sort: unknown order {raw[:20]!r} (use {allowed})") from None
