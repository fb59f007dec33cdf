"""Core wiring: a lost search index is rebuilt from the database at start."""

from __future__ import annotations

import asyncio
import shutil

from engine.core import INDEX_DIR, Core
from engine.models import RawRecord, SearchQuery


async def test_a_deleted_index_is_rebuilt_from_the_database(make_settings, database_url):
    settings = make_settings(database_url, **{"pipeline.classify": False})
    core = Core.open(settings)
    raws = [
        (i, RawRecord(source="test", title=title, info_hash=f"{i + 1:040x}"))
        for i, title in enumerate(["Sintel.2010.1080p.WEB-DL", "Big.Buck.Bunny.2008.720p"])
    ]
    report = await core.pipeline.submit(raws)
    assert report.created == 2
    await asyncio.to_thread(core.drainer.drain_all)
    core.close()

    shutil.rmtree(settings.data_path() / INDEX_DIR)
    core = Core.open(settings)
    try:
        assert core.needs_rebuild()
        assert core.services.search.search_sync(SearchQuery(text="sintel")).total == 0
        task = asyncio.create_task(core.run())
        for _ in range(200):
            if core.services.search.search_sync(SearchQuery(text="sintel")).total == 1:
                break
            await asyncio.sleep(0.05)
        task.cancel()
        assert core.services.search.search_sync(SearchQuery(text="bunny")).total == 1
        assert not core.needs_rebuild()
    finally:
        core.close()
