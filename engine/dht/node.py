"""The DHT node: one libtorrent session, and the thread that turns its alerts into events.

libtorrent runs its own network threads; the session's methods are safe to call
from any thread (they post to libtorrent's thread and return). Alerts are pulled
by `AlertPump`, a thread that waits for them, converts each to plain data at once
(`engine.dht.events`) and hands the batch to a callback: the crawler passes one
that schedules the batch onto its asyncio loop. The callback libtorrent itself
offers (`set_alert_notify`) runs on libtorrent's thread, where nothing may call
back into libtorrent, so a thread of our own is simpler and as fast.

The settings are libtorrent's production defaults except where a crawler needs
otherwise: no LSD/UPnP/NAT-PMP (nothing on the LAN, no router changes), the DHT
allowed enough upload to answer, a node allowed more packets per second before it
is blocked (our own lookups make nodes answer in bursts), metadata capped at the
size of a .torrent that Minato accepts, and the bootstrap list replaced (the
default list is a host Minato never names).
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import libtorrent as lt

from engine.dht.events import Endpoint, Event, to_event

log = logging.getLogger(__name__)

ALERTS = (
    lt.alert_category.error
    | lt.alert_category.status
    | lt.alert_category.dht
    | lt.alert_category.dht_operation
)
"""Only what the crawler reads: DHT traffic and results, metadata, errors."""
MAX_METADATA_BYTES = 10 * 1024 * 1024
"""The size limit of a .torrent upload (`DEFAULT_MAX_TORRENT_BYTES`): the same cap for the DHT."""
DHT_PACKETS_PER_NODE_S = 200
"""Packets per second one node may send us before libtorrent ignores it (default 5)."""
STATE_FILE = "dht_state.bin"
"""The node's id and routing table, kept in the data dir so a restart rejoins at once."""
_WAIT_MS = 250


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeConfig:
    """What the node needs: where to listen, whom to join through, how much bandwidth."""

    listen: str
    """"address:port"; port 0 picks a free one."""
    bootstrap: tuple[str, ...]
    """"host:port" of nodes to join through."""
    upload_bytes_s: int = 0
    download_bytes_s: int = 0
    max_peer_connections: int = 200
    state_dir: Path | None = None
    """Where the routing table is saved at close and read at open; None keeps nothing."""


def session_settings(config: NodeConfig) -> dict[str, object]:
    """The libtorrent settings of a crawler node (see the module docstring for why)."""
    return {
        "listen_interfaces": config.listen,
        "enable_dht": True,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_bootstrap_nodes": ",".join(config.bootstrap),
        "upload_rate_limit": config.upload_bytes_s,
        "download_rate_limit": config.download_bytes_s,
        "dht_upload_rate_limit": max(config.upload_bytes_s, 64_000)
        if config.upload_bytes_s
        else 256_000,
        "connections_limit": config.max_peer_connections,
        "max_metadata_size": MAX_METADATA_BYTES,
        # libtorrent blocks a node that sends more than 5 packets/s (its answers to us
        # included) for 5 minutes: a crawler looking up many hashes near one node would
        # shut itself out of that part of the DHT. Its upload limit still caps what a
        # flooding node can make us send.
        "dht_block_ratelimit": DHT_PACKETS_PER_NODE_S,
        "alert_mask": int(ALERTS),
        "alert_queue_size": 100_000,
        "user_agent": "Minato",
        "peer_fingerprint": "-MN0100-",
    }


def parse_endpoint(value: str) -> Endpoint:
    """("host", port) from "host:port" (IPv6 as "[::1]:6881").

    Raises:
        ValueError: not host:port.
    """
    host, _, port = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f'{value!r} is not "host:port"')
    return host, int(port)


