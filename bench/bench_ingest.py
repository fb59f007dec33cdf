"""Benchmark bulk ingest end to end: HTTP -> database -> searchable, through `minato serve`.

    .venv/bin/python bench/bench_ingest.py [--records 10000 100000] [--batch 1000]
        [--clients 4] [--classify-records 10000] [--skip-classify]
        [--database-url postgresql+psycopg://... --reset-database]

Each run starts a fresh `minato serve` subprocess (own data dir and config, a free port,
the first-start API key read from its stderr), posts N realistic records as NDJSON bulk
requests from C concurrent httpx clients, and measures:

* HTTP acknowledged: records / seconds from the first request to the last 2xx answer
  (an acknowledged record is committed to the database);
* searchable: records / seconds until `/api/health` shows an empty index backlog and an
  empty-query search counts every record (the drainer has indexed them all).

Runs at each `--records` size use the classifier OFF (MINATO_PIPELINE__CLASSIFY=false);
one more run at `--classify-records` uses the default settings (guessit in worker
processes, one per core), and the classifier's own speed is measured in this process
on the same titles, so its share of the ingest time can be shown separately.

Titles come from `bench/bench_search_index.py`'s generator (scene/p2p movies and TV,
music, anime, Linux ISOs). A warm-up request of 256 other records precedes each timed
run (it starts the classifier processes and the SQLite caches); it is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, inspect, text

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `bench.*` importable
    sys.path.insert(0, str(ROOT))

from bench.bench_search_index import Generator  # noqa: E402
from engine.models import ContentKind, FileEntry  # noqa: E402

WARMUP_RECORDS = 256
START_TIMEOUT_S = 120.0
SEARCHABLE_TIMEOUT_S = 1800.0
POLL_S = 0.05
_SERVING = re.compile(r"serving on http://([^:\s]+):(\d+)")
_KEY_MARK = "First start: created API key"


# --- records -----------------------------------------------------------------------------------


def make_records(gen: Generator, count: int, seen: set[str]) -> list[dict[str, Any]]:
    """`count` realistic records with info hashes not in `seen` (which they are added to).

    About a third carry a file list (as DHT and .torrent-derived records do); every one
    has a size, swarm figures, a publication date and a source URL.
    """
    rng = gen.rng
    start, end = (t.timestamp() for t in gen.epoch)
    records: list[dict[str, Any]] = []
    while len(records) < count:
        info_hash = f"{rng.getrandbits(160):040x}"
        if info_hash in seen:
            continue
        seen.add(info_hash)
        title, files_text, kind, _category, _fields = gen.release()
        size = int(rng.lognormvariate(21, 1.2))
        seeders = min(int(rng.paretovariate(1.1)) - 1, 200_000)
        published = datetime.fromtimestamp(rng.uniform(start, end), tz=UTC)
        record: dict[str, Any] = {
            "info_hash": info_hash,
            "title": title,
            "source": "bench",
            "size": size,
            "seeders": seeders,
            "leechers": min(int(rng.paretovariate(1.3)) - 1, 50_000),
            "published_at": published.isoformat().replace("+00:00", "Z"),
            "source_url": f"https://tracker.example/torrent/{info_hash[:12]}",
        }
        if rng.random() < 0.33:
            record["files"] = _files(title, files_text, kind, size)
        records.append(record)
    return records


def _files(title: str, files_text: str, kind: ContentKind, size: int) -> list[dict[str, Any]]:
    if kind == ContentKind.MUSIC:
        tracks = [t.strip() for t in re.split(r"(?<=\.flac) ", files_text) if t.strip()]
        each = max(1, size // max(1, len(tracks)))
        return [{"path": f"{title}/{t}", "size": each} for t in tracks]
    if kind in (ContentKind.MOVIE, ContentKind.TV):
        main = max(1, size - 60_000_000)
        return [
            {"path": f"{title}/{files_text}", "size": main},
            {"path": f"{title}/Sample/sample.mkv", "size": 59_990_000},
            {"path": f"{title}/{title}.nfo", "size": 10_000},
        ]
    return [{"path": files_text, "size": size}]


def ndjson_bodies(records: list[dict[str, Any]], batch: int) -> list[tuple[int, bytes]]:
    """(record count, NDJSON body) per request, encoded before any timing starts."""
    return [
        (
            len(records[i : i + batch]),
            "\n".join(json.dumps(r, separators=(",", ":")) for r in records[i : i + batch]).encode(
                "utf-8"
            ),
        )
        for i in range(0, len(records), batch)
    ]


# --- the server under test ---------------------------------------------------------------------


@dataclass
class Server:
    """A running `minato serve` subprocess and how to reach it."""

    proc: subprocess.Popen[bytes]
    base_url: str
    api_key: str
    log_path: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@contextlib.contextmanager
def serve(workdir: Path, *, classify: bool, database_url: str) -> Iterator[Server]:
    """Start `minato serve` on 127.0.0.1 with its own data dir and config; stop it after."""
    env = dict(os.environ)
    env.update(
        {
            "MINATO_DATA_DIR": str(workdir / "data"),
            "MINATO_CONFIG": str(workdir / "config.toml"),  # absent: defaults + env only
            "MINATO_SERVER__HOST": "127.0.0.1",
            "MINATO_SERVER__PORT": "0",  # the OS picks a free port; read it from stderr
            "MINATO_PIPELINE__CLASSIFY": "true" if classify else "false",
            "MINATO_ENRICH__ENABLED": "false",  # measure ingest, not lookups on public hosts
            "MINATO_CRAWL__ENABLED": "false",  # no mirror checks of public sites either
        }
    )
    env.pop("MINATO_DATABASE_URL", None)
    if database_url:
        env["MINATO_DATABASE_URL"] = database_url
    minato = Path(sys.executable).with_name("minato")
    log_path = workdir / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(minato), "serve"], stdout=subprocess.DEVNULL, stderr=log, env=env, cwd=workdir
        )
    server: Server | None = None
    try:
        server = _wait_started(proc, log_path)
        yield server
    finally:
        if server is not None:
            server.stop()
        elif proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _wait_started(proc: subprocess.Popen[bytes], log_path: Path) -> Server:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        lines = log_path.read_text("utf-8", "replace").splitlines()
        key = next(
            (lines[i + 1].strip() for i, ln in enumerate(lines[:-1]) if _KEY_MARK in ln), None
        )
        found = next((m for ln in lines if (m := _SERVING.search(ln))), None)
        if key and found:
            base = f"http://{found.group(1)}:{found.group(2)}"
            return Server(proc, base, key, log_path)
        if proc.poll() is not None:
            raise SystemExit(f"minato serve exited ({proc.returncode}):\n" + "\n".join(lines))
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"minato serve did not start within {START_TIMEOUT_S:.0f} s; see {log_path}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and its live child processes (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
        if int(entry.name) == pid or ppid == pid:
            total += (utime + stime) / tick
    return total


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy since boot (Linux /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


# --- one timed run -----------------------------------------------------------------------------


@dataclass
class RunResult:
    label: str
    records: int
    ack_s: float
    searchable_s: float
    server_cpu_s: float
    others_cores: float
    client_cpu_s: float
    created: int
    rejected: int

    @property
    def ack_rate(self) -> float:
        return self.records / self.ack_s

    @property
    def searchable_rate(self) -> float:
        return self.records / self.searchable_s


async def _post_all(
    client: httpx.AsyncClient, bodies: list[tuple[int, bytes]], clients: int
) -> tuple[int, int]:
    """Post every body with `clients` concurrent senders; returns (created, rejected)."""
    todo = iter(bodies)
    totals = [0, 0]

    async def sender() -> None:
        for _count, body in todo:  # a shared iterator: each body is taken once
            answer = await client.post(
                "/api/ingest/bulk", content=body, headers={"Content-Type": "application/x-ndjson"}
            )
            if answer.status_code // 100 != 2:
                raise SystemExit(f"ingest answered {answer.status_code}: {answer.text[:500]}")
            report = answer.json()
            totals[0] += report["created"]
            totals[1] += len(report["rejected"])

    await asyncio.gather(*(sender() for _ in range(clients)))
    return totals[0], totals[1]


async def _searchable_count(client: httpx.AsyncClient) -> tuple[int, int]:
    """(index backlog, total of an empty-query search)."""
    health = (await client.get("/api/health")).json()
    if health["index_backlog"]:
        return health["index_backlog"], -1
    found = (await client.get("/api/search", params={"q": "", "limit": "1"})).json()
    return 0, found["total"]


async def _wait_searchable(client: httpx.AsyncClient, expected: int) -> None:
    """Poll until the backlog is empty and a search counts `expected` torrents."""
    deadline = time.perf_counter() + SEARCHABLE_TIMEOUT_S
    while True:
        state = await _searchable_count(client)
        if state == (0, expected):
            return
        if time.perf_counter() > deadline:
            raise SystemExit(f"not searchable after {SEARCHABLE_TIMEOUT_S:.0f} s: {state}")
        await asyncio.sleep(POLL_S)


async def timed_run(
    server: Server,
    label: str,
    warmup: list[tuple[int, bytes]],
    bodies: list[tuple[int, bytes]],
    clients: int,
) -> RunResult:
    records = sum(count for count, _ in bodies)
    expected = records + sum(count for count, _ in warmup)
    limits = httpx.Limits(max_connections=clients + 2, max_keepalive_connections=clients + 2)
    async with httpx.AsyncClient(
        base_url=server.base_url,
        headers={"X-Api-Key": server.api_key},
        timeout=httpx.Timeout(600.0),
        limits=limits,
    ) as client:
        await _post_all(client, warmup, 1)
        await _wait_searchable(client, expected - records)
        cpu_before = cpu_seconds(server.proc.pid)
        busy_before, own_before = machine_busy_s(), time.process_time()
        began = time.perf_counter()
        created, rejected = await _post_all(client, bodies, clients)
        acked = time.perf_counter()
        await _wait_searchable(client, expected)
        done = time.perf_counter()
        cpu = cpu_seconds(server.proc.pid) - cpu_before
        own = time.process_time() - own_before
        busy = machine_busy_s() - busy_before - own
    others = max(0.0, busy - cpu) / (done - began)  # cores kept busy by unrelated processes
    if created != records:
        raise SystemExit(f"{label}: {created} created, {rejected} rejected, of {records} sent")
    return RunResult(
        label, records, acked - began, done - began, cpu, others, own, created, rejected
    )


def run_once(
    label: str,
    *,
    records: int,
    batch: int,
    clients: int,
    classify: bool,
    database_url: str,
    reset_database: bool,
    gen: Generator,
    seen: set[str],
) -> tuple[RunResult, list[dict[str, Any]]]:
    warm = make_records(gen, WARMUP_RECORDS, seen)
    data = make_records(gen, records, seen)
    warm_bodies, bodies = ndjson_bodies(warm, WARMUP_RECORDS), ndjson_bodies(data, batch)
    if database_url:
        prepare_database(database_url, reset_database)
    with (
        tempfile.TemporaryDirectory(prefix="minato-bench-ingest-") as tmp,
        serve(Path(tmp), classify=classify, database_url=database_url) as server,
    ):
        result = asyncio.run(timed_run(server, label, warm_bodies, bodies, clients))
    print(
        f"  {label}: {records:,} records, ack {result.ack_s:.2f} s, searchable "
        f"{result.searchable_s:.2f} s, server CPU {result.server_cpu_s:.1f} s, "
        f"bench client CPU {result.client_cpu_s:.1f} s, "
        f"other processes {result.others_cores:.2f} cores",
        flush=True,
    )
    return result, data


def prepare_database(url: str, reset: bool) -> None:
    """An empty PostgreSQL schema for the run: refuse to touch one holding tables unless told."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            tables = inspect(conn).get_table_names()
            if tables and not reset:
                raise SystemExit(
                    f"the database at --database-url holds tables ({', '.join(tables[:5])}...); "
                    "use a throwaway database and pass --reset-database to drop its "
                    "public schema before each run"
                )
            if tables:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


