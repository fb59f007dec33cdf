"""Serving a kept .torrent file with every tracker Minato knows, info hash untouched.

A file arrives with the trackers its author put in; other sources (magnets, feeds,
sites) often report more. A client downloading the file from Minato should get all
of them, but the `info` dictionary must stay byte for byte what it was: its SHA-1 is
the info hash, and re-encoding a decoded dictionary can change it (unsorted keys,
non-canonical integers in files made by sloppy tools). So the top-level dictionary is
split into its keys and *raw* value bytes, only `announce`/`announce-list` are
rebuilt, and everything else is copied as it was.

The bytes come from our own store, where `engine.torrent.parse_torrent` (libtorrent)
already accepted them; malformed input still raises `InvalidTorrent` rather than
producing a broken file.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.errors import InvalidTorrent

_MAX_DEPTH = 64  # nesting deeper than any real torrent; bounds the scanner's stack


def with_trackers(data: bytes, trackers: Sequence[str]) -> bytes:
    """`data` with `trackers` added to its announce list (each in a tier of its own).

    Trackers the file already names keep their tiers and order; new ones follow,
    in the order given. When nothing is new the input is returned unchanged.

    Raises:
        InvalidTorrent: `data` is not a bencoded dictionary.
    """
    entries = _top_level(data)
    tiers = _tiers(entries)
    known = {url for tier in tiers for url in tier}
    added = [url for url in dict.fromkeys(t.strip() for t in trackers) if url and url not in known]
    if not added:
        return data
    tiers += [[url] for url in added]
    rebuilt = dict(entries)
    rebuilt[b"announce-list"] = _encode_tiers(tiers)
    if b"announce" not in rebuilt:
        rebuilt[b"announce"] = _encode_bytes(tiers[0][0].encode())
    body = b"".join(_encode_bytes(key) + rebuilt[key] for key in sorted(rebuilt))
    return b"d" + body + b"e"


def _tiers(entries: dict[bytes, bytes]) -> list[list[str]]:
    """The announce tiers as BEP 12 reads them: `announce-list`, else `announce` alone."""
    tiers: list[list[str]] = []
    raw_list = entries.get(b"announce-list")
    if raw_list is not None:
        decoded = _decode(raw_list, 0, 0)[0]
        if isinstance(decoded, list):
            for tier in decoded:
                if isinstance(tier, list):
                    urls = [_text(url) for url in tier if isinstance(url, bytes)]
                    if urls:
                        tiers.append(urls)
    if not tiers and b"announce" in entries:
        announce = _decode(entries[b"announce"], 0, 0)[0]
        if isinstance(announce, bytes) and announce:
            tiers.append([_text(announce)])
    return tiers


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _top_level(data: bytes) -> dict[bytes, bytes]:
    """The top-level dictionary as key -> raw bencoded value, in file order."""
    if not data.startswith(b"d"):
        raise InvalidTorrent("invalid torrent: not a bencoded dictionary")
    entries: dict[bytes, bytes] = {}
    pos = 1
    while pos < len(data) and data[pos : pos + 1] != b"e":
        key, pos = _decode_bytes(data, pos)
        end = _skip(data, pos, 0)
        entries[key] = data[pos:end]
        pos = end
    if pos >= len(data):
        raise InvalidTorrent("invalid torrent: the top-level dictionary is not closed")
    return entries


def _skip(data: bytes, pos: int, depth: int) -> int:
    """The offset just past the value starting at `pos`."""
    return _decode(data, pos, depth, keep=False)[1]


def _decode(
    data: bytes, pos: int, depth: int, *, keep: bool = True
) -> tuple[int | bytes | list[object] | dict[bytes, object] | None, int]:
    """One value and the offset after it; with `keep=False` only the offset is computed."""
    if depth > _MAX_DEPTH:
        raise InvalidTorrent("invalid torrent: nested too deeply")
    if pos >= len(data):
        raise InvalidTorrent("invalid torrent: the data ends early, in the middle of a value")
    lead = data[pos : pos + 1]
    if lead == b"i":
        end = data.find(b"e", pos)
        if end < 0:
            raise InvalidTorrent("invalid torrent: an integer is not closed")
        try:
            number = int(data[pos + 1 : end])
        except ValueError as exc:
            raise InvalidTorrent("invalid torrent: a malformed integer") from exc
        return (number if keep else None), end + 1
    if lead in (b"l", b"d"):
        items: list[object] = []
        pos += 1
        while data[pos : pos + 1] != b"e":
            if pos >= len(data):
                raise InvalidTorrent("invalid torrent: a list or dictionary is not closed")
            value, pos = _decode(data, pos, depth + 1, keep=keep)
            items.append(value)
        if not keep:
            return None, pos + 1
        if lead == b"l":
            return items, pos + 1
        pairs = {
            k: v for k, v in zip(items[::2], items[1::2], strict=False) if isinstance(k, bytes)
        }
        return pairs, pos + 1
    raw, end = _decode_bytes(data, pos)
    return (raw if keep else None), end


def _decode_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    colon = data.find(b":", pos, pos + 21)
    if colon < 0 or not data[pos:colon].isdigit():
        raise InvalidTorrent(f"invalid torrent: expected a string at byte {pos}")
    start = colon + 1
    end = start + int(data[pos:colon])
    if end > len(data):
        raise InvalidTorrent("invalid torrent: a string runs past the end")
    return data[start:end], end


def _encode_bytes(raw: bytes) -> bytes:
    return str(len(raw)).encode() + b":" + raw


def _encode_tiers(tiers: list[list[str]]) -> bytes:
    return (
        b"l"
        + b"".join(
            b"l" + b"".join(_encode_bytes(url.encode()) for url in tier) + b"e" for tier in tiers
        )
        + b"e"
    )
