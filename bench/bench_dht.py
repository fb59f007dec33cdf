"""Benchmark the DHT crawler on a private DHT on loopback: fetch rates, memory, CPU.

    .venv/bin/python bench/bench_dht.py [--torrents 400] [--concurrency 1 4 16 64]
        [--crawl-concurrency 32] [--runs 1] [--quick] [--skip-memory] [--skip-fetch]
        [--skip-crawl]

Three parts; nothing leaves the machine (every node listens on a 127.x address and the
crawler's only bootstrap node is the swarm's first).

**The swarm.** A child process (so its CPU is not in this process's figures) starts
`tests.dht_swarm.Swarm(4)`: four libtorrent nodes, each on its own loopback /24, meshed.
It makes `--torrents` small torrents with `make_torrent` (v1 single files of 16-40 KB,
distinct names), seeds them spread over the four nodes, waits until every announce has
reached a node, and prints the endpoints and hashes as one JSON line.

**Metadata fetch rate.** For each `--concurrency` level, a fresh `DhtNode` (Minato's own
settings, on a spare loopback address, bootstrapped from node 0) and a
`MetadataFetcher` (the crawler's fetch: `dht_get_peers` without announcing, then the
torrent added in upload mode with the peers found, its DHT/LSD/PEX off, the metadata
checked by `check_metadata`) fetch every hash, `--concurrency` at once. Per level:
fetches that resolved, failures, wall time, fetches/s and /min, the latency of one fetch
(p50/p95/max: lookup + connection + metadata), and CPU of this process and of the swarm.
Now and then a libtorrent lookup never answers; the fetcher sends it again after 5 s
(`LOOKUP_AGAIN_S`), which shows as a max near 5,000 ms and a lower fetches/s for that level.

**Crawl: discovery to stored, CPU per 1,000 torrents.** A `Core` is opened as the
end-to-end tests open it (temp data dir, SQLite, classifier on, every site off, the DHT
crawler allowed) and its `DhtCrawler.run` is started with `--crawl-concurrency` fetches
and BEP 51 sampling at 50 queries/s. Timed: from the start until every seeded torrent is
in the database (or nothing new was stored for 45 s: the rest failed, and the wall time then
includes that wait). Printed: wall time, torrents/min, how many hashes came from samples and
from traffic, and the CPU per 1,000 stored torrents of this process (the crawler's
libtorrent threads, its asyncio loop, the database writer) and of the classifier workers.

**Memory.** The seen filter (`SeenFilter`, two rotating Bloom filters at 0.1 % false
positives) at several capacities: bytes per 100k hashes remembered, measured with
tracemalloc, against a Python `set` of the same hashes as 20-byte `bytes` (the exact
alternative); and the sampling table (`NodeTable`) per 10k nodes.

`--quick`: 120 torrents, levels 1 and 16, capacities up to 2M.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `bench.*` and `tests.*` importable
    sys.path.insert(0, str(ROOT))

from bench.bench_html import LoadMeter, machine_header  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.core import Core  # noqa: E402
from engine.dht.crawler import DhtCrawler  # noqa: E402
from engine.dht.events import Event, MetadataArrived, MetadataRefused, PeersFound  # noqa: E402
from engine.dht.fetcher import MetadataFetcher, Resolved  # noqa: E402
from engine.dht.node import DhtNode, NodeConfig  # noqa: E402
from engine.dht.sampler import NodeTable  # noqa: E402
from engine.dht.seen import SeenFilter  # noqa: E402
from engine.scheduler import CrawlContext  # noqa: E402
from tests.crawl_support import only_sites  # noqa: E402

CRAWL_LIMIT_S = 600.0
STALL_S = 45.0
"""The crawl is over when nothing new was stored for this long (the fetch timeout is 30 s)."""


# --- the swarm process ---------------------------------------------------------------------------


def serve_swarm(torrents: int) -> None:
    """Child process: a seeded swarm; prints its endpoints and hashes, lives until stdin closes."""
    from tests.dht_swarm import Swarm, make_torrent

    with (
        tempfile.TemporaryDirectory(prefix="minato-bench-dht-") as tmp,
        Swarm(4, tmp=Path(tmp) / "swarm", announce_interval_s=600) as swarm,
    ):
        swarm.wait_ready(timeout_s=30)
        content = Path(tmp) / "content"
        hashes: list[str] = []
        for number in range(torrents):
            made = make_torrent(
                content, f"Bench.Torrent.{number:05d}.bin", "v1", layout="single",
                size=16_000 + 61 * number % 24_000,
            )  # fmt: skip
            hashes += swarm.seed(made, node=number % 4)
        swarm.wait_stored(hashes, timeout_s=120)
        spare = [swarm.spare_ip() for _ in range(8)]
        print(json.dumps({"endpoints": swarm.endpoints, "hashes": hashes, "spare": spare}))
        sys.stdout.flush()
        sys.stdin.read()  # until the parent closes it


@dataclass
class SwarmInfo:
    pid: int
    endpoints: list[tuple[str, int]]
    hashes: list[str]
    spare: list[str]


@contextmanager
def start_swarm(torrents: int) -> Iterator[SwarmInfo]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--serve-swarm", str(torrents)]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout is not None else ""
        if not line.startswith("{"):
            raise SystemExit(f"the swarm process did not start (exit {proc.poll()})")
        data = json.loads(line)
        yield SwarmInfo(
            proc.pid, [tuple(e) for e in data["endpoints"]], data["hashes"], data["spare"]
        )
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# --- metadata fetch rate -------------------------------------------------------------------------


@dataclass
class FetchFigure:
    concurrency: int
    resolved: int
    failed: int
    latencies: list[float]
    meter: LoadMeter

    @property
    def per_s(self) -> float:
        return self.resolved / self.meter.wall_s


async def fetch_all(swarm: SwarmInfo, ip: str, concurrency: int, work: Path) -> FetchFigure:
    loop = asyncio.get_running_loop()
    box: list[MetadataFetcher] = []

    def deliver(events: list[Event]) -> None:
        def hand() -> None:
            for event in events:
                if box and isinstance(event, PeersFound | MetadataArrived | MetadataRefused):
                    box[0].deliver(event)

        loop.call_soon_threadsafe(hand)

    entry, port = swarm.endpoints[0]
    config = NodeConfig(listen=f"{ip}:0", bootstrap=(f"{entry}:{port}",))
    node = await asyncio.to_thread(DhtNode, config, deliver)
    save_dir = work / f"fetch-{concurrency}"
    save_dir.mkdir(parents=True)
    fetcher = MetadataFetcher(node, save_dir=save_dir, timeout_s=30)
    box.append(fetcher)
    await asyncio.sleep(1.0)  # let the node ping its bootstrap node (untimed)
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    outcomes: list[bool] = []

    async def one(info_hash: str) -> None:
        async with gate:
            began = time.perf_counter()
            outcome = await fetcher.fetch(info_hash)
            latencies.append(time.perf_counter() - began)
            outcomes.append(isinstance(outcome, Resolved))

    meter = LoadMeter(swarm.pid)
    gc.collect()
    try:
        with meter.measure():
            await asyncio.gather(*(one(h) for h in swarm.hashes))
    finally:
        await asyncio.to_thread(node.close)
    resolved = sum(outcomes)
    return FetchFigure(concurrency, resolved, len(outcomes) - resolved, latencies, meter)


def print_fetch(figures: list[FetchFigure]) -> None:
    print("\nMetadata fetch rate (DhtNode + MetadataFetcher, hashes handed over)")
    print(
        f"{'concurrency':>11} {'resolved':>8} {'failed':>6} {'wall s':>7} {'fetch/s':>8} "
        f"{'fetch/min':>9} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'own cpu s':>9} "
        f"{'swarm cpu s':>11} "
        f"{'other cores':>11}"
    )
    for f in figures:
        lat = sorted(f.latencies)
        p50 = statistics.median(lat) * 1000 if lat else float("nan")
        p95 = lat[int(0.95 * (len(lat) - 1))] * 1000 if lat else float("nan")
        print(
            f"{f.concurrency:>11} {f.resolved:>8} {f.failed:>6} {f.meter.wall_s:>7.2f} "
            f"{f.per_s:>8.1f} {f.per_s * 60:>9.0f} {p50:>7.1f} {p95:>7.1f} {lat[-1] * 1000:>7.0f} "
            f"{f.meter.own_s:>9.2f} {f.meter.site_s:>11.2f} {f.meter.others_cores:>11.2f}"
        )


# --- crawl: discovery to stored ------------------------------------------------------------------


def crawl_settings(data_dir: Path, swarm: SwarmInfo, ip: str, concurrency: int) -> Any:
    entry, port = swarm.endpoints[0]
    overrides: dict[str, Any] = {
        "storage.data_dir": str(data_dir),
        "enrich.enabled": False,
        "pipeline.classify": True,
        **only_sites({"dht": {}}),
        "dht.listen": f"{ip}:0",
        "dht.bootstrap": [f"{entry}:{port}"],
        "dht.fetch_concurrency": concurrency,
        "dht.samples_per_s": 50,
        "dht.fetch_retries": 0,
    }
    return load_settings(data_dir.parent / "absent.toml", {}, overrides)


async def crawl(swarm: SwarmInfo, ip: str, concurrency: int, work: Path) -> None:
    settings = crawl_settings(work / "crawl-data", swarm, ip, concurrency)
    core = Core.open(settings)
    try:
        await core.pipeline.warm_up()
        # The crawler as Core wires it, but asking a node again after 1 s, not 60 s: the
        # swarm's nodes answer BEP 51 with interval 0, and four nodes are all there is.
        crawler = DhtCrawler(
            settings.dht,
            pipeline=core.pipeline,
            reader=core.database.reader,
            data_dir=settings.data_path(),
            min_resample_s=1.0,
        )
        wanted = len(swarm.hashes)
        meter = LoadMeter(swarm.pid)
        gc.collect()
        with meter.measure():
            task = asyncio.create_task(crawler.run(CrawlContext("dht", "bench", lambda *_: None)))
            stalled_since, last = time.monotonic(), 0
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CRAWL_LIMIT_S):
                    while (stored := crawler.figures().stored_new) < wanted:
                        flushed = asyncio.ensure_future(crawler.resolved_flushed())
                        await asyncio.wait({flushed, task}, return_when=asyncio.FIRST_COMPLETED)
                        flushed.cancel()
                        if task.done():
                            task.result()  # the crawler stopped: show why
                        if stored > last:
                            stalled_since, last = time.monotonic(), stored
                        elif time.monotonic() - stalled_since > STALL_S:
                            break  # the rest failed (counted below): do not wait for them
        figures = crawler.figures()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        await core.aclose()
    stored = figures.stored_new
    per_k = 1000 / stored if stored else float("nan")
    print(f"\nCrawl: discovery (BEP 51 + traffic) to stored, fetch concurrency {concurrency}")
    print(
        f"stored {stored}/{wanted} in {meter.wall_s:.2f} s = {stored / meter.wall_s * 60:.0f} "
        f"torrents/min; hashes from samples {figures.from_samples}, from traffic "
        f"{figures.from_traffic}; BEP 51 queries {figures.sample_queries}, replies "
        f"{figures.sample_replies}; failures {figures.failures}"
    )
    print(
        f"CPU per 1,000 stored torrents: this process {meter.own_s * per_k:.2f} s "
        f"(libtorrent, crawler, database writer), classifier workers "
        f"{meter.workers_s * per_k:.2f} s; swarm {meter.site_s:.2f} s in all; other load "
        f"{meter.others_cores:.2f} cores"
    )


# --- memory --------------------------------------------------------------------------------------


def measure_memory(capacities: list[int]) -> None:
    print("\nMemory: hashes remembered as seen (tracemalloc)")
    print(
        f"{'capacity':>11} {'filter MB':>10} {'per 100k hashes':>16} {'filled with':>12} "
        f"{'false positives':>16}"
    )
    for capacity in capacities:
        gc.collect()
        tracemalloc.start()
        seen = SeenFilter(capacity)
        size = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        sample = min(capacity // 2 - 1, 2_000_000)  # a full generation, up to 2M (8 s)
        for _ in range(sample):
            seen.add(os.urandom(20).hex())
        probes = 50_000
        false = sum(os.urandom(20).hex() in seen for _ in range(probes))
        print(
            f"{capacity:>11,} {size / 2**20:>10.2f} {size / capacity * 100_000 / 1024:>13.1f} KB "
            f"{sample:>12,} {false / probes:>15.3%}"
        )
    gc.collect()
    tracemalloc.start()
    exact = {os.urandom(20) for _ in range(100_000)}
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"{'python set':>11} {size / 2**20:>10.2f} {size / 1024:>13.1f} KB  (exact, 100k)")
    del exact
    gc.collect()
    tracemalloc.start()
    table = NodeTable(20_000)
    table.add((f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", 6881) for i in range(10_000))
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"sampling table: {size / 1024:.0f} KB per 10k nodes ({len(table)} nodes)")


# --- main ----------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    if not args.skip_memory:
        measure_memory(args.capacities)
    if args.skip_fetch and args.skip_crawl:
        return
    began = time.perf_counter()
    with start_swarm(args.torrents) as swarm, tempfile.TemporaryDirectory() as tmp:
        print(
            f"\nswarm: 4 nodes, {len(swarm.hashes)} torrents seeded and announced in "
            f"{time.perf_counter() - began:.1f} s (not in the figures)"
        )
        work = Path(tmp)
        ips = iter(swarm.spare)
        if not args.skip_fetch:
            figures = []
            for run_number in range(args.runs):
                for level in args.concurrency:
                    figure = await fetch_all(
                        swarm, next(ips), level, work / f"run{run_number}-{level}"
                    )
                    figures.append(figure)
                    ips = iter(swarm.spare)  # the node is closed: its address is free again
            print_fetch(figures)
        if not args.skip_crawl:
            await crawl(swarm, next(ips), args.crawl_concurrency, work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torrents", type=int, default=400)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--crawl-concurrency", type=int, default=32)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--capacities", type=int, nargs="+", default=[200_000, 2_000_000, 20_000_000]
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-fetch", action="store_true")
    parser.add_argument("--skip-crawl", action="store_true")
    parser.add_argument("--serve-swarm", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_swarm is not None:
        serve_swarm(args.serve_swarm)
        return
    if args.quick:
        args.torrents, args.concurrency = 120, [1, 16]
        args.capacities = [200_000, 2_000_000]
    print(machine_header())
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
