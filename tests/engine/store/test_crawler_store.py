"""The crawler status store, on SQLite and PostgreSQL: what the scheduler saves survives a restart.

What users depend on: every figure of a `CrawlerStatus` comes back as it was saved
(times tz-aware UTC), a save replaces the source's row instead of adding one, the
user's stop is kept across a restart of the scheduler, and revision 0005 upgrades a
database that already has `crawler_status` rows (they get `enabled` and zero counters)
and downgrades cleanly.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, inspect, select, text

from engine.errors import StoreError
from engine.scheduler import (
    CrawlContext,
    CrawlerState,
    CrawlerStatus,
    RunResult,
    ScheduledSource,
    Scheduler,
)
from engine.store.crawlers import CrawlerStatusStore, load_statuses, save_status
from engine.store.database import Database, migrate_to_head
from engine.store.schema import crawler_status
from engine.store.writer import Writer
from tests.engine.store.migration_support import downgrade_to, migration_engine, upgrade_to

T0 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
NEW_COLUMNS = {
    "enabled",
    "message",
    "started_at",
    "finished_at",
    "last_duration_s",
    "items_seen",
    "runs",
    "consecutive_failures",
}


def full_status(source: str = "1337x", **changes: object) -> CrawlerStatus:
    values: dict[str, object] = {
        "source": source,
        "state": CrawlerState.BACKING_OFF,
        "enabled": True,
        "message": "retrying in 2 min",
        "last_heartbeat": T0 + timedelta(seconds=41),
        "started_at": T0,
        "finished_at": T0 + timedelta(seconds=42),
        "last_duration_s": 42.125,
        "items_seen": 310,
        "items_new": 12,
        "items_total": 98_765_432_101,  # past 32 bits: a DHT crawler counts for years
        "runs": 57,
        "consecutive_failures": 2,
        "next_run_at": T0 + timedelta(minutes=2),
        "last_error": "AllMirrorsDown: 1337x: no mirror answered (1337x.to: refused)",
    }
    values.update(changes)
    return CrawlerStatus(**values)  # type: ignore[arg-type]


@pytest.fixture
def store(database: Database, writer: Writer) -> CrawlerStatusStore:
    return CrawlerStatusStore(database.reader, writer)


async def test_every_field_survives_a_save(store: CrawlerStatusStore) -> None:
    saved = full_status()
    await store.save(saved)
    loaded = store.load()
    assert loaded == {"1337x": saved}
    assert loaded["1337x"].started_at is not None
    assert loaded["1337x"].started_at.tzinfo is UTC


async def test_a_fresh_status_with_nothing_set(store: CrawlerStatusStore) -> None:
    await store.save(CrawlerStatus(source="yts"))
    assert store.load() == {"yts": CrawlerStatus(source="yts")}


async def test_a_save_replaces_the_row_of_its_source_only(
    store: CrawlerStatusStore, database: Database
) -> None:
    await store.save(full_status("1337x"))
    await store.save(full_status("eztv", state=CrawlerState.RUNNING, message=None))
    tokyo = timezone(timedelta(hours=9))
    later = full_status(
        "1337x",
        state=CrawlerState.DISABLED,
        enabled=False,
        message="stopped",
        finished_at=datetime(2026, 11, 26, 20, 0, tzinfo=tokyo),
        next_run_at=None,
        last_error=None,
        runs=58,
    )
    await store.save(later)

    loaded = store.load()
    assert list(loaded) == ["1337x", "eztv"]
    assert loaded["1337x"] == later
    assert loaded["1337x"].finished_at == datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    assert loaded["eztv"].state is CrawlerState.RUNNING
    with database.reader.connect() as conn:
        assert conn.execute(select(func.count()).select_from(crawler_status)).scalar_one() == 2


async def test_saves_in_a_burst_keep_the_last(store: CrawlerStatusStore) -> None:
    await asyncio.gather(*(store.save(full_status(items_seen=n)) for n in range(20)))
    assert store.load()["1337x"].items_seen == 19  # the writer runs them in call order


def test_an_unknown_stored_state_reads_as_idle(database: Database, writer: Writer) -> None:
    writer.call(lambda conn: save_status(conn, full_status())).result()
    with database.writer.begin() as conn:
        conn.execute(text("UPDATE crawler_status SET state = 'hibernating'"))
    with database.reader.connect() as conn:
        assert load_statuses(conn)["1337x"].state is CrawlerState.IDLE


async def test_a_stopped_writer_is_a_store_error(database: Database) -> None:
    stopped = CrawlerStatusStore(database.reader, Writer(database.writer))  # never started
    with pytest.raises(StoreError, match="not running"):
        await stopped.save(full_status())
    assert stopped.load() == {}


async def test_the_scheduler_keeps_totals_and_the_users_stop_across_a_restart(
    store: CrawlerStatusStore,
) -> None:
    runs: list[str] = []

    async def crawl(ctx: CrawlContext) -> RunResult:
        runs.append(ctx.crawl_id)
        ctx.heartbeat(items_seen=5, items_new=3)
        return RunResult(items_seen=5, items_new=3)

    source = ScheduledSource(id="1337x", every_s=3600.0, run=crawl)
    first = Scheduler([source], store=store)
    task = asyncio.create_task(first.run())
    for _ in range(200):
        if first.status("1337x").runs == 1:
            break
        await asyncio.sleep(0.01)
    await first.stop("1337x")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    saved = store.load()["1337x"]
    assert (saved.state, saved.enabled, saved.runs, saved.items_total) == (
        CrawlerState.DISABLED,
        False,
        1,
        3,
    )
    again = Scheduler([source], store=store)
    status = again.status("1337x")
    assert (status.state, status.enabled, status.runs, status.items_total) == (
        CrawlerState.DISABLED,
        False,
        1,
        3,
    )
    assert runs == ["1337x#1"]


def test_revision_0005_upgrades_existing_rows_and_downgrades(database_url: str) -> None:
    """A database at 0004 with a status row (as users have it) to head and back."""
    with migration_engine(database_url) as engine:
        upgrade_to(engine, "0004")
        old_columns = {c["name"] for c in inspect(engine).get_columns("crawler_status")}
        assert not old_columns & NEW_COLUMNS
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO crawler_status (source, state, items_new, items_total)"
                    " VALUES ('eztv', 'idle', 4, 900)"
                )
            )

        migrate_to_head(engine)
        columns = {c["name"]: c for c in inspect(engine).get_columns("crawler_status")}
        assert set(columns) == old_columns | NEW_COLUMNS
        for name in ("enabled", "items_seen", "runs", "consecutive_failures"):
            assert columns[name]["nullable"] is False, name
            assert columns[name]["default"] is None, name  # only there while adding the column
        with engine.connect() as conn:
            status = load_statuses(conn)["eztv"]
        assert status == CrawlerStatus(
            source="eztv", state=CrawlerState.IDLE, items_new=4, items_total=900
        )
        with engine.begin() as conn:
            save_status(conn, full_status("eztv"))
        with engine.connect() as conn:
            assert load_statuses(conn)["eztv"] == full_status("eztv")

        downgrade_to(engine, "0004")
        assert {c["name"] for c in inspect(engine).get_columns("crawler_status")} == old_columns
        with engine.connect() as conn:
            assert conn.execute(text("SELECT items_total FROM crawler_status")).scalar_one() == (
                full_status().items_total
            )

        migrate_to_head(engine)  # and up again, on the downgraded database
        with engine.connect() as conn:
            assert load_statuses(conn)["eztv"].enabled is True
