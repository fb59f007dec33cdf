"""A reference libtorrent client joined to a swarm: BEP 51 samples, lookups, metadata fetches.

``PlainSession.fetch_metadata`` is the (a') pattern: ``dht_get_peers``, then add the magnet
with those peers in upload mode with the torrent's DHT/LSD/PEX off, so the fetcher never
announces itself. ``fetch_metadata_plainly`` asks the swarm's own client.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

import libtorrent as lt

from tests.dht_swarm.sessions import (
    _RETRY_EVERY_S,
    _STATS_EVERY_S,
    Endpoint,
    _sha1,
    _start_session,
    swarm_settings,
)

if TYPE_CHECKING:  # for annotations only: swarm.py imports this module at run time
    from tests.dht_swarm.swarm import Swarm


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
