"""Benchmark the feed sources: items parsed per second per feed type, a poll cycle, JSON APIs.

    .venv/bin/python bench/bench_feeds.py [--seconds 0.3] [--runs 3] [--feeds 100]
        [--concurrency 8] [--synthetic 100 1000 5000] [--quick]
        [--skip-parse] [--skip-poll] [--skip-api]

Three parts; every figure is taken `--runs` times and printed as the median with the
slowest and fastest run beside it ("slowest-fastest"). The machine is shared: each figure
carries the load other processes put on it meanwhile. A full run takes about 2 minutes;
`--quick` (0.05 s a document, synthetic feeds up to 1,000 items, one poll run) under one.

**Feed parse throughput.** `engine.sources.feed_parse.parse_feed` on every saved feed in
tests/fixtures/rss, tests/fixtures/torznab and tests/fixtures/torznab/golden (Minato's
own Torznab answers), with the "now" and feed URL of their golden tests, in this process,
one core, no network. Each feed is parsed once untimed, then over and over for
`--seconds` a run. The feeds are grouped by type (torrent-namespace RSS, nyaa, showRSS,
.torrent-link RSS, Torznab, Newznab...); each group ends with its total: its items over
the time one parse of each of its feeds takes. Documents the parser refuses with
`FeedError` (caps, an error answer, a list of indexers) are listed, not timed: their
figure would time the refusal, not the parser. Then a synthetic Torznab feed, the five
items of sonarr_torznab_tpb.xml repeated with new info hashes and guids to `--synthetic`
items (100, 1,000 and 5,000 by default; 5,000 is the parser's `MAX_ITEMS`), to show how
the cost grows with the size of a feed.

**One poll cycle over `--feeds` local feeds.** A child process (so the server's CPU is
not in this process's figures) serves the feeds with aiohttp, feed `i` at
`http://127.0.0.{i + 2}:PORT/feeds/i`: one aiohttp site per loopback address, all on one
port. Linux routes all of 127/8 to the loopback interface, so each feed is a host of its
own, as real feeds are, and `FeedPoller`'s politeness (`MIN_FEED_INTERVAL_S` = 1 s between
two requests to one host) never holds a request of a cycle back; a 1 s pause, untimed,
separates the cycles, and any wait the limiter still imposed is printed. Every feed is
built from one of six saved feeds that give an info hash (Jackett TPB and hdaccess
Torznab, nyaa, showRSS, ezRSS, KickassTorrents): 20-50 items, each a saved item with a
new info hash (hex and base32 alike), a new guid and a title from
`bench_search_index.Generator`, so the items are distinct torrents with distinct titles
and the classifier's per-process title cache does not flatter the ingest. The server sends
an ETag and answers 304 to a matching If-None-Match.

A `Core` is opened as the feed-poller tests open it: data dir in a temp dir (SQLite),
enrichment off, every built-in site disabled (`tests.crawl_support.only_sites({})`), the
scheduler never started; the classifier is on (`pipeline.classify = true`), its worker
processes started by `Pipeline.warm_up` before the timing. The feeds are registered with
`FeedService.add(name, url, "15m")`, then polled with
`FeedPoller(name, ...).poll()`, `--concurrency` at once:

* cycle 1: every feed answers 200, every item is new;
* cycle 2: nothing changed, every feed answers 304: no parsing, only the request and the
  poll's bookkeeping in the database;
* cycle 3: every feed has two new items at the top (and lost its two oldest, as a feed
  window does): the whole body is parsed again, two items a feed are ingested.

The whole sequence runs `--runs` times, each on a fresh core and database against the same
server process. Per cycle: answers (200 / 304 / failed), items in the answers, new items,
torrents created, wall time, items/s (created / wall), feeds/s, the parser's own CPU (time
spent in `parse_feed` on its worker thread), the wall time spent in `Pipeline.submit`
(summed over polls that overlap, so it can exceed the wall time), the limiter's waits,
and the CPU of this process, of the classifier workers and of the server, with the load
other processes put on the machine meanwhile.

**JSON API parse rates.** `Source().parse(json.loads(body), now)` of engine/sources/api
(eztv, yts, apibay, knaben) on the saved answers in tests/fixtures/json-*, with the "now"
of their tests: answers/s and records/s with `json.loads` included, and records/s of
`parse` alone. The saved answers are small (3 to 22 records), so each API also gets its
saved rows repeated to one full page of what Minato asks for (EZTV 100 torrents, YTS 50
movies, apibay 100 rows, Knaben 50 hits), where the per-answer overhead matters less.
The two YTS `movie_details` answers are wrapped into a `list_movies` answer of one movie,
as their tests do.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import gc
import hashlib
import html
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `bench.*` importable
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from aiohttp import web  # noqa: E402

import engine.sources.feeds as feeds_module  # noqa: E402
from bench.bench_html import LoadMeter, machine_header  # noqa: E402
from bench.bench_search_index import Generator  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.core import Core, Crawling  # noqa: E402
from engine.errors import LayoutChanged, RequestFailed  # noqa: E402
from engine.sources.api import apibay, eztv, knaben, yts  # noqa: E402
from engine.sources.api.base import ApiSource  # noqa: E402
from engine.sources.feed_parse import FeedError, FeedPage, parse_feed  # noqa: E402
from engine.sources.feeds import MIN_FEED_INTERVAL_S, FeedPoller, PollResult  # noqa: E402
from tests.crawl_support import only_sites  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
FEED_URL = "https://indexer.example/api/v2/feed?t=search"
"""The feed URL of tests/engine/sources/test_feed_parse.py (relative links resolve to it)."""
SOURCE = "feed:bench"
NOW_SAVED = datetime(2025, 6, 1, tzinfo=UTC)
"""The "now" of the feed parser's golden tests."""
NOW_GOLDEN = datetime(2026, 12, 1, tzinfo=UTC)
"""After the pubDates of Minato's own Torznab answers (November 2026)."""
SEED = 20261124
MAX_FEEDS = 254
"""127.0.0.2 ... 127.0.0.255: one loopback address, so one politeness slot, per feed."""
NEW_PER_FEED = 2
"""Items each feed gains at the top before the third cycle."""


