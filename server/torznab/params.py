"""Torznab request parameters: parsed once, forgivingly where clients differ, strictly where not.

Clients send the same thing in many spellings (`imdbid=tt0133093` or `0133093`,
`season=S01`, `ep=E02`, daily shows as `season=2024&ep=05/12`, `q=` empty beside
`artist=`), and parameter names in any case. All of that is accepted. What is
really wrong gets a Newznab error code naming the parameter: 200 for a missing
one, 201 for a bad value, 202 for an unknown function.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

FUNCTIONS: Final = frozenset({"caps", "search", "tvsearch", "movie", "music", "book"})
MAX_TEXT_CHARS: Final = 512
"""Longer query text is cut: no release name is longer, and it bounds the index query."""

_SEASON_RE: Final = re.compile(r"^s?(\d{1,4})$", re.IGNORECASE)
_EPISODE_RE: Final = re.compile(r"^e?(\d{1,5})$", re.IGNORECASE)
_DAILY_EP_RE: Final = re.compile(r"^(\d{1,2})/(\d{1,2})$")
_IMDB_RE: Final = re.compile(r"^(?:tt)?(\d{1,10})$", re.IGNORECASE)


class TorznabError(Exception):
    """A request Minato cannot answer, as a Newznab error code and a description."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True, slots=True, kw_only=True)
class TorznabRequest:
    """One Torznab request, normalized."""

    function: str
    text: str = ""
    categories: tuple[int, ...] = ()
    limit: int
    offset: int = 0
    extended: bool = False
    season: int | None = None
    episode: int | None = None
    air_date: tuple[int, int, int] | None = None  # daily shows: (year, month, day)
    imdb_id: str | None = None  # "tt" + at least 7 digits
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    year: int | None = None
    artist: str = ""
    album: str = ""
    author: str = ""
    book_title: str = ""


def lower_keys(query: Mapping[str, str]) -> dict[str, str]:
    """Parameter names in lower case (clients send `T=`, `apiKey=`...); the first value wins."""
    found: dict[str, str] = {}
    for key, value in query.items():
        found.setdefault(key.lower(), value)
    return found


def parse_request(
    query: Mapping[str, str], *, default_limit: int, max_limit: int
) -> TorznabRequest:
    """A normalized request from a query string (already lower-cased by `lower_keys`).

    Raises:
        TorznabError: 200 (missing `t`), 201 (a bad value, named), 202 (unknown `t`).
    """
    function = query.get("t", "").strip().lower()
    if not function:
        raise TorznabError(200, "Missing parameter: t (caps, search, tvsearch, movie, music, book)")
    if function not in FUNCTIONS:
        raise TorznabError(202, f"No such function: t={_shown(function)}")
    season, episode, air_date = _season_episode(query.get("season", ""), query.get("ep", ""))
    return TorznabRequest(
        function=function,
        text=_text(query.get("q", "")),
        categories=_categories(query.get("cat", "")),
        limit=_limit(query.get("limit", ""), default_limit, max_limit),
        offset=_int_param(query, "offset", 0, upper=10_000_000) or 0,
        extended=query.get("extended", "").strip() == "1",
        season=season,
        episode=episode,
        air_date=air_date,
        imdb_id=_imdb(query.get("imdbid", "")),
        tmdb_id=_int_param(query, "tmdbid", None, upper=2**31 - 1),
        tvdb_id=_int_param(query, "tvdbid", None, upper=2**31 - 1),
        year=_int_param(query, "year", None, upper=9999),
        artist=_text(query.get("artist", "")),
        album=_text(query.get("album", "")),
        author=_text(query.get("author", "")),
        book_title=_text(query.get("title", "")),
    )


def _text(value: str) -> str:
    return " ".join(value.split())[:MAX_TEXT_CHARS]


def _shown(value: str) -> str:
    return value[:40] + ("..." if len(value) > 40 else "")


def _categories(value: str) -> tuple[int, ...]:
    """`2000,5040`: OR over the ids; blanks skipped; a non-number is an error."""
    found: list[int] = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdecimal() or len(part) > 9:
            raise TorznabError(201, f"Incorrect parameter: cat={_shown(value)} (comma list of ids)")
        number = int(part)
        if number not in found:
            found.append(number)
    return tuple(found)


def _limit(value: str, default: int, maximum: int) -> int:
    value = value.strip()
    if not value:
        return default
    if not value.isdecimal() or len(value) > 9:
        raise TorznabError(201, f"Incorrect parameter: limit={_shown(value)} (a whole number)")
    return max(1, min(int(value), maximum))


def _int_param(
    query: Mapping[str, str], name: str, default: int | None, *, upper: int
) -> int | None:
    value = query.get(name, "").strip()
    if not value:
        return default
    if not value.isdecimal() or len(value) > 10 or int(value) > upper:
        raise TorznabError(201, f"Incorrect parameter: {name}={_shown(value)} (a whole number)")
    return int(value)


def _imdb(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    match = _IMDB_RE.match(value)
    if match is None:
        raise TorznabError(201, f"Incorrect parameter: imdbid={_shown(value)} (tt0133093)")
    return f"tt{int(match.group(1)):07d}"


def _season_episode(
    season: str, episode: str
) -> tuple[int | None, int | None, tuple[int, int, int] | None]:
    """Season and episode numbers; a 4-digit season with `ep=MM/DD` is a daily show's air date."""
    season, episode = season.strip(), episode.strip()
    season_number: int | None = None
    if season:
        match = _SEASON_RE.match(season)
        if match is None:
            raise TorznabError(201, f"Incorrect parameter: season={_shown(season)}")
        season_number = int(match.group(1))
    if not episode:
        return season_number, None, None
    daily = _DAILY_EP_RE.match(episode)
    if daily and season_number is not None and season_number >= 1900:
        month, day = int(daily.group(1)), int(daily.group(2))
        if 1 <= month <= 12 and 1 <= day <= 31:
            return None, None, (season_number, month, day)
        raise TorznabError(201, f"Incorrect parameter: ep={_shown(episode)} (MM/DD)")
    match = _EPISODE_RE.match(episode)
    if match is None:
        raise TorznabError(201, f"Incorrect parameter: ep={_shown(episode)}")
    return season_number, int(match.group(1)), None
