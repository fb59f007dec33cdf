"""Media ids to a show or movie name, for live searches that come by id only.

Sonarr and Radarr search by id (`t=tvsearch&tvdbid=81189`, `t=movie&imdbid=tt0133093`),
but torrent sites search by text, so a live search first needs the name. Two places
know it, asked in this order:

1. the local index: torrents carrying the id; their release titles are parsed the
   way the enrichment worker parses them (`lookup_request`) and the commonest name
   wins. No network, and it answers for everything already indexed;
2. TMDb (when configured), through `TmdbEnricher.name_by_id`. Its answers go to the
   enrichment cache (`enrich_cache`, service "tmdb", keys "name|tv|tvdb=81189"): a
   name is kept for good, "TMDb does not know this id" for a day, so one id costs
   at most one request a day.

A live search must never fail because TMDb does: every service failure is logged
(never with the key) and answers None, and a failing TMDb is left alone for a while
(its Retry-After, a minute when down, for good when the key is refused) so that
searches do not each wait for its timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import httpx
from sqlalchemy import Connection, Engine, select

from engine.config import EnrichSettings
from engine.enrich.base import NAME_ID_ORDER, Match
from engine.enrich.http import make_client
from engine.enrich.matching import normalize_title
from engine.enrich.worker import lookup_request
from engine.errors import EnrichmentError, RateLimited, ServiceNotConfigured, ServiceUnavailable
from engine.models import ContentKind
from engine.store.enrichment import CacheEntry, QueuedLookup, apply_lookups
from engine.store.schema import enrich_cache, torrents
from engine.store.writer import Writer

if TYPE_CHECKING:  # the client module loads tmdbsimple (and requests): only when configured
    from engine.enrich.tmdb import TmdbEnricher

log = logging.getLogger(__name__)

SERVICE: Final = "tmdb"  # engine.enrich.tmdb.SERVICE, without importing tmdbsimple
INDEX_SAMPLE: Final = 20
"""Newest torrents read per id: enough to outvote a mislabelled one, cheap to parse."""
NOT_FOUND_TTL: Final = timedelta(days=1)
"""How long "TMDb does not know this id" is believed (a new show gets its ids within days)."""
UNAVAILABLE_PAUSE_S: Final = 60.0
"""How long TMDb is left alone after a timeout, an outage or an answer that is not JSON."""
TIMEOUT_S: Final = 5.0
"""Per-request timeout of our own client: a live search is waiting (the worker's is 15 s)."""

_ORDER: Final = NAME_ID_ORDER

_TMDB_KINDS: Final = {ContentKind.TV: ("tv", "anime"), ContentKind.MOVIE: ("movie",)}
# TMDb numbers shows and movies separately, so a tmdb_id only means something with the
# kind: a TV search counts anime series (Sonarr's anime is TV), a movie search movies only.

_IMDB: Final = re.compile(r"(?:tt)?(\d{1,10})", re.IGNORECASE)
_MAX_ID: Final = 2**31 - 1  # the id columns are int32
_API_KEY: Final = re.compile(r"(?i)(api_key=)[^&\s\"']+")


@dataclass(frozen=True, slots=True, kw_only=True)
class KnownTitle:
    """The name a live search sends to text-only sites, and where it came from."""

    title: str
    """The show's or movie's name: "Breaking Bad"."""
    year: int | None
    """Release year of a movie, first air year of a show (TMDb only), when known."""
    kind: ContentKind
    origin: str
    """Where the name came from: "index" (indexed release titles) or "tmdb"."""


@dataclass(frozen=True, slots=True)
class _Id:
    """One id to resolve: its name in `_ORDER`, its column, its normalized value."""

    name: str
    value: str | int

    @property
    def column(self) -> str:
        return f"{self.name}_id"

    def cache_key(self, kind: ContentKind) -> str:
        return f"name|{kind.value}|{self.name}={self.value}"


class _Miss:
    """No usable cache entry: ask the service."""


_MISS: Final = _Miss()


class TitleNames:
    """Resolves Torznab ids to a name: the local index first, then TMDb (cached).

    Args:
        reader: the readers' engine (index and cache reads, in threads).
        writer: the single writer (cache writes).
        tmdb: the TMDb client, or None for an index-only resolver.
        client: the httpx client behind `tmdb` when this resolver owns it (`close` closes it).
        clock: monotonic seconds, for the pause after a TMDb failure (tests pass a fake).
    """

    def __init__(
        self,
        reader: Engine,
        writer: Writer,
        tmdb: TmdbEnricher | None,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._tmdb = tmdb
        self._client = client
        self._clock = clock
        self._paused_until = 0.0
        self._off = False
        # One TMDb question per id at a time: concurrent searches for a show wait for it.
        self._inflight: dict[str, asyncio.Future[Match | None]] = {}

    async def resolve(
        self,
        *,
        kind: ContentKind,
        imdb_id: str | None = None,
        tmdb_id: int | None = None,
        tvdb_id: int | None = None,
    ) -> KnownTitle | None:
        """The name of the show (`kind=TV`) or movie with these ids; None when unknown.

        Ids are tried in the order each kind's *arr searches by (TV: tvdb, tmdb, imdb;
        movie: imdb, tmdb, tvdb), the index for all of them before TMDb. No id at all
        gives None. A TMDb failure is logged and gives None; it never raises.

        Raises:
            ValueError: `kind` is not TV or movie, or an id is malformed (an imdb id is
                "tt" and digits, "0133093" accepted; tmdb and tvdb ids positive int32).
            SQLAlchemyError: the index or the cache cannot be read (the store's own
                failure, which a search could not get past anyway; a failed cache
                write is only logged).
        """
        ids = _ids(kind, imdb_id=imdb_id, tmdb_id=tmdb_id, tvdb_id=tvdb_id)
        if not ids:
            return None
        known = await asyncio.to_thread(self._from_index, kind, ids)
        tmdb = self._tmdb
        if known is not None or tmdb is None:
            return known
        for one in ids:
            match = await self._from_tmdb(tmdb, kind, one)
            if match is not None:
                return KnownTitle(title=match.title, year=match.year, kind=kind, origin="tmdb")
        return None

    def close(self) -> None:
        """Close the HTTP client when this resolver made it (`build_title_names`)."""
        if self._client is not None:
            self._client.close()

    def _from_index(self, kind: ContentKind, ids: Sequence[_Id]) -> KnownTitle | None:
        with self._reader.connect() as conn:
            for one in ids:
                rows = _index_rows(conn, kind, one)
                known = _commonest(kind, rows)
                if known is not None:
                    return known
        return None

    async def _from_tmdb(self, tmdb: TmdbEnricher, kind: ContentKind, one: _Id) -> Match | None:
        """The cached or asked answer; a concurrent question for the same id is shared."""
        key = one.cache_key(kind)
        pending = self._inflight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._cached_or_asked(tmdb, kind, one, key))
            self._inflight[key] = pending
            pending.add_done_callback(lambda done: self._settled(key, done))
        # Shielded: a search that gives up must not cancel the answer others wait for.
        return await asyncio.shield(pending)

    def _settled(self, key: str, done: asyncio.Future[Match | None]) -> None:
        if self._inflight.get(key) is done:
            del self._inflight[key]

    async def _cached_or_asked(
        self, tmdb: TmdbEnricher, kind: ContentKind, one: _Id, key: str
    ) -> Match | None:
        cached = await asyncio.to_thread(self._read_cache, key)
        if not isinstance(cached, _Miss):
            return cached
        if not self._tmdb_usable():  # paused or off: cached answers only
            return None
        answered, match = await asyncio.to_thread(self._ask, tmdb, kind, one)
        if answered:
            await self._write_cache(key, match)
        return match

    def _ask(self, tmdb: TmdbEnricher, kind: ContentKind, one: _Id) -> tuple[bool, Match | None]:
        """TMDb's answer: (True, match or None for "unknown"), or (False, None) when it failed."""
        try:
            if isinstance(one.value, str):
                return True, tmdb.name_by_id(kind, imdb_id=one.value)
            if one.name == "tmdb":
                return True, tmdb.name_by_id(kind, tmdb_id=one.value)
            return True, tmdb.name_by_id(kind, tvdb_id=one.value)
        except ServiceNotConfigured as exc:
            self._off = True
            log.warning("names: TMDb is off until restart: %s", exc)
        except RateLimited as exc:
            self._pause(max(exc.retry_after, 1.0), exc)
        except ServiceUnavailable as exc:  # down, timed out, not JSON
            self._pause(UNAVAILABLE_PAUSE_S, exc)
        except EnrichmentError as exc:  # an unusable answer to this id: TMDb itself is up
            log.warning("names: TMDb could not name %s=%s: %s", one.name, one.value, exc)
        except Exception as exc:  # a bug must not fail the live search either
            reason = _API_KEY.sub(r"\1***", f"{type(exc).__name__}: {exc}")
            log.warning("names: TMDb lookup of %s=%s failed: %s", one.name, one.value, reason)
        return False, None

    def _pause(self, seconds: float, exc: EnrichmentError) -> None:
        self._paused_until = self._clock() + seconds
        log.warning("names: TMDb not asked for %.0f s: %s", seconds, exc)

    def _tmdb_usable(self) -> bool:
        return not self._off and self._clock() >= self._paused_until

    def _read_cache(self, key: str) -> Match | _Miss | None:
        """The cached answer; a stale "not found" or an unreadable row is a miss.

        Read here rather than with `cached_matches`, which leaves out `fetched_at`.
        """
        c = enrich_cache.c
        query = select(c.match, c.fetched_at).where(c.service == SERVICE, c.lookup_key == key)
        with self._reader.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return _MISS
        text, fetched_at = row
        if text is None:
            return None if datetime.now(UTC) - fetched_at < NOT_FOUND_TTL else _MISS
        try:
            return Match.from_json(json.loads(text))
        except (ValueError, TypeError, KeyError):
            log.warning("names: an unreadable cache entry for %s was ignored", key)
            return _MISS

    async def _write_cache(self, key: str, match: Match | None) -> None:
        """Store TMDb's answer; a failed write costs a request later, not this answer."""
        text = None if match is None else json.dumps(match.to_json(), sort_keys=True)
        entry = CacheEntry(SERVICE, key, text)
        now = datetime.now(UTC)
        try:
            await asyncio.wrap_future(
                self._writer.call(
                    lambda conn: apply_lookups(conn, found=(), cache=[entry], done=(), now=now)
                )
            )
        except Exception as exc:
            log.warning("names: could not cache the answer for %s: %s", key, exc)


def build_title_names(settings: EnrichSettings, reader: Engine, writer: Writer) -> TitleNames:
    """A TMDb-backed resolver when enrichment is on and a TMDb key is set, else index-only.

    The TMDb client is this resolver's own (shorter timeouts than the worker's, since
    a live search waits), closed by `TitleNames.close`.
    """
    if not (settings.enabled and settings.tmdb_api_key.strip()):
        return TitleNames(reader, writer, None)
    from engine.enrich.tmdb import TmdbEnricher  # loads tmdbsimple: only when it is used

    client = make_client(contact=settings.musicbrainz_contact, timeout_s=TIMEOUT_S)
    tmdb = TmdbEnricher(settings.tmdb_api_key, client=client, base_url=settings.tmdb_url)
    return TitleNames(reader, writer, tmdb, client=client)


def _ids(
    kind: ContentKind, *, imdb_id: str | None, tmdb_id: int | None, tvdb_id: int | None
) -> list[_Id]:
    """The given ids, checked and normalized, in the kind's order."""
    if kind not in _ORDER:
        raise ValueError(f"names are resolved for TV and movies, not {kind}")
    given: dict[str, str | int] = {}
    if imdb_id is not None:
        given["imdb"] = normalize_imdb(imdb_id)
    if tmdb_id is not None:
        given["tmdb"] = _checked(tmdb_id, "tmdb_id")
    if tvdb_id is not None:
        given["tvdb"] = _checked(tvdb_id, "tvdb_id")
    return [_Id(name, given[name]) for name in _ORDER[kind] if name in given]


def normalize_imdb(value: str) -> str:
    """An IMDb id as stored: "tt" and at least 7 digits ("133093" -> "tt0133093").

    Raises:
        ValueError: not "tt" and digits, or zero.
    """
    found = _IMDB.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is None or int(found.group(1)) == 0:
        raise ValueError(f"imdb_id must look like tt0133093, got {str(value)[:20]!r}")
    return f"tt{int(found.group(1)):07d}"


def _checked(value: int, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= _MAX_ID:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return value


def _index_rows(conn: Connection, kind: ContentKind, one: _Id) -> list[QueuedLookup]:
    """The newest torrents carrying the id, shaped for `lookup_request`."""
    t = torrents.c
    query = select(t.info_hash, t.title, t.year, t.imdb_id).where(t[one.column] == one.value)
    if one.name == "tmdb":
        query = query.where(t.kind.in_(_TMDB_KINDS[kind]))
    query = query.order_by(t.first_seen.desc(), t.info_hash).limit(INDEX_SAMPLE)
    # Parsed as the asked kind: a torrent's own kind may be unset or another one.
    return [
        QueuedLookup(h, title, kind.value, year, imdb)
        for h, title, year, imdb in conn.execute(query)
    ]


def _commonest(kind: ContentKind, rows: Sequence[QueuedLookup]) -> KnownTitle | None:
    """The name most of the titles give (ties: the newest); for a movie, its commonest year."""
    groups: dict[str, list[tuple[str, int | None]]] = {}
    for row in rows:
        request = lookup_request(row)
        if request is None or not request.title.strip():
            continue
        # "Breaking Bad" and "Breaking.bad" are one name; the spelling shown is the commonest.
        groups.setdefault(normalize_title(request.title), []).append((request.title, request.year))
    groups.pop("", None)
    if not groups:
        return None
    named = max(groups.values(), key=len)  # max keeps the first (newest) of equals
    title = Counter(name for name, _ in named).most_common(1)[0][0]
    year = None
    if kind is ContentKind.MOVIE:
        years = Counter(y for _, y in named if y is not None)
        year = years.most_common(1)[0][0] if years else None
    return KnownTitle(title=title, year=year, kind=kind, origin="index")
