"""Fetching one hash's metadata: find its peers, ask them for the info dictionary, check it.

The peers come from a DHT `get_peers` lookup, which does not announce us; the
torrent is then added in upload mode with its own DHT off and those peers only
(`DhtNode.fetch`), so nothing but the metadata is ever transferred. libtorrent
checks the metadata against the hash (a peer sending anything else is refused
and banned); Minato then reads it with the same parser as a .torrent upload, so
what the DHT yields obeys the same rules. Every fetch ends within its deadline,
with a `Resolved` torrent or a `Failed` reason, and its torrent is removed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import libtorrent as lt

from engine.dht.events import MetadataArrived, MetadataRefused, PeersFound
from engine.dht.node import MAX_METADATA_BYTES, DhtNode
from engine.errors import InvalidTorrent
from engine.models import FileEntry
from engine.torrent import parse_torrent

MAX_PEERS = 50
"""Peers handed to one fetch: more only costs connections."""
LOOKUP_AGAIN_S = 5.0
"""A DHT lookup unanswered this long is sent again (a lost packet can stall a traversal)."""


class Failure(StrEnum):
    """Why a fetch gave up."""

    NO_PEERS = "no_peers"  # the DHT knows no peer for the hash
    TIMEOUT = "timeout"  # peers known, but none sent the metadata in time
    BAD_METADATA = "bad_metadata"  # a peer sent metadata that was refused
    BUSY = "busy"  # libtorrent would not take the fetch (a duplicate in flight)


@dataclass(frozen=True, slots=True)
class Failed:
    """A fetch that gave up, and why."""

    info_hash: str
    failure: Failure
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolved:
    """A torrent whose metadata arrived and passed every check."""

    info_hash: str
    """The v1 hash (the index key), or the truncated v2 hash of a v2-only torrent."""
    other_hash: str | None
    """The hybrid torrent's second DHT hash (truncated v2) when `info_hash` is v1, else None."""
    name: str
    files: tuple[FileEntry, ...]
    total_size: int
    private: bool
    metainfo: bytes
    """A .torrent: the info dictionary as received, without trackers."""
    peers: int
    """Peers the DHT named for it: the health estimate."""


class MetadataFetcher:
    """Runs fetches on a `DhtNode`; the crawler feeds it the node's events with `deliver`."""

    def __init__(self, node: DhtNode, *, save_dir: Path, timeout_s: float) -> None:
        self._node = node
        self._save_dir = save_dir
        self._timeout_s = timeout_s
        self._lookups: dict[str, asyncio.Future[tuple[tuple[str, int], ...]]] = {}
        self._fetches: dict[lt.torrent_handle, asyncio.Future[bytes | str]] = {}

    @property
    def in_flight(self) -> int:
        """Fetches waiting for peers or metadata now."""
        return len(self._lookups) + len(self._fetches)

    def deliver(self, event: PeersFound | MetadataArrived | MetadataRefused) -> None:
        """Hand an event to the fetch waiting for it (others are stale: ignored)."""
        if isinstance(event, PeersFound):
            lookup = self._lookups.get(event.info_hash)
            if lookup is not None and not lookup.done():
                lookup.set_result(event.peers)
            return
        if isinstance(event, MetadataRefused):
            self._answer(event.handle, event.reason)
        else:
            for handle in event.handles:
                self._answer(handle, event.info)

    def _answer(self, handle: lt.torrent_handle, answer: bytes | str) -> None:
        waiter = self._fetches.get(handle)
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    async def fetch(self, info_hash: str) -> Resolved | Failed:
        """Find peers for `info_hash` and fetch its metadata, within the timeout."""
        loop = asyncio.get_running_loop()
        peers: tuple[tuple[str, int], ...] = ()
        handle: lt.torrent_handle | None = None
        try:
            async with asyncio.timeout(self._timeout_s):
                lookup = self._lookups[info_hash] = loop.create_future()
                peers = await self._look_up(info_hash, lookup)
                if not peers:
                    return Failed(info_hash, Failure.NO_PEERS)
                try:
                    handle = self._node.fetch(info_hash, peers[:MAX_PEERS], self._save_dir)
                except RuntimeError as exc:  # libtorrent refuses a duplicate torrent
                    return Failed(info_hash, Failure.BUSY, str(exc))
                waiter = self._fetches[handle] = loop.create_future()
                answer = await waiter
        except TimeoutError:
            return Failed(info_hash, Failure.TIMEOUT if peers else Failure.NO_PEERS)
        finally:
            self._lookups.pop(info_hash, None)
            if handle is not None:
                self._fetches.pop(handle, None)
                self._node.drop(handle)
        if isinstance(answer, str):
            return Failed(info_hash, Failure.BAD_METADATA, answer)
        return check_metadata(info_hash, answer, peers=len(peers))

    async def _look_up(
        self, info_hash: str, lookup: asyncio.Future[tuple[tuple[str, int], ...]]
    ) -> tuple[tuple[str, int], ...]:
        """Peers for a hash; the lookup is sent again while no answer comes (UDP loses some)."""
        while True:
            self._node.get_peers(info_hash)
            try:
                async with asyncio.timeout(LOOKUP_AGAIN_S):
                    return await asyncio.shield(lookup)
            except TimeoutError:
                continue  # the fetch's own deadline ends this loop


def check_metadata(requested: str, info: bytes, *, peers: int) -> Resolved | Failed:
    """The torrent an info dictionary describes, if it is a valid one for `requested`.

    The bytes become a .torrent (`d4:info<info>e`) read by `parse_torrent`, the
    parser of uploads: padding files dropped, names sanitized as clients do, and
    anything libtorrent refuses refused here with its reason.
    """
    if not info:
        return Failed(requested, Failure.BAD_METADATA, "empty metadata")
    metainfo = b"d4:info" + info + b"e"
    try:
        parsed = parse_torrent(metainfo, max_bytes=MAX_METADATA_BYTES + 16)
    except InvalidTorrent as exc:
        return Failed(requested, Failure.BAD_METADATA, str(exc))
    v2 = parsed.info_hash_v2[:40] if parsed.info_hash_v2 else None
    if requested not in (parsed.info_hash, v2):
        return Failed(requested, Failure.BAD_METADATA, "metadata of another torrent")
    if not parsed.name.strip():
        return Failed(requested, Failure.BAD_METADATA, "torrent has no name")
    return Resolved(
        info_hash=parsed.info_hash,
        other_hash=v2 if v2 != parsed.info_hash else None,
        name=parsed.name,
        files=parsed.files,
        total_size=parsed.total_size,
        private=parsed.private,
        metainfo=metainfo,
        peers=peers,
    )
