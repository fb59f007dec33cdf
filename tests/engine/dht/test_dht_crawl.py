"""The DHT crawler end to end on a private DHT on loopback (tests/dht_swarm/).

A few libtorrent nodes, each on its own 127.x address, seed torrents the tests make
(single-file, multi-file, hybrid v1/v2, v2-only). Minato runs as it does for a user:
a `Core` with crawling on, every site off, the DHT on, started by its scheduler
(`Core.run`). Its node joins through one swarm node and must find the hashes by
itself (BEP 51 samples, or the announces reaching it), fetch their metadata from the
peers the DHT names, and store them with their files, searchable. Hostile peers
(tests/dht_swarm.BadMetadataPeer) speak the real wire protocol and send metadata that
must be refused. Nothing here leaves the machine: the crawler's bootstrap list is the
swarm's first node.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.core import Core
from engine.dht.figures import DhtFigures
from engine.services import parse_search_params
from engine.store.schema import files, metainfo, sightings, torrents
from engine.torrent import parse_torrent
from tests.conftest import SettingsFactory
from tests.crawl_support import free_port, only_sites
from tests.dht_swarm import BadMetadataPeer, MadeTorrent, Swarm, make_torrent

pytestmark = pytest.mark.slow

WAIT_S = 60.0


@pytest.fixture
def swarm(tmp_path: Path) -> Iterator[Swarm]:
    with Swarm(4, tmp=tmp_path / "swarm") as started:
        started.wait_ready(timeout_s=20)
        yield started


@dataclass
class Running:
    core: Core
    task: asyncio.Task[None]

    @property
    def figures(self) -> DhtFigures:
        assert self.core.crawling is not None
        return self.core.crawling.dht.figures()

    def stored(self) -> dict[str, dict[str, Any]]:
        with self.core.database.reader.connect() as conn:
            rows = conn.execute(select(torrents)).mappings().all()
            found = {row["info_hash"]: dict(row) for row in rows}
            for row in found.values():
                row["files"] = sorted(
                    (f.path, f.size)
                    for f in conn.execute(
                        select(files.c.path, files.c.size).where(
                            files.c.info_hash == row["info_hash"]
                        )
                    )
                )
                row["sources"] = sorted(
                    conn.execute(
                        select(sightings.c.source).where(sightings.c.info_hash == row["info_hash"])
                    ).scalars()
                )
                row["metainfo"] = conn.execute(
                    select(metainfo.c.data).where(metainfo.c.info_hash == row["info_hash"])
                ).scalar()
            return found

    async def until(self, check: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while not check():
            if self.task.done():
                self.task.result()  # raise what ended the core
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self.figures}"
            await asyncio.sleep(0.1)


Start = Callable[..., Awaitable[Running]]


@pytest.fixture
async def start_minato(
    make_settings: SettingsFactory, database_url: str, swarm: Swarm
) -> AsyncIterator[Start]:
    """Open a core whose DHT crawler joins `swarm`, and run it as `minato serve` would."""
    started: list[Running] = []

    async def start(**dht: Any) -> Running:
        entry, port = swarm.endpoints[0]
        values: dict[str, Any] = {
            **only_sites({"dht": {}}),
            "pipeline.classify": True,
            "dht.enabled": True,
            "dht.listen": f"{swarm.spare_ip()}:0",
            "dht.bootstrap": [f"{entry}:{port}"],
            "dht.fetch_timeout_s": 5,
            "dht.fetch_retries": 0,
            "dht.samples_per_s": 50,
            **{f"dht.{key}": value for key, value in dht.items()},
        }
        core = Core.open(make_settings(database_url, **values))
        running = Running(core, asyncio.create_task(core.run()))
        started.append(running)
        return running

    yield start
    for running in started:
        running.task.cancel()
        with_cancel = asyncio.gather(running.task, return_exceptions=True)
        await with_cancel
        running.core.close()


@contextlib.asynccontextmanager
async def reannouncing(swarm: Swarm) -> AsyncIterator[None]:
    """Repeat the swarm's announces every second meanwhile (traffic for passive discovery)."""

    async def repeat() -> None:
        while True:
            await asyncio.sleep(1.0)
            await asyncio.to_thread(swarm.reannounce)

    task = asyncio.create_task(repeat())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def seed_all(swarm: Swarm, made: list[MadeTorrent]) -> list[str]:
    hashes: list[str] = []
    for number, torrent in enumerate(made):
        hashes += swarm.seed(torrent, node=number % 4)
    swarm.wait_stored(hashes, timeout_s=20)
    return hashes


