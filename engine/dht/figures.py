"""What the DHT crawler has done: counts since start, rates per minute, and a snapshot of both.

Counts only grow while a crawler runs; rates are over the last five minutes
(per-second buckets), so a burst shows up quickly and a stall shows as zero.
`DhtFigures` is the immutable snapshot the API, the CLI and the window read; it
also goes to the database every minute so `minato dht status` has something to
show when no server runs.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

RATE_WINDOW_S = 300


@dataclass(frozen=True, slots=True, kw_only=True)
class DhtFigures:
    """One look at the DHT crawler."""

    running: bool = False
    listen_port: int | None = None
    started_at: datetime | None = None
    routing_table: int = 0
    """Nodes in the routing table."""
    nodes_known: int = 0
    """Nodes remembered for BEP 51 sampling."""
    sample_queries: int = 0
    sample_replies: int = 0
    discovered: int = 0
    """Hashes new to the crawler (not seen lately), whatever their origin."""
    from_samples: int = 0
    from_traffic: int = 0
    """Hashes first heard in get_peers lookups or announces that reached the node."""
    already_indexed: int = 0
    """New hashes skipped because the index already has their files."""
    dropped: int = 0
    """New hashes dropped because the fetch queue was full."""
    queued: int = 0
    fetching: int = 0
    fetched: int = 0
    """Metadata fetched, checked and handed to the pipeline."""
    stored_new: int = 0
    """Of those, torrents new to the index."""
    no_peers: int = 0
    timed_out: int = 0
    bad_metadata: int = 0
    """Metadata refused (by libtorrent's hash check or Minato's parser)."""
    retries: int = 0
    discovered_per_min: float = 0.0
    fetched_per_min: float = 0.0
    failed_per_min: float = 0.0
    last_error: str | None = None

    @property
    def failures(self) -> int:
        """Fetches that gave up: no peers, timed out, or bad metadata."""
        return self.no_peers + self.timed_out + self.bad_metadata

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types (times as ISO 8601)."""
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat() if self.started_at else None
        data["failures"] = self.failures
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DhtFigures:
        """Read back `to_json`; unknown or ill-typed values are left at their defaults."""
        blank = cls()
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in _FIELDS:
                continue
            if key == "started_at":
                with contextlib.suppress(TypeError, ValueError):
                    values[key] = datetime.fromisoformat(value) if value else None
            elif key == "listen_port":
                if value is None or (_is_count(value) and value <= 65535):
                    values[key] = value
            elif key == "last_error":
                if value is None or isinstance(value, str):
                    values[key] = value[:500] if value else None
            elif isinstance(getattr(blank, key), bool):
                if isinstance(value, bool):
                    values[key] = value
            elif isinstance(getattr(blank, key), int):
                if _is_count(value):
                    values[key] = value
            elif isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                values[key] = float(value)
        return cls(**values)


_FIELDS = frozenset(f.name for f in fields(DhtFigures))


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class RateMeter:
    """Events per minute over the last `RATE_WINDOW_S` seconds, in per-second buckets."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._buckets: deque[list[float]] = deque()  # [second, count]

    def add(self, count: int = 1) -> None:
        """Count `count` events now."""
        second = float(int(self._clock()))
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1][1] += count
        else:
            self._buckets.append([second, float(count)])
        self._trim(second)

    def per_minute(self) -> float:
        """The rate over the window (or since the first event, when that is shorter)."""
        now = float(int(self._clock()))
        self._trim(now)
        if not self._buckets:
            return 0.0
        span = max(60.0, min(float(RATE_WINDOW_S), now - self._buckets[0][0] + 1))
        return sum(count for _, count in self._buckets) * 60.0 / span

    def _trim(self, now: float) -> None:
        while self._buckets and self._buckets[0][0] <= now - RATE_WINDOW_S:
            self._buckets.popleft()
