"""The 1337x definition on saved pages of three eras, value by value, and on hostile bodies.

Five pages (tests/fixtures/html-1337x, sources in MANIFEST.tsv): a 2019 search
(table markup, pagination), a 2016 category list (list-of-divs markup, titles cut
with "..."), a 2022 search trimmed to its table (/sub/movies/HD/1/ category links,
"May. 10th  '22" dates), a 2016 detail page (files, description, dates) and a
2022 detail fragment whose class names are scrambled. Each page gets a fixed
`now` of its era, so relative and yearless dates are deterministic.

The golden files were written by the parser and then checked by hand against the
HTML: every size is the binary-unit product (1.9 GB = int(1.9 * 1024**3)), every
date the cell's text read in UTC, every category the /sub/ link of the row.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

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

GB = 1024**3
MB = 1024**2
KB = 1024


@dataclass(frozen=True)
class SavedPage:
    golden: str
    path: str
    url: str
    now: datetime


SEARCH_2019 = SavedPage(
    "1337x_search_lion_king_2019-11",
    "html-1337x/torrentscraper_1337x_search_lion_king_2019-11.html",
    "https://1337x.to/search/lion+king/1/",
    datetime(2019, 11, 20, 12, 0, tzinfo=UTC),
)
LIST_2016 = SavedPage(
    "1337x_list_xxx_2016-08",
    "html-1337x/magnetissimo_1337x_list_xxx_2016-08.html",
    "https://1337x.to/cat/XXX/1/",
    datetime(2016, 8, 11, 12, 0, tzinfo=UTC),
)
SEARCH_2022 = SavedPage(
    "1337x_search_dune_2022-05",
    "html-1337x/baka_1337x_search_dune_trimmed.html",
    "https://1337x.to/search/dune/1/",
    datetime(2022, 5, 11, 12, 0, tzinfo=UTC),
)
DETAIL_2016 = SavedPage(
    "1337x_detail_settlers_2016-08",
    "html-1337x/magnetissimo_1337x_detail_2016-08.html",
    "https://1337x.to/torrent/1708247/The-Settlers-7-Paths-to-a-Kingdom-Deluxe-Gold-Edition-2011-PC-RePack-by-z10yded/",
    datetime(2016, 8, 11, 12, 0, tzinfo=UTC),
)
DETAIL_2022 = SavedPage(
    "1337x_detail_obfuscated_2022-05",
    "html-1337x/baka_1337x_detail_obfuscated_trimmed.html",
    "https://1337x.to/torrent/5020920/Dune-2021-1080p-WEBRip-DD5-1-x264-SHITBOX/",
    datetime(2022, 5, 11, 12, 0, tzinfo=UTC),
)
LISTINGS = (SEARCH_2019, LIST_2016, SEARCH_2022)
DETAILS = (DETAIL_2016, DETAIL_2022)


@pytest.fixture(scope="module")
def site() -> HtmlSite:
    return build_site(load_definition(BUILTIN_DEFINITIONS / "1337x.yml"))


def listing(site: HtmlSite, saved: SavedPage, text: str | None = None) -> ListingPage:
    body = fixture_text(saved.path) if text is None else text
    return site.parse_listing(body, saved.url, saved.now)


# ------------------------------------------------------------------------ golden


@pytest.mark.parametrize("saved", LISTINGS, ids=lambda s: s.golden)
def test_listing_matches_golden(site: HtmlSite, saved: SavedPage) -> None:
    assert_golden(saved.golden, listing_dict(listing(site, saved)))


@pytest.mark.parametrize("saved", DETAILS, ids=lambda s: s.golden)
def test_detail_matches_golden(site: HtmlSite, saved: SavedPage) -> None:
    detail = site.parse_detail(fixture_text(saved.path), saved.url, saved.now)
    assert_golden(saved.golden, detail_dict(detail))


@pytest.mark.parametrize(
    ("saved", "rows"), [(SEARCH_2019, 20), (LIST_2016, 20), (SEARCH_2022, 4)], ids=str
)
def test_every_row_is_read_and_the_page_passes_the_layout_check(
    site: HtmlSite, saved: SavedPage, rows: int
) -> None:
    page = listing(site, saved)
    assert (len(page.rows), page.bad_rows, page.errors) == (rows, 0, ())
    assert not page.says_no_results
    site.check_listing(page, first=True)


# ---------------------------------------------------------------- values by hand


def test_2019_search_rows(site: HtmlSite) -> None:
    rows = listing(site, SEARCH_2019).rows
    first = rows[0]
    assert first.title == "The Lion King (2019) [BluRay] [1080p] [YTS] [YIFY]"
    assert first.details_url == (
        "https://1337x.to/torrent/4050035/The-Lion-King-2019-BluRay-1080p-YTS-YIFY/"
    )
    # "1.9 GB<span class="seeds">15105</span>": the seeders echo is not part of the size.
    assert first.size == int(1.9 * GB)
    assert (first.seeders, first.leechers) == (15105, 7376)
    assert first.published == datetime(2019, 10, 11, 18, 0, tzinfo=UTC)  # "6pm Oct. 11th"
    assert (first.category, first.uploader) == ("42", "YTSAGx")
    mp3 = rows[9]
    assert mp3.title == "Beyoncé - The Lion King The Gift (2019) Mp3 (320 kbps) [Hunter]"
    assert mp3.size == int(132.9 * MB)
    assert mp3.published == datetime(2019, 7, 19, tzinfo=UTC)  # "Jul. 19th '19"
    assert mp3.category == "22"
    old = rows[10]
    assert old.published == datetime(2011, 10, 5, tzinfo=UTC)  # "Oct. 5th '11"
    assert old.size == int(501.1 * MB)
    assert rows[11].size == int(12.8 * GB)


def test_2019_search_next_page_is_the_next_link_not_the_last(site: HtmlSite) -> None:
    assert listing(site, SEARCH_2019).next_url == "https://1337x.to/search/lion+king/2/"


def test_2016_list_rows(site: HtmlSite) -> None:
    page = listing(site, LIST_2016)
    first = page.rows[0]
    # The list shows the title cut short; the detail page has the whole name.
    assert first.title == (
        "StepMomLessons.16.08.10.Isabella.Lui.And.Violette.Pink.Bed.Of.Roses.XXX.1080p.MP..."
    )
    assert first.details_url == (
        "https://1337x.to/torrent/1708660/"
        "StepMomLessons-16-08-10-Isabella-Lui-And-Violette-Pink-Bed-Of-Roses-XXX-1080p-MP4-KTR-PRiME/"
    )
    assert first.size == int(1.77 * GB)
    assert (first.seeders, first.leechers) == (0, 0)
    assert first.published is None  # this markup has no date column
    assert (first.category, first.uploader) == ("48", "showstopper")
    assert page.rows[12].title == "Big Ol' Tits_MPRT.mp4"  # &#039; decoded
    assert page.rows[14].size == 154 * MB  # "154 MB", no decimals
    assert page.next_url == "https://1337x.to/cat/XXX/2/"  # div.pagging-box ">>"


def test_2022_search_rows(site: HtmlSite) -> None:
    page = listing(site, SEARCH_2022)
    first = page.rows[0]
    assert first.title == "Dune.2021.1080p.WEBRip.DD5.1.x264-SHITBOX"
    assert first.details_url == (
        "https://1337x.to/torrent/5020920/Dune-2021-1080p-WEBRip-DD5-1-x264-SHITBOX/"
    )
    assert first.size == int(10.6 * GB)
    assert (first.seeders, first.leechers) == (7312, 899)
    assert first.published == datetime(2022, 5, 10, tzinfo=UTC)  # "May. 10th  '22"
    assert (first.category, first.uploader) == ("movies/HD", "Cristie")
    assert page.rows[1].size == 3 * GB
    assert page.rows[3].category == "movies/HEVC-x265"
    assert page.next_url is None  # the trimmed page has no pagination


def test_2016_detail_values(site: HtmlSite) -> None:
    detail = site.parse_detail(fixture_text(DETAIL_2016.path), DETAIL_2016.url, DETAIL_2016.now)
    values = detail.values
    assert values["title"] == (
        "The Settlers 7: Paths to a Kingdom. Deluxe Gold Edition (2011) PC | RePack by z10yded"
    )
    assert values["info_hash"] == "7600f6f57ee08b4e560c907cf43b24727856249c"
    assert values["magnet"].startswith("magnet:?xt=urn:btih:7600F6F57EE08B4E560C907CF43B2472")
    assert values["size"] == int(5.53 * GB)
    assert (values["seeders"], values["leechers"]) == (29, 0)
    assert values["published"] == datetime(2016, 8, 11, 7, 0, tzinfo=UTC)  # "5 hours ago"
    assert (values["category"], values["uploader"]) == ("Games", "Dante69")
    description = values["description"]
    assert description.startswith("Year: 2011\nGenre: Strategy (Real-time), 3D\n")
    assert '"The right to the throne"' in description  # &quot; decoded
    assert description.endswith("up to five members at the same time!")
    files = {f.path: f.size for f in detail.files}
    assert len(detail.files) == 22
    assert files["APR2007_xinput_x86.cab"] == int(52.05 * KB)
    assert files["Autorun.inf"] == int(0.08 * KB)
    assert files["data-b.bin"] == int(2.47 * GB)
    assert files["Разбивка_на_диски.txt"] == int(0.16 * KB)


def test_obfuscated_detail_still_gives_magnet_and_info_hash(site: HtmlSite) -> None:
    text = fixture_text(DETAIL_2022.path)
    values = site.parse_detail(text, DETAIL_2022.url, DETAIL_2022.now).values
    assert values["info_hash"] == "4d165eae3c3f1c8fcd467e7a9b21add164d6e969"
    assert values["magnet"].startswith(
        "magnet:?xt=urn:btih:4D165EAE3C3F1C8FCD467E7A9B21ADD164D6E969&dn=Dune.2021.1080p"
    )
    # The scrambled class names are 40-hex decoys; none may pass for the hash.
    decoys = re.findall(r"\bl([0-9a-f]{40})\b", text)
    assert len(decoys) == 4
    assert values["info_hash"] not in decoys


# ------------------------------------------------------------------- categories


@pytest.mark.parametrize(
    ("code", "torznab"),
    [
        ("42", 2040),  # Movies/HD
        ("54", 2040),  # Movies/h.264/x264
        ("1", 2070),  # Movies/DVD
        ("2", 2030),  # Movies/Divx/Xvid
        ("4", 2010),  # Movies/Dubs/Dual Audio
        ("55", 2000),  # Movies/Mp4
        ("22", 3010),  # Music/MP3
        ("48", 6000),  # XXX/Video
        ("movies/HD", 2040),
        ("movies/HEVC-x265", 2040),
        ("Games", 4050),  # the detail page's top-level name
        ("movies/Bollywood", 2000),  # an unmapped sub-category falls back to its parent
        ("tv/Cartoons", 5000),
    ],
)
def test_category_maps_to_torznab(site: HtmlSite, code: str, torznab: int) -> None:
    assert site.category_id(code) == torznab


def test_unknown_category_maps_to_nothing(site: HtmlSite) -> None:
    assert site.category_id("999") is None
    assert site.category_id("nonsense/HD") is None
    assert site.category_id(None) is None


@pytest.mark.parametrize("saved", LISTINGS, ids=lambda s: s.golden)
def test_every_category_on_the_saved_pages_is_mapped(site: HtmlSite, saved: SavedPage) -> None:
    unmapped = {
        row.category for row in listing(site, saved).rows if not site.category_id(row.category)
    }
    assert unmapped == set()


# ----------------------------------------------------------------- hostile input

_rng = random.Random(1337)
HOSTILE_BODIES = {
    "empty": "",
    "whitespace": " \r\n\t ",
    "nul bytes": "\x00" * 64,
    "binary": bytes(_rng.randrange(256) for _ in range(8192)).decode("latin-1"),
    "lone surrogate": "\ud800<html><body>\udfff</body></html>",
    "unclosed tags": "<" * 5000 + "<table class='table-list'><tbody><tr><td class='coll-1'>",
    "deep nesting": "<div>" * 50_000,
    "not html": '{"error": "rate limited"}',
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_hostile_bodies_never_raise_and_fail_the_layout_check(site: HtmlSite, body: str) -> None:
    page = site.parse_listing(body, SEARCH_2019.url, SEARCH_2019.now)
    assert page.rows == ()
    assert site.parse_detail(body, DETAIL_2016.url, DETAIL_2016.now).files == ()
    with pytest.raises(LayoutChanged, match="no result rows"):
        site.check_listing(page, first=True)


def test_an_empty_page_after_the_first_ends_the_listing(site: HtmlSite) -> None:
    site.check_listing(site.parse_listing("", SEARCH_2019.url, SEARCH_2019.now), first=False)


def _cut_points(text: str, first: str, after: str) -> list[int]:
    """Offsets across the results (from `first` to `after`): a regular stride, and the
    middle of every cell's text."""
    start, end = text.index(first), text.index(after)
    middles = [
        m.start() + len(m.group(1)) // 2
        for m in re.finditer(r">([^<]{2,})<", text[start:end])
        if m.group(1).strip()
    ]
    return sorted({*range(start, end, 41), *(start + offset for offset in middles)})


