"""Store side of metadata enrichment: the lookup queue, the lookup cache, found ids.

The writer queues a torrent (`enrich_queue`) when it first gets a kind a service
can look up; the enrichment worker reads the queue here, asks the services (or
the cache), and hands back what it found to `apply_lookups`, which writes the
ids, the cache rows and the index update and takes the torrents off the queue in
one transaction. Found ids only fill gaps: an id a source supplied is kept.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, update

from engine.store.batches import dialect_insert, in_chunks
from engine.store.schema import enrich_cache, enrich_queue, index_outbox, torrents

_ID_COLUMNS = ("imdb_id", "tmdb_id", "tvdb_id", "anilist_id", "mal_id", "musicbrainz_id")


@dataclass(frozen=True, slots=True)
class QueuedLookup:
    """A queued torrent with what a lookup needs to know about it."""

    info_hash: str
    title: str
    kind: str
    year: int | None
    imdb_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FoundIds:
    """External ids a lookup found for one torrent, and the note that says which lookup."""

    info_hash: str
    enriched_by: str
    imdb_id: str | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    anilist_id: int | None = None
    mal_id: int | None = None
    musicbrainz_id: str | None = None


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One answered lookup: `match` is the service's answer as JSON, None for "nothing"."""

    service: str
    lookup_key: str
    match: str | None


def queued_lookups(conn: Connection, kinds: Collection[str], limit: int) -> list[QueuedLookup]:
    """The oldest queued torrents of `kinds` (the services that are up), at most `limit`."""
    if not kinds or limit <= 0:
        return []
    t, q = torrents.c, enrich_queue.c
    query = (
        select(t.info_hash, t.title, t.kind, t.year, t.imdb_id)
        .select_from(enrich_queue.join(torrents, q.info_hash == t.info_hash))
        .where(t.kind.in_(sorted(kinds)))
        .order_by(q.queued_at, q.info_hash)
        .limit(limit)
    )
    return [QueuedLookup(*row) for row in conn.execute(query)]


def enrich_backlog(conn: Connection) -> int:
    """How many torrents wait for a lookup."""
    return int(conn.execute(select(func.count()).select_from(enrich_queue)).scalar_one())


def cached_matches(conn: Connection, service: str, keys: Sequence[str]) -> dict[str, str | None]:
    """Cached answers of `service` for `keys`; a key absent from the result was never asked."""
    found: dict[str, str | None] = {}
    c = enrich_cache.c
    for chunk in in_chunks(list(dict.fromkeys(keys))):
        query = select(c.lookup_key, c.match).where(c.service == service, c.lookup_key.in_(chunk))
        found.update((key, match) for key, match in conn.execute(query))
    return found


def apply_lookups(
    conn: Connection,
    *,
    found: Sequence[FoundIds],
    cache: Sequence[CacheEntry],
    done: Collection[str],
    now: datetime,
) -> int:
    """Write found ids, new cache entries and index updates; dequeue `done`. Returns ids written.

    Ids fill gaps only (`coalesce(existing, found)`), so a source's own imdb id wins.
    """
    if cache:
        stmt = dialect_insert(conn, enrich_cache)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[enrich_cache.c.service, enrich_cache.c.lookup_key],
                set_={"match": stmt.excluded.match, "fetched_at": stmt.excluded.fetched_at},
            ),
            [
                {
                    "service": e.service,
                    "lookup_key": e.lookup_key,
                    "match": e.match,
                    "fetched_at": now,
                }
                for e in cache
            ],
        )
    if found:
        t = torrents.c
        values: dict[str, Any] = {
            name: func.coalesce(t[name], bindparam(f"new_{name}")) for name in _ID_COLUMNS
        }
        values["enriched_by"] = bindparam("new_enriched_by")
        conn.execute(
            update(torrents).where(t.info_hash == bindparam("key")).values(values),
            [_update_params(ids) for ids in found],
        )
        conn.execute(
            index_outbox.insert(),
            [{"info_hash": h, "queued_at": now} for h in dict.fromkeys(f.info_hash for f in found)],
        )
    for chunk in in_chunks(list(done)):
        conn.execute(delete(enrich_queue).where(enrich_queue.c.info_hash.in_(chunk)))
    return len(found)


def _update_params(ids: FoundIds) -> dict[str, Any]:
    params: dict[str, Any] = {"key": ids.info_hash, "new_enriched_by": ids.enriched_by}
    params.update({f"new_{name}": getattr(ids, name) for name in _ID_COLUMNS})
    return params
