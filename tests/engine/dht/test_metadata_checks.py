"""What a peer's metadata must be to become a torrent: the upload rules, for the right hash.

Every saved .torrent (libtorrent's own test set, valid and malformed) is cut to its
raw info dictionary, exactly as BEP 9 peers send it, and checked as DHT metadata.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from engine.dht.fetcher import Failed, Failure, Resolved, check_metadata
from engine.errors import InvalidTorrent
from engine.metainfo import _top_level
from engine.torrent import parse_torrent

TORRENTS = Path(__file__).resolve().parents[2] / "fixtures" / "torrents"
ALL = sorted(TORRENTS.glob("*.torrent"))


def info_of(path: Path) -> bytes:
    return _top_level(path.read_bytes())[b"info"]


def has_info(path: Path) -> bool:
    try:
        return b"info" in _top_level(path.read_bytes())
    except InvalidTorrent:
        return False


def accepted(path: Path) -> bool:
    try:
        parse_torrent(path.read_bytes())
    except InvalidTorrent:
        return False
    return True


VALID = [p for p in ALL if has_info(p) and accepted(p)]
REFUSED = [p for p in ALL if has_info(p) and not accepted(p)]


def test_the_fixtures_hold_both_kinds() -> None:
    assert len(VALID) >= 15
    assert len(REFUSED) >= 5


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_metadata_gives_the_torrent_an_upload_would(path: Path) -> None:
    info = info_of(path)
    upload = parse_torrent(path.read_bytes())
    requested = hashlib.sha1(info).hexdigest()  # noqa: S324 - the v1 info hash is SHA-1
    if upload.info_hash_v2 and not upload.info_hash.startswith(requested[:8]):
        requested = upload.info_hash  # v2-only: the DHT key is the truncated SHA-256
    outcome = check_metadata(requested, info, peers=4)
    assert isinstance(outcome, Resolved), outcome
    assert outcome.info_hash == upload.info_hash
    assert outcome.files == upload.files
    assert outcome.total_size == upload.total_size
    assert outcome.name == upload.name
    assert outcome.private == upload.private
    assert outcome.peers == 4
    assert parse_torrent(outcome.metainfo).info_hash == upload.info_hash  # servable as is
    assert not any("/.pad/" in f"/{f.path}" for f in outcome.files)


def test_a_hybrid_found_by_its_v2_hash_is_keyed_by_its_v1_hash() -> None:
    path = TORRENTS / "libtorrent_v2_hybrid.torrent"
    upload = parse_torrent(path.read_bytes())
    assert upload.info_hash_v2 is not None
    truncated = upload.info_hash_v2[:40]
    outcome = check_metadata(truncated, info_of(path), peers=1)
    assert isinstance(outcome, Resolved)
    assert (outcome.info_hash, outcome.other_hash) == (upload.info_hash, truncated)
    by_v1 = check_metadata(upload.info_hash, info_of(path), peers=1)
    assert isinstance(by_v1, Resolved)
    assert by_v1.info_hash == upload.info_hash


@pytest.mark.parametrize("path", REFUSED, ids=lambda p: p.name)
def test_metadata_an_upload_would_refuse_is_refused_with_the_reason(path: Path) -> None:
    info = info_of(path)
    requested = hashlib.sha1(info).hexdigest()  # noqa: S324
    outcome = check_metadata(requested, info, peers=1)
    assert isinstance(outcome, Failed)
    assert outcome.failure is Failure.BAD_METADATA
    with pytest.raises(InvalidTorrent) as refused:
        parse_torrent(b"d4:info" + info + b"e")
    assert outcome.detail == str(refused.value)


def test_metadata_of_another_torrent_is_refused() -> None:
    info = info_of(TORRENTS / "libtorrent_sample.torrent")
    outcome = check_metadata("ab" * 20, info, peers=1)
    assert isinstance(outcome, Failed)
    assert outcome.failure is Failure.BAD_METADATA
    assert outcome.detail == "metadata of another torrent"


@pytest.mark.parametrize(
    "junk",
    [
        b"",
        b"not bencode at all",
        b"d4:name3:abc",  # cut short
        b"l" * 10_000 + b"e" * 10_000,  # nested far deeper than any torrent
        b"d6:lengthi-5e4:name1:x12:piece lengthi16384e6:pieces0:e",
        b"\x00" * 1000,
    ],
    ids=["empty", "text", "truncated", "deep", "negative-length", "zeros"],
)
def test_junk_metadata_is_refused_without_raising(junk: bytes) -> None:
    outcome = check_metadata(hashlib.sha1(junk).hexdigest(), junk, peers=1)  # noqa: S324
    assert isinstance(outcome, Failed)
    assert outcome.failure is Failure.BAD_METADATA
    assert outcome.detail