# --- the classifier alone ----------------------------------------------------------------------


def classifier_rate(records: list[dict[str, Any]]) -> tuple[float, int]:
    """Titles/s of `classify` in this process (one core), with the pipeline's arguments."""
    from engine.classify import classify

    items = [
        (
            r["title"],
            tuple(FileEntry(path=f["path"], size=f["size"]) for f in r.get("files", ())),
            r.get("category"),
        )
        for r in records
    ]
    classify("warm.up.2024.1080p.WEB-DL.x264-GROUP")  # guessit builds its rules on first use
    began = time.perf_counter()
    for title, files, category in items:
        classify(title, files, category)
    return len(items) / (time.perf_counter() - began), len(items)


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records", type=int, nargs="+", default=[10_000, 100_000], help="run sizes"
    )
    parser.add_argument("--batch", type=int, default=1000, help="records per bulk request")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default SQLite)")
    parser.add_argument(
        "--reset-database",
        action="store_true",
        help="drop the --database-url's public schema before each run (throwaway DBs only)",
    )
    parser.add_argument("--classify-records", type=int, default=10_000)
    parser.add_argument("--skip-classify", action="store_true", help="no classifier-ON run")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    gen, seen = Generator(args.seed), set[str]()
    database = "PostgreSQL" if args.database_url else "SQLite"
    cores = os.cpu_count() or 1
    print(
        f"minato serve on 127.0.0.1, {database}, {cores} cores; NDJSON batches of {args.batch:,}, "
        f"{args.clients} concurrent clients",
        flush=True,
    )
    common = {
        "batch": args.batch,
        "clients": args.clients,
        "database_url": args.database_url,
        "reset_database": args.reset_database,
        "gen": gen,
        "seen": seen,
    }
    results: list[RunResult] = []
    by_size: dict[int, RunResult] = {}
    for size in args.records:
        result, _ = run_once("classifier off", records=size, classify=False, **common)
        results.append(result)
        by_size[size] = result
    on: RunResult | None = None
    titles_per_s, titles = 0.0, 0
    if not args.skip_classify:
        size = args.classify_records
        if size not in by_size:
            by_size[size], _ = run_once("classifier off", records=size, classify=False, **common)
            results.append(by_size[size])
        on, data = run_once("classifier on", records=size, classify=True, **common)
        results.append(on)
        print(f"  classifying the same {len(data):,} titles in-process...", flush=True)
        titles_per_s, titles = classifier_rate(data)

    print()
    print(
        f"| {'classifier':<10} | {'records':>8} | {'HTTP ack rec/s':>14} | "
        f"{'searchable rec/s':>16} | {'ack s':>7} | {'searchable s':>12} | "
        f"{'server CPU s':>12} | {'other load':>10} |"
    )
    print(
        f"|{'-' * 12}|{'-' * 10}|{'-' * 16}|{'-' * 18}|{'-' * 9}|{'-' * 14}|{'-' * 14}|{'-' * 12}|"
    )
    for r in results:
        print(
            f"| {r.label.split()[-1]:<10} | {r.records:>8,} | {r.ack_rate:>14,.0f} | "
            f"{r.searchable_rate:>16,.0f} | {r.ack_s:>7.2f} | {r.searchable_s:>12.2f} | "
            f"{r.server_cpu_s:>12.1f} | {r.others_cores:>10.2f} |"
        )
    print(
        "server CPU s: CPU time of `minato serve` and its classifier processes during the run; "
        f"other load: cores (of {cores}) busy with unrelated processes meanwhile"
        + (" (a PostgreSQL server on this machine counts there)" if args.database_url else "")
    )
    if on is not None:
        off = by_size[on.records]
        workers = cores
        share = 1 - on.searchable_rate / off.searchable_rate
        print()
        print(f"classifier share at {on.records:,} records (end to end, searchable):")
        print(f"  rate off {off.searchable_rate:,.0f} rec/s, on {on.searchable_rate:,.0f} rec/s")
        print(f"  share of ingest time spent on classification: {share:.0%}")
        print(
            f"  classifier alone, in-process: {titles_per_s:,.0f} titles/s on one core "
            f"({1000 / titles_per_s:.2f} ms/title, {titles:,} titles); "
            f"x{workers} workers = {titles_per_s * workers:,.0f} titles/s at best"
        )


if __name__ == "__main__":
    main()
