"""Info hashes, magnet links and .torrent files: the three ways a torrent reaches Minato.

Everything that enters the index is keyed by one canonical form, 40 lowercase hex
characters, so a torrent seen as a base32 magnet on one site and as a .torrent on
another lands on the same row. Hybrid v1+v2 torrents are keyed by their v1 hash;
v2-only ones by the truncated SHA-256 the DHT uses for them.

.torrent files go through libtorrent (`load_torrent_buffer`), because every
BitTorrent client that will later open the file uses the same rules: what it
refuses we refuse, with its reason, and what it sanitizes (``..``, ``/`` in
names, empty names) we store sanitized. Its 2.1 API is used throughout; the
deprecated `files()`/`trackers()`/`web_seeds()` accessors warn, and the test
suite turns warnings into errors. Magnets are parsed here with `urllib.parse`
so each refusal names the exact problem.
"""

from __future__ import annotations

import base64
import os
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

import libtorrent as lt

from engine.errors import InvalidRecord, InvalidTorrent
from engine.models import FileEntry

MAX_MAGNET_CHARS = 64 * 1024
DEFAULT_MAX_TORRENT_BYTES = 10 * 1024 * 1024

_HEX = frozenset(string.hexdigits)
_BASE32 = frozenset(string.ascii_uppercase + "234567")
_ZERO_HASH = "0" * 40
_BTMH_SHA256 = "1220"  # multihash prefix: sha2-256 (0x12), 32 bytes (0x20)
# libtorrent appends the error category and code, e.g. " [libtorrent:6]": noise for people.
_LT_CODE_SUFFIX = re.compile(r"\s*\[[\w-]+:\d+\]\s*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class MagnetInfo:
    """What a magnet link tells before any metadata is fetched."""

    info_hash: str
    name: str | None = None
    trackers: tuple[str, ...] = ()
    size: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedTorrent:
    """A .torrent file as libtorrent reads it, padding files removed.

    `info_hash` is the v1 hash, or the truncated v2 hash for v2-only torrents;
    `metainfo` is the exact input so the file can be served back unchanged.
    """

    info_hash: str
    info_hash_v2: str | None
    name: str
    files: tuple[FileEntry, ...]
    total_size: int
    trackers: tuple[str, ...]
    private: bool
    comment: str | None
    created_by: str | None
    creation_date: datetime | None
    web_seeds: tuple[str, ...]
    metainfo: bytes


def normalize_info_hash(value: str) -> str:
    """Return a v1 info hash as 40 lowercase hex characters.

    Sites publish hashes as hex in either case or as base32 (old magnets);
    comparing them requires a single spelling.

    Args:
        value: 40 hex or 32 base32 characters, surrounding whitespace allowed.

    Returns:
        The hash as 40 lowercase hex characters.

    Raises:
        InvalidRecord: on field "info_hash", naming what is wrong.
    """
    text = value.strip()
    if len(text) == 40:
        if not _HEX.issuperset(text):
            raise InvalidRecord("info_hash", "40 characters but not all hexadecimal (0-9, a-f)")
        result = text.lower()
    elif len(text) == 32:
        if not _BASE32.issuperset(text.upper()):
            raise InvalidRecord("info_hash", "32 characters but not base32 (A-Z, 2-7)")
        # 32 base32 characters are exactly 20 bytes: no padding, so no decode error.
        result = base64.b32decode(text.upper()).hex()
    elif not text:
        raise InvalidRecord("info_hash", "is empty")
    elif len(text) == 64 and _HEX.issuperset(text):
        raise InvalidRecord("info_hash", "64 hex characters is a v2 (SHA-256) hash; expected v1")
    else:
        raise InvalidRecord("info_hash", f"must be 40 hex or 32 base32 characters, got {len(text)}")
    if result == _ZERO_HASH:
        raise InvalidRecord("info_hash", "is all zeros")
    return result


def parse_magnet(uri: str) -> MagnetInfo:
    """Read the hash, name, trackers and size of a magnet link.

    A v1 hash (`urn:btih:`) wins over a v2 one (`urn:btmh:`) so hybrid torrents
    get the same key as their .torrent; a v2-only magnet is keyed by the
    truncated SHA-256, which is what the DHT announces it under. A bad `xl` is
    ignored rather than refused: it is only a hint, the hash is what matters.

    Args:
        uri: The magnet link.

    Returns:
        The parsed magnet.

    Raises:
        InvalidRecord: on field "magnet", naming what is wrong.
    """
    text = uri.strip()
    if len(text) > MAX_MAGNET_CHARS:
        raise InvalidRecord("magnet", f"longer than {MAX_MAGNET_CHARS} characters")
    if text[:8].lower() != "magnet:?":
        raise InvalidRecord("magnet", "must start with 'magnet:?'")
    params = parse_qsl(text[8:], keep_blank_values=True)
    v1: str | None = None
    v2: str | None = None
    names: list[str] = []
    trackers: list[str] = []
    size: int | None = None
    for key, value in params:
        key = key.lower()
        if key == "xt" or key.startswith("xt."):  # BEP 9 allows xt.1, xt.2, ...
            urn = value.strip()
            prefix = urn[:9].lower()
            if prefix == "urn:btih:" and v1 is None:
                v1 = _magnet_v1(urn[9:])
            elif prefix == "urn:btmh:" and v2 is None:
                v2 = _magnet_v2(urn[9:])
        elif key == "dn" and value.strip():
            names.append(value)
        elif key == "tr":
            trackers.append(value)
        elif key == "xl" and size is None and value.strip().isdecimal():
            size = int(value.strip())
    info_hash = v1 or v2
    if info_hash is None:
        raise InvalidRecord("magnet", "no BitTorrent hash (xt=urn:btih:... or xt=urn:btmh:...)")
    return MagnetInfo(
        info_hash=info_hash,
        name=names[0] if names else None,
        trackers=_unique(trackers),
        size=size,
    )


def build_magnet(info_hash: str, name: str | None, trackers: Sequence[str]) -> str:
    """Build a magnet link for a result, the way Torznab clients expect it.

    Every value is percent-encoded (no '+' for spaces), so `parse_magnet` and
    any client read back exactly what went in.

    Args:
        info_hash: Any form `normalize_info_hash` accepts.
        name: Display name (`dn`), left out when None or blank.
        trackers: Announce URLs (`tr`), blanks and repeats dropped.

    Returns:
        The magnet URI.

    Raises:
        InvalidRecord: when the info hash is invalid.
    """
    parts = [f"xt=urn:btih:{normalize_info_hash(info_hash)}"]
    if name is not None and name.strip():
        parts.append(f"dn={quote(name, safe='')}")
    parts.extend(f"tr={quote(tracker, safe='')}" for tracker in _unique(trackers))
    return "magnet:?" + "&".join(parts)


def parse_torrent(data: bytes, *, max_bytes: int = DEFAULT_MAX_TORRENT_BYTES) -> ParsedTorrent:
    """Parse a .torrent file with libtorrent.

    Args:
        data: The raw file; `bytearray` and `memoryview` are copied to bytes.
        max_bytes: Larger inputs are refused before libtorrent sees them, so a
            hostile upload cannot make it allocate for a huge bdecode.

    Returns:
        The torrent's identity, files and announce data.

    Raises:
        InvalidTorrent: too large, or libtorrent refused it (its reason is kept).
    """
    raw = bytes(data)
    if len(raw) > max_bytes:
        raise InvalidTorrent(f"torrent file too large: {len(raw)} bytes, limit {max_bytes} bytes")
    try:
        params = lt.load_torrent_buffer(raw)
    except (RuntimeError, TypeError, ValueError) as exc:  # Boost's ArgumentError is a TypeError
        reason = _LT_CODE_SUFFIX.sub("", str(exc)) or type(exc).__name__
        raise InvalidTorrent(f"invalid torrent: {reason}") from exc
    info = params.ti
    if info is None:  # not seen in 2.1.1: a parse that succeeds always sets it
        raise InvalidTorrent("invalid torrent: libtorrent returned no torrent info")
    hashes = info.info_hashes()
    layout = info.layout()

    v2 = str(hashes.v2) if hashes.has_v2() else None
    v1 = str(hashes.v1) if hashes.has_v1() else None
    files = tuple(
        # file_path() joins with the OS separator; stored paths always use '/'.
        FileEntry(path=layout.file_path(i).replace(os.sep, "/"), size=layout.file_size(i))
        for i in range(layout.num_files())
        if not layout.file_flags(i) & lt.file_storage.flag_pad_file
    )
    return ParsedTorrent(
        info_hash=v1 or (v2 or "")[:40],
        info_hash_v2=v2,
        name=info.name(),
        files=files,
        total_size=sum(entry.size for entry in files),
        trackers=_unique(params.trackers),  # already in tier order: flattening keeps it
        private=bool(info.priv()),
        comment=params.comment or None,
        created_by=params.created_by or None,
        creation_date=_timestamp(params.creation_date),
        web_seeds=_web_seeds(params),
        metainfo=raw,
    )


def _magnet_v1(value: str) -> str:
    try:
        return normalize_info_hash(value)
    except InvalidRecord as exc:
        raise InvalidRecord("magnet", f"urn:btih hash {exc.reason}") from exc


def _magnet_v2(value: str) -> str:
    text = value.strip().lower()
    if len(text) != 68 or not text.startswith(_BTMH_SHA256) or not _HEX.issuperset(text):
        raise InvalidRecord("magnet", "urn:btmh hash must be '1220' followed by 64 hex characters")
    truncated = text[4:44]
    if truncated == _ZERO_HASH:
        raise InvalidRecord("magnet", "urn:btmh hash is all zeros")
    return truncated


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    """Strip, drop blanks and repeats, keep first-seen order (tier order for trackers)."""
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))


def _timestamp(seconds: int) -> datetime | None:
    """Map libtorrent's creation date to UTC; 0 (missing or negative) and absurd ones to None."""
    if seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _web_seeds(params: lt.add_torrent_params) -> tuple[str, ...]:
    """Return the BEP 19 url-list seeds (libtorrent 2.x ignores BEP 17 `httpseeds`).

    libtorrent sanitizes names and comments but hands url-list entries over
    raw, and Boost.Python cannot convert invalid UTF-8 to `str`. One bad URL
    should not cost us an otherwise good torrent, so such lists are dropped.
    """
    try:
        seeds = params.url_seeds
    except UnicodeDecodeError:
        return ()
    return _unique(seeds)
