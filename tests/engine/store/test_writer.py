"""The single Writer: group commit, failure isolation, orderly stop.

To make grouping deterministic, a "gate" call job holds the writer thread while
the jobs under test queue up behind it; releasing the gate lets the writer take
them all at once, as it would under concurrent ingest.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, func, insert, select

from engine.errors import StoreError
from engine.models import ClassifiedRecord, FileEntry, TorrentRecord
from engine.store.database import Database
from engine.store.schema import api_keys, index_outbox, torrents
from engine.store.writer import Writer

TITLES = [
    "Ubuntu 24.04 LTS Desktop amd64",
    "Debian 12.5.0 amd64 DVD",
    "Fedora Workstation 40 x86_64 Live",
    "Arch Linux 2024.05.01 x86_64",
    "Linux Mint 21.3 Cinnamon 64bit",
    "openSUSE Tumbleweed DVD x86_64 Snapshot20240501",
]


def info_hash(n: int) -> str:
    return f"{n + 1:040x}"


def rec(n: int, **fields: object) -> ClassifiedRecord:
    return ClassifiedRecord(
        record=TorrentRecord(
            info_hash=info_hash(n),
            title=TITLES[n % len(TITLES)],
            source="1337x",
            seen_at=datetime.now(UTC),
            **fields,  # type: ignore[arg-type]
        ),
        classification=None,
    )


def broken(n: int) -> ClassifiedRecord:
    """Fails inside the upsert (a file row without a size violates NOT NULL)."""
    return rec(n, size=10, files=(FileEntry(path="disc.iso", size=None),))  # type: ignore[arg-type]


class Commits:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
def commits() -> Commits:
    return Commits()


@pytest.fixture
def writer(database: Database, commits: Commits) -> Iterator[Writer]:
    w = Writer(database.writer, on_commit=commits)
    w.start()
    yield w
    w.stop()


def hold(writer: Writer) -> tuple[threading.Event, Future[None]]:
    """Block the writer thread until the returned event is set."""
    entered, release = threading.Event(), threading.Event()

    def gate(_conn: Connection) -> None:
        entered.set()
        assert release.wait(30)

    done = writer.call(gate)
    assert entered.wait(10)
    return release, done


def stored_hashes(database: Database) -> set[str]:
    with database.reader.connect() as conn:
        return set(conn.execute(select(torrents.c.info_hash)).scalars())


def test_upsert_reports_created_flags_after_commit(
    database: Database, writer: Writer, commits: Commits
) -> None:
    assert writer.upsert([rec(0), rec(1)]).result(timeout=30) == [True, True]
    assert commits.count == 1
    assert stored_hashes(database) == {info_hash(0), info_hash(1)}


def test_concurrent_jobs_share_one_transaction(
    database: Database, writer: Writer, commits: Commits
) -> None:
    release, gate_done = hold(writer)
    with ThreadPoolExecutor(max_workers=6) as pool:  # six "requests" at once
        futures = list(pool.map(lambda n: writer.upsert([rec(n)]), range(6)))
    release.set()
    assert [f.result(timeout=30) for f in futures] == [[True]] * 6
    gate_done.result(timeout=30)
    assert commits.count == 2  # the gate's transaction, then one for all six jobs
    assert stored_hashes(database) == {info_hash(n) for n in range(6)}


def test_group_commit_respects_batch_records(database: Database, commits: Commits) -> None:
    writer = Writer(database.writer, batch_records=2, on_commit=commits)
    writer.start()
    try:
        release, _ = hold(writer)
        futures = [writer.upsert([rec(n)]) for n in range(6)]
        release.set()
        assert [f.result(timeout=30) for f in futures] == [[True]] * 6
    finally:
        writer.stop()
    assert commits.count == 1 + 3  # gate + three groups of two jobs


def test_a_failing_upsert_does_not_sink_its_group(
    database: Database, writer: Writer, commits: Commits
) -> None:
    release, _ = hold(writer)
    good_before = writer.upsert([rec(0), rec(1)])
    bad = writer.upsert([rec(2), broken(3)])
    good_after = writer.upsert([rec(4)])
    release.set()
    assert good_before.result(timeout=30) == [True, True]
    assert good_after.result(timeout=30) == [True]
    with pytest.raises(StoreError, match="database write failed"):
        bad.result(timeout=30)
    assert stored_hashes(database) == {info_hash(0), info_hash(1), info_hash(4)}
    assert commits.count == 1 + 2  # gate, then each good job alone after the group failed
    with database.reader.connect() as conn:
        outbox = set(conn.execute(select(index_outbox.c.info_hash)).scalars())
    assert outbox == {info_hash(0), info_hash(1), info_hash(4)}


def test_a_raising_call_job_affects_nothing_else(database: Database, writer: Writer) -> None:
    def insert_then_fail(conn: Connection) -> None:
        conn.execute(
            insert(api_keys).values(
                name="lidarr", prefix="deadbeef", key_hash="d" * 64, created_at=datetime.now(UTC)
            )
        )
        raise ValueError("the caller's own bug")

    release, _ = hold(writer)
    before = writer.upsert([rec(0)])
    failing = writer.call(insert_then_fail)
    after = writer.upsert([rec(1)])
    release.set()
    with pytest.raises(ValueError, match="the caller's own bug"):
        failing.result(timeout=30)
    assert before.result(timeout=30) == [True]
    assert after.result(timeout=30) == [True]
    with database.reader.connect() as conn:
        assert conn.execute(select(func.count()).select_from(api_keys)).scalar_one() == 0
    # and the writer thread is still serving
    assert writer.call(lambda conn: 42).result(timeout=30) == 42


def test_call_runs_in_order_between_upserts(writer: Writer) -> None:
    release, _ = hold(writer)
    first = writer.upsert([rec(0)])
    seen = writer.call(lambda conn: set(conn.execute(select(torrents.c.info_hash)).scalars()))
    second = writer.upsert([rec(1)])
    release.set()
    assert first.result(timeout=30) == [True]
    assert seen.result(timeout=30) == {info_hash(0)}  # after the first upsert, before the second
    assert second.result(timeout=30) == [True]


def test_stop_finishes_queued_jobs(database: Database, commits: Commits) -> None:
    writer = Writer(database.writer, on_commit=commits)
    writer.start()
    release, _ = hold(writer)
    futures = [writer.upsert([rec(n)]) for n in range(5)]
    called = writer.call(lambda conn: "done")
    stopper = threading.Thread(target=writer.stop)
    stopper.start()
    release.set()
    stopper.join(30)
    assert not stopper.is_alive()
    assert all(f.done() for f in futures)
    assert called.result(timeout=0) == "done"
    assert stored_hashes(database) == {info_hash(n) for n in range(5)}
    with pytest.raises(StoreError, match="not running"):
        writer.upsert([rec(9)])


def test_jobs_before_start_are_refused(database: Database) -> None:
    writer = Writer(database.writer)
    with pytest.raises(StoreError, match="not running"):
        writer.call(lambda conn: None)
    writer.stop()  # stopping a writer that never started is harmless


def test_many_threads_many_jobs(database: Database, writer: Writer) -> None:
    """A burst from 16 threads: every job resolves, every torrent is stored once."""

    def job(n: int) -> Future[list[bool]]:
        return writer.upsert([rec(n), rec(n + 1000)])

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = list(pool.map(job, range(200)))
    results = [f.result(timeout=60) for f in futures]
    assert results == [[True, True]] * 200
    assert len(stored_hashes(database)) == 400


def test_a_caller_that_gives_up_does_not_kill_the_writer(
    database: Database, writer: Writer
) -> None:
    """An awaiting coroutine cancelled mid-write (shutdown) cancels its future from outside."""
    release, gate = hold(writer)
    queued_upsert = writer.upsert([rec(0)])
    queued_call = writer.call(lambda conn: 1)
    assert queued_upsert.cancel()  # still queued: it will be skipped
    assert queued_call.cancel()
    release.set()
    gate.result(timeout=30)

    running_started, finish = threading.Event(), threading.Event()

    def slow(_conn: Connection) -> str:
        running_started.set()
        assert finish.wait(30)
        return "done"

    running = writer.call(slow)
    assert running_started.wait(10)
    assert not running.cancel()  # running: too late to cancel, the result will land
    finish.set()
    assert running.result(timeout=30) == "done"
    assert writer.upsert([rec(1)]).result(timeout=30) == [True]  # the thread is alive
    assert stored_hashes(database) == {info_hash(1)}  # the cancelled upsert never ran
