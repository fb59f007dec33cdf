"""Search and torrent details: the index finds, the database describes."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Engine

from engine.classify.categories import TORZNAB_CATEGORIES
from engine.classify.credits import split_credit
from engine.classify.titles import HEIGHTS, clean_title
from engine.errors import BadRequest, NotFound
from engine.metainfo import with_trackers
from engine.models import (
    ContentKind,
    LiveMode,
    SearchPage,
    SearchQuery,
    SortOrder,
    SourceOutcome,
    Torrent,
    TorrentSummary,
)
from engine.search.base import SearchIndex
from engine.services.live import LiveSearch
from engine.services.search_plan import LivePlan, NameResolver, conflicts, plan_live
from engine.sources.report import CrawlRequestError
from engine.store.live_searches import normalize_query
from engine.store.reads import known_trackers, metainfo_bytes, summaries, torrent_detail
from engine.torrent import normalize_info_hash

MAX_LIMIT = 500
MAX_OFFSET = 100_000
MAX_QUERY_CHARS = 500
MERGE_WINDOW = 1000
SHARED_WAIT_S = 60.0
"""The longest an identical search waits on a fan-out under way (which ends at its deadline)."""
"""An id search merged with its name search reads this many results of each at most."""

log = logging.getLogger(__name__)

_E = TypeVar("_E", bound=StrEnum)

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


@dataclass(frozen=True, slots=True)
class SearchUpdate:
    """One step of a progressive search (`SearchService.search_stream`)."""

    page: SearchPage
    """The results so far: the index's, read again after each source that found some."""
    outcome: SourceOutcome | None
    """The source whose answer brought this step; None for the local answer and the last."""
    done: bool
    """True on the last step: every source answered or its deadline passed."""


@dataclass(slots=True)
class _FanOutUnderWay:
    """A live fan-out under way, for identical searches arriving meanwhile."""

    ended: asyncio.Event = field(default_factory=asyncio.Event)
    outcomes: list[SourceOutcome] = field(default_factory=list)


