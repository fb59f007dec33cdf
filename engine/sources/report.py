"""What every crawler reports, and the shape of an on-demand crawl (HTML sites and JSON APIs alike).

`CrawlReport` is filled in as a crawl goes: the progress bar of `minato crawl`, the
scheduler's heartbeats and the final summary all read it. `Crawler` is what the
crawler service runs for a site outside its schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from engine.errors import MinatoError
from engine.scheduler import CrawlContext, Job, RunResult


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
