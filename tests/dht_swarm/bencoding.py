"""A tiny bencoder and bdecoder of our own, so expectations do not come from libtorrent.

Shared by the DHT harness and tests/engine/test_torrent.py (hand-made .torrent files).

``bdecode_prefix`` tolerates trailing bytes (a BEP 9 data message is a dict followed by
the piece) and ``info_section`` finds the exact ``info`` span of a .torrent, which is what
the info hashes hash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Bencodable = (
    int
    | bytes
    | str
    | Sequence["Bencodable"]
    | Mapping[bytes, "Bencodable"]
    | Mapping[str, "Bencodable"]
)


def bencode(value: Bencodable) -> bytes:
    """Encode ints, bytes, str (UTF-8), lists and dicts (keys sorted as bytes)."""
    if isinstance(value, bool):
        raise TypeError("bencode has no booleans")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, Sequence):
        return b"l" + b"".join(bencode(item) for item in value) + b"e"
    items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
    return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"


def bdecode_prefix(data: bytes, start: int = 0) -> tuple[object, int]:
    """Decode one value at ``data[start:]``; return it and the offset just after it.

    Trailing bytes are allowed (a BEP 9 data message is a dict followed by the piece).

    Raises:
        ValueError: the bytes are not bencoding.
    """
    head = data[start : start + 1]
    if head == b"i":
        end = data.index(b"e", start)
        return int(data[start + 1 : end]), end + 1
    if head in (b"l", b"d"):
        items: list[object] = []
        pos = start + 1
        while data[pos : pos + 1] != b"e":
            if pos >= len(data):
                raise ValueError("unterminated list or dict")
            item, pos = bdecode_prefix(data, pos)
            items.append(item)
        if head == b"l":
            return items, pos + 1
        return dict(zip(items[::2], items[1::2], strict=True)), pos + 1
    if head.isdigit():
        colon = data.index(b":", start)
        end = colon + 1 + int(data[start:colon])
        if end > len(data):
            raise ValueError("string runs past the end")
        return data[colon + 1 : end], end
    raise ValueError(f"not bencoding at offset {start}: {head!r}")


def info_section(metainfo: bytes) -> bytes:
    """The exact bytes of the ``info`` value in a .torrent (what the info hash hashes)."""
    if metainfo[:1] != b"d":
        raise ValueError("a .torrent is a bencoded dict")
    pos = 1
    while metainfo[pos : pos + 1] != b"e":
        key, pos = bdecode_prefix(metainfo, pos)
        start = pos
        _, pos = bdecode_prefix(metainfo, pos)
        if key == b"info":
            return metainfo[start:pos]
    raise ValueError("no info dict in the .torrent")
