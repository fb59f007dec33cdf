"""apibay (The Pirate Bay's JSON API): requests, a saved search answer read by hand, a crawl.

The saved answer (tests/fixtures/json-apibay, MANIFEST.tsv) is apibay's answer
to `q.php?q=dune`: four rows whose numbers are all strings. No saved answer of
the precompiled top-100 list exists; it is a JSON array of rows of the same
shape, so `latest` is tested with rows written in that shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from engine.core import Core
from engine.errors import LayoutChanged, NetworkError
from engine.models import RawRecord
from engine.sources.api.apibay import LATEST_PATH, ApiBaySource
from engine.sources.api.base import ApiRequest, ShapeError
from tests.engine.sources.api.local_api import (
    Seen,
    hits,
    json_answer,
)

FIXTURE = Path(__file__).parents[3] / "fixtures" / "json-apibay" / "baka_apibay_q_dune.json"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
NO_RESULTS = {
    "id": "0",
    "name": "No results returned",
    "info_hash": "0000000000000000000000000000000000000000",
    "leechers": "0",
    "seeders": "0",
    "num_files": "0",
    "size": "0",
    "username": "",
    "added": "0",
    "status": "member",
    "category": "0",
    "imdb": "",
}
"""What apibay answers a search that finds nothing: one row, all zeros."""

source = ApiBaySource()


def saved() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(FIXTURE.read_bytes())
    return data


def row(**fields: Any) -> dict[str, Any]:
    """A row in apibay's shape (every value a string), fields replaced as given."""
    base: dict[str, Any] = {
        "id": "80000001",
        "name": "Some.Show.S01E01.1080p.WEB.h264-GRP",
        "info_hash": "0123456789ABCDEF0123456789ABCDEF01234567",
        "leechers": "5",
        "seeders": "50",
        "num_files": "1",
        "size": "1000000000",
        "username": "uploader",
        "added": "1735689600",
        "status": "member",
        "category": "208",
        "imdb": "",
    }
    return base | fields


# ------------------------------------------------------------------ requests


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("dune", "/q.php?q=dune&cat="),
        ("dune part two", "/q.php?q=dune+part+two&cat="),
        ("R&B 100%", "/q.php?q=R%26B+100%25&cat="),
        ("デューン", "/q.php?q=%E3%83%87%E3%83%A5%E3%83%BC%E3%83%B3&cat="),
    ],
)
def test_a_search_is_one_get_of_q_php_with_the_query_encoded(query: str, path: str) -> None:
    assert source.request("search", query, 1) == ApiRequest(path)


def test_latest_is_the_precompiled_list_of_recent_uploads() -> None:
    assert source.request("latest", None, 1) == ApiRequest("/precompiled/data_top100_recent.json")
    assert source.first_page == 1
    assert source.modes == ("latest", "search")


# ------------------------------------------------------------------ the saved answer


def test_every_row_of_the_saved_search_answer() -> None:
    page = source.parse(saved(), NOW)
    assert (page.bad_rows, page.errors, page.more) == (0, (), False)
    assert page.records == (
        RawRecord(
            source="apibay",
            title="Dune Part Two (2024) [1080p] [WEBRip] 88",
            info_hash="2770fe270845674966e184be60ed1be0fe494f3a",
            size=2_968_337_547,
            seeders=1209,
            leechers=269,
            published_at=datetime(2024, 4, 6, 4, 39, 43, tzinfo=UTC),
            category="2040",  # 207 HD - Movies
            imdb_id="tt15239678",
            source_url="https://thepiratebay.org/description.php?id=75005578",
        ),
        RawRecord(
            source="apibay",
            title="Dune.Prophecy.S01E01.WEB.x264-TORRENTGALAXY",
            info_hash="3e18b708be7b9ce7077a7fc32e74ae6d53169f34",
            size=324_354_737,
            seeders=49,
            leechers=2,
            published_at=datetime(2024, 11, 18, 12, 58, 14, tzinfo=UTC),
            category="5000",  # 205 TV Shows
            imdb_id="tt10466872",
            source_url="https://thepiratebay.org/description.php?id=77247525",
        ),
        RawRecord(
            source="apibay",
            title="Dune Prophecy (2024) S01 (1080p BluRay x265 10bit EAC3 Atmos 5.1 Ghost)",
            info_hash="628e3b0024acb40d7e4b5e99762f2eeb976269d8",
            size=24_500_154_811,
            seeders=113,
            leechers=24,
            published_at=datetime(2025, 5, 24, 7, 56, 21, tzinfo=UTC),
            category="5040",  # 208 HD - TV shows
            imdb_id=None,  # ""
            source_url="https://thepiratebay.org/description.php?id=79263879",
        ),
        RawRecord(
            source="apibay",
            title="All Dune books + short stories + extras ePUB",
            info_hash="4c35cae8beb1607c900847ebddf264d881d06267",
            size=21_839_798,
            seeders=99,
            leechers=0,
            published_at=datetime(2017, 6, 23, 15, 59, 7, tzinfo=UTC),
            category="7020",  # 601 E-books
            imdb_id=None,
            source_url="https://thepiratebay.org/description.php?id=17986161",
        ),
    )


