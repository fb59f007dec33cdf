"""What every crawler reports, and the rules every crawl shares (HTML sites and JSON APIs alike).

`CrawlReport` is filled in as a crawl goes: the progress bar of `minato crawl`, the
scheduler's heartbeats and the final summary all read it. `Crawler` is what the
crawler service runs for a site outside its schedule. `search_text`, `pages_for`
and `ingest` are the parts both crawlers apply the same way: what a query may be,
how many pages a crawl reads, and how a page's records reach the pipeline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from engine.errors import MinatoError
from engine.models import RawRecord
from engine.pipeline import Pipeline
from engine.scheduler import CrawlContext, Job, RunResult
from engine.site_config import SiteConfig

MAX_QUERY_CHARS: Final = 200
MAX_PAGES: Final = 100


class CrawlRequestError(MinatoError):
    """A crawl was asked for something the site cannot do (no such mode, no query...)."""

    http_status = 400
    error_type = "bad_crawl_request"


@dataclass(slots=True)
class CrawlReport:
    """What a crawl did, updated as it goes (the progress bar and the status read it)."""

    site: str
    mode: str
    planned_pages: int = 0
    """Listing pages the crawl may read (listings times depth); it stops earlier when done."""
    pages: int = 0
    rows: int = 0
    bad_rows: int = 0
    details: int = 0
    """Detail pages read."""
    details_skipped: int = 0
    """Detail pages not read: the torrent is known with files, or was read recently."""
    new: int = 0
    updated: int = 0
    errors: int = 0
    """Detail pages that failed, rows with no way to find their torrent, refused records."""
    stopped: str | None = None
    """Why the crawl ended before its depth ("nothing new", "last page")."""
    network_s: float = 0.0
    parse_s: float = 0.0
    ingest_s: float = 0.0
    error_messages: list[str] = field(default_factory=list)

    def note_error(self, message: str) -> None:
        """Count an error; keep its message (the first 20) for the summary."""
        self.errors += 1
        if len(self.error_messages) < 20:
            self.error_messages.append(message)


Progress = Callable[[CrawlReport], None]


class Crawler(Protocol):
    """A site's crawler as the crawler service runs it on demand."""

    async def crawl(
        self,
        mode: str,
        *,
        query: str | None = None,
        category: str | None = None,
        depth: int | None = None,
        crawl_id: str | None = None,
        progress: Progress | None = None,
    ) -> CrawlReport:
        """Crawl `mode` (latest, browse, search) to `depth` pages; returns what was done."""
        ...


def latest_job(crawler: Crawler) -> Job:
    """A site's scheduled run: its newest listings to its depth, progress as heartbeats."""

    async def run(ctx: CrawlContext) -> RunResult:
        def progress(report: CrawlReport) -> None:
            ctx.heartbeat(items_seen=report.rows, items_new=report.new)

        report = await crawler.crawl("latest", crawl_id=ctx.crawl_id, progress=progress)
        return RunResult(items_seen=report.rows, items_new=report.new)

    return run


def search_text(query: str | None) -> str:
    """A search query as sites get it: one line, whitespace collapsed.

    Raises:
        CrawlRequestError: empty, longer than `MAX_QUERY_CHARS`, or not printable.
    """
    text = " ".join((query or "").split())
    if not text:
        raise CrawlRequestError("a search needs a query")
    if len(text) > MAX_QUERY_CHARS or not text.isprintable():
        raise CrawlRequestError(f"a query is one line of at most {MAX_QUERY_CHARS} chars")
    return text


def pages_for(config: SiteConfig, mode: str, depth: int | None) -> int:
    """Pages per listing: the request's (1 to `MAX_PAGES`), else the site's for the mode."""
    if depth is not None:
        return max(1, min(depth, MAX_PAGES))
    return config.search_depth if mode == "search" else config.depth


async def ingest(pipeline: Pipeline, records: Sequence[RawRecord], report: CrawlReport) -> int:
    """Store one page's records; counts new, updated and refused ones in `report`.

    Returns:
        How many torrents were new to the index (a crawl stops early on 0).
    """
    if not records:
        return 0
    began = time.perf_counter()
    result = await pipeline.submit(list(enumerate(records)))
    report.ingest_s += time.perf_counter() - began
    report.new += result.created
    report.updated += result.updated
    for rejection in result.rejected:
        report.note_error(f"refused: {rejection.error}")
    return result.created
