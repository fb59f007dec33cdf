"""Benchmark live search-through: Torznab latency from the index (warm) and across the sites (cold).

    .venv/bin/python bench/bench_live.py [--warm 50] [--cold 20] [--source-deadline 2.0]
        [--global-deadline 3.0] [--slow-site torrentdownloads] [--slow-s 5.0]
        [--classify-workers 2] [--seed 7]

**The sites.** LimeTorrents, TorrentDownloads, The Pirate Bay and 1337x, served from
their saved pages (`tests.site_server`: `SavedSite` with `SAVED_SITES`, and `SiteServer`
for 1337x) by a child process on 127.0.0.1, so their CPU is not this process's. Each
answers the search path of its built-in definition (`paths.search`) for any query with
its saved listing, made new for that query: the word every saved title shares
("Sintel", "Arrow", "Lion") becomes the query's first word, and torrent ids and info
hashes are shifted by the query's rank, so each distinct query finds torrents nobody
stored before (their detail pages are read, as for a real first search) whose titles
match it. Every other path (detail pages) answers as in the end-to-end tests. A control
endpoint in the child sets a site's delay before its search page and counts requests.

**The engine.** A `Core` opened as the end-to-end tests open it (temp data dir, SQLite,
enrichment off, every built-in site off but the four above, `min_interval_s = 0`), the
classifier on with `--classify-workers` processes, warmed up before timing, `[live]`
deadlines from `--source-deadline` / `--global-deadline`, the rest of `[live]` at its
defaults. The real aiohttp app (`server.app.make_app`, `start_server`) serves it on
127.0.0.1 with the index drainer running, as `minato serve` does; the scheduler and
mirror checks are not started (they would crawl the sites between the timed requests).
Requests are `GET /torznab/all/api?t=search&q=...` from one httpx client, one at a
time; latency is measured by the client (request sent to whole body read).

**Timed, in order** (one untimed fan-out first, so first-request costs are not counted):

* cold, 4 fast sites: `--cold` distinct queries nobody asked before (made-up words, as
  "word", "word 2010", "word 1080p"): each fans out to the four sites;
* cold, one slow site: `--cold` other such queries while `--slow-site` answers its
  search after `--slow-s` (> the source deadline): each answer goes out at the deadline
  without it, and its crawl goes on in the background and stores its torrents late;
* warm: `--warm` requests cycling over the first run's queries, now in the index and
  asked live a moment ago: the index answers, and the sites must get no request.

Prints, per run: p50 / p95 / max ms, items per answer, requests the sites received
(listing / detail, late crawls included), CPU of this process (server and engine), of
the classifier workers, of the sites, and the other load; per source, the live log:
answered in time, timed out, late, failed, and how long the answers took. A cold
request longer than the global deadline is listed: the engine promises to answer by it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import itertools
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import httpx
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `bench.*` importable
    sys.path.insert(0, str(ROOT))

from bench.bench_html import LoadMeter, machine_header  # noqa: E402
from bench.bench_search_index import percentile  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.core import Core  # noqa: E402
from engine.sources.html.definition import BUILTIN_DEFINITIONS, load_definitions  # noqa: E402
from engine.store.live_searches import LiveSearchRow  # noqa: E402
from server.app import make_app, start_server  # noqa: E402
from tests.crawl_support import only_sites  # noqa: E402
from tests.site_server import (  # noqa: E402
    SAVED_SITES,
    SavedPages,
    SavedSite,
    SiteServer,
    leetx_listing,
    serve,
)

PATH = "/torznab/all/api"
REPORTED_ARR_S = "20-25 s"
"""What Jackett/Prowlarr users report for a live search across many indexers."""
ID_STRIDE = 10**11
"""Torrent ids of the n-th query are shifted by n times this (saved ids are below 2e9)."""
QUERY_FORMS = ("{word}", "{word} 2010", "{word} 1080p")
_HASH = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{40}(?![0-9A-Fa-f])")
_TOTAL = re.compile(rb'<torznab:response offset="\d+" total="(\d+)"')


# --- the sites (the child process) -------------------------------------------------------------


@dataclass(frozen=True)
class Renewal:
    """How a site's saved listing is made new for each query."""

    title_word: str
    """The word the saved titles share; it becomes the query's first word."""
    id_link: str
    """A regex whose group 1 is a torrent id in the listing's detail links."""


RENEWALS = {
    "limetorrents": Renewal("Sintel", r"-torrent-(\d+)\.html"),
    "torrentdownloads": Renewal("Sintel", r"/torrent/(\d+)/"),
    "thepiratebay": Renewal("Arrow", r"/torrent/(\d+)/"),
    "1337x": Renewal("Lion", r"/torrent/(\d+)/"),
}
SITES = tuple(RENEWALS)


