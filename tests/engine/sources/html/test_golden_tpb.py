"""The Pirate Bay definition on saved pages: every row and the detail page, value by value.

The search page is Medusa's recorded answer to "Arrow S05E07" (15 February 2019,
the date of its HTTP response); its upload dates carry their year, so `now` only
has to be fixed, not exact. Medusa's own expected parse of the same page is a
second opinion that Minato must agree with.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from engine.errors import LayoutChanged
from engine.sources.html.definition import BUILTIN_DEFINITIONS, load_definition
from engine.sources.html.parse import HtmlSite, ListingPage
from engine.sources.html.sites import build_site
from tests.engine.sources.html.golden import (
    assert_golden,
    detail_dict,
    fixture_text,
    listing_dict,
)

SEARCH_PAGE = "html-tpb/tpb_search_arrow_s05e07_2019.html"
SEARCH_URL = "https://thepiratebay.org/search/Arrow%20S05E07/0/99/200"
SEARCH_NOW = datetime(2019, 2, 15, 19, 55, 30, tzinfo=UTC)
DETAIL_PAGE = "html-tpb/magnetissimo_tpb_detail_2016-08.html"
DETAIL_URL = (
    "https://thepiratebay.org/torrent/15472797/The_Journey_Home_-_Radhanath_Swami_Audiobook"
)
DETAIL_NOW = datetime(2016, 8, 11, tzinfo=UTC)


@pytest.fixture(scope="module")
def site() -> HtmlSite:
    return build_site(load_definition(BUILTIN_DEFINITIONS / "thepiratebay.yml"))


@pytest.fixture(scope="module")
def search(site: HtmlSite) -> ListingPage:
    return site.parse_listing(fixture_text(SEARCH_PAGE), SEARCH_URL, SEARCH_NOW)


def test_search_page_matches_golden(search: ListingPage) -> None:
    assert_golden("thepiratebay_search_arrow_s05e07", listing_dict(search))


def test_search_page_reads_every_result(site: HtmlSite, search: ListingPage) -> None:
    assert len(search.rows) == 24
    assert search.bad_rows == 0
    site.check_listing(search, first=True)


def test_search_row_values(search: ListingPage) -> None:
    first = search.rows[0]
    assert first.title == "Arrow S05E07 Dual Áudio 720p WEB-DL"
    assert first.info_hash == "faaad71ebe82432bdfa5e8b8eafa43b569d279dd"
    assert first.size == int(456.3 * 1024**2)
    assert first.published == datetime(2016, 12, 18, tzinfo=UTC)
    assert first.uploader == "LuanHarper"
    assert (first.seeders, first.leechers) == (0, 1)


def test_categories_map_to_torznab(site: HtmlSite, search: ListingPage) -> None:
    by_hash = {row.info_hash: row for row in search.rows}
    hd_tv = by_hash["d540765a1d0b49ec1c7bf6186c42d9e652500aaa"]
    hd_movie = by_hash["ec37e0ae078b79bee645a7160bf0e04b9f56da42"]
    tv = by_hash["9e3824e13a6401ac1b39e0100062335ddcf3fa38"]
    assert (hd_tv.category, site.category_id(hd_tv.category)) == ("208", 5040)
    assert (hd_movie.category, site.category_id(hd_movie.category)) == ("207", 2040)
    assert (tv.category, site.category_id(tv.category)) == ("205", 5000)


def _medusa_backlog() -> list[dict[str, Any]]:
    expected = yaml.safe_load(fixture_text("html-tpb/medusa_tpb_expected.yaml"))
    results: list[dict[str, Any]] = expected["backlog"]["results"]
    return results


@pytest.mark.parametrize("expected", _medusa_backlog(), ids=lambda r: r["title"])
def test_agrees_with_medusa(search: ListingPage, expected: dict[str, Any]) -> None:
    info_hash = expected["link"].removeprefix("magnet:?xt=urn:btih:")
    rows = [row for row in search.rows if row.info_hash == info_hash]
    assert len(rows) == 1
    row = rows[0]
    assert row.title == expected["title"]
    assert row.seeders == expected["seeders"]
    assert row.leechers == expected["leechers"]
    assert row.size == expected["size"]


def test_detail_page_matches_golden(site: HtmlSite) -> None:
    detail = site.parse_detail(fixture_text(DETAIL_PAGE), DETAIL_URL, DETAIL_NOW)
    assert_golden("thepiratebay_detail_journey_home", detail_dict(detail))


def test_detail_page_values(site: HtmlSite) -> None:
    values = site.parse_detail(fixture_text(DETAIL_PAGE), DETAIL_URL, DETAIL_NOW).values
    assert values["info_hash"] == "f20ed5d4cf26bef624064d23f89d7a447040cfbe"
    assert values["size"] == 1_147_614_030  # the exact count, not 1.07 GiB
    assert values["published"] == datetime(2016, 8, 2, 16, 49, 45, tzinfo=UTC)
    assert values["category"] == "102"
    assert site.category_id(values["category"]) == 3030
    assert values["description"].startswith("The Journey Home - Autobiography of an American Swami")


def test_empty_search_is_not_a_layout_change(site: HtmlSite) -> None:
    page = site.parse_listing(
        "<html><body><h2>Search results: xyzzy</h2>"
        "No hits. Try adding an asterisk in you search phrase.</body></html>",
        "https://thepiratebay.org/search/xyzzy/0/99/0",
        SEARCH_NOW,
    )
    assert page.rows == ()
    assert page.says_no_results
    site.check_listing(page, first=True)


def test_challenge_page_is_a_layout_change(site: HtmlSite) -> None:
    page = site.parse_listing(
        fixture_text("html-other/torrentz2_cloudflare_503_challenge.html"), SEARCH_URL, SEARCH_NOW
    )
    with pytest.raises(LayoutChanged):
        site.check_listing(page, first=True)
