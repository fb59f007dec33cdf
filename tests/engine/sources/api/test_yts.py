"""YTS's API source: the saved answers read value by value, its requests, and crawls end to end.

The saved answers are YTS's `list_movies.json?query_term=test` (10 movies, 22
torrents; May 2021), the same call finding nothing (no `movies` key), and two
`movie_details.json` answers whose movie objects have the shape list_movies uses.
Every expected value below was read off the JSON by hand. The server ran on CET:
the first torrent's "date_uploaded" "2021-04-29 22:36:16" is 20:36:16 UTC, as its
`date_uploaded_unix` 1619728576 says.
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
from engine.sources.api.source import API_SOURCES
from engine.sources.api.yts import YtsSource
from tests.engine.sources.api.conftest import Answer, OpenCore, Serve
from tests.engine.sources.api.local_api import Seen, hits

SAVED = Path(__file__).resolve().parents[3] / "fixtures" / "json-yts"
QUERY_TEST = SAVED / "yts_list_movies_query_test.json"
EMPTY = SAVED / "yts_list_movies_empty.json"
NOW = datetime(2021, 5, 19, 12, tzinfo=UTC)

# title, info hash, size, seeds, peers, date_uploaded_unix, category
TORRENTS: list[tuple[str, str, int, int, int, int, str]] = [
    ("Test (2013) [720p] [WEBRip] [YTS]",
     "221A3DEC53BA607BFC89FFAE313563ECFA4EF1B2", 824495309, 10, 3, 1619728576, "2040"),
    ("Test (2013) [1080p] [WEBRip] [YTS]",
     "A26030DA37CF83B2FA21FD7E50174DA12C405E5D", 1535450808, 11, 2, 1619732351, "2040"),
    ("Persona: The Dark Truth Behind Personality Tests (2021) [720p] [WEBRip] [YTS]",
     "C1D07C38DE83529D76795BE8739D54245692F3B0", 822565929, 19, 3, 1616595987, "2040"),
    ("Persona: The Dark Truth Behind Personality Tests (2021) [1080p] [WEBRip] [YTS]",
     "CAC0EE68192244C3AAEDBDA0374E4C6A9A54B6C6", 1685774664, 12, 3, 1616599041, "2040"),
    ("Test Pattern (2019) [720p] [BluRay] [YTS]",
     "0D834D2C1D2C9D8020211E8A0A2FD97FDDB646DA", 794747208, 6, 0, 1618956882, "2040"),
    ("Test Pattern (2019) [1080p] [BluRay] [YTS]",
     "73759CB4FC434F1BA6D8EC2B3F03AD301990769B", 1632087572, 2, 4, 1618960684, "2040"),
    ("Test Pattern (2019) [720p] [WEBRip] [YTS]",
     "780F2D96081CED30FFFA78C7456F0C4B63A18741", 794810122, 7, 1, 1614542325, "2040"),
    ("Test Pattern (2019) [1080p] [WEBRip] [YTS]",
     "BF203617950F7F3B085710184AB622958686A558", 1471026299, 11, 2, 1614545382, "2040"),
    ("Scream Test (2020) [720p] [WEBRip] [YTS]",
     "C904C62DC9F05BE253672FC5E8059A842D91CF6E", 800147374, 4, 0, 1612300766, "2040"),
    ("Scream Test (2020) [1080p] [WEBRip] [YTS]",
     "1BD6FA491B87B2F22473DA84474CC73F9ECFBA1A", 1481763717, 10, 0, 1612303296, "2040"),
    ("Crash Test Aglaé (2017) [720p] [BluRay] [YTS]",
     "3912EA3C293AAF7F59D2F0939D22D5BF06D76E41", 821244723, 0, 0, 1606279474, "2040"),
    ("Crash Test Aglaé (2017) [1080p] [BluRay] [YTS]",
     "9591F22B831DB54661C49024245E6E9C6125E1D4", 1685774664, 1, 8, 1606285858, "2040"),
    ("Test Tube Babies (1948) [720p] [BluRay] [YTS]",
     "F40166C438EF98A583DF6680C24E928563BEEEDA", 668561572, 2, 1, 1603947372, "2040"),
    ("Test Tube Babies (1948) [1080p] [BluRay] [YTS]",
     "8B0DED899DC915DD4381D1B31A85B68CEB0FE480", 1245540516, 0, 1, 1603953182, "2040"),
    ("Black Test Car (1962) [720p] [BluRay] [YTS]",
     "488EC5CCCD10DA553C68794B7BDABFB95C474786", 909996196, 0, 1, 1602979640, "2040"),
    ("Black Test Car (1962) [1080p] [BluRay] [YTS]",
     "8B9C0B867E9B29D8D90D8EF48869D3AA0349F473", 1685774664, 2, 1, 1602986220, "2040"),
    ("Test Tube Teens from the Year 2000 (1994) [720p] [WEBRip] [YTS]",
     "AC2FB274D74BFD53FC09886283C4E6CC13EC087C", 773901517, 4, 0, 1597266084, "2040"),
    ("Test Tube Teens from the Year 2000 (1994) [1080p] [WEBRip] [YTS]",
     "01254BB74009D30B157E85C55FDA1C1A0CED502B", 1438814044, 8, 2, 1597272448, "2040"),
    ("The Alpha Test (2020) [720p] [WEBRip] [YTS]",
     "CD9AF8DC3072234C5E25FCEEDB7FCEE9FB3EEAEF", 832779059, 7, 0, 1583881687, "2040"),
    ("The Alpha Test (2020) [1080p] [WEBRip] [YTS]",
     "A31045DC1580A05B869459BB01F802E0DA80D17B", 1546188227, 5, 0, 1583888461, "2040"),
    ("Beta Test (2016) [720p] [BluRay] [YTS]",
     "EA5938CBB6176A675A3E71682FAF9801B5B6116F", 671801672, 1, 1, 1510868886, "2040"),
    ("Beta Test (2016) [1080p] [BluRay] [YTS]",
     "2C13C7B6AAE1BD80D9D7A6B8180D8CD577F9FEA8", 1428076626, 1, 2, 1510878707, "2040"),
]  # fmt: skip
# the movie of each pair of rows above (Test Pattern has four): IMDb code, page
MOVIES: list[tuple[str, str]] = [
    ("tt2407380", "https://yts.mx/movies/test-2013"),
    ("tt14173880", "https://yts.mx/movies/persona-the-dark-truth-behind-personality-tests-2021"),
    ("tt10121508", "https://yts.mx/movies/test-pattern-2019"),
    ("tt5816354", "https://yts.mx/movies/scream-test-2020"),
    ("tt5037626", "https://yts.mx/movies/crash-test-aglae-2017"),
    ("tt0046416", "https://yts.mx/movies/test-tube-babies-1948"),
    ("tt0056158", "https://yts.mx/movies/black-test-car-1962"),
    ("tt0111402", "https://yts.mx/movies/test-tube-teens-from-the-year-2000-1994"),
    ("tt11086254", "https://yts.mx/movies/the-alpha-test-2020"),
    ("tt4244162", "https://yts.mx/movies/beta-test-2016"),
]
TORRENTS_PER_MOVIE = [2, 2, 4, 2, 2, 2, 2, 2, 2, 2]


def saved(path: Path = QUERY_TEST) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def details_as_list(name: str) -> dict[str, Any]:
    """A movie_details answer's movie, in a list_movies answer of one movie."""
    movie = saved(SAVED / name)["data"]["movie"]
    data = {"movie_count": 1, "limit": 50, "page_number": 1, "movies": [movie]}
    return {"status": "ok", "status_message": "Query was successful", "data": data}


