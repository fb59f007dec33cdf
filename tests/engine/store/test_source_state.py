"""Per-source state: saved whole, read back, replaced, and a damaged row reads as none."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, update

from engine.store.database import Database, migrate_to_head
from engine.store.schema import source_state
from engine.store.source_state import MAX_STATE_CHARS, SourceStateStore
from engine.store.writer import Writer
from tests.engine.store.migration_support import downgrade_to, migration_engine, upgrade_to


@pytest.fixture
def store(database: Database, writer: Writer) -> SourceStateStore:
    return SourceStateStore(database.reader, writer)


async def test_state_is_saved_replaced_and_kept_per_source(store: SourceStateStore) -> None:
    assert await store.load("bitmagnet") is None
    await store.save("bitmagnet", {"watermark": "2026-11-24T12:00:00+00:00", "offset": 100})
    await store.save("dht", {"fetched": 3})
    await store.save("bitmagnet", {"watermark": "2026-11-24T13:00:00+00:00"})
    assert await store.load("bitmagnet") == {"watermark": "2026-11-24T13:00:00+00:00"}
    assert store.load_now("dht") == {"fetched": 3}


async def test_a_damaged_row_reads_as_no_state(
    store: SourceStateStore, database: Database, writer: Writer
) -> None:
    await store.save("bitmagnet", {"watermark": "x"})
    for junk in ("{not json", "[1, 2]", "null"):
        writer.call(
            lambda conn, junk=junk: conn.execute(update(source_state).values(data=junk))
        ).result()
        assert await store.load("bitmagnet") is None


async def test_oversized_or_unserializable_state_is_refused_and_the_old_kept(
    store: SourceStateStore,
) -> None:
    await store.save("dht", {"fetched": 1})
    with pytest.raises(ValueError, match="over"):
        await store.save("dht", {"blob": "x" * MAX_STATE_CHARS})
    with pytest.raises(TypeError):
        await store.save("dht", {"when": object()})
    assert await store.load("dht") == {"fetched": 1}


def test_revision_0008_upgrades_and_downgrades(database_url: str) -> None:
    with migration_engine(database_url) as engine:
        upgrade_to(engine, "0007")
        assert "source_state" not in inspect(engine).get_table_names()
        migrate_to_head(engine)
        assert inspect(engine).get_pk_constraint("source_state")["constrained_columns"] == [
            "source"
        ]
        downgrade_to(engine, "0007")
        assert "source_state" not in inspect(engine).get_table_names()
