"""The batched upsert by info hash: the only code that writes torrents.

One call = one transaction (the caller's). For each record: the torrent row is
created, or merged (swarm figures refreshed, missing fields filled); its files
are stored if none were; the sighting of its source is added or refreshed; its
.torrent is kept; an outbox row queues the search-index update; and the
per-minute ingest counts move. Because all of it commits together, a crash
loses nothing that was acknowledged and leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, select, update

from engine.models import LOOKED_UP_KINDS, Classification, ClassifiedRecord, TorrentRecord
from engine.store.batches import dialect_insert, in_chunks
from engine.store.schema import (
    enrich_queue,
    files,
    index_outbox,
    ingest_counts,
    metainfo,
    sightings,
    torrents,
)

_CLASSIFIED = (  # torrent columns the classifier decides
    "kind",
    "category",
    "classified_by",
    "year",
    "season",
    "episode",
    "resolution",
    "video_codec",
    "audio",
    "media_source",
    "release_group",
    "languages",
)

_FILLED = (  # torrent columns a later sighting may fill but never overwrite
    "size",
    *_CLASSIFIED,
    "imdb_id",
    "tmdb_id",
    "tvdb_id",
    "published_at",
    "description",
)

MAX_TRACKERS = 64
"""Trackers kept per torrent: every source's are merged, so a hostile one must not bloat rows."""


def upsert_records(
    conn: Connection, items: Sequence[ClassifiedRecord], now: datetime
) -> list[bool]:
    """Store `items` in the current transaction; per item, True when it created a torrent."""
    if not items:
        return []
    hashes = list(dict.fromkeys(item.record.info_hash for item in items))
    existing, known_trackers = _existing(conn, hashes)
    created: list[bool] = []
    merged: dict[str, dict[str, Any]] = {}
    file_rows: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        rec = item.record
        is_new = rec.info_hash not in existing and rec.info_hash not in merged
        created.append(is_new)
        row = _torrent_row(item, now)
        if rec.info_hash in merged:
            row = _merge_rows(merged[rec.info_hash], row)
        else:
            row["trackers"] = _tracker_union(known_trackers.get(rec.info_hash), row["trackers"])
        merged[rec.info_hash] = row
        if rec.files and existing.get(rec.info_hash, 0) == 0 and rec.info_hash not in file_rows:
            file_rows[rec.info_hash] = [
                {"info_hash": rec.info_hash, "path": f.path, "size": f.size} for f in rec.files
            ]
    for info_hash, rows in file_rows.items():
        merged[info_hash]["file_count"] = len(rows)
    _upsert_torrents(conn, list(merged.values()))
    if file_rows:
        conn.execute(files.insert(), [row for rows in file_rows.values() for row in rows])
    _upsert_sightings(conn, items, now)
    _keep_metainfo(conn, items)
    conn.execute(index_outbox.insert(), [{"info_hash": h, "queued_at": now} for h in merged])
    _queue_lookups(
        conn,
        [
            item.record.info_hash
            for item, is_new in zip(items, created, strict=True)
            if is_new and item.classification and item.classification.kind in LOOKED_UP_KINDS
        ],
        now,
    )
    _count_ingest(conn, items, created, now)
    return created


def _queue_lookups(conn: Connection, hashes: Sequence[str], now: datetime) -> None:
    """Queue metadata lookups (enrichment) for torrents that gained a kind worth looking up."""
    if hashes:
        stmt = dialect_insert(conn, enrich_queue).on_conflict_do_nothing()
        conn.execute(stmt, [{"info_hash": h, "queued_at": now} for h in dict.fromkeys(hashes)])


def _existing(
    conn: Connection, hashes: Sequence[str]
) -> tuple[dict[str, int], dict[str, str | None]]:
    """File counts and stored trackers of the torrents among `hashes` that exist."""
    file_counts: dict[str, int] = {}
    trackers: dict[str, str | None] = {}
    for chunk in in_chunks(hashes):
        query = select(torrents.c.info_hash, torrents.c.file_count, torrents.c.trackers).where(
            torrents.c.info_hash.in_(chunk)
        )
        for info_hash, file_count, stored in conn.execute(query):
            file_counts[info_hash] = file_count
            trackers[info_hash] = stored
    return file_counts, trackers


def _tracker_union(old: str | None, new: str | None) -> str | None:
    """Every tracker any source reported, first-reported first, at most `MAX_TRACKERS`.

    Stored newline-separated (tracker URLs hold no whitespace once normalized).
    """
    if not new:
        return old
    if not old:
        return "\n".join(new.split("\n")[:MAX_TRACKERS])
    union = dict.fromkeys(old.split("\n"))
    union.update(dict.fromkeys(new.split("\n")))
    return "\n".join(list(union)[:MAX_TRACKERS])


def _torrent_row(item: ClassifiedRecord, now: datetime) -> dict[str, Any]:
    rec, cls = item.record, item.classification
    return {
        "info_hash": rec.info_hash,
        "title": rec.title,
        "size": rec.size if rec.size is not None else _files_size(rec),
        "file_count": 0,
        **(_classification_columns(cls) if cls else dict.fromkeys(_CLASSIFIED)),
        "imdb_id": rec.imdb_id,
        "tmdb_id": rec.tmdb_id,
        "tvdb_id": rec.tvdb_id,
        "published_at": rec.published_at,
        "first_seen": now,
        "last_seen": now,
        "seeders": rec.seeders,
        "leechers": rec.leechers,
        "trackers": "\n".join(rec.trackers) if rec.trackers else None,
        "description": rec.description,
    }


