"""libtorrent sessions on loopback and the alert pump that turns their alerts into plain data.

``swarm_settings`` configures a node or client for a private DHT on a 127.x address;
``_start_session`` starts one and waits until its DHT runs. One ``_Pump`` thread
("dht-swarm-pump") drains every registered session's alerts every 10 ms into a
``_NodeState``, because an alert dies at the next pop; the swarm and its clients wait on
the pump's condition for that state to change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar, cast

import libtorrent as lt

Endpoint = tuple[str, int]
T = TypeVar("T")


ALERTS = (
    lt.alert_category.error
    | lt.alert_category.status
    | lt.alert_category.dht
    | lt.alert_category.dht_operation
)
_PUMP_EVERY_S = 0.01
_RETRY_EVERY_S = 0.5
_STATS_EVERY_S = 0.05


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
