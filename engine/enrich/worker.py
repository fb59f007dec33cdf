"""The enrichment worker: takes queued torrents, asks the services (or the cache), stores ids.

Low priority by construction: it runs in one thread, a batch at a time, paced by
the services' own rate limiters, and it never blocks ingestion (the writer takes
its results like any other job). Each service is handled on its own:

* answered lookups, including "nothing confident", go to the cache, so the same
  title is never asked twice (many torrents share a title: every resolution, every
  group, every episode of a season);
* a 429 pauses that service for its Retry-After; offline, timeouts and 5xx pause it
  with a doubling backoff (30 s up to 15 min); a missing or rejected key turns it off
  until restart, with the reason in `status()`. A paused service's torrents stay
  queued; the other services go on;
* a lookup that fails for any other reason (an answer of the wrong shape, a bug)
  drops those torrents from the queue without caching, so one bad title cannot
  stall the queue.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from sqlalchemy import Engine

from engine.classify.credits import split_credit
from engine.classify.titles import clean_title, parse_title
from engine.enrich.base import Enricher, LookupRequest, Match
from engine.errors import EnrichmentError, RateLimited, ServiceNotConfigured, ServiceUnavailable
from engine.models import ContentKind, EnricherStatus
from engine.store.enrichment import (
    CacheEntry,
    FoundIds,
    QueuedLookup,
    apply_lookups,
    cached_matches,
    queued_lookups,
)
from engine.store.writer import Writer

log = logging.getLogger(__name__)

FIRST_BACKOFF = 30.0
"""Seconds a service pauses after its first failure; doubled per failure in a row."""
MAX_BACKOFF = 900.0
MAX_KEY_CHARS = 512
"""Width of `enrich_cache.lookup_key`."""


@dataclass(slots=True)
class _Pending:
    """The torrents of one batch that share one lookup."""

    enricher: Enricher
    request: LookupRequest
    hashes: list[str]


class EnrichmentWorker:
    """Looks queued torrents up, one batch per `step()`; `run()` loops until cancelled."""

    def __init__(
        self,
        reader: Engine,
        writer: Writer,
        enrichers: Sequence[Enricher],
        *,
        batch: int = 20,
        idle_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._enrichers = list(enrichers)
        self._batch = batch
        self._idle_seconds = idle_seconds
        self._clock = clock
        self._paused_until: dict[str, float] = {}
        self._pause_reason: dict[str, str] = {}
        self._failures: dict[str, int] = {}
        self._off: dict[str, str] = {}
        self.lookups = 0
        """Requests sent to services since start (cache hits not counted)."""

    def status(self) -> list[EnricherStatus]:
        """Each configured service: ok, paused (why, for how long) or off (why)."""
        now = self._clock()
        states = []
        for enricher in self._enrichers:
            name = enricher.service
            if name in self._off:
                states.append(EnricherStatus(name, "off", self._off[name]))
            elif self._paused_until.get(name, 0.0) > now:
                left = self._paused_until[name] - now
                detail = f"{self._pause_reason[name]}; retry in {left:.0f} s"
                states.append(EnricherStatus(name, "paused", detail))
            else:
                states.append(EnricherStatus(name, "ok"))
        return states

    async def run(self) -> None:
        """Look torrents up until cancelled; sleep while the queue is empty or all paused."""
        while True:
            try:
                done = await asyncio.to_thread(self.step)
            except Exception:  # the database or writer failed: try again later, never die
                log.exception("enrichment: a step failed; retrying in %.0f s", self._idle_seconds)
                done = 0
            if done == 0:
                await asyncio.sleep(self._idle_delay())

    def step(self) -> int:
        """Process one batch; returns how many torrents left the queue."""
        usable = self._usable()
        kinds = {kind.value: e for e in usable for kind in e.kinds}
        with self._reader.connect() as conn:
            rows = queued_lookups(conn, kinds, self._batch)
        if not rows:
            return 0
        pending, done = self._group(rows, kinds)
        cache: list[CacheEntry] = []
        found: list[FoundIds] = []
        for service, group in _by_service(pending):
            with self._reader.connect() as conn:
                known = cached_matches(conn, service, [key for key, _ in group])
            for key, item in group:
                if key in known:
                    match = _decode(known[key])
                elif self._is_usable(item.enricher):
                    outcome, match = self._ask(item)
                    if outcome is _Outcome.FAILED:
                        done.extend(item.hashes)
                        continue
                    if outcome is _Outcome.LATER:
                        continue
                    cache.append(CacheEntry(service, key, _encode(match)))
                else:
                    continue  # paused during this batch: stays queued
                done.extend(item.hashes)
                if match is not None:
                    found.extend(_found_ids(h, match) for h in item.hashes)
        if done or cache:
            now = datetime.now(UTC)
            self._writer.call(
                lambda conn: apply_lookups(conn, found=found, cache=cache, done=done, now=now)
            ).result()
        return len(done)

    def _usable(self) -> list[Enricher]:
        return [e for e in self._enrichers if self._is_usable(e)]

    def _is_usable(self, enricher: Enricher) -> bool:
        name = enricher.service
        return name not in self._off and self._paused_until.get(name, 0.0) <= self._clock()

    def _group(
        self, rows: Iterable[QueuedLookup], kinds: dict[str, Enricher]
    ) -> tuple[dict[tuple[str, str], _Pending], list[str]]:
        """Lookups by (service, key); torrents with nothing to look up are simply done."""
        pending: dict[tuple[str, str], _Pending] = {}
        done: list[str] = []
        for row in rows:
            enricher = kinds[row.kind]
            request = lookup_request(row)
            if request is None:
                done.append(row.info_hash)
                continue
            slot = (enricher.service, _stored_key(request))
            if slot in pending:
                pending[slot].hashes.append(row.info_hash)
            else:
                pending[slot] = _Pending(enricher, request, [row.info_hash])
        return pending, done

    def _ask(self, item: _Pending) -> tuple[_Outcome, Match | None]:
        """One lookup: its answer, or LATER (the service must wait), or FAILED (drop it)."""
        name = item.enricher.service
        self.lookups += 1
        try:
            match = item.enricher.lookup(item.request)
        except RateLimited as exc:
            self._pause(name, max(exc.retry_after, 1.0), "rate limited by the service")
            return _Outcome.LATER, None
        except ServiceUnavailable as exc:
            failures = self._failures.get(name, 0) + 1
            self._failures[name] = failures
            delay = min(FIRST_BACKOFF * 2 ** (failures - 1), MAX_BACKOFF)
            self._pause(name, delay, str(exc))
            return _Outcome.LATER, None
        except ServiceNotConfigured as exc:
            self._off[name] = str(exc)
            log.warning("enrichment: %s is off: %s", name, exc)
            return _Outcome.LATER, None
        except EnrichmentError as exc:
            log.warning("enrichment: %s could not look up %r: %s", name, item.request.title, exc)
            return _Outcome.FAILED, None
        except Exception:  # a bug in one lookup must not stop the worker or stall the queue
            log.exception("enrichment: %s failed on %r", name, item.request.title)
            return _Outcome.FAILED, None
        self._failures.pop(name, None)
        return _Outcome.ANSWERED, match

    def _pause(self, service: str, seconds: float, reason: str) -> None:
        self._paused_until[service] = self._clock() + seconds
        self._pause_reason[service] = reason
        log.info("enrichment: %s paused for %.0f s: %s", service, seconds, reason)

    def _idle_delay(self) -> float:
        now = self._clock()
        waits = [until - now for until in self._paused_until.values() if until > now]
        return max(0.05, min([self._idle_seconds, *waits]))


class _Outcome(Enum):
    ANSWERED = "answered"  # a match or None ("nothing confident"): cached
    LATER = "later"  # the service must wait (paused or off): the torrents stay queued
    FAILED = "failed"  # this lookup cannot work: the torrents leave the queue, nothing cached


def lookup_request(row: QueuedLookup) -> LookupRequest | None:
    """What to ask about a stored torrent: its parsed title and year; None when there is none."""
    kind = ContentKind(row.kind)
    if kind is ContentKind.MUSIC:
        pair = split_credit(clean_title(row.title))
        if pair is None:
            return None
        artist, album = pair
        return LookupRequest(
            kind=kind, title=f"{artist} - {album}", year=row.year, artist=artist, album=album
        )
    parsed = parse_title(row.title)
    if not parsed.title and not row.imdb_id:
        return None
    return LookupRequest(
        kind=kind, title=parsed.title, year=row.year or parsed.year, imdb_id=row.imdb_id
    )


def _stored_key(request: LookupRequest) -> str:
    """The cache key, bounded for its column: a long one keeps its head and a digest."""
    key = request.cache_key()
    if len(key) <= MAX_KEY_CHARS:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[: MAX_KEY_CHARS - 65]}#{digest}"


def _by_service(
    pending: dict[tuple[str, str], _Pending],
) -> list[tuple[str, list[tuple[str, _Pending]]]]:
    grouped: dict[str, list[tuple[str, _Pending]]] = {}
    for (service, key), item in pending.items():
        grouped.setdefault(service, []).append((key, item))
    return list(grouped.items())


def _found_ids(info_hash: str, match: Match) -> FoundIds:
    ident = match.tmdb_id or match.anilist_id or match.musicbrainz_id or match.imdb_id
    return FoundIds(
        info_hash=info_hash,
        enriched_by=f"{match.service} {ident} ({match.confidence:.2f})",
        imdb_id=match.imdb_id,
        tmdb_id=match.tmdb_id,
        tvdb_id=match.tvdb_id,
        anilist_id=match.anilist_id,
        mal_id=match.mal_id,
        musicbrainz_id=match.musicbrainz_id,
    )


def _encode(match: Match | None) -> str | None:
    return None if match is None else json.dumps(match.to_json(), sort_keys=True)


def _decode(text: str | None) -> Match | None:
    if text is None:
        return None
    try:
        return Match.from_json(json.loads(text))
    except (ValueError, TypeError, KeyError):
        log.warning("enrichment: an unreadable cache entry was ignored")
        return None