def rate_format(value: float) -> str:
    """Three significant digits or more: 1.23, 12.3, 123, 1,234."""
    return ".2f" if value < 10 else ".1f" if value < 100 else ",.0f"


def median_and_range(values: Sequence[float], fmt: str, *, higher_is_faster: bool) -> str:
    """`median (slowest-fastest)`; for times the slowest is the largest value.

    `fmt` "rate" picks the digits from the median (`rate_format`).
    """
    if fmt == "rate":
        fmt = rate_format(statistics.median(values))
    slow, fast = (min(values), max(values)) if higher_is_faster else (max(values), min(values))
    median = statistics.median(values)
    if len(values) == 1:
        return format(median, fmt)
    return f"{format(median, fmt)} ({format(slow, fmt)}-{format(fast, fmt)})"


def print_table(head: Sequence[tuple[str, int, str]], rows: Sequence[Sequence[str]]) -> None:
    """A Markdown table: `head` is (title, width, "<" or ">") per column."""
    print("| " + " | ".join(f"{t:{a}{w}}" for t, w, a in head) + " |")
    print(
        "|"
        + "|".join(("-" * (w + 1) + ":") if a == ">" else "-" * (w + 2) for _, w, a in head)
        + "|"
    )
    for row in rows:
        print(
            "| " + " | ".join(f"{c:{a}{w}}" for c, (_, w, a) in zip(row, head, strict=True)) + " |"
        )


# --- timing ------------------------------------------------------------------------------------


@dataclass
class Rate:
    """Calls per second of one callable, one figure per run, with each run's other load."""

    per_s: list[float] = field(default_factory=list)
    others: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.per_s)


def time_calls(call: Callable[[], object], seconds: float, runs: int) -> Rate:
    """`call` over and over for `seconds` (at least once), `runs` times.

    The caller makes one untimed call first (it needs its answer anyway), so imports and
    caches are warm. Each run starts after a full garbage collection, so one run does not
    pay for the garbage of the one before.
    """
    rate = Rate()
    for _ in range(runs):
        gc.collect()
        count = 0
        meter = LoadMeter()
        with meter.measure():
            deadline = time.perf_counter() + seconds
            while True:
                call()
                count += 1
                if time.perf_counter() >= deadline:
                    break
        rate.per_s.append(count / meter.wall_s)
        rate.others.append(meter.others_cores)
    return rate


# --- saved feeds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedType:
    name: str
    fixtures: tuple[str, ...]
    """Paths under tests/fixtures."""
    now: datetime = NOW_SAVED


def _golden() -> tuple[str, ...]:
    return tuple(
        str(p.relative_to(FIXTURES))
        for p in sorted((FIXTURES / "torznab" / "golden").glob("*.xml"))
    )


FEED_TYPES: tuple[FeedType, ...] = (
    FeedType(
        "RSS + torrent: ns (ezRSS/EZTV, KickassTorrents)",
        (
            "rss/sonarr_ezrss.xml",
            "rss/sonarr_eztv_invalid_size.xml",
            "rss/sonarr_kickasstorrents.xml",
        ),
    ),
    FeedType("nyaa (nyaa: namespace)", ("rss/sonarr_nyaa2021.xml",)),
    FeedType("showRSS (showrss: namespace, magnets)", ("rss/sonarr_showrss.xml",)),
    FeedType(
        "RSS, .torrent links only (private, LimeTorrents)",
        (
            "rss/sonarr_iptorrents.xml",
            "rss/sonarr_limetorrents.xml",
            "rss/sonarr_torrentday_nopubdate.xml",
            "rss/sonarr_torrentleech.xml",
        ),
    ),
    FeedType(
        "RSS edge cases (FlexGet, Jackett)",
        (
            "rss/flexget_rss_edgecases.xml",
            "rss/flexget_rss_escape.xml",
            "rss/jackett_invalid_rss.xml",
        ),
    ),
    FeedType(
        "Torznab (Jackett/Prowlarr/Cardigann/bitmagnet)",
        (
            "torznab/sonarr_torznab_tpb.xml",
            "torznab/sonarr_torznab_hdaccess_net.xml",
            "torznab/jackett_test_torznab_hdaccess.xml",
            "torznab/prowlarr_torznab_morethantv.xml",
            "torznab/nzbhydra2_cardigann_torznab.xml",
            "torznab/bitmagnet_torznab_result_example.xml",
        ),
    ),
    FeedType(
        "Newznab (usenet: items skipped as nzbs)",
        (
            "torznab/nzbhydra2_newznab_3results.xml",
            "torznab/sonarr_encoded_title.xml",
            "torznab/sonarr_relative_urls.xml",
        ),
    ),
    FeedType("Torznab from Minato itself (torznab/golden)", _golden(), NOW_GOLDEN),
    FeedType(
        "not feeds (FeedError)",
        (
            "torznab/sonarr_newznab_caps.xml",
            "torznab/bitmagnet_torznab_caps_example.xml",
            "torznab/sonarr_newznab_error_unauthorized.xml",
            "torznab/nzbhydra2_jackett_t_indexers_caps.xml",
        ),
    ),
)