class DhtNode:
    """A running libtorrent session used as a DHT node and metadata fetcher."""

    def __init__(self, config: NodeConfig, deliver: Callable[[list[Event]], None]) -> None:
        """Start the session and its alert thread; `deliver` gets each batch of events.

        `deliver` runs on the alert thread: it must only hand the batch over (for
        example with `loop.call_soon_threadsafe`).
        """
        self.config = config
        params = lt.session_params(cast("lt.settings_pack", session_settings(config)))
        saved = self._saved_params()
        if saved is not None:
            params.dht_state = saved.dht_state  # our node id and routing table: rejoin at once
        self.session = lt.session(params)
        self._pump = AlertPump(self.session, deliver)
        self._pump.start()
        for entry in config.bootstrap:
            try:
                self.session.add_dht_node(parse_endpoint(entry))
            except ValueError:
                log.warning("DHT bootstrap entry %r is not host:port; skipped", entry)

    @property
    def listen_port(self) -> int:
        """The port actually bound (the configured one, or the free one chosen for port 0)."""
        return int(self.session.listen_port())

    def sample(self, endpoint: Endpoint, target: bytes) -> None:
        """Ask `endpoint` for a sample of its stored hashes (BEP 51); the answer is a `Samples`."""
        self.session.dht_sample_infohashes(endpoint, lt.sha1_hash(target))

    def get_peers(self, info_hash: str) -> None:
        """Look up peers for a hash without announcing ourselves; the answer is a `PeersFound`."""
        self.session.dht_get_peers(lt.sha1_hash(bytes.fromhex(info_hash)))

    def add_nodes(self, endpoints: Iterable[Endpoint]) -> None:
        """Ping nodes so they may join the routing table."""
        for endpoint in endpoints:
            self.session.add_dht_node(endpoint)

    def fetch(self, info_hash: str, peers: Sequence[Endpoint], save_dir: Path) -> lt.torrent_handle:
        """Start fetching a hash's metadata from `peers`; returns the torrent handle.

        The torrent is added in upload mode (no piece is ever requested) with its own
        DHT, local discovery and peer exchange off, so Minato never announces itself
        as a peer of what it indexes and talks only to the peers given.
        """
        params = lt.parse_magnet_uri(f"magnet:?xt=urn:btih:{info_hash}")
        params.save_path = str(save_dir)
        params.flags |= (
            lt.torrent_flags.upload_mode
            | lt.torrent_flags.disable_dht
            | lt.torrent_flags.disable_lsd
            | lt.torrent_flags.disable_pex
        )
        params.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
        params.peers = list(peers)
        return self.session.add_torrent(params)

    def drop(self, handle: lt.torrent_handle) -> None:
        """Remove a fetch's torrent (nothing was downloaded; partial files are deleted)."""
        try:
            self.session.remove_torrent(handle, lt.session.delete_files)
        except (RuntimeError, TypeError) as exc:  # already gone
            log.debug("removing a DHT fetch: %s", exc)

    def routing_nodes(self) -> list[Endpoint]:
        """The endpoints in the routing table now (a blocking call: run it in a thread).

        libtorrent's Python binding cannot hand the table over directly, so it is read
        from the saved-state form: compact 6-byte (IPv4) or 18-byte (IPv6) entries.
        """
        flags = lt.save_state_flags_t.save_dht_state
        buffer = lt.write_session_params_buf(self.session.session_state(flags), flags)
        saved: Any = lt.bdecode(buffer)
        state = saved.get(b"dht state") if isinstance(saved, dict) else None
        nodes = state.get(b"nodes") if isinstance(state, dict) else None
        return [
            endpoint
            for entry in (nodes if isinstance(nodes, list) else [])
            if (endpoint := _compact_endpoint(entry)) is not None
        ]

    def post_stats(self) -> None:
        """Ask for the routing table size; the answer is a `RoutingTable` event."""
        self.session.post_dht_stats()

    def close(self) -> None:
        """Save the routing table, stop the alert thread, end the session."""
        self._save_params()
        self._pump.stop()
        for handle in self.session.get_torrents():
            self.drop(handle)
        self.session.pause()
        del self.session

    def _saved_params(self) -> lt.session_params | None:
        path = self._state_path()
        if path is None or not path.is_file():
            return None
        try:
            return lt.read_session_params(path.read_bytes(), lt.save_state_flags_t.save_dht_state)
        except (OSError, RuntimeError, TypeError, ValueError) as exc:
            log.warning("the saved DHT state %s is unreadable (%s): starting afresh", path, exc)
            return None

    def _save_params(self) -> None:
        path = self._state_path()
        if path is None:
            return
        try:
            data = lt.write_session_params_buf(
                self.session.session_state(lt.save_state_flags_t.save_dht_state),
                lt.save_state_flags_t.save_dht_state,
            )
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(bytes(data))
            tmp.replace(path)
        except (OSError, RuntimeError, TypeError) as exc:
            log.warning("could not save the DHT state to %s: %s", path, exc)

    def _state_path(self) -> Path | None:
        if self.config.state_dir is None:
            return None
        return self.config.state_dir / STATE_FILE


class AlertPump:
    """The thread that pops libtorrent's alerts and delivers them as events."""

    def __init__(self, session: lt.session, deliver: Callable[[list[Event]], None]) -> None:
        self._session = session
        self._deliver = deliver
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dht-alerts", daemon=True)

    def start(self) -> None:
        """Start pumping."""
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait for the thread (it wakes at least every 250 ms); let go of the session.

        libtorrent ends a session (and frees its port) only when the last reference
        to it goes, so the pump must not keep one.
        """
        self._stopping.set()
        self._thread.join()
        del self._session

    def _run(self) -> None:
        while not self._stopping.is_set():
            if self._session.wait_for_alert(_WAIT_MS) is None:
                continue
            events: list[Event] = []
            for alert in self._session.pop_alerts():
                try:
                    event = to_event(alert)
                except Exception:  # one odd alert must not end the pump
                    log.exception("could not read a libtorrent alert %s", type(alert).__name__)
                    continue
                if event is not None:
                    events.append(event)
            if events:
                try:
                    self._deliver(events)
                except RuntimeError:  # the loop that receives them is closed: we are stopping
                    return


def _compact_endpoint(entry: object) -> Endpoint | None:
    """(ip, port) from BEP 5's compact form, or None for anything else."""
    if not isinstance(entry, bytes) or len(entry) not in (6, 18):
        return None
    address = ipaddress.ip_address(entry[:-2])
    return str(address), int.from_bytes(entry[-2:], "big")
