"""Crawling a JSON API: pages of `latest` or of a search, to a depth, into the pipeline.

The API classes only build requests and read answers; this walks the pages
through the site's `SiteClient` (mirrors, proxies, rate limit, breaker), decodes
the JSON (bounded by the client's body limit), judges each answer, and stores
what it holds. `latest` stops at the first page that brings nothing new, as the
HTML crawler does; a search reads its pages to the depth.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from engine.errors import LayoutChanged, RequestFailed
from engine.net.clients import FetchedResponse
from engine.net.site_client import SiteClient
from engine.pipeline import Pipeline
from engine.site_config import SiteConfig
from engine.sources.api.base import ApiPage, ApiRequest, ApiSource, ShapeError
from engine.sources.report import (
    CrawlReport,
    CrawlRequestError,
    Progress,
    ingest,
    pages_for,
    search_text,
)

log = logging.getLogger(__name__)


class ApiCrawler:
    """Crawls one API source; holds no per-crawl state."""

    def __init__(
        self,
        source: ApiSource,
        config: SiteConfig,
        client: SiteClient,
        pipeline: Pipeline,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.source = source
        self.config = config
        self._client = client
        self._pipeline = pipeline
        self._clock = clock

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
        """Crawl `mode` to `depth` pages (the site's depth for latest, its search depth else).

        Raises:
            CrawlRequestError: a mode the API lacks, a missing or bad query, a category.
            LayoutChanged: an answer that is not this API's, or mostly bad rows.
            NetworkError: the site is blocked, paused or unreachable.
        """
        text = self._check(mode, query, category)
        pages = pages_for(self.config, mode, depth)
        report = CrawlReport(site=self.source.id, mode=mode, planned_pages=pages)
        try:
            number = self.source.first_page
            for _ in range(pages):
                request = self.source.request(mode, text, number)
                page = await self._page(request, report, crawl_id)
                created = await ingest(self._pipeline, page.records, report)
                if progress is not None:
                    progress(report)
                if not page.more or not page.records:
                    report.stopped = "last page"
                    break
                if created == 0 and mode != "search":
                    report.stopped = "nothing new"
                    break
                number += 1
        finally:
            if crawl_id is not None:
                self._client.end_crawl(crawl_id)
        return report

    def _check(self, mode: str, query: str | None, category: str | None) -> str | None:
        if mode not in self.source.modes:
            have = ", ".join(self.source.modes)
            raise CrawlRequestError(f"{self.source.id} has no {mode} mode (it has: {have})")
        if category:
            raise CrawlRequestError(f"{self.source.id}: categories cannot be browsed")
        return search_text(query) if mode == "search" else None

    async def _page(
        self, request: ApiRequest, report: CrawlReport, crawl_id: str | None
    ) -> ApiPage:
        response = await self._fetch(request, report, crawl_id)
        url = response.url
        if response.status >= 400:
            raise RequestFailed(self.source.id, f"HTTP {response.status} for {request.path}")
        began = time.perf_counter()
        try:
            page = await asyncio.to_thread(self._decode_and_parse, response.body)
        except ShapeError as exc:
            raise LayoutChanged(self.source.id, url, str(exc)) from None
        finally:
            report.parse_s += time.perf_counter() - began
        report.pages += 1
        report.rows += len(page.records) + page.bad_rows
        report.bad_rows += page.bad_rows
        for reason in page.errors:
            log.debug("%s: skipped a row of %s: %s", self.source.id, url, reason)
        total = len(page.records) + page.bad_rows
        if total and page.bad_rows * 2 > total:
            why = "; ".join(page.errors[:2])
            raise LayoutChanged(
                self.source.id, url, f"{page.bad_rows} of {total} rows did not parse ({why})"
            )
        return page

    def _decode_and_parse(self, body: bytes) -> ApiPage:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            start = body[:60].decode("utf-8", "replace")
            raise ShapeError(f"the answer is not JSON ({exc}): {start!r}") from None
        return self.source.parse(data, self._clock())

    async def _fetch(
        self, request: ApiRequest, report: CrawlReport, crawl_id: str | None
    ) -> FetchedResponse:
        began = time.perf_counter()
        try:
            if request.json_body is None:
                return await self._client.get(request.path, crawl_id=crawl_id)
            return await self._client.post_json(request.path, request.json_body, crawl_id=crawl_id)
        finally:
            report.network_s += time.perf_counter() - began
