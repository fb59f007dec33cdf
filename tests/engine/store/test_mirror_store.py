"""The store side of mirror health, on SQLite and PostgreSQL: mirrors, checks, choice, history.

What users depend on: the mirror list follows the config (order, additions,
removals) without losing what is known of the mirrors that stay; the last check
and the failure streak are right; one mirror per site is chosen; the history
stays short; and revision 0004 upgrades an existing database and downgrades cleanly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, inspect, select

from engine.errors import StoreError
from engine.store.database import Database, migrate_to_head
from engine.store.mirrors import (
    HISTORY_PER_MIRROR,
    MirrorCheck,
    MirrorState,
    MirrorStore,
    check_history,
    mirror_states,
    record_check,
    set_chosen,
    sync_mirrors,
)
from engine.store.schema import mirror_checks, site_mirrors
from engine.store.writer import Writer
from tests.engine.store.migration_support import downgrade_to, migration_engine, upgrade_to

A, B, C = "https://1337x.to", "https://1337x.st", "https://x1337x.ws"
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def write(writer: Writer, fn) -> None:
    writer.call(fn).result()


def states(database: Database, site: str | None = "1337x") -> list[MirrorState]:
    with database.reader.connect() as conn:
        return mirror_states(conn, site)


def history(database: Database, url: str, limit: int = 1000, site: str = "1337x"):
    with database.reader.connect() as conn:
        return check_history(conn, site, url, limit)


def check(url: str, at: datetime = T0, *, site: str = "1337x", **fields) -> MirrorCheck:
    values = {"online": True, "latency_ms": 120.0, "status": 200} | fields
    return MirrorCheck(site=site, url=url, checked_at=at, **values)


def count(database: Database, table) -> int:
    with database.reader.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_sync_adds_mirrors_in_config_order_with_unknown_health(
    database: Database, writer: Writer
) -> None:
    write(writer, lambda conn: sync_mirrors(conn, "1337x", [A, B, C]))
    assert states(database) == [
        MirrorState(site="1337x", url=A, position=0),
        MirrorState(site="1337x", url=B, position=1),
        MirrorState(site="1337x", url=C, position=2),
    ]
    first = states(database)[0]
    assert first.online is None
    assert not first.usable
    assert not first.known_bad


def test_sync_reorders_keeps_health_and_forgets_removed_mirrors(
    database: Database, writer: Writer
) -> None:
    def setup(conn) -> None:
        sync_mirrors(conn, "1337x", [A, B, C])
        record_check(conn, check(B, latency_ms=80.0))
        record_check(conn, check(C, online=False, error="ConnectError: refused"))
        set_chosen(conn, "1337x", B)

    write(writer, setup)
    write(writer, lambda conn: sync_mirrors(conn, "1337x", [B, A]))  # C dropped, B first

    got = states(database)
    assert [(s.url, s.position) for s in got] == [(B, 0), (A, 1)]
    assert got[0].latency_ms == 80.0
    assert got[0].online is True
    assert got[0].chosen
    assert history(database, C) == []  # its history went with it
    assert len(history(database, B)) == 1


def test_sync_touches_only_its_own_site(database: Database, writer: Writer) -> None:
    def setup(conn) -> None:
        sync_mirrors(conn, "1337x", [A])
        sync_mirrors(conn, "limetorrents", ["https://www.limetorrents.lol"])
        sync_mirrors(conn, "1337x", [B])

    write(writer, setup)
    assert [(s.site, s.url) for s in states(database, None)] == [
        ("1337x", B),
        ("limetorrents", "https://www.limetorrents.lol"),
    ]


def test_a_check_becomes_the_mirror_state(database: Database, writer: Writer) -> None:
    tokyo = timezone(timedelta(hours=9))
    at = datetime(2026, 11, 25, 21, 0, tzinfo=tokyo)

    def setup(conn) -> None:
        sync_mirrors(conn, "1337x", [A, B])
        record_check(
            conn,
            check(
                A,
                at,
                online=True,
                latency_ms=42.5,
                status=503,
                blocked="challenge: Cloudflare challenge page",
            ),
        )

    write(writer, setup)
    state = states(database)[0]
    assert state.online is True
    assert state.latency_ms == 42.5
    assert state.blocked == "challenge: Cloudflare challenge page"
    assert state.checked_at == at
    assert state.checked_at.tzinfo is UTC
    assert not state.usable
    assert state.known_bad
    assert state.consecutive_failures == 1  # a challenge page is not a success
    [row] = history(database, A)
    assert (row.online, row.status, row.blocked, row.checked_at) == (
        True,
        503,
        "challenge: Cloudflare challenge page",
        at,
    )


def test_failures_count_up_and_a_success_resets_them(database: Database, writer: Writer) -> None:
    write(writer, lambda conn: sync_mirrors(conn, "1337x", [A]))
    for i in range(3):
        failed = check(A, T0 + timedelta(minutes=i), online=False, latency_ms=None, error="x")
        write(writer, lambda conn, c=failed: record_check(conn, c))
    state = states(database)[0]
    assert (state.online, state.consecutive_failures, state.last_error) == (False, 3, "x")
    assert state.latency_ms is None

    write(writer, lambda conn: record_check(conn, check(A, T0 + timedelta(hours=1))))
    state = states(database)[0]
    assert (state.online, state.consecutive_failures, state.last_error) == (True, 0, None)


def test_a_check_of_an_unknown_mirror_adds_it_last(database: Database, writer: Writer) -> None:
    def setup(conn) -> None:
        sync_mirrors(conn, "1337x", [A, B])
        record_check(conn, check(C, online=False, error="refused"))
        record_check(conn, check("https://other.example", site="newsite"))

    write(writer, setup)
    assert [(s.url, s.position, s.consecutive_failures) for s in states(database)] == [
        (A, 0, 0),
        (B, 1, 0),
        (C, 2, 1),
    ]
    assert [s.position for s in states(database, "newsite")] == [0]


def test_one_mirror_per_site_is_chosen(database: Database, writer: Writer) -> None:
    def setup(conn) -> None:
        sync_mirrors(conn, "1337x", [A, B, C])
        sync_mirrors(conn, "yts", ["https://yts.mx"])
        set_chosen(conn, "yts", "https://yts.mx")
        set_chosen(conn, "1337x", A)
        set_chosen(conn, "1337x", C)

    write(writer, setup)
    assert [s.url for s in states(database) if s.chosen] == [C]
    assert [s.chosen for s in states(database, "yts")] == [True]

    write(writer, lambda conn: set_chosen(conn, "1337x", None))
    assert not any(s.chosen for s in states(database))
    assert [s.chosen for s in states(database, "yts")] == [True]


def test_history_is_newest_first_and_limited(database: Database, writer: Writer) -> None:
    def setup(conn) -> None:
        sync_mirrors(conn, "1337x", [A, B])
        for i in range(5):
            record_check(conn, check(A, T0 + timedelta(minutes=i), latency_ms=float(i)))
        record_check(conn, check(B))

    write(writer, setup)
    assert [c.latency_ms for c in history(database, A, limit=3)] == [4.0, 3.0, 2.0]
    assert [c.latency_ms for c in history(database, A)] == [4.0, 3.0, 2.0, 1.0, 0.0]
    assert history(database, A, limit=0) == []
    assert len(history(database, B)) == 1


def test_history_is_pruned_per_mirror_on_write(database: Database, writer: Writer) -> None:
    def setup(conn) -> None:
        sync_mirrors(conn, "1337x", [A, B])
        for i in range(8):
            record_check(conn, check(A, T0 + timedelta(minutes=i), latency_ms=float(i)), keep=5)
        for i in range(3):
            record_check(conn, check(B, T0 + timedelta(minutes=i)), keep=5)

    write(writer, setup)
    assert [c.latency_ms for c in history(database, A)] == [7.0, 6.0, 5.0, 4.0, 3.0]
    assert len(history(database, B)) == 3  # another mirror's checks are not touched


def test_default_retention_keeps_the_last_hundred(database: Database, writer: Writer) -> None:
    extra = 7

    def setup(conn) -> None:
        sync_mirrors(conn, "1337x", [A])
        for i in range(HISTORY_PER_MIRROR + extra):
            record_check(conn, check(A, T0 + timedelta(seconds=i), latency_ms=float(i)))

    write(writer, setup)
    assert HISTORY_PER_MIRROR == 100
    assert count(database, mirror_checks) == HISTORY_PER_MIRROR
    kept = history(database, A)
    assert kept[0].latency_ms == HISTORY_PER_MIRROR + extra - 1
    assert kept[-1].latency_ms == extra


async def test_mirror_store_goes_through_the_writer(database: Database, writer: Writer) -> None:
    store = MirrorStore(database.reader, writer)
    synced = await store.sync("1337x", [A, B])
    assert [s.url for s in synced] == [A, B]
    saved = await store.save(
        "1337x", [check(A, online=False, error="refused"), check(B, latency_ms=99.0)], B
    )
    assert [(s.url, s.online, s.chosen) for s in saved] == [(A, False, False), (B, True, True)]
    assert await store.states("1337x") == saved
    assert [c.error for c in await store.history("1337x", A)] == ["refused"]


async def test_an_unchanged_config_costs_no_write(database: Database, writer: Writer) -> None:
    await MirrorStore(database.reader, writer).sync("1337x", [A, B])
    stopped = Writer(database.writer)  # never started: any write would raise StoreError
    store = MirrorStore(database.reader, stopped)
    assert [s.url for s in await store.sync("1337x", [A, B])] == [A, B]
    with pytest.raises(StoreError, match="not running"):
        await store.sync("1337x", [B, A])


def test_revision_0004_upgrades_and_downgrades(database_url: str) -> None:
    """From a database at 0003 (as users have it) to head and back: the new tables only."""
    with migration_engine(database_url) as engine:
        upgrade_to(engine, "0003")
        before = set(inspect(engine).get_table_names())
        assert "site_mirrors" not in before

        migrate_to_head(engine)
        inspector = inspect(engine)
        later = {"feeds", "source_state", "live_searches"}  # tables of later revisions
        assert (
            set(inspector.get_table_names()) == before | {"site_mirrors", "mirror_checks"} | later
        )
        assert inspector.get_pk_constraint("site_mirrors")["constrained_columns"] == ["site", "url"]
        assert [(i["name"], i["column_names"]) for i in inspector.get_indexes("mirror_checks")] == [
            ("ix_mirror_checks_site_url_checked_at", ["site", "url", "checked_at"])
        ]
        with engine.begin() as conn:
            sync_mirrors(conn, "1337x", [A, B])
            record_check(conn, check(A))
            set_chosen(conn, "1337x", A)
        with engine.connect() as conn:
            assert [s.chosen for s in mirror_states(conn, "1337x")] == [True, False]

        downgrade_to(engine, "0003")
        assert set(inspect(engine).get_table_names()) == before

        migrate_to_head(engine)  # and up again, on the downgraded database
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(site_mirrors)).scalar_one() == 0