def parse(data: Any) -> ApiPage:
    return YtsSource().parse(data, NOW)


def expected_records() -> list[RawRecord]:
    movies = [movie for movie, n in zip(MOVIES, TORRENTS_PER_MOVIE, strict=True) for _ in range(n)]
    return [
        RawRecord(
            source="yts",
            title=title,
            info_hash=info_hash,
            size=size,
            seeders=seeds,
            leechers=peers,
            published_at=datetime.fromtimestamp(uploaded, UTC),
            imdb_id=imdb,
            category=category,
            source_url=url,
        )
        for (title, info_hash, size, seeds, peers, uploaded, category), (imdb, url) in zip(
            TORRENTS, movies, strict=True
        )
    ]


# ------------------------------------------------------------------ the saved answers


def test_every_torrent_of_every_movie() -> None:
    page = parse(saved())
    assert list(page.records) == expected_records()
    assert (page.bad_rows, page.errors, page.more) == (0, (), False)  # 10 movies, 20 a page
    assert page.records[0].published_at == datetime(2021, 4, 29, 20, 36, 16, tzinfo=UTC)


def test_the_names_classify_as_the_movies_they_are() -> None:
    for record in parse(saved()).records:
        found = classify(record.title, source_category=record.category)
        assert found.kind is ContentKind.MOVIE, record.title
        assert found.year == int(record.title.split("(")[-1][:4]), record.title
        assert f"[{found.resolution}]" in record.title, record.title
        assert found.release_group == "YTS", record.title
        assert found.category == 2040, record.title


