"""Title normalization, similarity, and the confidence score and threshold."""

from __future__ import annotations

import pytest

from engine.enrich.matching import (
    AMBIGUITY_MARGIN,
    MIN_CONFIDENCE,
    Scored,
    confidence,
    id_confidence,
    normalize_title,
    pick_confident,
    query_text,
    title_similarity,
    year_agreement,
)
from engine.models import ContentKind

MOVIE, TV, MUSIC, ANIME = ContentKind.MOVIE, ContentKind.TV, ContentKind.MUSIC, ContentKind.ANIME


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("The.Matrix!", "the matrix"),
        ("  Amélie   (2001) ", "amelie 2001"),
        ("Spider-Man: No Way Home", "spider man no way home"),
        ("葬送のフリーレン", "葬送のフリーレン"),
        ("ＳＰＹ×ＦＡＭＩＬＹ", "spy family"),  # noqa: RUF001 (fullwidth, as titles come)
        ("!!!", ""),
        ("", ""),
    ],
)
def test_normalize_title(raw: str, normalized: str) -> None:
    assert normalize_title(raw) == normalized


def test_normalize_and_query_text_bound_huge_titles() -> None:
    assert len(normalize_title("a" * 10_000)) == 200
    cut = query_text("word " * 2_000)
    assert 100 < len(cut) <= 200
    assert not cut.endswith(" ")
    assert query_text("a\x00b\x1b[0m\r\nc") == "a b [0m c"


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        ("The Matrix", "the matrix", 1.0, 1.0),
        ("Spider-Man", "Spiderman", 1.0, 1.0),
        ("Dark Side of the Moon", "The Dark Side of the Moon", 0.85, 0.95),
        ("The Matrix", "The Animatrix", 0.0, 0.75),  # letters alone would say 0.87
        ("The Matrix", "The Matrix Reloaded", 0.0, 0.8),
        ("Taken", "Taken 2", 0.0, 0.7),  # a sequel number
        ("Blade Runner", "Blade Runner 2049", 0.0, 0.7),
        ("Pride and Prejudice", "The Matrix", 0.0, 0.5),
        ("", "The Matrix", 0.0, 0.0),
    ],
)
def test_title_similarity(a: str, b: str, low: float, high: float) -> None:
    assert low <= title_similarity(a, b) <= high
    assert title_similarity(a, b) == pytest.approx(title_similarity(b, a))


def test_word_order_does_not_matter() -> None:
    assert title_similarity("Floyd Pink", "Pink Floyd") == 1.0
    assert title_similarity("Moon Dark Side", "Dark Side Moon") > 0.95


@pytest.mark.parametrize(
    ("kind", "wanted", "found", "agreement"),
    [
        (MOVIE, 1999, 1999, 1.0),
        (MOVIE, 2000, 1999, 0.75),
        (MOVIE, 1998, 1999, 0.75),
        (MOVIE, None, 1999, 0.5),
        (MOVIE, 1999, None, 0.5),
        (MOVIE, 2005, 1999, 0.0),  # a remake
        (ANIME, 2023, 2019, 0.0),  # another season or film
        (TV, 2004, 1999, 0.5),  # a later season
        (MUSIC, 2011, 1973, 0.5),  # a reissue
        (MUSIC, 1960, 1973, 0.0),  # before the first release: a different album
    ],
)
def test_year_agreement(
    kind: ContentKind, wanted: int | None, found: int | None, agreement: float
) -> None:
    assert year_agreement(kind, wanted, found) == agreement


def test_the_formula_and_threshold() -> None:
    def score(title: float, wanted: int | None, found: int | None, kind: float = 1.0) -> float:
        return confidence(
            MOVIE, title=title, wanted_year=wanted, found_year=found, kind_agreement=kind
        )

    assert score(1.0, 1999, 1999) == 1.0
    assert score(1.0, 2000, 1999) == 0.95
    assert score(1.0, None, 1999) == 0.9
    assert score(1.0, 2005, 1999) == 0.8 < MIN_CONFIDENCE  # a wrong year lowers and refuses
    assert score(1.0, 1999, 1999, kind=0.5) == 0.95
    assert score(0.5, 1999, 1999) == 0.65 < MIN_CONFIDENCE
    assert MIN_CONFIDENCE == 0.85


def test_an_id_lookup_needs_the_title_to_agree_somewhat() -> None:
    assert id_confidence(1.0) == 1.0
    assert id_confidence(0.72) == 0.86  # a translated title, right year: accepted
    assert id_confidence(0.3) < MIN_CONFIDENCE  # an unrelated title: the source mislabelled
    assert id_confidence(0.0) == 0.5


def test_pick_confident_refuses_weak_and_ambiguous_answers() -> None:
    assert pick_confident([]) is None
    assert pick_confident([Scored(0.84, 1, "a")]) is None
    best = pick_confident([Scored(0.7, 2, "b"), Scored(0.9, 1, "a")])
    assert best is not None
    assert best.candidate == "a"
    tie = [Scored(0.9, 1, "Dune 1984"), Scored(0.9 - AMBIGUITY_MARGIN / 2, 2, "Dune 2021")]
    assert pick_confident(tie) is None
    same = [Scored(0.9, 1, "a"), Scored(0.9, 1, "a again")]  # one thing listed twice
    picked = pick_confident(same)
    assert picked is not None
    assert picked.candidate == "a"
