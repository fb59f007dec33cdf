"""The filter vocabulary on what real pages print, and on what broken or hostile pages print.

Inputs are cell texts as the parser hands them over (entities decoded, so TPB's
"12-18&nbsp;2016" arrives with a U+00A0), taken from the saved pages of 1337x,
The Pirate Bay and LimeTorrents. A value a filter cannot read is a `FieldError`
whose message says what was expected and shows the text; never another exception,
since the parser skips and counts a row only on `FieldError`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.sources.html.filters import FILTERS, FieldError, FilterContext, Step, make_step

NOW = datetime(2019, 11, 20, 12, 0, tzinfo=UTC)
PAGE = "https://1337x.to/search/lion+king/1/"
GB = 1024**3
MB = 1024**2


def run(step: Any, value: Any, now: datetime = NOW, page: str = PAGE) -> Any:
    return make_step(step)(value, FilterContext(page_url=page, now=now))


# ------------------------------------------------------------------------- int


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("15105", 15105),  # 1337x seeders
        ("0", 0),
        (" 7376 \n", 7376),
        ("1,234", 1234),  # thousands separators
        ("1\u00a0234", 1234),
        ("1&nbsp;234", 1234),
    ],
)
def test_int_reads_counts(text: str, count: int) -> None:
    assert run("int", text) == count


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a count"),
        ("n/a", "not a count"),
        ("-5", "not a count"),  # seeders are never negative
        ("1.5", "not a count"),
        ("9" * 13, "count out of range"),
        ("9" * 100_000, "count out of range"),
    ],
)
def test_int_refuses_what_is_not_a_count(text: str, message: str) -> None:
    with pytest.raises(FieldError, match=message):
        run("int", text)


# ------------------------------------------------------------------------ size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1.9 GB", int(1.9 * GB)),  # 1337x: binary units
        ("827.4 MB", int(827.4 * MB)),
        ("154 MB", 154 * MB),
        ("1.9 GB 15105", int(1.9 * GB)),  # the 2019 cell: size, then a seeders echo
        ("52.05 KB", int(52.05 * 1024)),
        ("0.08 KB", 81),  # fractions of a byte dropped
        ("456.3\u00a0MiB", int(456.3 * MB)),  # TPB
        ("Uploaded 12-18\u00a02016, Size 456.3\u00a0MiB, ULed by x", int(456.3 * MB)),
        ("1.07 GiB (1147614030 Bytes)", 1_147_614_030),  # TPB detail: the exact count wins
        ("441.90\u00a0MB", int(441.90 * MB)),  # LimeTorrents
        ("441.90&nbsp;MB", int(441.90 * MB)),  # the same, escaped twice by the page
        ("1,234.5 MB", int(1234.5 * MB)),
        ("1.5 TB", int(1.5 * 1024**4)),
        ("123 bytes", 123),
        ("10 B", 10),
    ],
)
def test_size_reads_sizes(text: str, size: int) -> None:
    assert run("size", text) == size


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a size"),
        ("n/a", "not a size"),
        ("5", "not a size"),  # a number without a unit
        ("GB", "not a size"),
        ("1 Year+", "not a size"),
        ("1.2.3 GB", "not a size"),
        ("99999999999 PB", "size out of range"),
        ("9" * 400 + " GB", "size out of range"),  # too long for a float: infinity
        ("1 GB " + "x" * 100_000, "too long to be a size"),
    ],
)
def test_size_refuses_what_is_not_a_size(text: str, message: str) -> None:
    with pytest.raises(FieldError, match=message):
        run("size", text)


@pytest.mark.parametrize("name", ["size", "date", "int", "info_hash"])
@pytest.mark.parametrize("text", ["1" * 1_000_000, "1 " * 500_000, "a" * 1_000_000])
def test_a_huge_cell_is_refused_quickly(name: str, text: str) -> None:
    began = time.perf_counter()
    with pytest.raises(FieldError):
        run(name, text)
    assert time.perf_counter() - began < 1.0


# ------------------------------------------------------------------------ date


@pytest.mark.parametrize(
    ("text", "now", "when"),
    [
        # 1337x, 2019: a clock time and a day without year, or a day with a short year.
        ("6pm Oct. 11th", NOW, datetime(2019, 10, 11, 18, 0, tzinfo=UTC)),
        ("11pm Oct. 9th", NOW, datetime(2019, 10, 9, 23, 0, tzinfo=UTC)),
        ("Aug. 4th '19", NOW, datetime(2019, 8, 4, tzinfo=UTC)),
        ("Oct. 5th '11", NOW, datetime(2011, 10, 5, tzinfo=UTC)),
        # 1337x, 2022: two spaces before the year.
        ("May. 10th  '22", datetime(2022, 5, 11, tzinfo=UTC), datetime(2022, 5, 10, tzinfo=UTC)),
        # 1337x detail pages, LimeTorrents: relative times.
        ("5 hours ago", NOW, datetime(2019, 11, 20, 7, 0, tzinfo=UTC)),
        ("10 hours ago", NOW, datetime(2019, 11, 20, 2, 0, tzinfo=UTC)),
        ("an hour ago", NOW, datetime(2019, 11, 20, 11, 0, tzinfo=UTC)),
        ("1 Year+", NOW, datetime(2018, 11, 20, 12, 0, tzinfo=UTC)),
        ("1 Week+", NOW, datetime(2019, 11, 13, 12, 0, tzinfo=UTC)),
        ("just now", NOW, datetime(2019, 11, 20, 12, 0, tzinfo=UTC)),
        # TPB: "Y-day", "Today", month-day with a year or with a clock time.
        ("Y-day 11:22", NOW, datetime(2019, 11, 19, 11, 22, tzinfo=UTC)),
        ("Today 05:31", NOW, datetime(2019, 11, 20, 5, 31, tzinfo=UTC)),
        ("12-18\u00a02016", NOW, datetime(2016, 12, 18, tzinfo=UTC)),
        ("12-18&nbsp;2016", NOW, datetime(2016, 12, 18, tzinfo=UTC)),
        (
            "12-18 05:31",
            NOW,
            datetime(2018, 12, 18, 5, 31, tzinfo=UTC),
        ),  # December is ahead: last year's
        ("11-02 05:31", NOW, datetime(2019, 11, 2, 5, 31, tzinfo=UTC)),
        # TPB detail, LimeTorrents detail: full dates, zone given.
        ("2016-08-02 16:49:45 GMT", NOW, datetime(2016, 8, 2, 16, 49, 45, tzinfo=UTC)),
    ],
)
def test_date_reads_what_sites_print(text: str, now: datetime, when: datetime) -> None:
    assert run("date", text, now=now) == when


def test_date_formats_are_tried_first() -> None:
    step = {"date": ["%d.%m.%Y %H:%M", "%m-%d %H:%M"]}
    assert run(step, "18.12.2016 05:31") == datetime(2016, 12, 18, 5, 31, tzinfo=UTC)
    # A format without a year: this year, or last year when that would be ahead of now.
    assert run(step, "12-18 05:31") == datetime(2018, 12, 18, 5, 31, tzinfo=UTC)
    assert run(step, "11-19 05:31") == datetime(2019, 11, 19, 5, 31, tzinfo=UTC)


def test_a_format_with_a_zone_gives_utc() -> None:
    when = run({"date": "%Y-%m-%d %H:%M %z"}, "2016-08-02 18:49 +0200")
    assert when == datetime(2016, 8, 2, 16, 49, tzinfo=UTC)


def test_a_naive_now_is_taken_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert run("date", "5 hours ago", now=naive) == datetime(2019, 11, 20, 7, 0, tzinfo=UTC)
    assert run("date", "6pm Oct. 11th", now=naive) == datetime(2019, 10, 11, 18, tzinfo=UTC)


YEARLESS = ["Jan. 1st", "6pm Oct. 11th", "Dec. 31st", "Nov. 21st", "3pm", "11pm", "Today 23:59"]


@pytest.mark.parametrize("text", YEARLESS)
def test_a_yearless_date_is_never_in_the_future(text: str) -> None:
    for days in range(0, 366, 5):
        for hour in (0, 11, 23):
            now = datetime(2020, 1, 1, hour, tzinfo=UTC) + timedelta(days=days)
            when = run("date", text, now=now)
            assert when <= now, f"{text!r} at {now}: {when}"
            assert now - when < timedelta(days=366), f"{text!r} at {now}: {when}"


def test_a_yearless_date_just_ahead_is_now_and_further_ahead_is_last_year() -> None:
    # Less than a day ahead: the site's clock runs ahead of UTC; the upload is new.
    assert run("date", "Nov. 21st") == NOW
    assert run("date", "Today 23:59") == NOW
    # More than a day ahead: it cannot be this year's.
    assert run("date", "Dec. 19th") == datetime(2018, 12, 19, tzinfo=UTC)
    assert run("date", "Feb. 29th", now=datetime(2020, 3, 1, tzinfo=UTC)) == datetime(
        2020, 2, 29, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty date"),
        ("   ", "empty date"),
        ("garbage", "not a date"),
        ("2016-13-45", "not a date"),
        ("99999999999", "not a date"),
        ("Today 99:99", "not a time"),
        ("9999 years ago", "date out of range"),
        ("99999999999999 years ago", "date out of range"),
        ("Oct. 11th " + "x" * 100_000, "too long to be a date"),
    ],
)
def test_date_refuses_what_is_not_a_date(text: str, message: str) -> None:
    with pytest.raises(FieldError, match=message):
        run("date", text)


# ---------------------------------------------------------------- absolute_url


@pytest.mark.parametrize(
    ("link", "url"),
    [
        (
            "/torrent/4050035/The-Lion-King-2019-BluRay-1080p-YTS-YIFY/",
            "https://1337x.to/torrent/4050035/The-Lion-King-2019-BluRay-1080p-YTS-YIFY/",
        ),
        ("/search/lion+king/2/", "https://1337x.to/search/lion+king/2/"),
        ("2/", "https://1337x.to/search/lion+king/1/2/"),
        ("//itorrents.org/torrent/X.torrent", "https://itorrents.org/torrent/X.torrent"),
        ("http://itorrents.org/torrent/X.torrent", "http://itorrents.org/torrent/X.torrent"),
        ("magnet:?xt=urn:btih:ABC&dn=x", "magnet:?xt=urn:btih:ABC&dn=x"),
    ],
)
def test_absolute_url_resolves_links_against_the_page(link: str, url: str) -> None:
    assert run("absolute_url", link) == url


@pytest.mark.parametrize(
    "link", ["", "  ", "javascript: void(0);", "mailto:x@example.org", "ftp://x/y", "http://[::1"]
)
def test_absolute_url_refuses_what_is_no_web_link(link: str) -> None:
    with pytest.raises(FieldError, match="link"):
        run("absolute_url", link)


# ----------------------------------------------------------------------- regex


@pytest.mark.parametrize(
    ("href", "code"),
    [("/sub/42/0/", "42"), ("/sub/movies/HD/1/", "movies/HD"), ("/sub/movies/1/", "movies/1")],
)
def test_regex_gives_its_group(href: str, code: str) -> None:
    # The 1337x definition's category pattern.
    assert run({"regex": r"^/sub/(\d+|[A-Za-z-]+(?:/[A-Za-z0-9-]+)?)/"}, href) == code


def test_regex_without_a_group_gives_the_match() -> None:
    assert run({"regex": r"\d+ [KMG]B"}, "Size 154 MB, ULed") == "154 MB"


def test_regex_that_does_not_match_says_so() -> None:
    with pytest.raises(FieldError, match=r"does not match '/user/YIFY/'"):
        run({"regex": r"^/sub/(\d+)/"}, "/user/YIFY/")


# ------------------------------------------------------------------- info_hash

HASH = "4d165eae3c3f1c8fcd467e7a9b21add164d6e969"


@pytest.mark.parametrize(
    "text",
    [
        "magnet:?xt=urn:btih:4D165EAE3C3F1C8FCD467E7A9B21ADD164D6E969&dn=Dune.2021",
        "magnet:?xt=urn%3Abtih%3A4D165EAE3C3F1C8FCD467E7A9B21ADD164D6E969",
        "http://itorrents.org/torrent/4D165EAE3C3F1C8FCD467E7A9B21ADD164D6E969.torrent",
        "Infohash : 4D165EAE3C3F1C8FCD467E7A9B21ADD164D6E969",
        # A name in dn= that looks like a hash does not win over btih:.
        "magnet:?dn=" + "a" * 40 + "&xt=urn:btih:4D165EAE3C3F1C8FCD467E7A9B21ADD164D6E969",
    ],
)
def test_info_hash_finds_the_hash(text: str) -> None:
    assert run("info_hash", text) == HASH


def test_info_hash_reads_base32_magnets() -> None:
    assert run("info_hash", "magnet:?xt=urn:btih:JULF5LR4H4OI7TKGPZ5JWINN2FSNN2LJ&dn=x") == HASH


@pytest.mark.parametrize("text", ["", "no hash here", "a" * 41, "4D165EAE3C3F1C8FCD467E7A9B21AD"])
def test_info_hash_refuses_text_without_one(text: str) -> None:
    with pytest.raises(FieldError, match="no info hash"):
        run("info_hash", text)


# ---------------------------------------------------------------- text filters


def test_replace_strip_strip_suffix_lower() -> None:
    assert run({"replace": ["&nbsp;", " "]}, "441.90&nbsp;MB") == "441.90 MB"
    assert run("strip", "  The Lion King \n (2019)  ") == "The Lion King (2019)"
    assert run({"strip_suffix": ", ULed by"}, "Size 456.3 MiB, ULed by") == "Size 456.3 MiB"
    assert run({"strip_suffix": ", ULed by"}, "Size 456.3 MiB") == "Size 456.3 MiB"
    assert run("lower", "Movies/HD") == "movies/hd"


def test_strip_refuses_blank_text() -> None:
    with pytest.raises(FieldError, match="empty text"):
        run("strip", " \n\t ")


# ------------------------------------------------------------------- make_step


def test_make_step_builds_every_filter() -> None:
    args = {"regex": "(x)", "replace": ["a", "b"], "strip_suffix": "x", "date": "%Y"}
    for name in FILTERS:
        step = make_step({name: args[name]} if name in args else name)
        assert isinstance(step, Step)
        assert step.name == name


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("frobnicate", "unknown filter 'frobnicate' \\(known: absolute_url, date, "),
        ({"sizes": None}, "unknown filter 'sizes'"),
        ("regex", "filter 'regex' needs an argument"),
        ("replace", "filter 'replace' needs an argument"),
        ({"int": 1}, "filter 'int' takes no argument"),
        ({"regex": "("}, "bad regular expression"),
        ({"regex": "(a)(b)"}, "at most one capturing group"),
        ({"regex": ""}, "give a regular expression"),
        ({"replace": ["a"]}, r"give \[old, new\]"),
        ({"replace": ["", "b"]}, "the text to replace is empty"),
        ({"date": "dd.mm.yyyy"}, "is not a strptime format"),
        ({"date": []}, "give a strptime format"),
        ({"strip_suffix": ""}, "give a non-empty text"),
        (5, "is not a filter"),
        ({"regex": "a", "int": None}, "is not a filter"),
        (["size"], "is not a filter"),
    ],
)
def test_make_step_refuses_bad_entries(item: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_step(item)


def test_a_date_without_formats_needs_no_argument() -> None:
    assert make_step("date").arg is None
