"""`IngestSubmitter`: a worker's link to the central Minato, which must never lose a record.

A headless worker crawls and sends its records to the central ingest API
(`POST /api/ingest/bulk`, NDJSON, `X-Internal-Secret`). The central server can be
down, restarting or overloaded; so every batch is first written to a spool
directory (one NDJSON file per batch, written atomically), and a file is deleted
only after the server acknowledged it with a 2xx. Records survive a crash of the
worker and an outage of the server alike.

A circuit breaker watches the server: after repeated 5xx or transport errors it
opens, sending stops, and `wait_until_accepting()` holds crawls back (crawling
pauses) until a probe succeeds. The spool is bounded: when it is full `submit`
waits instead of dropping. Records the server refuses one by one (it answers
`rejected: [{index, error}]`) are kept in `rejected.ndjson` with the reason, and a
batch the server refuses whole (4xx) is moved there too: nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx

from engine.errors import CircuitOpen
from engine.net.breaker import BreakerSnapshot, BreakerState, CircuitBreaker
from engine.net.proxies import describe_failure, redact_url

log = logging.getLogger(__name__)

BULK_PATH: Final = "/api/ingest/bulk"
DEFAULT_MAX_SPOOL_BYTES: Final = 256 * 1024 * 1024
MAX_REJECTED_BYTES: Final = 64 * 1024 * 1024
"""`rejected.ndjson` stops growing here (a warning says so): a disk is finite."""
_SUFFIX: Final = ".ndjson"


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitterStatus:
    """What `minato worker` shows: the backlog, the server's breaker, the totals."""

    spooled_batches: int
    spooled_bytes: int
    sent_records: int
    rejected_records: int
    accepting: bool
    breaker: BreakerSnapshot
    last_error: str | None