class AnyQuery:
    """One site's search path for any query: which query a path asks, its listing, its delay."""

    def __init__(self, search_path: str, renewal: Renewal) -> None:
        pattern = re.escape(search_path)
        pattern = pattern.replace(re.escape("{query}"), r"(?P<query>[^/&?]+)")
        pattern = pattern.replace(re.escape("{page}"), r"(?P<page>\d+)")
        self.search = re.compile(pattern)
        self.renewal = renewal
        self.ranks: dict[str, int] = {}
        self.delay_s = 0.0

    def match(self, path: str) -> re.Match[str] | None:
        """The search path's match (groups `query` and `page`), or None for any other path."""
        return self.search.fullmatch(path)

    async def wait(self) -> None:
        if self.delay_s > 0:
            await asyncio.sleep(self.delay_s)

    def listing(self, text: str, raw_query: str) -> str:
        """`text` (a saved listing) made new for the query: title word, ids and hashes."""
        words = re.split(r"[\s+-]+", unquote_plus(raw_query).strip())
        rank = self.ranks.setdefault(" ".join(words).lower(), len(self.ranks) + 1)
        word = words[0].capitalize() if words and words[0] else self.renewal.title_word
        text = re.sub(re.escape(self.renewal.title_word), word, text, flags=re.IGNORECASE)

        def shift(match: re.Match[str]) -> str:
            start, end = match.span(1)
            whole, offset = match.group(0), match.start(0)
            new_id = int(match.group(1)) + rank * ID_STRIDE
            return f"{whole[: start - offset]}{new_id}{whole[end - offset :]}"

        def rehash(match: re.Match[str]) -> str:
            old = match.group(0)
            new = _derived_hash(f"{rank}:{old.lower()}")
            return new.upper() if old.upper() == old else new

        return _HASH.sub(rehash, re.sub(self.renewal.id_link, shift, text))