def test_a_movie_from_the_details_answer() -> None:
    """A title that is a number ("13") still reads as a movie of its year."""
    (record,) = parse(details_as_list("yts_movie_details.json")).records
    assert record == RawRecord(
        source="yts",
        title="13 (2010) [720p] [BluRay] [YTS]",
        info_hash="BE046ED20B048C4FB86E15838DD69DADB27C5E8A",
        size=992466698,
        seeders=9,
        leechers=3,
        published_at=datetime(2015, 10, 31, 19, 46, 37, tzinfo=UTC),
        imdb_id="tt0798817",
        category="2040",
        source_url="https://yts.mx/movies/13-2010",
    )
    found = classify(record.title, source_category=record.category)
    assert (found.kind, found.year, found.media_source) == (ContentKind.MOVIE, 2010, "BluRay")


def test_a_movie_with_cast_and_images() -> None:
    page = parse(details_as_list("yts_movie_details_full.json"))
    assert [(r.title, r.info_hash, r.size, r.seeders, r.leechers) for r in page.records] == [
        (
            "16 Blocks (2006) [720p] [BluRay] [YTS]",
            "8619B57A3F39F1B49A1A698EA5400A883928C0A2",
            736142295,
            2,
            0,
        ),
        (
            "16 Blocks (2006) [1080p] [BluRay] [YTS]",
            "2A4B9A41C92A20A06C8846E66AD9B5BC4B669BC6",
            1503238554,
            11,
            3,
        ),
    ]
    assert {(r.imdb_id, r.source_url) for r in page.records} == {
        ("tt0450232", "https://yts.mx/movies/16-blocks-2006")
    }


@pytest.mark.parametrize(
    ("quality", "tags", "category", "refined"),
    [
        ("2160p", "[2160p] [BluRay]", "2045", 2045),
        ("1080p.x265", "[1080p] [x265] [BluRay]", "2040", 2040),
        ("3D", "[3D] [BluRay]", "2060", 2060),
        ("480p", "[480p] [BluRay]", "2000", 2030),
    ],
)
def test_the_quality_gives_the_category(
    quality: str, tags: str, category: str, refined: int
) -> None:
    data = details_as_list("yts_movie_details.json")
    data["data"]["movies"][0]["torrents"][0]["quality"] = quality
    (record,) = parse(data).records
    assert (record.title, record.category) == (f"13 (2010) {tags} [YTS]", category)
    assert classify(record.title, source_category=record.category).category == refined


def test_numbers_sent_as_strings() -> None:
    data = saved()
    data["data"]["movies"][0]["torrents"][0].update(
        size_bytes="824495309", seeds="10", peers="3", date_uploaded_unix="1619728576"
    )
    assert parse(data).records[0] == expected_records()[0]


def test_without_title_long_the_year_is_added() -> None:
    data = saved()
    del data["data"]["movies"][0]["title_long"]
    assert parse(data).records[0].title == "Test (2013) [720p] [WEBRip] [YTS]"


def test_a_garbage_imdb_code_costs_the_code_not_the_torrents() -> None:
    data = saved()
    data["data"]["movies"][0]["imdb_code"] = "2407380"
    page = parse(data)
    assert (len(page.records), page.bad_rows) == (22, 0)
    assert [r.imdb_id for r in page.records[:2]] == [None, None]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda movie: movie["torrents"][1].pop("hash"), "KeyError"),
        (lambda movie: movie["torrents"][1].update(size_bytes="1.43 GB"), "size_bytes"),
        (lambda movie: movie["torrents"][1].update(peers=None, seeds=[]), "seeds"),
        (lambda movie: movie["torrents"].__setitem__(1, "1080p"), "not an object"),
    ],
)
def test_a_bad_torrent_is_skipped_and_counted(
    change: Callable[[dict[str, Any]], object], reason: str
) -> None:
    data = saved()
    change(data["data"]["movies"][0])
    page = parse(data)
    assert list(page.records) == [expected_records()[0], *expected_records()[2:]]
    assert page.bad_rows == 1
    assert reason in page.errors[0]