def test_the_no_results_row_is_skipped_quietly() -> None:
    page = source.parse([NO_RESULTS], NOW)
    assert (page.records, page.bad_rows, page.more) == ((), 0, False)


def test_an_empty_answer_holds_nothing() -> None:
    page = source.parse([], NOW)
    assert (page.records, page.bad_rows, page.more) == ((), 0, False)


def test_numbers_may_also_come_as_numbers() -> None:
    (record,) = source.parse([row(seeders=7, size=123, added=1735689600)], NOW).records
    assert (record.seeders, record.size) == (7, 123)
    assert record.published_at == datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad",
    [
        row(seeders="lots"),
        row(size="-5"),
        row(leechers="1.5"),
        row(added="yesterday"),
        row(info_hash="not-a-hash"),
        row(info_hash="0123456789ABCDEF0123456789ABCDEF0123456"),  # 39 characters
        row(name=""),
        {k: v for k, v in row().items() if k != "name"},
        {k: v for k, v in row().items() if k != "info_hash"},
        "a string, not a row",
    ],
)
def test_a_row_with_a_garbage_field_is_skipped_and_counted(bad: Any) -> None:
    page = source.parse([*saved(), bad], NOW)
    assert len(page.records) == 4
    assert page.bad_rows == 1
    assert len(page.errors) == 1


@pytest.mark.parametrize(
    ("fields", "category", "imdb", "url"),
    [
        ({"category": "abc"}, None, None, "https://thepiratebay.org/description.php?id=80000001"),
        ({"category": "213"}, "2000", None, "https://thepiratebay.org/description.php?id=80000001"),
        ({"category": "999"}, None, None, "https://thepiratebay.org/description.php?id=80000001"),
        (
            {"imdb": "nm0000123"},
            "5040",
            None,
            "https://thepiratebay.org/description.php?id=80000001",
        ),
        (
            {"imdb": "tt0087182"},
            "5040",
            "tt0087182",
            "https://thepiratebay.org/description.php?id=80000001",
        ),
        ({"id": ""}, "5040", None, None),
    ],
)
def test_hints_that_cannot_be_read_are_left_out_and_the_row_is_kept(
    fields: dict[str, str], category: str | None, imdb: str | None, url: str | None
) -> None:
    page = source.parse([row(**fields)], NOW)
    assert page.bad_rows == 0
    (record,) = page.records
    assert (record.category, record.imdb_id, record.source_url) == (category, imdb, url)


@pytest.mark.parametrize(
    ("code", "torznab"),
    [
        ("101", "3000"),  # Music
        ("102", "3030"),  # Audio books
        ("104", "3040"),  # FLAC
        ("201", "2000"),  # Movies
        ("202", "2000"),  # Movies DVDR (Jackett: Movies)
        ("209", "2060"),  # 3D
        ("211", "2045"),  # UHD/4k - Movies
        ("212", "5045"),  # UHD/4k - TV shows
        ("301", "4000"),  # Windows
        ("302", "4030"),  # Mac
        ("306", "4070"),  # Android
        ("401", "4050"),  # PC games
        ("403", "1180"),  # PSx
        ("500", "6000"),  # Porn
        ("602", "7030"),  # Comics
    ],
)
def test_tpb_categories_become_the_torznab_ids_jackett_gives_them(code: str, torznab: str) -> None:
    (record,) = source.parse([row(category=code)], NOW).records
    assert record.category == torznab


@pytest.mark.parametrize("data", [{"error": "x"}, "No results", None])
def test_an_answer_that_is_not_a_list_is_a_shape_error(data: Any) -> None:
    with pytest.raises(ShapeError):
        source.parse(data, NOW)


