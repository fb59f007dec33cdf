"""Benchmark the HTML sources: pages parsed per second per site, and a crawl of served pages.

    .venv/bin/python bench/bench_html.py [--seconds 1.5] [--depth 1] [--search-depth 1]
        [--runs 3] [--quick] [--skip-parse] [--skip-crawl]

Two parts.

**Parse throughput.** Every built-in site definition (engine/sources/html/definitions)
is loaded with `load_definitions` and built with `build_site`, then parses its saved
pages from tests/fixtures (the ones the golden tests use, with the same URL and "now")
over and over for `--seconds` each: `HtmlSite.parse_listing` on listing pages,
`HtmlSite.parse_detail` on detail pages, in this process, one core, no network. Per page
it prints the size, what one parse yields (rows; files and fields), pages/s, rows (or
files)/s, ms a page and the other load. A page that parses to nothing stops the bench:
its figure would time the error path, not the parser.

**Crawl.** 1337x served from saved pages by `tests.site_server.SiteServer` (listing pages
of 20 rows, every detail page) in a child process, so the site's CPU is not in this
process's figures. A `Core` is opened as the end-to-end crawl tests open it: data dir in
a temp dir, enrichment off, the scheduler never started, every built-in site disabled
but 1337x, whose only mirror is the child process, `min_interval_s = 0`. The classifier
is on (`pipeline.classify = true`, worker processes started before the timing by
`Pipeline.warm_up`), so the ingest share is what a real crawl pays. Then, timed:

* `latest`: `CrawlerService.crawl_site("1337x", depth=--depth)`: the definition's two
  newest-first listings, `--depth` pages each, and the 20 detail pages of every listing
  page (depth 1: 2 + 40 = 42 pages);
* `search`: `crawl_site("1337x", "search", query="lion king", depth=--search-depth)`:
  1 listing page and its 20 detail pages at depth 1 (0 skips it);
* the same two again: every torrent is known now, so detail pages are skipped and the
  latest crawl stops at its first page of each listing ("nothing new").

The whole sequence is done `--runs` times, each on a fresh core and database (the same
site process); each row shows the run with the median wall time, and every run's wall
time beside it. For each crawl: pages fetched (listing + detail), rows, new and updated
torrents, wall time, pages/s, `CrawlReport.network_s / parse_s / ingest_s`, the parser's
own CPU (`time.thread_time` around the site's parse calls), this process's CPU, the
classifier workers', the site's and the other load. `network_s` and `parse_s` are sums
over the detail pages that run concurrently (the definition's `detail_concurrency`, 4 for
1337x), so their sum with `ingest_s` can exceed the wall time; `parse_s` also counts the
hop to the worker thread and any wait for the GIL, which is why the parser's own CPU is
shown beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `bench.*` importable
    sys.path.insert(0, str(ROOT))

from bench.bench_ingest import cpu_seconds, machine_busy_s  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.core import Core  # noqa: E402
from engine.errors import ConfigError  # noqa: E402
from engine.sources.html.definition import BUILTIN_DEFINITIONS, load_definitions  # noqa: E402
from engine.sources.html.parse import HtmlSite  # noqa: E402
from engine.sources.html.sites import build_site  # noqa: E402
from engine.sources.report import CrawlReport  # noqa: E402
from tests.crawl_support import only_sites  # noqa: E402
from tests.site_server import ROWS_PER_PAGE, SiteServer  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SEARCH_QUERY = "lion king"


@dataclass(frozen=True)
class SavedPage:
    """A saved page and the URL and "now" it is parsed with (those of its golden test)."""

    site: str
    kind: str
    """"listing" or "detail"."""
    fixture: str
    url: str
    now: datetime


LEETX_2019 = datetime(2019, 11, 15, tzinfo=UTC)
AUG_2016 = datetime(2016, 8, 11, tzinfo=UTC)
JUL_2017_LIME = datetime(2017, 7, 27, 21, 31, tzinfo=UTC)
JUL_2017_TD = datetime(2017, 7, 27, 21, 52, tzinfo=UTC)

PAGES: tuple[SavedPage, ...] = (
    # 1337x has no golden test: the pages the crawl tests serve, and the 2016 list of divs.
    SavedPage(
        "1337x",
        "listing",
        "html-1337x/torrentscraper_1337x_search_lion_king_2019-11.html",
        "https://1337x.to/search/lion+king/1/",
        LEETX_2019,
    ),
    SavedPage(
        "1337x",
        "listing",
        "html-1337x/magnetissimo_1337x_list_xxx_2016-08.html",
        "https://1337x.to/cat/XXX/1/",
        AUG_2016,
    ),
    SavedPage(
        "1337x",
        "detail",
        "html-1337x/magnetissimo_1337x_detail_2016-08.html",
        "https://1337x.to/torrent/1708660/The-Settlers-7-Paths-to-a-Kingdom/",
        AUG_2016,
    ),
    # The rest as in tests/engine/sources/html/test_golden_*.py.
    SavedPage(
        "thepiratebay",
        "listing",
        "html-tpb/tpb_search_arrow_s05e07_2019.html",
        "https://thepiratebay.org/search/Arrow%20S05E07/0/99/200",
        datetime(2019, 2, 15, 19, 55, 30, tzinfo=UTC),
    ),
    SavedPage(
        "thepiratebay",
        "detail",
        "html-tpb/magnetissimo_tpb_detail_2016-08.html",
        "https://thepiratebay.org/torrent/15472797/The_Journey_Home_-_Radhanath_Swami_Audiobook",
        AUG_2016,
    ),
    SavedPage(
        "limetorrents",
        "listing",
        "html-other/magnetissimo_limetorrents_search_sintel.html",
        "https://www.limetorrents.cc/search/all/sintel-2010/date/1/",
        JUL_2017_LIME,
    ),
    SavedPage(
        "limetorrents",
        "detail",
        "html-other/magnetissimo_limetorrents_detail_sintel.html",
        "https://www.limetorrents.cc/Sintel-(2010)-BR2Mini-DVD-DD5-1-NL-Subs-torrent-938931.html",
        JUL_2017_LIME,
    ),
    SavedPage(
        "torrentdownloads",
        "listing",
        "html-other/magnetissimo_torrentdownloads_search.html",
        "https://www.torrentdownloads.me/search/?search=sintel+2010",
        JUL_2017_TD,
    ),
    SavedPage(
        "torrentdownloads",
        "detail",
        "html-other/magnetissimo_torrentdownloads_detail.html",
        "https://www.torrentdownloads.me/torrent/1652059056/Sintel+2010+2K+SURROUND+x264-VODO",
        JUL_2017_TD,
    ),
)


# --- machine -----------------------------------------------------------------------------------


class LoadMeter:
    """Wall time, this process's CPU and the cores other processes kept busy meanwhile.

    The machine is shared: a figure taken while another process held a core is slower
    for that reason alone, so every measurement carries the load beside it.
    """

    def __init__(self, site_pid: int | None = None) -> None:
        self.site_pid = site_pid
        self.wall_s = 0.0
        self.own_s = 0.0
        """This process's CPU (every thread of it)."""
        self.workers_s = 0.0
        """CPU of this process's live child processes (the classifier workers)."""
        self.site_s = 0.0
        self.others_cores = 0.0

    @staticmethod
    def _tree_s() -> float:
        return cpu_seconds(os.getpid())

    @contextmanager
    def measure(self) -> Iterator[LoadMeter]:
        site0 = cpu_seconds(self.site_pid) if self.site_pid is not None else 0.0
        tree0 = self._tree_s()
        busy0, own0, began = machine_busy_s(), time.process_time(), time.perf_counter()
        yield self
        self.wall_s = time.perf_counter() - began
        self.own_s = time.process_time() - own0
        busy = machine_busy_s() - busy0
        tree = self._tree_s() - tree0  # this process and its children, the site among them
        self.site_s = cpu_seconds(self.site_pid) - site0 if self.site_pid is not None else 0.0
        self.workers_s = max(0.0, tree - self.own_s - self.site_s)
        others = max(0.0, busy - self.own_s - self.workers_s - self.site_s)
        self.others_cores = others / self.wall_s if self.wall_s > 0 else 0.0


