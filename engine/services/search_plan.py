"""What a search asks the sites when it goes live, and how the index is read again after.

Sites search by words; Sonarr and Radarr often search by id alone
(`tvdbid=81189&season=1&ep=2`). A `LivePlan` is the text the sites get for a
query: its own words, or the show's or movie's name found for its ids, plus
`S01E02` (or `S01`) for an episode and the year for a movie, as people name
releases. The torrents the sites return rarely carry ids until enrichment
matches them, so an id search is also answered by that name (`fallback`), with
the season, episode and year as filters; a torrent whose own id says it is
another show is left out.

An RSS request (no words, no ids) has no plan: it never goes live.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Final, Protocol

from engine.models import ContentKind, SearchQuery, SortOrder, TorrentSummary
from engine.sources.report import MAX_QUERY_CHARS

__all__ = ["KnownName", "LivePlan", "NameResolver", "conflicts", "plan_live"]

_EPISODE_MARK: Final = re.compile(r"\bs\d{1,4}(e\d{1,5})?\b", re.IGNORECASE)
_MOVIE_CATEGORIES: Final = range(2000, 3000)
_TV_CATEGORIES: Final = range(5000, 6000)


class KnownName(Protocol):
    """A name found for ids (what `engine.enrich.names.KnownTitle` holds)."""

    @property
    def title(self) -> str:
        """The show's or movie's name."""
        ...

    @property
    def year(self) -> int | None:
        """Its first air or release year, when known."""
        ...

    @property
    def kind(self) -> ContentKind:
        """TV or MOVIE."""
        ...


class NameResolver(Protocol):
    """Turns a show's or movie's ids into its name (the index's own torrents, then TMDb)."""

    async def resolve(
        self,
        *,
        kind: ContentKind,
        imdb_id: str | None = None,
        tmdb_id: int | None = None,
        tvdb_id: int | None = None,
    ) -> KnownName | None:
        """The name, or None when nothing names these ids (never raises for a service)."""
        ...


@dataclass(frozen=True, slots=True)
class LivePlan:
    """What the sites are asked for one search, and how the index is read again after."""

    text: str
    """The words sent to the sites ("Breaking Bad S01E02")."""
    imdb_id: str | None = None
    """The IMDb id, for the sources searched by it (EZTV)."""
    fallback: SearchQuery | None = None
    """For an id search: the same search by the name found, merged after the id matches."""
    name: str | None = None
    """The name found for the ids, when the query had no words."""


async def plan_live(query: SearchQuery, names: NameResolver | None) -> LivePlan | None:
    """The live plan for `query`; None when it has neither words nor ids (an RSS poll).

    Args:
        query: the search as the index gets it.
        names: turns ids into a name; None: id searches are sent as their IMDb id, if any.
    """
    words = _clip(query.text)  # control and zero-width characters are no words
    if words:
        text = _with_marks(words, query, movie_year=_looks_like_movie(query))
        return LivePlan(text=text, imdb_id=query.imdb_id)
    if not (query.imdb_id or query.tmdb_id or query.tvdb_id):
        return None
    found = await _name_for(query, names) if names is not None else None
    if found is None:
        if query.imdb_id is None:
            return None  # nothing the sites could search by
        return LivePlan(text=query.imdb_id, imdb_id=query.imdb_id)
    movie = found.kind is ContentKind.MOVIE
    year = query.year or (found.year if movie else None)
    text = _with_marks(found.title, dataclasses.replace(query, year=year), movie_year=movie)
    fallback = dataclasses.replace(
        query,
        text=_clip(found.title),
        imdb_id=None,
        tmdb_id=None,
        tvdb_id=None,
        year=year,  # a movie's year tells "Dune" (2021) from "Dune" (1984)
        sort=SortOrder.RELEVANCE if query.sort is SortOrder.DATE else query.sort,
    )
    return LivePlan(text=text, imdb_id=query.imdb_id, fallback=fallback, name=found.title)


def conflicts(hit: TorrentSummary, query: SearchQuery) -> bool:
    """True when the torrent's own ids say it is not what the id search asked for."""
    pairs = (
        (query.imdb_id, hit.imdb_id),
        (query.tmdb_id, hit.tmdb_id),
        (query.tvdb_id, hit.tvdb_id),
    )
    return any(asked is not None and own is not None and asked != own for asked, own in pairs)


async def _name_for(query: SearchQuery, names: NameResolver) -> KnownName | None:
    """The name of the ids, trying the kinds the query suggests in turn."""
    for kind in _kinds_to_try(query):
        try:
            found = await names.resolve(
                kind=kind, imdb_id=query.imdb_id, tmdb_id=query.tmdb_id, tvdb_id=query.tvdb_id
            )
        except ValueError:  # an id no service could know: nothing to name
            return None
        if found is not None:
            return found
    return None


def _kinds_to_try(query: SearchQuery) -> tuple[ContentKind, ...]:
    """TV for a TVDB id, an episode or TV categories; movies for movie categories; else both."""
    if ContentKind.TV in query.kinds or ContentKind.ANIME in query.kinds:
        return (ContentKind.TV,)
    if ContentKind.MOVIE in query.kinds:
        return (ContentKind.MOVIE,)
    if query.tvdb_id is not None or query.season is not None or query.episode is not None:
        return (ContentKind.TV,)
    if query.categories and all(c in _TV_CATEGORIES for c in query.categories):
        return (ContentKind.TV,)
    if query.categories and all(c in _MOVIE_CATEGORIES for c in query.categories):
        return (ContentKind.MOVIE,)
    return (ContentKind.MOVIE, ContentKind.TV)


def _looks_like_movie(query: SearchQuery) -> bool:
    return _kinds_to_try(query) == (ContentKind.MOVIE,)


def _with_marks(words: str, query: SearchQuery, *, movie_year: bool) -> str:
    """`words` plus the episode mark (S01E02) or a movie's year, unless already there."""
    mark = ""
    if query.season is not None and not _EPISODE_MARK.search(words):
        mark = f"S{query.season:02d}"
        if query.episode is not None:
            mark += f"E{query.episode:02d}"
    elif movie_year and query.year is not None and str(query.year) not in words:
        mark = str(query.year)
    room = MAX_QUERY_CHARS - (len(mark) + 1 if mark else 0)
    return f"{_clip(words, room)} {mark}".strip()


def _clip(words: str, limit: int = MAX_QUERY_CHARS) -> str:
    """At most `limit` characters, cut at a word boundary (sites refuse longer queries)."""
    words = "".join(c if c.isprintable() else " " for c in words)
    words = " ".join(words.split())
    if len(words) <= limit:
        return words
    cut = words[:limit].rsplit(" ", 1)[0]
    return cut or words[:limit]