def feed_types() -> list[FeedType]:
    """`FEED_TYPES`, plus any saved feed none of them names (a fixture added since)."""
    named = {f for t in FEED_TYPES for f in t.fixtures}
    saved = sorted(
        str(p.relative_to(FIXTURES))
        for d in ("rss", "torznab")
        for p in (FIXTURES / d).glob("*.xml")
    )
    others = tuple(f for f in saved if f not in named)
    return [*FEED_TYPES, FeedType("other saved feeds", others)] if others else list(FEED_TYPES)


def parse_body(body: bytes, now: datetime) -> FeedPage:
    return parse_feed(body, source=SOURCE, feed_url=FEED_URL, now=now)


@dataclass
class FeedFigure:
    name: str
    kib: float
    items: int
    skipped: int
    rate: Rate
    """Feeds (parses) per second."""

    @property
    def ms_per_feed(self) -> float:
        return 1000 / self.rate.median


def time_feed(
    name: str, body: bytes, page: FeedPage, now: datetime, seconds: float, runs: int
) -> FeedFigure:
    """Parse rates of one body; `page` is its untimed first parse."""
    rate = time_calls(lambda: parse_body(body, now), seconds, runs)
    skipped = sum(page.skipped.values())
    return FeedFigure(name, len(body) / 1024, len(page.items), skipped, rate)


def feed_row(f: FeedFigure) -> list[str]:
    items_s = [f.items * r for r in f.rate.per_s]
    return [
        f.name,
        f"{f.kib:.1f}",
        f"{f.items:,}" + (f" (+{f.skipped} skipped)" if f.skipped else ""),
        median_and_range(f.rate.per_s, "rate", higher_is_faster=True),
        median_and_range(items_s, "rate", higher_is_faster=True) if f.items else "-",
        f"{f.ms_per_feed:.2f}",
        f"{f.ms_per_feed * 1000 / f.items:.0f}" if f.items else "-",
        f"{statistics.median(f.rate.others):.2f}",
    ]


FEED_HEAD = (
    ("feed", 52, "<"),
    ("KiB", 6, ">"),
    ("items", 18, ">"),
    ("feeds/s (slowest-fastest)", 25, ">"),
    ("items/s (slowest-fastest)", 27, ">"),
    ("ms/feed", 8, ">"),
    ("µs/item", 7, ">"),
    ("other load", 10, ">"),
)


def run_parse(args: argparse.Namespace) -> None:
    types = feed_types()
    print(
        f"\nfeed parse throughput: parse_feed on {sum(len(t.fixtures) for t in types)} saved "
        f"documents, each parsed once untimed, then for {args.seconds:g} s a run, "
        f"{args.runs} runs; one core, in-process, no network\n"
    )
    rows: list[list[str]] = []
    refused: list[tuple[str, str]] = []
    for kind in types:
        figures: list[FeedFigure] = []
        for relative in kind.fixtures:
            body = (FIXTURES / relative).read_bytes()
            try:
                page = parse_body(body, kind.now)
            except FeedError as exc:
                refused.append((relative, str(exc)))
                continue
            figures.append(time_feed(relative, body, page, kind.now, args.seconds, args.runs))
        if not figures:
            continue
        rows.append([f"**{kind.name}**", "", "", "", "", "", "", ""])
        rows += [feed_row(f) for f in figures]
        items = sum(f.items for f in figures)
        # the group once: each feed parsed once, its runs' rates combined feed by feed
        once_s = [
            sum(1 / f.rate.per_s[run] for f in figures) for run in range(args.runs)
        ]  # fmt: skip
        rows.append(
            [
                f"  all {len(figures)} of this type, once each",
                f"{sum(f.kib for f in figures):.1f}",
                f"{items:,}",
                median_and_range([len(figures) / s for s in once_s], "rate", higher_is_faster=True),
                median_and_range([items / s for s in once_s], "rate", higher_is_faster=True)
                if items
                else "-",
                f"{statistics.median(once_s) * 1000 / len(figures):.2f}",
                f"{statistics.median(once_s) * 1e6 / items:.0f}" if items else "-",
                "",
            ]
        )
    print_table(FEED_HEAD, rows)
    print(
        "items: the items that name a torrent (what the poller ingests); skipped: items "
        "without an info hash, a magnet or a .torrent link, or usenet nzbs. µs/item: "
        "ms/feed over the items, so it carries the per-feed overhead of small feeds. "
        f"other load: cores (of {os.cpu_count()}) kept busy by other processes, median run."
    )
    for relative, message in refused:
        print(f"not timed, FeedError: {relative}: {message}")
    run_synthetic(args)


