"""Crawling an HTML site: listing pages to a depth, their detail pages, into the pipeline.

One crawl walks the listings of a mode (`latest`: the newest listings, on the
schedule; `browse`: a category; `search`: a query, on demand), page after page by
the site's "next" link or its `{page}` path, up to a depth. For each page it reads
the detail pages the listing needs (the info hash, files, description), at most
`detail_concurrency` at a time, and skips those of torrents it already knows with
files, or read recently; then the page's records go through the pipeline. A page
that brings nothing new ends `latest` and `browse` early: what follows is older.

Every request goes through the site's `SiteClient` (mirrors, proxies, rate
limits, breaker). A page that cannot be the site's listing stops the crawl with
`LayoutChanged` instead of storing junk; what earlier pages found is kept.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import quote, quote_plus, urlsplit

from engine.errors import AllMirrorsDown, LayoutChanged, RequestFailed, ResponseTooLarge
from engine.models import RawRecord
from engine.net.clients import FetchedResponse
from engine.net.site_client import SiteClient
from engine.pipeline import Pipeline
from engine.site_config import SiteConfig
from engine.sources.html.definition import MODES
from engine.sources.html.filters import FieldError, FilterContext, make_step
from engine.sources.html.parse import Detail, HtmlSite, ListingPage, Row
from engine.sources.report import (
    CrawlReport,
    CrawlRequestError,
    Progress,
    ingest,
    pages_for,
    search_text,
)
from engine.store.sightings import KnownTorrent, SightingLookup

log = logging.getLogger(__name__)

_INFO_HASH = make_step("info_hash")
_TRUNCATED: Final = ("...", "\u2026")


_Known = dict[str, KnownTorrent]


class HtmlCrawler:
    """Crawls one site with its definition; holds no per-crawl state (crawls may overlap)."""

    def __init__(
        self,
        site: HtmlSite,
        config: SiteConfig,
        client: SiteClient,
        pipeline: Pipeline,
        lookup: SightingLookup | None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.site = site
        self.config = config
        self._client = client
        self._pipeline = pipeline
        self._lookup = lookup
        self._clock = clock
        self._canonical = config.mirrors[0] if config.mirrors else ""

    # ------------------------------------------------------------------ planning

    def start_paths(self, mode: str, *, query: str | None, category: str | None) -> list[str]:
        """The first listing path(s) of a mode, with `{page}` left for `page_path`.

        Raises:
            CrawlRequestError: unknown mode, a mode the site lacks, or a bad query.
        """
        definition = self.site.definition
        if mode not in MODES:
            raise CrawlRequestError(f"unknown mode {mode!r} (use one of {', '.join(MODES)})")
        if mode not in definition.modes():
            have = ", ".join(definition.modes())
            raise CrawlRequestError(f"{self.site.id} has no {mode} listing (it has: {have})")
        if mode == "latest":
            return list(definition.latest)
        if mode == "search":
            text = search_text(query)
            return [(definition.search or "").replace("{query}", self._encode(text))]
        categories = [category] if category else list(definition.browse_categories)
        if not categories:
            raise CrawlRequestError(f"{self.site.id}: browse needs a category")
        paths = []
        for name in categories:
            if not name or len(name) > 64 or not name.isprintable() or "/" in name:
                raise CrawlRequestError(f"{name!r} is not a category name")
            paths.append((definition.browse or "").replace("{category}", quote(name, safe="")))
        return paths

    def _encode(self, text: str) -> str:
        encoding = self.site.definition.query_encoding
        if encoding == "percent":
            return quote(text, safe="")
        if encoding == "dash":
            return quote("-".join(text.split()), safe="-")
        return quote_plus(text)

    # ------------------------------------------------------------------ crawling

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
        """Crawl the listings of `mode` to `depth` pages each; returns what was done.

        Raises:
            CrawlRequestError: the mode, query or category is unusable.
            LayoutChanged: a page is not the listing the definition describes.
            NetworkError: the site is blocked, paused or unreachable for a listing page.
        """
        paths = self.start_paths(mode, query=query, category=category)
        pages = pages_for(self.config, mode, depth)
        report = CrawlReport(site=self.site.id, mode=mode, planned_pages=len(paths) * pages)
        try:
            for path in paths:
                await self._crawl_listing(path, pages, mode, report, crawl_id, progress)
        finally:
            if crawl_id is not None:
                self._client.end_crawl(crawl_id)
        return report

    async def _crawl_listing(
        self,
        template: str,
        depth: int,
        mode: str,
        report: CrawlReport,
        crawl_id: str | None,
        progress: Progress | None,
    ) -> None:
        number = self.site.definition.first_page
        path: str | None = template.replace("{page}", str(number))
        for index in range(depth):
            if path is None:
                report.stopped = "last page"
                return
            page = await self._listing_page(path, report, crawl_id, first=index == 0)
            if page is None:
                return
            records = await self._records(page.rows, report, crawl_id)
            created = await ingest(self._pipeline, records, report)
            if progress is not None:
                progress(report)
            if not page.rows:
                report.stopped = "last page"
                return
            if created == 0 and mode != "search":
                report.stopped = "nothing new"
                return
            number += 1
            if page.next_url is not None:
                path = _path_of(page.next_url)
            elif "{page}" in template:
                path = template.replace("{page}", str(number))
            else:
                path = None

    async def _listing_page(
        self, path: str, report: CrawlReport, crawl_id: str | None, *, first: bool
    ) -> ListingPage | None:
        response = await self._get(path, report, crawl_id)
        if response.status >= 400:
            if not first and response.status == 404:
                report.stopped = "last page"
                return None
            raise RequestFailed(self.site.id, f"HTTP {response.status} for {path}")
        began = time.perf_counter()
        page = await asyncio.to_thread(
            self.site.parse_listing, _text(response), response.url, self._clock()
        )
        report.parse_s += time.perf_counter() - began
        report.pages += 1
        report.rows += len(page.rows)
        report.bad_rows += page.bad_rows
        for reason in page.errors:
            log.debug("%s: skipped a row of %s: %s", self.site.id, page.url, reason)
        self.site.check_listing(page, first=first)
        return page

    async def _get(self, path: str, report: CrawlReport, crawl_id: str | None) -> FetchedResponse:
        began = time.perf_counter()
        try:
            return await self._client.get(path, crawl_id=crawl_id)
        finally:
            report.network_s += time.perf_counter() - began

    # ------------------------------------------------------------------ detail pages

    async def _records(
        self, rows: Sequence[Row], report: CrawlReport, crawl_id: str | None
    ) -> list[RawRecord]:
        """One record per usable row, with its detail page read where that adds something."""
        if not rows:
            return []
        if self.site.definition.detail is None:
            records = []
            for row in rows:
                record = self._record(row, None, _row_hash(row))
                if record is None:
                    report.note_error(f"{row.title[:60]}: no info hash")
                else:
                    records.append(record)
            return records
        known_urls, known_hashes = await asyncio.to_thread(self._known, rows)
        refresh_after = self._clock() - timedelta(seconds=self.site.definition.detail_refresh_s)
        semaphore = asyncio.Semaphore(self.site.definition.detail_concurrency)
        outcomes: list[bool] = []

        async def one(row: Row) -> RawRecord | None:
            info_hash = _row_hash(row)
            known = known_hashes.get(info_hash) if info_hash else None
            if known is None and row.details_url:
                known = known_urls.get(self._canonical_url(row.details_url))
            if row.details_url is None or (known is not None and _fresh(known, refresh_after)):
                report.details_skipped += row.details_url is not None
                found = info_hash or (known.info_hash if known else None)
                record = self._record(row, None, found)
                if record is None:
                    report.note_error(f"{row.title[:60]}: no info hash and no detail page")
                return record
            async with semaphore:
                detail = await self._detail(row.details_url, report, crawl_id)
            if detail is not None:
                outcomes.append(bool(detail.values or detail.files))
                shown = _detail_hash(detail)
                if info_hash and shown and shown != info_hash:
                    # a mirror that serves another torrent's page (or a cached one):
                    # its files and description would be stored under the wrong hash
                    report.note_error(f"{row.details_url}: shows {shown}, the listing {info_hash}")
                    detail = None
                else:
                    info_hash = info_hash or shown
            record = self._record(row, detail, info_hash)
            if record is None and detail is not None:  # a failed fetch is counted already
                report.note_error(f"{row.details_url}: no info hash on the detail page")
            return record

        tasks = [asyncio.ensure_future(one(row)) for row in rows]
        try:
            found = await asyncio.gather(*tasks)
        except BaseException:
            # a challenge or a dead site ends the crawl: the other detail fetches stop too
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        failed = outcomes.count(False)
        if len(outcomes) >= 2 and failed * 2 > len(outcomes):
            example = next(r.details_url for r in rows if r.details_url)
            why = f"{failed} of {len(outcomes)} detail pages held nothing"
            raise LayoutChanged(self.site.id, example or "", why)
        return [record for record in found if record is not None]

    def _known(self, rows: Sequence[Row]) -> tuple[_Known, _Known]:
        if self._lookup is None:
            return {}, {}
        urls = [self._canonical_url(r.details_url) for r in rows if r.details_url]
        hashes = [h for h in (_row_hash(r) for r in rows) if h]
        by_url = self._lookup.by_url(self.site.id, urls) if urls else {}
        by_hash = self._lookup.by_hash(self.site.id, hashes) if hashes else {}
        return by_url, by_hash

    async def _detail(self, url: str, report: CrawlReport, crawl_id: str | None) -> Detail | None:
        """A detail page, or None when it could not be fetched (counted; the crawl goes on).

        One page that keeps failing (5xx, too large) is counted and skipped; a
        challenge, an open breaker or an unreachable site ends the crawl, because
        the next detail page would fail alike.
        """
        try:
            response = await self._get(_path_of(url), report, crawl_id)
        except (RequestFailed, ResponseTooLarge) as exc:
            report.note_error(str(exc))
            return None
        except AllMirrorsDown as exc:
            why = exc.__cause__ or exc.__context__
            if not isinstance(why, RequestFailed):
                raise  # a challenge or the network: every later request would fail alike
            report.note_error(f"{url}: {why}")
            return None
        if response.status >= 400:
            report.note_error(f"HTTP {response.status} for {url}")
            return None
        report.details += 1
        began = time.perf_counter()
        detail = await asyncio.to_thread(
            self.site.parse_detail, _text(response), response.url, self._clock()
        )
        report.parse_s += time.perf_counter() - began
        return detail

    # ------------------------------------------------------------------ records

    def _record(self, row: Row, detail: Detail | None, info_hash: str | None) -> RawRecord | None:
        values = detail.values if detail is not None else {}
        magnet = values.get("magnet") or row.magnet
        if not info_hash and not magnet:
            return None
        title = row.title
        detail_title = values.get("title")
        if detail_title and (title.endswith(_TRUNCATED) or not title.strip()):
            title = detail_title
        return RawRecord(
            source=self.site.id,
            title=title,
            info_hash=info_hash,
            magnet=magnet if not info_hash else None,
            size=values.get("size") or row.size,
            seeders=_first(values.get("seeders"), row.seeders),
            leechers=_first(values.get("leechers"), row.leechers),
            source_url=self._canonical_url(row.details_url) if row.details_url else None,
            category=self._category(row.category, values.get("category")),
            published_at=values.get("published") or row.published,
            files=detail.files if detail is not None else (),
            description=values.get("description"),
            trackers=(),
            details_read=detail is not None,
        )

    def _category(self, row_code: str | None, detail_code: str | None) -> str | None:
        """The mapped Torznab id when the site's code is known, else its label as given."""
        for code in (row_code, detail_code):
            number = self.site.category_id(code)
            if number is not None:
                return str(number)
        label = detail_code or row_code
        return label if label and not label.isdecimal() else None

    def _canonical_url(self, url: str) -> str:
        """A detail URL on the site's first mirror, so a mirror switch does not make it new."""
        return self._canonical + _path_of(url) if self._canonical else url


