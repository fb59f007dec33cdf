"""Knaben API v1: request bodies, an answer read by hand, paging and a crawl end to end.

No answer of Knaben's was ever saved: tests/fixtures/json-knaben/knaben_v1_answer.json
is SYNTHETIC (see MANIFEST.tsv), written in the shape Knaben's API documentation
and a client's answer schema describe, with Knaben's category ids. Its five hits
cover a hash with a magnet, a magnet without a hash, a hash without a magnet
(a .torrent link only), a time with a +01:00 offset and a hit with no details page.
"""

from __future__ import annotations

import hashlib
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
from engine.sources.api.base import ApiRequest, ShapeError
from engine.sources.api.knaben import PAGE_SIZE, KnabenSource
from tests.engine.sources.api.local_api import (
    Seen,
    hits,
    json_answer,
)

FIXTURE = Path(__file__).parents[3] / "fixtures" / "json-knaben" / "knaben_v1_answer.json"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
TRACKER = "&tr=udp%3A%2F%2Ftracker.opentrackr.org%3A1337%2Fannounce"
LATEST_BODY = {
    "order_by": "date",
    "order_direction": "desc",
    "size": 50,
    "hide_unsafe": True,
    "hide_xxx": True,
}
"""Every field of a `latest` body but `from`."""

source = KnabenSource()


def saved() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_bytes())
    return data


def hit(number: int, **fields: Any) -> dict[str, Any]:
    """A hit in Knaben's shape for torrent `number` (its own hash), fields replaced as given."""
    info_hash = hashlib.sha1(f"knaben-test-{number}".encode()).hexdigest()  # noqa: S324
    base = {
        "bytes": 1_000_000 + number,
        "cachedOrigin": "1337x",
        "category": "Movies HD",
        "categoryId": [3001000],
        "date": "2025-05-01T10:00:00+00:00",
        "details": f"https://1337x.to/torrent/{number}/",
        "hash": info_hash,
        "id": f"kn-{number}",
        "lastSeen": "2025-05-02T10:00:00+00:00",
        "magnetUrl": f"magnet:?xt=urn:btih:{info_hash}",
        "link": None,
        "peers": 2,
        "seeders": 10,
        "score": None,
        "title": f"Knaben Test Movie {number} 2025 1080p WEB-DL",
        "tracker": "1337x",
        "trackerId": "1337x",
        "virusDetection": 0,
    }
    return base | fields


def answer_of(hits_: list[dict[str, Any]], total: Any) -> dict[str, Any]:
    return {"hits": hits_, "max_score": None, "total": total}


# ------------------------------------------------------------------ requests


@pytest.mark.parametrize(("page", "offset"), [(1, 0), (2, 50), (3, 100)])
def test_latest_posts_the_newest_first_query_at_the_page_offset(page: int, offset: int) -> None:
    assert source.request("latest", None, page) == ApiRequest(
        "/v1", json_body={**LATEST_BODY, "from": offset}
    )


@pytest.mark.parametrize("query", ["dune", "dune part two", 'R&B 100% "live"', "デューン"])
def test_a_search_asks_for_every_term_in_the_title_verbatim(query: str) -> None:
    request = source.request("search", query, 2)
    assert request == ApiRequest(
        "/v1",
        json_body={
            "search_type": "100%",
            "search_field": "title",
            "query": query,  # JSON carries it as it is: no URL encoding
            **LATEST_BODY,
            "from": 50,
        },
    )


# ------------------------------------------------------------------ the answer


