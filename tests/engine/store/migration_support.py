"""Alembic configured on Minato's migrations, for the tests that walk revisions by hand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine

from engine.store.database import MIGRATIONS_DIR


def alembic_config() -> AlembicConfig:
    """A config whose script location is `engine/store/migrations`; no database URL set."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


@contextmanager
def migration_engine(database_url: str) -> Iterator[Engine]:
    """An engine on `database_url` for walking revisions (a SQLite file's folder is made)."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def upgrade_to(engine: Engine, revision: str) -> None:
    """Migrate the database up to `revision` (and no further)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade_to(engine: Engine, revision: str) -> None:
    """Migrate the database down to `revision`."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
