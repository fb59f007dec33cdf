"""Benchmark the network client stack's own cost per request, against a local server.

    .venv/bin/python bench/bench_net.py [--requests 2000] [--proxy-requests 2000]
        [--warmup 200] [--rounds 4] [--concurrency 1 16] [--routes direct socks5 http]
        [--pages small large] [--small-bytes 2048] [--large-bytes 102400]

A source's requests go through `SiteClient` (mirror resolver, proxy policy, per-host rate
limiter, retries, circuit breaker, challenge detection), which sends through `fetch` (a
streamed read under the size limit) on an httpx client from `ClientPool`. This measures
what those layers cost on top of a plain `httpx.AsyncClient.get`, with the network taken
out: the site is an aiohttp server on 127.0.0.1 in a child process (so its CPU is not in
this process's figures), serving a small page (`--small-bytes`, 2 KiB) and a listing-sized
one (`--large-bytes`, 100 KiB) of HTML, `text/html; charset=utf-8`, no compression.

Three stacks, on each route:

* `httpx`: `httpx.AsyncClient.get` on a client with the pool's timeouts and connection
  limits and `trust_env=False`: the baseline;
* `fetch`: `engine.net.clients.fetch` on `ClientPool.client_for(proxy)` (the head
  deadline, the streamed size-limited read, `FetchedResponse`);
* `SiteClient`: `SiteClient.get(path)`: mirror resolver (the real `MirrorStore` on a
  temporary SQLite database and a started `Writer`), `ProxyManager` policy, a
  `HostRateLimiter` with a 0 s interval (its lock is still taken), the breaker, the
  challenge check of every answer.

Routes: `direct`; `socks5` and `http`, through a local pproxy subprocess of each kind
(started by the network tests' `ProxyFarm`). On the proxy routes the `httpx` client has the
same proxy, and the `SiteClient` policy names that proxy (policy "none" on `direct`).

Each cell (page x concurrency x route x stack) sends `--warmup` requests that are not
counted (connections are opened there, keep-alive after), then `--requests`
(`--proxy-requests` on the proxy routes) from C concurrent tasks sharing one client:
C = 1 is sequential. The three stacks of a route take turns, in `--rounds` slices of
their requests, so a change in the machine's speed meanwhile hits all three alike; the
garbage collector runs before each slice. Every answer is checked (HTTP 200, the body's
full length). Latency is from the call to the body read, taken in this process.

Per cell it prints requests/s, p50 / p95 / p99 ms, the client's CPU per request (this
process's CPU time over the cell / requests), the overhead against `httpx` on the same
route and on `direct` (CPU µs per request), the server's and the proxy's CPU per request,
and "other load": cores kept busy meanwhile by processes that are none of these (the
machine may be shared: read that column first). Before the cells, `detect_block` (the
challenge check `SiteClient` runs on every answer) is timed alone on each page.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `bench.*` importable
    sys.path.insert(0, str(ROOT))

from bench.bench_ingest import cpu_seconds, machine_busy_s  # noqa: E402
from bench.bench_search_index import percentile  # noqa: E402
from engine.net.breaker import CircuitBreaker  # noqa: E402
from engine.net.challenge import detect_block  # noqa: E402
from engine.net.clients import DEFAULT_LIMITS, DEFAULT_TIMEOUT, ClientPool, fetch  # noqa: E402
from engine.net.mirrors import MirrorResolver, http_probe  # noqa: E402
from engine.net.politeness import HostRateLimiter  # noqa: E402
from engine.net.proxies import Proxy, ProxyManager  # noqa: E402
from engine.net.site_client import MAX_BODY_BYTES, SiteClient  # noqa: E402
from engine.site_config import DEFAULT_USER_AGENT, SiteConfig  # noqa: E402
from engine.store.database import open_database  # noqa: E402
from engine.store.mirrors import MirrorStore  # noqa: E402
from engine.store.writer import Writer  # noqa: E402
from tests.engine.net.proxy_servers import ProxyFarm, ProxyServer  # noqa: E402

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STACKS = ("httpx", "fetch", "SiteClient")
ROUTES = ("direct", "socks5", "http")
PAGES = ("small", "large")

Send = Callable[[], Awaitable[tuple[int, int]]]
"""One request; returns (HTTP status, body bytes read)."""


# --- the site: an aiohttp server in a child process --------------------------------------------


def page_body(size: int) -> bytes:
    """`size` bytes of a torrent listing in HTML: table rows, padded with spaces to the size."""
    head = b"<!DOCTYPE html><html><head><title>Browse torrents</title></head><body><table>\n"
    tail = b"</table></body></html>\n"
    body = bytearray(head)
    n = 0
    while True:
        row = (
            f'<tr><td><a href="/torrent/{n}">Some.Show.S01E{n % 24 + 1:02d}.1080p.WEB.x264-GRP'
            f"</a></td><td>1.{n % 10} GB</td><td>{n * 7 % 500}</td><td>{n * 3 % 90}</td></tr>\n"
        ).encode()
        if len(body) + len(row) + len(tail) > size:
            break
        body += row
        n += 1
    body += b" " * max(0, size - len(body) - len(tail)) + tail
    return bytes(body)


def run_site(sizes: dict[str, int]) -> None:
    """The child process: serve `/<page>` from pre-built bodies; print the port, then serve."""
    from aiohttp import web

    bodies = {name: page_body(size) for name, size in sizes.items()}

    async def page(request: web.Request) -> web.Response:
        body = bodies.get(request.match_info["name"])
        if body is None:
            raise web.HTTPNotFound
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{name}", page)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((HOST, 0))
        await web.SockSite(runner, sock, backlog=512).start()
        print(sock.getsockname()[1], flush=True)
        await asyncio.Event().wait()  # until the parent kills us

    asyncio.run(main())


@dataclass
class Site:
    proc: subprocess.Popen[bytes]
    base_url: str


@contextlib.contextmanager
def start_site(sizes: dict[str, int]) -> Iterator[Site]:
    """Start the site process; yields it with its base URL; kills it afterwards."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--serve"]
    argv += ["--small-bytes", str(sizes["small"]), "--large-bytes", str(sizes["large"])]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().strip() if proc.stdout is not None else b""
        if not line.isdigit():
            raise SystemExit(f"the site process did not start (exit {proc.poll()})")
        yield Site(proc, f"http://{HOST}:{int(line)}")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


