"""Live search of a Torznab feed: ask the indexer behind a `feed:<name>` for a text query.

A feed added from Jackett, Prowlarr, NZBHydra or Bitmagnet is the URL of a
Torznab (Newznab) API: the same URL with `t=search&q=<query>` searches the
indexer. `torznab_search_url` derives that URL, and `FeedSearcher` is the
`Crawler` live search runs for such a feed: one GET, the answer parsed by the
poller's parser, records stored through the pipeline. Plain RSS feeds cannot
search, and say so.

A search is not a poll: it never reads nor moves the feed's poll state
(`last_seen_guid`, ETag), so the next poll still ingests every new item.

The feed URL carries the indexer's API key, so no error message or log line
quotes it: messages name the host, and any URL shown has its keys masked.

Torznab: https://torznab.github.io/spec-1.3-draft/torznab/Specification-v1.3.html
Newznab: https://newznab.readthedocs.io/en/latest/misc/api/
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from engine.errors import LayoutChanged, RequestFailed, ResponseTooLarge
from engine.net.clients import ClientPool, FetchedResponse
from engine.net.politeness import HostRateLimiter
from engine.pipeline import Pipeline
from engine.site_config import DEFAULT_USER_AGENT
from engine.sources.feed_parse import FeedError, FeedItem, FeedPage, parse_feed
from engine.sources.feeds import (
    FEED_ACCEPT,
    MAX_FEED_BYTES,
    FeedFetcher,
    feed_host,
    masked_feed_url,
    scrub_secrets,
    source_id,
    url_secrets,
)
from engine.sources.report import CrawlReport, CrawlRequestError, Progress, ingest, search_text

__all__ = ["MODES", "FeedSearcher", "can_search", "torznab_search_url"]

log = logging.getLogger(__name__)

MODES: Final = ("search",)
MAX_CATEGORIES: Final = 50
"""Category ids one search may name: far more than the standard Torznab tree has parents."""
MAX_ERROR_BODY_BYTES: Final = 64 * 1024
"""A 4xx/5xx body is read for a Torznab `<error>` up to this size (error documents are tiny)."""

_SEARCH_FUNCTIONS: Final = frozenset(
    {"search", "tvsearch", "tv-search", "movie", "movie-search", "moviesearch", "music",
     "music-search", "audio", "audio-search", "book", "book-search", "booksearch"}
)  # fmt: skip
"""`t=` values of the Torznab/Newznab search functions: a URL with one is an indexer's API."""
_NARROWING_PARAMS: Final = frozenset(
    {"t", "q", "offset", "season", "ep", "imdbid", "tmdbid", "tvdbid", "rid", "tvmazeid",
     "traktid", "doubanid", "year", "genre", "artist", "album", "label", "track", "author",
     "title", "publisher"}
)  # fmt: skip
"""Dropped from the feed URL: they belong to the feed's own function (a show, an album...)
and would narrow a text search to it; `offset` would skip the best matches."""


def torznab_search_url(feed_url: str, query: str, categories: Sequence[int] = ()) -> str | None:
    """The feed's search URL for `query`, or None when the feed is not a Torznab/Newznab API.

    A Torznab API: the URL's query has `t=` a search function (search, tvsearch,
    movie, music, book...), or its path ends in /api and it has an `apikey`.
    Every other parameter is kept (the apikey, the feed's own `cat` when no
    categories are given); `t=search` and `q=query` are set; `cat` becomes the
    comma list of `categories` when some are given; `offset` and the parameters
    of the feed's own function (season, imdbid, artist...) are dropped.

    Raises:
        ValueError: a category id is negative.
    """
    try:
        parts = urlsplit(feed_url)
        params = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if not _is_api(parts.path, params):
        return None
    if any(category < 0 for category in categories):
        raise ValueError("Torznab category ids are not negative")
    cat = ",".join(str(int(c)) for c in dict.fromkeys(categories))
    kept = [
        (key, value)
        for key, value in params
        if key.lower() not in _NARROWING_PARAMS and not (cat and key.lower() == "cat")
    ]
    wanted = [("t", "search"), *kept, ("q", query), *([("cat", cat)] if cat else [])]
    search = urlencode(wanted, quote_via=quote, safe=",")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, search, ""))


