"""The DHT crawler: discover info hashes, fetch what is new, feed the pipeline.

Runs as a continuous source of the scheduler (`run` returns only when cancelled
by `minato dht stop`, the window, or shutdown). Inside, on one asyncio loop:

- the node's events arrive from its alert thread (`_on_events`);
- a sampling loop sends BEP 51 queries to nodes as they fall due (`NodeTable`),
  at most `samples_per_s`, each to a random target so replies spread the crawl;
- every hash heard (samples, lookups and announces reaching the node) passes the
  seen filter; new ones wait in a bounded queue (full: dropped and counted);
- `fetch_concurrency` workers take hashes, skip those the index already holds
  with files, and fetch the rest (`MetadataFetcher`); a hash that found no peers
  or timed out is tried again after `retry_after_s`, up to `fetch_retries` times;
- resolved torrents are batched into the pipeline as records of source "dht",
  with their files, the .torrent (unless `keep_metainfo` is off) and the number
  of peers as the health estimate;
- a housekeeping loop asks for the routing table size, adds routing-table nodes
  to the sampling table, runs due retries, beats the heart and saves the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import os
import shutil
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from engine.config import DhtSettings
from engine.dht.events import (
    Event,
    HashHeard,
    MetadataArrived,
    MetadataRefused,
    NodeError,
    PeersFound,
    RoutingTable,
    Samples,
)
from engine.dht.fetcher import Failed, Failure, MetadataFetcher, Resolved
from engine.dht.figures import DhtFigures, RateMeter
from engine.dht.node import DhtNode, NodeConfig, parse_endpoint
from engine.dht.sampler import NodeTable
from engine.dht.seen import SeenFilter
from engine.models import RawRecord
from engine.pipeline import Pipeline
from engine.scheduler import CrawlContext, RunResult
from engine.store.reads import hashes_with_files
from engine.store.source_state import SourceStateStore

log = logging.getLogger(__name__)

SOURCE = "dht"
FETCH_DIR = "dht-fetch"
"""Under the data dir: libtorrent's save path for fetches (upload mode: stays empty)."""
SUBMIT_BATCH = 200
SUBMIT_EVERY_S = 1.0
HOUSEKEEPING_S = 1.0
ROUTING_EVERY_S = 10.0
SAVE_EVERY_S = 60.0
ALIASES = 100_000
"""Second hashes of resolved hybrid torrents remembered, so they are not fetched again."""


