"""LookupRequest keys, Match round trips for the cache, the Enricher role, artist/album splits."""

from __future__ import annotations

import json

import httpx
import pytest

from engine.enrich import Enricher, LookupRequest, Match
from engine.enrich.anilist import AnilistEnricher
from engine.enrich.musicbrainz import MusicBrainzEnricher
from engine.enrich.tmdb import TmdbEnricher
from engine.models import ContentKind

MOVIE, TV, MUSIC = ContentKind.MOVIE, ContentKind.TV, ContentKind.MUSIC


def test_cache_key_is_normalized_and_stable() -> None:
    a = LookupRequest(kind=MOVIE, title="The.Matrix!", year=1999)
    b = LookupRequest(kind=MOVIE, title="  the   MATRIX ", year=1999)
    assert a.cache_key() == b.cache_key() == "movie|the matrix|1999"
    assert LookupRequest(kind=MOVIE, title="The Matrix").cache_key() == "movie|the matrix|"


def test_cache_key_tells_kinds_years_and_ids_apart() -> None:
    keys = {
        LookupRequest(kind=MOVIE, title="Dune", year=1984).cache_key(),
        LookupRequest(kind=MOVIE, title="Dune", year=2021).cache_key(),
        LookupRequest(kind=TV, title="Dune", year=2021).cache_key(),
        LookupRequest(kind=MOVIE, title="Dune", year=2021, imdb_id="tt1160419").cache_key(),
        LookupRequest(kind=MUSIC, title="A - B", artist="A", album="B").cache_key(),
        LookupRequest(kind=MUSIC, title="A - B").cache_key(),
    }
    assert len(keys) == 6


def test_cache_key_of_a_huge_title_is_bounded() -> None:
    assert len(LookupRequest(kind=MOVIE, title="x " * 10_000).cache_key()) < 250


def test_match_round_trips_through_json() -> None:
    match = Match(
        service="tmdb",
        confidence=0.95,
        title="The Matrix",
        year=1999,
        imdb_id="tt0133093",
        tmdb_id=603,
        alt_titles=("The Matrix 1", "Матрица"),
    )
    stored = json.dumps(match.to_json(), sort_keys=True)
    assert Match.from_json(json.loads(stored)) == match
    assert json.loads(stored)["format"] == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"format": 99}, ValueError),
        ({"format": None}, ValueError),
        ({"service": None}, TypeError),
        ({"confidence": "high"}, TypeError),
        ({"confidence": True}, TypeError),
        ({"tmdb_id": "603"}, TypeError),
        ({"year": True}, TypeError),
        ({"alt_titles": "x"}, TypeError),
        ({"alt_titles": [1]}, TypeError),
    ],
)
def test_a_damaged_cache_row_is_refused(change: dict[str, object], error: type[Exception]) -> None:
    data = Match(service="anilist", confidence=1.0, title="Hyouka", anilist_id=12189).to_json()
    with pytest.raises(error):
        Match.from_json(data | change)


def test_every_client_is_an_enricher() -> None:
    with httpx.Client() as client:
        enrichers: list[Enricher] = [
            TmdbEnricher("s3cr3t-k3y", client=client),
            AnilistEnricher(client=client),
            MusicBrainzEnricher(client=client, contact="ops@example.org"),
        ]
    assert [e.service for e in enrichers] == ["tmdb", "anilist", "musicbrainz"]
    kinds = [k for e in enrichers for k in e.kinds]
    assert sorted(kinds) == sorted(
        [ContentKind.MOVIE, ContentKind.TV, ContentKind.ANIME, ContentKind.MUSIC]
    )
    assert "s3cr3t-k3y" not in repr(enrichers[0])