def can_search(feed_url: str) -> bool:
    """True when the feed is a Torznab/Newznab API, so live search can ask it."""
    return torznab_search_url(feed_url, "") is not None


def _is_api(path: str, params: list[tuple[str, str]]) -> bool:
    function = next((v.strip().lower() for k, v in params if k.lower() == "t"), None)
    if function in _SEARCH_FUNCTIONS:
        return True
    has_key = any(k.lower() == "apikey" and v.strip() for k, v in params)
    return has_key and path.rstrip("/").lower().endswith("/api")


class FeedSearcher:
    """Searches one Torznab feed by text: a `Crawler` whose only mode is "search".

    Holds no per-search state, so live search may run several searches of one
    feed at once.
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        pool: ClientPool,
        limiter: HostRateLimiter,
        pipeline: Pipeline,
        categories: Sequence[int] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Search the feed at `url`; `categories`: what a search without its own asks for."""
        self.name = name
        self.source = source_id(name)
        self._url = url
        self._categories = tuple(categories)
        self._fetcher = FeedFetcher(self.source, pool=pool, limiter=limiter)
        self._pipeline = pipeline
        self._clock = clock
        self._secrets = url_secrets(url)

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
        """Ask the indexer for `query` and store what it answers (one page, always).

        `depth` and `crawl_id` are taken for the `Crawler` protocol and unused: an
        indexer answers a search in one page, and a feed has no mirrors or proxies
        whose per-crawl state would need ending.

        Args:
            mode: "search", the only mode.
            query: the text; one printable line of at most 200 chars.
            category: Torznab category ids, comma separated ("5000,5030"); None or
                empty: the searcher's `categories`, else the feed's own `cat`.
            depth: unused.
            crawl_id: unused.
            progress: called after each batch of records is stored.

        Raises:
            CrawlRequestError: another mode, a bad query or category, or a feed
                that is plain RSS (it cannot search).
            RequestFailed: the indexer is unreachable, answered 4xx/5xx, or
                answered with a Torznab error (a bad API key...).
            ResponseTooLarge: the answer passed the feed size limit.
            LayoutChanged: the answer is not a feed (an HTML page...).
        """
        url = self._search_url(mode, query, category)
        report = CrawlReport(site=self.source, mode="search", planned_pages=1)
        page = await self._page(url, report)
        hashed = [i for i in page.items if i.record.info_hash or i.record.magnet]
        linked = [i for i in page.items if not (i.record.info_hash or i.record.magnet)]
        await self._store(hashed, report)  # at once: no .torrent to wait for
        if progress is not None:
            progress(report)
        if linked:
            stored = await self._store(linked, report)
            _note_errors(report, len(linked) - stored, "items whose .torrent could not be had")
            if progress is not None:
                progress(report)
        log.info(
            "%s: searched %s: %d items, %d new, %d updated",
            self.source, feed_host(url), report.rows, report.new, report.updated,
        )  # fmt: skip
        return report

    def _search_url(self, mode: str, query: str | None, category: str | None) -> str:
        if mode not in MODES:
            raise CrawlRequestError(f"{self.source} has no {mode[:40]!r} mode (it has: search)")
        if not can_search(self._url):
            raise self._cannot_search()
        categories = _category_ids(category) or self._categories
        url = torznab_search_url(self._url, search_text(query), categories)
        if url is None:
            raise self._cannot_search()
        return url

    def _cannot_search(self) -> CrawlRequestError:
        return CrawlRequestError(
            f"{self.source} cannot search: it is a plain RSS feed, not a Torznab/Newznab API"
        )

    async def _page(self, url: str, report: CrawlReport) -> FeedPage:
        """The indexer's answer, parsed; its failures raised with the indexer's reason."""
        response = await self._get(url, report)
        host = feed_host(url)
        if not 200 <= response.status < 300:
            why = await self._indexer_error(response)
            detail = f": {why}" if why else ""
            raise RequestFailed(
                self.source, self._scrub(f"HTTP {response.status} from {host}{detail}")
            )
        began = time.perf_counter()
        try:
            page = await asyncio.to_thread(  # feedparser: seconds for a 5,000-item answer
                partial(parse_feed, source=self.source, feed_url=response.url, now=self._clock()),
                response.body,
            )
        except FeedError as exc:
            if exc.code is not None:  # <error code="100" description="Invalid API Key"/>
                raise RequestFailed(self.source, self._scrub(f"{host}: {exc}")) from None
            raise LayoutChanged(self.source, self._masked(url), self._scrub(str(exc))) from None
        finally:
            report.parse_s += time.perf_counter() - began
        skipped = sum(page.skipped.values())
        report.pages = 1
        report.rows = len(page.items) + skipped
        report.bad_rows = skipped
        return page

    async def _get(self, url: str, report: CrawlReport) -> FetchedResponse:
        headers = {"User-Agent": DEFAULT_USER_AGENT, "Accept": FEED_ACCEPT}
        began = time.perf_counter()
        try:
            return await self._fetcher.get(url, headers, MAX_FEED_BYTES)
        except ResponseTooLarge:
            # fetch's message quotes the URL: only the host is named here
            raise ResponseTooLarge(
                self.source,
                f"{feed_host(url)}: the answer passed the {MAX_FEED_BYTES}-byte limit",
            ) from None
        except RequestFailed as exc:
            text = str(exc).removeprefix(f"{exc.site}: ")
            if self._scrub(text) == text:
                raise
            raise RequestFailed(exc.site, self._scrub(text)) from None
        finally:
            report.network_s += time.perf_counter() - began

    async def _indexer_error(self, response: FetchedResponse) -> str | None:
        """The Torznab `<error>` an error status came with, if any (a refused API key: 401)."""
        if len(response.body) > MAX_ERROR_BODY_BYTES:
            return None
        try:
            await asyncio.to_thread(
                partial(parse_feed, source=self.source, feed_url=response.url, now=self._clock()),
                response.body,
            )
        except FeedError as exc:
            return str(exc) if exc.code is not None else None
        return None

    async def _store(self, items: Sequence[FeedItem], report: CrawlReport) -> int:
        """Store the items' records (.torrent files downloaded as the poller does); how many."""
        if not items:
            return 0
        began = time.perf_counter()
        records = await self._fetcher.records(items)
        report.network_s += time.perf_counter() - began
        await ingest(self._pipeline, records, report)
        return len(records)

    def _scrub(self, text: str) -> str:
        """`text` without the feed's credentials (the API key, a passkey), whatever quotes it."""
        return scrub_secrets(text, self._secrets)

    def _masked(self, url: str) -> str:
        """`url` with its credential parameters shown as ***."""
        return masked_feed_url(url)


def _category_ids(category: str | None) -> tuple[int, ...]:
    """Torznab category ids from "5000,5030" (empty parts ignored).

    Raises:
        CrawlRequestError: a part is not a number, or there are too many.
    """
    ids: list[int] = []
    for part in (category or "").split(","):
        text = part.strip()
        if not text:
            continue
        if not (text.isascii() and text.isdigit()) or len(text) > 9:
            raise CrawlRequestError(
                f"category {text[:20]!r}: give Torznab category ids, comma separated (5000,5030)"
            )
        ids.append(int(text))
    if len(ids) > MAX_CATEGORIES:
        raise CrawlRequestError(f"at most {MAX_CATEGORIES} categories in one search")
    return tuple(ids)


def _note_errors(report: CrawlReport, count: int, message: str) -> None:
    """Count `count` errors of one kind, keeping one message for them all."""
    if count > 0:
        report.note_error(f"{count} {message}")
        report.errors += count - 1
