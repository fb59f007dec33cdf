"""The DHT crawler's bookkeeping: the seen filter, the sampling table, the figures."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from engine.dht.figures import DhtFigures, RateMeter
from engine.dht.sampler import MAX_UNANSWERED, NO_REPLY_RETRY_S, NodeTable
from engine.dht.seen import BloomFilter, SeenFilter


def random_hashes(count: int) -> list[str]:
    return [os.urandom(20).hex() for _ in range(count)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- seen filter ------------------------------------------------------------------------------


def test_a_hash_is_new_once_and_then_seen() -> None:
    seen = SeenFilter(10_000)
    hashes = random_hashes(1000)
    assert all(seen.add(h) for h in hashes)
    assert not any(seen.add(h) for h in hashes)
    assert all(h in seen for h in hashes)
    assert len(seen) == 1000


def test_false_positives_stay_near_the_rate_asked_for() -> None:
    seen = SeenFilter(20_000, error_rate=0.01)
    for h in random_hashes(10_000):
        seen.add(h)
    strangers = random_hashes(20_000)
    false = sum(h in seen for h in strangers)
    assert false < 20_000 * 0.03  # 1 % asked; three times that would be a broken filter


def test_memory_is_fixed_and_the_oldest_are_forgotten_first() -> None:
    seen = SeenFilter(2000)
    size = seen.nbytes
    first = random_hashes(1000)
    for h in first:
        seen.add(h)
    for h in random_hashes(5000):
        seen.add(h)
    assert seen.nbytes == size
    assert len(seen) <= 2000
    assert sum(h in seen for h in first) < 100  # forgotten (up to false positives)


def test_a_hash_still_being_seen_survives_rotation() -> None:
    seen = SeenFilter(2000)
    popular = random_hashes(1)[0]
    seen.add(popular)
    for chunk in range(6):
        for h in random_hashes(500):
            seen.add(h)
        assert not seen.add(popular), f"forgotten after {chunk + 1} chunks"


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        SeenFilter(1)
    with pytest.raises(ValueError):
        BloomFilter(10, 1.5, b"k")


# --- sampling table ---------------------------------------------------------------------------


def test_new_nodes_are_due_at_once_then_when_their_interval_says() -> None:
    clock = Clock()
    table = NodeTable(100, min_interval_s=60.0, clock=clock)
    assert table.add([("10.0.0.1", 6881), ("10.0.0.2", 6881), ("10.0.0.1", 6881)]) == 2
    assert sorted(table.take_due(10)) == [("10.0.0.1", 6881), ("10.0.0.2", 6881)]
    assert table.take_due(10) == []  # asked: not due again at once
    table.replied(("10.0.0.1", 6881), 3600)
    table.replied(("10.0.0.2", 6881), 5)  # sooner than the minimum: the minimum wins
    clock.now += 61
    assert table.take_due(10) == [("10.0.0.2", 6881)]
    clock.now += 3600
    assert sorted(table.take_due(10)) == [("10.0.0.1", 6881), ("10.0.0.2", 6881)]


def test_a_silent_node_is_retried_then_forgotten() -> None:
    clock = Clock()
    table = NodeTable(100, clock=clock)
    table.add([("10.0.0.9", 6881)])
    asked = 0
    for _ in range(MAX_UNANSWERED + 2):
        asked += len(table.take_due(10))
        clock.now += NO_REPLY_RETRY_S + 1
    assert asked == MAX_UNANSWERED
    assert len(table) == 0


def test_the_table_is_bounded_and_skips_unroutable_endpoints() -> None:
    table = NodeTable(3, clock=Clock())
    added = table.add([("0.0.0.0", 1), ("10.0.0.1", 0), ("10.0.0.1", 70000)])  # noqa: S104
    assert added == 0
    assert table.add([(f"10.0.0.{i}", 6881) for i in range(1, 10)]) == 3
    assert len(table) == 3
    assert len(table.take_due(2)) == 2  # the limit is honoured


# --- figures ----------------------------------------------------------------------------------


def test_figures_round_trip_through_json() -> None:
    figures = DhtFigures(
        running=True,
        listen_port=6881,
        started_at=datetime(2026, 11, 24, 20, 0, tzinfo=UTC),
        discovered=10,
        fetched=4,
        no_peers=2,
        timed_out=1,
        bad_metadata=1,
        fetched_per_min=2.5,
        last_error="bind failed",
    )
    data = figures.to_json()
    assert data["failures"] == 4
    assert DhtFigures.from_json(data) == figures


def test_damaged_saved_figures_fall_back_to_defaults() -> None:
    loaded = DhtFigures.from_json(
        {
            "fetched": "many",
            "discovered": -3,
            "running": "yes",
            "listen_port": 99999,
            "started_at": "yesterday",
            "fetched_per_min": True,
            "last_error": 7,
            "unknown": 1,
            "timed_out": 5,
        }
    )
    assert loaded == DhtFigures(timed_out=5)


def test_rates_count_the_last_five_minutes() -> None:
    clock = Clock()
    meter = RateMeter(clock)
    assert meter.per_minute() == 0.0
    for _ in range(30):
        meter.add()
    assert meter.per_minute() == 30.0  # under a minute of history counts as one minute
    clock.now += 120
    meter.add(30)
    assert meter.per_minute() == pytest.approx(60 * 60 / 121)
    clock.now += 400
    assert meter.per_minute() == 0.0
