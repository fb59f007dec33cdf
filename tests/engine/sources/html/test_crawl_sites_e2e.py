"""End to end for The Pirate Bay, LimeTorrents and TorrentDownloads: searches on saved pages.

Each site answers its saved search page at the path its definition builds for the
query, and its saved detail page (showing each row's own info hash) for every
detail link. The crawl must store one torrent per result row, with what the
detail page adds, and a second search must not read the detail pages again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from engine.core import Core
from engine.services import parse_search_params
from tests.conftest import SettingsFactory
from tests.crawl_support import only_sites
from tests.site_server import SAVED_SITES, SavedSite

CoreFactory = Callable[[str, str], Core]

ROWS = {"thepiratebay": 24, "limetorrents": 14, "torrentdownloads": 38}
"""Result rows of each saved search page (the golden tests check every one)."""
FILES = {"thepiratebay": 0, "limetorrents": 15, "torrentdownloads": 2}
"""Files the saved detail page lists (TPB loads its list by ajax: none on the page)."""
DESCRIBED = {"thepiratebay": True, "limetorrents": False, "torrentdownloads": True}
"""Whether the saved detail page has a description (LimeTorrents' has none)."""


@pytest.fixture
async def open_core(
    make_settings: SettingsFactory, database_url: str
) -> AsyncIterator[CoreFactory]:
    opened: list[Core] = []

    def open_(site_id: str, url: str) -> Core:
        values = only_sites({site_id: {"mirrors": [url], "min_interval_s": 0}})
        core = Core.open(make_settings(database_url, **values, **{"pipeline.classify": True}))
        opened.append(core)
        return core

    yield open_
    for core in opened:
        await core.aclose()


def hits(core: Core, **params: str) -> list[Any]:
    core.services.status.drain_index()
    return list(core.services.search.search_sync(parse_search_params(params)).hits)


@pytest.mark.parametrize("site_id", sorted(SAVED_SITES))
async def test_a_search_stores_every_row_with_its_detail_page(
    site_id: str, open_core: CoreFactory
) -> None:
    pages = SAVED_SITES[site_id]
    site = await SavedSite(pages).start()
    try:
        core = open_core(site_id, site.url)
        report = await core.services.crawlers.crawl_site(site_id, "search", query=pages.query)
        assert site.paths[0] == pages.search_path
        assert (report.rows, report.bad_rows, report.errors) == (ROWS[site_id], 0, 0)
        assert report.new == ROWS[site_id]
        assert report.details == ROWS[site_id]
        found = hits(core, limit="100")
        assert len(found) == ROWS[site_id]
        first = found[0]
        torrent = await core.services.search.torrent(first.info_hash)
        assert len(torrent.files) == FILES[site_id]
        assert bool(torrent.description) is DESCRIBED[site_id]
        assert [s.source for s in torrent.sightings] == [site_id]
        assert torrent.sightings[0].source_url.startswith(site.url)

        site.paths.clear()
        again = await core.services.crawlers.crawl_site(site_id, "search", query=pages.query)
        assert site.paths == [pages.search_path]  # the detail pages were read a moment ago
        assert (again.new, again.updated, again.details_skipped) == (
            0,
            ROWS[site_id],
            ROWS[site_id],
        )
    finally:
        await site.close()


async def test_a_detail_page_showing_another_torrent_is_not_merged(
    open_core: CoreFactory,
) -> None:
    pages = SAVED_SITES["limetorrents"]
    site = SavedSite(pages)
    wrong = "0123456789abcdef0123456789abcdef01234567"
    site.hashes = dict.fromkeys(site.hashes, wrong)  # every detail page shows one other hash
    await site.start()
    try:
        core = open_core("limetorrents", site.url)
        report = await core.services.crawlers.crawl_site(
            "limetorrents", "search", query=pages.query
        )
        assert report.new == ROWS["limetorrents"]  # stored from the listing alone
        assert report.errors == ROWS["limetorrents"]
        assert all("shows 0123456789abcdef" in m for m in report.error_messages)
        for hit in hits(core, limit="100"):
            assert hit.info_hash != wrong
            assert (await core.services.search.torrent(hit.info_hash)).files == ()
    finally:
        await site.close()
