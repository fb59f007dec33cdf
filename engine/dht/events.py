"""libtorrent alerts as plain Python data, made on the alert thread the moment they are popped.

An alert object is only valid until the next `pop_alerts()` (reading it later
crashes in Boost.Python), so every field the crawler needs is copied out here and
nothing else of libtorrent leaves the alert thread, except torrent handles, which
stay valid (they are copies) and are how a fetch is recognised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libtorrent as lt

Endpoint = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Samples:
    """A BEP 51 reply: hashes stored at `endpoint`, when to ask it again, nodes it knows."""

    endpoint: Endpoint
    hashes: tuple[str, ...]
    interval_s: int
    num_infohashes: int
    nodes: tuple[Endpoint, ...]


@dataclass(frozen=True, slots=True)
class HashHeard:
    """A hash someone looked up through us (`get_peers`) or announced to us."""

    info_hash: str
    announced: bool


@dataclass(frozen=True, slots=True)
class PeersFound:
    """The end of a `dht_get_peers` lookup: the peers the DHT holds for a hash."""

    info_hash: str
    peers: tuple[Endpoint, ...]


@dataclass(frozen=True, slots=True)
class MetadataArrived:
    """Metadata passed libtorrent's hash check; `info` is the raw info dictionary.

    Usually for one fetch; for two when both hashes of a hybrid torrent were being
    fetched at once (libtorrent then reports a conflict, with the metadata).
    """

    handles: tuple[Any, ...]
    info: bytes


@dataclass(frozen=True, slots=True)
class MetadataRefused:
    """A peer sent metadata that libtorrent rejected (wrong hash, not a dictionary, too big)."""

    handle: Any
    reason: str


@dataclass(frozen=True, slots=True)
class RoutingTable:
    """The node's routing table size (the answer to `post_dht_stats`)."""

    nodes: int


@dataclass(frozen=True, slots=True)
class NodeError:
    """Something the node could not do (bind its port, reach a bootstrap node)."""

    message: str


Event = (
    Samples | HashHeard | PeersFound | MetadataArrived | MetadataRefused | RoutingTable | NodeError
)


def to_event(alert: Any) -> Event | None:
    """The event for `alert`, or None for alerts the crawler does not use."""
    if isinstance(alert, lt.dht_sample_infohashes_alert):
        return Samples(
            endpoint=_endpoint(alert.endpoint),
            hashes=tuple(str(h) for h in alert.samples),
            interval_s=int(alert.interval.total_seconds()),
            num_infohashes=int(alert.num_infohashes),
            nodes=tuple(_endpoint(node["endpoint"]) for node in alert.nodes),
        )
    if isinstance(alert, lt.dht_get_peers_alert):
        return HashHeard(str(alert.info_hash), announced=False)
    if isinstance(alert, lt.dht_announce_alert):
        return HashHeard(str(alert.info_hash), announced=True)
    if isinstance(alert, lt.dht_get_peers_reply_alert):
        return PeersFound(str(alert.info_hash), tuple(_endpoint(p) for p in alert.peers()))
    if isinstance(alert, lt.metadata_received_alert):
        info = alert.handle.torrent_file()
        return MetadataArrived((alert.handle,), bytes(info.info_section()) if info else b"")
    if isinstance(alert, lt.torrent_conflict_alert):
        handles = (alert.handle, alert.conflicting_torrent)
        return MetadataArrived(handles, bytes(alert.metadata.info_section()))
    if isinstance(alert, lt.metadata_failed_alert):
        return MetadataRefused(alert.handle, alert.error.message() or "invalid metadata")
    if isinstance(alert, lt.dht_stats_alert):
        return RoutingTable(sum(int(bucket["num_nodes"]) for bucket in alert.routing_table))
    if isinstance(alert, lt.listen_failed_alert):
        return NodeError(alert.message())
    return None


def _endpoint(value: Any) -> Endpoint:
    host, port = value
    return (str(host), int(port))
