"""Season and episode markers of the fast parser, read as guessit reads them.

Forms (each checked against guessit on generated variants): "S01E02", "S01E02E03",
"S01E02-E04" and "S01E02-04" (ranges), "S01E02.E03" and "S01E02.S01E03" (lists),
"S01.E02" and "S6.Ep5" (split), "1x02", "1x02x03", "1x02-03", "S01", "S01-S03",
"S01-03", "Season 1", "Season 1-3", "Seasons 1-3", and "E05" / "Ep05" without a season.
Ranges are expanded as guessit does ("E01-E03" is 1, 2, 3) and only upwards, within its
limit of 100; anything else makes the parser decline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from engine.classify.fast_common import Decline

SXE_RE: Final = re.compile(r"^s(\d{1,2})((?:e\d{1,3})+)$")
NXN_RE: Final = re.compile(r"^(\d{1,2})x(\d{2,3})((?:x\d{2,3})*)$")
SEASON_RE: Final = re.compile(r"^s(\d{1,2})$")
EPISODE_RE: Final = re.compile(r"^e(\d{1,3})$")
_LONE_EPISODE_RE: Final = re.compile(r"^ep?(\d{1,3})$")
_NUMBER_RE: Final = re.compile(r"^e?(\d{1,3})$")
_SEASON_WORDS: Final = frozenset(("season", "saison", "seasons"))
_MAX_RANGE: Final = 100
"""guessit's season_max_range and episode_max_range (config/options.json)."""


@dataclass(slots=True)
class Marker:
    """What a marker said, and how many tokens it took."""

    size: int
    seasons: list[int] = field(default_factory=list)
    episodes: list[int] = field(default_factory=list)


def read_marker(low: list[str], gaps: list[str], i: int) -> Marker | None:
    """The season/episode marker starting at token `i`, or None if there is none.

    Args:
        low: Lowercased tokens.
        gaps: gaps[k] is the separator before low[k].
        i: Where to look.

    Raises:
        Decline: a marker guessit may read otherwise (a range downwards, "S01E02-S02").
    """
    word = low[i]
    nxt = low[i + 1] if i + 1 < len(low) else ""
    if m := SXE_RE.match(word):
        marker = Marker(1, [int(m.group(1))], [int(e) for e in m.group(2)[1:].split("e")])
        return _more_episodes(low, gaps, marker, i + 1)
    if m := NXN_RE.match(word):
        episodes = [int(m.group(2)), *(int(e) for e in m.group(3)[1:].split("x") if e)]
        return _more_episodes(low, gaps, Marker(1, [int(m.group(1))], episodes), i + 1, "")
    if m := SEASON_RE.match(word):
        marker = Marker(1, [int(m.group(1))])
        if gaps[i + 1 : i + 2] == ["-"] and (s := re.match(r"^s?(\d{1,2})$", nxt)):
            return _season_range(marker, int(s.group(1)))
        if gaps[i + 1 : i + 2] in ([" "], ["."]) and (e := _LONE_EPISODE_RE.match(nxt)):
            marker.size, marker.episodes = 2, [int(e.group(1))]
            return _more_episodes(low, gaps, marker, i + 2)
        return marker
    if word in _SEASON_WORDS and nxt.isdecimal() and len(nxt) <= 2:
        marker = Marker(2, [int(nxt)])
        if gaps[i + 2 : i + 3] == ["-"] and low[i + 2].isdecimal():
            return _season_range(marker, int(low[i + 2]))
        return None if word == "seasons" else marker
    if m := _LONE_EPISODE_RE.match(word):
        return Marker(1, [], [int(m.group(1))])
    return None


def _season_range(marker: Marker, last: int) -> Marker:
    first = marker.seasons[0]
    if not first < last <= first + _MAX_RANGE:
        raise Decline  # "S03-S01": guessit reads two seasons, not a range
    marker.size += 1
    marker.seasons = list(range(first, last + 1))
    return marker


def _more_episodes(
    low: list[str], gaps: list[str], marker: Marker, j: int, prefix: str = "e"
) -> Marker:
    """Extend a marker with "-E04" / "-04" (a range) or ".E03" / ".S01E03" (a list)."""
    if gaps[j : j + 1] == ["-"] and (m := _NUMBER_RE.match(low[j])):
        if prefix == "" and low[j][0] == "e":
            raise Decline  # "1x02-E03": not a form guessit documents
        last, first = int(m.group(1)), marker.episodes[-1]
        if len(marker.episodes) > 1 or not first < last <= first + _MAX_RANGE:
            raise Decline  # "E05-E02", "E01E02-E04": guessit reads these otherwise
        marker.episodes.extend(range(first + 1, last + 1))
        marker.size += 1
        return marker
    while gaps[j : j + 1] in ([" "], ["."]) and j < len(low):
        if (m := EPISODE_RE.match(low[j])) and prefix:
            marker.episodes.append(int(m.group(1)))
        elif (m := SXE_RE.match(low[j])) and int(m.group(1)) == marker.seasons[0]:
            marker.episodes.extend(int(e) for e in m.group(2)[1:].split("e"))
        else:
            break
        marker.size, j = marker.size + 1, j + 1
    if len(set(marker.episodes)) != len(marker.episodes) or marker.episodes != sorted(
        marker.episodes
    ):
        raise Decline  # "S01E03.E02": guessit may keep either order
    return marker
