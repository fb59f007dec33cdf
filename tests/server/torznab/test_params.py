"""Torznab parameters: every spelling real clients send is understood; bad values get 201."""

from __future__ import annotations

import pytest

from server.torznab.params import (
    MAX_TEXT_CHARS,
    TorznabError,
    TorznabRequest,
    lower_keys,
    parse_request,
)


def parse(**query: str) -> TorznabRequest:
    return parse_request(lower_keys(query), default_limit=100, max_limit=100)


def code_of(**query: str) -> int:
    with pytest.raises(TorznabError) as caught:
        parse(**query)
    return caught.value.code


def test_sonarr_rss_sync_request() -> None:
    got = parse(t="tvsearch", cat="5030,5040", extended="1", offset="0", limit="100")
    assert got == TorznabRequest(
        function="tvsearch", categories=(5030, 5040), limit=100, offset=0, extended=True
    )


def test_parameter_names_in_any_case() -> None:
    got = parse_request(
        lower_keys({"T": "Movie", "IMDBID": "tt0133093"}), default_limit=50, max_limit=100
    )
    assert (got.function, got.imdb_id, got.limit) == ("movie", "tt0133093", 50)


@pytest.mark.parametrize("imdb", ["tt0133093", "0133093", "133093", "TT0133093"])
def test_imdb_with_or_without_tt_is_the_same(imdb: str) -> None:
    assert parse(t="movie", imdbid=imdb).imdb_id == "tt0133093"


@pytest.mark.parametrize(
    ("season", "ep", "expected"),
    [
        ("1", "2", (1, 2, None)),
        ("S01", "E02", (1, 2, None)),
        ("00", "", (0, None, None)),  # specials
        ("3", "", (3, None, None)),
        ("", "", (None, None, None)),
        ("2024", "05/12", (None, None, (2024, 5, 12))),  # a daily show's air date
    ],
)
def test_season_and_episode_forms(
    season: str, ep: str, expected: tuple[int | None, int | None, tuple[int, int, int] | None]
) -> None:
    got = parse(t="tvsearch", season=season, ep=ep)
    assert (got.season, got.episode, got.air_date) == expected


def test_empty_q_beside_artist_and_album() -> None:
    got = parse(t="music", q="", artist="Pink Floyd", album="The Dark Side of the Moon")
    assert (got.text, got.artist, got.album) == ("", "Pink Floyd", "The Dark Side of the Moon")


def test_limit_is_clamped_and_categories_deduplicated() -> None:
    assert parse(t="search", limit="5000").limit == 100
    assert parse(t="search", limit="0").limit == 1
    assert parse(t="search", cat="2000, 2000,,5040").categories == (2000, 5040)


def test_query_text_is_single_spaced_and_bounded() -> None:
    assert parse(t="search", q="  the   matrix\t1999 ").text == "the matrix 1999"
    assert len(parse(t="search", q="x " * 5000).text) == MAX_TEXT_CHARS


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({}, 200),
        ({"t": ""}, 200),
        ({"t": "nonsense"}, 202),
        ({"t": "<script>"}, 202),
        ({"t": "search", "cat": "movies"}, 201),
        ({"t": "search", "cat": "-1"}, 201),
        ({"t": "search", "limit": "ten"}, 201),
        ({"t": "search", "offset": "-5"}, 201),
        ({"t": "tvsearch", "season": "one"}, 201),
        ({"t": "tvsearch", "season": "1", "ep": "x"}, 201),
        ({"t": "tvsearch", "season": "2024", "ep": "13/45"}, 201),
        ({"t": "movie", "imdbid": "nm0000206"}, 201),
        ({"t": "movie", "tmdbid": "99999999999"}, 201),
    ],
)
def test_bad_requests_get_the_newznab_code(query: dict[str, str], code: int) -> None:
    assert code_of(**query) == code


def test_error_descriptions_name_the_parameter_and_stay_short() -> None:
    with pytest.raises(TorznabError) as caught:
        parse(t="search", limit="9" * 500)
    assert caught.value.description.startswith("Incorrect parameter: limit=")
    assert len(caught.value.description) < 120
