"""Opening the database: Alembic migrations at start, SQLite pragmas, UTC columns.

Every test runs on SQLite and (when MINATO_TEST_DATABASE_URL is set) PostgreSQL,
except the ones about SQLite's own pragmas.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, delete, func, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, StatementError

from engine.core import Core
from engine.errors import StoreError
from engine.store.database import (
    SQLITE_FILE,
    Database,
    migrate_to_head,
    open_database,
    sqlite_url,
)
from engine.store.schema import (
    api_keys,
    files,
    metadata,
    metainfo,
    sightings,
    torrents,
)
from tests.conftest import SettingsFactory
from tests.engine.store.migration_support import alembic_config

UBUNTU = "14ffe5dd23188fd5cb53a1d47f1289db70abf31e"


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def applied_revisions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def schema_snapshot(engine: Engine) -> dict[str, Any]:
    """Tables, columns, indexes and foreign keys as the database reports them."""
    inspector = inspect(engine)
    snapshot: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        snapshot[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)
            ),
            "fks": sorted(
                (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "pk": tuple(inspector.get_pk_constraint(table)["constrained_columns"]),
        }
    return snapshot


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = open_database(database_url)
    yield db
    db.dispose()


def add_torrent(
    conn: Any, info_hash: str = UBUNTU, title: str = "ubuntu-24.04-desktop-amd64.iso"
) -> None:
    now = datetime.now(UTC)
    conn.execute(
        insert(torrents).values(
            info_hash=info_hash, title=title, file_count=1, first_seen=now, last_seen=now
        )
    )


def test_fresh_database_gets_every_table_at_head(database: Database) -> None:
    tables = set(inspect(database.reader).get_table_names())
    assert tables == {*metadata.tables, "alembic_version"}
    assert applied_revisions(database.reader) == [head_revision()]


def test_open_without_migrate_creates_nothing(database_url: str) -> None:
    db = open_database(database_url, migrate=False)
    try:
        assert inspect(db.reader).get_table_names() == []
    finally:
        db.dispose()


def test_migrating_again_is_a_noop_and_keeps_data(database_url: str) -> None:
    first = open_database(database_url)
    with first.writer.begin() as conn:
        add_torrent(conn)
    before = schema_snapshot(first.reader)
    migrate_to_head(first.writer)  # explicitly, on an up-to-date database
    first.dispose()

    second = open_database(database_url)  # and implicitly, as every start does
    try:
        assert schema_snapshot(second.reader) == before
        assert applied_revisions(second.reader) == [head_revision()]
        with second.reader.connect() as conn:
            titles = conn.execute(select(torrents.c.title)).scalars().all()
        assert titles == ["ubuntu-24.04-desktop-amd64.iso"]
    finally:
        second.dispose()


def test_migrated_schema_matches_the_metadata(database: Database) -> None:
    """Alembic's autogenerate finds nothing to add, drop or alter: revisions == schema.py."""
    with database.writer.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_foreign_keys_cascade_from_torrents(database: Database) -> None:
    now = datetime.now(UTC)
    with database.writer.begin() as conn:
        add_torrent(conn)
        conn.execute(insert(files).values(info_hash=UBUNTU, path="ubuntu.iso", size=5))
        conn.execute(
            insert(sightings).values(source="1337x", info_hash=UBUNTU, first_seen=now, seen_at=now)
        )
        conn.execute(insert(metainfo).values(info_hash=UBUNTU, data=b"d4:infod4:name1:xee"))
    with database.writer.begin() as conn:
        conn.execute(delete(torrents).where(torrents.c.info_hash == UBUNTU))
    with database.reader.connect() as conn:
        for table in (files, sightings, metainfo):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0


def test_orphan_rows_are_refused(database: Database) -> None:
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"), database.writer.begin() as conn:
        conn.execute(insert(files).values(info_hash=UBUNTU, path="orphan.mkv", size=1))


def test_times_come_back_as_aware_utc(database: Database) -> None:
    tokyo = timezone(timedelta(hours=9))
    created = datetime(2024, 3, 1, 21, 30, 15, 250000, tzinfo=tokyo)
    with database.writer.begin() as conn:
        conn.execute(
            insert(api_keys).values(
                name="sonarr", prefix="0123abcd", key_hash="f" * 64, created_at=created
            )
        )
    with database.reader.connect() as conn:
        row = conn.execute(select(api_keys.c.created_at, api_keys.c.last_used_at)).one()
    assert row.created_at == created
    assert row.created_at.tzinfo is UTC
    assert row.created_at.hour == 12  # 21:30 in Tokyo is 12:30 UTC
    assert row.last_used_at is None


def test_naive_times_are_refused(database: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"), database.writer.begin() as conn:
        conn.execute(
            insert(api_keys).values(
                name="radarr",
                prefix="89abcdef",
                key_hash="e" * 64,
                created_at=datetime(2024, 3, 1, 12, 0),  # noqa: DTZ001 - the point of the test
            )
        )


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = open_database(sqlite_url(tmp_path / "data"))
    try:
        for engine in (db.writer, db.reader):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert db.dialect == "sqlite"
        assert (tmp_path / "data" / SQLITE_FILE).is_file()
        assert (tmp_path / "data" / f"{SQLITE_FILE}-wal").exists()
    finally:
        db.dispose()


def test_sqlite_reader_is_not_blocked_by_an_open_write(tmp_path: Path) -> None:
    """WAL: a read during an uncommitted write sees the last committed state at once."""
    db = open_database(sqlite_url(tmp_path))
    try:
        with db.writer.begin() as wconn:
            add_torrent(wconn)
            with db.reader.connect() as rconn:
                count = rconn.execute(select(func.count()).select_from(torrents)).scalar_one()
            assert count == 0
        with db.reader.connect() as rconn:
            assert rconn.execute(select(func.count()).select_from(torrents)).scalar_one() == 1
    finally:
        db.dispose()


def test_core_keeps_sqlite_in_the_data_dir(make_settings: SettingsFactory, tmp_path: Path) -> None:
    core = Core.open(make_settings(**{"pipeline.classify": False}))
    try:
        assert core.database.dialect == "sqlite"
        path = make_url(core.database.location).database
        assert path == str(tmp_path / "data" / SQLITE_FILE)
        with core.database.writer.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        core.close()


def test_unreachable_postgres_is_a_store_error_without_the_password() -> None:
    url = "postgresql+psycopg://minato:s3cret-pw@127.0.0.1:1/minato?connect_timeout=2"
    with pytest.raises(StoreError) as caught:
        open_database(url)
    message = caught.value.user_message
    assert "cannot open the database at postgresql+psycopg://minato:***@127.0.0.1:1" in message
    assert "s3cret-pw" not in message


def test_location_hides_the_password(database: Database, database_url: str) -> None:
    password = make_url(database_url).password
    if password:
        assert f":{password}@" not in database.location
        assert ":***@" in database.location
    else:
        assert database.location == database_url