# --- the stacks under test ---------------------------------------------------------------------


@dataclass
class Stacks:
    """Every (route, stack) -> a `Send` for a given path, and the processes behind them."""

    makers: dict[tuple[str, str], Callable[[str], Send]]
    proxies: dict[str, ProxyServer]


@contextlib.asynccontextmanager
async def build_stacks(base_url: str, routes: list[str], workdir: Path) -> AsyncIterator[Stacks]:
    """The raw clients, the pool, the proxies and one `SiteClient` per route."""
    farm = ProxyFarm(workdir)
    database = open_database(f"sqlite:///{workdir / 'minato.sqlite3'}")
    writer = Writer(database.writer)
    writer.start()
    raw: list[httpx.AsyncClient] = []
    pool = ClientPool(user_agent=DEFAULT_USER_AGENT)
    try:
        servers = {route: farm.start(1, kind=route)[0] for route in routes if route != "direct"}
        manager = ProxyManager([Proxy(route, s.url()) for route, s in servers.items()])
        store = MirrorStore(database.reader, writer)
        makers: dict[tuple[str, str], Callable[[str], Send]] = {}
        for route in routes:
            proxy = None if route == "direct" else Proxy(route, servers[route].url())
            client = httpx.AsyncClient(
                proxy=None if proxy is None else proxy.url,
                headers={"User-Agent": DEFAULT_USER_AGENT},
                timeout=DEFAULT_TIMEOUT,
                limits=DEFAULT_LIMITS,
                trust_env=False,
            )
            raw.append(client)
            site_id = f"bench-{route}"
            config = SiteConfig(
                id=site_id,
                kind="html",
                enabled=True,
                mirrors=(base_url,),
                proxy="none" if proxy is None else (route,),
                min_interval_s=0.0,
                depth=1,
                every_s=None,
                user_agent=DEFAULT_USER_AGENT,
                health_path="/",
            )
            resolver = await MirrorResolver.open(
                site_id, [base_url], probe=http_probe(pool.client_for(proxy)), store=store
            )
            site = SiteClient(
                config,
                pool=pool,
                proxies=manager,
                limiter=HostRateLimiter(0.0),
                breaker=CircuitBreaker(site_id),
                mirrors=resolver,
            )
            makers[route, "httpx"] = _raw_send(client, base_url)
            makers[route, "fetch"] = _fetch_send(pool.client_for(proxy), base_url)
            makers[route, "SiteClient"] = _site_send(site)
        yield Stacks(makers, servers)
    finally:
        for client in raw:
            await client.aclose()
        await pool.aclose()
        farm.close()
        writer.stop()
        database.dispose()


