"""The Bitmagnet bridge: torrents from a running Bitmagnet's GraphQL API, pulled incrementally.

Configured by URL (`[sites.bitmagnet] mirrors = ["http://host:3333"]`); every request is
a POST to `<mirror>/graphql` through the site's `SiteClient`, so mirrors, proxies,
rate limits and the breaker apply as for any site. `bitmagnet_map` holds the
documents and the reading; this module walks the pages and keeps the state.

How a pass works. Bitmagnet's search has no date filter, so a pass reads
newest-first by `published_at` (ties ordered by info hash, so offsets are stable)
and stops at the first item strictly older than the *watermark*: the newest
`published_at` of the last completed pass, with the info hashes seen at exactly
that time. Items at the watermark's time are read again (a torrent published in
the same second after the last pass is not lost); those the watermark names are
not stored twice.

A pass reads at most `depth` pages per run. After each page is stored, the pass's
cursor (next offset, the newest item when the pass began, the last item read) is
saved in the source state, so a pass cut short — by the depth, an error, a
restart — goes on where it stopped: a first import of a large Bitmagnet takes
several runs but never starts over. Items published meanwhile only push older
ones to higher offsets (some are read twice; the upsert by info hash keeps one
row); the pass resumes one item early, and when that item is no longer the last
one read (Bitmagnet deleted some above it) it steps back a page or more. Only a
completed pass moves the watermark, to the newest item seen when it began; what
was published meanwhile is above it, for the next pass.

Limitation: an item that Bitmagnet publishes with a date older than the watermark
(an import of old torrents into a Bitmagnet already bridged) is not seen by later
passes; deleting the state (`source_state` row "bitmagnet") re-reads everything.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final, TypeVar

from engine.errors import ConfigError, LayoutChanged, RequestFailed
from engine.models import FileEntry, RawRecord
from engine.net.site_client import SiteClient
from engine.pipeline import Pipeline
from engine.scheduler import Job
from engine.site_config import SiteConfig
from engine.sources.api.base import ShapeError
from engine.sources.bitmagnet_map import (
    FILES_PER_REQUEST,
    MAX_FILE_PAGES,
    PAGE_SIZE,
    SOURCE,
    FilesPage,
    GraphQLFailure,
    Item,
    SearchPage,
    files_body,
    parse_files,
    parse_search,
    search_body,
)
from engine.sources.bitmagnet_state import BridgeState, Cursor, take, top_of
from engine.sources.report import (
    Crawler,
    CrawlReport,
    CrawlRequestError,
    Progress,
    ingest,
    latest_job,
    pages_for,
    search_text,
)
from engine.store.sightings import SightingLookup
from engine.store.source_state import SourceStateStore

if TYPE_CHECKING:
    from engine.sources import CrawlDeps

log = logging.getLogger(__name__)

GRAPHQL_PATH: Final = "/graphql"
MODES: Final = ("latest", "search")
MAX_BACKOFF_PAGES: Final = 5
"""Pages a resumed pass steps back at most to find its place after deletions upstream."""
MAX_BATCH_HASHES: Final = 100
T = TypeVar("T")


def file_batches(wanted: Mapping[str, int]) -> list[dict[str, int]]:
    """Torrents grouped so that each TorrentFiles request asks for ~`FILES_PER_REQUEST` files.

    A torrent with more files than that is a batch of its own (read over several pages).
    """
    batches: list[dict[str, int]] = []
    current: dict[str, int] = {}
    for info_hash, files in wanted.items():
        if current and (
            sum(current.values()) + files > FILES_PER_REQUEST or len(current) >= MAX_BATCH_HASHES
        ):
            batches.append(current)
            current = {}
        current[info_hash] = files
    if current:
        batches.append(current)
    return batches


class BitmagnetCrawler:
    """Pulls one Bitmagnet: `latest` is the incremental pass, `search` a query on it."""

    def __init__(
        self,
        config: SiteConfig,
        client: SiteClient,
        pipeline: Pipeline,
        state: SourceStateStore,
        *,
        lookup: SightingLookup | None = None,
    ) -> None:
        self.config = config
        self._client = client
        self._pipeline = pipeline
        self._state = state
        self._lookup = lookup

    async def crawl(
        self,
        mode: str,
        *,
        query: str | None = None,
        category: str | None = None,
        depth: int | None = None,
        crawl_id: str | None = None,
        progress: Progress | None = None,
    ) -> CrawlReport:
        """Run the incremental pass (`latest`) or a search, reading at most `depth` pages.

        Raises:
            CrawlRequestError: a mode other than latest or search, a bad query, a category.
            LayoutChanged: Bitmagnet's answer has another shape, or refused our query.
            NetworkError: Bitmagnet is unreachable, failed (5xx, GraphQL errors) or paused.
        """
        if mode not in MODES:
            raise CrawlRequestError(f"{self.config.id} has no {mode} mode (it has: latest, search)")
        if category:
            raise CrawlRequestError(f"{self.config.id}: categories cannot be browsed")
        text = search_text(query) if mode == "search" else None
        pages = pages_for(self.config, mode, depth)
        report = CrawlReport(site=self.config.id, mode=mode, planned_pages=pages)
        try:
            if text is not None:
                await self._search(text, pages, report, crawl_id, progress)
            else:
                async with _pass_lock(self._state):
                    await self._pass(pages, report, crawl_id, progress)
        finally:
            if crawl_id is not None:
                self._client.end_crawl(crawl_id)
        return report

    async def _pass(
        self, pages: int, report: CrawlReport, crawl_id: str | None, progress: Progress | None
    ) -> None:
        state = BridgeState.from_json(await self._state.load(SOURCE))
        cursor = state.cursor or Cursor(0, None, None)
        for number in range(pages):
            page, cursor = await self._resume(cursor, report, crawl_id, first=number == 0)
            fresh, reached = take(page.items, state.watermark)
            await self._store(fresh, report, crawl_id)
            top = cursor.top or top_of(page.items)
            last = page.items[-1].key if page.items else cursor.last
            cursor = Cursor(cursor.offset + page.size, top, last)
            done = reached or not page.more or page.size == 0
            state = state.finished(top) if done else replace(state, cursor=cursor)
            await self._state.save(SOURCE, state.to_json())  # only after the page is stored
            if progress is not None:
                progress(report)
            if done:
                report.stopped = "reached the watermark" if reached else "last page"
                return
        log.info("bitmagnet: %d pages read; the pass goes on from offset %d", pages, cursor.offset)

    async def _resume(
        self, cursor: Cursor, report: CrawlReport, crawl_id: str | None, *, first: bool
    ) -> tuple[SearchPage, Cursor]:
        """The page at the cursor; a resumed pass re-reads its last item to check its place."""
        if not (first and cursor.last is not None and cursor.offset > 0):
            return await self._search_page(cursor.offset, None, report, crawl_id), cursor
        last = cursor.last
        for _ in range(MAX_BACKOFF_PAGES + 1):
            cursor = replace(cursor, offset=cursor.offset - 1)  # one item of overlap
            page = await self._search_page(cursor.offset, None, report, crawl_id)
            if cursor.offset == 0 or not page.items or page.items[0].key >= last:
                break
            log.info("bitmagnet: items above offset %d were deleted; stepping back", cursor.offset)
            cursor = replace(cursor, offset=max(1, cursor.offset + 1 - PAGE_SIZE))
        return page, cursor

    async def _search(
        self,
        text: str,
        pages: int,
        report: CrawlReport,
        crawl_id: str | None,
        progress: Progress | None,
    ) -> None:
        offset = 0
        for _ in range(pages):
            page = await self._search_page(offset, text, report, crawl_id)
            await self._store(page.items, report, crawl_id)
            if progress is not None:
                progress(report)
            offset += page.size
            if not page.more or page.size == 0:
                report.stopped = "last page"
                return

    async def _search_page(
        self, offset: int, text: str | None, report: CrawlReport, crawl_id: str | None
    ) -> SearchPage:
        page = await self._ask(search_body(offset, query=text), parse_search, report, crawl_id)
        report.pages += 1
        report.rows += page.size
        report.bad_rows += page.bad_rows
        for reason in page.errors:
            log.debug("bitmagnet: skipped an item at offset %d: %s", offset, reason)
        if page.size and page.bad_rows * 2 > page.size:
            why = "; ".join(page.errors[:2])
            url = self._url()
            raise LayoutChanged(
                self.config.id, url, f"{page.bad_rows} of {page.size} items did not parse ({why})"
            )
        return page

    async def _store(
        self, items: Sequence[Item], report: CrawlReport, crawl_id: str | None
    ) -> None:
        if items:
            await ingest(self._pipeline, await self._with_files(items, report, crawl_id), report)

    async def _with_files(
        self, items: Sequence[Item], report: CrawlReport, crawl_id: str | None
    ) -> list[RawRecord]:
        """The items' records, each multi-file torrent with its files (known ones skipped)."""
        wanted = {item.info_hash: item.files_wanted for item in items if item.files_wanted}
        if wanted and self._lookup is not None:
            known = await asyncio.to_thread(self._lookup.by_hash, SOURCE, list(wanted))
            wanted = {h: n for h, n in wanted.items() if not (h in known and known[h].has_files)}
        found: dict[str, list[tuple[int, FileEntry]]] = {}
        for batch in file_batches(wanted):
            found.update(await self._files(batch, report, crawl_id))
        return [
            replace(item.record, files=tuple(entry for _, entry in sorted(found[item.info_hash])))
            if found.get(item.info_hash)
            else item.record
            for item in items
        ]

    async def _files(
        self, batch: dict[str, int], report: CrawlReport, crawl_id: str | None
    ) -> dict[str, list[tuple[int, FileEntry]]]:
        """Up to `batch[hash]` files of each torrent of the batch, lowest index first."""
        got: dict[str, list[tuple[int, FileEntry]]] = {info_hash: [] for info_hash in batch}
        offset = 0
        for _ in range(MAX_FILE_PAGES):
            body = files_body(list(batch), offset, FILES_PER_REQUEST)
            page: FilesPage = await self._ask(
                body, lambda data: parse_files(data, batch), report, crawl_id
            )
            for info_hash, entries in page.files.items():
                room = batch[info_hash] - len(got[info_hash])
                got[info_hash].extend(entries[: max(room, 0)])
            offset += page.size
            full = all(len(got[h]) >= n for h, n in batch.items())
            if full or not page.more or page.size == 0:
                break
        return got

    async def _ask(
        self,
        body: dict[str, Any],
        parse: Callable[[Any], T],
        report: CrawlReport,
        crawl_id: str | None,
    ) -> T:
        """POST one GraphQL document and read its answer with `parse`.

        Raises:
            LayoutChanged: not JSON, the wrong shape, or a query Bitmagnet's schema refuses.
            RequestFailed: an error status, or GraphQL errors from executing the query.
            NetworkError: from the client (unreachable, 5xx after retries, paused).
        """
        began = time.perf_counter()
        try:
            response = await self._client.post_json(GRAPHQL_PATH, body, crawl_id=crawl_id)
        finally:
            report.network_s += time.perf_counter() - began
        began = time.perf_counter()
        try:
            return await asyncio.to_thread(_decode, response.body, parse)
        except GraphQLFailure as exc:
            if exc.schema_mismatch:
                raise LayoutChanged(
                    self.config.id, response.url, f"Bitmagnet refused the query: {exc}"
                ) from None
            raise RequestFailed(self.config.id, f"Bitmagnet answered with errors: {exc}") from None
        except ShapeError as exc:
            if response.status >= 400:
                raise RequestFailed(
                    self.config.id,
                    f"HTTP {response.status} for {response.url} (is this Bitmagnet's address?)",
                ) from None
            raise LayoutChanged(self.config.id, response.url, str(exc)) from None
        finally:
            report.parse_s += time.perf_counter() - began

    def _url(self) -> str:
        return f"{self._client.mirrors.current()}{GRAPHQL_PATH}"


