"""A fast, conservative release-title parser that answers only when the title is plain.

guessit costs milliseconds a title; most titles on the wire are scene-shaped
("Name.2010.1080p.BluRay.x264-GRP", "Show.S01E02.720p.HDTV.x264-GRP", "[Group] Show -
12 (1080p)", "Name (2010) [1080p] [YTS.MX]") and can be read with a tokenizer and a
few tables in microseconds. This module reads those and returns the same `ParsedTitle`
that `from_guessit` would (same spellings: "H.264", "WEB-DL", "DD+ 5.1", "mul"), so
results are interchangeable.

The grammar: a title (plain words in any one script, numbers only where guessit keeps
them; `fast_common`), an anchor (a year, an episode marker, a date or a technical word),
technical words (`fast_reader`, `fast_markers`, tables in `fast_tables`), an optional
episode title, and a release group ("-GRP", "- GRP", "-GRP[tag]", "[GRP]" or a last
bare word after a technical one). Fansub names have their own shape (`fast_anime`).

It is deliberately timid: whenever the structure is unusual (mixed separators, a word
guessit reads as a tag inside the title, an unknown word among the technical ones, two
sources, a number beside "Season" or "Part"...) it returns None and the caller asks
guessit. Being wrong costs more than being slow, so every pattern where it disagreed
with guessit, on the corpora and on tens of thousands of generated variants, became a
reason to decline.
"""

from __future__ import annotations

import itertools
import re
from typing import Final

from engine.classify.fast_anime import looks_like_anime, parse_anime
from engine.classify.fast_common import (
    CRC_RE,
    RES_RE,
    YEAR_RE,
    Decline,
    TitleParts,
    read_title,
    valid_year,
)
from engine.classify.fast_markers import EPISODE_RE, NXN_RE, SEASON_RE, SXE_RE, read_marker
from engine.classify.fast_reader import NO_FIELD, SCENE, WEAK_ANCHORS, Reader
from engine.classify.fast_tables import (
    _AUDIO_NAMES,
    _AUDIO_RE,
    _CHANNELS,
    _KNOWN,
    _KNOWN_PAIRS,
    CONTAINERS,
    NOT_GROUPS,
    NUMBER_WORDS,
    RISKY,
    SERVICES,
)
from engine.classify.titles import ParsedTitle

__all__ = [
    "MAX_FAST_CHARS",
    "_AUDIO_NAMES",
    "_AUDIO_RE",
    "_CHANNELS",
    "_CRC_RE",
    "_EPISODE_RE",
    "_KNOWN",
    "_NXN_RE",
    "_RES_RE",
    "_SEASON_RE",
    "_SXE_RE",
    "_TOKEN_RE",
    "_YEAR_RE",
    "fast_parse",
]

MAX_FAST_CHARS: Final = 300
"""Longer names are unusual (file lists glued to titles): leave them to guessit."""

# Kept under their old names: engine.classify.tagger reads them.
_TOKEN_RE: Final = re.compile(r"\[[^\[\]]*\]|\([^()]*\)|[^\s._\-\[\]()]+")
_YEAR_RE: Final = YEAR_RE
_RES_RE: Final = RES_RE
_CRC_RE: Final = CRC_RE
_SXE_RE: Final = SXE_RE
_NXN_RE: Final = re.compile(r"^(\d{1,2})x(\d{2,3})$")
_SEASON_RE: Final = SEASON_RE
_EPISODE_RE: Final = EPISODE_RE

