"""LimeTorrents definition on saved pages: every row, the detail page and its file tree.

Both pages were saved on 27 July 2017 (the time in their Cloudflare tokens), so
relative ages ("1 Year+", "4 months ago") are counted from then.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.sources.html.definition import BUILTIN_DEFINITIONS, load_definition
from engine.sources.html.parse import HtmlSite, ListingPage
from engine.sources.html.sites import LimeTorrents, build_site
from tests.engine.sources.html.golden import (
    assert_golden,
    detail_dict,
    fixture_text,
    listing_dict,
)

SEARCH_PAGE = "html-other/magnetissimo_limetorrents_search_sintel.html"
SEARCH_URL = "https://www.limetorrents.cc/search/all/sintel-2010/date/1/"
DETAIL_PAGE = "html-other/magnetissimo_limetorrents_detail_sintel.html"
DETAIL_URL = (
    "https://www.limetorrents.cc/Sintel-(2010)-BR2Mini-DVD-DD5-1-NL-Subs-torrent-938931.html"
)
NOW = datetime(2017, 7, 27, 21, 31, tzinfo=UTC)
ROOT = "Sintel (2010) BR2Mini-DVD DD5.1 NL Subs"


@pytest.fixture(scope="module")
def site() -> HtmlSite:
    return build_site(load_definition(BUILTIN_DEFINITIONS / "limetorrents.yml"))


@pytest.fixture(scope="module")
def search(site: HtmlSite) -> ListingPage:
    return site.parse_listing(fixture_text(SEARCH_PAGE), SEARCH_URL, NOW)


def test_site_uses_its_hooks(site: HtmlSite) -> None:
    assert isinstance(site, LimeTorrents)


def test_search_page_matches_golden(search: ListingPage) -> None:
    assert_golden("limetorrents_search_sintel", listing_dict(search))


def test_rows_come_only_from_the_results_table(site: HtmlSite, search: ListingPage) -> None:
    # The page says "(14 torrents)"; the sponsored table above it links /redir.php.
    assert len(search.rows) == 14
    assert search.bad_rows == 0
    assert all("redir.php" not in (row.details_url or "") for row in search.rows)
    assert all(row.info_hash for row in search.rows)
    site.check_listing(search, first=True)


def test_search_row_values(site: HtmlSite, search: ListingPage) -> None:
    first = search.rows[0]
    assert first.title == "Sintel (2010) BR2Mini-DVD DD5 1 NL Subs"
    assert first.info_hash == "70f1bd3e79a417159738baeba5ee1bf139f43919"
    assert first.size == int(749.18 * 1024**2)
    assert (first.seeders, first.leechers) == (5, 45)
    assert first.published == datetime(2016, 7, 27, 21, 31, tzinfo=UTC)  # "1 Year+"
    assert (first.category, site.category_id(first.category)) == ("Movies", 2000)
    last = search.rows[-1]
    assert last.published == datetime(2017, 3, 29, 21, 31, tzinfo=UTC)  # "4 months ago"


def test_links_with_spaces_are_encoded(search: ListingPage) -> None:
    row = next(
        row for row in search.rows if row.title == "Sintel (2010), BRRip(xvid), NL Subs, DMT"
    )
    assert row.details_url == (
        "https://www.limetorrents.cc/Sintel-(2010)%20-BRRip(xvid)%20-NL-Subs%20-DMT-torrent-939546.html"
    )


def test_detail_page_matches_golden(site: HtmlSite) -> None:
    detail = site.parse_detail(fixture_text(DETAIL_PAGE), DETAIL_URL, NOW)
    assert_golden("limetorrents_detail_sintel", detail_dict(detail))


def test_detail_files_have_full_paths(site: HtmlSite) -> None:
    detail = site.parse_detail(fixture_text(DETAIL_PAGE), DETAIL_URL, NOW)
    files = {entry.path: entry.size for entry in detail.files}
    assert len(files) == 15  # "Torrent File Content (15 files)"
    assert files[f"{ROOT}/VIDEO_TS/VTS_01_1.VOB"] == int(748.99 * 1024**2)
    assert files[f"{ROOT}/VIDEO_TS/VIDEO_TS.BUP"] == 12 * 1024
    # Beside VIDEO_TS (indented one space past it), not inside it.
    assert files[f"{ROOT}/{ROOT}.txt"] == int(1.67 * 1024)
    assert files[f"{ROOT}/tracked_by_h33t_com.txt"] == 23
    assert sum(files.values()) == pytest.approx(749.18 * 1024**2, rel=1e-4)


def test_detail_values(site: HtmlSite) -> None:
    values = site.parse_detail(fixture_text(DETAIL_PAGE), DETAIL_URL, NOW).values
    assert values["info_hash"] == "70f1bd3e79a417159738baeba5ee1bf139f43919"
    assert values["size"] == int(749.18 * 1024**2)
    assert (values["seeders"], values["leechers"]) == (5, 45)
    assert values["category"] == "Movies"


def test_empty_search_is_not_a_layout_change(site: HtmlSite) -> None:
    page = site.parse_listing(
        '<html><body><div id="content"><h2>Search Results for : '
        '<span class="querytext">xyzzy</span> (0 torrents) </h2></div></body></html>',
        "https://www.limetorrents.cc/search/all/xyzzy/date/1/",
        NOW,
    )
    assert page.says_no_results
    site.check_listing(page, first=True)