def _raw_send(client: httpx.AsyncClient, base_url: str) -> Callable[[str], Send]:
    def make(path: str) -> Send:
        url = base_url + path

        async def send() -> tuple[int, int]:
            response = await client.get(url)
            return response.status_code, len(response.content)

        return send

    return make


def _fetch_send(client: httpx.AsyncClient, base_url: str) -> Callable[[str], Send]:
    def make(path: str) -> Send:
        url = base_url + path

        async def send() -> tuple[int, int]:
            response = await fetch(client, "GET", url, max_bytes=MAX_BODY_BYTES, site="bench")
            return response.status, len(response.body)

        return send

    return make


def _site_send(site: SiteClient) -> Callable[[str], Send]:
    def make(path: str) -> Send:
        async def send() -> tuple[int, int]:
            response = await site.get(path)
            return response.status, len(response.body)

        return send

    return make


# --- timing ------------------------------------------------------------------------------------


@dataclass
class Cell:
    page: str
    concurrency: int
    route: str
    stack: str
    elapsed_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    proxy_cpu_s: float = 0.0
    others_s: float = 0.0
    """CPU seconds of every other process on the machine during the cell."""

    @property
    def requests(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed_s

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) if self.latencies else float("nan")

    def per_request_us(self, cpu_s: float) -> float:
        return cpu_s * 1e6 / max(1, self.requests)

    @property
    def client_us(self) -> float:
        return self.per_request_us(self.client_cpu_s)

    @property
    def others_cores(self) -> float:
        return self.others_s / self.elapsed_s


async def drive(send: Send, count: int, concurrency: int, expect: int, cell: Cell) -> None:
    """`count` requests from `concurrency` tasks; latencies (ms) and errors go into `cell`."""
    left = count

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            began = time.perf_counter()
            try:
                status, size = await send()
            except Exception as exc:  # counted and shown: the figures are then suspect
                cell.errors[type(exc).__name__] = cell.errors.get(type(exc).__name__, 0) + 1
                continue
            took = (time.perf_counter() - began) * 1000
            if status != 200 or size != expect:
                wrong = f"HTTP {status}, {size} bytes"
                cell.errors[wrong] = cell.errors.get(wrong, 0) + 1
            else:
                cell.latencies.append(took)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure(
    cell: Cell, send: Send, count: int, expect: int, site_pid: int, proxy_pid: int | None
) -> None:
    """Time `count` requests; add their time, latencies and everyone's CPU to `cell`."""
    gc.collect()
    site0 = cpu_seconds(site_pid)
    proxy0 = cpu_seconds(proxy_pid) if proxy_pid is not None else 0.0
    busy0 = machine_busy_s()
    own0 = time.process_time()
    began = time.perf_counter()
    await drive(send, count, cell.concurrency, expect, cell)
    elapsed = time.perf_counter() - began
    own = time.process_time() - own0
    busy = machine_busy_s() - busy0
    server = cpu_seconds(site_pid) - site0
    proxy = cpu_seconds(proxy_pid) - proxy0 if proxy_pid is not None else 0.0
    cell.elapsed_s += elapsed
    cell.client_cpu_s += own
    cell.server_cpu_s += server
    cell.proxy_cpu_s += proxy
    cell.others_s += max(0.0, busy - own - server - proxy)