def test_every_hit_of_the_answer() -> None:
    page = source.parse(saved(), NOW)
    assert (page.bad_rows, page.errors, page.more) == (0, (), False)
    assert page.records == (
        RawRecord(
            source="knaben",
            title="Dune.Part.Two.2024.1080p.WEBRip.x265.10bit.AAC5.1-SYNTHETIC",
            info_hash="55d49654b5eeb2e345f52ce5ecaab974f3edcc36",
            magnet="magnet:?xt=urn:btih:55d49654b5eeb2e345f52ce5ecaab974f3edcc36"
            "&dn=Dune.Part.Two.2024.1080p.WEBRip.x265.10bit.AAC5.1-SYNTHETIC" + TRACKER,
            size=2_968_337_547,
            seeders=1209,
            leechers=269,
            published_at=datetime(2024, 4, 6, 4, 39, 43, tzinfo=UTC),
            category="2040",  # 3001000 Movies HD
            source_url="https://1337x.to/torrent/6000001/Dune-Part-Two-2024-1080p-WEBRip/",
        ),
        RawRecord(
            source="knaben",
            title="Dune.Prophecy.S01E04.1080p.WEB.h264-SYNTHETIC",
            info_hash=None,  # "hash": null: the magnet names the torrent
            magnet="magnet:?xt=urn:btih:A5412B393A59C7BC63D851814A90D44B3AF1BF17"
            "&dn=Dune.Prophecy.S01E04.1080p.WEB.h264-SYNTHETIC" + TRACKER,
            size=1_610_612_736,
            seeders=388,
            leechers=41,
            published_at=datetime(2024, 12, 9, 3, 12, tzinfo=UTC),
            category="5040",  # 2001000 TV HD
            source_url="https://eztvx.to/ep/3000001/dune-prophecy-s01e04-1080p-web-h264/",
        ),
        RawRecord(
            source="knaben",
            title="[Synthetic] Dune Anime - 01 [1080p].mkv",
            info_hash="b8f08775463dfdf330715784f86bb1710e5cc7be",  # sent in upper case
            magnet=None,  # "magnetUrl": null, a .torrent link only
            size=1_395_864_371,
            seeders=57,
            leechers=12,
            published_at=datetime(2025, 1, 5, 17, 30, tzinfo=UTC),  # 18:30+01:00
            category="5070",  # 6001000 Anime Subbed
            source_url="https://nyaa.si/view/1900001",
        ),
        RawRecord(
            source="knaben",
            title="Frank Herbert - Dune Chronicles (synthetic) EPUB",
            info_hash="b3948204aea9e54571ae5057f3aa0193f003f1e5",
            magnet="magnet:?xt=urn:btih:b3948204aea9e54571ae5057f3aa0193f003f1e5"
            "&dn=Frank+Herbert+-+Dune+Chronicles+%28synthetic%29+EPUB" + TRACKER,
            size=21_839_798,
            seeders=99,
            leechers=0,
            published_at=datetime(2017, 6, 23, 16, 12, 27, tzinfo=UTC),
            category="7020",  # 9001000 EBooks
            source_url="https://thepiratebay.org/description.php?id=17000001",
        ),
        RawRecord(
            source="knaben",
            title="Dune 1984 Extended 720p BluRay synthetic",
            info_hash="c1f4f032c5e088277121d6c43aee92003812cd1c",
            magnet="magnet:?xt=urn:btih:c1f4f032c5e088277121d6c43aee92003812cd1c"
            "&dn=Dune+1984+Extended+720p+BluRay+synthetic" + TRACKER,
            size=4_831_838_208,
            seeders=15,
            leechers=3,
            published_at=datetime(2021, 10, 22, 9, 5, 10, tzinfo=UTC),
            category="2000",  # 3000000 Movies
            source_url=None,  # "details": null
        ),
    )


def test_an_empty_answer_holds_nothing_and_ends_the_pages() -> None:
    page = source.parse(answer_of([], {"relation": "eq", "value": 0}), NOW)
    assert (page.records, page.bad_rows, page.more) == ((), 0, False)


@pytest.mark.parametrize(
    "bad",
    [
        {"hash": None, "magnetUrl": None, "link": "https://nyaa.si/download/1.torrent"},
        {"hash": None, "magnetUrl": "https://example.org/not-a-magnet"},
        {"hash": "not-a-hash"},
        {"seeders": "many"},
        {"peers": -1},
        {"bytes": 1.5},
        {"date": "yesterday"},
        {"date": 1714000000},
        {"title": ""},
        {"title": None},
    ],
)
def test_a_hit_with_a_garbage_field_is_skipped_and_counted(bad: dict[str, Any]) -> None:
    data = saved()
    data["hits"].append(hit(1, **bad))
    page = source.parse(data, NOW)
    assert len(page.records) == 5
    assert page.bad_rows == 1
    assert len(page.errors) == 1


