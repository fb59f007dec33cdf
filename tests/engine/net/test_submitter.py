"""The worker's submitter: batches reach the central server exactly once, whatever happens.

Against a local server that fails on command (503, refused connections, 4xx); the
real Minato app is in tests/server/test_worker_submission.py. The breaker opens and
crawling pauses, batches wait on disk and are sent in order once the server
recovers, a restart resumes the spool, a full spool makes `submit` wait instead of
dropping, refused records are kept with their reason.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from engine.net.breaker import BreakerState, CircuitBreaker
from engine.net.submitter import IngestSubmitter
from tests.crawl_support import free_port

SECRET = "worker-secret-for-tests"  # noqa: S105 - a test secret


@dataclass
class Central:
    """A stand-in for the central ingest API that answers what the test queues."""

    answers: list[int] = field(default_factory=list)
    received: list[list[dict[str, Any]]] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)

    async def bulk(self, request: web.Request) -> web.Response:
        self.secrets.add(request.headers.get("X-Internal-Secret", ""))
        status = self.answers.pop(0) if self.answers else 200
        if status != 200:
            return web.Response(status=status, text="not now")
        records = [json.loads(line) for line in (await request.text()).splitlines()]
        self.received.append(records)
        rejected = [
            {"index": i, "error": "title: required"} for i, r in enumerate(records) if "bad" in r
        ]
        report = {"created": len(records) - len(rejected), "updated": 0, "rejected": rejected}
        return web.json_response(report)

    def titles(self) -> list[str]:
        return [r["title"] for batch in self.received for r in batch]


@asynccontextmanager
async def serving(central: Central, port: int) -> AsyncIterator[None]:
    app = web.Application()
    app.router.add_post("/api/ingest/bulk", central.bulk)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield
    finally:
        await runner.cleanup()


@asynccontextmanager
async def submitter(
    base_url: str, spool: Path, *, max_spool_bytes: int = 1 << 20, run: bool = True
) -> AsyncIterator[IngestSubmitter]:
    async with httpx.AsyncClient(timeout=2.0) as client:
        made = IngestSubmitter(
            base_url,
            SECRET,
            client=client,
            spool_dir=spool,
            breaker=CircuitBreaker("central", failure_threshold=2, cooldown=0.2, max_cooldown=0.4),
            max_spool_bytes=max_spool_bytes,
            idle_s=0.05,
        )
        task = asyncio.create_task(made.run()) if run else None
        try:
            yield made
        finally:
            if task is not None:
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task


def batch(*titles: str) -> list[dict[str, Any]]:
    return [
        {"title": t, "source": "worker", "info_hash": f"{abs(hash(t)):040x}"[:40]} for t in titles
    ]


async def until(check: Callable[[], bool]) -> None:
    """Poll a state that has no event of its own (the breaker), for at most 10 s."""
    async with asyncio.timeout(10):
        while not check():  # noqa: ASYNC110 - nothing to wait on but time
            await asyncio.sleep(0.01)


def partial_writes(spool: Path) -> list[Path]:
    return list(spool.glob("*.tmp"))


def spooled(spool: Path) -> list[str]:
    return sorted(p.name for p in spool.glob("*.ndjson") if p.stem.isdigit())


async def test_batches_arrive_in_order_with_the_secret(tmp_path: Path) -> None:
    central, port = Central(), free_port()
    async with serving(central, port), submitter(f"http://127.0.0.1:{port}", tmp_path) as sub:
        await sub.submit(batch("a", "b"))
        await sub.submit(batch("c"))
        await sub.submit([])  # nothing to send: no empty batch
        await asyncio.wait_for(sub.flush(), 10)
        assert sub.status().sent_records == 3
    assert central.titles() == ["a", "b", "c"]
    assert central.secrets == {SECRET}
    assert spooled(tmp_path) == []


async def test_an_outage_opens_the_breaker_pauses_crawling_and_loses_nothing(
    tmp_path: Path,
) -> None:
    central, port = Central(answers=[503, 503, 503, 500]), free_port()
    async with serving(central, port), submitter(f"http://127.0.0.1:{port}", tmp_path) as sub:
        await sub.submit(batch("first"))
        await sub.submit(batch("second"))
        await until(lambda: sub.breaker.state is BreakerState.OPEN)
        assert not sub.accepting()
        paused = asyncio.create_task(sub.wait_until_accepting())
        await asyncio.sleep(0.05)
        assert not paused.done()  # crawls wait while the server is down
        assert len(spooled(tmp_path)) == 2  # on disk meanwhile
        await asyncio.wait_for(paused, 10)  # the server came back: crawling resumes
        await asyncio.wait_for(sub.flush(), 10)
        status = sub.status()
    assert central.titles() == ["first", "second"]  # once each, in order
    assert status.breaker.state == BreakerState.CLOSED.value or status.accepting
    assert status.last_error is None


async def test_a_server_that_is_not_there_yet(tmp_path: Path) -> None:
    central, port = Central(), free_port()
    async with submitter(f"http://127.0.0.1:{port}", tmp_path) as sub:
        await sub.submit(batch("early"))
        await until(lambda: sub.breaker.state is not BreakerState.CLOSED)
        assert "cannot reach http://127.0.0.1" in (sub.status().last_error or "")
        async with serving(central, port):
            await asyncio.wait_for(sub.flush(), 10)
    assert central.titles() == ["early"]


async def test_a_restarted_worker_sends_what_the_last_one_spooled(tmp_path: Path) -> None:
    central, port = Central(), free_port()
    url = f"http://127.0.0.1:{port}"
    async with submitter(url, tmp_path, run=False) as first:
        await first.submit(batch("one"))
        await first.submit(batch("two"))
    (tmp_path / "000000000099.tmp").write_text('{"title": "half-written"}\n')  # a crash
    assert len(spooled(tmp_path)) == 2
    async with serving(central, port), submitter(url, tmp_path) as second:
        assert second.status().spooled_batches == 2
        await second.submit(batch("three"))
        await asyncio.wait_for(second.flush(), 10)
    assert central.titles() == ["one", "two", "three"]
    assert not partial_writes(tmp_path)


async def test_a_full_spool_makes_submit_wait_instead_of_dropping(tmp_path: Path) -> None:
    central, port = Central(), free_port()
    url = f"http://127.0.0.1:{port}"
    async with submitter(url, tmp_path, max_spool_bytes=150) as sub:
        await sub.submit(batch("x" * 60))  # fills the spool (nobody is listening yet)
        waiting = asyncio.create_task(sub.submit(batch("y" * 60)))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        assert not sub.accepting()
        async with serving(central, port):
            await asyncio.wait_for(waiting, 10)
            await asyncio.wait_for(sub.flush(), 10)
    assert central.titles() == ["x" * 60, "y" * 60]


async def test_refused_records_are_kept_with_their_reason(tmp_path: Path) -> None:
    central, port = Central(answers=[200, 413]), free_port()
    async with serving(central, port), submitter(f"http://127.0.0.1:{port}", tmp_path) as sub:
        await sub.submit([*batch("good"), {"bad": True, "source": "worker"}])
        await sub.submit(batch("too", "big"))  # the server refuses this whole batch
        await asyncio.wait_for(sub.flush(), 10)
        status = sub.status()
    assert (status.sent_records, status.rejected_records) == (1, 3)
    kept = [json.loads(line) for line in (tmp_path / "rejected.ndjson").read_text().splitlines()]
    assert kept[0]["error"] == "title: required"
    assert json.loads(kept[0]["record"]) == {"bad": True, "source": "worker"}
    assert [json.loads(k["record"])["title"] for k in kept[1:]] == ["too", "big"]
    assert kept[1]["error"].startswith("HTTP 413")
    assert spooled(tmp_path) == []  # not retried forever