# --- building feeds ----------------------------------------------------------------------------

_ITEM = re.compile(r"<item>.*?</item>\s*", re.S)
_HEX40 = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{40}(?![0-9A-Fa-f])")
_TITLE = re.compile(r"<title>.*?</title>", re.S)
_GUID = re.compile(r"(<guid\b[^>]*>).*?(</guid>)", re.S)


@dataclass(frozen=True)
class Template:
    """A saved feed cut in three: what comes before its items, its items, what follows."""

    relative: str
    head: str
    items: tuple[str, ...]
    tail: str


@cache
def template(relative: str) -> Template:
    text = (FIXTURES / relative).read_text("utf-8")
    found = list(_ITEM.finditer(text))
    if not found:
        raise SystemExit(f"{relative}: no <item> to repeat")
    items = tuple(m.group(0) for m in found)
    return Template(relative, text[: found[0].start()], items, text[found[-1].end() :])


def new_hash(key: str) -> str:
    return hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()


def rewrite_item(item: str, key: str, title: str | None = None) -> str:
    """The saved item as a new torrent: info hash (hex and base32), guid and title from `key`.

    Every spelling of the item's hash is replaced (lower- and uppercase hex, the base32
    of a magnet), so the parser still finds the explicit hash and the magnet agreeing.
    """
    for old in {h.lower() for h in _HEX40.findall(item)}:
        new = new_hash(f"{key}/{old}")
        item = re.sub(
            old, lambda m, new=new: new.upper() if m.group(0).isupper() else new, item, flags=re.I
        )
        old32 = base64.b32encode(bytes.fromhex(old)).decode()
        item = item.replace(old32, base64.b32encode(bytes.fromhex(new)).decode())
    guid = f"https://feeds.bench.invalid/{key}"
    item, replaced = _GUID.subn(lambda m: f"{m.group(1)}{guid}{m.group(2)}", item, count=1)
    if not replaced:
        raise SystemExit(f"an item without a <guid>: {item[:80]!r}")
    if title is not None:
        item = _TITLE.sub(lambda _m: f"<title>{html.escape(title)}</title>", item, count=1)
    return item


def repeated_feed(relative: str, count: int, key: str) -> bytes:
    """The saved feed with its items repeated to `count`, each a distinct torrent."""
    t = template(relative)
    items = (rewrite_item(t.items[n % len(t.items)], f"{key}/{n}") for n in range(count))
    return (t.head + "".join(items) + t.tail).encode("utf-8")


def run_synthetic(args: argparse.Namespace) -> None:
    relative = "torznab/sonarr_torznab_tpb.xml"
    print(
        f"\nsynthetic Torznab: the {len(template(relative).items)} items of {relative} "
        "repeated with new info hashes and guids; at least one parse a run\n"
    )
    rows = []
    per_item: list[float] = []
    for count in args.synthetic:
        body = repeated_feed(relative, count, f"synthetic{count}")
        page = parse_body(body, NOW_SAVED)
        figure = time_feed(f"{count:,} items", body, page, NOW_SAVED, args.seconds, args.runs)
        if figure.items != count:
            raise SystemExit(f"the synthetic feed of {count} parses to {figure.items} items")
        rows.append(feed_row(figure))
        per_item.append(figure.ms_per_feed * 1000 / count)
    print_table(FEED_HEAD, rows)
    if len(per_item) > 1:
        print(
            f"µs/item from {args.synthetic[0]:,} to {args.synthetic[-1]:,} items: "
            + " → ".join(f"{u:.0f}" for u in per_item)
        )


# --- the feed server (child process) -----------------------------------------------------------

POLL_TEMPLATES: tuple[str, ...] = (
    "torznab/sonarr_torznab_tpb.xml",
    "rss/sonarr_nyaa2021.xml",
    "rss/sonarr_showrss.xml",
    "torznab/jackett_test_torznab_hdaccess.xml",
    "rss/sonarr_ezrss.xml",
    "rss/sonarr_kickasstorrents.xml",
)
"""Saved feeds whose every item gives an info hash: polling them downloads no .torrent."""


def feed_items(index: int) -> int:
    """Items in feed `index`: 20 to 50, spread evenly."""
    return 20 + (index * 13) % 31


def feed_host(index: int) -> str:
    return f"127.0.0.{index + 2}"


def feed_bodies(feeds: int) -> dict[tuple[int, int], bytes]:
    """Every feed's body before (generation 0) and after (1) its two new items."""
    generator = Generator(SEED)
    bodies: dict[tuple[int, int], bytes] = {}
    for index in range(feeds):
        t = template(POLL_TEMPLATES[index % len(POLL_TEMPLATES)])
        count = feed_items(index)
        items = [
            rewrite_item(t.items[n % len(t.items)], f"feed{index}/{n}", generator.release()[0])
            for n in range(count + NEW_PER_FEED)
        ]
        for generation in (0, 1):
            first = generation * NEW_PER_FEED  # the oldest item still in the window
            window = items[first : first + count][::-1]  # newest first
            bodies[index, generation] = (t.head + "".join(window) + t.tail).encode("utf-8")
    return bodies


