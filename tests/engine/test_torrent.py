"""Tests for engine.torrent: info hashes, magnets and .torrent parsing.

The .torrent fixtures are real files from FlexGet's and libtorrent's test suites
(tests/fixtures/MANIFEST.tsv). Expected hashes, file lists and sizes are worked
out here independently of libtorrent, with hashlib and a tiny bdecoder that
slices the raw `info` dictionary out of the file.

Which libtorrent fixtures are "malformed" was decided by what libtorrent 2.1.1
does, not by their names: several odd ones (absolute, backslash, slash, parent
and empty paths, duplicate files, names that are empty or start with a
backslash) load fine and come back sanitized, and are tested as such.
"""

from __future__ import annotations

import base64
import hashlib
import random
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.errors import InvalidRecord, InvalidTorrent
from engine.models import FileEntry
from engine.torrent import (
    MagnetInfo,
    ParsedTorrent,
    build_magnet,
    normalize_info_hash,
    parse_magnet,
    parse_torrent,
)
from tests.dht_swarm.bencoding import bdecode_prefix as bdecode
from tests.dht_swarm.bencoding import bencode

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "torrents"

HEX = "14ffe5dd23188fd5cb53a1d47f1289db70abf31e"
V2_HEX = "95e04d0c4bad94ab206efa884666fd89777dbe4f7bd9945af1829037a85c6192"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str) -> ParsedTorrent:
    return parse_torrent(read(name))


# bencode / bdecode: the tests' own, independent of libtorrent (tests/dht_swarm/bencoding.py)


def raw_info(data: bytes) -> bytes:
    """The exact bytes of the top-level `info` value: what the info hash is taken over."""
    pos = 1
    while data[pos : pos + 1] != b"e":
        key, pos = bdecode(data, pos)
        _, end = bdecode(data, pos)
        if key == b"info":
            return data[pos:end]
        pos = end
    raise AssertionError("no info dictionary")


def is_pad(entry: dict[bytes, Any]) -> bool:
    """BEP 47 `attr` p, or BitComet's legacy `_____padding_file_` names."""
    return b"p" in entry.get(b"attr", b"") or entry[b"path"][-1].startswith(b"_____padding_file_")


def v1_files(info: dict[bytes, Any]) -> list[FileEntry]:
    """The non-pad files of a v1 info dictionary, as paths under the torrent name."""
    name = info[b"name"].decode()
    if b"files" not in info:
        return [FileEntry(path=name, size=info[b"length"])]
    return [
        FileEntry(path="/".join([name, *(p.decode() for p in f[b"path"])]), size=f[b"length"])
        for f in info[b"files"]
        if not is_pad(f)
    ]


def tiny_torrent(
    top: dict[bytes, Any] | None = None, info: dict[bytes, Any] | None = None
) -> bytes:
    """A minimal valid single-file v1 torrent, with extra top-level and info keys."""
    base = {b"name": b"tiny", b"length": 5, b"piece length": 16384, b"pieces": b"\x01" * 20}
    return bencode({**(top or {}), b"info": {**base, **(info or {})}})


# --- .torrent files: the good ones --------------------------------------------------

GOOD = [
    "flexget_LICENSE.torrent",
    "flexget_multi.torrent",
    "flexget_multi_file_with_diff.torrent",
    "flexget_private.torrent",
    "flexget_test.torrent",
    "libtorrent_creation_date.torrent",
    "libtorrent_httpseed.torrent",
    "libtorrent_no_creation_date.torrent",
    "libtorrent_pad_file.torrent",
    "libtorrent_sample.torrent",
    "libtorrent_unordered.torrent",
    "libtorrent_url_list.torrent",
    "libtorrent_url_seed_multi.torrent",
    "libtorrent_v2.torrent",
    "libtorrent_v2_hybrid.torrent",
    "libtorrent_v2_only.torrent",
]

