"""What a crawler already knows about the rows of a listing page, before it reads detail pages.

A deep crawl follows each row's detail page only when that adds something: the
torrent is new, or has no files yet, or this source's detail page was last read
long ago. These reads answer that for a whole page in two queries: by detail URL
(sites whose listings show only a link) and by info hash (sites whose listings
carry it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, select

from engine.store.batches import in_chunks
from engine.store.schema import sightings, torrents


@dataclass(frozen=True, slots=True)
class KnownTorrent:
    """A stored torrent as a crawler sees it."""

    info_hash: str
    has_files: bool
    details_at: datetime | None
    """When this source's detail page of it was last read; None: never."""


def known_by_url(conn: Connection, source: str, urls: Sequence[str]) -> dict[str, KnownTorrent]:
    """The torrents `source` reported at each of `urls` (its detail pages), by URL."""
    found: dict[str, KnownTorrent] = {}
    s, t = sightings.c, torrents.c
    for chunk in in_chunks(list(dict.fromkeys(urls))):
        query = (
            select(s.source_url, s.info_hash, t.file_count, s.details_at)
            .join(torrents, t.info_hash == s.info_hash)
            .where(s.source == source, s.source_url.in_(chunk))
        )
        for url, info_hash, file_count, details_at in conn.execute(query):
            found[url] = KnownTorrent(info_hash, file_count > 0, details_at)
    return found


def known_by_hash(conn: Connection, source: str, hashes: Sequence[str]) -> dict[str, KnownTorrent]:
    """The stored torrents among `hashes` (from any source), with `source`'s detail time."""
    found: dict[str, KnownTorrent] = {}
    s, t = sightings.c, torrents.c
    for chunk in in_chunks(list(dict.fromkeys(hashes))):
        query = (
            select(t.info_hash, t.file_count, s.details_at)
            .outerjoin(sightings, and_(s.info_hash == t.info_hash, s.source == source))
            .where(t.info_hash.in_(chunk))
        )
        for info_hash, file_count, details_at in conn.execute(query):
            found[info_hash] = KnownTorrent(info_hash, file_count > 0, details_at)
    return found


class SightingLookup:
    """The reads above on the reader engine (the crawler calls them from a thread)."""

    def __init__(self, reader: Engine) -> None:
        self._reader = reader

    def by_url(self, source: str, urls: Sequence[str]) -> dict[str, KnownTorrent]:
        """`known_by_url` in a connection of its own."""
        with self._reader.connect() as conn:
            return known_by_url(conn, source, urls)

    def by_hash(self, source: str, hashes: Sequence[str]) -> dict[str, KnownTorrent]:
        """`known_by_hash` in a connection of its own."""
        with self._reader.connect() as conn:
            return known_by_hash(conn, source, hashes)