def machine_header() -> str:
    """One line on what ran the figures: cores, CPU model, Python, the current load."""
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"machine: {os.cpu_count()} cores ({model}), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; load average (1 min) "
        f"{load:.2f} at start"
    )


# --- parse throughput --------------------------------------------------------------------------


@dataclass
class ParseFigure:
    page: SavedPage
    kib: float
    items: int
    """Rows of a listing page, files of a detail page."""
    fields: int
    """Fields of a detail page (0 for a listing)."""
    runs: int
    meter: LoadMeter

    @property
    def pages_per_s(self) -> float:
        return self.runs / self.meter.wall_s

    @property
    def items_per_s(self) -> float:
        return self.items * self.pages_per_s

    @property
    def ms_per_page(self) -> float:
        return self.meter.wall_s * 1000 / self.runs


def load_sites(retries: int = 3, wait_s: float = 60.0) -> dict[str, HtmlSite]:
    """Every built-in definition, built; a definition being edited is retried after a wait."""
    for attempt in range(retries):
        try:
            definitions = load_definitions(BUILTIN_DEFINITIONS)
            return {site_id: build_site(d) for site_id, d in definitions.items()}
        except ConfigError as exc:
            if attempt == retries - 1:
                raise
            print(f"a definition failed to load ({exc}); retrying in {wait_s:.0f} s", flush=True)
            time.sleep(wait_s)
    raise AssertionError("unreachable")