# Odd on purpose, yet libtorrent 2.1.1 loads them and sanitizes the names:
# each "/", "\\", "..", "." or empty path element becomes "_", a leading "/" or
# "\\" is dropped, an empty torrent name becomes "_", and a 300-character name
# is cut to 240 characters plus its extension. Duplicate paths are kept as they
# are (clients rename them only when adding the torrent).
LONG_NAME = "abcdefghij0123456789" * 12 + ".23456789"
SANITIZED = {
    "libtorrent_long_name.torrent": (LONG_NAME, [LONG_NAME]),
    "libtorrent_absolute_filename.torrent": ("temp", ["temp/abcde", "temp/foobar"]),
    "libtorrent_backslash_path.torrent": ("temp", ["temp/_/_/bar"]),
    "libtorrent_slash_path.torrent": ("temp", ["temp/_/_/bar"]),
    "libtorrent_parent_path.torrent": ("temp", ["temp/_/_/bar"]),
    "libtorrent_empty_path.torrent": ("temp", ["temp/_/_"]),
    "libtorrent_invalid_filename.torrent": ("est2", ["est2/f", "est2/_"]),
    "libtorrent_duplicate_files.torrent": ("temp", ["temp/foo/bar.txt", "temp/foo/bar.txt"]),
    "flexget_torrent1_empty_name.torrent": ("_", ["_/torrent1.mkv"]),
}

# libtorrent's reason for each file it refuses (the "[libtorrent:N]" code is stripped).
MALFORMED = {
    "libtorrent_invalid_info.torrent": "missing or invalid 'info' section in torrent file",
    "libtorrent_invalid_name.torrent": "missing name in torrent file",
    "libtorrent_no_name.torrent": "missing name in torrent file",
    "libtorrent_invalid_piece_len.torrent": "invalid or missing 'piece length' entry",
    "libtorrent_missing_piece_len.torrent": "invalid or missing 'piece length' entry",
    "libtorrent_invalid_pieces.torrent": "invalid or missing 'pieces' entry",
    "libtorrent_negative_file_size.torrent": "invalid length of torrent",
    "libtorrent_negative_size.torrent": "invalid length of torrent",
    "libtorrent_no_files.torrent": "no files in torrent",
    "libtorrent_string.torrent": "torrent file is not a dictionary",
}


def test_every_fixture_is_classified() -> None:
    on_disk = {p.name for p in FIXTURES.glob("*.torrent")}
    classified = [*GOOD, *SANITIZED, *MALFORMED]
    assert len(classified) == len(set(classified))
    assert on_disk == set(classified)


@pytest.mark.parametrize("name", GOOD + list(SANITIZED))
def test_hashes_match_the_info_dictionary(name: str) -> None:
    data = read(name)
    info_bytes = raw_info(data)
    info, end = bdecode(info_bytes)
    assert end == len(info_bytes)
    has_v1, has_v2 = b"pieces" in info, info.get(b"meta version") == 2
    sha256 = hashlib.sha256(info_bytes).hexdigest()

    parsed = parse_torrent(data)

    if has_v1:
        assert parsed.info_hash == hashlib.sha1(info_bytes, usedforsecurity=False).hexdigest()
    else:
        assert parsed.info_hash == sha256[:40]
    assert parsed.info_hash_v2 == (sha256 if has_v2 else None)
    assert parsed.metainfo == data


@pytest.mark.parametrize("name", [n for n in GOOD if n != "libtorrent_v2_only.torrent"])
def test_files_and_sizes_match_the_info_dictionary(name: str) -> None:
    data = read(name)
    expected = v1_files(bdecode(raw_info(data))[0])

    parsed = parse_torrent(data)

    assert list(parsed.files) == expected
    assert parsed.total_size == sum(f.size for f in expected)


@pytest.mark.parametrize(
    ("name", "title", "file_count", "total_size", "trackers", "private"),
    [
        (
            "flexget_multi.torrent",
            "slackware-14.1-iso",
            4,
            702_626_180,
            tuple(f"http://tracker{i}.transamrit.net:8082/announce" for i in (1, 2, 3)),
            False,
        ),
        (
            "flexget_test.torrent",
            "ubuntu-12.04.1-desktop-i386.iso",
            1,
            729_067_520,
            ("http://torrent.ubuntu.com:6969/announce",),
            False,
        ),
        (
            "flexget_private.torrent",
            "ubuntu-9.04-desktop-amd64.iso",
            1,
            730_554_368,
            ("http://torrent.ubuntu.com:6969/announce",),
            True,
        ),
        # The second announce-list tier has no URL scheme; libtorrent drops it.
        (
            "libtorrent_sample.torrent",
            "sample",
            2,
            45,
            ("udp://tracker.opentracker.com:80/announce",),
            False,
        ),
        ("libtorrent_pad_file.torrent", "temp", 1, 45, (), False),
        ("libtorrent_v2.torrent", "test64K", 1, 65536, ("http://example.com/announce",), False),
        ("libtorrent_v2_hybrid.torrent", "bittorrent-v1-v2-hybrid-test", 9, 895_544_883, (), False),
        (
            "libtorrent_v2_only.torrent",
            "test1MB",
            1,
            1_048_576,
            ("http://example.com/announce",),
            False,
        ),
    ],
)
def test_good_torrents(
    name: str,
    title: str,
    file_count: int,
    total_size: int,
    trackers: tuple[str, ...],
    private: bool,
) -> None:
    parsed = parse(name)
    assert parsed.name == title
    assert len(parsed.files) == file_count
    assert parsed.total_size == total_size
    assert parsed.trackers == trackers
    assert parsed.private is private


