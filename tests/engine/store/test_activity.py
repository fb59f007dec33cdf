"""The monitor's figures from the database: per-minute counts, totals by kind and source."""

from __future__ import annotations

from engine.core import Core
from engine.models import RawRecord


async def test_activity_counts_new_torrents_per_minute_and_totals(core: Core) -> None:
    records = [
        RawRecord(source="upload", title=f"Open.Movie.{n}", info_hash=f"{n + 1:040x}")
        for n in range(4)
    ] + [RawRecord(source="dht", title="Open.Movie.0", info_hash=f"{1:040x}")]  # seen twice

    report = await core.pipeline.submit(list(enumerate(records)))
    assert (report.created, report.updated) == (4, 1)

    activity = await core.services.status.activity(hours=1)
    assert sum(count for _minute, count in activity.per_minute) == 4  # new ones only
    assert all(minute.tzinfo is not None for minute, _count in activity.per_minute)
    assert activity.by_source == (("upload", 4), ("dht", 1))
    assert activity.by_kind == (("unclassified", 4),)
    assert (activity.torrents, activity.index_backlog) == (4, 4)  # not drained yet

    old = await core.services.status.activity(hours=0)  # a span that ends before them
    assert old.per_minute == ()