def parse_once(site: HtmlSite, page: SavedPage, text: str) -> tuple[int, int]:
    """(items, fields) of one parse of `page`."""
    if page.kind == "listing":
        listing = site.parse_listing(text, page.url, page.now)
        return len(listing.rows), 0
    detail = site.parse_detail(text, page.url, page.now)
    return len(detail.files), len(detail.values)


def time_parse(site: HtmlSite, page: SavedPage, seconds: float) -> ParseFigure:
    """Parse `page` repeatedly for about `seconds` (after one untimed parse)."""
    text = (FIXTURES / page.fixture).read_text("utf-8", errors="replace")
    items, fields = parse_once(site, page, text)
    if items == 0 and fields == 0:
        raise SystemExit(f"{page.site}: {page.fixture} parses to nothing; fix that first")
    gc.collect()
    runs = 0
    meter = LoadMeter()
    with meter.measure():
        deadline = time.perf_counter() + seconds
        while True:
            parse_once(site, page, text)
            runs += 1
            if time.perf_counter() >= deadline:
                break
    kib = len(text.encode("utf-8")) / 1024
    return ParseFigure(page, kib, items, fields, runs, meter)


def print_parse_table(figures: list[ParseFigure]) -> None:
    head = (
        f"| {'site':<16} | {'page':<8} | {'fixture':<52} | {'KiB':>5} | "
        f"{'one parse gives':<20} | {'runs':>5} | {'pages/s':>7} | {'rows/s':>8} | "
        f"{'ms/page':>7} | {'KiB/s':>7} | {'other load':>10} |"
    )
    print(head)
    print("|" + "|".join("-" * len(part) for part in head.split("|")[1:-1]) + "|")
    for f in figures:
        gives = (
            f"{f.items} rows" if f.page.kind == "listing" else f"{f.items} files, {f.fields} fields"
        )
        rate = f"{f.items_per_s:,.0f}" if f.items else "-"
        print(
            f"| {f.page.site:<16} | {f.page.kind:<8} | {Path(f.page.fixture).name:<52} | "
            f"{f.kib:>5.1f} | {gives:<20} | {f.runs:>5,} | {f.pages_per_s:>7,.0f} | "
            f"{rate:>8} | {f.ms_per_page:>7.2f} | {f.kib * f.pages_per_s:>7,.0f} | "
            f"{f.meter.others_cores:>10.2f} |"
        )
    print(
        "rows/s: listing rows (detail pages: files) parsed per second; one core, in-process, "
        f"no network; other load: cores (of {os.cpu_count()}) kept busy by other processes"
    )


# --- the crawl ---------------------------------------------------------------------------------