def test_metadata_fields() -> None:
    license_ = parse("flexget_LICENSE.torrent")
    assert license_.comment == "Test torrents for scrubbing"
    assert license_.created_by == "PyroScope 0.3.11dev-r1025"
    assert license_.creation_date == datetime.fromtimestamp(1299446644, tz=UTC)
    assert license_.trackers == ("http://tracker.openbittorrent.com:80/announce",)

    multi = parse("flexget_multi.torrent")
    assert multi.comment is None
    assert multi.created_by is None

    dated = parse("libtorrent_creation_date.torrent")
    assert dated.creation_date == datetime(1970, 1, 15, 6, 56, 7, tzinfo=UTC)
    assert dated.creation_date.tzinfo is UTC
    assert parse("libtorrent_no_creation_date.torrent").creation_date is None


def test_pad_files_are_excluded() -> None:
    # The layout libtorrent reports has 3, 2 and 18 entries; the pads must be gone.
    sample = parse("libtorrent_sample.torrent")
    assert sample.files == (
        FileEntry(path="sample/text_file2.txt", size=25),
        FileEntry(path="sample/text_file.txt", size=20),
    )
    assert parse("libtorrent_pad_file.torrent").files == (
        FileEntry(path="temp/foo/bar.txt", size=45),
    )
    hybrid = parse("libtorrent_v2_hybrid.torrent")
    assert len(hybrid.files) == 9
    assert not any("/.pad/" in f.path for f in hybrid.files)


def test_hybrid_and_v2_only_hashes() -> None:
    hybrid = parse("libtorrent_v2_hybrid.torrent")
    assert hybrid.info_hash == "514c76c1f27ec61ca8b37851bcd1cbf0b26cf120"
    assert hybrid.info_hash_v2 == (
        "518fbaf39b37020c896e8768a967da6d76bbd5ef7a02c761021b65a72c6cfa11"
    )
    assert not hybrid.info_hash_v2.startswith(hybrid.info_hash)  # keyed by v1, not by v2

    v2_only = parse("libtorrent_v2_only.torrent")
    assert v2_only.info_hash_v2 == V2_HEX
    assert v2_only.info_hash == V2_HEX[:40]
    assert v2_only.files == (FileEntry(path="test1MB", size=1_048_576),)

    assert parse("flexget_test.torrent").info_hash_v2 is None


def test_web_seeds() -> None:
    # url-list of a multi-file torrent: libtorrent appends the "/" BEP 19 requires.
    assert parse("libtorrent_url_seed_multi.torrent").web_seeds == ("http://test.com/file/",)
    # url-list [""]: the empty URL is dropped.
    assert parse("libtorrent_url_list.torrent").web_seeds == ()
    # BEP 17 "httpseeds": libtorrent 2.x no longer supports them.
    assert parse("libtorrent_httpseed.torrent").web_seeds == ()


@pytest.mark.parametrize(("name", "expected"), list(SANITIZED.items()))
def test_odd_files_load_sanitized(name: str, expected: tuple[str, list[str]]) -> None:
    title, paths = expected
    parsed = parse(name)
    assert parsed.name == title
    assert [f.path for f in parsed.files] == paths


