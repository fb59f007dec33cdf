"""A private BitTorrent DHT on loopback, for the DHT crawler's end-to-end tests and benchmarks.

Nothing here leaves the machine: every libtorrent session listens on a 127.x address,
its default bootstrap node (``dht.libtorrent.org``) is replaced by ``''`` and the nodes
are introduced to each other with ``add_dht_node``. The API is synchronous and
thread-based, so it works the same from plain tests, from ``asyncio`` tests (call the
blocking waits through ``asyncio.to_thread``) and from ``bench/`` scripts.

What lives here:

* ``make_torrent(directory, name, kind, *, files=3, size=20_000, layout=None) -> MadeTorrent``
  writes small deterministic content files and a real .torrent made by libtorrent 2.1
  (``lt.list_files`` + ``lt.create_torrent``). ``kind`` is "single" (one file) or "multi"
  (a directory), both in libtorrent's default v1+v2 format, or a format: "hybrid" (v1+v2),
  "v1" (``v1_only``), "v2" (``v2_only``), a directory unless ``layout="single"``. The
  expectations in ``MadeTorrent`` do not come from libtorrent's parse: ``files`` is what
  was written to disk (pad files never appear), and the hashes are SHA-1 / SHA-256 of the
  raw ``info`` span of the bencoded file, found by this module's own bdecoder.
* ``Swarm(nodes=4, *, tmp, sample_interval_s=0, announce_interval_s=60, extra_settings=None)``:
  N libtorrent sessions, node i on ``127.A.(B+i).1`` (A and B random per swarm, so every
  node has its own /24 and parallel test processes rarely share addresses), port 0, DHT
  on, LSD/UPnP/NAT-PMP off, meshed. One background thread ("dht-swarm-pump") drains
  every session's alerts every 10 ms and turns them into plain data at once.

  - ``endpoints`` / ``bootstrap_nodes``: the DHT endpoints a crawler joins through;
    ``node_ip(i)``, ``session(i)``; ``spare_ip()`` hands out unused addresses of the
    swarm's block (for a crawler or anything that must not share a node's IP).
  - ``wait_ready(timeout_s)``: every node's routing table holds the other nodes.
  - ``seed(made, node=0)``: seed (seed_mode, not paused, not auto-managed) and force a
    DHT announce; returns the hashes it is announced under (v1 and/or truncated v2).
  - ``announce(info_hash, port, node)``: ``dht_announce`` a peer at (node's IP, port).
    ``announce_peer(peer)`` does it for a ``BadMetadataPeer`` from the node on its IP.
  - ``wait_stored(info_hashes=None, timeout_s, min_nodes=1)``: every announcement has
    reached ``min_nodes`` nodes (``dht_announce_alert`` on the storing nodes), repeating
    the announcements while waiting. ``stored_at(hash)``: the nodes that stored a hash.
  - ``reannounce()``: announce everything again now (fresh traffic for a passive crawler).
  - ``lookups_seen()``: hashes someone looked up through the swarm (``dht_get_peers_alert``).
  - ``client``: the swarm's ``PlainSession`` (a reference libtorrent client on a spare
    IP, kept for the swarm's life); ``plain_session()`` starts another one.
* ``PlainSession``: a reference client: ``sample_infohashes()`` (BEP 51 to every swarm
  node), ``get_peers(hash)`` and ``fetch_metadata(hash) -> FetchReport`` (the (a')
  pattern: ``dht_get_peers``, then add the magnet with those peers, upload mode, the
  torrent's DHT/LSD/PEX off, so the fetcher never announces itself).
* ``fetch_metadata_plainly(swarm, info_hash, timeout_s) -> bytes | None``: the raw info
  dictionary ``swarm.client`` fetched, or None when libtorrent got no valid metadata in time.
* ``BadMetadataPeer(mode, *, ip, ...)``: a BitTorrent peer in Python (threaded TCP
  server) speaking the real wire protocol: the 68-byte handshake with the BEP 10 bit, the
  BEP 10 extended handshake with ``ut_metadata`` and ``metadata_size``, BEP 9 requests
  answered in 16 KiB pieces. Modes: "wrong_hash" (a valid info dict whose SHA-1 is not the
  hash), "malformed" (SHA-1 matches, the bytes are no valid info dict), "oversized"
  (``metadata_size`` of 1 GiB), "silent" (handshakes, never answers a request), and
  "honest" (correct metadata: the positive control that proves the peer itself works).
  ``counters()`` shows what the client did. Announce it with ``swarm.announce_peer``.

libtorrent tries uTP before TCP; a peer with no uTP costs libtorrent a 3.5 s connect
timeout. So ``BadMetadataPeer`` also binds UDP on its port and answers a uTP SYN with
ST_RESET, as a TCP-only host would, and libtorrent switches to TCP within about 0.5 s.

A session that leaves (a closed crawler or client) stays in the nodes' routing tables,
and later announces and lookups that include it wait about 15 s for it to time out. Use
one swarm per test, ``swarm.client`` rather than short-lived clients, and close a
crawler only at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal, TypeVar, cast

import libtorrent as lt

Endpoint = tuple[str, int]
TorrentKind = Literal["single", "multi", "hybrid", "v1", "v2"]
Layout = Literal["single", "multi"]
PeerMode = Literal["honest", "wrong_hash", "malformed", "oversized", "silent"]
T = TypeVar("T")

ALERTS = (
    lt.alert_category.error
    | lt.alert_category.status
    | lt.alert_category.dht
    | lt.alert_category.dht_operation
)
METADATA_PIECE = 16 * 1024  # BEP 9: metadata is exchanged in 16 KiB pieces
_PUMP_EVERY_S = 0.01
_RETRY_EVERY_S = 0.5
_STATS_EVERY_S = 0.05
_MAX_SPARES = 48


# --- bencoding (a tiny one of our own, so expectations do not come from libtorrent) -------


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


# --- torrents ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MadeTorrent:
    """A torrent written by `make_torrent`, with the values a crawler should report for it."""

    name: str
    kind: TorrentKind
    save_path: Path
    """The directory holding the content (seed with this as libtorrent's save_path)."""
    info_hash_v1: str | None
    """SHA-1 of the info dict, 40 hex; None for v2-only torrents."""
    info_hash_v2: str | None
    """SHA-256 of the info dict, 64 hex; None for v1-only torrents."""
    info_hash_v2_truncated: str | None
    """The first 20 bytes of the v2 hash (what the DHT uses), 40 hex."""
    files: tuple[tuple[str, int], ...]
    """(path with '/', size) as written to disk, sorted by path, no pad files."""
    total_size: int
    metainfo: bytes
    """The .torrent file."""

    @property
    def info_dict(self) -> bytes:
        """The raw info dictionary: exactly what BEP 9 metadata exchange transfers."""
        return info_section(self.metainfo)

    @property
    def info_hash(self) -> str:
        """The key Minato stores it under: v1, else the truncated v2 hash."""
        return cast(str, self.info_hash_v1 or self.info_hash_v2_truncated)

    @property
    def dht_hashes(self) -> tuple[str, ...]:
        """Every 20-byte hash the torrent is announced under in the DHT."""
        return tuple(h for h in (self.info_hash_v1, self.info_hash_v2_truncated) if h)


def make_torrent(
    directory: Path,
    name: str,
    kind: TorrentKind,
    *,
    files: int = 3,
    size: int = 20_000,
    layout: Layout | None = None,
) -> MadeTorrent:
    """Write content under ``directory / name`` and make a .torrent of it with libtorrent.

    Args:
        directory: Parent of the content; becomes ``save_path``.
        name: The torrent's name (file or directory name); no '/'.
        kind: "single"/"multi" (default v1+v2 format), or "hybrid"/"v1"/"v2" (a format).
        files: Number of files for a directory layout (every third one in a subdirectory).
        size: Bytes of the first file; file i has ``size + 1237 * i``, so files do not
            end on piece boundaries and v2/hybrid torrents get pad files.
        layout: Overrides the layout of "hybrid"/"v1"/"v2" (default "multi").

    Returns:
        The torrent and the expected values.
    """
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(f"bad torrent name {name!r}")
    if kind in ("single", "multi"):
        if layout not in (None, kind):
            raise ValueError(f"kind {kind!r} contradicts layout {layout!r}")
        layout = kind
    layout = layout or "multi"
    flags = {"v1": lt.create_torrent.v1_only, "v2": lt.create_torrent.v2_only}.get(kind, 0)
    content = directory / name
    if content.exists():
        raise FileExistsError(content)
    directory.mkdir(parents=True, exist_ok=True)
    if layout == "single":
        _write_content(content, name, size)
    else:
        for i in range(files):
            sub = "extras/" if i % 3 == 2 else ""
            _write_content(content / f"{sub}part{i:02d}.bin", f"{name}/{i}", size + 1237 * i)
    written = sorted(
        (p.relative_to(directory).as_posix(), p.stat().st_size)
        for p in ([content] if content.is_file() else content.rglob("*"))
        if p.is_file()
    )
    creator = lt.create_torrent(lt.list_files(str(content)), 0, flags)
    creator.set_creator("Minato test harness")
    lt.set_piece_hashes(creator, str(directory))
    # generate_buf() raises UnicodeDecodeError in 2.1.1's binding; bencode the entry instead.
    metainfo = lt.bencode(creator.generate())
    info = info_section(metainfo)
    info_dict, _ = bdecode_prefix(info)
    assert isinstance(info_dict, dict)
    v1 = hashlib.sha1(info).hexdigest() if b"pieces" in info_dict else None  # noqa: S324
    v2 = hashlib.sha256(info).hexdigest() if info_dict.get(b"meta version") == 2 else None
    return MadeTorrent(
        name=name,
        kind=kind,
        save_path=directory,
        info_hash_v1=v1,
        info_hash_v2=v2,
        info_hash_v2_truncated=v2[:40] if v2 else None,
        files=tuple(written),
        total_size=sum(size for _, size in written),
        metainfo=metainfo,
    )


def _write_content(path: Path, seed: str, size: int) -> None:
    """Deterministic, incompressible bytes: a SHA-256 counter stream over ``seed``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    blocks = (hashlib.sha256(f"{seed}:{n}".encode()).digest() for n in range(size // 32 + 1))
    path.write_bytes(b"".join(blocks)[:size])


# --- alerts as plain data -----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """One BEP 51 reply: the node that answered and the hashes it sampled."""

    endpoint: Endpoint
    hashes: frozenset[str]
    num_infohashes: int


@dataclass(slots=True)
class _NodeState:
    """What one session's alerts said, as plain data (alerts die at the next pop)."""

    routing_nodes: int = -1
    stored: dict[str, set[Endpoint]] = field(default_factory=dict)
    lookups: set[str] = field(default_factory=set)
    peers: dict[str, set[Endpoint]] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    metadata_received: int = 0
    metadata_failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def absorb(self, alert: lt.alert) -> None:
        if isinstance(alert, lt.dht_stats_alert):
            self.routing_nodes = sum(b["num_nodes"] for b in alert.routing_table)
        elif isinstance(alert, lt.dht_announce_alert):
            self.stored.setdefault(str(alert.info_hash), set()).add(
                (str(alert.ip), int(alert.port))
            )
        elif isinstance(alert, lt.dht_get_peers_alert):
            self.lookups.add(str(alert.info_hash))
        elif isinstance(alert, lt.dht_get_peers_reply_alert):
            found = {(str(ip), int(port)) for ip, port in alert.peers()}
            self.peers.setdefault(str(alert.info_hash), set()).update(found)
        elif isinstance(alert, lt.dht_sample_infohashes_alert):
            ip, port = alert.endpoint
            self.samples.append(
                Sample(
                    endpoint=(str(ip), int(port)),
                    hashes=frozenset(str(h) for h in alert.samples),
                    num_infohashes=int(alert.num_infohashes),
                )
            )
        elif isinstance(alert, lt.metadata_received_alert):
            self.metadata_received += 1
        elif isinstance(alert, lt.metadata_failed_alert):
            error = alert.error
            self.metadata_failed.append(
                f"{error.category().name()}:{error.value()} {error.message()}"
            )
        elif alert.category() & lt.alert_category.error:
            self.errors.append(f"{type(alert).__name__}: {alert.message()}")


@dataclass(slots=True)
class _Member:
    session: lt.session
    ip: str
    port: int
    state: _NodeState = field(default_factory=_NodeState)


def swarm_settings(
    ip: str,
    *,
    sample_interval_s: int = 0,
    announce_interval_s: int = 60,
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """libtorrent settings of a swarm node or reference client on loopback ``ip``.

    Distinct /24s already work with libtorrent's defaults (STACK.md 2.4); the
    relaxations make the *swarm* never the bottleneck of a crawler under test: a
    crawler querying fast from one IP would otherwise be blacklisted for 300 s after
    5 packets/s (``dht_block_ratelimit``).
    """
    settings: dict[str, object] = {
        "listen_interfaces": f"{ip}:0",
        "enable_dht": True,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_bootstrap_nodes": "",  # the default names a public host; '' also avoids a 15 s wait
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_block_ratelimit": 100_000,
        "dht_prefer_verified_node_ids": False,
        "dht_ignore_dark_internet": False,
        "dht_upload_rate_limit": 1_000_000,
        "dht_sample_infohashes_interval": sample_interval_s,
        "dht_announce_interval": announce_interval_s,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": int(ALERTS),
        "alert_queue_size": 100_000,
    }
    settings.update(extra or {})
    return settings


def _sha1(info_hash: str) -> lt.sha1_hash:
    raw = bytes.fromhex(info_hash)
    if len(raw) != 20:
        raise ValueError(f"expected 40 hex characters, got {info_hash!r}")
    return lt.sha1_hash(raw)


class _Pump:
    """The thread that drains every registered session's alerts into its `_NodeState`."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self._members: list[_Member] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dht-swarm-pump")
        self._thread.start()

    def add(self, member: _Member) -> None:
        with self.cond:
            self._members.append(member)

    def remove(self, member: _Member) -> None:
        with self.cond:  # the pump pops alerts under this lock: never from a removed session
            self._members.remove(member)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.cond:
                popped = 0
                for member in self._members:
                    alerts = member.session.pop_alerts()
                    for alert in alerts:
                        member.state.absorb(alert)
                    popped += len(alerts)
                if popped:
                    self.cond.notify_all()
            self._stop.wait(_PUMP_EVERY_S)

    def wait(
        self,
        check: Callable[[], T | None],
        timeout_s: float,
        what: str | Callable[[], str],
        *,
        retry: Callable[[], None] | None = None,
        retry_every_s: float = _RETRY_EVERY_S,
    ) -> T:
        """Wait until ``check()`` (run under the lock) is truthy; call ``retry`` now and then.

        Raises:
            TimeoutError: naming ``what`` (a callable is evaluated under the lock).
        """
        deadline = time.monotonic() + timeout_s
        next_retry = time.monotonic() + retry_every_s
        while True:
            with self.cond:
                result = check()
                if result:
                    return result
                now = time.monotonic()
                if now >= deadline:
                    raise TimeoutError(what() if callable(what) else what)
                self.cond.wait(min(deadline, next_retry) - now)
            if retry is not None and time.monotonic() >= next_retry:
                retry()
                next_retry = time.monotonic() + retry_every_s

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._members.clear()


def _start_session(ip: str, settings: dict[str, object], timeout_s: float = 5.0) -> _Member:
    session = lt.session(lt.session_params(cast("lt.settings_pack", settings)))
    deadline = time.monotonic() + timeout_s
    # The DHT starts asynchronously (STACK.md gotcha 7); add_dht_node before it runs is lost.
    while not (session.listen_port() and session.is_dht_running()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"libtorrent session on {ip} did not start listening")
        time.sleep(0.002)
    return _Member(session=session, ip=ip, port=session.listen_port())


# --- the swarm ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Announcement:
    info_hash: str
    node: int
    port: int | None  # None: a seeded torrent, announced on the node's listen port
    repeat: Callable[[], None]


class Swarm:
    """N libtorrent DHT nodes on their own loopback addresses, meshed (see module docstring)."""

    def __init__(
        self,
        nodes: int = 4,
        *,
        tmp: Path,
        sample_interval_s: int = 0,
        announce_interval_s: int = 60,
        extra_settings: Mapping[str, object] | None = None,
    ) -> None:
        if not 1 <= nodes <= 64:
            raise ValueError("between 1 and 64 nodes")
        started = time.monotonic()
        self.tmp = tmp
        rng = random.Random(os.urandom(8))
        self._a = rng.randrange(16, 250)
        self._b = rng.randrange(1, 254 - nodes - _MAX_SPARES)
        self._n = nodes
        self._spares = 0
        self._announcements: list[_Announcement] = []
        self._plain: list[PlainSession] = []
        self._client: PlainSession | None = None
        self._closed = False
        self._pump = _Pump()
        self._members: list[_Member] = []
        try:
            for i in range(nodes):
                ip = self.node_ip(i)
                settings = swarm_settings(
                    ip,
                    sample_interval_s=sample_interval_s,
                    announce_interval_s=announce_interval_s,
                    extra=extra_settings,
                )
                self._members.append(_start_session(ip, settings))
                self._pump.add(self._members[-1])
            for member in self._members:
                self._mesh(member)
        except BaseException:
            self.close()
            raise
        self.started_in_s = time.monotonic() - started
        """Seconds from the constructor's start until every node listened and was meshed."""

    # addresses and sessions

    def node_ip(self, node: int) -> str:
        """The loopback address of node ``node`` (its own /24)."""
        if not 0 <= node < self._n:
            raise IndexError(node)
        return f"127.{self._a}.{self._b + node}.1"

    def spare_ip(self) -> str:
        """An address in this swarm's block that no node uses (cycles after 48)."""
        self._spares += 1
        return f"127.{self._a}.{self._b + self._n + (self._spares - 1) % _MAX_SPARES}.1"

    @property
    def endpoints(self) -> list[Endpoint]:
        """(ip, port) of every node's DHT: what a crawler bootstraps from."""
        return [(m.ip, m.port) for m in self._members]

    @property
    def bootstrap_nodes(self) -> str:
        """``endpoints`` as libtorrent's ``dht_bootstrap_nodes`` setting ("ip:port,...")."""
        return ",".join(f"{ip}:{port}" for ip, port in self.endpoints)

    def session(self, node: int) -> lt.session:
        """Node ``node``'s libtorrent session (do not pop its alerts: the pump does)."""
        return self._members[node].session

    def _mesh(self, member: _Member) -> None:
        for other in self._members:
            if other is not member:
                member.session.add_dht_node((other.ip, other.port))

    # readiness

    def routing_counts(self) -> list[int]:
        """Nodes in each node's routing table at the last stats reply (-1: none yet)."""
        with self._pump.cond:
            return [m.state.routing_nodes for m in self._members]

    def wait_ready(self, timeout_s: float = 10.0) -> float:
        """Wait until every node's routing table holds at least the other nodes.

        Returns:
            Seconds waited.

        Raises:
            TimeoutError: with the routing table sizes.
        """
        started = time.monotonic()
        want = self._n - 1

        last_mesh = time.monotonic()

        def poll() -> None:
            nonlocal last_mesh
            remesh = time.monotonic() - last_mesh > 1.0
            for member in self._members:
                if remesh and member.state.routing_nodes < want:
                    self._mesh(member)  # a ping lost to a node that was still starting
                member.session.post_dht_stats()
            last_mesh = time.monotonic() if remesh else last_mesh

        for member in self._members:
            member.session.post_dht_stats()
        self._pump.wait(
            lambda: all(m.state.routing_nodes >= want for m in self._members),
            timeout_s,
            lambda: f"routing tables not full (want {want}): {self.routing_counts()}",
            retry=poll,
            retry_every_s=_STATS_EVERY_S,
        )
        return time.monotonic() - started

    # announcing

    def seed(self, made: MadeTorrent, node: int = 0) -> tuple[str, ...]:
        """Seed ``made`` from node ``node`` and announce it to the DHT now.

        Returns:
            The hashes it is announced under (v1 and/or truncated v2).
        """
        params = lt.load_torrent_buffer(made.metainfo)
        params.save_path = str(made.save_path)
        params.flags |= lt.torrent_flags.seed_mode  # content is ours: skip the hash check
        # default_flags include paused|auto_managed: such a torrent never announces (gotcha 2)
        params.flags &= ~(lt.torrent_flags.paused | lt.torrent_flags.auto_managed)
        handle = self._members[node].session.add_torrent(params)
        handle.force_dht_announce()
        for info_hash in made.dht_hashes:
            self._announcements.append(
                _Announcement(info_hash, node, None, handle.force_dht_announce)
            )
        return made.dht_hashes

    def announce(self, info_hash: str, port: int, node: int) -> None:
        """Make node ``node`` announce a peer at (its IP, ``port``) for ``info_hash``."""
        session = self._members[node].session
        target = _sha1(info_hash)

        def send() -> None:
            session.dht_announce(target, port, 0)

        send()
        self._announcements.append(_Announcement(info_hash.lower(), node, port, send))

    def announce_peer(self, peer: BadMetadataPeer) -> str:
        """Announce ``peer`` from the node on its IP; returns the hash announced."""
        nodes = [i for i, m in enumerate(self._members) if m.ip == peer.ip]
        if not nodes:
            raise ValueError(f"no swarm node on {peer.ip}: bind the peer to swarm.node_ip(i)")
        self.announce(peer.info_hash, peer.port, nodes[0])
        return peer.info_hash

    def reannounce(self) -> None:
        """Repeat every seed's and peer's announcement now."""
        for announcement in self._announcements:
            announcement.repeat()

    def stored_at(self, info_hash: str) -> frozenset[int]:
        """The nodes that received an announce for ``info_hash``."""
        with self._pump.cond:
            return frozenset(i for i, m in enumerate(self._members) if info_hash in m.state.stored)

    def lookups_seen(self) -> frozenset[str]:
        """Hashes any node was asked get_peers for: a crawler's lookups, and the client's."""
        with self._pump.cond:
            return frozenset().union(*(m.state.lookups for m in self._members))

    def _reached(self, announcement: _Announcement) -> int:
        ip = self._members[announcement.node].ip
        return sum(
            any(
                peer_ip == ip and announcement.port in (None, port)
                for peer_ip, port in m.state.stored.get(announcement.info_hash, ())
            )
            for m in self._members
        )

    def wait_stored(
        self,
        info_hashes: Iterable[str] | None = None,
        timeout_s: float = 10.0,
        *,
        min_nodes: int = 1,
    ) -> float:
        """Wait until each announcement of ``info_hashes`` (default: all) reached ``min_nodes``.

        A node "has" an announcement when it received ``announce_peer`` for the hash
        from the announcing node's IP (and with the announced port, for ``announce``).
        Announcements not there yet are repeated every 0.5 s.

        Returns:
            Seconds waited.

        Raises:
            TimeoutError: naming the hashes still missing.
            ValueError: a hash was never seeded or announced.
        """
        started = time.monotonic()
        wanted = {h.lower() for h in info_hashes} if info_hashes is not None else None
        pending = [a for a in self._announcements if wanted is None or a.info_hash in wanted]
        unknown = (wanted or set()) - {a.info_hash for a in pending}
        if unknown:
            raise ValueError(f"never seeded or announced: {sorted(unknown)}")

        def missing() -> list[_Announcement]:
            return [a for a in pending if self._reached(a) < min_nodes]

        def repeat() -> None:
            with self._pump.cond:
                late = missing()
            for announcement in late:
                announcement.repeat()

        self._pump.wait(
            lambda: not missing(),
            timeout_s,
            lambda: f"not stored at {min_nodes} node(s): {[a.info_hash for a in missing()]}",
            retry=repeat,
        )
        return time.monotonic() - started

    # clients and lifetime

    @property
    def client(self) -> PlainSession:
        """The swarm's reference client, started on first use and kept until ``close``.

        Prefer it to new ``plain_session()``s: a session that leaves stays in the nodes'
        routing tables, and every later announce or lookup whose closest nodes include it
        waits for its query to time out (about 15 s in libtorrent 2.1.1).
        """
        if self._client is None:
            self._client = self.plain_session()
        return self._client

    def plain_session(self) -> PlainSession:
        """A new reference client joined to this swarm (closed with the swarm at the latest)."""
        plain = PlainSession(self)
        self._plain.append(plain)
        return plain

    def errors(self) -> list[str]:
        """Error alerts the nodes posted (listen failures, DHT errors, ...)."""
        with self._pump.cond:
            return [e for m in self._members for e in m.state.errors]

    def close(self) -> None:
        """Stop the pump and every session (also the plain sessions); idempotent."""
        if self._closed:
            return
        self._closed = True
        for plain in self._plain:
            plain.close()
        self._pump.close()
        for member in self._members:
            member.session.pause()
        # Drop every reference (the announcements hold sessions and handles too): the last
        # one going makes libtorrent shut that session down and free its ports.
        self._announcements.clear()
        self._plain.clear()
        self._client = None
        self._members.clear()

    def __enter__(self) -> Swarm:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# --- a reference client -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchReport:
    """What a plain libtorrent fetch of one hash got."""

    metadata: bytes | None
    """The info dictionary libtorrent accepted, or None."""
    peers: tuple[Endpoint, ...]
    """Peers the DHT returned and the torrent was given."""
    failures: tuple[str, ...]
    """``metadata_failed_alert`` messages (hash mismatch, unparsable info dict)."""
    elapsed_s: float


class PlainSession:
    """A plain libtorrent session on a spare IP, joined to a swarm (use ``swarm.plain_session``)."""

    def __init__(self, swarm: Swarm) -> None:
        self._swarm = swarm
        self._pump = swarm._pump
        self.ip = swarm.spare_ip()
        self._member = _start_session(self.ip, swarm_settings(self.ip))
        self._pump.add(self._member)
        for endpoint in swarm.endpoints:
            self._member.session.add_dht_node(endpoint)
        self._lock = threading.Lock()
        self._closed = False

    @property
    def endpoint(self) -> Endpoint:
        return (self.ip, self._member.port)

    def wait_joined(self, timeout_s: float = 5.0) -> None:
        """Wait until the routing table holds every swarm node."""
        want = len(self._swarm.endpoints)
        state = self._member.state
        self._member.session.post_dht_stats()
        self._pump.wait(
            lambda: state.routing_nodes >= want,
            timeout_s,
            lambda: f"plain session knows {state.routing_nodes} of {want} nodes",
            retry=self._member.session.post_dht_stats,
            retry_every_s=_STATS_EVERY_S,
        )

    def sample_infohashes(self, timeout_s: float = 5.0) -> frozenset[str]:
        """BEP 51 ``sample_infohashes`` to every swarm node; the union of the samples.

        Raises:
            TimeoutError: a node never answered.
        """
        endpoints = set(self._swarm.endpoints)
        state = self._member.state
        with self._pump.cond:
            first = len(state.samples)

        def answered() -> set[Endpoint]:
            return {s.endpoint for s in state.samples[first:]}

        def ask() -> None:
            with self._pump.cond:
                todo = endpoints - answered()
            for endpoint in todo:
                self._member.session.dht_sample_infohashes(endpoint, lt.sha1_hash(os.urandom(20)))

        ask()
        self._pump.wait(
            lambda: endpoints <= answered(),
            timeout_s,
            lambda: f"no BEP 51 reply from {sorted(endpoints - answered())}",
            retry=ask,
        )
        with self._pump.cond:
            return frozenset().union(*(s.hashes for s in state.samples[first:]))

    def get_peers(self, info_hash: str, timeout_s: float = 5.0) -> frozenset[Endpoint]:
        """Look ``info_hash`` up until some peer is found; empty when none is by the deadline."""
        self.wait_joined(timeout_s)
        key = info_hash.lower()
        state = self._member.state

        def lookup() -> None:
            self._member.session.dht_get_peers(_sha1(key))

        lookup()
        with contextlib.suppress(TimeoutError):
            self._pump.wait(lambda: state.peers.get(key), timeout_s, "", retry=lookup)
        with self._pump.cond:
            return frozenset(state.peers.get(key, ()))

    def fetch_metadata(self, info_hash: str, timeout_s: float = 10.0) -> FetchReport:
        """Fetch a torrent's metadata the way an indexer should (STACK.md pattern (a')).

        Peers come from ``dht_get_peers`` (repeated every 0.5 s, new ones are connected);
        the torrent is added in upload mode with its DHT, LSD and PEX off, so this client
        neither announces itself nor downloads payload. The torrent is removed afterwards.
        """
        with self._lock:
            return self._fetch(info_hash.lower(), timeout_s)

    def _fetch(self, key: str, timeout_s: float) -> FetchReport:
        started = time.monotonic()
        deadline = started + timeout_s
        session, state = self._member.session, self._member.state
        self.wait_joined(timeout_s)
        with self._pump.cond:
            seen = state.metadata_received
            failures_before = len(state.metadata_failed)
        given: set[Endpoint] = set()
        handle: lt.torrent_handle | None = None
        next_lookup = 0.0
        info: lt.torrent_info | None = None
        try:
            while info is None and (now := time.monotonic()) < deadline:
                if now >= next_lookup:
                    session.dht_get_peers(_sha1(key))
                    next_lookup = now + _RETRY_EVERY_S
                with self._pump.cond:
                    fresh = state.peers.get(key, set()) - given
                    if not fresh and state.metadata_received == seen:
                        self._pump.cond.wait(min(deadline, next_lookup) - now)
                    received = state.metadata_received
                if fresh:
                    given |= fresh
                    if handle is None:
                        handle = session.add_torrent(self._magnet_params(key, fresh))
                    else:
                        for endpoint in fresh:
                            handle.connect_peer(endpoint)
                if received > seen:
                    seen = received
                    # None when the alert was a late one for an earlier fetch's torrent
                    info = handle.torrent_file() if handle is not None else None
            metadata = bytes(info.info_section()) if info is not None else None
        finally:
            if handle is not None:
                session.remove_torrent(handle)
        with self._pump.cond:
            failures = tuple(state.metadata_failed[failures_before:])
        return FetchReport(
            metadata=metadata,
            peers=tuple(sorted(given)),
            failures=failures,
            elapsed_s=time.monotonic() - started,
        )

    def _magnet_params(self, key: str, peers: Iterable[Endpoint]) -> lt.add_torrent_params:
        params = lt.parse_magnet_uri(f"magnet:?xt=urn:btih:{key}")
        params.save_path = str(self._swarm.tmp / "plain-fetch")
        params.flags |= (
            lt.torrent_flags.upload_mode
            | lt.torrent_flags.disable_dht
            | lt.torrent_flags.disable_lsd
            | lt.torrent_flags.disable_pex
        )
        params.flags &= ~(lt.torrent_flags.paused | lt.torrent_flags.auto_managed)
        params.peers = sorted(peers)
        return params

    def close(self) -> None:
        """Leave the swarm (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._pump.remove(self._member)
        self._member.session.pause()
        del self._member.session

    def __enter__(self) -> PlainSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def fetch_metadata_plainly(swarm: Swarm, info_hash: str, timeout_s: float = 10.0) -> bytes | None:
    """The info dictionary the swarm's reference client fetches for ``info_hash``, or None."""
    return swarm.client.fetch_metadata(info_hash, timeout_s).metadata


# --- a misbehaving peer -------------------------------------------------------------------

_PSTR = b"\x13BitTorrent protocol"
_RESERVED = bytes([0, 0, 0, 0, 0, 0x10, 0, 0])  # BEP 10: reserved[5] & 0x10 = extension protocol
_EXTENDED = 20  # BEP 10 message id
_OUR_UT_METADATA = 3  # the id we ask clients to use for ut_metadata messages to us
_UTP_SYN, _UTP_RESET = 4, 3  # BEP 29 packet types
_OVERSIZED_BYTES = 1 << 30


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerCounters:
    """What clients did with a `BadMetadataPeer` (a snapshot)."""

    connections: int = 0
    """TCP connections accepted."""
    handshakes: int = 0
    """Plaintext BitTorrent handshakes for our info hash (answered with ours)."""
    not_bittorrent: int = 0
    """Connections whose first 20 bytes were no plaintext handshake (e.g. encrypted)."""
    wrong_torrent: int = 0
    """Handshakes for another info hash (closed)."""
    extended_handshakes: int = 0
    """BEP 10 handshakes received from clients."""
    metadata_requests: int = 0
    """BEP 9 requests (msg_type 0) received, answered or not."""
    pieces_sent: int = 0
    """BEP 9 data messages sent."""
    rejects_sent: int = 0
    """BEP 9 reject messages sent (piece out of range)."""
    utp_resets: int = 0
    """uTP SYNs answered with ST_RESET (so the client falls back to TCP at once)."""


def _default_info(label: str) -> bytes:
    """A valid single-file v1 info dict of 24 KiB (1200 piece hashes): two metadata pieces."""
    pieces = b"".join(hashlib.sha1(b"%s:%d" % (label.encode(), i)).digest() for i in range(1200))  # noqa: S324
    return bencode(
        {
            "length": 1200 * METADATA_PIECE,
            "name": label,
            "piece length": METADATA_PIECE,
            "pieces": pieces,
        }
    )


# Bencoded, so a naive bdecode accepts it, but no info dict: no pieces, no length, no files.
_MALFORMED_INFO = b"d4:name16:minato-malformed12:piece lengthi16384ee"


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = False
    block_on_close = True  # server_close() joins the handler threads
    # Closed connections linger in TIME_WAIT on the listening port; let a later bind reuse it.
    allow_reuse_address = True

    def __init__(self, address: Endpoint, peer: BadMetadataPeer) -> None:
        self.peer = peer
        super().__init__(address, _Handler)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        cast(_TcpServer, self.server).peer._serve(self.request)


class BadMetadataPeer:
    """A peer on ``ip`` whose metadata a correct client must reject (or, "honest", accept).

    Args:
        mode: See the module docstring.
        ip: The loopback address to bind (for the DHT, a swarm node's: ``swarm.node_ip(i)``).
        info_hash: The hash to pretend to have ("wrong_hash", "oversized", "silent";
            random by default). "honest" and "malformed" derive it from the metadata.
        metadata: The bytes to serve instead of the default ("honest", "wrong_hash",
            "malformed").
    """

    def __init__(
        self,
        mode: PeerMode,
        *,
        ip: str,
        info_hash: str | None = None,
        metadata: bytes | None = None,
    ) -> None:
        self.mode: PeerMode = mode
        self.metadata, self.metadata_size, hash_bytes = self._plan(mode, info_hash, metadata)
        self.info_hash = hash_bytes.hex()
        self._hash = hash_bytes
        self._peer_id = b"-MN0001-" + os.urandom(6).hex().encode()
        self._counts: dict[str, int] = dict.fromkeys(PeerCounters.__dataclass_fields__, 0)
        self._cond = threading.Condition()
        self._conns: set[socket.socket] = set()
        self._stop = threading.Event()
        self._tcp, self._udp = self._bind(ip)
        self.ip: str = ip
        self.port: int = self._tcp.server_address[1]
        self._threads = [
            threading.Thread(
                target=self._tcp.serve_forever, args=(0.05,), name=f"bad-peer-{mode}-tcp"
            ),
            threading.Thread(target=self._answer_utp, name=f"bad-peer-{mode}-utp"),
        ]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _plan(
        mode: PeerMode, info_hash: str | None, metadata: bytes | None
    ) -> tuple[bytes, int, bytes]:
        """(metadata served, metadata_size announced, info hash) for ``mode``."""
        given = bytes.fromhex(info_hash) if info_hash else None
        if given is not None and len(given) != 20:
            raise ValueError("info_hash must be 40 hex characters")
        if mode in ("honest", "malformed"):
            if given is not None:
                raise ValueError(f"mode {mode!r} derives the info hash from the metadata")
            data = metadata or (
                _default_info("minato-honest") if mode == "honest" else _MALFORMED_INFO
            )
            return data, len(data), hashlib.sha1(data).digest()  # noqa: S324
        if mode == "wrong_hash":
            data = metadata or _default_info("minato-wrong-hash")
            wrong = given or hashlib.sha1(b"not " + data).digest()  # noqa: S324
            if wrong == hashlib.sha1(data).digest():  # noqa: S324
                raise ValueError("wrong_hash needs an info hash that is not the metadata's SHA-1")
            return data, len(data), wrong
        if mode == "oversized":
            return b"", _OVERSIZED_BYTES, given or os.urandom(20)
        if mode == "silent":
            data = _default_info("minato-silent")
            return data, len(data), given or os.urandom(20)
        raise ValueError(f"unknown mode {mode!r}")

    def _bind(self, ip: str) -> tuple[_TcpServer, socket.socket]:
        """TCP on an ephemeral port and UDP on the same number (for the uTP resets)."""
        for _ in range(50):
            tcp = _TcpServer((ip, 0), self)
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                udp.bind((ip, tcp.server_address[1]))
            except OSError:
                udp.close()
                tcp.server_close()
                continue
            udp.settimeout(0.05)
            return tcp, udp
        raise OSError(f"no port free for both TCP and UDP on {ip}")

    # counters

    def counters(self) -> PeerCounters:
        with self._cond:
            return PeerCounters(**self._counts)

    def wait_until(
        self, check: Callable[[PeerCounters], bool], timeout_s: float = 5.0
    ) -> PeerCounters:
        """Wait until ``check(counters)`` holds; return those counters.

        Raises:
            TimeoutError: with the counters at the deadline.
        """
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not check(counters := PeerCounters(**self._counts)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self.mode} peer: condition not met, {counters}")
                self._cond.wait(remaining)
            return counters

    @property
    def open_connections(self) -> int:
        """Client connections open right now."""
        with self._cond:
            return len(self._conns)

    def _bump(self, name: str) -> None:
        with self._cond:
            self._counts[name] += 1
            self._cond.notify_all()

    # the wire protocol

    def _serve(self, conn: socket.socket) -> None:
        with self._cond:
            if self._stop.is_set():
                conn.close()
                return
            self._conns.add(conn)
        self._bump("connections")
        try:
            self._talk(conn)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            # The client hung up (libtorrent drops peers whose metadata it rejects) or sent
            # something this small peer does not parse; either way the conversation is over.
            pass
        finally:
            with self._cond:
                self._conns.discard(conn)
            conn.close()

    def _talk(self, conn: socket.socket) -> None:
        handshake = _recv_exact(conn, 68)
        if handshake is None or handshake[:20] != _PSTR:
            self._bump("not_bittorrent")
            return
        if handshake[28:48] != self._hash:
            self._bump("wrong_torrent")
            return
        self._bump("handshakes")
        conn.sendall(_PSTR + _RESERVED + self._hash + self._peer_id)
        ours: dict[str, Bencodable] = {
            "m": {"ut_metadata": _OUR_UT_METADATA},
            "metadata_size": self.metadata_size,
            "reqq": 250,
            "v": "Minato test peer",
        }
        conn.sendall(_message(bytes([_EXTENDED, 0]) + bencode(ours)))
        their_ut: int | None = None
        while (head := _recv_exact(conn, 4)) is not None:
            length = int.from_bytes(head, "big")
            if length > 1 << 20:  # nothing this large belongs in a metadata exchange
                return
            body = _recv_exact(conn, length) if length else b""
            if body is None:
                return
            if len(body) < 2 or body[0] != _EXTENDED:
                continue  # bitfield, have_none, interested, keep-alive...: irrelevant here
            if body[1] == 0:
                self._bump("extended_handshakes")
                theirs, _ = bdecode_prefix(body[2:])
                names = cast(dict[bytes, object], theirs).get(b"m", {})
                their_ut = cast(int | None, cast(dict[bytes, object], names).get(b"ut_metadata"))
            elif body[1] == _OUR_UT_METADATA:
                self._on_metadata_message(conn, body[2:], their_ut)

    def _on_metadata_message(
        self, conn: socket.socket, payload: bytes, their_ut: int | None
    ) -> None:
        request, _ = bdecode_prefix(payload)
        request = cast(dict[bytes, int], request)
        if request.get(b"msg_type") != 0:
            return
        self._bump("metadata_requests")
        if self.mode == "silent" or not their_ut:
            return
        if self.mode == "oversized":
            # libtorrent 2.1.1 drops a too-large total_size without disconnecting and asks
            # for piece 0 again at once: pace the answers so the loop costs no CPU here.
            self._stop.wait(0.02)
        piece = request[b"piece"]
        start = piece * METADATA_PIECE
        if not 0 <= start < self.metadata_size:
            reply = bencode({"msg_type": 2, "piece": piece})
            counter = "rejects_sent"
        else:
            chunk_size = min(METADATA_PIECE, self.metadata_size - start)
            chunk = (
                bytes(chunk_size)
                if self.mode == "oversized"
                else self.metadata[start : start + chunk_size]
            )
            header = {"msg_type": 1, "piece": piece, "total_size": self.metadata_size}
            reply = bencode(header) + chunk
            counter = "pieces_sent"
        conn.sendall(_message(bytes([_EXTENDED, their_ut]) + reply))
        self._bump(counter)

    def _answer_utp(self) -> None:
        """Reset every uTP SYN, as a host whose peer has no uTP would (BEP 29 ST_RESET)."""
        while not self._stop.is_set():
            try:
                packet, sender = self._udp.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            if len(packet) < 20 or packet[0] != (_UTP_SYN << 4 | 1):
                continue
            connection_id, seq_nr = struct.unpack_from(">H", packet, 2)[0], packet[16:18]
            reset = struct.pack(
                ">BBHIIIH", _UTP_RESET << 4 | 1, 0, connection_id, 0, 0, 0, random.randrange(65536)
            )
            self._udp.sendto(reset + seq_nr, sender)  # ack_nr = the SYN's seq_nr
            self._bump("utp_resets")

    # lifetime

    def close(self) -> None:
        """Stop serving: close the listener and every open connection, join all threads."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._tcp.shutdown()
        with self._cond:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)  # unblocks the handler's recv
        self._tcp.server_close()
        for thread in self._threads:
            thread.join()
        self._udp.close()

    def __enter__(self) -> BadMetadataPeer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _message(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def _recv_exact(conn: socket.socket, size: int) -> bytes | None:
    """``size`` bytes, or None when the connection ends first."""
    chunks: list[bytes] = []
    while size:
        chunk = conn.recv(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
