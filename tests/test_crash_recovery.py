"""The crash test: kill -9 `minato serve` in the middle of a bulk-ingest stream, restart it on
the same data, and find every acknowledged record in the database and, once the drainer has
caught up, in search. A request that got no answer is all-or-nothing (never half-written).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import NDJSON_TYPE, ServerProcess, ndjson

pytestmark = pytest.mark.slow

BATCH = 200
KILL_AFTER = 300  # acknowledged batches (60,000 records) before the kill...
KILL_AFTER_S = 25.0  # ...or this long after the first start, on a slow or busy machine
MIN_ACKED = 20  # the kill must come mid-stream, after real acknowledged work
STREAMS = 2  # concurrent clients, so the writer's group commits are in play
DEADLINE_S = 60.0


def batch_word(stream: int, number: int) -> str:
    """One search word that every record of a batch carries, and no other record."""
    return f"crashs{stream}b{number:05d}"


def batch_records(stream: int, number: int) -> list[dict[str, object]]:
    word = batch_word(stream, number)
    return [
        {
            "info_hash": hashlib.sha1(f"{word}-{i}".encode(), usedforsecurity=False).hexdigest(),
            "title": f"Crash.Recovery.{word}.Item{i:03d}.1080p.WEB-DL.x264-GRP",
            "source": f"stream-{stream}",
            "seeders": i,
            "size": 1_000_000 + i,
        }
        for i in range(BATCH)
    ]


@dataclass
class Stream:
    """One client posting batches until told to stop or the server dies."""

    number: int
    url: str
    key: str
    acked: list[int] = field(default_factory=list)
    unanswered: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        headers = {"X-Api-Key": self.key, "Content-Type": NDJSON_TYPE}
        with httpx.Client(base_url=self.url, timeout=30) as client:
            batch = 0
            while not stop.is_set():
                body = ndjson(batch_records(self.number, batch))
                try:
                    resp = client.post("/api/ingest/bulk", content=body, headers=headers)
                except httpx.TransportError:
                    self.unanswered.append(batch)  # the server died with it in flight
                    return
                if resp.status_code != 200:
                    self.errors.append(f"batch {batch}: {resp.status_code} {resp.text[:200]}")
                    return
                answer = resp.json()
                if answer["created"] != BATCH or answer["rejected"]:
                    self.errors.append(f"batch {batch}: unexpected answer {answer}")
                    return
                self.acked.append(batch)
                batch += 1


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def server(tmp_path: Path, data_dir: Path, database_url: str) -> Iterator[ServerProcess]:
    proc = ServerProcess(
        data_dir,
        tmp_path / "absent.toml",
        MINATO_DATABASE_URL=database_url,
        MINATO_PIPELINE__CLASSIFY="false",
    )
    yield proc
    proc.close()


def wait_for_backlog_to_clear(client: httpx.Client, deadline: float) -> dict[str, object]:
    while True:
        health = client.get("/api/health").json()
        if health["index_backlog"] == 0:
            return health  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"the drainer did not catch up: {health}"
        time.sleep(0.2)


def test_acknowledged_records_survive_kill_9(server: ServerProcess) -> None:
    started = time.monotonic()
    server.start()
    key = server.first_key
    assert key is not None, server.output()

    stop = threading.Event()
    streams = [Stream(n, server.url, key) for n in range(STREAMS)]
    threads = [threading.Thread(target=s.run, args=(stop,), daemon=True) for s in streams]
    for thread in threads:
        thread.start()
    while True:
        done = sum(len(s.acked) for s in streams)
        if done >= KILL_AFTER or (done >= MIN_ACKED and time.monotonic() - started > KILL_AFTER_S):
            break
        assert all(t.is_alive() for t in threads), [s.errors for s in streams]
        assert time.monotonic() - started < DEADLINE_S, "ingest too slow to reach the kill"
        time.sleep(0.01)
    server.kill()  # SIGKILL, mid-stream
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(s.errors for s in streams), [s.errors for s in streams]
    acked = {(s.number, b) for s in streams for b in s.acked}
    unanswered = {(s.number, b) for s in streams for b in s.unanswered}
    assert len(acked) >= MIN_ACKED

    server.start()
    assert server.first_key is None  # same data dir: no new first key
    with httpx.Client(base_url=server.url, timeout=30, headers={"X-Api-Key": key}) as client:
        # The database: the count covers every acknowledged batch, plus whole unanswered ones.
        stored = client.get("/api/health").json()["torrents"]
        extra = stored - len(acked) * BATCH
        assert extra % BATCH == 0, f"a batch was half-written: {stored} torrents"
        assert 0 <= extra // BATCH <= len(unanswered)
        # The last acknowledged batches (the ones most at risk), record by record.
        for stream in streams:
            for batch in stream.acked[-3:]:
                for rec in batch_records(stream.number, batch):
                    resp = client.get(f"/api/torrents/{rec['info_hash']}")
                    assert resp.status_code == 200, (stream.number, batch, resp.text)
                    assert resp.json()["title"] == rec["title"]

        # The search index catches up on the outbox the crash left behind.
        wait_for_backlog_to_clear(client, started + DEADLINE_S + 30)
        everything = client.get("/api/search", params={"q": "crash recovery", "limit": 1})
        assert everything.json()["total"] == stored
        for stream_no, batch in sorted(acked):
            resp = client.get("/api/search", params={"q": batch_word(stream_no, batch)})
            assert resp.status_code == 200
            assert resp.json()["total"] == BATCH, (stream_no, batch)
        for stream_no, batch in unanswered:  # all or nothing
            resp = client.get("/api/search", params={"q": batch_word(stream_no, batch)})
            assert resp.json()["total"] in (0, BATCH)

    assert server.stop() == 0, server.output()