@pytest.mark.parametrize(
    ("saved", "first", "after"),
    [
        (SEARCH_2019, "<tbody>", "</tbody>"),
        (LIST_2016, '<div class="tab-detail">', '<div class="pagging-box">'),
    ],
    ids=["2019 table", "2016 list"],
)
def test_a_truncated_page_yields_only_whole_rows(
    site: HtmlSite, saved: SavedPage, first: str, after: str
) -> None:
    text = fixture_text(saved.path)
    whole = listing(site, saved).rows
    cuts = _cut_points(text, first, after)
    assert len(cuts) > 200
    for cut in cuts:
        rows = listing(site, saved, text[:cut]).rows
        # Rows read from a cut page are exactly the first rows of the whole page:
        # no row with a cut uploader ("YTSA"), size ("1.9 G") or title.
        assert rows == whole[: len(rows)], f"cut at {cut}: {text[cut - 40 : cut]!r}"


def test_a_page_cut_inside_a_row_counts_that_row_as_bad(site: HtmlSite) -> None:
    text = fixture_text(SEARCH_2019.path)
    uploader = '<a href="/user/MkvCage/">'
    cut = text.index(uploader) + len(uploader) + len("Mkv")  # the 8th row's last cell
    page = listing(site, SEARCH_2019, text[:cut])
    assert [row.title for row in page.rows] == [
        row.title for row in listing(site, SEARCH_2019).rows[:7]
    ]
    assert page.bad_rows == 1
    assert page.next_url is None
    site.check_listing(page, first=True)


