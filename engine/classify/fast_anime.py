"""The fansub shape of the fast parser: "[Group] Title - 12 (1080p) [CRC32].mkv".

guessit reads these the same way each time: the leading bracket is the release group,
the words before " - " the title, the number after it the episode (absolute numbering,
"05v2" for a second version, "05-08" for a batch, "S2 - 05" for a later season), and
the brackets after it tags. Underscores or dots may stand for the spaces
("[Grp]_Title_-_12_[720p]"), the dash may be missing ("[Grp] Title 12 [720p]") and so
may the group ("Title - 12 [720p]"). Tags are read only when every word of them is one
guessit reads alone (a resolution, a CRC, a codec, a plain source or audio codec);
anything else ("[Dual Audio]", "AAC 2.0") is left to guessit.
"""

from __future__ import annotations

import itertools
import re
from typing import Final

from engine.classify.fast_common import CRC_RE, RES_RE, Decline, read_title
from engine.classify.fast_tables import _AUDIO_NAMES, _AUDIO_RE, _KNOWN
from engine.classify.titles import ParsedTitle, _resolution

_GROUP_RE: Final = re.compile(r"^\[([A-Za-z0-9][\w .&-]*)\]([ _.]?)")
_TOKEN_RE: Final = re.compile(r"\[[^\[\]]*\]|\([^()]*\)|[^\s._\-\[\]()]+")
_GAPS_OK_RE: Final = re.compile(r"[\s._-]*")
_EPISODE_RE: Final = re.compile(r"^(\d{2,4})(?:v\d)?$")
"""guessit reads no episode in "Show - 8": absolute numbers are written with 2 digits or more."""
_SEASON_RE: Final = re.compile(r"^s(\d{1,2})$")
_DASHES: Final = frozenset((" - ", "_-_", ".-."))
_NO_GROUP_RE: Final = re.compile(r" - \d{2,3}(?:v\d)?(?: |$|\[|\()")
"""Without a group, only 2-3 digits: "Title - 1998 [720p]" may hold a year to guessit."""
_TAG_SPLIT_RE: Final = re.compile(r"[\s._-]+")
_TAG_FIELDS: Final = frozenset(("codec", "skip", "depth"))
_TAG_SOURCES: Final = {"bd": "BluRay", "bluray": "BluRay", "web": "WEB-DL", "dvd": "DVD"}
"""Sources guessit reads inside anime tags ("[BD 1080p FLAC]", "[WEB 1080p]")."""
_SUBTITLE_TAGS: Final = frozenset(("multiple subtitle", "multi subs", "eng sub", "eng subs"))
"""Subtitle notes guessit reads as subtitle languages, which `ParsedTitle` leaves out."""
_NO_FIELD: Final = ("", "")


def looks_like_anime(text: str) -> bool:
    """Whether a name without a leading group is "Title - 12 [tags]" (cheap pre-check)."""
    return " - " in text and bool(_NO_GROUP_RE.search(text))


def parse_anime(text: str, container: str | None) -> ParsedTitle:
    """Read "[Group] Title - 12 [tags]"; raise `Decline` on any other shape."""
    group, rest = None, text
    if text.startswith("["):
        m = _GROUP_RE.match(text)
        if m is None or m.group(1).strip(" -_.").isdecimal():
            raise Decline
        group, rest = m.group(1).strip(" -_.") or None, text[m.end() :]
    spans = [(t.group(), t.start(), t.end()) for t in _TOKEN_RE.finditer(rest)]
    if len(spans) < 2 or spans[0][1] or spans[-1][2] != len(rest):
        raise Decline
    words = [s[0] for s in spans]
    gaps = ["", *(rest[a[2] : b[1]] for a, b in itertools.pairwise(spans))]
    if any(not _GAPS_OK_RE.fullmatch(gap) for gap in gaps):
        raise Decline
    low = [w.lower() for w in words]
    parts = read_title(words, low, gaps, _anchor_at)
    if any(gap in _DASHES for gap in gaps[1 : parts.end]) or parts.numbers:
        raise Decline  # "Show - Subtitle - 05", "Show 2 - 05": guessit may read either
    if group is None and gaps[parts.end] != " - ":
        raise Decline
    seasons, episodes, i = _episodes(low, gaps, parts.end)
    fields = _read_tags(low[i:], gaps[i:])
    digits = low[parts.end + len(seasons)].split("v")[0]
    if len(digits) > 2 and (i == len(words) or digits[0] == "0" or len(digits) + len(seasons) > 4):
        raise Decline  # "Show - 125" alone, "Show - 004": guessit reads a season and episode
    if len(digits) > 2 and "res" not in fields:
        raise Decline  # "Show - 416 [x265]": guessit reads season 4, episode 16
    return ParsedTitle(
        title=parts.title,
        season=seasons[0] if seasons else None,
        seasons=seasons,
        episode=episodes[0],
        episodes=tuple(episodes),
        resolution=fields.get("res"),
        video_codec=fields.get("codec"),
        audio=fields.get("audio"),
        media_source=fields.get("source"),
        release_group=group,
        guessit_type="episode",
        container=container,
    )