def run_site(pages: int) -> None:
    """The child process: serve 1337x from saved pages; print the base URL, then serve."""

    async def main() -> None:
        server = await SiteServer(pages=pages).start()
        print(server.url, flush=True)
        try:
            await asyncio.Event().wait()  # until the parent kills us
        finally:
            await server.close()

    asyncio.run(main())


@contextmanager
def start_site(pages: int) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Start the site process; yields it with its base URL; kills it afterwards."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--serve", "--site-pages", str(pages)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode().strip() if proc.stdout is not None else ""
        if not line.startswith("http://127.0.0.1:"):
            raise SystemExit(f"the site process did not start (exit {proc.poll()})")
        yield proc, line
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def open_core(data_dir: Path, mirror: str, depth: int) -> Core:
    """A core whose only site is 1337x at `mirror`, the classifier on, nothing scheduled."""
    overrides: dict[str, Any] = {
        "storage.data_dir": str(data_dir),
        "enrich.enabled": False,
        "pipeline.classify": True,
        **only_sites({"1337x": {"mirrors": [mirror], "min_interval_s": 0, "depth": depth}}),
    }
    settings = load_settings(data_dir.parent / "absent.toml", {}, overrides)
    return Core.open(settings)


class ParseClock:
    """CPU time spent inside the site's own parse calls, on whichever thread runs them.

    `CrawlReport.parse_s` is wall time around `asyncio.to_thread`, summed over detail
    pages parsed at once; this is the parser's own CPU (`time.thread_time` around each
    call), the figure to set against the parse throughput above.
    """

    def __init__(self, site: HtmlSite) -> None:
        self.cpu_s = 0.0
        lock = threading.Lock()  # parses run on several worker threads at once
        listing, detail = site.parse_listing, site.parse_detail

        def timed(parse: Callable[..., Any]) -> Callable[..., Any]:
            def call(*args: Any) -> Any:
                began = time.thread_time()
                try:
                    return parse(*args)
                finally:
                    spent = time.thread_time() - began
                    with lock:
                        self.cpu_s += spent

            return call

        # Instance attributes shadow the methods for this site object only.
        site.parse_listing = timed(listing)  # type: ignore[method-assign]
        site.parse_detail = timed(detail)  # type: ignore[method-assign]


@dataclass
class CrawlFigure:
    label: str
    report: CrawlReport
    meter: LoadMeter
    parse_cpu_s: float

    @property
    def fetched(self) -> int:
        return self.report.pages + self.report.details

    @property
    def pages_per_s(self) -> float:
        return self.fetched / self.meter.wall_s


@dataclass
class CoreTimes:
    open_s: float
    warm_s: float


async def timed_crawl(
    label: str, crawl: Callable[[], Awaitable[CrawlReport]], site_pid: int, clock: ParseClock
) -> CrawlFigure:  # fmt: skip
    gc.collect()
    meter = LoadMeter(site_pid)
    parse0 = clock.cpu_s
    with meter.measure():
        report = await crawl()
    return CrawlFigure(label, report, meter, clock.cpu_s - parse0)


async def one_run(
    args: argparse.Namespace, url: str, site_pid: int, data_dir: Path
) -> tuple[list[CrawlFigure], CoreTimes]:  # fmt: skip
    """A fresh core: the crawls, then the same crawls again (the incremental case)."""
    began = time.perf_counter()
    core = open_core(data_dir, url, args.depth)
    open_s = time.perf_counter() - began
    figures: list[CrawlFigure] = []
    try:
        began = time.perf_counter()
        await core.pipeline.warm_up()
        warm_s = time.perf_counter() - began
        if core.crawling is None:
            raise SystemExit("the core has no crawl side: crawl.enabled did not take")
        clock = ParseClock(core.crawling.html_sites["1337x"])
        crawlers = core.services.crawlers

        def latest() -> Awaitable[CrawlReport]:
            return crawlers.crawl_site("1337x", depth=args.depth)

        def search() -> Awaitable[CrawlReport]:
            return crawlers.crawl_site(
                "1337x", "search", query=SEARCH_QUERY, depth=args.search_depth
            )

        for suffix in ("", ", again"):
            label = f"latest, depth {args.depth}{suffix}"
            figures.append(await timed_crawl(label, latest, site_pid, clock))
            if args.search_depth > 0:
                label = f"search, depth {args.search_depth}{suffix}"
                figures.append(await timed_crawl(label, search, site_pid, clock))
    finally:
        await core.aclose()
    return figures, CoreTimes(open_s, warm_s)