def _break_sizes(text: str, rows: int) -> str:
    """The page with the size cell of its first `rows` rows replaced by garbage."""
    return re.sub(
        r'(<td class="coll-4 size[^"]*">)[^<]*',
        lambda m: m.group(1) + "??",
        text,
        count=rows,
    )


def test_most_rows_broken_is_a_layout_change(site: HtmlSite) -> None:
    page = listing(site, SEARCH_2019, _break_sizes(fixture_text(SEARCH_2019.path), 11))
    assert (len(page.rows), page.bad_rows) == (9, 11)
    with pytest.raises(LayoutChanged, match=r"11 of 20 rows did not parse \(size: not a size"):
        site.check_listing(page, first=True)


def test_a_few_broken_rows_are_skipped_not_a_layout_change(site: HtmlSite) -> None:
    page = listing(site, SEARCH_2019, _break_sizes(fixture_text(SEARCH_2019.path), 3))
    assert (len(page.rows), page.bad_rows) == (17, 3)
    assert page.rows == listing(site, SEARCH_2019).rows[3:]
    site.check_listing(page, first=True)


def test_a_search_without_results_is_not_a_layout_change(site: HtmlSite) -> None:
    # The 2019 page with its results table replaced by the site's no-results notice.
    text = fixture_text(SEARCH_2019.path)
    start = text.index('<div class="table-list-wrap">')
    end = text.index("</div>", text.index('<div class="pagination">')) + len("</div>")
    empty = (
        text[:start] + "<p>No results were returned. Please refine your search.</p>" + text[end:]
    )
    page = listing(site, SEARCH_2019, empty)
    assert (page.rows, page.next_url) == ((), None)
    assert page.says_no_results
    site.check_listing(page, first=True)