def test_a_hit_that_is_not_an_object_is_a_bad_row() -> None:
    data = saved()
    data["hits"].append(["a", "list"])
    assert source.parse(data, NOW).bad_rows == 1


@pytest.mark.parametrize(
    ("ids", "category"),
    [
        ([3000000, 3001000], "2040"),  # the subcategory is the more precise
        ([3001000, 3000000], "2040"),
        ([1001069], "3010"),  # below a subcategory: read as MP3
        ([1999999], "3000"),  # an unknown subcategory: read as Audio
        ([6000000], "5070"),  # Anime is a TV subcategory
        ([7009000], "1010"),  # Switch
        ([10001000], "8010"),
        ([42], None),
        ([], None),
        (["movies"], None),
        ("3001000", None),
        (3001000, "2040"),
        (None, None),
    ],
)
def test_knaben_categories_become_torznab_ids(ids: Any, category: str | None) -> None:
    page = source.parse(answer_of([hit(1, categoryId=ids)], 1), NOW)
    assert page.bad_rows == 0
    assert page.records[0].category == category


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2024-04-06T04:39:43Z", datetime(2024, 4, 6, 4, 39, 43, tzinfo=UTC)),
        ("2024-04-06T04:39:43", datetime(2024, 4, 6, 4, 39, 43, tzinfo=UTC)),
        ("2024-04-06T06:39:43.250+02:00", datetime(2024, 4, 6, 4, 39, 43, 250000, tzinfo=UTC)),
        (None, None),
    ],
)
def test_dates_are_iso_8601_and_utc_when_they_say_nothing(
    date: str | None, expected: datetime | None
) -> None:
    (record,) = source.parse(answer_of([hit(1, date=date)], 1), NOW).records
    assert record.published_at == expected


@pytest.mark.parametrize(
    ("count", "total", "more"),
    [
        (PAGE_SIZE, {"relation": "eq", "value": 120}, True),
        (PAGE_SIZE, {"relation": "gte", "value": 10000}, True),
        (PAGE_SIZE, 120, True),  # the total as a bare number
        (PAGE_SIZE, None, True),  # no total: a full page may have a next
        (PAGE_SIZE, {"value": PAGE_SIZE}, False),  # exactly one page in all
        (PAGE_SIZE - 1, {"value": 120}, False),  # a page that is not full is the last
        (3, 3, False),
    ],
)
def test_more_pages_follow_a_full_page_while_the_total_is_larger(
    count: int, total: Any, more: bool
) -> None:
    page = source.parse(answer_of([hit(n) for n in range(count)], total), NOW)
    assert len(page.records) == count
    assert page.more is more


@pytest.mark.parametrize(
    "data", [{"error": "bad request"}, {"hits": None}, {"hits": {"a": 1}}, [], "oops"]
)
def test_an_answer_without_a_list_of_hits_is_a_shape_error(data: Any) -> None:
    with pytest.raises(ShapeError):
        source.parse(data, NOW)


# ------------------------------------------------------------------ end to end


def pages_of(total: int) -> Callable[[Seen], web.Response]:
    """A Knaben holding `total` hits, newest first: each POST gets its `from`..`from+size`."""

    def answer(seen: Seen) -> web.Response:
        start, size = seen.body["from"], seen.body["size"]
        numbers = range(start, min(start + size, total))
        return json_answer(answer_of([hit(n) for n in numbers], {"relation": "eq", "value": total}))

    return answer


SITE = "knaben"
"""The source the shared fixtures (conftest.py) crawl."""


def stored(core: Core) -> int:
    return len(hits(core, limit="500"))


