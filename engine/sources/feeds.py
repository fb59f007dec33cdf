"""The universal feed poller: any RSS 2.0, Atom or Torznab feed, polled on its own interval.

Each feed is a scheduled source named `feed:<name>`. A poll is one conditional GET
(`If-None-Match` / `If-Modified-Since` from the last answer): a 304 costs no
parsing. A 200 is parsed (`engine.sources.feed_parse`), and its items are read
newest first up to the one where the last poll stopped (`last_seen_guid` in the
database), so an item is never ingested twice, across restarts too. An item that
gives no info hash but links a .torrent has the file downloaded (bounded in size)
and hashed. A feed that disappears (4xx/5xx, unreachable) or answers something
that is not a feed fails the poll: the scheduler backs it off and shows why.

`FeedFetcher` (the bounded GET, and items made records) is shared with the
Torznab searcher (`engine.sources.feed_search`), which asks the same feeds for a
query without touching their poll state.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx

from engine.errors import InvalidTorrent, LayoutChanged, RequestFailed, ResponseTooLarge
from engine.logs import redact
from engine.models import RawRecord
from engine.net.clients import ClientPool, FetchedResponse, fetch
from engine.net.politeness import HostRateLimiter
from engine.net.proxies import describe_failure
from engine.pipeline import Pipeline
from engine.scheduler import CrawlContext, Job, RunResult
from engine.site_config import DEFAULT_USER_AGENT
from engine.sources.feed_parse import FeedError, FeedItem, parse_feed
from engine.store.feeds import FeedRow, FeedStore
from engine.torrent import parse_torrent

log = logging.getLogger(__name__)

MAX_FEED_BYTES: Final = 10 * 1024 * 1024
MAX_TORRENT_BYTES: Final = 4 * 1024 * 1024
MAX_TORRENT_DOWNLOADS: Final = 50
"""A poll downloads at most this many .torrent files (a feed of 5,000 such items waits)."""
MIN_FEED_INTERVAL_S: Final = 1.0
"""Politeness between two requests to one host (feed, then its .torrent files)."""
FEED_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
SOURCE_PREFIX: Final = "feed:"
FEED_ACCEPT: Final = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"


def source_id(name: str) -> str:
    """The source a feed's records and crawler status carry: "feed:<name>"."""
    return f"{SOURCE_PREFIX}{name}"


