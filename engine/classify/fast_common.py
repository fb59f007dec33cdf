"""Pieces the fast parser's scene and anime grammars share: the title reader and checks.

The title is the text before the first anchor (a year, an episode marker, a strong
technical word, a bracket), as guessit takes it. It is accepted only when guessit
would keep every word of it: plain words in one script (a title in Cyrillic or CJK is
fine, an original-script title glued before a romanized one is not: guessit splits
it), one separator, numbers only where guessit keeps them, no word guessit reads as a
tag (`fast_tables.RISKY`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from engine.classify.fast_tables import LINK_WORDS, NUMBER_WORDS, RISKY


class Decline(Exception):
    """The title is unusual: let guessit read it."""


YEAR_RE: Final = re.compile(r"^(19\d\d|20\d\d)$")
RES_RE: Final = re.compile(r"^(?:\d{3,4}[pi]|\d{3,4}x\d{3,4})$")
CRC_RE: Final = re.compile(r"^[0-9a-f]{8}$")
CHANNEL_DIGITS: Final = frozenset("12567")
CHANNELS: Final = {
    "1.0": "1.0", "2.0": "2.0", "5.0": "5.1", "5.1": "5.1", "6.0": "5.1", "7.0": "7.1", "7.1": "7.1"
}  # fmt: skip
"""Channel layouts as guessit names them ("6.0" is its 5.1); others are not channels."""

ARTICLES: Final = frozenset(
    ("the", "a", "an", "le", "la", "les", "el", "los", "las", "il", "lo", "l")
)
"""A title of one article swallows the next tag in guessit ("The.Convert")."""

_WORD_RE: Final = re.compile(r"^[^\W\d_]+(?:'[^\W\d_]+)*$")
_NON_LATIN_RE: Final = re.compile(
    r"[\u0370-\u03ff\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff\u0e00-\u0e7f"
    r"\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]"
)
"""The NON_LATIN_SCRIPT_RE of guessit's rules/properties/title.py: scripts it splits off."""
_LATIN_START_RE: Final = re.compile(r"(?:^|[ \-])[A-Za-z]")


def valid_year(year: int) -> bool:
    """The year range of guessit's rules/common/date.py: 2049 in a title is not a year."""
    return 1900 <= year < 2035


@dataclass(frozen=True, slots=True)
class TitleParts:
    """The title as guessit would write it, where its anchor is, and what it holds."""

    title: str
    end: int  # index of the anchor token
    numbers: bool  # a number among the words ("22 Jump Street", "The 100")
    lead_dash: bool  # "Word-Word." first: guessit may read the first word as a group
    last: str  # the last title word, lowercased ("#" for a number)


AnchorTest = Callable[[list[str], list[str], int], bool]
"""anchor_at(low, gaps, i): whether lowercased token `i` ends the title."""


def read_title(
    words: list[str],
    low_words: list[str],
    gaps: list[str],
    anchor_at: AnchorTest,
    *,
    bare: bool = False,
) -> TitleParts:
    """Read the title zone of `words` (gaps[i] is the separator before words[i]).

    With `bare`, a name without any anchor is all title (then `end` is len(words)).

    Raises:
        Decline: no anchor, or anything in the title guessit may read otherwise.
    """
    end = 0
    for i in range(1, len(words)):
        if anchor_at(low_words, gaps, i):
            end = i
            break
    if not end:
        if not bare:
            raise Decline
        end = len(words)  # "The_Italian_Job.mkv": guessit takes the whole name as the title
        gaps = [*gaps, gaps[-1]]
    sep = gaps[end]
    if (
        sep in (".", " ", "_")
        and gaps[1:end].count(sep) == end - 1
        and all(
            len(w) > 1 and w not in RISKY and (len(w) != 8 or not CRC_RE.match(w))
            for w in low_words[:end]
        )
        and all(w.isalpha() for w in words[:end])
    ):
        # The common case: plain words and one separator, "The.Walking.Dead.S05E03".
        if end == 1 and low_words[0] in ARTICLES:
            raise Decline  # "The": guessit weighs such a title against the rest
        title = " ".join(words[:end])
        _check_script(title)
        return TitleParts(title, end, False, False, low_words[end - 1])
    return _read_title(words, low_words, gaps, end)


