"""MusicBrainzEnricher against a local WS/2 server built from recorded MusicBrainz entities.

No release-group *search* answer was recorded. The server DERIVES one from the
recorded release-group lookup (musicbrainz_release_group.json: The Dark Side of the
Moon, without an artist credit) and the artist credit of that release group as the
recorded release lookup embeds it (musicbrainz_release.json), wrapped the way WS/2
wraps search results: `{"count", "offset", "release-groups": [{..., "score"}]}`.
It answers that list only to the Lucene query we are expected to build, and an
empty list to any other; it refuses (403) a request without a proper User-Agent.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

import engine
from engine.enrich.base import LookupRequest
from engine.enrich.http import user_agent
from engine.enrich.musicbrainz import MusicBrainzEnricher, lucene_phrase, release_group_query
from engine.enrich.ratelimit import RateLimiter
from engine.errors import (
    EnrichmentError,
    RateLimited,
    ServiceNotConfigured,
    ServiceUnavailable,
    UnexpectedResponse,
)
from engine.models import ContentKind
from tests.engine.enrich.conftest import CONTACT, FakeClock, FakeService, Reply, Seen, fixture_json

MUSIC = ContentKind.MUSIC
DSOTM = "f5093c06-23e3-404f-aeaa-40f72885ee3a"
EXPECTED_QUERY = 'releasegroup:"The Dark Side of the Moon" AND artist:"Pink Floyd"'
PROPER_UA = re.compile(r"^Minato/\S+ \( \S.* \)$")  # MusicBrainz: "App/version ( contact )"


def search_list() -> dict[str, Any]:
    """DERIVED: a release-group search answer from the recorded entities (module docstring)."""
    group = fixture_json("musicbrainz_release_group.json")
    credit = fixture_json("musicbrainz_release.json")["release-group"]["artist-credit"]
    hit = {"score": 100, "count": len(group["releases"]), "artist-credit": credit} | group
    return {"created": "2024-01-01T00:00:00.000Z", "count": 1, "offset": 0, "release-groups": [hit]}


def ws2(seen: Seen) -> Reply:
    if not PROPER_UA.match(seen.headers.get("user-agent", "")):
        return Reply(403, {"error": "Your requests are being blocked: provide a User-Agent."})
    if seen.param("fmt") != "json":
        return Reply(200, b"<metadata/>", headers={"Content-Type": "application/xml"})
    if seen.param("query") == EXPECTED_QUERY:
        return Reply(200, search_list())
    return Reply(
        200, {"created": "2024-01-01T00:00:00.000Z", "count": 0, "offset": 0, "release-groups": []}
    )


@pytest.fixture
def musicbrainz(
    service: FakeService, client: httpx.Client, clock: FakeClock
) -> MusicBrainzEnricher:
    service.route("GET", "/ws/2/release-group/", ws2)
    return MusicBrainzEnricher(
        client=client,
        base_url=f"{service.base_url}/ws/2",
        contact=CONTACT,
        limiter=RateLimiter(1.0, clock=clock, sleep=clock.sleep),
    )


def dsotm(**fields: Any) -> LookupRequest:
    values: dict[str, Any] = {
        "kind": MUSIC,
        "title": "Pink Floyd - The Dark Side of the Moon",
        "artist": "Pink Floyd",
        "album": "The Dark Side of the Moon",
        "year": 1973,
    } | fields
    return LookupRequest(**values)


def test_artist_and_album_give_the_release_group(
    musicbrainz: MusicBrainzEnricher, service: FakeService
) -> None:
    match = musicbrainz.lookup(dsotm())

    assert match is not None
    assert (match.service, match.musicbrainz_id, match.year) == ("musicbrainz", DSOTM, 1973)
    assert (match.title, match.confidence) == ("The Dark Side of the Moon", 1.0)
    assert match.alt_titles == ("Pink Floyd - The Dark Side of the Moon",)
    (seen,) = service.seen
    assert seen.param("query") == EXPECTED_QUERY
    assert (seen.param("fmt"), seen.param("limit")) == ("json", "10")
    assert seen.headers["user-agent"] == f"Minato/{engine.__version__} ( {CONTACT} )"
    assert seen.headers["user-agent"] == user_agent(CONTACT)


def test_a_title_alone_is_split_into_artist_and_album(musicbrainz: MusicBrainzEnricher) -> None:
    request = LookupRequest(
        kind=MUSIC, title="Pink Floyd - The Dark Side of the Moon (1973) [FLAC]"
    )
    match = musicbrainz.lookup(request)
    assert match is not None
    assert match.musicbrainz_id == DSOTM


def test_a_reissue_year_is_not_a_contradiction(musicbrainz: MusicBrainzEnricher) -> None:
    match = musicbrainz.lookup(dsotm(year=2011))
    assert match is not None
    assert match.confidence == 0.9


def test_another_artist_with_the_same_album_title_is_refused(
    musicbrainz: MusicBrainzEnricher, service: FakeService
) -> None:
    service.route("GET", "/ws/2/release-group/", lambda _seen: Reply(200, search_list()))
    assert musicbrainz.lookup(dsotm(artist="Dream Theater", year=None)) is None


def test_requests_are_spaced_one_second_apart(
    musicbrainz: MusicBrainzEnricher, service: FakeService, clock: FakeClock
) -> None:
    for _ in range(3):
        musicbrainz.lookup(dsotm())
    assert clock.sleeps == [1.0, 1.0]  # the first goes at once, each next one a second later
    assert len(service.seen) == 3


def test_the_default_limiter_is_one_request_a_second(client: httpx.Client) -> None:
    enricher = MusicBrainzEnricher(client=client, contact=CONTACT)
    assert enricher.limiter.interval_s == 1.0


def test_our_user_agent_is_sent_whatever_the_client_default(
    service: FakeService, clock: FakeClock
) -> None:
    service.route("GET", "/ws/2/release-group/", ws2)
    with httpx.Client(headers={"User-Agent": "python-httpx/0.28"}) as plain:
        enricher = MusicBrainzEnricher(
            client=plain,
            base_url=f"{service.base_url}/ws/2",
            contact="ops@example.org",
            limiter=RateLimiter(1.0, clock=clock, sleep=clock.sleep),
        )
        assert enricher.lookup(dsotm()) is not None
    assert service.seen[0].headers["user-agent"].endswith("( ops@example.org )")


@pytest.mark.parametrize("contact", ["", "   "])
def test_no_contact_is_service_not_configured_without_a_request(
    client: httpx.Client, service: FakeService, contact: str
) -> None:
    enricher = MusicBrainzEnricher(
        client=client, base_url=f"{service.base_url}/ws/2", contact=contact
    )
    with pytest.raises(ServiceNotConfigured, match="contact"):
        enricher.lookup(dsotm())
    assert service.seen == []


def test_lucene_special_characters_are_escaped() -> None:
    assert lucene_phrase('AC/DC: "Live" (1992) [+bonus] ~*?\\ && || ! ^ {x} -') == (
        r'"AC\/DC\: \"Live\" \(1992\) \[\+bonus\] \~\*\?\\ \&\& \|\| \! \^ \{x\} \-"'
    )
    assert release_group_query(album="Sunn O)))", artist=None) == r'releasegroup:"Sunn O\)\)\)"'


def test_a_hostile_title_stays_inside_its_phrase(
    musicbrainz: MusicBrainzEnricher, service: FakeService
) -> None:
    request = LookupRequest(kind=MUSIC, title='AC/DC - Back" OR artist:* AND (x')
    assert musicbrainz.lookup(request) is None
    (seen,) = service.seen
    assert seen.param("query") == (
        r'releasegroup:"Back\" OR artist\:\* AND \(x" AND artist:"AC\/DC"'
    )


def test_an_unsplittable_title_is_searched_as_a_release_group(
    musicbrainz: MusicBrainzEnricher, service: FakeService
) -> None:
    assert musicbrainz.lookup(LookupRequest(kind=MUSIC, title="Discovery")) is None
    assert service.seen[0].param("query") == 'releasegroup:"Discovery"'


@pytest.mark.parametrize("title", ["", " - ", "?! - ()"])
def test_titles_with_nothing_to_search_send_nothing(
    musicbrainz: MusicBrainzEnricher, service: FakeService, title: str
) -> None:
    assert musicbrainz.lookup(LookupRequest(kind=MUSIC, title=title)) is None
    assert service.seen == []


def test_a_huge_title_is_cut(musicbrainz: MusicBrainzEnricher, service: FakeService) -> None:
    musicbrainz.lookup(LookupRequest(kind=MUSIC, title="Artist - " + "Album " * 2000))
    (seen,) = service.seen
    assert len(seen.param("query") or "") < 300


def test_only_music_is_looked_up(musicbrainz: MusicBrainzEnricher) -> None:
    with pytest.raises(ValueError, match="not tv"):
        musicbrainz.lookup(LookupRequest(kind=ContentKind.TV, title="Pink Floyd"))


def failing(
    musicbrainz: MusicBrainzEnricher, service: FakeService, reply: Reply
) -> EnrichmentError:
    service.route("GET", "/ws/2/release-group/", reply)
    with pytest.raises(EnrichmentError) as caught:
        musicbrainz.lookup(dsotm())
    assert caught.value.service == "musicbrainz"
    return caught.value


@pytest.mark.parametrize("status", [429, 503])  # MusicBrainz answers 503 to clients over the limit
def test_a_rate_limit_is_rate_limited(
    musicbrainz: MusicBrainzEnricher, service: FakeService, clock: FakeClock, status: int
) -> None:
    error = failing(musicbrainz, service, Reply(status, b"slow down", headers={"Retry-After": "3"}))
    assert isinstance(error, RateLimited)
    assert error.retry_after == 3.0
    musicbrainz.limiter.acquire()
    assert clock.sleeps[-1] == pytest.approx(3.0)


def test_500_is_service_unavailable(musicbrainz: MusicBrainzEnricher, service: FakeService) -> None:
    assert type(failing(musicbrainz, service, Reply(500, b"oops"))) is ServiceUnavailable


def test_a_blocked_user_agent_asks_for_a_contact(
    musicbrainz: MusicBrainzEnricher, service: FakeService
) -> None:
    error = failing(musicbrainz, service, Reply(403, {"error": "blocked"}))
    assert type(error) is ServiceNotConfigured
    assert "contact" in str(error)


@pytest.mark.parametrize(
    "body",
    [{"count": 0}, {"release-groups": {"id": DSOTM}}, [], b"null"],
)
def test_json_of_the_wrong_shape_is_unexpected_response(
    musicbrainz: MusicBrainzEnricher, service: FakeService, body: object
) -> None:
    assert type(failing(musicbrainz, service, Reply(200, body))) is UnexpectedResponse


def test_groups_without_id_or_title_are_skipped(
    musicbrainz: MusicBrainzEnricher, service: FakeService
) -> None:
    groups = [{"title": "The Dark Side of the Moon"}, {"id": DSOTM}, {"id": 5, "title": "x"}, 3]
    service.route("GET", "/ws/2/release-group/", Reply(200, {"release-groups": groups}))
    assert musicbrainz.lookup(dsotm()) is None


def test_xml_instead_of_json_is_service_unavailable(
    musicbrainz: MusicBrainzEnricher, service: FakeService
) -> None:
    reply = Reply(200, b"<metadata/>", headers={"Content-Type": "application/xml"})
    assert type(failing(musicbrainz, service, reply)) is ServiceUnavailable


def test_a_refused_connection_is_service_unavailable(
    client: httpx.Client, closed_port: int
) -> None:
    enricher = MusicBrainzEnricher(
        client=client, base_url=f"http://127.0.0.1:{closed_port}/ws/2", contact=CONTACT
    )
    with pytest.raises(ServiceUnavailable):
        enricher.lookup(dsotm())