def check_feed(name: str, url: str) -> tuple[str, str]:
    """A feed's name and URL as stored, or a ValueError saying what is wrong with them."""
    if not FEED_NAME.match(name):
        raise ValueError(f"name {name[:60]!r}: use 1-48 of a-z, 0-9, - and _, starting alnum")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2048:
        raise ValueError(f"url {url[:80]!r}: give an http:// or https:// feed URL")
    if parts.username or parts.password:
        raise ValueError("url: put no credentials in the URL (use the feed's own key parameter)")
    return name, url


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll did."""

    not_modified: bool
    items: int
    """Items in the answer."""
    new_items: int
    """Items past where the last poll stopped (each ingested once)."""
    created: int
    skipped: int


class FeedFetcher:
    """How a feed source reaches the network: one bounded, polite GET, and items made records.

    The poller and the searcher (`engine.sources.feed_search`) share it, so a feed is
    fetched under the same limits and its .torrent-only items hashed by the same rules,
    whichever of the two reads it.
    """

    def __init__(self, source: str, *, pool: ClientPool, limiter: HostRateLimiter) -> None:
        self.source = source
        self._pool = pool
        self._limiter = limiter

    async def records(self, items: Sequence[FeedItem]) -> list[RawRecord]:
        """The items' records, oldest first; items with only a .torrent link get it hashed.

        Items whose .torrent cannot be had (past `MAX_TORRENT_DOWNLOADS`, an error
        status, not a torrent) are left out; the caller counts them as skipped.
        """
        records: list[RawRecord] = []
        downloads = 0
        for item in reversed(items):  # oldest first: the index sees them in order
            record = item.record
            if record.info_hash or record.magnet:
                records.append(record)
                continue
            if item.torrent_url is None or downloads >= MAX_TORRENT_DOWNLOADS:
                continue
            downloads += 1
            made = await self._from_torrent(record, item.torrent_url)
            if made is not None:
                records.append(made)
        return records

    async def _from_torrent(self, record: RawRecord, url: str) -> RawRecord | None:
        """The item with the info hash, files and metainfo of its .torrent (None: unusable)."""
        try:
            response = await self.get(url, {"User-Agent": DEFAULT_USER_AGENT}, MAX_TORRENT_BYTES)
        except (RequestFailed, ResponseTooLarge) as exc:
            log.info("%s: skipped %s: %s", self.source, feed_host(url), exc)
            return None
        if response.status >= 400:
            log.info("%s: skipped %s: HTTP %d", self.source, feed_host(url), response.status)
            return None
        try:
            parsed = parse_torrent(response.body, max_bytes=MAX_TORRENT_BYTES)
        except InvalidTorrent as exc:
            log.info("%s: skipped %s: %s", self.source, feed_host(url), exc)
            return None
        return replace(
            record,
            info_hash=parsed.info_hash,
            size=record.size or parsed.total_size,
            files=parsed.files,
            trackers=parsed.trackers,
            metainfo=parsed.metainfo,
        )

    async def get(self, url: str, headers: dict[str, str], limit: int) -> FetchedResponse:
        """One GET of at most `limit` bytes, after the host's politeness interval.

        Statuses are returned, not raised: the caller decides what a 404 means.

        Raises:
            RequestFailed: the host is unreachable (the message names the host, not the URL).
            ResponseTooLarge: the body passed `limit`.
        """
        host = feed_host(url)
        await self._limiter.acquire(host, MIN_FEED_INTERVAL_S)
        try:
            return await fetch(
                self._pool.client_for(None), "GET", url, max_bytes=limit, headers=headers,
                site=self.source,
            )  # fmt: skip
        except httpx.HTTPError as exc:
            raise RequestFailed(self.source, f"{host}: {describe_failure(exc)}") from exc


class FeedPoller:
    """Polls one feed; the scheduler runs `job()` on the feed's interval."""

    def __init__(
        self,
        name: str,
        *,
        store: FeedStore,
        pool: ClientPool,
        limiter: HostRateLimiter,
        pipeline: Pipeline,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.source = source_id(name)
        self._store = store
        self._fetcher = FeedFetcher(self.source, pool=pool, limiter=limiter)
        self._pipeline = pipeline
        self._clock = clock

    def job(self) -> Job:
        """The scheduled run: one poll, its figures as the run's."""

        async def run(ctx: CrawlContext) -> RunResult:
            result = await self.poll()
            ctx.heartbeat(items_seen=result.items, items_new=result.created)
            return RunResult(items_seen=result.items, items_new=result.created)

        return run

    async def poll(self) -> PollResult:
        """Fetch the feed (conditionally), ingest what is new, remember where it stopped.

        Raises:
            RequestFailed: the feed is unreachable or answered 4xx/5xx.
            LayoutChanged: the answer is not a feed (an HTML page, an error document...).
        """
        feed = await self._store.get(self.name)
        if feed is None:
            raise RequestFailed(self.source, "the feed was removed")
        headers = {"User-Agent": DEFAULT_USER_AGENT, "Accept": FEED_ACCEPT}
        if feed.etag:
            headers["If-None-Match"] = feed.etag
        if feed.last_modified:
            headers["If-Modified-Since"] = feed.last_modified
        response = await self._fetcher.get(feed.url, headers, MAX_FEED_BYTES)
        now = self._clock()
        if response.status == 304:
            await self._remember(feed, now, feed.last_seen_guid, response)
            return PollResult(True, 0, 0, 0, 0)
        if response.status >= 400:
            raise RequestFailed(self.source, f"HTTP {response.status} from {feed_host(feed.url)}")
        try:
            page = await asyncio.to_thread(  # feedparser: seconds for a 5,000-item feed
                partial(parse_feed, source=self.source, feed_url=response.url, now=now),
                response.body,
            )
        except FeedError as exc:
            secrets = url_secrets(feed.url)
            raise LayoutChanged(
                self.source, masked_feed_url(feed.url), scrub_secrets(str(exc), secrets)
            ) from None
        fresh = _unseen(page.items, feed.last_seen_guid)
        records = await self._fetcher.records(fresh)
        created = 0
        if records:
            report = await self._pipeline.submit(list(enumerate(records)))
            created = report.created
        newest = page.items[0].guid if page.items else feed.last_seen_guid
        await self._remember(feed, now, newest, response)
        skipped = sum(page.skipped.values()) + len(fresh) - len(records)
        return PollResult(False, len(page.items), len(fresh), created, skipped)

    async def _remember(
        self, feed: FeedRow, now: datetime, guid: str | None, response: FetchedResponse
    ) -> None:
        await self._store.record_poll(
            feed.name,
            polled_at=now,
            last_seen_guid=guid,
            etag=response.headers.get("ETag") or feed.etag,
            last_modified=response.headers.get("Last-Modified") or feed.last_modified,
        )


def _unseen(items: Sequence[FeedItem], last_seen: str | None) -> list[FeedItem]:
    """The items before the one the last poll stopped at (all of them when it is gone)."""
    if last_seen is None:
        return list(items)
    for index, item in enumerate(items):
        if item.guid == last_seen:
            return list(items[:index])
    return list(items)


def feed_host(url: str) -> str:
    """The URL's host name: what politeness waits on and messages name (never the URL)."""
    return urlsplit(url).hostname or url[:60]


_SECRET_WORDS: Final = ("key", "pass", "token", "secret")
"""A query parameter whose name holds one of these is a credential: masked in messages."""
_SECRET_NAMES: Final = frozenset({"auth", "sid", "session", "cookie", "uid"})


def is_secret_param(name: str) -> bool:
    """Whether a feed URL's query parameter carries a credential (apikey, passkey, token...)."""
    lowered = name.lower()
    return lowered in _SECRET_NAMES or any(word in lowered for word in _SECRET_WORDS)


def url_secrets(url: str) -> tuple[str, ...]:
    """The values of the URL's credential parameters, longest first (masked in messages)."""
    try:
        params = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    except ValueError:
        return ()
    found = {v for k, v in params if is_secret_param(k) and len(v) >= 3}
    return tuple(sorted(found, key=len, reverse=True))


def scrub_secrets(text: str, secrets: Sequence[str]) -> str:
    """`text` without `secrets`, raw or URL-quoted, and without what `redact` catches."""
    for secret in secrets:
        text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return redact(text)


def masked_feed_url(url: str) -> str:
    """`url` with its credential parameters shown as *** (for errors a user sees)."""
    try:
        parts = urlsplit(url)
        params = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return feed_host(url)
    masked = [(k, "***" if is_secret_param(k) else v) for k, v in params]
    query = urlencode(masked, quote_via=quote, safe=",*")
    shown = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    return scrub_secrets(shown, url_secrets(url))