def _files_size(rec: TorrentRecord) -> int | None:
    return sum(f.size for f in rec.files) if rec.files else None


def _merge_rows(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Two sightings of one hash in one batch: the later refreshes, the earlier fills."""
    merged = dict(old)
    for key in ("seeders", "leechers"):
        if new[key] is not None:
            merged[key] = new[key]
    merged["trackers"] = _tracker_union(old["trackers"], new["trackers"])
    for key in _FILLED:
        if merged[key] is None:
            merged[key] = new[key]
    return merged


def _upsert_torrents(conn: Connection, rows: list[dict[str, Any]]) -> None:
    stmt = dialect_insert(conn, torrents)
    excluded = stmt.excluded
    t = torrents.c
    update: dict[str, Any] = {
        "last_seen": excluded.last_seen,
        "seeders": func.coalesce(excluded.seeders, t.seeders),
        "leechers": func.coalesce(excluded.leechers, t.leechers),
        "file_count": case((t.file_count == 0, excluded.file_count), else_=t.file_count),
    }
    update.update({name: func.coalesce(t[name], excluded[name]) for name in _FILLED})
    update["trackers"] = func.coalesce(excluded.trackers, t.trackers)  # already the union
    conn.execute(stmt.on_conflict_do_update(index_elements=[t.info_hash], set_=update), rows)


def _upsert_sightings(conn: Connection, items: Sequence[ClassifiedRecord], now: datetime) -> None:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        rec = item.record
        rows[(rec.source, rec.info_hash)] = {
            "source": rec.source,
            "info_hash": rec.info_hash,
            "source_url": rec.source_url,
            "seeders": rec.seeders,
            "leechers": rec.leechers,
            "first_seen": now,
            "seen_at": rec.seen_at,
            "category": rec.category,
            "details_at": rec.seen_at if rec.details_read else None,
        }
    stmt = dialect_insert(conn, sightings)
    s = sightings.c
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[s.source, s.info_hash],
            set_={
                "seeders": func.coalesce(stmt.excluded.seeders, s.seeders),
                "leechers": func.coalesce(stmt.excluded.leechers, s.leechers),
                "source_url": func.coalesce(stmt.excluded.source_url, s.source_url),
                "category": func.coalesce(stmt.excluded.category, s.category),
                "details_at": func.coalesce(stmt.excluded.details_at, s.details_at),
                "seen_at": stmt.excluded.seen_at,
            },
        ),
        list(rows.values()),
    )


def _keep_metainfo(conn: Connection, items: Sequence[ClassifiedRecord]) -> None:
    rows = {
        item.record.info_hash: {"info_hash": item.record.info_hash, "data": item.record.metainfo}
        for item in items
        if item.record.metainfo
    }
    if rows:
        stmt = dialect_insert(conn, metainfo).on_conflict_do_nothing()
        conn.execute(stmt, list(rows.values()))


def _count_ingest(
    conn: Connection, items: Sequence[ClassifiedRecord], created: Sequence[bool], now: datetime
) -> None:
    minute = now.replace(second=0, microsecond=0)
    counts: dict[str, list[int]] = {}
    for item, was_created in zip(items, created, strict=True):
        pair = counts.setdefault(item.record.source, [0, 0])
        pair[0 if was_created else 1] += 1
    stmt = dialect_insert(conn, ingest_counts)
    c = ingest_counts.c
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[c.minute, c.source],
            set_={
                "created": c.created + stmt.excluded.created,
                "updated": c.updated + stmt.excluded.updated,
            },
        ),
        [
            {"minute": minute, "source": src, "created": n_new, "updated": n_upd}
            for src, (n_new, n_upd) in counts.items()
        ],
    )


def replace_classifications(conn: Connection, results: Sequence[tuple[str, Classification]]) -> int:
    """Overwrite the classification of stored torrents where it changed; queue index updates.

    Unlike an upsert, which only fills gaps, this replaces: the classifier improved.
    Returns how many torrents changed.
    """
    if not results:
        return 0
    now = datetime.now(UTC)
    wanted = {info_hash: _classification_columns(cls) for info_hash, cls in results}
    columns = [torrents.c[name] for name in _CLASSIFIED]
    changed: list[dict[str, Any]] = []
    for chunk in in_chunks(list(wanted)):
        query = select(torrents.c.info_hash, *columns).where(torrents.c.info_hash.in_(chunk))
        for row in conn.execute(query):
            new = wanted[row.info_hash]
            if any(getattr(row, name) != new[name] for name in _CLASSIFIED):
                changed.append({"key": row.info_hash, **new})
    if changed:
        conn.execute(
            update(torrents)
            .where(torrents.c.info_hash == bindparam("key"))
            .values({name: bindparam(name) for name in _CLASSIFIED}),
            changed,
        )
        conn.execute(
            index_outbox.insert(), [{"info_hash": row["key"], "queued_at": now} for row in changed]
        )
        _queue_lookups(conn, [row["key"] for row in changed if row["kind"] in LOOKED_UP_KINDS], now)
    return len(changed)


def _classification_columns(cls: Classification) -> dict[str, Any]:
    return {
        "kind": cls.kind.value,
        "category": cls.category,
        "classified_by": cls.reason,
        "year": cls.year,
        "season": cls.season,
        "episode": cls.episode,
        "resolution": cls.resolution,
        "video_codec": cls.video_codec,
        "audio": cls.audio,
        "media_source": cls.media_source,
        "release_group": cls.release_group,
        "languages": ",".join(cls.languages) if cls.languages else None,
    }
