"""YTS's JSON API: the newest movies, or a search, one record per torrent of each movie.

`GET /api/v2/list_movies.json?limit=50&page=P&sort_by=date_added` lists the movies
added last; `query_term=Q` searches titles (and IMDb codes). The answer wraps its
data: `{"status": "ok", "data": {"movie_count", "limit", "page_number", "movies"}}`;
a status other than "ok" is an error the API explains in `status_message`, and a
page with nothing on it has no `movies` key.

YTS gives a movie's torrents no names of their own. Each gets the name YTS writes
into its .torrent files and other sites show ("Test (2013) [720p] [WEBRip] [YTS]"),
so the classifier reads the year, resolution and source like any release name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote, urlencode

from engine.classify.categories import MOVIES, MOVIES_3D, MOVIES_HD, MOVIES_UHD
from engine.models import RawRecord
from engine.sources.api.base import (
    ApiPage,
    ApiRequest,
    ApiSource,
    RowError,
    RowReader,
    ShapeError,
    as_list,
    count,
    optional_text,
    text,
    unix_time,
)

PAGE_SIZE: Final = 50
"""Movies per page (YTS allows up to 50); each has one to four torrents."""
CATEGORIES: Final = {"2160p": MOVIES_UHD, "1080p": MOVIES_HD, "720p": MOVIES_HD, "3D": MOVIES_3D}
"""Torznab category by YTS quality; others ("480p") are Movies, refined from the title."""
SOURCES: Final = {"web": "WEBRip", "bluray": "BluRay"}
"""YTS's torrent `type`, as release names spell the source."""
_IMDB_CODE: Final = re.compile(r"tt\d{5,10}", re.ASCII)
_WORD: Final = re.compile(r"[\w.-]{1,20}", re.ASCII)

Row = tuple[Any, Any]
"""(movie, torrent); the torrent is None when the movie has no list of them."""


class YtsSource(ApiSource):
    """YTS (yts.mx and its mirrors): movies only, one record per quality."""

    id = "yts"
    carries = frozenset({MOVIES})

    def request(self, mode: str, query: str | None, page: int) -> ApiRequest:
        """Latest: the movies added last. Search: the same order, titles matching `query`."""
        params: dict[str, str | int] = {"limit": PAGE_SIZE, "page": page, "sort_by": "date_added"}
        if mode == "search" and query:
            params["query_term"] = query
        return ApiRequest(f"/api/v2/list_movies.json?{urlencode(params, quote_via=quote)}")

    def parse(self, data: Any, now: datetime) -> ApiPage:
        """One page of movies, a record per torrent; `more` when the count says pages remain.

        Raises:
            ShapeError: not YTS's answer, or YTS answered with an error status.
        """
        if not isinstance(data, dict):
            raise ShapeError("the answer is not a JSON object")
        if data.get("status") != "ok":
            message = str(data.get("status_message") or "no message")[:200]
            raise ShapeError(f"YTS answered status {data.get('status')!r}: {message}")
        body = data.get("data")
        if not isinstance(body, dict):
            raise ShapeError("the answer has no 'data' object")
        movies = as_list(body, "movies") if body.get("movies") is not None else []
        reader = RowReader()
        reader.read(_torrents(movies), _record)
        return reader.page(more=_more(body))


def release_name(movie: dict[str, Any], torrent: dict[str, Any]) -> str:
    """The name YTS gives this torrent: "Title (Year) [1080p] [x265] [BluRay] [YTS]"."""
    name = optional_text(movie, "title_long")
    if name is None:
        year = count(movie, "year")
        name = text(movie, "title") + (f" ({year})" if year else "")
    quality = optional_text(torrent, "quality") or ""
    kind = optional_text(torrent, "type") or ""
    tags = [*quality.split("."), SOURCES.get(kind.lower(), kind), "YTS"]
    return name + "".join(f" [{tag}]" for tag in tags if _WORD.fullmatch(tag))


def _torrents(movies: list[Any]) -> Iterator[Row]:
    """Every torrent of every movie; a movie with an empty list has none to offer yet."""
    for movie in movies:
        torrents = movie.get("torrents") if isinstance(movie, dict) else None
        if not isinstance(torrents, list):
            yield movie, None  # a bad row: the movie is counted once
            continue
        for torrent in torrents:
            yield movie, torrent


def _record(row: Row) -> RawRecord:
    movie, torrent = row
    if not isinstance(movie, dict) or not isinstance(torrent, dict):
        raise RowError("a movie without a list of torrents, or a torrent that is not an object")
    quality = (optional_text(torrent, "quality") or "").split(".")[0]
    return RawRecord(
        source="yts",
        title=release_name(movie, torrent),
        info_hash=text(torrent, "hash"),
        size=count(torrent, "size_bytes"),
        seeders=count(torrent, "seeds"),
        leechers=count(torrent, "peers"),
        published_at=unix_time(torrent, "date_uploaded_unix"),
        imdb_id=_imdb(movie),
        category=str(CATEGORIES.get(quality, MOVIES)),
        source_url=optional_text(movie, "url"),
    )


def _imdb(movie: dict[str, Any]) -> str | None:
    """The movie's IMDb code; None when missing or not one (the torrent is still good)."""
    code = optional_text(movie, "imdb_code")
    return code if code is not None and _IMDB_CODE.fullmatch(code) else None


def _more(body: dict[str, Any]) -> bool:
    """Pages remain after this one; without the numbers to tell, none (the crawl stops)."""
    try:
        page, limit = count(body, "page_number"), count(body, "limit")
        total = count(body, "movie_count")
    except RowError as exc:
        raise ShapeError(f"paging: {exc}") from None
    if page is None or limit is None or total is None:
        return False
    return page * limit < total