def _anchor_at(low: list[str], gaps: list[str], i: int) -> bool:
    """The episode number after " - " (or "S2 - 05", or a last number): where the title ends."""
    gap = gaps[i]
    if _SEASON_RE.match(low[i]) and (gap in _DASHES or len(gap) == 1):
        nxt_gap = gaps[i + 1] if i + 1 < len(low) else ""
        return nxt_gap in _DASHES and bool(_EPISODE_RE.match(low[i + 1]))
    if gap in _DASHES:
        return bool(_EPISODE_RE.match(low[i]))
    if len(gap) != 1 or not _EPISODE_RE.match(low[i]) or not low[i - 1].isalpha():
        return False
    return all(word[0] in "[(" or word == "vostfr" for word in low[i + 1 :])


def _episodes(low: list[str], gaps: list[str], i: int) -> tuple[tuple[int, ...], list[int], int]:
    """Season (if "S2 - 05"), episodes ("05", "05-08") and the index after them."""
    seasons: tuple[int, ...] = ()
    if season := _SEASON_RE.match(low[i]):
        seasons, i = (int(season.group(1)),), i + 1
    first = _EPISODE_RE.match(low[i])
    if first is None or (seasons and (not low[i].isdecimal() or gaps[i + 1 : i + 2] == ["-"])):
        raise Decline  # "S2 - 05v2", "S2 - 05-08": guessit loses the episode
    episodes = [int(first.group(1))]
    i += 1
    if i < len(low) and gaps[i] == "-" and (last := _EPISODE_RE.match(low[i])):
        if int(last.group(1)) <= episodes[0] or "v" in low[i - 1] + low[i]:
            raise Decline
        if len(last.group(1)) != len(first.group(1)):
            raise Decline  # "99-102": guessit reads two episodes, not a range
        episodes.extend(range(episodes[0] + 1, int(last.group(1)) + 1))
        i += 1
    return seasons, episodes, i


def _read_tags(low: list[str], gaps: list[str]) -> dict[str, str]:
    """Fields from trailing "[1080p]" / "(BD 1080p FLAC)" tags; raises `Decline` on others."""
    fields: dict[str, str] = {}
    if len(set(low)) != len(low):
        raise Decline  # "[WEB 1080p] [WEB 1080p]": guessit reads the second one as the group
    for k, (word, gap) in enumerate(zip(low, gaps, strict=True)):
        if not gap and not k:
            raise Decline  # "- 26v2[BD 1080p]": guessit reads a glued first tag otherwise
        if word == "vostfr":
            continue
        if word[0] not in "[(" or len(gap) > 1:
            raise Decline  # a word after the episode (its title, or a version): guessit decides
        inner = " ".join(_TAG_SPLIT_RE.split(word[1:-1].strip()))
        if inner in _SUBTITLE_TAGS:
            if k != len(low) - 1 or "subs" in fields:
                raise Decline  # two subtitle notes, or one before more tags: guessit's group
            fields["subs"] = ""
            continue
        for tag in inner.split():
            field, value = _tag(tag)
            if field != "skip" and fields.setdefault(field, value) != value:
                raise Decline  # two resolutions or codecs
    return fields


def _tag(word: str) -> tuple[str, str]:
    """One word of a tag as (field, value); `Decline` on a word guessit may read otherwise."""
    if RES_RE.match(word):
        return "res", _resolution(word) or ""
    if CRC_RE.match(word):
        return "skip", ""  # a CRC32, digits only or not
    if word in _TAG_SOURCES:
        return "source", _TAG_SOURCES[word]
    known = _KNOWN.get((word,), _NO_FIELD)
    if known[0] in _TAG_FIELDS:
        return ("skip", "") if known[0] == "depth" else known
    if (m := _AUDIO_RE.match(word)) and m.group(2) is None:
        return "audio", _AUDIO_NAMES[m.group(1)]
    raise Decline