def _derived_hash(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


class AnyQuerySite(SavedSite):
    """A saved site whose search answers every query with its saved listing, made new."""

    def __init__(self, pages: SavedPages, any_query: AnyQuery) -> None:
        super().__init__(pages)
        self.any_query = any_query

    async def _handle(self, request: web.Request) -> web.Response:
        match = self.any_query.match(request.raw_path)
        if match is None:  # a detail page: served with the hash its row shows
            return await super()._handle(request)
        self.paths.append(request.raw_path)
        await self.any_query.wait()
        saved = self.pages.listing.read_text("utf-8", errors="replace")
        text = self.any_query.listing(saved, match.group("query"))
        if self.pages.row_hashes is not None:  # the detail pages must show the row's hash
            for first, second in re.findall(self.pages.row_hashes, text):
                torrent_id, info_hash = (
                    (second, first) if self.pages.hash_first else (first, second)
                )
                self.hashes.setdefault(torrent_id, info_hash.lower())
        return web.Response(text=text, content_type="text/html", charset="utf-8")


class AnyQueryLeetx(SiteServer):
    """1337x (`SiteServer`, one page) whose search listing is made new for each query."""

    def __init__(self, any_query: AnyQuery) -> None:
        super().__init__(pages=1)
        self.any_query = any_query

    async def _handle(self, request: web.Request) -> web.Response:
        if self.any_query.match(request.path_qs) is not None:
            await self.any_query.wait()
        return await super()._handle(request)

    def answer(self, path: str) -> web.Response:
        match = self.any_query.match(path)
        if match is None:
            return super().answer(path)
        text = leetx_listing(1, 1, path[: match.start("page") - 1])
        text = self.any_query.listing(text, match.group("query"))
        return web.Response(text=text, content_type="text/html", charset="utf-8")


Site = AnyQuerySite | AnyQueryLeetx


async def start_sites() -> dict[str, Site]:
    definitions = load_definitions(BUILTIN_DEFINITIONS)
    sites: dict[str, Site] = {}
    for site_id, renewal in RENEWALS.items():
        any_query = AnyQuery(definitions[site_id].search or "", renewal)
        site: Site = (
            AnyQueryLeetx(any_query)
            if site_id == "1337x"
            else AnyQuerySite(SAVED_SITES[site_id], any_query)
        )
        await site.start()
        sites[site_id] = site
    return sites


def request_counts(sites: dict[str, Site]) -> dict[str, list[int]]:
    """[search listings, other pages] asked of each site so far."""
    counts: dict[str, list[int]] = {}
    for site_id, site in sites.items():
        listings = sum(1 for p in site.paths if site.any_query.match(p) is not None)
        counts[site_id] = [listings, len(site.paths) - listings]
    return counts


def serve_sites() -> None:
    """The child process: the sites and a control endpoint; prints their URLs, then serves."""

    async def main() -> None:
        sites = await start_sites()

        async def control(request: web.Request) -> web.Response:
            if request.path == "/delay":
                sites[request.query["site"]].any_query.delay_s = float(request.query["s"])
            return web.json_response(request_counts(sites))

        server, url = await serve(control)
        print(json.dumps({"control": url, **{k: s.url for k, s in sites.items()}}), flush=True)
        try:
            await asyncio.Event().wait()  # until the parent kills us
        finally:
            await server.close()
            for site in sites.values():
                await site.close()

    asyncio.run(main())


@dataclass
class Sites:
    """The parent's handle on the site process."""

    pid: int
    control: httpx.AsyncClient

    async def counts(self) -> dict[str, list[int]]:
        return (await self.control.get("/counts")).json()  # type: ignore[no-any-return]

    async def delay(self, site_id: str, seconds: float) -> None:
        (
            await self.control.get("/delay", params={"site": site_id, "s": str(seconds)})
        ).raise_for_status()


@contextmanager
def site_process() -> Iterator[tuple[int, dict[str, str]]]:
    """Start the site process; yields its pid and URLs (with "control"); kills it afterwards."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--serve-sites"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode().strip() if proc.stdout is not None else ""
        if not line.startswith("{"):
            raise SystemExit(f"the site process did not start (exit {proc.poll()})")
        yield proc.pid, json.loads(line)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


# --- the engine and the requests ---------------------------------------------------------------


def open_core(data_dir: Path, urls: dict[str, str], args: argparse.Namespace) -> Core:
    """A core whose only sources are the local sites, the classifier on, `[live]` as asked."""
    sites = {sid: {"mirrors": [urls[sid]], "min_interval_s": 0} for sid in SITES}
    overrides: dict[str, Any] = {
        "storage.data_dir": str(data_dir),
        "enrich.enabled": False,
        "pipeline.classify": True,
        "pipeline.classify_workers": args.classify_workers,
        "live.source_deadline_s": args.source_deadline,
        "live.global_deadline_s": args.global_deadline,
        **only_sites(sites),
    }
    return Core.open(load_settings(data_dir.parent / "absent.toml", {}, overrides))


@dataclass
class Answer:
    query: str
    ms: float
    items: int
    total: int
    error: str | None = None


@dataclass
class Run:
    label: str
    answers: list[Answer] = field(default_factory=list)
    requests: dict[str, list[int]] = field(default_factory=dict)
    """[listings, detail pages] each site received during the run (late crawls included)."""
    outcomes: list[LiveSearchRow] = field(default_factory=list)
    meter: LoadMeter = field(default_factory=LoadMeter)
    """Set with the site process's pid by `timed_run`."""
    still_running: int = 0
    """Live crawls still out when the run's last answer came (late ones)."""

    def p(self, q: float) -> float:
        ms = [a.ms for a in self.answers if a.error is None]
        return percentile(ms, q) if ms else float("nan")

    @property
    def items(self) -> float:
        return statistics.mean(a.items for a in self.answers) if self.answers else 0.0

    @property
    def site_requests(self) -> tuple[int, int]:
        return sum(c[0] for c in self.requests.values()), sum(c[1] for c in self.requests.values())


async def ask(client: httpx.AsyncClient, query: str) -> Answer:
    """One Torznab search, timed by the client; its items and the total the feed reports."""
    began = time.perf_counter()
    try:
        resp = await client.get(PATH, params={"t": "search", "q": query})
    except httpx.HTTPError as exc:
        return Answer(query, (time.perf_counter() - began) * 1000, 0, 0, type(exc).__name__)
    ms = (time.perf_counter() - began) * 1000
    body = resp.content
    if resp.status_code != 200 or b"<rss" not in body[:300]:
        return Answer(query, ms, 0, 0, f"HTTP {resp.status_code}: {body[:120]!r}")
    total = _TOTAL.search(body)
    return Answer(query, ms, body.count(b"<item>"), int(total.group(1)) if total else 0)


def cold_queries(count: int, rng: random.Random, taken: set[str]) -> list[str]:
    """`count` queries of made-up words nobody asked before, in the three forms."""
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    queries: list[str] = []
    forms = itertools.cycle(QUERY_FORMS)
    while len(queries) < count:
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(3))
        if word not in taken:
            taken.add(word)
            queries.append(next(forms).format(word=word))
    return queries