async def run_group(
    stacks: Stacks, page: str, concurrency: int, route: str, args: argparse.Namespace,
    expect: int, site_pid: int,
) -> list[Cell]:  # fmt: skip
    """The three stacks on one route: warm each up, then alternate them for `--rounds` rounds.

    Alternating spreads any drift in the machine's speed (other load, frequency) over
    the three alike, so their differences are not an artefact of which ran first.
    """
    count = args.requests if route == "direct" else args.proxy_requests
    proxy = stacks.proxies.get(route)
    proxy_pid = proxy.process.pid if proxy is not None else None
    cells = [Cell(page, concurrency, route, stack) for stack in STACKS]
    sends = [stacks.makers[route, stack](f"/{page}") for stack in STACKS]
    for send in sends:
        await drive(send, args.warmup, concurrency, expect, Cell("", 0, "", ""))
    rounds = max(1, min(args.rounds, count))
    for i in range(rounds):
        share = count // rounds + (1 if i < count % rounds else 0)
        for cell, send in zip(cells, sends, strict=True):
            await measure(cell, send, share, expect, site_pid, proxy_pid)
    for cell in cells:
        print(
            f"  {page} x{concurrency} {route:<6} {cell.stack:<10} {cell.rate:6,.0f} req/s  "
            f"p50 {cell.p(0.5):6.2f} ms  client {cell.client_us:6.0f} µs/req  "
            f"other load {cell.others_cores:.2f}",
            file=sys.stderr,
            flush=True,
        )
    return cells


async def run_all(args: argparse.Namespace, site: Site, sizes: dict[str, int]) -> list[Cell]:
    cells: list[Cell] = []
    with tempfile.TemporaryDirectory(prefix="minato-bench-net-") as tmp:
        async with build_stacks(site.base_url, args.routes, Path(tmp)) as stacks:
            for page in args.pages:
                for concurrency in args.concurrency:
                    for route in args.routes:
                        cells += await run_group(
                            stacks, page, concurrency, route, args, sizes[page], site.proc.pid
                        )
    return cells


def challenge_check_us(sizes: dict[str, int], runs: int = 50) -> tuple[dict[str, float], float]:
    """CPU µs of `detect_block` alone on each page (part of every `SiteClient.get`).

    Returns the figures and the cores other processes kept busy meanwhile.
    """
    headers = httpx.Headers({"Content-Type": "text/html; charset=utf-8"})
    result: dict[str, float] = {}
    busy0, own0, began = machine_busy_s(), time.process_time(), time.perf_counter()
    for page, size in sizes.items():
        body = page_body(size)
        detect_block(200, headers, body)
        start = time.process_time()
        for _ in range(runs):
            detect_block(200, headers, body)
        result[page] = (time.process_time() - start) * 1e6 / runs
    own, elapsed = time.process_time() - own0, time.perf_counter() - began
    return result, max(0.0, machine_busy_s() - busy0 - own) / elapsed


# --- output ------------------------------------------------------------------------------------


