"""TorrentDownloads definition on saved pages: every row, the detail page and its files.

Both pages were saved on 27 July 2017 (the time in their Cloudflare tokens). The
listing has no dates and no hashes; the detail page gives both.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.errors import LayoutChanged
from engine.sources.html.definition import BUILTIN_DEFINITIONS, load_definition
from engine.sources.html.parse import HtmlSite, ListingPage
from engine.sources.html.sites import TorrentDownloads, build_site
from tests.engine.sources.html.golden import (
    assert_golden,
    detail_dict,
    fixture_text,
    listing_dict,
)

SEARCH_PAGE = "html-other/magnetissimo_torrentdownloads_search.html"
SEARCH_URL = "https://www.torrentdownloads.me/search/?search=sintel+2010"
DETAIL_PAGE = "html-other/magnetissimo_torrentdownloads_detail.html"
DETAIL_URL = "https://www.torrentdownloads.me/torrent/1652059056/Sintel+2010+2K+SURROUND+x264-VODO"
NOW = datetime(2017, 7, 27, 21, 52, tzinfo=UTC)
VODO_HASH = "19288989fd99a41ad24f30c23b0271e0a825ac5f"


@pytest.fixture(scope="module")
def site() -> HtmlSite:
    return build_site(load_definition(BUILTIN_DEFINITIONS / "torrentdownloads.yml"))


@pytest.fixture(scope="module")
def search(site: HtmlSite) -> ListingPage:
    return site.parse_listing(fixture_text(SEARCH_PAGE), SEARCH_URL, NOW)


def test_search_page_matches_golden(search: ListingPage) -> None:
    assert_golden("torrentdownloads_search_sintel", listing_dict(search))


def test_rows_skip_header_and_sponsored_links(site: HtmlSite, search: ListingPage) -> None:
    # The heading counts 38 torrents; the sponsored rows link /redir.php and torrentdownload.ch.
    assert len(search.rows) == 38
    assert search.bad_rows == 0
    assert all(
        (row.details_url or "").startswith("https://www.torrentdownloads.me/torrent/")
        for row in search.rows
    )
    site.check_listing(search, first=True)


def test_search_row_values(site: HtmlSite, search: ListingPage) -> None:
    vodo = next(row for row in search.rows if row.details_url == DETAIL_URL)
    assert vodo.title == "Sintel 2010 2K SURROUND x264-VODO"
    # Same torrent as the detail page: its Seeds 461 and Leechers 22.
    assert (vodo.seeders, vodo.leechers) == (461, 22)
    assert vodo.size == int(441.90 * 1024**2)
    assert (vodo.category, site.category_id(vodo.category)) == ("4", 2000)
    badged = next(row for row in search.rows if "1652068261" in (row.details_url or ""))
    assert badged.title == "Sintel 2010 HDRip XviD AC3-ViSiON"  # shown as "[P] Sintel ..."
    other = next(row for row in search.rows if "1652065258" in (row.details_url or ""))
    assert (other.category, site.category_id(other.category)) == ("9", 8000)


def test_detail_page_matches_golden(site: HtmlSite) -> None:
    detail = site.parse_detail(fixture_text(DETAIL_PAGE), DETAIL_URL, NOW)
    assert_golden("torrentdownloads_detail_sintel_vodo", detail_dict(detail))


def test_detail_values_and_files(site: HtmlSite) -> None:
    detail = site.parse_detail(fixture_text(DETAIL_PAGE), DETAIL_URL, NOW)
    assert detail.values["info_hash"] == VODO_HASH
    assert detail.values["published"] == datetime(2010, 10, 1, 19, 50, 21, tzinfo=UTC)
    assert (detail.values["seeders"], detail.values["leechers"]) == (461, 22)
    assert [(f.path, f.size) for f in detail.files] == [
        ("Sintel.2010.2K.SURROUND.x264-VODO.mp4", int(441.89 * 1024**2)),
        ("vodo.nfo", int(4.83 * 1024)),
    ]


def test_empty_search_is_not_a_layout_change(site: HtmlSite) -> None:
    assert isinstance(site, TorrentDownloads)
    page = site.parse_listing(
        '<html><body><div class="inner_container"><div class="title_bar1"><h1>'
        'Torrent Search Results <span>of "xyzzy" - (total <span class="num">0</span>'
        " torrents found)</span></h1></div></div></body></html>",
        "https://www.torrentdownloads.me/search/?search=xyzzy",
        NOW,
    )
    assert page.says_no_results
    site.check_listing(page, first=True)


def test_empty_page_without_count_is_a_layout_change(site: HtmlSite) -> None:
    page = site.parse_listing(
        fixture_text("html-other/torrentz2_cloudflare_503_challenge.html"), SEARCH_URL, NOW
    )
    assert not page.says_no_results
    with pytest.raises(LayoutChanged):
        site.check_listing(page, first=True)