def _read_title(words: list[str], low_words: list[str], gaps: list[str], end: int) -> TitleParts:
    """`read_title` for titles with numbers, dashes, apostrophes or " - " in them."""
    year_anchor = end < len(words) and bool(YEAR_RE.match(low_words[end].strip("()")))
    seps: set[str] = set()
    kept: list[str] = []  # the title; words after a " - " are guessit's alternative title
    lows: list[str] = []
    split = numbers = alpha = False
    for i in range(end):
        word, gap = words[i], gaps[i]
        if gap == " - ":
            split = True
        elif gap and gap != "-":
            seps.add(gap)
        low = low_words[i]
        if _check_word(words, low_words, gaps, i, year_anchor):
            numbers = True
            lows.append("#")
        else:
            alpha = alpha or (not split and word != "&")
            lows.append(low)
        if not split:
            kept.append(("-" if gap == "-" else " ") + word if i else word)
    _check_separators(seps, split, gaps[end], "&" in lows)
    title = "".join(kept)
    lowered = title.lower().split()
    if not (alpha or numbers) or len(title) < 2 or (len(lowered) == 1 and lowered[0] in ARTICLES):
        raise Decline  # "7", "The": guessit weighs such titles against the rest
    if split and not alpha:
        raise Decline  # "2047 - Sights of Death": guessit keeps only "2047", PTN the whole
    if numbers and (
        NUMBER_WORDS.intersection(lows)
        or any(
            w in LINK_WORDS and "#" in lows[k - 1 : k] + lows[k + 1 : k + 2]
            for k, w in enumerate(lows)
        )
    ):
        raise Decline  # "Season 2", "Part 3", "1 of 6", "July 4": guessit reads the number
    _check_script(title)
    return TitleParts(title, end, numbers, len(gaps) > 1 and gaps[1] == "-", lows[-1])


def _check_script(title: str) -> None:
    """Decline "超能警探 Memorist": guessit keeps the romanized part of such a title only."""
    if (
        not title.isascii()
        and (m := _NON_LATIN_RE.search(title))
        and _LATIN_START_RE.search(title, m.start())
    ):
        raise Decline


def _check_word(
    words: list[str], low_words: list[str], gaps: list[str], i: int, year_anchor: bool
) -> bool:
    """Check title word `i`; return whether it is a number.

    Raises:
        Decline: a word guessit reads as something else than title text.
    """
    word, low, gap = words[i], low_words[i], gaps[i]
    if word.isdecimal() and word.isascii():
        if (gap == "-" or gaps[i + 1] == "-") and year_anchor:
            raise Decline  # "9-1-1 2014": guessit reads a date
        if not i and YEAR_RE.match(word) and not year_anchor:
            raise Decline  # "1917.Dark.S01E02": guessit reads the year
        if i and words[i - 1].isdecimal() and gap != "-":
            raise Decline  # "Show 24 12 2023": a date
        return True
    if word.isalpha() or _WORD_RE.match(word):
        if low in RISKY or ("'" in low and RISKY.intersection(low.split("'"))):
            raise Decline  # a word guessit reads as a tag ("Proper", "French", "HD")
        if len(low) == 8 and CRC_RE.match(low):
            raise Decline  # "deadbeef": a CRC32 to guessit
        if len(low) == 1 and low not in ("a", "i") and "-" not in (gap, gaps[i + 1]):
            raise Decline  # "A_v_", "D Z0N3": guessit reads lone letters its own way
        return False
    if word != "&":
        raise Decline  # punctuation, or letters glued to digits ("Se7en", "S.W.A.T")
    return False


def _check_separators(seps: set[str], split: bool, anchor_gap: str, amp: bool) -> None:
    """One separator throughout the title; " - " and "&" only in space-separated names."""
    if len(seps) > 1 or not seps <= {".", " ", "_"}:
        raise Decline  # "Dr.Seuss The Lorax": guessit keeps some dots
    sep = next(iter(seps), anchor_gap if anchor_gap in (".", " ", "_") else " ")
    if (split or amp) and sep != " ":
        raise Decline
    if anchor_gap != sep and anchor_gap != f"{sep}-{sep}":
        raise Decline  # "Title-2010", "Title_(2010)": guessit may read a group
