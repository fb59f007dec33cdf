"""Core wiring: a lost search index is rebuilt from the database at start; the crawl side is
built from the settings and sends nothing unless crawling is on.

The scheduler and the mirror health worker running inside `Core.run` against local
mirrors are tested over the API in tests/server/test_api_crawlers.py.
"""

from __future__ import annotations

import asyncio
import shutil
import threading

import pytest

from engine.config import ProxySettings
from engine.core import INDEX_DIR, Core
from engine.errors import ConfigError
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


def test_the_test_settings_send_nothing_to_any_site(make_settings, database_url):
    """Crawling is off in every test unless a test turns it on: no mirror check can run."""
    core = Core.open(make_settings(database_url, **{"pipeline.classify": False}))
    try:
        assert core.settings.crawl.enabled is False
        assert core.crawling is not None
        assert core.crawling.health is None
        assert core.services.crawlers.mirror_checks().enabled is False
    finally:
        core.close()


def test_crawling_on_checks_every_enabled_site_with_mirrors(make_settings, tmp_path):
    """Built, not run: the worker holds a resolver for each enabled site that has mirrors."""
    settings = make_settings(**{"crawl.enabled": True, "crawl.mirror_check_minutes": 5})
    core = Core.open(settings, classify=False)
    try:
        assert core.crawling is not None
        assert core.crawling.health is not None
        checked = {r.site for r in core.crawling.health.resolvers}
        enabled = {s.id for s in core.crawling.sites.values() if s.enabled and s.mirrors}
        assert checked == enabled
        assert {"1337x", "yts", "eztv"} <= checked
        assert not {"dht", "bitmagnet"} & checked  # off by default
        assert core.crawling.health.interval_s == 300.0
    finally:
        core.close()


def test_a_bad_proxy_fails_the_open_and_leaves_no_writer_running(make_settings):
    settings = make_settings().model_copy(
        update={"proxies": [ProxySettings(name="tor", url="ftp://127.0.0.1:9050")]}
    )
    before = sum(t.name == "minato-writer" for t in threading.enumerate())
    with pytest.raises(ConfigError, match="tor"):
        Core.open(settings, classify=False)
    assert sum(t.name == "minato-writer" for t in threading.enumerate()) == before
