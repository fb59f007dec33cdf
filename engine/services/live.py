"""Live search: ask every searchable site for a query at once, answer within a deadline.

A new install has an empty index, and Sonarr asks for one exact episode no crawl
has seen. `LiveSearch` fans the query out to every enabled source that can search,
in parallel, each under its own deadline and all under a global one. Sources
store what they find through the normal pipeline (the crawlers do it), so the
next identical query is answered from the index.

Why it never waits where it need not:

* a source whose circuit breaker is open is skipped at once: no request, no wait;
* a failing or blocked source is an outcome with its error, not an exception
  that breaks the others;
* when a deadline passes the answer goes out with what arrived; the crawls still
  running go on in the background (capped by `background_limit_s`), store their
  results, and log themselves as late.

Outcomes stream (`stream`) so the window can show rows as sources answer; `run`
collects them. `needs_live` decides whether a query needs the sites at all: the
index is thin, or the query was not asked live within the TTL.

This module does not know `Core`: it gets its sources through `LiveSources`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from engine.errors import MinatoError
from engine.models import LiveStatus as Status
from engine.models import SourceOutcome
from engine.net.breaker import BreakerRegistry
from engine.site_config import SiteConfig
from engine.sources.api.base import ApiSource
from engine.sources.bitmagnet_map import SOURCE as BITMAGNET
from engine.sources.html.parse import HtmlSite
from engine.sources.report import Crawler, CrawlReport, search_text
from engine.store.live_searches import LiveSearchRow, LiveSearchStore, normalize_query

__all__ = [
    "LiveAnswer",
    "LiveSearch",
    "LiveSearchRow",
    "LiveSources",
    "SourceOutcome",
    "Status",
    "searchable_sites",
]

log = logging.getLogger(__name__)

DEFAULT_SOURCE_DEADLINE_S: Final = 8.0
DEFAULT_GLOBAL_DEADLINE_S: Final = 10.0
DEFAULT_BACKGROUND_LIMIT_S: Final = 120.0
"""A crawl left running after the answer is cancelled past this: a hung site is not kept."""
DEFAULT_MIN_RESULTS: Final = 20
DEFAULT_TTL: Final = timedelta(hours=6)
DEFAULT_THIN_RETRY: Final = timedelta(minutes=30)
"""A thin answer is asked live again after this (capped by the TTL), not at every search:
an episode no site has would otherwise cost Sonarr the whole deadline each time."""
SEARCH_DEPTH: Final = 1
"""Pages per source: the first page holds the best matches, and one page keeps it fast."""

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LiveSources(Protocol):
    """Where live search finds its sources (the engine's crawl side implements it)."""

    async def searchable_sources(
        self, categories: Sequence[int] = (), *, by: str = "text"
    ) -> Sequence[str]:
        """Ids of the enabled sources that can search, by text or (`by="imdb"`) by IMDb id.

        Args:
            categories: Torznab categories asked (empty: any); a source that carries
                none of them (a movies-only API for a TV search) is left out.
            by: "text" or "imdb", what the source's search takes.
        """
        ...

    async def live_crawler(self, source: str, categories: Sequence[int] = ()) -> Crawler:
        """The crawler of one source, told the categories when the source can filter by them.

        Raises:
            MinatoError: it cannot be made (unknown or disabled source).
        """
        ...


def searchable_sites(
    sites: Mapping[str, SiteConfig],
    html_sites: Mapping[str, HtmlSite],
    api_sources: Mapping[str, ApiSource],
    categories: Sequence[int] = (),
    *,
    by: str = "text",
) -> list[str]:
    """The enabled HTML sites, JSON APIs and Bitmagnet bridge that have a search mode, by id.

    Given the crawl side's parts rather than the crawl side itself, so the engine's
    `Crawling` can call it without this module importing the engine's assembly.

    Args:
        sites: every site's settings (disabled ones and those without mirrors are skipped).
        html_sites: the HTML sites by id.
        api_sources: the JSON APIs by id.
        categories: Torznab categories asked; an API that carries none of them (YTS,
            movies only, for a TV search) is left out. Empty: any.
        by: "text" for the sources searched by words, "imdb" for those searched by an
            IMDb id (EZTV), which a text query would only make fail.
    """
    found: list[str] = []
    for site_id, config in sorted(sites.items()):
        if not config.enabled or not config.mirrors:
            continue
        html, api = html_sites.get(site_id), api_sources.get(site_id)
        if api is not None:
            if "search" in api.modes and api.searches_by == by and _carries(api, categories):
                found.append(site_id)
        elif by == "text" and (
            (html is not None and "search" in html.definition.modes()) or site_id == BITMAGNET
        ):
            found.append(site_id)
    return found


def _carries(api: ApiSource, categories: Sequence[int]) -> bool:
    """Whether the API holds any of `categories` (their top level; custom ids match any)."""
    if api.carries is None or not categories:
        return True
    wanted = {c // 1000 * 1000 if c < 10_000 else None for c in categories}
    return None in wanted or bool(wanted & api.carries)


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveAnswer:
    """Every source's outcome of one live search, in the order they arrived."""

    query: str
    outcomes: tuple[SourceOutcome, ...]

    @property
    def results(self) -> int:
        """Records returned by the sources that answered in time."""
        return sum(o.results for o in self.outcomes)

    @property
    def new(self) -> int:
        """Torrents new to the index among them."""
        return sum(o.new for o in self.outcomes)

    def by_source(self) -> dict[str, SourceOutcome]:
        """The outcomes by source id."""
        return {o.source: o for o in self.outcomes}


@dataclass(slots=True)
class _FanOut:
    """The shared state of one fan-out between the consumer and the crawl tasks.

    A crawl that ends hands its outcome to the queue while the consumer still
    waits for it, or logs it itself as late once the consumer gave up on it. The
    check and the hand-over run without an await in between, so no outcome is
    both streamed and logged late, nor lost.
    """

    query: str
    began: float
    """`time.monotonic()` when the fan-out started."""
    queue: asyncio.Queue[SourceOutcome] = field(default_factory=asyncio.Queue)
    given_up: set[str] = field(default_factory=set)
    categories: tuple[int, ...] = ()
    """The Torznab categories asked, for sources that filter by them."""
    asked_as: dict[str, str] = field(default_factory=dict)
    """Sources asked something other than the text: an IMDb id, by source."""


class LiveSearch:
    """Fans a text query out to the searchable sources; streams their outcomes; logs each."""

    def __init__(
        self,
        sources: LiveSources,
        store: LiveSearchStore,
        *,
        breakers: BreakerRegistry | None = None,
        source_deadline_s: float = DEFAULT_SOURCE_DEADLINE_S,
        global_deadline_s: float = DEFAULT_GLOBAL_DEADLINE_S,
        background_limit_s: float = DEFAULT_BACKGROUND_LIMIT_S,
        min_results: int = DEFAULT_MIN_RESULTS,
        ttl: timedelta = DEFAULT_TTL,
        thin_retry: timedelta = DEFAULT_THIN_RETRY,
        clock: Clock = _utc_now,
    ) -> None:
        if source_deadline_s <= 0 or global_deadline_s <= 0 or background_limit_s <= 0:
            raise ValueError("live search deadlines must be positive")
        self._sources = sources
        self._store = store
        self._breakers = breakers
        self._source_deadline_s = source_deadline_s
        self._global_deadline_s = global_deadline_s
        self._background_limit_s = max(background_limit_s, source_deadline_s)
        self._min_results = min_results
        self._ttl = ttl
        self._thin_retry = min(thin_retry, ttl)
        self._clock = clock
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    async def recent(self, limit: int = 50, *, query: str | None = None) -> list[LiveSearchRow]:
        """What the sources answered lately, newest first (`/api/search/live-status`).

        Args:
            limit: rows wanted (the store caps it).
            query: only this query (normalized as the log keys it); None: every query.
        """
        return await self._store.latest(limit, query=normalize_query(query) if query else None)

    # --- deciding -------------------------------------------------------------------------

    async def needs_live(self, query: str, local_results: int) -> bool:
        """True when `query` should go to the sites: thin in the index, or stale.

        Never asked live: yes. The index has fewer than `min_results` for it: yes once
        the last live ask is `thin_retry` old (a search for something no site has must
        not wait on the sites every time). Otherwise: yes once it is `ttl` old.

        Args:
            query: the text asked (normalized as the log keys it).
            local_results: how many results the local index has for it.
        """
        if not normalize_query(query):
            return False  # an RSS-style empty query never fans out
        last = await self._store.last_searched(query)
        if last is None:
            return True
        age = self._clock() - last
        return age >= (self._thin_retry if local_results < self._min_results else self._ttl)

    # --- searching ------------------------------------------------------------------------

    async def run(
        self,
        query: str,
        *,
        categories: Sequence[int] = (),
        only: str | None = None,
        imdb_id: str | None = None,
    ) -> LiveAnswer:
        """Every outcome of `stream(query)`, once the last arrived or a deadline passed.

        Raises:
            CrawlRequestError: the query is empty, too long or not one printable line.
        """
        outcomes = [
            o async for o in self.stream(query, categories=categories, only=only, imdb_id=imdb_id)
        ]
        return LiveAnswer(query=search_text(query), outcomes=tuple(outcomes))

    async def stream(
        self,
        query: str,
        *,
        categories: Sequence[int] = (),
        only: str | None = None,
        imdb_id: str | None = None,
    ) -> AsyncIterator[SourceOutcome]:
        """Each source's outcome as it arrives: skipped ones first, then answers and failures.

        Ends when every source has answered or failed, or its deadline passed (a
        TIMED_OUT outcome, logged as such; that crawl goes on in the background and
        logs its answer again as late). Leaving the loop early leaves the crawls to
        the background too.

        Args:
            query: the text the sites are asked.
            categories: Torznab categories wanted: sources that carry none of them are
                not asked, and sources that filter by category are told them.
            only: ask this one source (a Torznab indexer path names one), if it searches.
            imdb_id: the IMDb id the query is about, if known: the sources searched by
                IMDb id (EZTV) are asked with it; without one they are not asked.

        Raises:
            CrawlRequestError: the query is empty, too long or not one printable line.
            RuntimeError: the service is closed.
        """
        text = search_text(query)
        if self._closed:
            raise RuntimeError("live search is closed")
        fan = _FanOut(query=text, began=time.monotonic(), categories=tuple(categories))
        sources = list(await self._sources.searchable_sources(categories))
        if imdb_id:
            for source in await self._sources.searchable_sources(categories, by="imdb"):
                fan.asked_as[source] = imdb_id
                sources.append(source)
        pending: dict[str, float] = {}
        for source in dict.fromkeys(sources):
            if only is not None and source != only:
                continue
            paused = self._paused_for(source)
            if paused is not None:
                outcome = SourceOutcome(source=source, status=Status.SKIPPED, error=paused)
                await self._log(fan, outcome, late=False)
                yield outcome
                continue
            pending[source] = time.monotonic() + self._source_deadline_s
            self._spawn(self._crawl(fan, source), name=f"live-search:{source}")
        global_deadline = fan.began + self._global_deadline_s
        try:
            while pending:
                for outcome in await self._next(fan, pending, global_deadline):
                    yield outcome
        finally:
            self._give_up(fan, pending)

    async def _next(
        self, fan: _FanOut, pending: dict[str, float], global_deadline: float
    ) -> list[SourceOutcome]:
        """The next outcomes: the one that arrives first, else those whose deadline passed."""
        until = min(global_deadline, *pending.values())
        try:
            async with asyncio.timeout(max(0.0, until - time.monotonic())):
                arrived = [await fan.queue.get()]
        except TimeoutError:
            # an outcome may have landed just as the timer fired: it is in time
            arrived = list(self._drain(fan).values())
            for outcome in arrived:
                pending.pop(outcome.source, None)
            expired = self._expire(fan, pending, global_deadline)
            return [*await self._logged(fan, arrived), *await self._logged(fan, expired)]
        pending.pop(arrived[0].source, None)
        return await self._logged(fan, arrived)

    async def _logged(self, fan: _FanOut, outcomes: list[SourceOutcome]) -> list[SourceOutcome]:
        for outcome in outcomes:
            await self._log(fan, outcome, late=False)
        return outcomes

    def _expire(
        self, fan: _FanOut, pending: dict[str, float], global_deadline: float
    ) -> list[SourceOutcome]:
        """Give up on the sources past their deadline (all of them past the global one)."""
        now = time.monotonic()
        overdue = [s for s, due in pending.items() if now >= min(due, global_deadline)]
        for source in overdue:
            del pending[source]
            fan.given_up.add(source)
        return [self._timed_out(fan, source) for source in overdue]

    def _drain(self, fan: _FanOut) -> dict[str, SourceOutcome]:
        found: dict[str, SourceOutcome] = {}
        while not fan.queue.empty():
            outcome = fan.queue.get_nowait()
            found[outcome.source] = outcome
        return found

    def _timed_out(self, fan: _FanOut, source: str) -> SourceOutcome:
        return SourceOutcome(
            source=source,
            status=Status.TIMED_OUT,
            duration_s=time.monotonic() - fan.began,
            error="no answer before the deadline; still searching in the background",
        )

    def _give_up(self, fan: _FanOut, pending: Mapping[str, float]) -> None:
        """The consumer leaves: the crawls still out log themselves, and queued ones are logged.

        Runs in a `finally` that may be reached by a garbage-collected generator, so it
        only spawns tasks, never awaits.
        """
        fan.given_up.update(pending)
        for outcome in self._drain(fan).values():
            self._spawn(self._log(fan, outcome, late=False), name=f"live-log:{outcome.source}")

    async def _crawl(self, fan: _FanOut, source: str) -> None:
        """Search one source, then hand the outcome over (or log it as late)."""
        query = fan.asked_as.get(source, fan.query)
        outcome = await self._search_one(query, source, fan.categories)
        if source in fan.given_up:
            await self._log(fan, outcome, late=True)
            log.info(
                "live search %r: %s answered late (%d results, %d new, %.1f s)",
                fan.query, source, outcome.results, outcome.new, outcome.duration_s,
            )  # fmt: skip
        else:
            fan.queue.put_nowait(outcome)

    async def _search_one(
        self, query: str, source: str, categories: Sequence[int]
    ) -> SourceOutcome:
        """One source's search, whatever happens, as an outcome (never an exception).

        A source's failure is data for the answer and the log, not a reason to fail
        the others; an unexpected error is logged as a bug with its stack, since it
        is ours and not the site's.
        """
        began = time.monotonic()
        crawl_id = f"{source}:live:{uuid.uuid4().hex[:8]}"
        try:
            async with asyncio.timeout(self._background_limit_s):
                crawler = await self._sources.live_crawler(source, categories)
                report = await crawler.crawl(
                    "search", query=query, depth=SEARCH_DEPTH, crawl_id=crawl_id
                )
        except MinatoError as exc:
            return _failed(source, exc.user_message, began)
        except TimeoutError:
            return _failed(source, f"no answer in {self._background_limit_s:.0f} s", began)
        except Exception as exc:
            log.exception("BUG: live search of %s failed unexpectedly", source)
            return _failed(source, f"internal error: {type(exc).__name__}", began)
        return _answered(source, report, began)

    def _paused_for(self, source: str) -> str | None:
        """Why `source` must not be asked now (its breaker is open), or None.

        Reads the breaker without `before_request`, which would claim the half-open
        probe: the crawl itself does that when it is let through.
        """
        if self._breakers is None or source not in self._breakers:
            return None
        wait_s = self._breakers.get(source).retry_after()
        if wait_s <= 0:
            return None
        return f"paused after repeated failures; next try in {wait_s:.0f} s"

    async def _log(self, fan: _FanOut, outcome: SourceOutcome, *, late: bool) -> None:
        """Record one outcome in the query log (a log failure never fails the search)."""
        row = LiveSearchRow(
            query=fan.query,
            source=outcome.source,
            searched_at=self._clock(),
            results=outcome.results,
            new=outcome.new,
            duration_s=outcome.duration_s,
            error=outcome.error,
            late=late,
        )
        try:
            await self._store.record(row)
        except MinatoError as exc:
            log.warning("live search %r: cannot log %s: %s", fan.query, outcome.source, exc)

    # --- background tasks -------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None], *, name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def running(self) -> int:
        """Crawls and log writes still out (late crawls included)."""
        return len(self._tasks)

    async def wait_idle(self) -> None:
        """Wait until every crawl and log write still out has ended (late ones included)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancel what is still running and wait for it: no task outlives the service."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _answered(source: str, report: CrawlReport, began: float) -> SourceOutcome:
    return SourceOutcome(
        source=source,
        status=Status.ANSWERED,
        results=report.rows,
        new=report.new,
        duration_s=time.monotonic() - began,
    )


def _failed(source: str, error: str, began: float) -> SourceOutcome:
    return SourceOutcome(
        source=source,
        status=Status.FAILED,
        error=error[:500],
        duration_s=time.monotonic() - began,
    )