def assert_indexed(row: dict[str, Any], made: MadeTorrent, *, kept: bool = True) -> None:
    assert row["title"] == made.name
    assert row["size"] == made.total_size
    assert row["files"] == sorted(made.files)
    assert row["file_count"] == len(made.files)
    assert row["sources"] == ["dht"]
    assert row["seeders"] >= 1  # the peers the DHT named
    if not kept:
        assert row["metainfo"] is None  # keep_metainfo = false: files kept, .torrent not
        return
    assert row["metainfo"] is not None
    served = parse_torrent(row["metainfo"])
    assert served.info_hash == made.info_hash
    assert served.info_hash_v2 == made.info_hash_v2


async def test_seeded_torrents_are_found_fetched_stored_and_searchable(
    swarm: Swarm, start_minato: Start, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    made = [
        make_torrent(content, "Ubuntu.Desktop.24.04.iso", "single", size=70_000),
        make_torrent(content, "Field.Recordings.FLAC", "v1", files=5),
        make_torrent(content, "Big.Buck.Bunny.2008.1080p", "hybrid", files=4),
        make_torrent(content, "Sintel.2010.Open.Movie", "v2", files=3),
    ]
    hashes = seed_all(swarm, made)
    assert len(hashes) == 6  # "single" and "hybrid" are v1+v2: in the DHT twice each

    running = await start_minato()
    await running.until(lambda: len(running.stored()) >= 4, "four torrents stored")
    await asyncio.sleep(1.0)  # a second hybrid fetch, had it happened, would be stored by now
    stored = running.stored()
    assert set(stored) == {m.info_hash for m in made}  # the hybrid once, under its v1 hash
    for torrent in made:
        assert_indexed(stored[torrent.info_hash], torrent)

    running.core.services.status.drain_index()
    search = running.core.services.search
    for torrent in made:
        words = torrent.name.split(".")[0]
        hits = search.search_sync(parse_search_params({"q": words})).hits
        assert torrent.info_hash in {hit.info_hash for hit in hits}, torrent.name

    figures = running.figures
    assert figures.running
    assert figures.from_samples >= 4  # found by BEP 51, not handed over
    assert figures.fetched >= 4
    assert figures.stored_new == 4
    assert figures.bad_metadata == 0
    assert figures.sample_replies >= 1
    data_dir = running.core.settings.data_path()
    written = [p for p in (data_dir / "dht-fetch").rglob("*") if p.is_file()]
    assert written == []  # metadata only: no content ever reaches the disk

    status = running.core.services.crawlers.statuses()
    assert {s.source: s.state.value for s in status}["dht"] == "running"


async def test_announces_alone_find_torrents_when_sampling_is_off(
    swarm: Swarm, start_minato: Start, tmp_path: Path
) -> None:
    running = await start_minato(samples_per_s=0, keep_metainfo=False)
    await running.until(lambda: running.figures.running, "the node to start")
    await asyncio.sleep(2.0)  # let the swarm's nodes learn of the crawler's node
    made = make_torrent(tmp_path / "content", "Night.Of.The.Living.Dead.1968", "v1", files=2)
    swarm.seed(made, node=2)

    async with reannouncing(swarm):
        await running.until(lambda: made.info_hash in running.stored(), "the announced torrent")
    assert_indexed(running.stored()[made.info_hash], made, kept=False)
    figures = running.figures
    assert figures.sample_queries == 0
    assert figures.from_samples == 0
    assert figures.from_traffic >= 1


async def test_a_hash_nobody_has_and_a_dead_peer_end_cleanly(
    swarm: Swarm, start_minato: Start, tmp_path: Path
) -> None:
    running = await start_minato(fetch_timeout_s=3)
    await running.until(lambda: running.figures.running, "the node to start")
    assert running.core.crawling is not None
    crawler = running.core.crawling.dht
    orphan = os.urandom(20).hex()
    dead = os.urandom(20).hex()
    swarm.announce(dead, 9, node=1)  # a peer on a port nobody listens on
    await asyncio.to_thread(swarm.wait_stored, [dead], 20)
    assert crawler.offer([orphan, dead]) >= 1  # `dead` may have been sampled already
    await asyncio.sleep(0.2)  # the workers take both at once (32 of them)

    def both_ended() -> bool:
        figures = running.figures
        return figures.failures >= 2 and figures.fetching == 0 and figures.queued == 0

    await running.until(both_ended, "both fetches to give up", timeout_s=30)
    figures = running.figures
    assert figures.no_peers + figures.timed_out >= 2
    assert figures.fetching == 0
    assert not {orphan, dead} & set(running.stored())

    made = make_torrent(tmp_path / "content", "Still.Crawling.After.Failures", "single")
    seed_all(swarm, [made])
    crawler.offer(made.dht_hashes)
    await running.until(lambda: made.info_hash in running.stored(), "a good torrent after")


@pytest.mark.parametrize("mode", ["wrong_hash", "malformed", "oversized", "silent"])
async def test_a_peer_with_bad_metadata_is_refused(
    swarm: Swarm, start_minato: Start, tmp_path: Path, mode: str
) -> None:
    with BadMetadataPeer(mode, ip=swarm.node_ip(3)) as peer:  # type: ignore[arg-type]
        bad = swarm.announce_peer(peer)
        good = make_torrent(tmp_path / "content", "An.Honest.Torrent", "v1", files=2)
        seed_all(swarm, [good])
        await asyncio.to_thread(swarm.wait_stored, [bad], 20)
        running = await start_minato(fetch_timeout_s=4)
        await running.until(
            lambda: good.info_hash in running.stored() and running.figures.failures >= 1,
            "the good torrent stored and the bad one refused",
        )
        counters = peer.counters()
    assert counters.handshakes >= 1  # the crawler did talk to the peer
    if mode != "oversized":
        assert counters.metadata_requests >= 1
    figures = running.figures
    assert bad not in running.stored()
    assert figures.bad_metadata + figures.timed_out >= 1
    if mode in ("wrong_hash", "malformed"):
        assert figures.bad_metadata >= 1
    assert_indexed(running.stored()[good.info_hash], good)


async def test_stop_and_start_again_rejoin_with_the_saved_routing_table(
    swarm: Swarm, start_minato: Start, tmp_path: Path
) -> None:
    ip = swarm.spare_ip()
    # a fixed port, as a user's node has: the swarm knows it again
    port = free_port(ip, udp_too=True)
    running = await start_minato(listen=f"{ip}:{port}")
    await running.until(lambda: running.figures.running, "the node to start")
    assert running.figures.listen_port == port
    dht = running.core.services.dht
    stopped = await dht.stop()
    assert (stopped.status.state.value, stopped.live) == ("disabled", False)
    assert not running.figures.running
    state_file = running.core.settings.data_path() / "dht_state.bin"
    assert state_file.stat().st_size > 0  # node id and routing table, for the next start

    made = make_torrent(tmp_path / "content", "Found.After.A.Restart", "v1", files=2)
    seed_all(swarm, [made])
    started = await dht.start()
    assert started.status.enabled
    # the nodes sampled before the stop are not asked again within a minute (politeness
    # survives a restart): the new torrent is heard in the swarm's announces
    async with reannouncing(swarm):
        await running.until(lambda: made.info_hash in running.stored(), "a torrent after restart")
    assert running.figures.running
    assert running.figures.listen_port == port
