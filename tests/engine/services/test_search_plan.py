"""What a search sends to the sites when it goes live (`plan_live`), and which torrents an id
search leaves out (`conflicts`).

The sites search by words. People type words; Sonarr and Radarr often send ids alone
(`tvdbid=257655&season=5&ep=7`), which must become the show's name plus `S05E07` or
the sites find nothing. The name comes from a `NameResolver`; here a fake that answers
per kind and records what it was asked, so the kinds tried are visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.enrich.names import KnownTitle
from engine.models import ContentKind, SearchQuery, SortOrder, TorrentSummary
from engine.services.search_plan import LivePlan, conflicts, plan_live
from engine.sources.report import MAX_QUERY_CHARS, search_text

TV, MOVIE = ContentKind.TV, ContentKind.MOVIE
ARROW = KnownTitle(title="Arrow", year=2012, kind=TV, origin="tmdb")
DUNE = KnownTitle(title="Dune", year=2021, kind=MOVIE, origin="tmdb")


@dataclass
class FakeNames:
    """A `NameResolver` answering from `by_kind`; `fails` raises ValueError instead."""

    by_kind: dict[ContentKind, KnownTitle] = field(default_factory=dict)
    fails: bool = False
    calls: list[tuple[ContentKind, str | None, int | None, int | None]] = field(
        default_factory=list
    )

    async def resolve(
        self,
        *,
        kind: ContentKind,
        imdb_id: str | None = None,
        tmdb_id: int | None = None,
        tvdb_id: int | None = None,
    ) -> KnownTitle | None:
        self.calls.append((kind, imdb_id, tmdb_id, tvdb_id))
        if self.fails:
            raise ValueError("not an id any service knows")
        return self.by_kind.get(kind)

    @property
    def kinds(self) -> list[ContentKind]:
        return [call[0] for call in self.calls]


def q(**fields: Any) -> SearchQuery:
    return SearchQuery(**fields)


# ------------------------------------------------------------------ words


async def test_words_are_sent_as_typed_with_whitespace_collapsed() -> None:
    names = FakeNames({TV: ARROW, MOVIE: DUNE})
    plan = await plan_live(q(text="  the   matrix\t\nreloaded "), names)
    assert plan == LivePlan(text="the matrix reloaded")
    assert names.calls == []  # words need no name


async def test_words_with_an_id_keep_the_id_for_imdb_searching_sites_and_look_nothing_up() -> None:
    names = FakeNames({MOVIE: DUNE})
    plan = await plan_live(q(text="Dune Part Two", imdb_id="tt15239678"), names)
    assert plan == LivePlan(text="Dune Part Two", imdb_id="tt15239678")
    assert names.calls == []


@pytest.mark.parametrize(
    ("words", "season", "episode", "sent"),
    [
        ("Arrow", 5, 7, "Arrow S05E07"),
        ("Arrow", 5, None, "Arrow S05"),
        ("One Piece", 1, 1071, "One Piece S01E1071"),
        ("Arrow s05e07", 5, 7, "Arrow s05e07"),  # already there: not added twice
        ("Arrow S5E7", 5, 7, "Arrow S5E7"),
        ("Arrow S05", 5, None, "Arrow S05"),
        ("Arrow", None, None, "Arrow"),
    ],
)
async def test_an_episode_search_names_the_episode_as_releases_do(
    words: str, season: int | None, episode: int | None, sent: str
) -> None:
    plan = await plan_live(q(text=words, season=season, episode=episode), None)
    assert plan is not None
    assert plan.text == sent


@pytest.mark.parametrize(
    ("query", "sent"),
    [
        (q(text="Dune", year=2021, categories=(2000,)), "Dune 2021"),
        (q(text="Dune", year=2021, categories=(2040, 2045)), "Dune 2021"),
        (q(text="Dune", year=2021, kinds=(MOVIE,)), "Dune 2021"),
        (q(text="Dune 2021", year=2021, categories=(2000,)), "Dune 2021"),  # not twice
        (q(text="Dune", year=2021), "Dune"),  # could be a show: no year
        (q(text="Dune", year=2021, categories=(5000,)), "Dune"),
        (q(text="Dune", year=2021, categories=(2000, 5000)), "Dune"),
        (q(text="Dune", year=2021, kinds=(TV,)), "Dune"),
        (q(text="Dune", categories=(2000,)), "Dune"),  # no year asked
    ],
)
async def test_a_movie_search_adds_its_year_only_when_it_is_a_movie(
    query: SearchQuery, sent: str
) -> None:
    plan = await plan_live(query, None)
    assert plan is not None
    assert plan.text == sent


@pytest.mark.parametrize(
    "query",
    [q(), q(text="   \t "), q(categories=(5000,)), q(season=1, episode=2), q(year=2021)],
)
async def test_an_rss_poll_has_no_plan_and_names_nothing(query: SearchQuery) -> None:
    names = FakeNames({TV: ARROW, MOVIE: DUNE})
    assert await plan_live(query, names) is None
    assert names.calls == []


# ------------------------------------------------------------------ ids alone


async def test_a_tvdb_episode_search_is_sent_by_the_show_name_and_read_again_by_it() -> None:
    names = FakeNames({TV: ARROW, MOVIE: DUNE})
    query = q(tvdb_id=257655, season=5, episode=7, categories=(5000, 5040), limit=100)

    plan = await plan_live(query, names)

    assert plan is not None
    assert (plan.text, plan.name, plan.imdb_id) == ("Arrow S05E07", "Arrow", None)  # no year
    assert plan.fallback == SearchQuery(
        text="Arrow", season=5, episode=7, categories=(5000, 5040), limit=100
    )  # the same search by name, without the ids
    assert names.calls == [(TV, None, None, 257655)]


async def test_a_radarr_movie_search_is_sent_by_name_and_year_keeping_the_imdb_id() -> None:
    names = FakeNames({TV: ARROW, MOVIE: DUNE})
    query = q(imdb_id="tt1160419", categories=(2000,), sort=SortOrder.DATE)

    plan = await plan_live(query, names)

    assert plan is not None
    assert (plan.text, plan.name, plan.imdb_id) == ("Dune 2021", "Dune", "tt1160419")
    assert plan.fallback is not None
    fallback = plan.fallback
    assert (fallback.text, fallback.imdb_id, fallback.tmdb_id, fallback.tvdb_id) == (
        "Dune", None, None, None,
    )  # fmt: skip
    assert (fallback.categories, fallback.year) == ((2000,), 2021)  # not "Dune" (1984)
    assert names.calls == [(MOVIE, "tt1160419", None, None)]


async def test_the_asked_year_wins_over_the_found_one_and_filters_the_name_search() -> None:
    plan = await plan_live(q(tmdb_id=438631, year=2022, kinds=(MOVIE,)), FakeNames({MOVIE: DUNE}))
    assert plan is not None
    assert plan.text == "Dune 2022"
    assert plan.fallback is not None
    assert (plan.fallback.text, plan.fallback.year) == ("Dune", 2022)


@pytest.mark.parametrize(
    ("query", "kinds"),
    [
        (q(tvdb_id=257655), [TV]),
        (q(tmdb_id=1412, season=5), [TV]),
        (q(imdb_id="tt2193021", episode=7), [TV]),
        (q(imdb_id="tt2193021", categories=(5000, 5040)), [TV]),
        (q(imdb_id="tt2193021", kinds=(ContentKind.ANIME,)), [TV]),
        (q(imdb_id="tt1160419", categories=(2000,)), [MOVIE]),
        (q(tmdb_id=438631, kinds=(MOVIE,)), [MOVIE]),
        (q(imdb_id="tt1160419"), [MOVIE, TV]),  # nothing says which: movies, then shows
        (q(imdb_id="tt1160419", categories=(2000, 5000)), [MOVIE, TV]),
    ],
)
async def test_the_kinds_tried_follow_what_the_query_says(
    query: SearchQuery, kinds: list[ContentKind]
) -> None:
    names = FakeNames()  # finds nothing: every kind the query allows is tried
    await plan_live(query, names)
    assert names.kinds == kinds
    assert all(call[1:] == (query.imdb_id, query.tmdb_id, query.tvdb_id) for call in names.calls)


async def test_an_imdb_id_alone_is_tried_as_a_show_when_no_movie_has_it() -> None:
    names = FakeNames({TV: ARROW})
    plan = await plan_live(q(imdb_id="tt2193021"), names)
    assert plan is not None
    assert (plan.text, plan.name, plan.imdb_id) == ("Arrow", "Arrow", "tt2193021")
    assert names.kinds == [MOVIE, TV]


async def test_the_first_kind_that_names_the_id_ends_the_lookup() -> None:
    names = FakeNames({TV: ARROW, MOVIE: DUNE})
    plan = await plan_live(q(imdb_id="tt1160419"), names)
    assert plan is not None
    assert plan.text == "Dune 2021"
    assert names.kinds == [MOVIE]


@pytest.mark.parametrize("fails", [False, True], ids=["not-found", "value-error"])
async def test_an_id_nobody_names_is_sent_as_the_imdb_id_or_not_at_all(fails: bool) -> None:
    names = FakeNames(fails=fails)
    by_imdb = await plan_live(q(imdb_id="tt0944947", season=1, episode=2), names)
    assert by_imdb == LivePlan(text="tt0944947", imdb_id="tt0944947")
    assert await plan_live(q(tvdb_id=121361, season=1, episode=2), names) is None
    assert await plan_live(q(tmdb_id=1399, categories=(5000,)), names) is None
    assert names.calls  # it was asked


async def test_without_a_resolver_only_an_imdb_id_can_be_sent() -> None:
    assert await plan_live(q(imdb_id="tt0944947"), None) == LivePlan(
        text="tt0944947", imdb_id="tt0944947"
    )
    assert await plan_live(q(tvdb_id=121361, season=1), None) is None


# ------------------------------------------------------------------ what sites accept


async def test_long_words_are_cut_at_a_word_boundary_within_the_sites_limit() -> None:
    words = " ".join(f"word{i}" for i in range(100))  # 689 characters
    plan = await plan_live(q(text=words), None)
    assert plan is not None
    assert len(plan.text) <= MAX_QUERY_CHARS
    assert len(plan.text) >= MAX_QUERY_CHARS - 2 * len(" word99")  # about as much as fits
    assert words.startswith(plan.text + " ")  # whole words only
    assert search_text(plan.text) == plan.text  # a site takes it


async def test_the_episode_mark_survives_the_cut() -> None:
    words = " ".join(["arrow"] * 60)
    plan = await plan_live(q(text=words, season=5, episode=7), None)
    assert plan is not None
    assert len(plan.text) <= MAX_QUERY_CHARS
    assert plan.text.endswith(" arrow S05E07")
    assert search_text(plan.text) == plan.text


async def test_one_word_longer_than_the_limit_is_cut_inside_it() -> None:
    plan = await plan_live(q(text="x" * 300), None)
    assert plan is not None
    assert set(plan.text) == {"x"}
    assert MAX_QUERY_CHARS - 1 <= len(plan.text) <= MAX_QUERY_CHARS


async def test_a_long_name_found_for_ids_is_cut_in_the_text_and_the_name_search() -> None:
    long_name = " ".join(["Show"] * 80)  # 399 characters
    names = FakeNames({TV: KnownTitle(title=long_name, year=None, kind=TV, origin="index")})
    plan = await plan_live(q(tvdb_id=1, season=1, episode=2), names)
    assert plan is not None
    assert len(plan.text) <= MAX_QUERY_CHARS
    assert plan.text.endswith("Show S01E02")
    assert plan.fallback is not None
    assert len(plan.fallback.text) <= MAX_QUERY_CHARS
    assert set(plan.fallback.text.split()) == {"Show"}


async def test_control_characters_never_reach_a_site() -> None:
    plan = await plan_live(q(text="Breaking\x00Bad\x1b\u200b", season=1, episode=2), None)
    assert plan is not None
    assert plan.text == "Breaking Bad S01E02"
    assert search_text(plan.text) == plan.text


# ------------------------------------------------------------------ conflicts


def hit(**ids: Any) -> TorrentSummary:
    seen = datetime(2026, 1, 1, tzinfo=UTC)
    return TorrentSummary(
        info_hash="a" * 40,
        title="Arrow.S05E07.720p.HDTV.x264-SVA",
        size=None,
        file_count=1,
        kind=TV,
        category=5040,
        seeders=None,
        leechers=None,
        published_at=None,
        first_seen=seen,
        last_seen=seen,
        **ids,
    )


@pytest.mark.parametrize(
    ("own", "asked", "expected"),
    [
        ({"tvdb_id": 1}, {"tvdb_id": 257655}, True),
        ({"tvdb_id": 257655}, {"tvdb_id": 257655}, False),
        ({}, {"tvdb_id": 257655}, False),  # not enriched yet: it may be the show
        ({"tvdb_id": 1}, {}, False),  # a search by words alone
        ({"imdb_id": "tt0000001"}, {"imdb_id": "tt2193021"}, True),
        ({"tmdb_id": 1}, {"tmdb_id": 1412}, True),
        ({"tvdb_id": 1}, {"imdb_id": "tt2193021"}, False),  # different ids: no contradiction
        ({"tvdb_id": 257655, "imdb_id": "tt0000001"}, {"tvdb_id": 257655, "imdb_id": "tt2193021"},
         True),
    ],
)  # fmt: skip
def test_a_torrent_conflicts_only_when_both_sides_have_an_id_and_they_differ(
    own: dict[str, Any], asked: dict[str, Any], expected: bool
) -> None:
    assert conflicts(hit(**own), q(text="Arrow", **asked)) is expected


async def test_words_made_only_of_control_characters_are_no_words() -> None:
    assert await plan_live(q(text="\x00\x1b"), None) is None
    by_id = await plan_live(q(text="\u200b", imdb_id="tt0944947"), None)
    assert by_id == LivePlan(text="tt0944947", imdb_id="tt0944947")