def print_table(cells: list[Cell], sizes: dict[str, int]) -> None:
    base = {(c.page, c.concurrency, c.route): c for c in cells if c.stack == "httpx"}
    head = (
        f"| {'page':<13} | {'conc':>4} | {'route':<6} | {'stack':<10} | {'requests':>8} | "
        f"{'req/s':>7} | {'p50 ms':>6} | {'p95 ms':>6} | {'p99 ms':>6} | "
        f"{'client CPU µs/req':>17} | {'Δ vs httpx same route':>21} | "
        f"{'Δ vs httpx direct':>17} | {'server µs/req':>13} | {'proxy µs/req':>12} | "
        f"{'other load':>10} | {'errors':>6} |"
    )
    print()
    print(head)
    print("|" + "|".join("-" * len(part) for part in head.split("|")[1:-1]) + "|")
    for c in cells:
        same = base.get((c.page, c.concurrency, c.route))
        direct = base.get((c.page, c.concurrency, "direct"))
        d_same = f"{c.client_us - same.client_us:+.0f}" if same and c is not same else ""
        d_direct = f"{c.client_us - direct.client_us:+.0f}" if direct and c is not direct else ""
        proxy = f"{c.per_request_us(c.proxy_cpu_s):.0f}" if c.route != "direct" else ""
        page = f"{c.page} {sizes[c.page] / 1024:g} KiB"
        print(
            f"| {page:<13} | {c.concurrency:>4} | {c.route:<6} | {c.stack:<10} | "
            f"{c.requests:>8,} | {c.rate:>7,.0f} | {c.p(0.5):>6.2f} | {c.p(0.95):>6.2f} | "
            f"{c.p(0.99):>6.2f} | {c.client_us:>17.0f} | {d_same:>21} | {d_direct:>17} | "
            f"{c.per_request_us(c.server_cpu_s):>13.0f} | {proxy:>12} | "
            f"{c.others_cores:>10.2f} | {sum(c.errors.values()):>6} |"
        )
    print(
        "client CPU: this process's CPU time over the cell / requests; Δ: client CPU per request "
        "minus that of plain httpx on the same route (or direct), same page and concurrency; "
        "server / proxy: CPU of the aiohttp site / the pproxy process per request; other load: "
        f"cores (of {os.cpu_count()}) kept busy by any other process"
    )
    failed = [c for c in cells if c.errors]
    for c in failed:
        print(f"ERRORS in {c.page} x{c.concurrency} {c.route} {c.stack}: {c.errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per cell")
    parser.add_argument(
        "--proxy-requests", type=int, default=2000, help="timed requests per proxied cell"
    )
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests per cell")
    parser.add_argument(
        "--rounds", type=int, default=4, help="the three stacks alternate in this many rounds"
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--routes", nargs="+", choices=ROUTES, default=list(ROUTES))
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    parser.add_argument("--small-bytes", type=int, default=2 * 1024)
    parser.add_argument("--large-bytes", type=int, default=100 * 1024)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = {"small": args.small_bytes, "large": args.large_bytes}
    if args.serve:
        run_site(sizes)
        return
    if min(args.concurrency) < 1 or min(args.requests, args.proxy_requests) < 1:
        parser.error("--concurrency and request counts: at least 1")
    checks, check_load = challenge_check_us({page: sizes[page] for page in args.pages})
    with start_site(sizes) as site:
        print(
            f"site: aiohttp (pid {site.proc.pid}) on {site.base_url}; {os.cpu_count()} cores; "
            f"{args.requests} requests a cell ({args.proxy_requests} through a proxy) in "
            f"{args.rounds} rounds, {args.warmup} warm-up requests first",
            file=sys.stderr,
            flush=True,
        )
        cells = asyncio.run(run_all(args, site, sizes))
    print_table(cells, sizes)
    print(
        "challenge check alone (`detect_block` on the page, part of every SiteClient.get), "
        "timed before the cells: "
        + ", ".join(f"{page} {us:,.0f} µs" for page, us in checks.items())
        + f" (other load {check_load:.2f})"
    )


if __name__ == "__main__":
    main()