async def run_crawls(args: argparse.Namespace) -> tuple[list[list[CrawlFigure]], list[CoreTimes]]:
    """`--runs` runs, each on a fresh core and database against the same site process."""
    runs: list[list[CrawlFigure]] = []
    times: list[CoreTimes] = []
    site_pages = max(args.depth, args.search_depth) + 1  # so depth, not the last page, ends it
    with start_site(site_pages) as (proc, url):
        for number in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="minato-bench-html-") as tmp:
                figures, core_times = await one_run(args, url, proc.pid, Path(tmp) / "data")
            runs.append(with_totals(figures))
            times.append(core_times)
            first = figures[0]
            print(
                f"  run {number + 1}: {first.label}: {first.fetched} pages in "
                f"{first.meter.wall_s:.2f} s, other load {first.meter.others_cores:.2f}",
                file=sys.stderr,
                flush=True,
            )
    return runs, times


def with_totals(figures: list[CrawlFigure]) -> list[CrawlFigure]:
    """The crawls of a run, each pass followed by its total when it has several crawls."""
    half = len(figures) // 2
    rows: list[CrawlFigure] = []
    for name, part in (("first pass, all", figures[:half]), ("second pass, all", figures[half:])):
        rows += part
        if len(part) > 1:
            rows.append(total_of(name, part))
    return rows


def total_of(label: str, figures: list[CrawlFigure]) -> CrawlFigure:
    """The crawls of one pass as one row: counts and times added up."""
    report = CrawlReport(site="1337x", mode="all")
    meter = LoadMeter()
    others_s = 0.0
    for f in figures:
        r, m = f.report, f.meter
        report.pages += r.pages
        report.details += r.details
        report.details_skipped += r.details_skipped
        report.rows += r.rows
        report.new += r.new
        report.updated += r.updated
        report.errors += r.errors
        report.error_messages += r.error_messages
        report.network_s += r.network_s
        report.parse_s += r.parse_s
        report.ingest_s += r.ingest_s
        others_s += m.others_cores * m.wall_s
        meter.wall_s += m.wall_s
        meter.own_s += m.own_s
        meter.workers_s += m.workers_s
        meter.site_s += m.site_s
    meter.others_cores = others_s / max(meter.wall_s, 1e-9)
    return CrawlFigure(label, report, meter, sum(f.parse_cpu_s for f in figures))


