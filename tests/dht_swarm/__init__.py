"""A private BitTorrent DHT on loopback, for the DHT crawler's end-to-end tests and benchmarks.

Nothing here leaves the machine: every libtorrent session listens on a 127.x address,
its default bootstrap node (``dht.libtorrent.org``) is replaced by ``''`` and the nodes
are introduced to each other with ``add_dht_node``. The API is synchronous and
thread-based, so it works the same from plain tests, from ``asyncio`` tests (call the
blocking waits through ``asyncio.to_thread``) and from ``bench/`` scripts.

Import from the package (``from tests.dht_swarm import Swarm, make_torrent``). The
modules, lowest layer first:

* ``bencoding``: ``bencode``, ``bdecode_prefix``, ``info_section``.
* ``torrents``: ``make_torrent(directory, name, kind, *, files=3, size=20_000,
  layout=None) -> MadeTorrent`` writes small deterministic content files and a real
  .torrent made by libtorrent 2.1. ``kind`` is "single" (one file) or "multi" (a
  directory), both in libtorrent's default v1+v2 format, or a format: "hybrid" (v1+v2),
  "v1" (``v1_only``), "v2" (``v2_only``), a directory unless ``layout="single"``.
* ``sessions``: ``swarm_settings`` (libtorrent settings for loopback: DHT on,
  LSD/UPnP/NAT-PMP off, no public bootstrap), session start-up, and the pump thread
  ("dht-swarm-pump") that drains every session's alerts every 10 ms into plain data.
* ``swarm``: ``Swarm(nodes=4, *, tmp, sample_interval_s=0, announce_interval_s=60,
  extra_settings=None)``: N sessions, node i on ``127.A.(B+i).1``, port 0, meshed.

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
* ``plain``: ``PlainSession`` (``sample_infohashes()``, ``get_peers(hash)``,
  ``fetch_metadata(hash) -> FetchReport``) and ``fetch_metadata_plainly(swarm, info_hash,
  timeout_s) -> bytes | None``: the raw info dictionary ``swarm.client`` fetched, or None
  when libtorrent got no valid metadata in time.
* ``peer``: ``BadMetadataPeer(mode, *, ip, ...)``, a BitTorrent peer in Python that serves
  wrong, malformed, oversized, no or (the control) honest metadata; ``PeerCounters``.

A session that leaves (a closed crawler or client) stays in the nodes' routing tables,
and later announces and lookups that include it wait about 15 s for it to time out. Use
one swarm per test, ``swarm.client`` rather than short-lived clients, and close a
crawler only at the end.
"""

from tests.dht_swarm.bencoding import Bencodable, bdecode_prefix, bencode, info_section
from tests.dht_swarm.peer import METADATA_PIECE, BadMetadataPeer, PeerCounters, PeerMode
from tests.dht_swarm.plain import FetchReport, PlainSession, fetch_metadata_plainly
from tests.dht_swarm.sessions import ALERTS, Endpoint, Sample, swarm_settings
from tests.dht_swarm.swarm import Swarm
from tests.dht_swarm.torrents import Layout, MadeTorrent, TorrentKind, make_torrent

__all__ = [
    "ALERTS",
    "METADATA_PIECE",
    "BadMetadataPeer",
    "Bencodable",
    "Endpoint",
    "FetchReport",
    "Layout",
    "MadeTorrent",
    "PeerCounters",
    "PeerMode",
    "PlainSession",
    "Sample",
    "Swarm",
    "TorrentKind",
    "bdecode_prefix",
    "bencode",
    "fetch_metadata_plainly",
    "info_section",
    "make_torrent",
    "swarm_settings",
]
