"""The nodes to ask for BEP 51 samples, and when each may be asked again.

A BEP 51 reply says how long to wait before asking that node again (`interval`,
up to six hours); asking sooner is impolite and answered with the same sample.
`NodeTable` keeps every node known (from the routing table and from the `nodes`
of each reply, so the crawl spreads over the keyspace), the time each is due, and
drops nodes that stop answering. It is bounded: when full, new nodes wait until
silent ones are dropped.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterable

from engine.dht.events import Endpoint

NO_REPLY_RETRY_S = 300.0
"""A node that did not answer is asked again after this long..."""
MAX_UNANSWERED = 3
"""...and forgotten after this many unanswered queries in a row."""


class NodeTable:
    """DHT nodes to sample, each with the time it is due; bounded to `max_nodes`."""

    def __init__(
        self,
        max_nodes: int,
        *,
        min_interval_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_nodes
        self._min_interval = min_interval_s
        self._clock = clock
        self._due: dict[Endpoint, float] = {}
        self._unanswered: dict[Endpoint, int] = {}
        self._heap: list[tuple[float, Endpoint]] = []

    def __len__(self) -> int:
        return len(self._due)

    def add(self, endpoints: Iterable[Endpoint]) -> int:
        """Remember nodes not known yet (due at once); returns how many were new."""
        now = self._clock()
        added = 0
        for endpoint in endpoints:
            if endpoint in self._due or len(self._due) >= self._max or not _routable(endpoint):
                continue
            self._schedule(endpoint, now)
            self._unanswered[endpoint] = 0
            added += 1
        return added

    def take_due(self, limit: int) -> list[Endpoint]:
        """Up to `limit` nodes whose time has come, marked as asked (due again if silent)."""
        now = self._clock()
        taken: list[Endpoint] = []
        while self._heap and len(taken) < limit and self._heap[0][0] <= now:
            when, endpoint = heapq.heappop(self._heap)
            if self._due.get(endpoint) != when:
                continue  # rescheduled since: a stale heap entry
            misses = self._unanswered[endpoint] + 1
            if misses > MAX_UNANSWERED:
                del self._due[endpoint], self._unanswered[endpoint]
                continue
            self._unanswered[endpoint] = misses
            self._schedule(endpoint, now + NO_REPLY_RETRY_S)
            taken.append(endpoint)
        if len(self._heap) > 4 * len(self._due) + 64:
            self._heap = [(t, e) for e, t in self._due.items()]
            heapq.heapify(self._heap)
        return taken

    def replied(self, endpoint: Endpoint, interval_s: float) -> None:
        """A node answered: ask it again when its `interval` says (not before the minimum)."""
        if endpoint not in self._due and not self.add([endpoint]):
            return
        self._unanswered[endpoint] = 0
        self._schedule(endpoint, self._clock() + max(float(interval_s), self._min_interval))

    def _schedule(self, endpoint: Endpoint, when: float) -> None:
        self._due[endpoint] = when
        heapq.heappush(self._heap, (when, endpoint))


def _routable(endpoint: Endpoint) -> bool:
    host, port = endpoint
    return 0 < port < 65536 and bool(host) and host not in ("0.0.0.0", "::")  # noqa: S104