@pytest.mark.parametrize(("name", "reason"), list(MALFORMED.items()))
def test_malformed_files_are_refused_with_libtorrents_reason(name: str, reason: str) -> None:
    with pytest.raises(InvalidTorrent) as caught:
        parse(name)
    message = str(caught.value)
    assert message.startswith("invalid torrent: ")
    assert reason in message
    assert "[libtorrent:" not in message
    assert isinstance(caught.value.__cause__, RuntimeError)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "unexpected end of file in bencoded string"),
        (
            random.Random(7).randbytes(256),
            "bencoded string",
        ),  # the exact reason depends on the bytes
        (b"not a torrent at all", "expected value (list, dict, int or string)"),
        (b"li1ei2ee", "torrent file is not a dictionary"),
        (b"i42e", "torrent file is not a dictionary"),
        (b"d3:fooi1ee", "missing or invalid 'info' section"),
        (b"d4:infoli1eee", "missing or invalid 'info' section"),
        (b"d4:infod4:name", "unexpected end of file"),
    ],
    ids=["empty", "random", "text", "list", "int", "no-info", "info-list", "truncated"],
)
def test_not_torrents(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidTorrent, match=r"^invalid torrent: ") as caught:
        parse_torrent(data)
    assert reason in str(caught.value)


def test_size_limit() -> None:
    data = read("libtorrent_sample.torrent")
    assert parse_torrent(data, max_bytes=len(data)).name == "sample"
    with pytest.raises(InvalidTorrent) as caught:
        parse_torrent(data, max_bytes=len(data) - 1)
    assert f"{len(data)} bytes" in str(caught.value)
    assert f"limit {len(data) - 1} bytes" in str(caught.value)


def test_default_size_limit_is_ten_mib() -> None:
    with pytest.raises(InvalidTorrent, match=r"10485761 bytes, limit 10485760 bytes"):
        parse_torrent(b"d" + b"x" * (10 * 1024 * 1024))


def test_accepts_bytearray_and_memoryview() -> None:
    data = read("flexget_test.torrent")
    assert parse_torrent(bytearray(data)).metainfo == data  # type: ignore[arg-type]
    assert parse_torrent(memoryview(data)).info_hash == HEX  # type: ignore[arg-type]


def test_no_deprecation_warnings() -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for name in GOOD:
            parse(name)
    assert [str(w.message) for w in seen] == []


def test_trackers_flattened_deduplicated_in_tier_order() -> None:
    data = tiny_torrent(
        {
            b"announce": b"http://a/announce",
            b"announce-list": [
                [b"http://a/announce", b"udp://b:80/announce"],
                [b"http://a/announce", b"udp://c:80/announce"],
            ],
        }
    )
    assert parse_torrent(data).trackers == (
        "http://a/announce",
        "udp://b:80/announce",
        "udp://c:80/announce",
    )
    assert parse_torrent(tiny_torrent({b"announce": b"udp://only:1/a"})).trackers == (
        "udp://only:1/a",
    )


def test_private_needs_integer_one() -> None:
    assert parse_torrent(tiny_torrent(info={b"private": 1})).private is True
    assert parse_torrent(tiny_torrent(info={b"private": 0})).private is False
    assert parse_torrent(tiny_torrent(info={b"private": b"1"})).private is False


@pytest.mark.parametrize("date", [-5, 0, 2**62])
def test_absurd_creation_dates_are_unknown(date: int) -> None:
    assert parse_torrent(tiny_torrent({b"creation date": date})).creation_date is None


def test_non_utf8_url_seed_does_not_reject_the_torrent() -> None:
    data = tiny_torrent({b"url-list": [b"http://bad\xff/"], b"comment": b"c\xff"})
    parsed = parse_torrent(data)
    assert parsed.web_seeds == ()
    assert parsed.comment == "c_"  # libtorrent replaces invalid UTF-8 in strings it keeps
    assert parsed.name == "tiny"


# --- info hashes ---------------------------------------------------------------------

B32 = base64.b32encode(bytes.fromhex(HEX)).decode()


