"""TmdbEnricher against a local server answering with TMDb's recorded answers.

Recorded (tests/fixtures/enrichment, MANIFEST.tsv): search/movie "The Matrix",
movie/603, find/tt0936501. No TV answer was recorded, so `tv_search` and
`tv_external_ids` are DERIVED here from the recorded movie answer (movie fields
renamed to TMDb's TV names: name, original_name, first_air_date), and the TVDB id
in them is made up (81189). They check our TV flow, not TMDb's data.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
import tmdbsimple  # type: ignore[import-untyped]

from engine.enrich.base import LookupRequest
from engine.enrich.http import make_client
from engine.enrich.ratelimit import RateLimiter
from engine.enrich.tmdb import TmdbEnricher
from engine.errors import (
    EnrichmentError,
    RateLimited,
    ServiceNotConfigured,
    ServiceUnavailable,
    UnexpectedResponse,
)
from engine.models import ContentKind
from tests.engine.enrich.conftest import (
    FakeClock,
    FakeService,
    Reply,
    Seen,
    fixture_bytes,
    fixture_json,
)

KEY = "k3y-0f-the-test-5ecret"
INVALID_KEY_BODY = {  # TMDb's answer to a bad key, as documented on its status-codes page
    "status_code": 7,
    "status_message": "Invalid API key: You must be granted a valid key.",
    "success": False,
}
MOVIE = ContentKind.MOVIE
TV = ContentKind.TV


def keyed(reply: Reply | Any) -> Any:
    """A responder that answers `reply` only to requests carrying our key (else a 401)."""

    def respond(seen: Seen) -> Reply:
        if seen.param("api_key") != KEY:
            return Reply(401, INVALID_KEY_BODY)
        return reply if isinstance(reply, Reply) else Reply(200, reply)

    return respond


def tv_search() -> Any:
    """DERIVED: the recorded movie search, renamed into a TV search answer."""
    movies = fixture_json("tmdb_v3_search_movie_the_matrix.json")
    shows = []
    for m in movies["results"]:
        show = {k: v for k, v in m.items() if k not in ("title", "original_title", "release_date")}
        show |= {
            "name": m["title"],
            "original_name": m["original_title"],
            "first_air_date": m["release_date"],
        }
        shows.append(show)
    return movies | {"results": shows}


def tv_external_ids() -> dict[str, Any]:
    """DERIVED: movie 603's recorded ids in TMDb's external_ids shape; the TVDB id is made up."""
    movie = fixture_json("tmdb_v3_movie_603.json")
    return {"id": movie["id"], "imdb_id": movie["imdb_id"], "tvdb_id": 81189, "tvrage_id": None}


@pytest.fixture
def tmdb(service: FakeService, client: httpx.Client, clock: FakeClock) -> TmdbEnricher:
    service.route(
        "GET",
        "/3/search/movie",
        keyed(Reply(body=fixture_bytes("tmdb_v3_search_movie_the_matrix.json"))),
    )
    service.route("GET", "/3/movie/603", keyed(Reply(body=fixture_bytes("tmdb_v3_movie_603.json"))))
    service.route(
        "GET",
        "/3/find/tt0936501",
        keyed(Reply(body=fixture_bytes("tmdb_v3_find_tt0936501_imdb.json"))),
    )
    service.route("GET", "/3/search/tv", keyed(tv_search()))
    service.route("GET", "/3/tv/603/external_ids", keyed(tv_external_ids()))
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    return TmdbEnricher(KEY, client=client, base_url=f"{service.base_url}/3", limiter=limiter)


def test_the_matrix_1999_is_tmdb_603_and_imdb_tt0133093(
    tmdb: TmdbEnricher, service: FakeService
) -> None:
    match = tmdb.lookup(LookupRequest(kind=MOVIE, title="The Matrix", year=1999))

    assert match is not None
    assert (match.service, match.tmdb_id, match.imdb_id) == ("tmdb", 603, "tt0133093")
    assert (match.title, match.year, match.confidence) == ("The Matrix", 1999, 1.0)
    assert "The Matrix 1" in match.alt_titles  # from alternative_titles
    search, details = service.seen
    assert search.path == "/3/search/movie"
    assert (search.param("query"), search.param("year")) == ("The Matrix", "1999")
    assert search.param("include_adult") == "false"
    assert details.path == "/3/movie/603"
    assert details.param("append_to_response") == "alternative_titles"
    assert search.headers["user-agent"].startswith("Minato/")
    assert search.headers.get("connection") != "close"  # tmdbsimple's default header is dropped
    assert tmdbsimple.API_KEY == KEY


def test_a_year_off_by_one_lowers_confidence_and_a_wrong_year_refuses(
    tmdb: TmdbEnricher,
) -> None:
    exact = tmdb.lookup(LookupRequest(kind=MOVIE, title="The Matrix", year=1999))
    near = tmdb.lookup(LookupRequest(kind=MOVIE, title="The Matrix", year=2000))
    unknown = tmdb.lookup(LookupRequest(kind=MOVIE, title="The Matrix"))
    wrong = tmdb.lookup(LookupRequest(kind=MOVIE, title="The Matrix", year=2005))

    assert exact is not None
    assert near is not None
    assert unknown is not None
    assert exact.confidence > near.confidence > unknown.confidence
    assert near.tmdb_id == unknown.tmdb_id == 603
    assert wrong is None  # 0.8 < MIN_CONFIDENCE: a remake is likelier than a typo in the year


def test_an_unrelated_title_gets_nothing_and_no_details_request(
    tmdb: TmdbEnricher, service: FakeService
) -> None:
    # The server answers the recorded Matrix results to any query, as TMDb answers fuzzy ones.
    assert tmdb.lookup(LookupRequest(kind=MOVIE, title="Pride and Prejudice", year=2005)) is None
    assert service.paths() == ["/3/search/movie"]


def test_a_sequel_title_does_not_match_the_original(tmdb: TmdbEnricher) -> None:
    assert tmdb.lookup(LookupRequest(kind=MOVIE, title="The Matrix 4")) is None


def test_find_by_imdb_id_gives_taken_8681_in_one_request(
    tmdb: TmdbEnricher, service: FakeService
) -> None:
    request = LookupRequest(kind=MOVIE, title="Taken", year=2008, imdb_id="tt0936501")

    match = tmdb.lookup(request)

    assert match is not None
    assert (match.tmdb_id, match.imdb_id, match.title, match.year) == (
        8681,
        "tt0936501",
        "Taken",
        2008,
    )
    assert match.confidence == 1.0
    (find,) = service.seen
    assert find.path == "/3/find/tt0936501"
    assert find.param("external_source") == "imdb_id"


def test_an_imdb_id_that_names_another_title_falls_back_to_search(
    tmdb: TmdbEnricher, service: FakeService
) -> None:
    request = LookupRequest(kind=MOVIE, title="The Matrix", year=1999, imdb_id="tt0936501")

    match = tmdb.lookup(request)

    assert match is not None
    assert match.tmdb_id == 603
    assert service.paths() == ["/3/find/tt0936501", "/3/search/movie", "/3/movie/603"]


@pytest.mark.parametrize("bad", ["tt0936501/../../movie/603", "0936501", "tt12?x=1", "nm0000206"])
def test_an_imdb_id_that_is_not_one_never_reaches_the_url(
    tmdb: TmdbEnricher, service: FakeService, bad: str
) -> None:
    tmdb.lookup(LookupRequest(kind=MOVIE, title="The Matrix", year=1999, imdb_id=bad))
    assert not any(p.startswith("/3/find") for p in service.paths())


def test_tv_gets_tvdb_and_imdb_ids_from_external_ids(
    tmdb: TmdbEnricher, service: FakeService
) -> None:
    match = tmdb.lookup(LookupRequest(kind=TV, title="The Matrix", year=1999))

    assert match is not None
    assert (match.tmdb_id, match.tvdb_id, match.imdb_id) == (603, 81189, "tt0133093")
    search, ids = service.seen
    assert search.path == "/3/search/tv"
    assert search.param("first_air_date_year") == "1999"
    assert ids.path == "/3/tv/603/external_ids"


def test_tv_with_an_imdb_id_of_no_show_falls_back_to_search(
    tmdb: TmdbEnricher, service: FakeService
) -> None:
    match = tmdb.lookup(LookupRequest(kind=TV, title="The Matrix", imdb_id="tt0936501"))
    assert match is not None
    assert match.tvdb_id == 81189
    assert service.paths() == ["/3/find/tt0936501", "/3/search/tv", "/3/tv/603/external_ids"]


def test_a_later_year_for_tv_is_a_later_season_not_a_contradiction(tmdb: TmdbEnricher) -> None:
    match = tmdb.lookup(LookupRequest(kind=TV, title="The Matrix", year=2004))
    assert match is not None
    assert match.confidence == 0.9


def test_anime_and_music_are_not_tmdb_kinds(tmdb: TmdbEnricher) -> None:
    with pytest.raises(ValueError, match="not anime"):
        tmdb.lookup(LookupRequest(kind=ContentKind.ANIME, title="Hyouka"))


def test_no_path_falls_back_to_requests(
    tmdb: TmdbEnricher, no_requests: list[str], service: FakeService
) -> None:
    tmdb.lookup(LookupRequest(kind=MOVIE, title="The Matrix", year=1999))
    tmdb.lookup(LookupRequest(kind=MOVIE, title="Taken", imdb_id="tt0936501"))
    tmdb.lookup(LookupRequest(kind=TV, title="The Matrix"))
    assert no_requests == []
    assert len(service.seen) == 5


def test_the_requests_guard_is_live(service: FakeService, no_requests: list[str]) -> None:
    """Control: an unbound tmdbsimple object does reach for `requests`, and the guard stops it."""
    tmdbsimple.API_KEY = KEY
    search = tmdbsimple.Search()
    search.base_uri = f"{service.base_url}/3"
    with pytest.raises(AssertionError, match="requests was used"):
        search.movie(query="The Matrix")
    assert no_requests
    assert service.seen == []


# Errors: each situation is a distinct EnrichmentError, and none quotes the key.


def only(service: FakeService, reply: Reply) -> None:
    service.route("GET", "/3/search/movie", reply)


def lookup_error(tmdb: TmdbEnricher) -> EnrichmentError:
    with pytest.raises(EnrichmentError) as caught:
        tmdb.lookup(LookupRequest(kind=MOVIE, title="The Matrix", year=1999))
    return caught.value


def assert_keyless(error: BaseException) -> None:
    chain: BaseException | None = error
    while chain is not None:
        assert KEY not in str(chain)
        assert KEY not in repr(chain)
        assert all(KEY not in str(arg) for arg in chain.args)
        chain = chain.__cause__ or chain.__context__


def test_a_rejected_key_is_service_not_configured(tmdb: TmdbEnricher, service: FakeService) -> None:
    wrong = TmdbEnricher("wrong-key", client=tmdb._client, base_url=f"{service.base_url}/3")

    with pytest.raises(ServiceNotConfigured) as caught:
        wrong.lookup(LookupRequest(kind=MOVIE, title="The Matrix", year=1999))

    assert caught.value.service == "tmdb"
    assert "401" in str(caught.value)
    assert "tmdb_api_key" in str(caught.value)
    assert "wrong-key" not in str(caught.value)
    assert caught.value.__cause__ is None


@pytest.mark.parametrize("key", ["", "   "])
def test_no_key_is_service_not_configured_without_a_request(
    client: httpx.Client, service: FakeService, key: str
) -> None:
    tmdb = TmdbEnricher(key, client=client, base_url=f"{service.base_url}/3")
    with pytest.raises(ServiceNotConfigured, match="no API key"):
        tmdb.lookup(LookupRequest(kind=MOVIE, title="The Matrix"))
    assert service.seen == []


def test_429_is_rate_limited_with_retry_after_and_holds_the_limiter(
    tmdb: TmdbEnricher, service: FakeService, clock: FakeClock
) -> None:
    only(service, Reply(429, {"status_code": 25}, headers={"Retry-After": "7"}))

    error = lookup_error(tmdb)

    assert isinstance(error, RateLimited)
    assert error.retry_after == 7.0
    assert_keyless(error)
    tmdb.limiter.acquire()
    assert clock.sleeps[-1] == pytest.approx(7.0)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_service_unavailable(tmdb: TmdbEnricher, service: FakeService, status: int) -> None:
    only(service, Reply(status, {"status_code": 11, "status_message": "Internal error."}))
    error = lookup_error(tmdb)
    assert type(error) is ServiceUnavailable
    assert str(status) in str(error)
    assert_keyless(error)


def test_a_refused_connection_is_service_unavailable(
    client: httpx.Client, closed_port: int
) -> None:
    tmdb = TmdbEnricher(KEY, client=client, base_url=f"http://127.0.0.1:{closed_port}/3")
    error = lookup_error(tmdb)
    assert type(error) is ServiceUnavailable
    assert isinstance(error.__cause__, httpx.ConnectError)
    assert_keyless(error)


def test_a_timeout_is_service_unavailable(service: FakeService) -> None:
    hang = threading.Event()
    only(service, Reply(hang=hang))
    try:
        with make_client(timeout_s=0.2) as quick:
            tmdb = TmdbEnricher(KEY, client=quick, base_url=f"{service.base_url}/3")
            error = lookup_error(tmdb)
    finally:
        hang.set()
    assert type(error) is ServiceUnavailable
    assert "timed out" in str(error)
    assert isinstance(error.__cause__, httpx.ReadTimeout)


@pytest.mark.parametrize(
    "body", [b"{not json", b"<html><body>Maintenance</body></html>", b"\xff\xfe\x00garbage"]
)
def test_a_body_that_is_not_json_is_service_unavailable(
    tmdb: TmdbEnricher, service: FakeService, body: bytes
) -> None:
    only(service, Reply(200, body))
    error = lookup_error(tmdb)
    assert type(error) is ServiceUnavailable
    assert "not JSON" in str(error)


@pytest.mark.parametrize(
    "body", [[], {"results": "none"}, {"page": 1}, {"results": None}, b'"a string"']
)
def test_json_of_the_wrong_shape_is_unexpected_response(
    tmdb: TmdbEnricher, service: FakeService, body: object
) -> None:
    only(service, Reply(200, body))
    error = lookup_error(tmdb)
    assert type(error) is UnexpectedResponse
    assert "shape" in str(error)


def test_results_without_ids_or_titles_are_skipped(
    tmdb: TmdbEnricher, service: FakeService
) -> None:
    rows = [{"title": "The Matrix"}, {"id": "603", "title": "The Matrix"}, {"id": 603}, 7, None]
    only(service, Reply(200, {"results": rows}))
    assert tmdb.lookup(LookupRequest(kind=MOVIE, title="The Matrix", year=1999)) is None


def test_details_of_the_wrong_shape_are_unexpected_response(
    tmdb: TmdbEnricher, service: FakeService
) -> None:
    service.route("GET", "/3/movie/603", Reply(200, {"alternative_titles": {"titles": 3}}))
    assert type(lookup_error(tmdb)) is UnexpectedResponse


def test_an_oversized_body_is_refused(service: FakeService) -> None:
    only(service, Reply(200, b"[" + b" " * 6_000_000 + b"]"))
    with make_client() as limited:
        tmdb = TmdbEnricher(KEY, client=limited, base_url=f"{service.base_url}/3")
        error = lookup_error(tmdb)
    assert type(error) is UnexpectedResponse
    assert "limit" in str(error)


@pytest.mark.parametrize("title", ["", "   ", "!!! ??? ...", "\x00\x07\x1b"])
def test_titles_with_nothing_to_search_send_nothing(
    tmdb: TmdbEnricher, service: FakeService, title: str
) -> None:
    assert tmdb.lookup(LookupRequest(kind=MOVIE, title=title)) is None
    assert service.seen == []


def test_a_huge_title_is_cut_before_it_is_sent(tmdb: TmdbEnricher, service: FakeService) -> None:
    assert tmdb.lookup(LookupRequest(kind=MOVIE, title="matrix " * 1500)) is None
    (search,) = service.seen
    assert 0 < len(search.param("query") or "") <= 200


def test_special_characters_travel_as_query_parameters(
    tmdb: TmdbEnricher, service: FakeService
) -> None:
    title = 'The Matrix & "friends" #1 ?x=1 %00 /../'
    tmdb.lookup(LookupRequest(kind=MOVIE, title=title))
    (search,) = service.seen
    assert search.path == "/3/search/movie"
    assert search.param("query") == title
    assert search.param("api_key") == KEY


def test_the_key_never_reaches_the_log(
    tmdb: TmdbEnricher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    tmdb.lookup(LookupRequest(kind=MOVIE, title="The Matrix", year=1999))
    assert "api_key=***" in caplog.text
    assert KEY not in caplog.text