class DhtCrawler:
    """One DHT node and everything that turns its traffic into indexed torrents."""

    def __init__(
        self,
        settings: DhtSettings,
        *,
        pipeline: Pipeline,
        reader: Engine,
        data_dir: Path,
        state: SourceStateStore | None = None,
        min_resample_s: float = 60.0,
    ) -> None:
        self._settings = settings
        self._pipeline = pipeline
        self._reader = reader
        self._data_dir = data_dir
        self._state = state
        self._min_resample_s = min_resample_s
        self._figures = DhtFigures()
        self._rates = {name: RateMeter() for name in ("discovered", "fetched", "failed")}
        self._node: DhtNode | None = None
        self._fetcher: MetadataFetcher | None = None
        self._seen: SeenFilter | None = None  # made at the first run: a few MB
        self._nodes = NodeTable(settings.max_nodes, min_interval_s=min_resample_s)
        self._queue: asyncio.Queue[tuple[str, int]] | None = None
        self._retries: list[tuple[float, str, int]] = []
        self._in_flight: set[str] = set()
        self._aliases: OrderedDict[str, None] = OrderedDict()
        self._resolved: list[Resolved] = []
        self._flushed = asyncio.Event()
        self._ended = asyncio.Event()
        self._ended.set()

    # --- what the service reads ---------------------------------------------------------------

    def figures(self) -> DhtFigures:
        """The figures now (a snapshot)."""
        queue = self._queue
        return replace(
            self._figures,
            running=self._node is not None,
            nodes_known=len(self._nodes),
            queued=queue.qsize() if queue is not None else 0,
            fetching=self._fetcher.in_flight if self._fetcher is not None else 0,
            discovered_per_min=round(self._rates["discovered"].per_minute(), 1),
            fetched_per_min=round(self._rates["fetched"].per_minute(), 1),
            failed_per_min=round(self._rates["failed"].per_minute(), 1),
        )

    # --- running ------------------------------------------------------------------------------

    async def run(self, ctx: CrawlContext) -> RunResult:
        """Crawl until cancelled (the scheduler's `stop`, or shutdown)."""
        settings = self._settings
        loop = asyncio.get_running_loop()
        if self._seen is None:
            self._seen = SeenFilter(settings.seen_capacity)
        fetch_dir = self._data_dir / FETCH_DIR
        await asyncio.to_thread(_fresh_dir, fetch_dir)
        config = NodeConfig(
            listen=settings.listen,
            bootstrap=tuple(settings.bootstrap),
            upload_bytes_s=settings.upload_kib_s * 1024,
            download_bytes_s=settings.download_kib_s * 1024,
            max_peer_connections=max(200, settings.fetch_concurrency * 8),
            state_dir=self._data_dir,
        )

        def deliver(events: list[Event]) -> None:
            loop.call_soon_threadsafe(self._on_events, events)

        self._ended.clear()
        creating = asyncio.ensure_future(asyncio.to_thread(DhtNode, config, deliver))
        try:
            node = await asyncio.shield(creating)
        except asyncio.CancelledError:
            # stopped while the session was starting: it still starts, so close it
            with contextlib.suppress(Exception):
                started = await creating
                await asyncio.to_thread(started.close)
            self._ended.set()
            raise
        except BaseException:
            self._ended.set()
            raise
        self._node = node
        self._fetcher = MetadataFetcher(
            node, save_dir=fetch_dir, timeout_s=settings.fetch_timeout_s
        )
        self._queue = asyncio.Queue(maxsize=settings.queue_capacity)
        self._figures = replace(
            self._figures, listen_port=node.listen_port, started_at=datetime.now(UTC)
        )
        self._nodes.add(_ip_endpoints(settings.bootstrap))
        log.info("DHT node listening on port %d", node.listen_port)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._sample_loop(), name="dht-sampler")
                group.create_task(self._housekeeping(ctx), name="dht-housekeeping")
                group.create_task(self._submit_loop(ctx), name="dht-submit")
                for number in range(settings.fetch_concurrency):
                    group.create_task(self._fetch_worker(self._queue), name=f"dht-fetch-{number}")
        finally:
            self._node = None
            self._fetcher = None
            self._queue = None  # events still in flight from the alert thread are dropped
            self._retries.clear()
            await asyncio.to_thread(node.close)
            try:
                with contextlib.suppress(Exception):
                    await self._flush(ctx)
                await self._save_figures()
            finally:
                self._ended.set()
        return RunResult(self._figures.fetched, self._figures.stored_new)  # pragma: no cover

    def offer(self, info_hashes: Iterable[str]) -> int:
        """Queue hashes found elsewhere (a magnet without files) for a metadata fetch.

        They pass the same seen filter as what the DHT yields; returns how many were
        queued. Only while running (before, nothing is queued and 0 is returned).
        """
        before = self._figures.discovered
        for info_hash in info_hashes:
            self._heard(info_hash, from_samples=False)
        return self._figures.discovered - before

    async def wait_ended(self, timeout_s: float) -> bool:
        """Wait until no run is in progress (its node closed, figures saved); False on timeout."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._ended.wait()
        except TimeoutError:
            return False
        return True

    async def resolved_flushed(self) -> None:
        """Wait until what was resolved so far is stored (tests and the benchmark)."""
        self._flushed.clear()
        await self._flushed.wait()

    def _on_events(self, events: list[Event]) -> None:
        fetcher = self._fetcher
        for event in events:
            if isinstance(event, PeersFound | MetadataArrived | MetadataRefused):
                if fetcher is not None:
                    fetcher.deliver(event)
            elif isinstance(event, Samples):
                self._on_samples(event)
            elif isinstance(event, HashHeard):
                self._heard(event.info_hash, from_samples=False)
            elif isinstance(event, RoutingTable):
                self._figures = replace(self._figures, routing_table=event.nodes)
            elif isinstance(event, NodeError):
                log.warning("DHT node: %s", event.message)
                self._figures = replace(self._figures, last_error=event.message[:500])

    def _on_samples(self, event: Samples) -> None:
        self._figures = replace(self._figures, sample_replies=self._figures.sample_replies + 1)
        self._nodes.replied(event.endpoint, event.interval_s)
        self._nodes.add(event.nodes)
        for info_hash in event.hashes:
            self._heard(info_hash, from_samples=True)

    def _heard(self, info_hash: str, *, from_samples: bool) -> None:
        queue, seen = self._queue, self._seen
        if queue is None or seen is None:
            return
        if info_hash in self._aliases or info_hash in self._in_flight:
            return
        if queue.full():
            if info_hash not in seen:
                self._figures = replace(self._figures, dropped=self._figures.dropped + 1)
            return
        if not seen.add(info_hash):
            return
        figures = self._figures
        self._figures = replace(
            figures,
            discovered=figures.discovered + 1,
            from_samples=figures.from_samples + from_samples,
            from_traffic=figures.from_traffic + (not from_samples),
        )
        self._rates["discovered"].add()
        queue.put_nowait((info_hash, 0))

    async def _sample_loop(self) -> None:
        rate = self._settings.samples_per_s
        if rate <= 0:
            await asyncio.Event().wait()  # sampling off: discovery is passive only
        gap = 1.0 / rate
        while True:
            node = self._node
            due = self._nodes.take_due(max(1, int(rate)))
            if node is None or not due:
                await asyncio.sleep(max(gap, 0.2))
                continue
            for endpoint in due:
                node.sample(endpoint, os.urandom(20))
                self._figures = replace(
                    self._figures, sample_queries=self._figures.sample_queries + 1
                )
                await asyncio.sleep(gap)

    async def _fetch_worker(self, queue: asyncio.Queue[tuple[str, int]]) -> None:
        while True:
            info_hash, attempt = await queue.get()
            try:
                await self._fetch_one(info_hash, attempt)
            finally:
                queue.task_done()

    async def _fetch_one(self, info_hash: str, attempt: int) -> None:
        fetcher = self._fetcher
        if fetcher is None or info_hash in self._aliases or info_hash in self._in_flight:
            return
        if attempt == 0 and await asyncio.to_thread(self._indexed, info_hash):
            self._figures = replace(
                self._figures, already_indexed=self._figures.already_indexed + 1
            )
            return
        self._in_flight.add(info_hash)
        try:
            outcome = await fetcher.fetch(info_hash)
        finally:
            self._in_flight.discard(info_hash)
        if isinstance(outcome, Resolved):
            self._on_resolved(outcome)
        else:
            self._on_failed(outcome, attempt)

    def _indexed(self, info_hash: str) -> bool:
        with self._reader.connect() as conn:
            return bool(hashes_with_files(conn, [info_hash]))

    def _on_resolved(self, resolved: Resolved) -> None:
        for alias in (resolved.info_hash, resolved.other_hash):
            if alias is not None:
                self._aliases[alias] = None
                if self._seen is not None:
                    self._seen.add(alias)
        while len(self._aliases) > ALIASES:
            self._aliases.popitem(last=False)
        self._figures = replace(self._figures, fetched=self._figures.fetched + 1)
        self._rates["fetched"].add()
        self._resolved.append(resolved)

    def _on_failed(self, failed: Failed, attempt: int) -> None:
        retryable = failed.failure in (Failure.NO_PEERS, Failure.TIMEOUT, Failure.BUSY)
        room = len(self._retries) < self._settings.queue_capacity
        if retryable and room and attempt < self._settings.fetch_retries:
            due = time.monotonic() + self._settings.retry_after_s
            heapq.heappush(self._retries, (due, failed.info_hash, attempt + 1))
            self._figures = replace(self._figures, retries=self._figures.retries + 1)
            return
        figures = self._figures
        if failed.failure is Failure.BAD_METADATA:
            log.info("DHT: refused metadata for %s: %s", failed.info_hash, failed.detail)
            figures = replace(figures, bad_metadata=figures.bad_metadata + 1)
        elif failed.failure is Failure.TIMEOUT:
            figures = replace(figures, timed_out=figures.timed_out + 1)
        else:
            figures = replace(figures, no_peers=figures.no_peers + 1)
        self._figures = figures
        self._rates["failed"].add()

    async def _submit_loop(self, ctx: CrawlContext) -> None:
        while True:
            await asyncio.sleep(SUBMIT_EVERY_S)
            await self._flush(ctx)

    async def _flush(self, ctx: CrawlContext) -> None:
        while self._resolved:
            batch, self._resolved = self._resolved[:SUBMIT_BATCH], self._resolved[SUBMIT_BATCH:]
            keep = self._settings.keep_metainfo
            report = await self._pipeline.submit(
                [(i, _record(resolved, keep_metainfo=keep)) for i, resolved in enumerate(batch)]
            )
            for rejection in report.rejected:
                log.info("DHT: a resolved torrent was refused: %s", rejection.error)
            self._figures = replace(
                self._figures,
                stored_new=self._figures.stored_new + report.created,
                bad_metadata=self._figures.bad_metadata + len(report.rejected),
            )
            ctx.heartbeat(items_seen=self._figures.fetched, items_new=self._figures.stored_new)
        self._flushed.set()

    async def _housekeeping(self, ctx: CrawlContext) -> None:
        last_routing = last_save = 0.0
        while True:
            now = time.monotonic()
            queue = self._queue
            while self._retries and self._retries[0][0] <= now and queue is not None:
                if queue.full():
                    break
                _, info_hash, attempt = heapq.heappop(self._retries)
                queue.put_nowait((info_hash, attempt))
            node = self._node
            if node is not None and now - last_routing >= ROUTING_EVERY_S:
                last_routing = now
                node.post_stats()
                self._nodes.add(await asyncio.to_thread(node.routing_nodes))
            if now - last_save >= SAVE_EVERY_S:
                last_save = now
                await self._save_figures()
            ctx.heartbeat(items_seen=self._figures.fetched, items_new=self._figures.stored_new)
            await asyncio.sleep(HOUSEKEEPING_S)

    async def _save_figures(self) -> None:
        if self._state is None:
            return
        try:
            await self._state.save(SOURCE, self.figures().to_json())
        except Exception:  # figures are a convenience: never stop the crawl for them
            log.exception("could not save the DHT figures")


def _record(resolved: Resolved, *, keep_metainfo: bool) -> RawRecord:
    return RawRecord(
        source=SOURCE,
        title=resolved.name,
        info_hash=resolved.info_hash,
        size=resolved.total_size,
        files=resolved.files,
        seeders=resolved.peers,
        metainfo=resolved.metainfo if keep_metainfo else None,
    )


def _ip_endpoints(entries: list[str]) -> list[tuple[str, int]]:
    """Bootstrap entries that are IP addresses (names cannot be sampled directly)."""
    found: list[tuple[str, int]] = []
    for entry in entries:
        try:
            host, port = parse_endpoint(entry)
        except ValueError:
            continue
        if host.replace(".", "").isdigit() or ":" in host:
            found.append((host, port))
    return found


def _fresh_dir(path: Path) -> None:
    """An empty fetch directory (a crash may have left partial files of fetches)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
