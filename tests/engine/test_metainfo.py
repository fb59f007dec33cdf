"""`with_trackers`: a kept .torrent served with every known tracker, info hash untouched.

The files are real ones from libtorrent's and FlexGet's test data, including one
whose dictionaries are not in sorted order: decoding and re-encoding that file
would change its info hash, which is why the info dictionary is copied raw.
"""

from __future__ import annotations

from pathlib import Path

import libtorrent as lt
import pytest

from engine.errors import InvalidTorrent
from engine.metainfo import with_trackers
from engine.torrent import parse_torrent

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "torrents"
EXTRA = ("udp://tracker.example.org:1337/announce", "http://other.example.net/announce")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def tiers(data: bytes) -> list[list[str]]:
    """The announce tiers as libtorrent reads them."""
    params = lt.load_torrent_buffer(data)
    found: dict[int, list[str]] = {}
    for url, tier in zip(params.trackers, params.tracker_tiers, strict=False):
        found.setdefault(tier, []).append(url)
    return [found[t] for t in sorted(found)]


@pytest.mark.parametrize(
    "name",
    [
        "flexget_multi.torrent",  # announce-list with three tiers
        "libtorrent_sample.torrent",  # announce only
        "libtorrent_unordered.torrent",  # no trackers, keys out of order
        "libtorrent_v2_hybrid.torrent",  # v1 + v2 hashes
        "libtorrent_v2_only.torrent",
    ],
)
def test_trackers_are_added_and_the_info_hash_is_kept(name: str) -> None:
    original = fixture(name)
    before = parse_torrent(original)
    served = with_trackers(original, EXTRA)
    after = parse_torrent(served)
    assert after.info_hash == before.info_hash
    assert after.info_hash_v2 == before.info_hash_v2
    assert after.files == before.files
    assert after.trackers == (*before.trackers, *EXTRA)  # the file's own first, in order
    assert tiers(served)[-2:] == [[EXTRA[0]], [EXTRA[1]]]


def test_existing_tiers_are_kept_as_they_were() -> None:
    original = fixture("flexget_multi.torrent")
    assert tiers(with_trackers(original, EXTRA))[: len(tiers(original))] == tiers(original)


def test_nothing_new_returns_the_file_unchanged() -> None:
    original = fixture("flexget_multi.torrent")
    own = parse_torrent(original).trackers
    assert with_trackers(original, own) is original
    assert with_trackers(original, ()) is original
    assert with_trackers(original, ["", "  "]) is original


def test_repeated_and_padded_trackers_are_added_once() -> None:
    served = with_trackers(fixture("libtorrent_sample.torrent"), [EXTRA[0], f" {EXTRA[0]} "])
    assert parse_torrent(served).trackers.count(EXTRA[0]) == 1


def test_a_file_without_trackers_gets_an_announce_key() -> None:
    served = with_trackers(fixture("libtorrent_unordered.torrent"), EXTRA[:1])
    assert b"8:announce" + str(len(EXTRA[0])).encode() + b":" + EXTRA[0].encode() in served


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "not a bencoded dictionary"),
        (b"l4:spame", "not a bencoded dictionary"),
        (b"d4:info", "ends early"),
        (b"d4:infod", "not closed"),
        (b"d4:infoi12", "not closed"),
        (b"d4:infoi1x2ee", "malformed integer"),
        (b"d99999:info", "runs past the end"),
        (b"dx:infoe", "expected a string"),
        (b"d4:info" + b"l" * 200 + b"e" * 201, "nested too deeply"),
    ],
)
def test_malformed_files_raise_a_clear_error(data: bytes, why: str) -> None:
    with pytest.raises(InvalidTorrent, match=why):
        with_trackers(data, EXTRA)