def bitmagnet_crawler(config: SiteConfig, deps: CrawlDeps) -> Crawler:
    """The bridge's crawler for `minato crawl bitmagnet` and the live search.

    Raises:
        ConfigError: the site is disabled or has no mirrors, or the engine has no state store.
    """
    if deps.state is None:
        raise ConfigError(f"sites.{config.id}: the Bitmagnet bridge needs the source state store")
    return BitmagnetCrawler(
        config, deps.site_client(config), deps.pipeline, deps.state, lookup=deps.lookup
    )


def bitmagnet_source(config: SiteConfig, deps: CrawlDeps) -> Job:
    """The scheduled job: one incremental pass of `depth` pages per run, with heartbeats."""
    return latest_job(bitmagnet_crawler(config, deps))


# ------------------------------------------------------------------ helpers

_LOCKS: weakref.WeakKeyDictionary[SourceStateStore, asyncio.Lock] = weakref.WeakKeyDictionary()


def _pass_lock(store: SourceStateStore) -> asyncio.Lock:
    """One pass at a time per engine: a scheduled run and `minato crawl` share one cursor."""
    lock = _LOCKS.get(store)
    if lock is None:
        lock = _LOCKS[store] = asyncio.Lock()
    return lock


def _decode(body: bytes, parse: Callable[[Any], T]) -> T:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        start = body[:60].decode("utf-8", "replace")
        raise ShapeError(f"the answer is not JSON ({str(exc)[:80]}): {start!r}") from None
    return parse(data)