def test_a_movie_without_a_title_costs_its_torrents() -> None:
    data = saved()
    del data["data"]["movies"][0]["title_long"]
    del data["data"]["movies"][0]["title"]
    page = parse(data)
    assert list(page.records) == expected_records()[2:]
    assert page.bad_rows == 2


def test_a_movie_without_torrents() -> None:
    """No list at all is a bad row (counted once); an empty list has nothing yet."""
    data = saved()
    del data["data"]["movies"][0]["torrents"]
    data["data"]["movies"][1]["torrents"] = []
    page = parse(data)
    assert list(page.records) == expected_records()[4:]
    assert page.bad_rows == 1


def test_nothing_found_is_an_empty_page() -> None:
    page = parse(saved(EMPTY))
    assert (page.records, page.bad_rows, page.more) == ((), 0, False)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"status": "error", "status_message": "Invalid sort_by"}, "Invalid sort_by"),
        ({"status_message": "Query was successful", "data": {}}, "status None"),
        ({"status": "ok", "data": []}, "'data'"),
        ({"status": "ok", "data": {"movies": {"id": 1}}}, "'movies'"),
        ({"status": "ok", "data": {"movies": [], "movie_count": "ten"}}, "movie_count"),
        (["status", "ok"], "not a JSON object"),
    ],
)
def test_an_answer_of_another_shape_is_refused(answer: Any, message: str) -> None:
    with pytest.raises(ShapeError, match=message):
        parse(answer)


@pytest.mark.parametrize(
    ("paging", "more"),
    [
        ({"page_number": 1, "limit": 20, "movie_count": 21}, True),
        ({"page_number": 2, "limit": 20, "movie_count": 40}, False),
        ({"page_number": 1, "limit": 20}, False),
    ],
)
def test_more_pages_follow_from_the_count(paging: dict[str, Any], more: bool) -> None:
    data = saved()
    del data["data"]["movie_count"]
    data["data"].update(paging)
    assert parse(data).more is more


# ------------------------------------------------------------------ requests


def test_the_source_is_registered() -> None:
    assert API_SOURCES["yts"] is YtsSource


def test_latest_pages() -> None:
    source = YtsSource()
    assert source.request("latest", None, 1).path == (
        "/api/v2/list_movies.json?limit=50&page=1&sort_by=date_added"
    )
    assert source.request("latest", None, 4).path == (
        "/api/v2/list_movies.json?limit=50&page=4&sort_by=date_added"
    )


def test_a_search_sends_its_query_encoded() -> None:
    path = YtsSource().request("search", "Amélie & the 100% test/2", 2).path
    assert path == (
        "/api/v2/list_movies.json?limit=50&page=2&sort_by=date_added"
        "&query_term=Am%C3%A9lie%20%26%20the%20100%25%20test%2F2"
    )
    assert parse_qs(urlsplit(path).query)["query_term"] == ["Amélie & the 100% test/2"]


# ------------------------------------------------------------------ end to end


def page_answer(page: int, **paging: Any) -> bytes:
    """The saved answer as page `page`: page 1 byte for byte, later pages with their own hashes."""
    body = QUERY_TEST.read_bytes()
    if page == 1 and not paging:
        return body
    data = json.loads(body)
    data["data"].update(page_number=page, **paging)
    text = json.dumps(data)
    for _, info_hash, *_rest in TORRENTS if page > 1 else ():
        mark = hashlib.sha1(f"{info_hash}-{page}".encode(), usedforsecurity=False)
        text = text.replace(info_hash, mark.hexdigest().upper())
    return text.encode()


SITE = "yts"
"""The source the shared fixtures (conftest.py) crawl."""


def saved_pages(**paging: Any) -> Answer:
    def answer(seen: Seen) -> web.Response:
        query = parse_qs(urlsplit(seen.path_qs).query)
        if urlsplit(seen.path_qs).path != "/api/v2/list_movies.json":
            return web.Response(status=404, text="no such page")
        page = int(query["page"][0])
        return web.Response(body=page_answer(page, **paging), content_type="application/json")

    return answer


