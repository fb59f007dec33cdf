"""How sure we are that a service's candidate is the thing a torrent title names.

A wrong id is worse than none: Sonarr and Radarr search by the ids we attach, so a
confident mistake sends them the wrong show. Hence a score of three parts, a high
threshold, and a refusal when two different candidates score about the same:

    confidence = 0.70 * title + 0.20 * year + 0.10 * kind

* title: similarity of the normalized titles (`title_similarity`), the best over the
  candidate's names (original, translated, romaji, synonyms...);
* year: 1.0 same year, 0.75 one year apart (release dates differ by country, a
  December release is a January torrent), 0.5 unknown on either side, 0.0 further
  apart. For TV and music a later torrent year is a later season or a reissue, not a
  contradiction, so it counts as unknown (0.5); for movies and anime it is a remake
  or another season and counts 0.0;
* kind: 1.0 when the candidate is the kind asked for, lower when it is a near kind
  (an anime music video, a single instead of an album).

Only candidates at or above `MIN_CONFIDENCE` are returned: an exact title needs the
year to agree or be unknown (1.0 or 0.9); an exact title five years off scores 0.8
and is refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Generic, TypeVar

from engine.models import ContentKind

MIN_CONFIDENCE = 0.85
"""The lowest confidence a lookup returns; below it the answer is "nothing confident"."""

AMBIGUITY_MARGIN = 0.05
"""A best candidate this close to a different runner-up is a guess (Dune 1984 or 2021?)."""

MAX_QUERY_CHARS = 200
"""Longer titles are cut (at a word) before they are sent or compared: no title is longer."""

TITLE_WEIGHT = 0.70
YEAR_WEIGHT = 0.20
KIND_WEIGHT = 0.10

_NUMBER_MISMATCH = 0.85  # "Taken" is not "Taken 2", "Blade Runner" is not "Blade Runner 2049"
_LATER_IS_PLAUSIBLE = frozenset({ContentKind.TV, ContentKind.MUSIC})
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

T = TypeVar("T")


def normalize_title(text: str) -> str:
    """Casefolded, accents and punctuation gone, spaces collapsed: "Amélie!" -> "amelie".

    Letters and digits of every script are kept (a Japanese title normalizes to
    itself); punctuation and symbols become spaces, so "Spider-Man" and "Spider Man"
    compare equal.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category == "Mn":  # a combining accent: drop it, keep its base letter
            continue
        kept.append(char if category[0] in "LN" else " ")
    return _SPACES.sub(" ", "".join(kept)).strip()[:MAX_QUERY_CHARS]


def query_text(title: str) -> str:
    """A title made fit to send as a search query: no control characters, bounded length.

    The text is otherwise sent as parsed (services do their own normalization, and
    punctuation can matter to them: "Durarara!!"); cut at a word when too long.
    """
    text = _SPACES.sub(" ", _CONTROL.sub(" ", title)).strip()
    if len(text) <= MAX_QUERY_CHARS:
        return text
    cut = text[:MAX_QUERY_CHARS]
    space = cut.rfind(" ")
    return cut[:space] if space > MAX_QUERY_CHARS // 2 else cut


def title_similarity(wanted: str, found: str) -> float:
    """0..1: how alike two titles are once normalized; word order does not matter.

    The mean of a letter-level and a word-level difflib ratio (each the better of
    the titles as written and with their words sorted). Letters alone rate "The
    Matrix" and "The Animatrix" 0.87; words alone miss "Journey's" and "Journeys".
    Equal but for spaces ("Spider-Man", "Spiderman") is equal. Lowered when the
    numbers differ, because a sequel's title is its original's plus a number.
    """
    a, b = normalize_title(wanted), normalize_title(found)
    if not a or not b:
        return 0.0
    if a.replace(" ", "") == b.replace(" ", ""):
        return 1.0
    a, b = sorted((a, b))  # difflib's ratio depends on the order; the similarity must not
    words_a, words_b = a.split(), b.split()
    sorted_a, sorted_b = sorted(words_a), sorted(words_b)
    letters = max(_ratio(a, b), _ratio(" ".join(sorted_a), " ".join(sorted_b)))
    words = max(_ratio(words_a, words_b), _ratio(sorted_a, sorted_b))
    similarity = (letters + words) / 2
    if _numbers(words_a) != _numbers(words_b):
        similarity *= _NUMBER_MISMATCH
    return similarity


def best_title_similarity(wanted: str, names: Iterable[str | None]) -> float:
    """The similarity of `wanted` to the closest of a candidate's names (None skipped)."""
    return max((title_similarity(wanted, name) for name in names if name), default=0.0)


def year_agreement(kind: ContentKind, wanted: int | None, found: int | None) -> float:
    """0..1: whether the torrent's year fits the candidate's (see the module docstring)."""
    if wanted is None or found is None:
        return 0.5
    gap = wanted - found
    if gap == 0:
        return 1.0
    if abs(gap) == 1:
        return 0.75
    if gap > 0 and kind in _LATER_IS_PLAUSIBLE:
        return 0.5
    return 0.0


def confidence(
    kind: ContentKind,
    *,
    title: float,
    wanted_year: int | None,
    found_year: int | None,
    kind_agreement: float = 1.0,
) -> float:
    """The weighted score of one candidate, rounded to 4 places so it compares stably."""
    year = year_agreement(kind, wanted_year, found_year)
    score = TITLE_WEIGHT * title + YEAR_WEIGHT * year + KIND_WEIGHT * kind_agreement
    return round(min(max(score, 0.0), 1.0), 4)


def id_confidence(score: float) -> float:
    """Confidence in a candidate found by an id (IMDb) the source supplied.

    The id is strong evidence, but sources mislabel torrents: half the confidence
    comes from the id, half from the score, so an unrelated title (score < 0.7)
    still falls under the threshold.
    """
    return round(0.5 + 0.5 * score, 4)


@dataclass(frozen=True, slots=True)
class Scored(Generic[T]):
    """A candidate with its confidence and its identity (to tell real ties from duplicates)."""

    confidence: float
    identity: object
    candidate: T


def pick_confident(scored: Sequence[Scored[T]]) -> Scored[T] | None:
    """The best candidate if it is confident and clearly ahead of any different one.

    Ties keep the service's order (its own relevance or popularity ranking).
    """
    ranked = sorted(scored, key=lambda s: s.confidence, reverse=True)
    if not ranked or ranked[0].confidence < MIN_CONFIDENCE:
        return None
    best = ranked[0]
    for other in ranked[1:]:
        if other.identity != best.identity:
            if best.confidence - other.confidence < AMBIGUITY_MARGIN:
                return None
            break
    return best


def _ratio(a: Sequence[str], b: Sequence[str]) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _numbers(words: Sequence[str]) -> frozenset[str]:
    return frozenset(w.lstrip("0") or "0" for w in words if w.isdigit())
