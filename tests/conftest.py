"""Shared fixtures: settings in a temp data dir, database URLs (SQLite always, PostgreSQL when
MINATO_TEST_DATABASE_URL is set), and an opened `Core`.

PostgreSQL tests skip with a visible reason when no server is configured, and fail instead
when MINATO_REQUIRE_POSTGRES=1 (as `.ci/run` sets), so CI can never skip them silently.
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text

from engine.config import Settings, load_settings
from engine.core import Core
from engine.store.database import Database, open_database
from engine.store.writer import Writer
from tests.crawl_support import LocalSite

FIXTURES = Path(__file__).parent / "fixtures"
PG_ENV = "MINATO_TEST_DATABASE_URL"


@pytest.fixture(autouse=True, scope="session")
def _no_enrichment_in_subprocesses() -> Iterator[None]:
    """`minato` processes started by tests inherit this: their lookups would go to public hosts.

    The same for crawling: the built-in sites (and their mirror health checks) are public
    hosts. Tests that exercise enrichment or crawling point them at local servers through
    their own settings.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINATO_ENRICH__ENABLED", "false")
        patch.setenv("MINATO_CRAWL__ENABLED", "false")
        yield


def postgres_url() -> str | None:
    """The test PostgreSQL URL, or None (skip) / a failure when it is required but absent.

    Under pytest-xdist each worker gets a database of its own (`<name>_gw0`...), made
    on first use: tests drop and recreate the schema, so two workers must never share one.
    """
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("MINATO_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"MINATO_REQUIRE_POSTGRES=1 but {PG_ENV} is not set")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return _worker_database(url, worker) if url and worker else url


@functools.cache
def _worker_database(url: str, worker: str) -> str:
    """`url` with the database `<name>_<worker>`, created when missing (needs CREATEDB)."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            known = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if known is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def reset_postgres(url: str) -> None:
    """Drop everything in the test database so each test starts from an empty schema."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind: a SQLite file, and PostgreSQL when available."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'minato.sqlite3'}"
    url = postgres_url()
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (`.ci/run` starts a server and sets it)")
    reset_postgres(url)
    return url


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """Settings with the data dir in tmp_path; keyword args are 'section.key' overrides."""

    def make(database_url: str = "", **overrides: Any) -> Settings:
        # Enrichment and crawling off unless a test turns them on: they reach public hosts.
        values: dict[str, Any] = {
            "storage.data_dir": str(tmp_path / "data"),
            "enrich.enabled": False,
            "crawl.enabled": False,
        }
        if database_url:
            values["storage.database_url"] = database_url
        values.update({k.replace("__", "."): v for k, v in overrides.items()})
        return load_settings(tmp_path / "absent.toml", {}, values)

    return make


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """The store opened (and migrated) on each database kind."""
    db = open_database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def writer(database: Database) -> Iterator[Writer]:
    """A running single writer on `database`."""
    w = Writer(database.writer)
    w.start()
    yield w
    w.stop()


@pytest.fixture
def core(make_settings: SettingsFactory, database_url: str) -> Iterator[Core]:
    """An opened engine (no classifier processes, for speed) on each database kind."""
    opened = Core.open(make_settings(database_url, **{"pipeline.classify": False}))
    yield opened
    opened.close()


@pytest.fixture
async def local_sites() -> AsyncIterator[Callable[..., Awaitable[LocalSite]]]:
    """Start mirrors on their own 127.0.0.1 ports (`await local_sites(status)`); closed after."""
    started: list[LocalSite] = []

    async def start(status: int = 200) -> LocalSite:
        site = await LocalSite(status).start()
        started.append(site)
        return site

    yield start
    for site in started:
        await site.close()
