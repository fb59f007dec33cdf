"""Reads: hydrate search hits and torrent details, build index documents, read the outbox.

Every function takes a `Connection` from the reader engine and returns domain
records from `engine.models`; rows never leave this module.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, func, literal_column, select

from engine.models import (
    ContentKind,
    FileEntry,
    IndexDocument,
    Sighting,
    Torrent,
    TorrentSummary,
)
from engine.store.batches import in_chunks
from engine.store.schema import files, index_outbox, metainfo, sightings, torrents
from engine.torrent import build_magnet


@dataclass(frozen=True, slots=True)
class ClassifyInput:
    """One stored torrent as the classifier sees it."""

    info_hash: str
    title: str
    files: tuple[FileEntry, ...]
    category: str | None


_KINDS = {kind.value: kind for kind in ContentKind}
_FILES_TEXT_LIMIT = 4000  # characters of file paths indexed per torrent


def _sources_by_hash(conn: Connection, hashes: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for chunk in in_chunks(hashes):
        query = (
            select(sightings.c.info_hash, sightings.c.source)
            .where(sightings.c.info_hash.in_(chunk))
            .order_by(sightings.c.info_hash, sightings.c.source)
        )
        for info_hash, source in conn.execute(query):
            found.setdefault(info_hash, []).append(source)
    return found


_SUMMARY_COLUMNS = tuple(c for c in torrents.c if c.name != "description")
"""What a summary shows: every column but the free-text description, which can be long."""


def _summary(row: Row[Any], sources: Sequence[str], *, has_metainfo: bool) -> TorrentSummary:
    kind = row.kind
    return TorrentSummary(
        info_hash=row.info_hash,
        title=row.title,
        size=row.size,
        file_count=row.file_count,
        kind=_KINDS.get(kind) if kind else None,
        category=row.category,
        seeders=row.seeders,
        leechers=row.leechers,
        published_at=row.published_at,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        year=row.year,
        season=row.season,
        episode=row.episode,
        resolution=row.resolution,
        video_codec=row.video_codec,
        audio=row.audio,
        media_source=row.media_source,
        release_group=row.release_group,
        languages=tuple(row.languages.split(",")) if row.languages else (),
        imdb_id=row.imdb_id,
        tmdb_id=row.tmdb_id,
        tvdb_id=row.tvdb_id,
        anilist_id=row.anilist_id,
        mal_id=row.mal_id,
        musicbrainz_id=row.musicbrainz_id,
        enriched_by=row.enriched_by,
        sources=tuple(sources),
        magnet=build_magnet(row.info_hash, row.title, _trackers(row.trackers)),
        has_metainfo=has_metainfo,
    )


def _trackers(stored: str | None) -> tuple[str, ...]:
    return tuple(stored.split("\n")) if stored else ()


def summaries(conn: Connection, hashes: Sequence[str]) -> dict[str, TorrentSummary]:
    """Summaries of the torrents among `hashes` that exist, keyed by info hash."""
    hashes = list(dict.fromkeys(hashes))
    sources = _sources_by_hash(conn, hashes)
    found: dict[str, TorrentSummary] = {}
    for chunk in in_chunks(hashes):
        kept = _with_metainfo(conn, chunk)
        query = select(*_SUMMARY_COLUMNS).where(torrents.c.info_hash.in_(chunk))
        for row in conn.execute(query):
            found[row.info_hash] = _summary(
                row, sources.get(row.info_hash, ()), has_metainfo=row.info_hash in kept
            )
    return found


def _with_metainfo(conn: Connection, hashes: Sequence[str]) -> set[str]:
    """The hashes among `hashes` (one chunk) whose .torrent file is kept."""
    query = select(metainfo.c.info_hash).where(metainfo.c.info_hash.in_(hashes))
    return set(conn.execute(query).scalars())


def torrent_detail(conn: Connection, info_hash: str) -> Torrent | None:
    """Everything about one torrent, or None when it is unknown."""
    row = conn.execute(select(torrents).where(torrents.c.info_hash == info_hash)).first()
    if row is None:
        return None
    sighting_rows = conn.execute(
        select(sightings).where(sightings.c.info_hash == info_hash).order_by(sightings.c.source)
    ).all()
    file_rows = conn.execute(
        select(files.c.path, files.c.size)
        .where(files.c.info_hash == info_hash)
        .order_by(files.c.id)
    ).all()
    has_metainfo = info_hash in _with_metainfo(conn, [info_hash])
    return Torrent(
        summary=_summary(row, [s.source for s in sighting_rows], has_metainfo=has_metainfo),
        files=tuple(FileEntry(path=f.path, size=f.size) for f in file_rows),
        sightings=tuple(
            Sighting(
                source=s.source,
                source_url=s.source_url,
                seeders=s.seeders,
                leechers=s.leechers,
                seen_at=s.seen_at,
            )
            for s in sighting_rows
        ),
        trackers=_trackers(row.trackers),
        description=row.description,
    )


def metainfo_bytes(conn: Connection, info_hash: str) -> bytes | None:
    """The kept .torrent file of a torrent, if any."""
    data = conn.execute(
        select(metainfo.c.data).where(metainfo.c.info_hash == info_hash)
    ).scalar_one_or_none()
    return bytes(data) if data is not None else None


def known_trackers(conn: Connection, info_hash: str) -> tuple[str, ...]:
    """Every tracker any source reported for a torrent (empty when unknown)."""
    stored = conn.execute(
        select(torrents.c.trackers).where(torrents.c.info_hash == info_hash)
    ).scalar_one_or_none()
    return _trackers(stored)


def classified_hashes(conn: Connection, hashes: Sequence[str]) -> set[str]:
    """The hashes among `hashes` already stored with a classification (no need to parse again)."""
    found: set[str] = set()
    for chunk in in_chunks(list(dict.fromkeys(hashes))):
        query = select(torrents.c.info_hash).where(
            torrents.c.info_hash.in_(chunk), torrents.c.kind.is_not(None)
        )
        found.update(conn.execute(query).scalars())
    return found


def index_documents(conn: Connection, hashes: Sequence[str]) -> list[IndexDocument]:
    """The search-index documents for the torrents among `hashes` that exist."""
    hashes = list(dict.fromkeys(hashes))
    sources = _sources_by_hash(conn, hashes)
    paths: dict[str, list[str]] = {}
    docs: list[IndexDocument] = []
    for chunk in in_chunks(hashes):
        query = (
            select(files.c.info_hash, files.c.path)
            .where(files.c.info_hash.in_(chunk))
            .order_by(files.c.id)
        )
        for info_hash, path in conn.execute(query):
            paths.setdefault(info_hash, []).append(path)
        rows = conn.execute(select(torrents).where(torrents.c.info_hash.in_(chunk)))
        docs.extend(_document(row, paths, sources) for row in rows)
    return docs


def _document(
    row: Row[Any], paths: dict[str, list[str]], sources: dict[str, list[str]]
) -> IndexDocument:
    return IndexDocument(
        info_hash=row.info_hash,
        title=row.title,
        files_text=" ".join(paths.get(row.info_hash, ()))[:_FILES_TEXT_LIMIT],
        kind=row.kind,
        category=row.category,
        year=row.year,
        season=row.season,
        episode=row.episode,
        resolution=row.resolution,
        sources=tuple(sources.get(row.info_hash, ())),
        imdb_id=row.imdb_id,
        tmdb_id=row.tmdb_id,
        tvdb_id=row.tvdb_id,
        seeders=row.seeders or 0,
        size=row.size or 0,
        published_at=row.published_at or row.first_seen,
    )


def outbox_batch(conn: Connection, limit: int) -> list[tuple[int, str]]:
    """The oldest outbox rows (id, info hash), at most `limit`."""
    query = (
        select(index_outbox.c.id, index_outbox.c.info_hash).order_by(index_outbox.c.id).limit(limit)
    )
    return [(row_id, info_hash) for row_id, info_hash in conn.execute(query)]


def outbox_size(conn: Connection) -> int:
    """How many index updates wait (the search-index backlog)."""
    return int(conn.execute(select(func.count()).select_from(index_outbox)).scalar_one())


def source_names(conn: Connection) -> list[str]:
    """Every source that reported a torrent, by name (uploads and workers included).

    A loose index scan over the sightings key (source first): one lookup per source,
    not a pass over every sighting, so the search tab can ask it often at millions.
    """
    s = sightings.c
    step = select(func.min(s.source)).where(s.source > literal_column("walk.source"))
    walk = select(func.min(s.source).label("source")).cte("walk", recursive=True)
    walk = walk.union_all(select(step.scalar_subquery()).where(walk.c.source.is_not(None)))
    rows = conn.execute(select(walk.c.source).where(walk.c.source.is_not(None))).scalars()
    return [str(name) for name in rows]


def torrent_count(conn: Connection) -> int:
    """How many torrents the database holds."""
    return int(conn.execute(select(func.count()).select_from(torrents)).scalar_one())


def hash_pages(conn: Connection, page_size: int) -> Iterator[list[str]]:
    """Every info hash, in pages (keyset paging: stable and cheap at millions of rows)."""
    last = ""
    while True:
        query = (
            select(torrents.c.info_hash)
            .where(torrents.c.info_hash > last)
            .order_by(torrents.c.info_hash)
            .limit(page_size)
        )
        page = list(conn.execute(query).scalars())
        if not page:
            return
        yield page
        last = page[-1]


def classification_inputs(conn: Connection, hashes: Sequence[str]) -> list[ClassifyInput]:
    """What the classifier needs for each torrent: title, files, a source's own category."""
    found: list[ClassifyInput] = []
    for chunk in in_chunks(hashes):
        paths: dict[str, list[FileEntry]] = {}
        for info_hash, path, size in conn.execute(
            select(files.c.info_hash, files.c.path, files.c.size)
            .where(files.c.info_hash.in_(chunk))
            .order_by(files.c.id)
        ):
            paths.setdefault(info_hash, []).append(FileEntry(path=path, size=size))
        labels: dict[str, str] = {}
        for info_hash, label in conn.execute(
            select(sightings.c.info_hash, sightings.c.category)
            .where(sightings.c.info_hash.in_(chunk), sightings.c.category.is_not(None))
            .order_by(sightings.c.info_hash, sightings.c.seen_at)
        ):
            labels.setdefault(info_hash, label)
        for info_hash, title in conn.execute(
            select(torrents.c.info_hash, torrents.c.title).where(torrents.c.info_hash.in_(chunk))
        ):
            found.append(
                ClassifyInput(
                    info_hash=info_hash,
                    title=title,
                    files=tuple(paths.get(info_hash, ())),
                    category=labels.get(info_hash),
                )
            )
    return found


def hashes_with_files(conn: Connection, hashes: Sequence[str]) -> set[str]:
    """Those of `hashes` stored with a file list (nothing more to learn from their metadata)."""
    found: set[str] = set()
    for chunk in in_chunks(list(dict.fromkeys(hashes))):
        query = select(torrents.c.info_hash).where(
            torrents.c.info_hash.in_(chunk), torrents.c.file_count > 0
        )
        found.update(conn.execute(query).scalars())
    return found