class IngestSubmitter:
    """Sends spooled batches to the central ingest API, oldest first, exactly once each."""

    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        client: httpx.AsyncClient,
        spool_dir: Path,
        breaker: CircuitBreaker,
        max_spool_bytes: int = DEFAULT_MAX_SPOOL_BYTES,
        idle_s: float = 1.0,
    ) -> None:
        self._url = base_url.rstrip("/") + BULK_PATH
        self._headers = {"X-Internal-Secret": secret, "Content-Type": "application/x-ndjson"}
        self._client = client
        self._spool = spool_dir
        self._spool.mkdir(parents=True, exist_ok=True)
        self.breaker = breaker
        self._max_bytes = max_spool_bytes
        self._idle_s = idle_s
        self._sequence = max((_number(p) for p in self._files()), default=0)
        self._spooled_bytes = sum(p.stat().st_size for p in self._files())
        self._wake = asyncio.Event()  # a batch is waiting to be sent
        self._changed = asyncio.Event()  # the breaker or the spool changed
        self._space = asyncio.Condition()
        self._sent = 0
        self._rejected = 0
        self._last_error: str | None = None
        for leftover in self._spool.glob("*.tmp"):  # a write cut short by a crash: never acked
            leftover.unlink()

    # --- the crawling side ------------------------------------------------------------------

    async def submit(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Keep `records` for sending (on disk); waits while the spool is full, never drops.

        Raises:
            ValueError: a record cannot be written as JSON (a bug in the source).
        """
        if not records:
            return
        data = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
        body = data.encode("utf-8")
        async with self._space:
            await self._space.wait_for(
                lambda: (
                    self._spooled_bytes == 0 or self._spooled_bytes + len(body) <= self._max_bytes
                )
            )
            self._sequence += 1
            await asyncio.to_thread(self._write_batch, self._sequence, body)
            self._spooled_bytes += len(body)
        self._wake.set()
        self._changed.set()

    def accepting(self) -> bool:
        """Whether crawls should go on: the server's breaker is closed and the spool has room.

        While the breaker is open or probing (half-open) crawls wait: a probe that
        fails would otherwise let a whole crawl pile up behind a dead server.
        """
        return self.breaker.state is BreakerState.CLOSED and self._spooled_bytes < self._max_bytes

    async def wait_until_accepting(self) -> None:
        """Return once `accepting()`; crawls call this so they pause while the server is down."""
        while not self.accepting():
            self._changed.clear()
            await self._changed.wait()

    async def flush(self) -> None:
        """Wait until every spooled batch was acknowledged (for a clean shutdown or a test)."""
        while self._files():
            self._wake.set()
            self._changed.clear()
            await self._changed.wait()

    def status(self) -> SubmitterStatus:
        """The backlog and the server's health, for `minato worker` and its logs."""
        files = self._files()
        return SubmitterStatus(
            spooled_batches=len(files),
            spooled_bytes=self._spooled_bytes,
            sent_records=self._sent,
            rejected_records=self._rejected,
            accepting=self.accepting(),
            breaker=self.breaker.snapshot(),
            last_error=self._last_error,
        )

    def _has_room(self, size: int) -> bool:
        """Room for `size` more bytes; an empty spool takes any one batch, however large."""
        return self._spooled_bytes == 0 or self._spooled_bytes + size <= self._max_bytes

    # --- the sending side -------------------------------------------------------------------

    async def run(self) -> None:
        """Send batches until cancelled; a server outage only delays them."""
        while True:
            files = self._files()
            if not files:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._idle_s):
                        await self._wake.wait()
                continue
            try:
                self.breaker.before_request()
            except CircuitOpen as exc:
                await asyncio.sleep(max(exc.retry_after, 0.01))
                continue
            await self._send(files[0])

    async def _send(self, path: Path) -> None:
        body = await asyncio.to_thread(path.read_bytes)
        try:
            response = await self._client.post(self._url, content=body, headers=self._headers)
        except httpx.HTTPError as exc:
            self._failed(f"cannot reach {redact_url(self._url)}: {describe_failure(exc)}")
            return
        if response.status_code >= 500 or response.status_code in (408, 429):
            self._failed(f"the server answered HTTP {response.status_code}")
            return
        self.breaker.record_success()
        self._last_error = None
        self._changed.set()
        if response.is_success:
            rejected = _rejected_in(response)
            self._sent += body.count(b"\n") - len(rejected)
            if rejected:
                lines = body.decode("utf-8").splitlines()
                await self._keep_rejected(
                    [(lines[i], why) for i, why in rejected if 0 <= i < len(lines)]
                )
        else:  # 4xx: the whole batch is refused; waiting will not change that
            why = f"HTTP {response.status_code}: {response.text[:300]}"
            log.error("the central server refused a whole batch (%s); kept in rejected.ndjson", why)
            await self._keep_rejected([(line, why) for line in body.decode("utf-8").splitlines()])
        await self._done(path, len(body))

    def _failed(self, reason: str) -> None:
        self._last_error = reason
        self.breaker.record_failure(reason)
        self._changed.set()
        log.warning("ingest submission failed: %s; batches wait in %s", reason, self._spool)

    async def _done(self, path: Path, size: int) -> None:
        await asyncio.to_thread(path.unlink)
        async with self._space:
            self._spooled_bytes -= size
            self._space.notify_all()
        self._changed.set()

    async def _keep_rejected(self, rows: Sequence[tuple[str, str]]) -> None:
        self._rejected += len(rows)
        target = self._spool / "rejected.ndjson"
        text = "".join(
            json.dumps({"error": why, "record": line}, ensure_ascii=False) + "\n"
            for line, why in rows
        )

        def append() -> None:
            if target.exists() and target.stat().st_size + len(text) > MAX_REJECTED_BYTES:
                log.warning("%s is full: %d refused records are only counted", target, len(rows))
                return
            with target.open("a", encoding="utf-8") as handle:
                handle.write(text)

        await asyncio.to_thread(append)

    # --- the spool ----------------------------------------------------------------------------

    def _files(self) -> list[Path]:
        return sorted((p for p in self._spool.glob(f"*{_SUFFIX}") if p.stem.isdigit()), key=_number)

    def _write_batch(self, number: int, body: bytes) -> None:
        final = self._spool / f"{number:012d}{_SUFFIX}"
        partial = final.with_suffix(".tmp")
        with partial.open("wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(final)  # atomic: a batch is on disk whole or not at all


def _number(path: Path) -> int:
    return int(path.stem)


def _rejected_in(response: httpx.Response) -> list[tuple[int, str]]:
    """(index, reason) of the records the server refused, from its ingest report."""
    try:
        report = response.json()
    except ValueError:
        return []
    rejected = report.get("rejected") if isinstance(report, dict) else None
    if not isinstance(rejected, list):
        return []
    return [
        (item["index"], str(item.get("error", "")))
        for item in rejected
        if isinstance(item, dict) and isinstance(item.get("index"), int)
    ]