# ------------------------------------------------------------------ end to end


SITE = "apibay"
"""The source the shared fixtures (conftest.py) crawl."""


def stored(core: Core) -> int:
    return len(hits(core, limit="100"))


async def test_a_search_stores_every_row_and_finds_them(api_core: Callable[..., Any]) -> None:
    body = FIXTURE.read_bytes()
    api, core = await api_core(lambda _seen: web.Response(body=body))
    report = await core.services.crawlers.crawl_site("apibay", "search", query="dune")
    assert api.seen == [Seen("GET", "/q.php?q=dune&cat=", None)]
    assert (report.pages, report.rows, report.bad_rows, report.new) == (1, 4, 0, 4)
    assert report.stopped == "last page"

    assert stored(core) == 4
    (movie,) = hits(core, q="Dune Part Two")
    assert movie.info_hash == "2770fe270845674966e184be60ed1be0fe494f3a"
    assert (movie.seeders, movie.leechers, movie.size) == (1209, 269, 2_968_337_547)
    assert movie.category == 2040
    assert movie.imdb_id == "tt15239678"
    torrent = await core.services.search.torrent(movie.info_hash)
    assert [(s.source, s.source_url) for s in torrent.sightings] == [
        ("apibay", "https://thepiratebay.org/description.php?id=75005578")
    ]
    assert {h.title for h in hits(core, q="prophecy")} == {
        "Dune.Prophecy.S01E01.WEB.x264-TORRENTGALAXY",
        "Dune Prophecy (2024) S01 (1080p BluRay x265 10bit EAC3 Atmos 5.1 Ghost)",
    }


async def test_a_search_query_reaches_the_api_encoded(api_core: Callable[..., Any]) -> None:
    api, core = await api_core(lambda _seen: json_answer([NO_RESULTS]))
    await core.services.crawlers.crawl_site("apibay", "search", query="R&B  デューン")
    assert [s.path_qs for s in api.seen] == [
        "/q.php?q=R%26B+%E3%83%87%E3%83%A5%E3%83%BC%E3%83%B3&cat="
    ]


async def test_latest_reads_the_recent_list_once(api_core: Callable[..., Any]) -> None:
    rows = [
        row(id="80000001", name="Newest.Movie.2025.2160p.WEB-DL", category="211",
            info_hash="A" * 40, added="1748736000"),
        row(id="80000002", name="Newest.Show.S02E03.720p.HDTV", category="205",
            info_hash="B" * 40, added="1748735000"),
    ]  # fmt: skip
    api, core = await api_core(lambda _seen: json_answer(rows), depth=3)
    report = await core.services.crawlers.crawl_site("apibay")
    assert api.seen == [Seen("GET", LATEST_PATH, None)]  # no page 2, whatever the depth
    assert (report.pages, report.new, report.stopped) == (1, 2, "last page")
    (movie,) = hits(core, q="Newest Movie")
    assert (movie.info_hash, movie.category) == ("a" * 40, 2045)
    assert movie.published_at == datetime(2025, 6, 1, tzinfo=UTC)


async def test_a_search_without_results_stores_nothing(api_core: Callable[..., Any]) -> None:
    api, core = await api_core(lambda _seen: json_answer([NO_RESULTS]))
    report = await core.services.crawlers.crawl_site("apibay", "search", query="zzzz")
    assert (report.rows, report.bad_rows, report.new, report.errors) == (0, 0, 0, 0)
    assert len(api.seen) == 1
    assert stored(core) == 0


async def test_a_server_error_raises_and_stores_nothing(api_core: Callable[..., Any]) -> None:
    api, core = await api_core(
        lambda _seen: web.Response(status=500, text="oops", headers={"Retry-After": "0"})
    )
    with pytest.raises(NetworkError):
        await core.services.crawlers.crawl_site("apibay", "search", query="dune")
    assert api.seen
    assert stored(core) == 0


async def test_an_answer_that_is_not_json_is_a_layout_change(api_core: Callable[..., Any]) -> None:
    api, core = await api_core(lambda _seen: web.Response(text="<html>maintenance</html>"))
    with pytest.raises(LayoutChanged) as raised:
        await core.services.crawlers.crawl_site("apibay", "search", query="dune")
    assert f"{api.url}/q.php?q=dune&cat=" in str(raised.value)
    assert "not JSON" in str(raised.value)
    assert stored(core) == 0