class FeedFarm:
    """`feeds` feeds, feed i on 127.0.0.{i+2}; control (the generation) on 127.0.0.1."""

    def __init__(self, feeds: int) -> None:
        self.feeds = feeds
        self.bodies = feed_bodies(feeds)
        self.generation = 0
        self.runner: web.AppRunner | None = None

    async def feed(self, request: web.Request) -> web.Response:
        index = int(request.match_info["index"])
        if not 0 <= index < self.feeds:
            raise web.HTTPNotFound
        etag = f'"feed{index}-g{self.generation}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        body = self.bodies[index, self.generation]
        return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": etag})

    async def set_generation(self, request: web.Request) -> web.Response:
        self.generation = int(request.match_info["generation"])
        return web.Response(status=204)

    async def start(self) -> int:
        """Bind every address on one port (the first bind picks it); returns the port."""
        app = web.Application()
        app.router.add_get("/feeds/{index}", self.feed)
        app.router.add_post("/generation/{generation}", self.set_generation)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        port = int(self.runner.addresses[0][1])
        for index in range(self.feeds):
            await web.TCPSite(self.runner, feed_host(index), port).start()
        return port


def run_server(feeds: int) -> None:
    """The child process: print "PORT ITEMS BYTES" of generation 0, then serve."""

    async def main() -> None:
        farm = FeedFarm(feeds)
        port = await farm.start()
        items = sum(feed_items(i) for i in range(feeds))
        size = sum(len(farm.bodies[i, 0]) for i in range(feeds))
        print(port, items, size, flush=True)
        try:
            await asyncio.Event().wait()  # until the parent kills us
        finally:
            if farm.runner is not None:
                await farm.runner.cleanup()

    asyncio.run(main())


@dataclass(frozen=True)
class Farm:
    pid: int
    port: int
    items: int
    bytes: int

    def url(self, index: int) -> str:
        return f"http://{feed_host(index)}:{self.port}/feeds/{index}"

    async def set_generation(self, generation: int) -> None:
        async with httpx.AsyncClient(trust_env=False) as client:
            answer = await client.post(f"http://127.0.0.1:{self.port}/generation/{generation}")
            answer.raise_for_status()


@contextmanager
def start_server(feeds: int) -> Iterator[Farm]:
    """Start the feed server process; yields its address; kills it afterwards."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--serve", "--feeds", str(feeds)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode().split() if proc.stdout is not None else []
        if len(line) != 3:
            raise SystemExit(f"the feed server did not start (exit {proc.poll()})")
        yield Farm(proc.pid, int(line[0]), int(line[1]), int(line[2]))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def check_templates() -> None:
    """Each poll template, rebuilt, parses to as many distinct hashed items as it was given."""
    for relative in POLL_TEMPLATES:
        count = len(template(relative).items) * 2 + 1
        page = parse_body(repeated_feed(relative, count, f"check/{relative}"), NOW_SAVED)
        hashes = {i.record.info_hash for i in page.items if i.record.info_hash}
        if len(page.items) != count or len(hashes) != count:
            raise SystemExit(
                f"{relative} rebuilt with {count} items parses to {len(page.items)} items, "
                f"{len(hashes)} distinct hashes; fix the rewrite first"
            )


# --- the poll cycles ---------------------------------------------------------------------------


def crawling_of(core: Core) -> Crawling:
    """The core's crawl side, which `only_sites` turns on."""
    if core.crawling is None:
        raise SystemExit("the core has no crawl side: crawl.enabled did not take")
    return core.crawling


class Clocks:
    """Time spent inside the poller's parse calls, in `Pipeline.submit`, and in the limiter.

    The parser runs on worker threads (`asyncio.to_thread`), so its own CPU is
    `time.thread_time` around each call; submit and the limiter are wall time on the
    event loop, summed over polls that run at once.
    """

    def __init__(self, core: Core) -> None:
        self.parse_cpu_s = 0.0
        self.parses = 0
        self.submit_s = 0.0
        self.submitted = 0
        self.waited_s = 0.0
        self._lock = threading.Lock()
        self._core = core

    def reset(self) -> None:
        self.parse_cpu_s = self.submit_s = self.waited_s = 0.0
        self.parses = self.submitted = 0

    @contextmanager
    def installed(self) -> Iterator[Clocks]:
        real_parse = feeds_module.parse_feed
        pipeline = self._core.pipeline
        limiter = crawling_of(self._core).deps.limiter
        real_submit, real_acquire = pipeline.submit, limiter.acquire

        def parse(body: bytes, **kwargs: Any) -> FeedPage:
            began = time.thread_time()
            try:
                return real_parse(body, **kwargs)
            finally:
                spent = time.thread_time() - began
                with self._lock:
                    self.parse_cpu_s += spent
                    self.parses += 1

        async def submit(raws: Any, *args: Any) -> Any:
            began = time.perf_counter()
            try:
                return await real_submit(raws, *args)
            finally:
                self.submit_s += time.perf_counter() - began
                self.submitted += len(raws)

        async def acquire(host: str, interval: float | None = None) -> float:
            waited = await real_acquire(host, interval)
            self.waited_s += waited
            return waited

        feeds_module.parse_feed = parse  # type: ignore[assignment]
        pipeline.submit = submit  # type: ignore[method-assign]
        limiter.acquire = acquire  # type: ignore[method-assign]
        try:
            yield self
        finally:
            feeds_module.parse_feed = real_parse
            del pipeline.submit  # back to the class's methods
            del limiter.acquire