@pytest.mark.parametrize(
    "value",
    [HEX, HEX.upper(), B32, B32.lower(), f"  {HEX}\n", f"\t{B32} "],
    ids=["hex", "HEX", "BASE32", "base32", "hex-space", "base32-space"],
)
def test_normalize_info_hash(value: str) -> None:
    assert normalize_info_hash(value) == HEX


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        (HEX[:-1], "got 39"),
        (HEX + "a", "got 41"),
        (B32[:-1], "got 31"),
        ("g" + HEX[1:], "not all hexadecimal"),
        (HEX[:20] + " " + HEX[21:], "not all hexadecimal"),
        ("1" + B32[1:], "not base32"),
        ("8" + B32[1:], "not base32"),
        ("0" * 40, "all zeros"),
        ("A" * 32, "all zeros"),
        (V2_HEX, "v2 (SHA-256)"),
    ],
)
def test_normalize_info_hash_rejects(value: str, reason: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        normalize_info_hash(value)
    assert caught.value.field == "info_hash"
    assert reason in caught.value.reason


# --- magnets -------------------------------------------------------------------------


def test_parse_magnet_full() -> None:
    uri = (
        f"magnet:?xt=urn:btih:{HEX.upper()}&dn=Ubuntu+12.04%20%C3%A9dition%26co"
        "&tr=udp%3A%2F%2Ftracker.example%3A80%2Fannounce&tr=http://t2/a"
        "&tr=udp%3A%2F%2Ftracker.example%3A80%2Fannounce&tr=&xl=729067520"
    )
    assert parse_magnet(uri) == MagnetInfo(
        info_hash=HEX,
        name="Ubuntu 12.04 édition&co",
        trackers=("udp://tracker.example:80/announce", "http://t2/a"),
        size=729_067_520,
    )


def test_parse_magnet_minimal_base32() -> None:
    assert parse_magnet(f"magnet:?xt=urn:btih:{B32}") == MagnetInfo(info_hash=HEX)


def test_parse_magnet_v2_only_uses_truncated_sha256() -> None:
    assert parse_magnet(f"magnet:?xt=urn:btmh:1220{V2_HEX}&dn=x").info_hash == V2_HEX[:40]


def test_parse_magnet_hybrid_prefers_v1() -> None:
    uri = f"magnet:?xt=urn:btmh:1220{V2_HEX}&xt=urn:btih:{HEX}"
    assert parse_magnet(uri).info_hash == HEX


def test_parse_magnet_case_insensitive_prefixes_and_bad_xl() -> None:
    parsed = parse_magnet(f"  MAGNET:?XT=URN:BTIH:{HEX}&xl=-3&dn=%20 ")
    assert parsed == MagnetInfo(info_hash=HEX, name=None, size=None)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("", "must start with 'magnet:?'"),
        ("garbage \x00\xff", "must start with 'magnet:?'"),
        (f"http://example.com/?xt=urn:btih:{HEX}", "must start with 'magnet:?'"),
        (f"magnet:xt=urn:btih:{HEX}", "must start with 'magnet:?'"),
        ("magnet:?dn=name&tr=udp://t:1", "no BitTorrent hash"),
        ("magnet:?xt=urn:sha1:ABCDEF", "no BitTorrent hash"),
        ("magnet:?", "no BitTorrent hash"),
        ("magnet:?xt=urn:btih:1234", "urn:btih hash must be 40 hex or 32 base32"),
        (f"magnet:?xt=urn:btih:{'z' * 40}", "urn:btih hash 40 characters but not all hex"),
        (f"magnet:?xt=urn:btih:{'0' * 40}", "urn:btih hash is all zeros"),
        (f"magnet:?xt=urn:btmh:1114{V2_HEX}", "urn:btmh hash must be '1220'"),
        (f"magnet:?xt=urn:btmh:1220{V2_HEX[:-1]}", "urn:btmh hash must be '1220'"),
        (f"magnet:?xt=urn:btih:{HEX}&dn=" + "a" * 65536, "longer than 65536 characters"),
    ],
)
def test_parse_magnet_rejects(uri: str, reason: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_magnet(uri)
    assert caught.value.field == "magnet"
    assert reason in caught.value.reason


def test_build_magnet_round_trips() -> None:
    name = "Some Show S01E02 1080p [x265] 50% + more & stuff/é"
    trackers = ["udp://tracker.example:80/announce?x=1&y=2", "http://t2/a", "http://t2/a", " "]
    uri = build_magnet(B32, name, trackers)
    assert uri.startswith(f"magnet:?xt=urn:btih:{HEX}&dn=Some%20Show%20")
    assert " " not in uri
    assert "+" not in uri
    assert parse_magnet(uri) == MagnetInfo(
        info_hash=HEX,
        name=name,
        trackers=("udp://tracker.example:80/announce?x=1&y=2", "http://t2/a"),
    )


def test_build_magnet_without_name_or_trackers() -> None:
    assert build_magnet(HEX.upper(), None, []) == f"magnet:?xt=urn:btih:{HEX}"
    assert build_magnet(HEX, "  ", ()) == f"magnet:?xt=urn:btih:{HEX}"


def test_build_magnet_rejects_bad_hash() -> None:
    with pytest.raises(InvalidRecord, match=r"^info_hash: "):
        build_magnet("nope", "x", [])
