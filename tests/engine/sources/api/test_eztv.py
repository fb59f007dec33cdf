"""EZTV's API source: the saved answer read value by value, its requests, and crawls end to end.

The saved answer is EZTV's `get-torrents?limit=3` (three torrents of 1 074 166,
`size_bytes` as a string, IMDb ids without "tt"). Every expected value below was
read off the JSON by hand; the dates are `date_released_unix` in UTC.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web

from engine.classify import classify
from engine.errors import LayoutChanged, NetworkError
from engine.models import ContentKind, RawRecord
from engine.sources.api.base import ApiPage, ShapeError
from engine.sources.api.eztv import EztvSource
from engine.sources.api.source import API_SOURCES
from engine.sources.report import CrawlRequestError
from tests.engine.sources.api.conftest import Answer, OpenCore, Serve
from tests.engine.sources.api.local_api import LocalApi, Seen, hits

SAVED = Path(__file__).resolve().parents[3] / "fixtures" / "json-eztv"
LATEST = SAVED / "baka_eztv_get_torrents_latest.json"
NOW = datetime(2026, 8, 17, tzinfo=UTC)
HASHES = (
    "e21d289964f79d78c1af82c605c483b9fbde8a1e",
    "b82b5d189d08233a30cb1fef73747610bb72ea26",
    "2264eeb968fb5686aaab8977be348eb2c3c322ac",
)


def saved() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(LATEST.read_text("utf-8"))
    return data


def parse(data: Any) -> ApiPage:
    return EztvSource().parse(data, NOW)


# ------------------------------------------------------------------ the saved answer


def test_every_torrent_of_the_saved_answer() -> None:
    page = parse(saved())
    magnets = [row["magnet_url"] for row in saved()["torrents"]]
    assert page.records == (
        RawRecord(
            source="eztv",
            title="The Only Way Is Essex S37E05 720p WEB H264-JFF",
            info_hash="e21d289964f79d78c1af82c605c483b9fbde8a1e",
            magnet=magnets[0],
            size=1_040_629_990,
            seeders=0,
            leechers=0,
            published_at=datetime(2026, 8, 16, 11, 16, 16, tzinfo=UTC),
            imdb_id="tt1737565",
            category="5000",
        ),
        RawRecord(
            source="eztv",
            title="Iron Wok Jan S01E07 1080p HEVC x265-MeGusta",
            info_hash="b82b5d189d08233a30cb1fef73747610bb72ea26",
            magnet=magnets[1],
            size=197_001_208,
            seeders=0,
            leechers=0,
            published_at=datetime(2026, 8, 16, 9, 56, 28, tzinfo=UTC),
            imdb_id="tt42963873",
            category="5000",
        ),
        RawRecord(
            source="eztv",
            title="Iron Wok Jan S01E07 XviD-AFG",
            info_hash="2264eeb968fb5686aaab8977be348eb2c3c322ac",
            magnet=magnets[2],
            size=301_213_104,
            seeders=0,
            leechers=0,
            published_at=datetime(2026, 8, 16, 9, 54, 12, tzinfo=UTC),
            imdb_id="tt42963873",
            category="5000",
        ),
    )
    assert magnets[0].startswith("magnet:?xt=urn:btih:e21d289964f79d78c1af82c605c483b9fbde8a1e&")
    assert (page.bad_rows, page.errors, page.more) == (0, (), True)


def test_titles_without_the_site_name_classify_as_episodes() -> None:
    """EZTV appends " EZTV" to titles; dropped, the release group is the real one."""
    found = [
        (c.kind, c.category, c.season, c.episode, c.release_group)
        for c in (classify(r.title, source_category=r.category) for r in parse(saved()).records)
    ]
    assert found == [
        (ContentKind.TV, 5040, 37, 5, "JFF"),
        (ContentKind.TV, 5040, 1, 7, "MeGusta"),
        (ContentKind.TV, 5030, 1, 7, "AFG"),
    ]


def test_numbers_sent_as_strings_and_the_episode_page() -> None:
    data = saved()
    row = data["torrents"][0]
    row.update(seeds="12", peers="3", date_released_unix="1786878976", size_bytes=1040629990)
    row["episode_url"] = "https://eztvx.to/ep/3140007/the-only-way-is-essex-s37e05-720p-web/"
    record = parse(data).records[0]
    assert (record.seeders, record.leechers, record.size) == (12, 3, 1_040_629_990)
    assert record.published_at == datetime(2026, 8, 16, 11, 16, 16, tzinfo=UTC)
    assert record.source_url == row["episode_url"]


@pytest.mark.parametrize(
    ("imdb", "expected"),
    [("944947", "tt0944947"), ("tt1737565", "tt1737565"), ("0", None), ("", None), (None, None)],
)
def test_imdb_ids(imdb: str | None, expected: str | None) -> None:
    """EZTV sends digits (or "0" for a show it does not know); IMDb writes at least 7."""
    data = saved()
    data["torrents"][0]["imdb_id"] = imdb
    assert parse(data).records[0].imdb_id == expected


def test_a_garbage_imdb_id_costs_the_id_not_the_torrent() -> None:
    data = saved()
    data["torrents"][0]["imdb_id"] = "n/a"
    page = parse(data)
    assert (len(page.records), page.bad_rows, page.records[0].imdb_id) == (3, 0, None)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda row: row.pop("hash"), "KeyError"),
        (lambda row: row.update(title=""), "title"),
        (lambda row: row.update(size_bytes="about 1 GB"), "size_bytes"),
        (lambda row: row.update(seeds=-1), "seeds"),
        (lambda row: row.update(date_released_unix="yesterday"), "date_released_unix"),
    ],
)
def test_a_bad_row_is_skipped_and_counted(
    change: Callable[[dict[str, Any]], object], reason: str
) -> None:
    data = saved()
    change(data["torrents"][1])
    page = parse(data)
    assert [r.info_hash for r in page.records] == [HASHES[0], HASHES[2]]
    assert page.bad_rows == 1
    assert reason in page.errors[0]


def test_a_row_that_is_not_an_object_is_bad() -> None:
    data = saved()
    data["torrents"].append("e21d289964f79d78c1af82c605c483b9fbde8a1e")
    page = parse(data)
    assert (len(page.records), page.bad_rows) == (3, 1)


@pytest.mark.parametrize(
    "answer",
    [
        {"imdb_id": "1737565", "torrents_count": 0, "limit": 100, "page": 1},
        {"torrents_count": 0, "limit": 100, "page": 1, "torrents": []},
        {"torrents_count": 0, "limit": 100, "page": 1, "torrents": None},
    ],
)
def test_nothing_found_is_an_empty_page(answer: dict[str, Any]) -> None:
    page = parse(answer)
    assert (page.records, page.bad_rows, page.more) == ((), 0, False)


@pytest.mark.parametrize(
    "answer",
    [[], "Not found", {"torrents": "none"}, {"torrents": [], "page": "first"}],
)
def test_an_answer_of_another_shape_is_refused(answer: Any) -> None:
    with pytest.raises(ShapeError):
        parse(answer)


@pytest.mark.parametrize(
    ("paging", "more"),
    [
        ({"page": 1, "limit": 3, "torrents_count": 4}, True),
        ({"page": 2, "limit": 3, "torrents_count": 6}, False),
        ({"page": "2", "limit": "3", "torrents_count": "7"}, True),
        ({"page": 1, "limit": 3, "torrents_count": None}, False),
    ],
)
def test_more_pages_follow_from_the_count(paging: dict[str, Any], more: bool) -> None:
    data = saved()
    data.update(paging)
    assert parse(data).more is more


# ------------------------------------------------------------------ requests


def test_the_source_is_registered() -> None:
    assert API_SOURCES["eztv"] is EztvSource


def test_latest_pages() -> None:
    source = EztvSource()
    assert source.request("latest", None, 1).path == "/api/get-torrents?limit=100&page=1"
    assert source.request("latest", None, 3).path == "/api/get-torrents?limit=100&page=3"
    assert source.request("latest", None, 1).json_body is None


@pytest.mark.parametrize("query", ["tt1737565", "1737565", "TT1737565", " tt1737565 "])
def test_a_search_is_by_imdb_id(query: str) -> None:
    request = EztvSource().request("search", query, 2)
    assert request.path == "/api/get-torrents?limit=100&page=2&imdb_id=1737565"


def test_an_imdb_id_keeps_its_leading_zeros() -> None:
    path = EztvSource().request("search", "tt0944947", 1).path
    assert path.endswith("&imdb_id=0944947")


@pytest.mark.parametrize(
    "query", ["Iron Wok Jan", "tt", "tt12x4567", "0", "tt0000000", "12345678901", "tt 1737565"]
)
def test_a_search_by_text_is_refused(query: str) -> None:
    with pytest.raises(CrawlRequestError, match="IMDb id"):
        EztvSource().request("search", query, 1)


# ------------------------------------------------------------------ end to end


def page_answer(page: int, **paging: Any) -> bytes:
    """The saved answer as page `page`: page 1 byte for byte, later pages with their own hashes."""
    body = LATEST.read_bytes()
    if page == 1 and not paging:
        return body
    data = json.loads(body)
    data.update(page=page, **paging)
    text = json.dumps(data)
    for info_hash in HASHES if page > 1 else ():
        mark = f"{info_hash}-{page}".encode()
        text = text.replace(info_hash, hashlib.sha1(mark, usedforsecurity=False).hexdigest())
    return text.encode()


SITE = "eztv"
"""The source the shared fixtures (conftest.py) crawl."""


def saved_pages(**paging: Any) -> Answer:
    def answer(seen: Seen) -> web.Response:
        query = parse_qs(urlsplit(seen.path_qs).query)
        page = int(query["page"][0])
        return web.Response(body=page_answer(page, **paging), content_type="application/json")

    return answer


def requested_pages(api: LocalApi) -> list[str]:
    return [seen.path_qs for seen in api.seen]


async def test_latest_reads_pages_to_the_depth_and_the_torrents_are_searchable(
    served: Serve, cores: OpenCore
) -> None:
    api = await served(saved_pages())
    core = cores(api.url, depth=2)
    report = await core.services.crawlers.crawl_site("eztv")
    assert requested_pages(api) == [
        "/api/get-torrents?limit=100&page=1",
        "/api/get-torrents?limit=100&page=2",
    ]
    assert (report.pages, report.rows, report.bad_rows, report.new) == (2, 6, 0, 6)
    assert report.stopped is None  # the depth ended it: the count says more pages remain
    found = {hit.info_hash: hit for hit in hits(core, q="Iron Wok Jan", limit="100")}
    assert len(found) == 4
    first = found[HASHES[1]]
    assert (first.title, first.size, first.imdb_id) == (
        "Iron Wok Jan S01E07 1080p HEVC x265-MeGusta",
        197_001_208,
        "tt42963873",
    )
    assert (first.kind, first.category, first.season, first.episode) == (ContentKind.TV, 5040, 1, 7)
    assert first.sources == ("eztv",)
    assert [hit.title for hit in hits(core, q="Essex")] == [
        "The Only Way Is Essex S37E05 720p WEB H264-JFF"
    ] * 2


async def test_latest_stops_at_the_last_page(served: Serve, cores: OpenCore) -> None:
    api = await served(saved_pages(torrents_count=5))  # 3 a page: page 2 is the last
    core = cores(api.url, depth=5)
    report = await core.services.crawlers.crawl_site("eztv")
    assert len(api.seen) == 2
    assert (report.pages, report.new, report.stopped) == (2, 6, "last page")


async def test_latest_stops_when_a_page_brings_nothing_new(served: Serve, cores: OpenCore) -> None:
    api = await served(saved_pages())
    core = cores(api.url, depth=2)
    await core.services.crawlers.crawl_site("eztv")
    api.seen.clear()
    again = await core.services.crawlers.crawl_site("eztv")
    assert requested_pages(api) == ["/api/get-torrents?limit=100&page=1"]
    assert (again.new, again.updated, again.stopped) == (0, 3, "nothing new")


async def test_a_search_asks_for_the_show_by_imdb_id(served: Serve, cores: OpenCore) -> None:
    api = await served(saved_pages(torrents_count=3))
    core = cores(api.url)
    report = await core.services.crawlers.crawl_site("eztv", "search", query="tt1737565")
    assert requested_pages(api) == ["/api/get-torrents?limit=100&page=1&imdb_id=1737565"]
    assert (report.new, report.stopped) == (3, "last page")


async def test_a_search_by_text_sends_nothing(served: Serve, cores: OpenCore) -> None:
    api = await served(saved_pages())
    core = cores(api.url)
    with pytest.raises(CrawlRequestError, match="IMDb id"):
        await core.services.crawlers.crawl_site("eztv", "search", query="Iron Wok Jan")
    assert api.seen == []


async def test_a_show_with_no_torrents_is_an_empty_crawl(served: Serve, cores: OpenCore) -> None:
    empty = {"imdb_id": "1737565", "torrents_count": 0, "limit": 100, "page": 1}
    api = await served(lambda _seen: web.json_response(empty))
    core = cores(api.url)
    report = await core.services.crawlers.crawl_site("eztv", "search", query="tt1737565")
    assert (report.pages, report.rows, report.new, report.stopped) == (1, 0, 0, "last page")
    assert hits(core) == []


async def test_an_http_error_stops_the_crawl_and_stores_nothing(
    served: Serve, cores: OpenCore
) -> None:
    api = await served(
        lambda _seen: web.Response(status=500, text="oops", headers={"Retry-After": "0"})
    )
    core = cores(api.url)
    with pytest.raises(NetworkError, match="HTTP 500"):
        await core.services.crawlers.crawl_site("eztv")
    assert hits(core) == []


async def test_an_answer_that_is_not_json_is_a_layout_change(
    served: Serve, cores: OpenCore
) -> None:
    cut = LATEST.read_bytes()[:700]
    api = await served(lambda _seen: web.Response(body=cut, content_type="application/json"))
    core = cores(api.url)
    with pytest.raises(LayoutChanged, match="not JSON") as raised:
        await core.services.crawlers.crawl_site("eztv")
    assert raised.value.url == f"{api.url}/api/get-torrents?limit=100&page=1"
    assert hits(core) == []