async def test_a_search_stores_every_torrent_and_they_are_searchable(
    served: Serve, cores: OpenCore
) -> None:
    api = await served(saved_pages())
    core = cores(api.url)
    report = await core.services.crawlers.crawl_site("yts", "search", query="test", depth=3)
    assert [seen.path_qs for seen in api.seen] == [
        "/api/v2/list_movies.json?limit=50&page=1&sort_by=date_added&query_term=test"
    ]
    assert (report.pages, report.rows, report.bad_rows, report.new) == (1, 22, 0, 22)
    assert report.stopped == "last page"  # 10 movies of 20 a page
    found = hits(core, q="Test Pattern", limit="100")
    pattern = sorted(
        (hit.title, hit.category, hit.year, hit.resolution, hit.seeders)
        for hit in found
        if hit.imdb_id == "tt10121508"
    )
    assert pattern == [
        ("Test Pattern (2019) [1080p] [BluRay] [YTS]", 2040, 2019, "1080p", 2),
        ("Test Pattern (2019) [1080p] [WEBRip] [YTS]", 2040, 2019, "1080p", 11),
        ("Test Pattern (2019) [720p] [BluRay] [YTS]", 2040, 2019, "720p", 6),
        ("Test Pattern (2019) [720p] [WEBRip] [YTS]", 2040, 2019, "720p", 7),
    ]
    assert all(hit.kind is ContentKind.MOVIE and hit.sources == ("yts",) for hit in found)
    stored = hits(core, limit="100")
    assert {hit.info_hash for hit in stored} == {t[1].lower() for t in TORRENTS}


async def test_pages_are_read_while_the_count_says_more(served: Serve, cores: OpenCore) -> None:
    api = await served(saved_pages(movie_count=50))  # 20 a page: pages 1 to 3
    core = cores(api.url)
    report = await core.services.crawlers.crawl_site("yts", depth=5)
    assert [urlsplit(seen.path_qs).query for seen in api.seen] == [
        f"limit=50&page={n}&sort_by=date_added" for n in (1, 2, 3)
    ]
    assert (report.pages, report.new, report.stopped) == (3, 66, "last page")

    api.seen.clear()  # a search reads to its depth even when it finds nothing new
    report = await core.services.crawlers.crawl_site("yts", "search", query="test", depth=2)
    assert [parse_qs(urlsplit(seen.path_qs).query)["page"] for seen in api.seen] == [["1"], ["2"]]
    assert (report.pages, report.new, report.updated, report.stopped) == (2, 0, 44, None)


async def test_a_search_finding_nothing(served: Serve, cores: OpenCore) -> None:
    empty = EMPTY.read_bytes()
    api = await served(lambda _seen: web.Response(body=empty, content_type="application/json"))
    core = cores(api.url)
    report = await core.services.crawlers.crawl_site("yts", "search", query="zzzqqq")
    assert (report.pages, report.rows, report.new, report.stopped) == (1, 0, 0, "last page")
    assert hits(core) == []


async def test_an_error_status_is_a_layout_change(served: Serve, cores: OpenCore) -> None:
    error = {"status": "error", "status_message": "Invalid parameter: limit"}
    api = await served(lambda _seen: web.json_response(error))
    core = cores(api.url)
    with pytest.raises(LayoutChanged, match="Invalid parameter: limit"):
        await core.services.crawlers.crawl_site("yts")
    assert hits(core) == []


async def test_an_http_error_stops_the_crawl_and_stores_nothing(
    served: Serve, cores: OpenCore
) -> None:
    api = await served(
        lambda _seen: web.Response(status=500, text="oops", headers={"Retry-After": "0"})
    )
    core = cores(api.url)
    with pytest.raises(NetworkError, match="HTTP 500"):
        await core.services.crawlers.crawl_site("yts", "search", query="test")
    assert hits(core) == []


async def test_an_answer_that_is_not_json_is_a_layout_change(
    served: Serve, cores: OpenCore
) -> None:
    page = b"<html><title>Just a page</title></html>"
    api = await served(lambda _seen: web.Response(body=page, content_type="text/html"))
    core = cores(api.url)
    with pytest.raises(LayoutChanged, match="not JSON") as raised:
        await core.services.crawlers.crawl_site("yts", "search", query="test")
    assert raised.value.url == (
        f"{api.url}/api/v2/list_movies.json?limit=50&page=1&sort_by=date_added&query_term=test"
    )
    assert hits(core) == []