_SPLIT_RE: Final = re.compile(r"([\s._-]+)")
_BRACKETS: Final = frozenset("[]()")
_CONTAINER_RE: Final = re.compile(r"\.([A-Za-z0-9]{2,7})$")
_GAPS_OK_RE: Final = re.compile(r"[\s._-]*")
_RAR_RE: Final = re.compile(r"^r\d\d$")
_GROUP_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.]{0,30}$")
_NOT_GROUP_RE: Final = re.compile(
    r"^(?:\d+(?:\.\d+)?[kmgt]b(?:ps|its?)?|(?:dd|ddp|ac3|aac|dts|eac3)\d+|hd.*|rip.*|\d+cds?|cd\d+"
    r"|\d+x\d+)$"
)
"""Sizes, bit rates and glued audio ("1400Mb", "DD51") are not groups to guessit, and
a group starting with "HD" or "Rip" may join the source before it ("HDTS-HDCLUB")."""
_LONE_EPISODE_RE: Final = re.compile(r"^ep?\d{1,3}$")
_LAST: Final = frozenset(
    ("res", "codec", "source", "audio", "bracket", "size", "episode", "year", "date", "detail")
) | {"container"}
"""Kinds a name may end on without a group: guessit reads a trailing "NF" as the group."""
_DASH_AFTER: Final = SCENE | {"size"}
"""Kinds before a "-GRP" guessit reads as the group; not editions: "IMAX-GRP" is none."""
_STRONG_SOURCES: Final = frozenset(("source", "codec", "res"))
_SEASON_WORDS: Final = frozenset(("season", "saison", "seasons"))
_STOP_WORDS: Final = frozenset(
    (
        "the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "for", "from", "by", "with",
        "into", "onto", "no", "le", "la", "les", "de", "du", "des", "el",
    )
)  # fmt: skip
"""The title_stop_words of guessit: a title does not end on one before a tag to swallow."""


def fast_parse(text: str) -> ParsedTitle | None:
    """Parse a cleaned title quickly, or return None when not confident.

    Args:
        text: Output of `clean_title` (non-empty, single-spaced).

    Returns:
        The same `ParsedTitle` guessit would give through `from_guessit`, or None when
        the title is unusual and guessit should decide. Never raises.
    """
    if not text or len(text) > MAX_FAST_CHARS:
        return None
    try:
        return _parse(text)
    except Exception:  # Decline, or a bug here, which must not stop ingest: guessit answers
        return None


def _parse(text: str) -> ParsedTitle:
    container = None
    if (found := _CONTAINER_RE.search(text)) and found.group(1).lower() in CONTAINERS:
        container, text = found.group(1).lower(), text[: found.start()]  # guessit's extensions
    if text.startswith("[") or looks_like_anime(text):
        return parse_anime(text, container)
    words, gaps = _tokens(text)
    low = [w.lower() for w in words]
    if container == "ts" and "web" in low:
        raise Decline  # "WEB...ts": guessit loses the source
    if gaps[-1] == "." and (low[-1] in CONTAINERS or _RAR_RE.match(low[-1])):
        raise Decline  # "Name.r00", or a second extension: guessit reads a file extension
    parts = read_title(words, low, gaps, _anchor_at, bare=True)
    if parts.end == len(words):
        return _bare_title(parts, gaps, container)
    anchor = low[parts.end]
    if _KNOWN.get((anchor,), NO_FIELD)[0] == "lang" and words[parts.end].istitle():
        raise Decline  # "Shadow.Castellano.CONVERT": guessit may keep "Castellano" in the title
    strong = SXE_RE.match(anchor) or NXN_RE.match(anchor) or YEAR_RE.match(anchor)
    if parts.numbers and not _numbers_kept(low, parts.end, bool(strong)):
        raise Decline  # "Avatar 21 Things [1080p]": guessit reads the number as an episode
    if parts.last in SERVICES and not strong:
        raise Decline  # "Abidin.Dino.DDY.WEBRip": guessit reads a streaming service
    group, group_len = _release_group(words, low, gaps)
    if parts.lead_dash and (group is None or gaps[-1] != "-"):
        raise Decline  # "blow-how.to.be.single": guessit reads "blow" as a leading group
    reader = Reader(words, low, gaps, len(words) - group_len, group is not None)
    reader.run(parts.end)
    if reader.date and parts.last in NUMBER_WORDS:
        raise Decline  # "Show.Sun.2017.05.04": guessit reads the weekday into the date
    group = _final_group(reader, group, group_len)
    if parts.lead_dash and reader.known_end != len(words) - group_len:
        raise Decline  # "Max-Moon...BDRemux-LOL": guessit reads "Max" as a leading group
    return reader.result(parts, group, container)