def median_run(figures: list[CrawlFigure]) -> CrawlFigure:
    """The run with the median wall time (the lower one of an even count), whole."""
    return sorted(figures, key=lambda f: f.meter.wall_s)[(len(figures) - 1) // 2]


def print_crawl_table(runs: list[list[CrawlFigure]]) -> None:
    head = (
        f"| {'crawl':<22} | {'listing':>7} | {'detail':>6} | {'skipped':>7} | {'rows':>4} | "
        f"{'new':>4} | {'upd':>4} | {'err':>3} | {'stopped':<11} | {'wall s':>6} | "
        f"{'wall s, each run':<22} | {'pages/s':>7} | {'network s':>9} | {'parse s':>7} | "
        f"{'parse CPU s':>11} | {'ingest s':>8} | {'CPU s':>5} | {'classify CPU s':>14} | "
        f"{'site CPU s':>10} | {'other load':>10} |"
    )
    print(head)
    print("|" + "|".join("-" * len(part) for part in head.split("|")[1:-1]) + "|")
    for index in range(len(runs[0])):
        same = [run[index] for run in runs]
        f = median_run(same)
        r, m = f.report, f.meter
        each = " ".join(f"{g.meter.wall_s:.2f}" for g in same)
        print(
            f"| {f.label:<22} | {r.pages:>7} | {r.details:>6} | {r.details_skipped:>7} | "
            f"{r.rows:>4} | {r.new:>4} | {r.updated:>4} | {r.errors:>3} | "
            f"{r.stopped or '-':<11} | {m.wall_s:>6.2f} | {each:<22} | {f.pages_per_s:>7.1f} | "
            f"{r.network_s:>9.2f} | {r.parse_s:>7.2f} | {f.parse_cpu_s:>11.2f} | "
            f"{r.ingest_s:>8.2f} | {m.own_s:>5.2f} | {m.workers_s:>14.2f} | {m.site_s:>10.2f} | "
            f"{m.others_cores:>10.2f} |"
        )
    print(
        f"Each row is the run (of {len(runs)}, each on a fresh database) with the median wall "
        "time; listing / detail: pages fetched and parsed; skipped: detail pages not read "
        "(torrent known); pages/s: (listing + detail) / wall s. network s and parse s "
        "(CrawlReport) add up detail pages fetched and parsed concurrently (up to 4 at once), "
        "so network + parse + ingest can exceed wall s; parse s is wall time around the "
        "worker thread, parse CPU s the parser's own CPU in it; ingest s: Pipeline.submit "
        "(classify + write). CPU s: this process; classify CPU s: its classifier worker "
        "processes; site CPU s: the SiteServer process; other load: cores kept busy by "
        "anything else. Every served listing page shows the same 20 titles (the saved page, "
        "ids and hashes changed), so after the first page the classifier mostly answers from "
        "its per-process title cache: ingest s is lower than a crawl of distinct titles pays."
    )
    for f in runs[-1]:
        for message in f.report.error_messages[:5]:
            print(f"ERROR in {f.label}: {message}")


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=1.5, help="time spent parsing each saved page"
    )
    parser.add_argument(
        "--depth", type=int, default=1, help="latest crawl: pages of each of the 2 listings"
    )
    parser.add_argument(
        "--search-depth", type=int, default=1, help="search crawl: listing pages (0: none)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short look: 0.3 s a page, one run, no search crawl"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="crawl runs, each on a fresh core and database"
    )
    parser.add_argument("--skip-parse", action="store_true", help="the crawl only")
    parser.add_argument("--skip-crawl", action="store_true", help="parse throughput only")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--site-pages", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run_site(args.site_pages)
        return
    if args.quick:
        args.seconds = min(args.seconds, 0.3)
        args.search_depth = 0
        args.runs = 1
    if args.seconds <= 0 or args.runs < 1:
        parser.error("--seconds > 0, --runs >= 1")
    if not 1 <= args.depth <= 100 or not 0 <= args.search_depth <= 100:
        parser.error("--depth 1..100, --search-depth 0..100")
    print(machine_header())
    if not args.skip_parse:
        sites = load_sites()
        print(
            f"\nparse throughput: {len(sites)} built-in definitions ({', '.join(sites)}), "
            f"each saved page parsed for {args.seconds:g} s after one untimed parse\n"
        )
        missing = sorted(set(sites) - {p.site for p in PAGES})
        figures = [time_parse(sites[p.site], p, args.seconds) for p in PAGES if p.site in sites]
        print_parse_table(figures)
        if missing:
            print(f"no saved pages for: {', '.join(missing)}")
    if not args.skip_crawl:
        planned = 2 * args.depth * (1 + ROWS_PER_PAGE) + args.search_depth * (1 + ROWS_PER_PAGE)
        print(
            f"\ncrawl: 1337x from tests.site_server.SiteServer (child process, 127.0.0.1), "
            f"{planned} pages on the first pass (listing + detail); classifier on "
            "(pipeline.classify = true, workers warmed up first), enrichment off, SQLite\n"
        )
        runs, times = asyncio.run(run_crawls(args))
        print_crawl_table(runs)
        opens = ", ".join(f"{t.open_s:.2f}" for t in times)
        warms = ", ".join(f"{t.warm_s:.2f}" for t in times)
        print(f"Core.open: {opens} s; classifier warm-up: {warms} s (not in the rows)")


if __name__ == "__main__":
    main()
