"""``Swarm``: N libtorrent DHT nodes, each on its own loopback /24, meshed and pumped.

Node i listens on ``127.A.(B+i).1`` (A and B random per swarm, so parallel test processes
rarely share addresses); ``spare_ip()`` hands out the block's unused addresses. The swarm
seeds and announces torrents and peers, waits for routing tables and stored announcements,
and owns its reference clients (``tests.dht_swarm.plain``).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import libtorrent as lt

from tests.dht_swarm.peer import BadMetadataPeer
from tests.dht_swarm.plain import PlainSession
from tests.dht_swarm.sessions import (
    _STATS_EVERY_S,
    Endpoint,
    _Member,
    _Pump,
    _sha1,
    _start_session,
    swarm_settings,
)
from tests.dht_swarm.torrents import MadeTorrent

_MAX_SPARES = 48


@dataclass(frozen=True, slots=True)
class _Announcement:
    info_hash: str
    node: int
    port: int | None  # None: a seeded torrent, announced on the node's listen port
    repeat: Callable[[], None]


class Swarm:
    """N libtorrent DHT nodes on their own loopback addresses, meshed (see package docstring)."""

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
