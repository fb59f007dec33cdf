"""Normalization, the pipeline's first step: `RawRecord` -> `TorrentRecord`, or a reason why not.

Info hashes become 40 lowercase hex (from hex, base32 or a magnet), times
become tz-aware UTC, titles lose control characters, and ids get one spelling.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from engine.errors import InvalidRecord
from engine.models import FileEntry, RawRecord, TorrentRecord
from engine.torrent import normalize_info_hash, parse_magnet

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")  # C0, DEL and C1 controls
_NUL = re.compile("\x00")  # PostgreSQL text cannot hold it; SQLite would keep it silently
_IMDB = re.compile(r"^(?:tt)?(\d{5,10})$", re.IGNORECASE)
_FUTURE_SLACK = timedelta(days=1)  # clock skew between a site and us


def normalize(raw: RawRecord, now: datetime) -> TorrentRecord:
    """Check and canonicalize one record.

    Raises:
        InvalidRecord: a field is unusable; the message names it.
    """
    info_hash, trackers, size = _identity(raw)
    title = _CONTROL.sub(" ", raw.title).strip()
    if not title:
        raise InvalidRecord("title", "must not be empty")
    return TorrentRecord(
        info_hash=info_hash,
        title=title,
        source=raw.source,
        seen_at=now,
        size=size,
        seeders=raw.seeders,
        leechers=raw.leechers,
        source_url=_one_line(raw.source_url),
        category=raw.category.strip() if raw.category and raw.category.strip() else None,
        published_at=_utc(raw.published_at, now),
        files=_clean_files(raw.files),
        description=_NUL.sub("", raw.description or "") or None,
        imdb_id=_imdb(raw.imdb_id),
        tmdb_id=raw.tmdb_id,
        tvdb_id=raw.tvdb_id,
        trackers=tuple(t for t in (_one_line(t) for t in trackers) if t),
        metainfo=raw.metainfo,
        details_read=raw.details_read,
    )


def _one_line(value: str | None) -> str | None:
    """URLs and tracker addresses: no control characters at all."""
    if value is None:
        return None
    return _CONTROL.sub("", value).strip() or None


def _clean_files(entries: tuple[FileEntry, ...]) -> tuple[FileEntry, ...]:
    if not any(_CONTROL.search(f.path) for f in entries):
        return entries
    return tuple(FileEntry(path=_CONTROL.sub("_", f.path), size=f.size) for f in entries)


def _identity(raw: RawRecord) -> tuple[str, tuple[str, ...], int | None]:
    """Info hash, trackers and size, from the record's own fields and its magnet."""
    trackers = raw.trackers
    size = raw.size
    info_hash = normalize_info_hash(raw.info_hash) if raw.info_hash is not None else None
    if raw.magnet is not None:
        magnet = parse_magnet(raw.magnet)
        if info_hash is not None and magnet.info_hash != info_hash:
            raise InvalidRecord("magnet", "its info hash differs from info_hash")
        info_hash = magnet.info_hash
        trackers = tuple(dict.fromkeys((*trackers, *magnet.trackers)))
        size = size if size is not None else magnet.size
    if info_hash is None:
        raise InvalidRecord("info_hash", "either info_hash or magnet is required")
    return info_hash, trackers, size


def _utc(value: datetime | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if value > now + _FUTURE_SLACK:
        raise InvalidRecord("published_at", f"is in the future ({value.isoformat()})")
    if value.year < 1990:
        raise InvalidRecord("published_at", f"is before BitTorrent existed ({value.isoformat()})")
    return value


def plausible_date(value: datetime | None, now: datetime | None = None) -> datetime | None:
    """`value` if a record could carry it as `published_at`, else None.

    .torrent creation dates are optional metadata, often 0 or garbage: a bad
    one must not cost the whole torrent, so it is dropped instead of refused.
    """
    try:
        return _utc(value, now or datetime.now(UTC))
    except InvalidRecord:
        return None


def _imdb(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    match = _IMDB.match(value.strip())
    if match is None:
        raise InvalidRecord("imdb_id", f"must look like tt1234567, got {value[:20]!r}")
    return f"tt{int(match.group(1)):07d}"