async def test_a_search_posts_its_query_and_stores_every_hit(
    api_core: Callable[..., Any],
) -> None:
    body = FIXTURE.read_bytes()
    api, core = await api_core(lambda _seen: web.Response(body=body))
    report = await core.services.crawlers.crawl_site("knaben", "search", query="dune", depth=3)
    expected = {"search_type": "100%", "search_field": "title", "query": "dune"}
    assert api.seen == [Seen("POST", "/v1", {**expected, **LATEST_BODY, "from": 0})]
    assert (report.pages, report.rows, report.bad_rows, report.new) == (1, 5, 0, 5)
    assert report.stopped == "last page"  # 5 hits: no second page, whatever the depth

    assert stored(core) == 5
    (episode,) = hits(core, q="prophecy")
    assert episode.info_hash == "a5412b393a59c7bc63d851814a90d44b3af1bf17"  # from the magnet
    assert (episode.seeders, episode.leechers, episode.category) == (388, 41, 5040)
    (anime,) = hits(core, q="anime")
    assert anime.info_hash == "b8f08775463dfdf330715784f86bb1710e5cc7be"
    assert anime.published_at == datetime(2025, 1, 5, 17, 30, tzinfo=UTC)
    torrent = await core.services.search.torrent(episode.info_hash)
    assert [(s.source, s.source_url) for s in torrent.sightings] == [
        ("knaben", "https://eztvx.to/ep/3000001/dune-prophecy-s01e04-1080p-web-h264/")
    ]
    assert "udp://tracker.opentrackr.org:1337/announce" in torrent.trackers


async def test_latest_reads_pages_by_offset_up_to_the_depth(
    api_core: Callable[..., Any],
) -> None:
    api, core = await api_core(pages_of(500), depth=2)
    report = await core.services.crawlers.crawl_site("knaben")
    assert [s.body for s in api.seen] == [
        {**LATEST_BODY, "from": 0},
        {**LATEST_BODY, "from": 50},
    ]
    assert (report.pages, report.new, report.stopped) == (2, 100, None)
    assert stored(core) == 100


async def test_latest_stops_at_the_last_page(api_core: Callable[..., Any]) -> None:
    api, core = await api_core(pages_of(60), depth=3)
    report = await core.services.crawlers.crawl_site("knaben")
    assert [s.body["from"] for s in api.seen] == [0, 50]
    assert (report.pages, report.new, report.stopped) == (2, 60, "last page")
    assert stored(core) == 60


async def test_an_empty_answer_stores_nothing(api_core: Callable[..., Any]) -> None:
    api, core = await api_core(pages_of(0), depth=3)
    report = await core.services.crawlers.crawl_site("knaben", "search", query="zzzz")
    assert len(api.seen) == 1
    assert (report.rows, report.new, report.stopped) == (0, 0, "last page")
    assert stored(core) == 0


async def test_a_server_error_raises_and_stores_nothing(api_core: Callable[..., Any]) -> None:
    api, core = await api_core(
        lambda _seen: web.Response(status=500, text="oops", headers={"Retry-After": "0"})
    )
    with pytest.raises(NetworkError):
        await core.services.crawlers.crawl_site("knaben")
    assert api.seen
    assert stored(core) == 0


async def test_an_answer_that_is_not_json_is_a_layout_change(
    api_core: Callable[..., Any],
) -> None:
    api, core = await api_core(lambda _seen: web.Response(text='{"hits": [', status=200))
    with pytest.raises(LayoutChanged) as raised:
        await core.services.crawlers.crawl_site("knaben")
    assert f"{api.url}/v1" in str(raised.value)
    assert "not JSON" in str(raised.value)
    assert stored(core) == 0


async def test_hits_that_name_no_torrent_are_a_layout_change(
    api_core: Callable[..., Any],
) -> None:
    nameless = [hit(n, hash=None, magnetUrl=None) for n in range(3)]
    _api, core = await api_core(lambda _seen: json_answer(answer_of(nameless, 3)))
    with pytest.raises(LayoutChanged, match="3 of 3 rows did not parse"):
        await core.services.crawlers.crawl_site("knaben")
    assert stored(core) == 0
