"""Opening the database: SQLite (WAL, the default) or PostgreSQL, migrated to the latest schema.

Two engines over one database: the writer's (SQLite transactions begin
IMMEDIATE so the single writer never hits a lock upgrade failure halfway) and
the readers' (a pool of ordinary connections that WAL lets run beside the writer).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import StoreError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_FILE = "minato.sqlite3"
_BUSY_TIMEOUT_MS = 30_000


@dataclass(frozen=True, slots=True)
class Database:
    """The two engines over one database, and a printable location without secrets."""

    writer: Engine
    reader: Engine
    location: str

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.writer.dialect.name

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.writer.dispose()
        self.reader.dispose()


def sqlite_url(data_dir: Path) -> str:
    """The default database: one SQLite file in the data dir."""
    return f"sqlite:///{data_dir / SQLITE_FILE}"


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Connect, configure and (by default) migrate the database at `url`.

    Raises:
        StoreError: the database cannot be reached, opened or migrated.
    """
    parsed = make_url(url)
    location = parsed.render_as_string(hide_password=True)
    try:
        if parsed.get_backend_name() == "sqlite":
            database = _open_sqlite(url, location)
        else:
            # psycopg prepares a statement after 5 runs; a generic plan made before the first
            # ANALYZE scanned whole tables for `info_hash IN (...)` (seconds per batch).
            options: dict[str, Any] = {"connect_args": {"prepare_threshold": None}}
            database = Database(
                writer=create_engine(url, pool_pre_ping=True, pool_size=2, **options),
                reader=create_engine(url, pool_pre_ping=True, pool_size=8, **options),
                location=location,
            )
        if migrate:
            migrate_to_head(database.writer)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open the database at {location}: {exc}") from exc
    return database


def migrate_to_head(engine: Engine) -> None:
    """Apply every Alembic revision not yet applied (idempotent)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def _open_sqlite(url: str, location: str) -> Database:
    db_path = make_url(url).database
    if db_path and db_path != ":memory:":
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    writer = create_engine(url, pool_size=1, max_overflow=0)
    reader = create_engine(url, pool_size=8, max_overflow=8)
    _configure_sqlite(writer, begin="BEGIN IMMEDIATE", cache_kib=WRITER_CACHE_KIB)
    _configure_sqlite(reader, begin="BEGIN", cache_kib=READER_CACHE_KIB)
    return Database(writer=writer, reader=reader, location=location)


WRITER_CACHE_KIB = 65_536
"""The one writer's page cache: upserts touch indexes all over a big database."""
READER_CACHE_KIB = 16_384
"""Each of up to 16 readers' page cache: reads are by key or one pass (the OS caches the
file too); 64 MiB each let an idle window at 1M torrents grow by hundreds of MiB."""


def _configure_sqlite(engine: Engine, *, begin: str, cache_kib: int) -> None:
    """WAL, a busy timeout, foreign keys; and our own BEGIN (pysqlite's is deferred and late)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable against process crashes in WAL
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA cache_size=-{cache_kib}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)