def _fresh(known: KnownTorrent, refresh_after: datetime) -> bool:
    """Whether a known torrent's detail page need not be read again now."""
    if known.details_at is not None:
        return known.details_at > refresh_after
    return known.has_files  # files from elsewhere (the DHT, an upload): the page adds little


def _row_hash(row: Row) -> str | None:
    """The info hash a listing row gives: its own field, its magnet's or its .torrent link's."""
    return _first_hash(row.info_hash, row.magnet, row.download_url)


def _detail_hash(detail: Detail) -> str | None:
    """The info hash a detail page shows: its own field, else its magnet's."""
    return _first_hash(detail.values.get("info_hash"), detail.values.get("magnet"))


def _first_hash(*values: str | None) -> str | None:
    for value in values:
        if value:
            try:
                return str(_INFO_HASH(value, _NO_CONTEXT))
            except FieldError:
                continue
    return None


def _first(*values: int | None) -> int | None:
    return next((v for v in values if v is not None), None)


def _path_of(url: str) -> str:
    """The path and query of a link (the mirror is the client's choice, not the page's)."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _text(response: FetchedResponse) -> str:
    try:
        return response.body.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return response.body.decode("utf-8", errors="replace")


_NO_CONTEXT: Final = FilterContext(page_url="", now=datetime(2000, 1, 1, tzinfo=UTC))