@dataclass
class Cycle:
    label: str
    results: list[PollResult]
    errors: list[str]
    wall_s: float
    meter: LoadMeter
    parse_cpu_s: float
    parses: int
    submit_s: float
    waited_s: float

    @property
    def ok(self) -> int:
        return sum(not r.not_modified for r in self.results)

    @property
    def not_modified(self) -> int:
        return sum(r.not_modified for r in self.results)

    @property
    def items(self) -> int:
        return sum(r.items for r in self.results)

    @property
    def new(self) -> int:
        return sum(r.new_items for r in self.results)

    @property
    def created(self) -> int:
        return sum(r.created for r in self.results)


async def poll_cycle(
    label: str, core: Core, names: list[str], concurrency: int, server_pid: int, clocks: Clocks
) -> Cycle:  # fmt: skip
    """Every feed polled once, `concurrency` at once."""
    crawling = crawling_of(core)
    gate = asyncio.Semaphore(concurrency)

    async def one(name: str) -> PollResult | str:
        async with gate:
            poller = FeedPoller(
                name,
                store=crawling.feeds._store,
                pool=crawling.deps.pool,
                limiter=crawling.deps.limiter,
                pipeline=core.pipeline,
            )
            try:
                return await poller.poll()
            except (RequestFailed, LayoutChanged) as exc:
                return f"{name}: {exc}"

    gc.collect()
    clocks.reset()
    meter = LoadMeter(server_pid)
    with meter.measure():
        answers = await asyncio.gather(*(one(n) for n in names))
    results = [a for a in answers if isinstance(a, PollResult)]
    errors = [a for a in answers if isinstance(a, str)]
    return Cycle(
        label, results, errors, meter.wall_s, meter, clocks.parse_cpu_s, clocks.parses,
        clocks.submit_s, clocks.waited_s,
    )  # fmt: skip


def open_core(data_dir: Path) -> Core:
    """A core with no site but the feeds, the classifier on, nothing scheduled."""
    overrides: dict[str, Any] = {
        "storage.data_dir": str(data_dir),
        "enrich.enabled": False,
        "pipeline.classify": True,
        **only_sites({}),
    }
    settings = load_settings(data_dir.parent / "absent.toml", {}, overrides)
    return Core.open(settings)


@dataclass
class PollRun:
    cycles: list[Cycle]
    open_s: float
    warm_s: float
    add_s: float


async def poll_run(args: argparse.Namespace, farm: Farm, data_dir: Path) -> PollRun:
    """A fresh core: register the feeds, then the three cycles."""
    await farm.set_generation(0)
    began = time.perf_counter()
    core = open_core(data_dir)
    open_s = time.perf_counter() - began
    try:
        crawling_of(core)
        began = time.perf_counter()
        await core.pipeline.warm_up()
        warm_s = time.perf_counter() - began
        names = [f"bench-{i:03d}" for i in range(args.feeds)]
        began = time.perf_counter()
        for index, name in enumerate(names):
            await core.services.feeds.add(name, farm.url(index), "15m")
        add_s = time.perf_counter() - began
        cycles: list[Cycle] = []
        clocks = Clocks(core)
        plan = (
            ("1: first poll, all new", 0),
            ("2: nothing changed (304)", 0),
            (f"3: {NEW_PER_FEED} new items a feed", 1),
        )
        with clocks.installed():
            for label, generation in plan:
                await farm.set_generation(generation)
                if cycles:  # untimed: every host's politeness slot is free again
                    await asyncio.sleep(MIN_FEED_INTERVAL_S + 0.05)
                cycle = await poll_cycle(label, core, names, args.concurrency, farm.pid, clocks)
                cycles.append(cycle)
    finally:
        await core.aclose()
    return PollRun(cycles, open_s, warm_s, add_s)


async def run_polls(args: argparse.Namespace, farm: Farm) -> list[PollRun]:
    runs: list[PollRun] = []
    for number in range(args.poll_runs):
        with tempfile.TemporaryDirectory(prefix="minato-bench-feeds-") as tmp:
            run = await poll_run(args, farm, Path(tmp) / "data")
        runs.append(run)
        first = run.cycles[0]
        print(
            f"  run {number + 1}: cycle 1: {first.created:,} torrents in {first.wall_s:.2f} s, "
            f"other load {first.meter.others_cores:.2f}",
            file=sys.stderr,
            flush=True,
        )
    return runs


