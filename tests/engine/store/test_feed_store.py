"""The feeds table: feeds added and removed, the settings' feeds kept in step, poll state kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect

from engine.store.database import Database, migrate_to_head
from engine.store.feeds import ORIGIN_API, ORIGIN_SETTINGS, FeedRow, FeedStore
from engine.store.writer import Writer
from tests.engine.store.migration_support import downgrade_to, migration_engine, upgrade_to

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def feed(name: str, url: str = "https://feeds.example/rss", *, origin: str = ORIGIN_API) -> FeedRow:
    return FeedRow(name=name, url=url, every_s=900.0, origin=origin, added_at=T0)


@pytest.fixture
def store(database: Database, writer: Writer) -> FeedStore:
    return FeedStore(database.reader, writer)


async def test_a_feed_is_added_once_and_removed(store: FeedStore) -> None:
    assert await store.add(feed("showrss"))
    assert not await store.add(feed("showrss", "https://other.example/rss"))  # name taken
    assert [(f.name, f.url) for f in store.load()] == [("showrss", "https://feeds.example/rss")]
    assert await store.remove("showrss")
    assert not await store.remove("showrss")
    assert store.load() == []


async def test_a_poll_keeps_where_it_stopped_and_the_validators(store: FeedStore) -> None:
    await store.add(feed("nyaa"))
    await store.record_poll(
        "nyaa", polled_at=T0, last_seen_guid="guid-9", etag='"abc"', last_modified="Tue, 24 Nov"
    )
    row = await store.get("nyaa")
    assert row is not None
    assert (row.last_seen_guid, row.etag, row.last_modified, row.last_polled_at) == (
        "guid-9",
        '"abc"',
        "Tue, 24 Nov",
        T0,
    )


async def test_the_settings_feeds_follow_the_settings_and_keep_their_state(
    store: FeedStore,
) -> None:
    a, b = feed("a", origin=ORIGIN_SETTINGS), feed("b", origin=ORIGIN_SETTINGS)
    await store.add(feed("mine"))  # added through the API: the settings leave it alone
    store.sync_settings([a, b])
    await store.record_poll("a", polled_at=T0, last_seen_guid="g1", etag=None, last_modified=None)
    await store.record_poll("b", polled_at=T0, last_seen_guid="g2", etag="e", last_modified=None)

    store.sync_settings([replace(a, every_s=60.0), replace(b, url="https://moved.example/rss")])
    rows = {row.name: row for row in store.load()}
    assert set(rows) == {"a", "b", "mine"}
    assert (rows["a"].every_s, rows["a"].last_seen_guid) == (60.0, "g1")  # state kept
    assert (rows["b"].url, rows["b"].last_seen_guid, rows["b"].etag) == (
        "https://moved.example/rss",
        None,
        None,
    )  # another URL is another feed: start again

    store.sync_settings([])
    assert [row.name for row in store.load()] == ["mine"]


def test_revision_0007_upgrades_and_downgrades(database_url: str) -> None:
    with migration_engine(database_url) as engine:
        upgrade_to(engine, "0006")
        assert "feeds" not in inspect(engine).get_table_names()
        migrate_to_head(engine)
        inspector = inspect(engine)
        assert inspector.get_pk_constraint("feeds")["constrained_columns"] == ["name"]
        downgrade_to(engine, "0006")
        assert "feeds" not in inspect(engine).get_table_names()
