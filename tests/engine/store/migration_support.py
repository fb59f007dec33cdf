"""Alembic configured on Minato's migrations, for the tests that walk revisions by hand."""

from __future__ import annotations

from alembic.config import Config as AlembicConfig

from engine.store.database import MIGRATIONS_DIR


def alembic_config() -> AlembicConfig:
    """A config whose script location is `engine/store/migrations`; no database URL set."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg
