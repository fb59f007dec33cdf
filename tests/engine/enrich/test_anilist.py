"""AnilistEnricher against a local GraphQL endpoint built from recorded AniList media.

No AniList *search* answer was recorded. The server DERIVES one: it takes the real
media entries of the recorded MediaListCollection answer
(tests/fixtures/enrichment/anilist_mediaListCollection_with_relations.json, see
MANIFEST.tsv), keeps the ten that share the most words with `variables.search`
(a rough stand-in for AniList's SEARCH_MATCH), cuts each to the fields our query
asks for, and wraps them as `{"data": {"Page": {"media": [...]}}}`.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import httpx
import pytest

from engine.enrich.anilist import SEARCH_QUERY, AnilistEnricher
from engine.enrich.base import LookupRequest
from engine.enrich.ratelimit import RateLimiter
from engine.errors import (
    EnrichmentError,
    RateLimited,
    ServiceUnavailable,
    UnexpectedResponse,
)
from engine.models import ContentKind
from tests.engine.enrich.conftest import FakeClock, FakeService, Reply, Seen, fixture_json

ANIME = ContentKind.ANIME
QUERIED = ("id", "idMal", "format", "episodes", "seasonYear", "startDate", "title", "synonyms")


@cache
def recorded_media() -> tuple[dict[str, Any], ...]:
    """Every distinct anime entry of the recorded collection."""
    collection = fixture_json("anilist_mediaListCollection_with_relations.json")
    media: dict[int, dict[str, Any]] = {}
    for status_list in collection["MediaListCollection"]["lists"]:
        for entry in status_list.get("entries", []):
            media.setdefault(entry["media"]["id"], entry["media"])
    return tuple(media.values())


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def names(media: dict[str, Any]) -> list[str]:
    title = media.get("title") or {}
    return [t for t in (*title.values(), *(media.get("synonyms") or [])) if t]


def search_answer(seen: Seen) -> Reply:
    """DERIVED: a Page.media search answer from the recorded entries (see module docstring)."""
    body = json.loads(seen.body)
    if body.get("query") != SEARCH_QUERY:
        return Reply(400, {"errors": [{"message": "unexpected query document", "status": 400}]})
    variables = body["variables"]
    wanted = words(variables["search"])
    ranked = []
    for media in recorded_media():
        overlap = max((len(wanted & words(n)) for n in names(media)), default=0)
        if overlap:
            ranked.append((overlap, media))
    ranked.sort(key=lambda pair: -pair[0])
    page = [
        {k: m.get(k) for k in QUERIED}
        | {"startDate": {"year": (m.get("startDate") or {}).get("year")}}
        for _, m in ranked[: variables["perPage"]]
    ]
    return Reply(200, {"data": {"Page": {"media": page}}})


@pytest.fixture
def anilist(service: FakeService, client: httpx.Client, clock: FakeClock) -> AnilistEnricher:
    service.route("POST", "/", search_answer)
    limiter = RateLimiter(0.5, clock=clock, sleep=clock.sleep)
    return AnilistEnricher(client=client, url=f"{service.base_url}/", limiter=limiter)


def test_a_romaji_title_gives_anilist_and_mal_ids(anilist: AnilistEnricher) -> None:
    match = anilist.lookup(LookupRequest(kind=ANIME, title="Sousou no Frieren", year=2023))

    assert match is not None
    assert (match.service, match.anilist_id, match.mal_id) == ("anilist", 154587, 52991)
    assert (match.title, match.year, match.episodes, match.confidence) == (
        "Sousou no Frieren",
        2023,
        28,
        1.0,
    )
    assert "Frieren: Beyond Journey’s End" in match.alt_titles  # noqa: RUF001 (AniList's own apostrophe)
    assert "葬送のフリーレン" in match.alt_titles


def test_an_english_title_with_a_plain_apostrophe_matches_too(anilist: AnilistEnricher) -> None:
    match = anilist.lookup(LookupRequest(kind=ANIME, title="Frieren Beyond Journey's End"))
    assert match is not None
    assert (match.anilist_id, match.mal_id) == (154587, 52991)


def test_a_synonym_matches_and_the_sequel_does_not(anilist: AnilistEnricher) -> None:
    match = anilist.lookup(LookupRequest(kind=ANIME, title="Durarara!!", year=2010))
    assert match is not None
    assert (match.anilist_id, match.mal_id) == (6746, 6746)
    sequel = anilist.lookup(LookupRequest(kind=ANIME, title="Durarara!!x2 Ten", year=2015))
    assert sequel is not None
    assert sequel.anilist_id == 20879


def test_two_entries_sharing_a_name_are_ambiguous_without_a_year(
    anilist: AnilistEnricher,
) -> None:
    # "Ao Buta" is a synonym of two different Seishun Buta Yarou films (2019 and 2023).
    assert anilist.lookup(LookupRequest(kind=ANIME, title="Ao Buta")) is None
    match = anilist.lookup(LookupRequest(kind=ANIME, title="Ao Buta", year=2019))
    assert match is not None
    assert match.anilist_id == 104157


def test_the_title_travels_only_in_the_variables(
    anilist: AnilistEnricher, service: FakeService
) -> None:
    hostile = '") { __schema { types { name } } } # $search \\" \n'
    assert anilist.lookup(LookupRequest(kind=ANIME, title=hostile)) is None
    (seen,) = service.seen
    body = json.loads(seen.body)
    assert body["query"] == SEARCH_QUERY
    assert body["variables"] == {"search": hostile.strip().replace("\n", " "), "perPage": 10}
    assert seen.headers["content-type"] == "application/json"


def test_an_unknown_title_is_none(anilist: AnilistEnricher) -> None:
    assert anilist.lookup(LookupRequest(kind=ANIME, title="Cowboy Bebop", year=1998)) is None


@pytest.mark.parametrize("title", ["", "  ", "!!!"])
def test_titles_with_nothing_to_search_send_nothing(
    anilist: AnilistEnricher, service: FakeService, title: str
) -> None:
    assert anilist.lookup(LookupRequest(kind=ANIME, title=title)) is None
    assert service.seen == []


def test_a_huge_title_is_cut(anilist: AnilistEnricher, service: FakeService) -> None:
    anilist.lookup(LookupRequest(kind=ANIME, title="Frieren " * 2000))
    (seen,) = service.seen
    assert len(json.loads(seen.body)["variables"]["search"]) <= 200


def test_only_anime_is_looked_up(anilist: AnilistEnricher) -> None:
    with pytest.raises(ValueError, match="not movie"):
        anilist.lookup(LookupRequest(kind=ContentKind.MOVIE, title="Hyouka"))


def failing(anilist: AnilistEnricher, service: FakeService, reply: Reply) -> EnrichmentError:
    service.route("POST", "/", reply)
    with pytest.raises(EnrichmentError) as caught:
        anilist.lookup(LookupRequest(kind=ANIME, title="Hyouka"))
    assert caught.value.service == "anilist"
    return caught.value


def test_429_is_rate_limited_and_holds_the_limiter(
    anilist: AnilistEnricher, service: FakeService, clock: FakeClock
) -> None:
    error = failing(
        anilist,
        service,
        Reply(
            429,
            {"data": None, "errors": [{"message": "Too Many Requests.", "status": 429}]},
            headers={"Retry-After": "42", "X-RateLimit-Remaining": "0"},
        ),
    )
    assert isinstance(error, RateLimited)
    assert error.retry_after == 42.0
    anilist.limiter.acquire()
    assert clock.sleeps[-1] == pytest.approx(42.0)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_service_unavailable(
    anilist: AnilistEnricher, service: FakeService, status: int
) -> None:
    error = failing(anilist, service, Reply(status, b"upstream failure"))
    assert type(error) is ServiceUnavailable


def test_403_pauses_rather_than_asking_for_a_key(
    anilist: AnilistEnricher, service: FakeService
) -> None:
    reply = Reply(403, {"errors": [{"message": "The API is temporarily disabled."}]})
    error = failing(anilist, service, reply)
    assert type(error) is ServiceUnavailable
    assert "temporarily disabled" in str(error)


def test_a_refused_query_names_anilists_message(
    anilist: AnilistEnricher, service: FakeService
) -> None:
    reply = Reply(400, {"data": None, "errors": [{"message": 'Unknown argument "x".'}]})
    error = failing(anilist, service, reply)
    assert type(error) is UnexpectedResponse
    assert 'Unknown argument "x"' in str(error)


@pytest.mark.parametrize(
    "body",
    [
        {"data": None},
        {"data": {"Page": None}},
        {"data": {"Page": {"media": "none"}}},
        {"data": {"Page": {"media": []}}, "errors": [{"message": "partial failure"}]},
        ["data"],
    ],
)
def test_json_of_the_wrong_shape_is_unexpected_response(
    anilist: AnilistEnricher, service: FakeService, body: object
) -> None:
    assert type(failing(anilist, service, Reply(200, body))) is UnexpectedResponse


def test_entries_without_id_or_title_are_skipped(
    anilist: AnilistEnricher, service: FakeService
) -> None:
    media = [{"title": {"romaji": "Hyouka"}}, {"id": 12189, "title": None}, {"id": 1}, "x", None]
    service.route("POST", "/", Reply(200, {"data": {"Page": {"media": media}}}))
    assert anilist.lookup(LookupRequest(kind=ANIME, title="Hyouka")) is None


def test_an_html_page_is_service_unavailable(
    anilist: AnilistEnricher, service: FakeService
) -> None:
    reply = Reply(200, b"<html>captive portal</html>", headers={"Content-Type": "text/html"})
    error = failing(anilist, service, reply)
    assert type(error) is ServiceUnavailable
    assert "text/html" in str(error)


def test_a_refused_connection_is_service_unavailable(
    client: httpx.Client, closed_port: int
) -> None:
    anilist = AnilistEnricher(client=client, url=f"http://127.0.0.1:{closed_port}/")
    with pytest.raises(ServiceUnavailable) as caught:
        anilist.lookup(LookupRequest(kind=ANIME, title="Hyouka"))
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