def print_poll_table(runs: list[PollRun]) -> None:
    head = (
        ("cycle", 24, "<"),
        ("200", 4, ">"),
        ("304", 4, ">"),
        ("failed", 6, ">"),
        ("items", 6, ">"),
        ("new", 6, ">"),
        ("created", 7, ">"),
        ("wall s (slowest-fastest)", 24, ">"),
        ("items/s (slowest-fastest)", 25, ">"),
        ("parsed items/s", 14, ">"),
        ("feeds/s", 7, ">"),
        ("parses", 6, ">"),
        ("parse CPU s", 11, ">"),
        ("submit s", 8, ">"),
        ("politeness wait s", 17, ">"),
        ("CPU s", 5, ">"),
        ("classify CPU s", 14, ">"),
        ("server CPU s", 12, ">"),
        ("other load", 10, ">"),
    )
    rows = []
    for index in range(len(runs[0].cycles)):
        same = [run.cycles[index] for run in runs]
        c = sorted(same, key=lambda x: x.wall_s)[(len(same) - 1) // 2]  # the median run, whole
        m = c.meter
        rates = [x.created / x.wall_s for x in same]
        rows.append(
            [
                c.label,
                f"{c.ok}",
                f"{c.not_modified}",
                f"{len(c.errors)}",
                f"{c.items:,}",
                f"{c.new:,}",
                f"{c.created:,}",
                median_and_range([x.wall_s for x in same], ".2f", higher_is_faster=False),
                median_and_range(rates, "rate", higher_is_faster=True) if c.created else "-",
                f"{c.items / c.wall_s:,.0f}" if c.items else "-",
                f"{(c.ok + c.not_modified) / c.wall_s:,.0f}",
                f"{c.parses}",
                f"{c.parse_cpu_s:.2f}",
                f"{c.submit_s:.2f}",
                f"{c.waited_s:.2f}",
                f"{m.own_s:.2f}",
                f"{m.workers_s:.2f}",
                f"{m.site_s:.2f}",
                f"{m.others_cores:.2f}",
            ]
        )
    print_table(head, rows)
    print(
        f"Each row is the run (of {len(runs)}, each on a fresh database) with the median wall "
        "time for that cycle, with every run's range beside it. items: items in the 200 "
        "answers; new: past where the last poll stopped; created: new torrents in the "
        "database; items/s: created / wall s; parsed items/s: items / wall s. parses: "
        "parse_feed calls; parse CPU s: the "
        "parser's own CPU on its worker threads; submit s: Pipeline.submit (normalize, "
        "classify, write), wall time summed over concurrent polls; politeness wait s: time "
        "the host limiter held polls back. CPU s: this process (event loop, parser threads, "
        "writer); classify CPU s: the classifier worker processes; server CPU s: the feed "
        "server process; other load: cores kept busy by anything else."
    )
    for c in runs[-1].cycles:
        for message in c.errors[:5]:
            print(f"ERROR in cycle {c.label}: {message}")


# --- JSON APIs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiAnswer:
    api: str
    source: type[ApiSource]
    label: str
    body: bytes
    now: datetime


def _details_as_list(data: dict[str, Any]) -> dict[str, Any]:
    """A movie_details answer's movie, in a list_movies answer of one movie (as test_yts)."""
    movies = {"movie_count": 1, "limit": 50, "page_number": 1, "movies": [data["data"]["movie"]]}
    return {"status": "ok", "status_message": "Query was successful", "data": movies}


def _full_page(api: str, data: Any) -> Any:
    """The saved rows repeated to one full page of what Minato asks the API for."""
    data = copy.deepcopy(data)

    def fill(rows: list[Any], size: int) -> list[Any]:
        return [copy.deepcopy(rows[i % len(rows)]) for i in range(size)]

    if api == "eztv":
        data["torrents"] = fill(data["torrents"], eztv.PAGE_SIZE)
        data["limit"] = eztv.PAGE_SIZE
    elif api == "yts":
        data["data"]["movies"] = fill(data["data"]["movies"], yts.PAGE_SIZE)
        data["data"]["limit"] = yts.PAGE_SIZE
    elif api == "apibay":
        data = fill(data, 100)  # apibay answers at most 100 rows, no paging
    elif api == "knaben":
        data["hits"] = fill(data["hits"], knaben.PAGE_SIZE)
    return data


def api_answers() -> list[ApiAnswer]:
    """The saved answers (with the "now" of their tests) and a full page of each API."""
    saved: tuple[tuple[str, type[ApiSource], str, datetime], ...] = (
        ("eztv", eztv.EztvSource, "json-eztv/baka_eztv_get_torrents_latest.json",
         datetime(2026, 8, 17, tzinfo=UTC)),
        ("yts", yts.YtsSource, "json-yts/yts_list_movies_query_test.json",
         datetime(2021, 5, 19, 12, tzinfo=UTC)),
        ("yts", yts.YtsSource, "json-yts/yts_list_movies_empty.json",
         datetime(2021, 5, 19, 12, tzinfo=UTC)),
        ("yts", yts.YtsSource, "json-yts/yts_movie_details.json",
         datetime(2021, 5, 19, 12, tzinfo=UTC)),
        ("yts", yts.YtsSource, "json-yts/yts_movie_details_full.json",
         datetime(2021, 5, 19, 12, tzinfo=UTC)),
        ("apibay", apibay.ApiBaySource, "json-apibay/baka_apibay_q_dune.json",
         datetime(2025, 6, 1, tzinfo=UTC)),
        ("knaben", knaben.KnabenSource, "json-knaben/knaben_v1_answer.json",
         datetime(2025, 6, 1, tzinfo=UTC)),
    )  # fmt: skip
    answers: list[ApiAnswer] = []
    for api, source, relative, now in saved:
        body = (FIXTURES / relative).read_bytes()
        name = Path(relative).name
        if "movie_details" in relative:
            body = json.dumps(_details_as_list(json.loads(body))).encode()
            name += " (as list_movies)"
        answers.append(ApiAnswer(api, source, name, body, now))
    pages: list[ApiAnswer] = []
    for api in ("eztv", "yts", "apibay", "knaben"):
        first = next(a for a in answers if a.api == api)
        full = json.dumps(_full_page(api, json.loads(first.body))).encode()
        pages.append(
            ApiAnswer(api, first.source, "its rows repeated to a full page", full, first.now)
        )
    ordered: list[ApiAnswer] = []
    for api in ("eztv", "yts", "apibay", "knaben"):
        ordered += [a for a in answers if a.api == api] + [p for p in pages if p.api == api]
    return ordered


def run_api(args: argparse.Namespace) -> None:
    print(
        f"\nJSON API parse rates: Source().parse(json.loads(body), now), {args.seconds:g} s a "
        f"run, {args.runs} runs; one core, in-process\n"
    )
    head = (
        ("api", 6, "<"),
        ("answer", 48, "<"),
        ("KiB", 5, ">"),
        ("records", 7, ">"),
        ("answers/s", 9, ">"),
        ("records/s (slowest-fastest)", 29, ">"),
        ("µs/record", 9, ">"),
        ("parse only rec/s", 16, ">"),
        ("other load", 10, ">"),
    )
    rows = []
    for a in api_answers():
        source = a.source()
        page = source.parse(json.loads(a.body), a.now)
        if page.bad_rows:
            raise SystemExit(f"{a.api} {a.label}: {page.bad_rows} bad rows: {page.errors}")
        records = len(page.records)
        data = json.loads(a.body)  # the untimed first call was the parse above
        whole = time_calls(
            lambda s=source, a=a: s.parse(json.loads(a.body), a.now), args.seconds, args.runs
        )
        alone = time_calls(lambda s=source, a=a, d=data: s.parse(d, a.now), args.seconds, args.runs)
        per_record = [records * r for r in whole.per_s]
        rows.append(
            [
                a.api,
                a.label,
                f"{len(a.body) / 1024:.1f}",
                f"{records}",
                f"{whole.median:,.0f}",
                median_and_range(per_record, "rate", higher_is_faster=True) if records else "-",
                f"{1e6 / whole.median / records:.1f}" if records else "-",
                f"{records * alone.median:,.0f}" if records else "-",
                f"{statistics.median(whole.others):.2f}",
            ]
        )
    print_table(head, rows)
    print(
        "records/s and µs/record include json.loads; parse only: the same answer decoded "
        "beforehand. The YTS movie_details answers were re-encoded once as list_movies "
        "answers; full pages: EZTV 100 torrents, YTS 50 movies (2-3 torrents each), apibay "
        "100 rows, Knaben 50 hits."
    )


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.3, help="parse time a run, per document")
    parser.add_argument("--runs", type=int, default=3, help="runs of every measurement")
    parser.add_argument(
        "--feeds", type=int, default=100, help=f"local feeds polled (1..{MAX_FEEDS})"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="polls at once")
    parser.add_argument(
        "--synthetic", type=int, nargs="+", default=[100, 1000, 5000],
        help="items of the synthetic Torznab feeds",
    )  # fmt: skip
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short look: 0.05 s a document, synthetic 100 and 1,000, one poll run",
    )
    parser.add_argument("--skip-parse", action="store_true", help="no feed parse throughput")
    parser.add_argument("--skip-poll", action="store_true", help="no poll cycles")
    parser.add_argument("--skip-api", action="store_true", help="no JSON API parse rates")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run_server(args.feeds)
        return
    args.poll_runs = args.runs
    if args.quick:
        args.seconds = min(args.seconds, 0.05)
        args.synthetic = [n for n in args.synthetic if n <= 1000] or [100]
        args.poll_runs = 1
    if args.seconds <= 0 or args.runs < 1 or args.concurrency < 1:
        parser.error("--seconds > 0, --runs >= 1, --concurrency >= 1")
    if not 1 <= args.feeds <= MAX_FEEDS:
        parser.error(f"--feeds 1..{MAX_FEEDS}: one loopback address a feed")
    if not all(1 <= n <= 5000 for n in args.synthetic):
        parser.error("--synthetic 1..5000 (the parser reads at most 5,000 items)")
    print(machine_header())
    if not args.skip_parse:
        run_parse(args)
    if not args.skip_poll:
        check_templates()
        with start_server(args.feeds) as farm:
            print(
                f"\npoll cycles: {args.feeds} feeds from a child process (aiohttp, one site "
                f"per address 127.0.0.2..{feed_host(args.feeds - 1)}, one port), "
                f"{farm.items:,} items, {farm.bytes / 1024:,.0f} KiB in all; "
                f"{args.concurrency} polls at once; classifier on (workers warmed up first), "
                f"enrichment off, SQLite; {args.poll_runs} run(s)\n"
            )
            runs = asyncio.run(run_polls(args, farm))
        print_poll_table(runs)
        opens = ", ".join(f"{r.open_s:.2f}" for r in runs)
        warms = ", ".join(f"{r.warm_s:.2f}" for r in runs)
        adds = ", ".join(f"{r.add_s:.2f}" for r in runs)
        print(
            f"Core.open: {opens} s; classifier warm-up: {warms} s; registering the "
            f"{args.feeds} feeds (FeedService.add): {adds} s (not in the rows)"
        )
    if not args.skip_api:
        run_api(args)


if __name__ == "__main__":
    main()