class SearchService:
    """What the JSON API, Torznab, the CLI and the GUI call to find and show torrents.

    Searches read the local index. With `live` (search-through), a query the index
    is thin or stale for is also sent to every searchable site at once (through
    `LiveSearch`); what they find is stored by the normal pipeline, the index is
    brought up to date (`catch_up`, the outbox drain) and read again, so the answer
    holds local and live results alike, deduplicated by info hash.
    """

    def __init__(
        self,
        index: SearchIndex,
        reader: Engine,
        *,
        live: LiveSearch | None = None,
        catch_up: Callable[[], int] | None = None,
        names: NameResolver | None = None,
    ) -> None:
        """Wire the index, the database and the live side.

        Args:
            index: the search index.
            reader: the database's read engine (results are hydrated from it).
            live: the fan-out to the sites; None: searches never go live.
            catch_up: indexes what was stored and not yet indexed (the drainer's
                `catch_up`), run after a fan-out so the index holds what it found.
            names: turns ids into a name for the sites (id searches); None: no names.
        """
        self._index = index
        self._reader = reader
        self._live = live
        self._catch_up = catch_up
        self._names = names
        self._fan_outs: dict[tuple[object, ...], _FanOutUnderWay] = {}

    @staticmethod
    def categories() -> tuple[tuple[int, str, tuple[tuple[int, str], ...]], ...]:
        """The Torznab categories Minato files torrents under: (id, name, subcategories)."""
        return TORZNAB_CATEGORIES

    @staticmethod
    def resolutions() -> tuple[str, ...]:
        """The resolution values the classifier stores, highest first ("2160p", "1080p"...)."""
        return tuple(f"{height}p" for height in HEIGHTS)

    async def search(self, query: SearchQuery, *, live: LiveMode = LiveMode.OFF) -> SearchPage:
        """Matching torrents, ordered and paged, hydrated from the database.

        Args:
            query: what to find.
            live: OFF reads the index alone; AUTO also asks the sites when the query
                was not asked live within the TTL (within the thin retry when the index
                has fewer results than the minimum: `LiveSearch.needs_live`); ALWAYS asks
                them every time. Only the first page goes live; an identical search
                arriving meanwhile waits for the fan-out under way instead of asking again.
        """
        page = SearchPage(total=0, hits=())
        async for update in self._updates(query, live, progressive=False):
            page = update.page  # the last one is the answer
        return page

    async def search_stream(
        self, query: SearchQuery, *, live: LiveMode = LiveMode.AUTO
    ) -> AsyncIterator[SearchUpdate]:
        """`search`, step by step, for a window that shows rows as they come.

        The local answer at once; when the search goes live, a new page after each
        source's answer (with its outcome), then a last `done` step. A window searching
        as the user types asks with OFF per keystroke and AUTO once typing pauses, so
        no half-typed word is sent to the sites.
        """
        async for update in self._updates(query, live, progressive=True):
            yield update

    def search_sync(self, query: SearchQuery) -> SearchPage:
        """`search` of the index alone, for callers outside an event loop (CLI, benchmarks)."""
        return self._read_sync(query, None)

    async def _updates(
        self, query: SearchQuery, mode: LiveMode, *, progressive: bool
    ) -> AsyncIterator[SearchUpdate]:
        plan = await self._plan(query, mode)
        fallback = plan.fallback if plan is not None else None
        page = await asyncio.to_thread(self._read_sync, query, fallback)
        live = self._live
        if plan is None or live is None or query.offset > 0:  # only the first page goes live
            yield SearchUpdate(page, None, True)
            return
        if not await self._goes_live(plan, page, mode):
            yield SearchUpdate(page, None, True)
            return
        page = dataclasses.replace(page, live_text=plan.text)
        key = (normalize_query(plan.text), query.categories, query.source, plan.imdb_id)
        same = self._fan_outs.get(key)
        if same is not None and not progressive:
            # The same fan-out is under way (Sonarr and Prowlarr asking at once): the
            # sites are not asked twice; its results are read once it ends.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SHARED_WAIT_S):
                    await same.ended.wait()
            page = await self._read_after_live(query, fallback, plan.text)
            yield SearchUpdate(dataclasses.replace(page, live=tuple(same.outcomes)), None, True)
            return
        shared = self._fan_outs[key] = _FanOutUnderWay()
        if progressive:
            yield SearchUpdate(page, None, False)
        try:
            async for outcome in live.stream(
                plan.text, categories=query.categories, only=query.source, imdb_id=plan.imdb_id
            ):
                shared.outcomes.append(outcome)
                if progressive:
                    if outcome.results:
                        page = await self._read_after_live(query, fallback, plan.text)
                    yield SearchUpdate(
                        dataclasses.replace(page, live=tuple(shared.outcomes)), outcome, False
                    )
        except CrawlRequestError as exc:  # words no site accepts: the index answers alone
            log.info("live search skipped for %r: %s", plan.text[:80], exc)
        except RuntimeError:  # closed while the engine shuts down
            log.info("live search skipped for %r: the engine is closing", plan.text[:80])
        finally:
            shared.ended.set()
            if self._fan_outs.get(key) is shared:
                del self._fan_outs[key]
        if not progressive:  # progressive: the page was read again after each source's rows
            page = await self._read_after_live(query, fallback, plan.text)
        yield SearchUpdate(dataclasses.replace(page, live=tuple(shared.outcomes)), None, True)

    async def _plan(self, query: SearchQuery, mode: LiveMode) -> LivePlan | None:
        """The live plan (its name search too), unless the caller wants the index alone.

        Made for every page, so that page 2 of an id search merges the same name
        matches as page 1; only the first page may go live (`_goes_live`).
        """
        if mode is LiveMode.OFF:
            return None
        return await plan_live(query, self._names)

    async def _goes_live(self, plan: LivePlan, local: SearchPage, mode: LiveMode) -> bool:
        """Whether the sites are asked: words to send, and ALWAYS or a thin or stale index."""
        if self._live is None or not plan.text:
            return False
        return mode is LiveMode.ALWAYS or await self._live.needs_live(plan.text, local.total)

    async def _read_after_live(
        self, query: SearchQuery, fallback: SearchQuery | None, text: str
    ) -> SearchPage:
        """The index read again once it holds what the sources stored."""
        if self._catch_up is not None:
            await asyncio.to_thread(self._catch_up)
        page = await asyncio.to_thread(self._read_sync, query, fallback)
        return dataclasses.replace(page, live_text=text)

    def _read_sync(self, query: SearchQuery, fallback: SearchQuery | None) -> SearchPage:
        """One page from the index; with a fallback (an id search by name), both merged.

        The id matches come first, then the name's matches that are not among them and
        whose own ids do not contradict the query's. Merging reads the first
        `MERGE_WINDOW` results of each; deeper pages are the id matches alone.
        """
        if fallback is None or query.offset + query.limit > MERGE_WINDOW:
            page = self._index.search(query)
            return SearchPage(total=page.total, hits=self._hydrate(h.info_hash for h in page.hits))
        window = query.offset + query.limit
        by_id = self._index.search(dataclasses.replace(query, offset=0, limit=window))
        by_name = self._index.search(dataclasses.replace(fallback, offset=0, limit=window))
        first = self._hydrate(h.info_hash for h in by_id.hits)
        known = {hit.info_hash for hit in first}
        extra = [
            hit
            for hit in self._hydrate(h.info_hash for h in by_name.hits if h.info_hash not in known)
            if not conflicts(hit, query)
        ]
        unread = max(0, by_name.total - len(by_name.hits))  # beyond the window: not checked
        merged = (*first, *extra)
        return SearchPage(
            total=by_id.total + len(extra) + unread,
            hits=merged[query.offset : query.offset + query.limit],
        )

    def _hydrate(self, hashes: Iterable[str]) -> tuple[TorrentSummary, ...]:
        """Summaries of `hashes` from the database, in order (ones gone since are skipped)."""
        wanted = list(hashes)
        with self._reader.connect() as conn:
            found = summaries(conn, wanted)
        return tuple(found[h] for h in wanted if h in found)

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


def parse_live_mode(raw: str) -> LiveMode:
    """`live=` of a search request: off (default), auto or always; anything else is named.

    Raises:
        BadRequest: not one of the three.
    """
    return _choice(raw, LiveMode, LiveMode.OFF, "live", "mode")


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
    return _choice(raw, SortOrder, SortOrder.RELEVANCE, "sort", "order")


def _choice(raw: str, choices: type[_E], default: _E, name: str, what: str) -> _E:
    """One of `choices` by value (any case), `default` when blank, else a BadRequest naming it."""
    if not raw.strip():
        return default
    try:
        return choices(raw.strip().lower())
    except ValueError:
        allowed = ", ".join(c.value for c in choices)
        raise BadRequest(f"{name}: unknown {what} {raw[:20]!r} (use {allowed})") from None