async def timed_run(
    label: str, queries: list[str], client: httpx.AsyncClient, core: Core, sites: Sites
) -> Run:
    """The queries one after the other; then the late crawls end and the live log is read."""
    run = Run(label, meter=LoadMeter(sites.pid))
    started = datetime.now(UTC)
    before = await sites.counts()
    with run.meter.measure():
        for query in queries:
            run.answers.append(await ask(client, query))
    run.still_running = core.services.live.running
    await core.services.live.wait_idle()
    after = await sites.counts()
    run.requests = {s: [a - b for a, b in zip(after[s], before[s], strict=True)] for s in after}
    for query in dict.fromkeys(queries):  # this run's rows only (warm asks cold's queries)
        rows = await core.services.live.recent(100, query=query)
        run.outcomes += [row for row in rows if row.searched_at >= started]
    return run


async def bench(args: argparse.Namespace, site_pid: int, urls: dict[str, str]) -> list[Run]:
    control = httpx.AsyncClient(base_url=urls["control"], timeout=10.0)
    sites = Sites(site_pid, control)
    rng = random.Random(args.seed)
    taken: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="minato-bench-live-") as tmp:
        core = open_core(Path(tmp) / "data", urls, args)
        drainer: asyncio.Task[None] | None = None
        runner = None
        try:
            await core.pipeline.warm_up()
            drainer = asyncio.create_task(core.drainer.run(), name="index-drainer")
            app = make_app(core.services, max_body_bytes=core.settings.server.max_body_bytes)
            runner, port = await start_server(app, "127.0.0.1", 0)
            key = (await core.services.keys.create("bench")).secret
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", params={"apikey": key}, timeout=60.0
            ) as client:
                first = await timed_run(
                    "untimed first", cold_queries(1, rng, taken), client, core, sites
                )
                if first.answers[0].error:
                    raise SystemExit(f"the first search failed: {first.answers[0].error}")
                cold = cold_queries(args.cold, rng, taken)
                runs = [await timed_run("cold, 4 fast sites", cold, client, core, sites)]
                print(
                    f"  {runs[-1].label}: p50 {runs[-1].p(0.5):.0f} ms", file=sys.stderr, flush=True
                )
                await sites.delay(args.slow_site, args.slow_s)
                slow_label = f"cold, {args.slow_site} slow"
                slow = cold_queries(args.cold, rng, taken)
                runs.append(await timed_run(slow_label, slow, client, core, sites))
                print(
                    f"  {runs[-1].label}: p50 {runs[-1].p(0.5):.0f} ms", file=sys.stderr, flush=True
                )
                await sites.delay(args.slow_site, 0.0)
                warm = list(itertools.islice(itertools.cycle(cold), args.warm))
                runs.append(await timed_run("warm (index only)", warm, client, core, sites))
        finally:
            if runner is not None:
                await runner.cleanup()
            if drainer is not None:
                drainer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await drainer
            await core.aclose()
            await control.aclose()
    return runs


# --- printing ----------------------------------------------------------------------------------


def print_runs(runs: list[Run]) -> None:
    head = (
        f"| {'run':<28} | {'requests':>8} | {'p50 ms':>7} | {'p95 ms':>7} | {'max ms':>7} | "
        f"{'items/answer':>12} | {'site requests (listing + detail)':>32} | {'CPU s':>5} | "
        f"{'classify CPU s':>14} | {'sites CPU s':>11} | {'other load':>10} |"
    )
    print(head)
    print("|" + "|".join("-" * len(part) for part in head.split("|")[1:-1]) + "|")
    for r in runs:
        listing, detail = r.site_requests
        m = r.meter
        print(
            f"| {r.label:<28} | {len(r.answers):>8} | {r.p(0.5):>7.0f} | {r.p(0.95):>7.0f} | "
            f"{max(a.ms for a in r.answers):>7.0f} | {r.items:>12.1f} | "
            f"{f'{listing + detail} ({listing} + {detail})':>32} | {m.own_s:>5.1f} | "
            f"{m.workers_s:>14.1f} | {m.site_s:>11.1f} | {m.others_cores:>10.2f} |"
        )


