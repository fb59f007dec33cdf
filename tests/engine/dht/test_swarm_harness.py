"""The private-DHT harness (tests/dht_swarm/) against libtorrent itself.

The crawler's end-to-end tests trust this harness: that the torrents it makes are what
it says, that a plain libtorrent client really finds and fetches what it seeds, and that
libtorrent really rejects what its bad peers serve, after really talking to them.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import libtorrent as lt
import pytest

from engine.torrent import parse_torrent
from tests.dht_swarm import (
    METADATA_PIECE,
    BadMetadataPeer,
    FetchReport,
    MadeTorrent,
    PeerMode,
    Swarm,
    TorrentKind,
    bdecode_prefix,
    bencode,
    fetch_metadata_plainly,
    make_torrent,
)

FETCH_S = 2.5
"""Long enough for libtorrent to connect (uTP reset, then TCP) and give up on bad metadata."""


@pytest.fixture
def swarm(tmp_path: Path) -> Iterator[Swarm]:
    with Swarm(4, tmp=tmp_path) as running:
        running.wait_ready(timeout_s=5)
        yield running


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()  # noqa: S324 - BitTorrent v1 hashes are SHA-1


def _torrent_of(info: bytes) -> bytes:
    """A .torrent holding just ``info``: how a crawler turns fetched metadata into a file."""
    return b"d4:info" + info + b"e"


# --- make_torrent -----------------------------------------------------------------------------

KINDS: list[tuple[TorrentKind, str | None, bool, bool]] = [
    # kind, layout, has v1, has v2
    ("single", None, True, True),
    ("multi", None, True, True),
    ("hybrid", None, True, True),
    ("v1", None, True, False),
    ("v2", None, False, True),
    ("v1", "single", True, False),
    ("v2", "single", False, True),
]


@pytest.mark.parametrize(("kind", "layout", "has_v1", "has_v2"), KINDS)
def test_make_torrent_matches_what_was_written(
    tmp_path: Path, kind: TorrentKind, layout: str | None, has_v1: bool, has_v2: bool
) -> None:
    made = make_torrent(tmp_path, "Some.Name", kind, files=4, size=20_000, layout=layout)  # type: ignore[arg-type]

    single = (layout or kind) == "single"
    expected_files = (
        (("Some.Name", 20_000),)
        if single
        else (
            ("Some.Name/extras/part02.bin", 22_474),
            ("Some.Name/part00.bin", 20_000),
            ("Some.Name/part01.bin", 21_237),
            ("Some.Name/part03.bin", 23_711),
        )
    )
    assert made.files == expected_files
    assert made.total_size == sum(size for _, size in expected_files)
    for path, size in made.files:
        assert (tmp_path / path).stat().st_size == size
    assert (made.info_hash_v1 is not None) == has_v1
    assert (made.info_hash_v2 is not None) == has_v2
    assert made.info_hash_v2_truncated == (made.info_hash_v2[:40] if made.info_hash_v2 else None)
    assert made.dht_hashes == tuple(
        h for h in (made.info_hash_v1, made.info_hash_v2_truncated) if h
    )

    # Minato's own parser agrees with the expectations...
    parsed = parse_torrent(made.metainfo)
    assert parsed.name == "Some.Name"
    assert parsed.info_hash == made.info_hash == (made.info_hash_v1 or made.info_hash_v2_truncated)
    assert parsed.info_hash_v2 == made.info_hash_v2
    assert sorted((f.path, f.size) for f in parsed.files) == list(made.files)
    assert parsed.total_size == made.total_size

    # ...and so does libtorrent, whose layout has the pad files the expectations leave out.
    ti = lt.load_torrent_buffer(made.metainfo).ti
    assert ti is not None
    hashes = ti.info_hashes()
    assert (str(hashes.v1) if hashes.has_v1() else None) == made.info_hash_v1
    assert (str(hashes.v2) if hashes.has_v2() else None) == made.info_hash_v2
    assert ti.info_section() == made.info_dict
    layout_paths = [ti.layout().file_path(i) for i in range(ti.layout().num_files())]
    if has_v2 and not single:
        assert any("/.pad/" in p for p in layout_paths), layout_paths
    assert not any(".pad" in p for p, _ in made.files)


def test_make_torrent_is_deterministic_and_refuses_to_overwrite(tmp_path: Path) -> None:
    first = make_torrent(tmp_path / "a", "same", "hybrid")
    again = make_torrent(tmp_path / "b", "same", "hybrid")
    other = make_torrent(tmp_path / "c", "same", "hybrid", size=20_001)

    assert first.info_hash_v1 == again.info_hash_v1
    assert first.info_hash_v2 == again.info_hash_v2
    assert other.info_hash_v1 != first.info_hash_v1
    with pytest.raises(FileExistsError):
        make_torrent(tmp_path / "a", "same", "v1")
    with pytest.raises(ValueError, match="contradicts"):
        make_torrent(tmp_path, "x", "single", layout="multi")


def test_bencoding_round_trip_and_errors() -> None:
    value = {"b": [1, -2, b"\x00\xff"], "a": {"nested": "text"}}
    encoded = bencode(value)  # type: ignore[arg-type]

    assert encoded == b"d1:ad6:nested4:texte1:bli1ei-2e2:\x00\xffee"
    assert bdecode_prefix(encoded + b"trailing") == (
        {b"a": {b"nested": b"text"}, b"b": [1, -2, b"\x00\xff"]},
        len(encoded),
    )
    assert lt.bdecode(encoded) == lt.bdecode(lt.bencode(lt.bdecode(encoded)))
    for broken in (b"x", b"5:abc", b"li1e"):
        with pytest.raises(ValueError):
            bdecode_prefix(broken)


# --- the swarm ------------------------------------------------------------------------------


def test_swarm_stays_on_loopback_with_overridden_bootstrap(swarm: Swarm) -> None:
    ips = [ip for ip, _ in swarm.endpoints]
    assert len({ip.rsplit(".", 1)[0] for ip in ips}) == 4, "each node on its own /24"
    assert all(ip.startswith("127.") and port > 0 for ip, port in swarm.endpoints)
    assert min(swarm.routing_counts()) >= 3
    for node in range(4):
        settings = swarm.session(node).get_settings()
        assert settings["dht_bootstrap_nodes"] == ""
        assert settings["listen_interfaces"] == f"{swarm.node_ip(node)}:0"
        assert settings["enable_lsd"] is False
        assert settings["enable_upnp"] is False
        assert settings["enable_natpmp"] is False
        assert settings["dht_sample_infohashes_interval"] == 0
    assert swarm.errors() == []


def test_seeded_torrents_are_fetched_by_a_plain_client(swarm: Swarm, tmp_path: Path) -> None:
    content = tmp_path / "content"
    made = {
        kind: make_torrent(content, f"t-{kind}", kind) for kind in ("single", "multi", "hybrid")
    }
    made["v2"] = make_torrent(content, "t-v2", "v2")
    for node, torrent in enumerate(made.values()):
        swarm.seed(torrent, node)
    swarm.wait_stored(timeout_s=5)

    for kind, torrent in made.items():
        info = fetch_metadata_plainly(swarm, torrent.info_hash, timeout_s=5)
        assert info == torrent.info_dict, kind
        parsed = parse_torrent(_torrent_of(info))
        assert sorted((f.path, f.size) for f in parsed.files) == list(torrent.files), kind
    v2_info = made["v2"].info_dict
    assert hashlib.sha256(v2_info).hexdigest()[:40] == made["v2"].info_hash

    hybrid = made["hybrid"]
    assert hybrid.info_hash_v2_truncated is not None
    report = swarm.client.fetch_metadata(hybrid.info_hash_v2_truncated, timeout_s=5)
    assert report.metadata == hybrid.info_dict
    assert report.peers == ((swarm.node_ip(2), swarm.endpoints[2][1]),)
    assert _sha1(report.metadata) == hybrid.info_hash_v1


def test_bep51_samples_hold_every_seeded_hash(swarm: Swarm, tmp_path: Path) -> None:
    kinds: tuple[TorrentKind, ...] = ("v1", "hybrid", "v2")
    torrents = [make_torrent(tmp_path, f"s{i}", kind) for i, kind in enumerate(kinds)]
    for torrent in torrents:
        swarm.seed(torrent, node=1)
    announced = {h for t in torrents for h in t.dht_hashes}
    assert len(announced) == 4  # v1: 1, hybrid: 2 (v1 + truncated v2), v2: 1
    swarm.wait_stored(announced, timeout_s=5, min_nodes=3)
    assert all(swarm.stored_at(h) >= {0, 2, 3} for h in announced)

    sampled = swarm.client.sample_infohashes(timeout_s=5)

    assert sampled == announced


def test_waits_fail_loudly(swarm: Swarm, tmp_path: Path) -> None:
    torrent = make_torrent(tmp_path, "w", "v1")
    swarm.seed(torrent)
    with pytest.raises(TimeoutError, match=str(torrent.info_hash_v1)):
        swarm.wait_stored(timeout_s=0.3, min_nodes=5)  # only 4 nodes exist
    with pytest.raises(ValueError, match="never seeded"):
        swarm.wait_stored(["ab" * 20], timeout_s=0.3)
    assert fetch_metadata_plainly(swarm, os.urandom(20).hex(), timeout_s=0.5) is None


async def test_usable_from_an_asyncio_test(tmp_path: Path) -> None:
    torrent = make_torrent(tmp_path, "a", "single")
    with Swarm(3, tmp=tmp_path) as running:
        async with asyncio.timeout(10):
            await asyncio.to_thread(running.wait_ready, 5)
            running.seed(torrent, node=2)
            await asyncio.to_thread(running.wait_stored, None, 5)
            info = await asyncio.to_thread(fetch_metadata_plainly, running, torrent.info_hash, 5)
    assert info == torrent.info_dict


# --- bad peers ------------------------------------------------------------------------------


def _fetch_from(swarm: Swarm, peer: BadMetadataPeer) -> FetchReport:
    assert swarm.announce_peer(peer) == peer.info_hash
    swarm.wait_stored([peer.info_hash], timeout_s=5)
    assert swarm.client.get_peers(peer.info_hash) == {(peer.ip, peer.port)}
    return swarm.client.fetch_metadata(peer.info_hash, timeout_s=FETCH_S)


def test_honest_peer_is_accepted_so_its_protocol_is_right(swarm: Swarm) -> None:
    with BadMetadataPeer("honest", ip=swarm.node_ip(1)) as peer:
        report = _fetch_from(swarm, peer)
        counters = peer.counters()

    assert report.metadata == peer.metadata
    assert _sha1(report.metadata) == peer.info_hash
    assert len(peer.metadata) > METADATA_PIECE  # two metadata pieces were exchanged
    assert counters.pieces_sent == 2
    assert counters.utp_resets >= 1  # libtorrent tried uTP first and fell back to TCP


@pytest.mark.parametrize("mode", ["wrong_hash", "malformed", "oversized", "silent"])
def test_bad_metadata_is_rejected_after_a_real_exchange(swarm: Swarm, mode: PeerMode) -> None:
    with BadMetadataPeer(mode, ip=swarm.node_ip(3)) as peer:
        report = _fetch_from(swarm, peer)
        counters = peer.counters()

    assert report.metadata is None
    assert report.peers == ((peer.ip, peer.port),)
    assert counters.handshakes >= 1
    assert counters.extended_handshakes >= 1
    assert counters.metadata_requests >= 1
    if mode == "wrong_hash":
        assert _sha1(peer.metadata) != peer.info_hash
        assert counters.pieces_sent == 2  # the whole info dict went over the wire
        assert any("mismatching info-hash" in f for f in report.failures), report.failures
    elif mode == "malformed":
        assert _sha1(peer.metadata) == peer.info_hash
        assert counters.pieces_sent == 1
        assert report.failures
        assert not any("mismatching" in f for f in report.failures), report.failures
    elif mode == "oversized":
        assert peer.metadata_size == 1 << 30
        assert counters.pieces_sent >= 1
        assert report.failures == ()  # libtorrent drops the size silently and asks again
    else:
        assert counters.pieces_sent == 0
        assert report.failures == ()


def test_peer_refuses_other_torrents_and_validates_its_mode() -> None:
    with pytest.raises(ValueError, match="derives the info hash"):
        BadMetadataPeer("malformed", ip="127.0.0.1", info_hash="ab" * 20)
    with pytest.raises(ValueError, match="unknown mode"):
        BadMetadataPeer("friendly", ip="127.0.0.1")  # type: ignore[arg-type]


# --- shutdown -------------------------------------------------------------------------------


def test_close_leaves_no_threads_and_frees_the_ports(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    torrent: MadeTorrent = make_torrent(tmp_path, "c", "single")
    swarm = Swarm(2, tmp=tmp_path)
    swarm.wait_ready(5)
    swarm.seed(torrent, node=0)
    peer = BadMetadataPeer("silent", ip=swarm.node_ip(1))
    swarm.announce_peer(peer)
    swarm.wait_stored(timeout_s=5)
    assert fetch_metadata_plainly(swarm, torrent.info_hash, 5) == torrent.info_dict
    fetching = threading.Thread(target=swarm.client.fetch_metadata, args=(peer.info_hash, 3))
    fetching.start()
    peer.wait_until(lambda c: c.metadata_requests >= 1, timeout_s=5)
    assert peer.open_connections == 1  # libtorrent waits for an answer that never comes

    peer.close()  # must not wait for libtorrent to hang up
    assert fetching.is_alive()
    fetching.join()
    bound = [*swarm.endpoints, swarm.client.endpoint, (peer.ip, peer.port)]
    swarm.close()
    swarm.close()  # idempotent

    assert set(threading.enumerate()) == before
    for endpoint in bound:  # libtorrent listens on TCP and UDP on the same port, as the peer does
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            with socket.socket(socket.AF_INET, kind) as probe:
                # SO_REUSEADDR passes over a closed connection's TIME_WAIT, not a live socket
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(endpoint)