def _tokens(text: str) -> tuple[list[str], list[str]]:
    """Words and the separators before them (gaps[0] is ""), brackets kept whole."""
    if _BRACKETS.isdisjoint(text):
        pieces = _SPLIT_RE.split(text)  # [word, gap, word, gap, ..., word]
        words, gaps = pieces[0::2], ["", *pieces[1::2]]
        if len(words) < 2 or not words[0] or not words[-1]:
            raise Decline  # one word, or separators at either end
        return words, gaps
    spans = [(m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]
    if len(spans) < 2 or spans[0][1] or spans[-1][2] != len(text):
        raise Decline  # one word, or separators at either end
    gaps = ["", *(text[a[2] : b[1]] for a, b in itertools.pairwise(spans))]
    if any(not _GAPS_OK_RE.fullmatch(gap) for gap in gaps):
        raise Decline  # a stray bracket or symbol between words
    return [s[0] for s in spans], gaps


def _anchor_at(low: list[str], gaps: list[str], i: int) -> bool:
    """Whether token `i` may end the title: a year, an episode marker or a strong tag."""
    word = low[i]
    nxt = low[i + 1] if i + 1 < len(low) else ""
    if word in _KNOWN_PAIRS and (word, nxt) in _KNOWN and len(gaps[i + 1]) == 1:
        return _KNOWN[word, nxt][0] in ("source", "codec")
    if (known := _KNOWN.get((word,))) is not None:
        return known[0] in _STRONG_SOURCES or (
            known[0] in WEAK_ANCHORS and _weak_anchor_ok(low, i, known[1])
        )
    first = word[0]
    if first.isdecimal():
        if YEAR_RE.match(word):
            return valid_year(int(word))
        return bool(NXN_RE.match(word) or RES_RE.match(word))
    if first == "s":
        if word in _SEASON_WORDS:
            return nxt.isdecimal()
        return bool(SXE_RE.match(word) or SEASON_RE.match(word))
    if first == "e":
        return bool(_LONE_EPISODE_RE.match(word))
    return first in "[("


def _tag_follows(low: list[str], i: int) -> bool:
    """Whether token `i` is a tag, so a weak tag before it has the neighbour guessit wants."""
    if i >= len(low):
        return False
    word = low[i]
    field = _KNOWN.get((word,), NO_FIELD)[0]
    return field not in ("", "hole", "depth") or word in _KNOWN_PAIRS or bool(RES_RE.match(word))


def _weak_anchor_ok(low: list[str], i: int, value: str) -> bool:
    """Whether a weak tag at `i` ("FRENCH", "EXTENDED") may end the title.

    Only in names without a year, date or episode marker later: guessit then takes the
    title up to that marker, the tag included ("Lord.Swedish.1964").
    """
    if value == "Festival" or not _tag_follows(low, i + 1):
        return False  # guessit wants a tag on both sides of "Festival"
    if low[i - 1] in _STOP_WORDS:
        return False  # "Killing of Polish": guessit keeps the tag in the title
    return not any(
        YEAR_RE.match(w) or w[:1] in "[(" or read_marker(low, [" "] * len(low), k)
        for k, w in enumerate(low[i + 1 :], i + 1)
    )


def _bare_title(parts: TitleParts, gaps: list[str], container: str | None) -> ParsedTitle:
    """A name of plain words only ("The_Italian_Job.mkv"): all of it is the title."""
    if parts.numbers or parts.lead_dash or " - " in gaps or parts.last in SERVICES:
        raise Decline  # numbers, dashes or a service: guessit may read an episode or a group
    return ParsedTitle(title=parts.title, guessit_type="movie", container=container)


def _numbers_kept(low: list[str], end: int, strong: bool) -> bool:
    """Whether guessit keeps the numbers of a title ("22 Jump Street (2014) 720p").

    Only before an episode marker or a year (bare or in parentheses), and with no
    bracketed tag after it: then guessit reads the number as an episode instead.
    """
    anchor = low[end]
    if not strong and not (anchor[0] == "(" and YEAR_RE.match(anchor[1:-1])):
        return False
    return not any(word[0] in "[(" for word in low[end + 1 :])


def _final_group(reader: Reader, group: str | None, group_len: int) -> str | None:
    """Check how the name ends, and return the release group guessit reads there."""
    end = len(reader.words) - group_len
    if "service" in reader.fields and group is None:
        raise Decline  # "4K.DSNP.WEB.HEVC": with no group, guessit calls "DSNP" the group
    if reader.known_end == end:
        if reader.kind not in (_DASH_AFTER if group else _LAST):
            raise Decline  # guessit reads "NF-GRP", "IMAX-GRP" or a trailing "NF" as the group
        return group
    if reader.free_end == end and group is None:
        return None  # "S01E03.Some.Title": an episode title to the end
    if reader.known_end == end - 1 and (group is None or reader.gaps[-1] == "-"):
        word = _bare_group(reader, reader.words[end - 1])  # "x264 GRP", "AC3.MrSeeN-SiMPLE"
        if group is None:
            return word
        if not word.isalpha() or reader.words[-1][0] == "[":
            raise Decline  # "x642-GRP", "MP2-GRP": guessit reads a bonus or a codec
        return f"{word}-{group}"
    raise Decline  # an unknown word among the technical ones, or before the group


def _bare_group(reader: Reader, word: str) -> str:
    """A last word after a technical one, without a dash: guessit's "scene" group."""
    if reader.kind not in SCENE or len(reader.gaps[-1]) != 1 or not _plain_group(word):
        raise Decline
    if word.isdecimal() or CRC_RE.match(word.lower()):
        raise Decline
    return word


def _release_group(words: list[str], low: list[str], gaps: list[str]) -> tuple[str | None, int]:
    """The group after the last '-' (or in a last bracket), and how many tokens it takes."""
    last, prev = words[-1], words[-2]
    if last[0] == "[" and prev[0] in "[(" and gaps[-1] in ("", " "):
        # "(2023) [1080p] [WEBRip] [YTS.MX]"; "(2010) [1080p]" is for the reader.
        inner = last[1:-1]
        if _plain_group(inner) and not _bracket_known(inner):
            return inner, 1
        return None, 0
    if last[0] == "[" and gaps[-1] in ("", " ") and gaps[-2].strip() == "-":
        if not _plain_group(prev, shortest=3) or not prev[0].isalpha():
            raise Decline  # "-SC[rartv]" -> "rartv"; "-2HD[ettv]" -> "2HD"
        if low[-2].endswith(("hd", "sd", "tv", "rip")):
            raise Decline  # "-CtrlHD[ettv]": guessit drops the tag
        return f"{prev}{gaps[-1]}{last}", 2  # "x264-LOL [eztv]": guessit keeps tags
    if gaps[-1] not in ("-", " - "):
        return None, 0
    pair = (low[-2], low[-1])
    if pair[1] == "rip" or prev[0] in "[(":
        raise Decline  # "WEB-Rip" last, "(1995)-GRP": guessit reads neither as we would
    if pair[0] == "dvd" and pair[1].startswith("r"):
        raise Decline  # "DVD-RARBG": guessit reads "DVD-R" and loses the source
    if pair[0] == "dts" and pair[1].startswith(("x", "hd", "ma", "es")):
        raise Decline  # "DTS-x0r": guessit reads "DTS-X"
    if pair in _KNOWN or (pair[0] == "dts" and pair[1] in ("hd", "x")):
        return None, 0  # "WEB-DL" or "DTS-HD" at the end, not a group
    name = last[1:-1] if last[0] == "[" else last  # "x264-[YTS.MX]"
    if last[0] == "(" or not _plain_group(name) or "+" in prev:
        raise Decline  # "HDR10+-QxR": guessit reads "HDR10+-QxR" as the group
    return name, 1


def _bracket_known(inner: str) -> bool:
    """A bracket whose words are tags ("[AAC]", "[UHD]"): guessit does not call it a group."""
    return any(
        (w,) in _KNOWN or w in RISKY or _AUDIO_RE.match(w) or RES_RE.match(w)
        for w in re.split(r"[\s._-]+", inner.lower())
    )


def _plain_group(name: str, shortest: int = 2) -> bool:
    """A release-group name guessit reads as such (not "02", nor a tag: "-CS" is Czech)."""
    if len(name) < shortest:
        return False
    found = _GROUPS_SEEN.get(name)
    if found is None:
        found = _check_group(name)
        if len(_GROUPS_SEEN) < 4096:  # the same groups recur on every page of every source
            _GROUPS_SEEN[name] = found
    return found


_GROUPS_SEEN: dict[str, bool] = {}


def _check_group(name: str) -> bool:
    """The checks of `_plain_group`, uncached."""
    low = name.lower()
    return (
        bool(_GROUP_RE.match(name))
        and any(c.isalpha() for c in name)
        and not RES_RE.match(low)
        and (low,) not in _KNOWN
        and low not in RISKY
        and low not in NOT_GROUPS
        and low not in SERVICES
        and not _AUDIO_RE.match(low)
        and not _NOT_GROUP_RE.match(low)
        and not (len(low) == 8 and CRC_RE.match(low))
    )