def print_sources(runs: list[Run]) -> None:
    head = (
        f"| {'run':<28} | {'source':<16} | {'in time':>7} | {'timed out':>9} | {'late':>4} | "
        f"{'failed':>6} | {'in time: median s':>17} | {'max s':>5} | {'rows/answer':>11} | "
        f"{'timed out at s':>14} |"
    )
    print(head)
    print("|" + "|".join("-" * len(part) for part in head.split("|")[1:-1]) + "|")
    for r in runs:
        for source in sorted({o.source for o in r.outcomes}):
            rows = [o for o in r.outcomes if o.source == source]
            in_time = [o for o in rows if not o.late and o.error is None]
            timed_out = [o for o in rows if not o.late and o.error and "deadline" in o.error]
            late = [o for o in rows if o.late]
            failed = len(rows) - len(in_time) - len(timed_out) - len(late)
            took = [o.duration_s for o in in_time]
            cut = [o.duration_s for o in timed_out]
            results = statistics.mean(o.results for o in in_time) if in_time else 0.0
            print(
                f"| {r.label:<28} | {source:<16} | {len(in_time):>7} | {len(timed_out):>9} | "
                f"{len(late):>4} | {failed:>6} | "
                f"{statistics.median(took) if took else float('nan'):>17.2f} | "
                f"{max(took) if took else float('nan'):>5.2f} | {results:>11.1f} | "
                f"{statistics.median(cut) if cut else float('nan'):>14.2f} |"
            )


def print_findings(runs: list[Run], args: argparse.Namespace) -> None:
    errors = Counter(a.error for r in runs for a in r.answers if a.error)
    for error, n in errors.most_common(5):
        print(f"FAILED REQUESTS: {n}x {error}")
    over = [
        (r.label, a)
        for r in runs
        if r.label.startswith("cold")
        for a in r.answers
        if a.ms > args.global_deadline * 1000
    ]
    if over:
        print(f"\nOVER THE GLOBAL DEADLINE ({args.global_deadline:g} s): {len(over)} requests")
        for label, a in over[:10]:
            print(f"  {label}: {a.query!r} took {a.ms:.0f} ms ({a.items} items)")
    else:
        print(
            f"\nno cold request took longer than the global deadline ({args.global_deadline:g} s)"
        )
    warm = next(r for r in runs if r.label.startswith("warm"))
    listing, detail = warm.site_requests
    print(
        f"warm: the sites received {listing + detail} requests during {len(warm.answers)} "
        f"searches (listing {listing}, detail {detail}); live log rows written: "
        f"{len(warm.outcomes)}"
    )
    print(
        f"\nFor comparison: Jackett/Prowlarr users report {REPORTED_ARR_S} for a live search "
        "across many indexers (a figure users report, not measured here)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=50, help="warm requests (index only)")
    parser.add_argument("--cold", type=int, default=20, help="distinct queries per cold run")
    parser.add_argument("--source-deadline", type=float, default=2.0, help="live.source_deadline_s")
    parser.add_argument("--global-deadline", type=float, default=3.0, help="live.global_deadline_s")
    parser.add_argument("--slow-site", choices=SITES, default="torrentdownloads")
    parser.add_argument("--slow-s", type=float, default=5.0, help="the slow site's search delay")
    parser.add_argument("--classify-workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--serve-sites", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sites:
        serve_sites()
        return
    if args.warm < 1 or args.cold < 1 or args.classify_workers < 1:
        parser.error("--warm, --cold, --classify-workers: at least 1")
    if args.slow_s <= args.source_deadline:
        parser.error("--slow-s must exceed --source-deadline (the slow site misses it)")
    print(machine_header())
    print(
        f"live search-through: {', '.join(SITES)} on 127.0.0.1 (child process); "
        f"live.source_deadline_s={args.source_deadline:g}, "
        f"live.global_deadline_s={args.global_deadline:g}; slow run: {args.slow_site} answers "
        f"its search after {args.slow_s:g} s; classifier on ({args.classify_workers} workers), "
        "enrichment off, SQLite; GET /torznab/all/api?t=search&q=..., one client, one at a time\n",
        flush=True,
    )
    with site_process() as (pid, urls):
        runs = asyncio.run(bench(args, pid, urls))
    print_runs(runs)
    print(
        "latency measured by the client; site requests: pages the sites received during the "
        "run, late crawls included; CPU s: this process (server, engine, client); classify: "
        "its classifier workers; sites: the site process; other load: cores kept busy by "
        "anything else\n"
    )
    print_sources(runs)
    print(
        "from the live log (/api/search/live-status): in time: answered before its deadline; "
        "timed out: the answer went without it; late: its answer, stored after the response; "
        "durations from the start of the fan-out"
    )
    print_findings(runs, args)


if __name__ == "__main__":
    main()
