"""EZTV's JSON API: the newest TV torrents, and the torrents of one show by its IMDb id.

`GET /api/get-torrents?limit=N&page=P` lists the newest torrents, and the same
call with `imdb_id=1737565` (digits, no "tt") lists one show's. The API has no
text search, so a search whose query is not an IMDb id is refused up front
rather than sent as a "latest" listing that would look like results.

The answer carries `torrents_count`, `limit` and `page`; when nothing matches it
has no `torrents` key (or an empty list), which is an empty page, not an error.
Numbers may come as strings (`size_bytes` always does).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlencode

from engine.classify.categories import TV
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
from engine.sources.report import CrawlRequestError

PAGE_SIZE: Final = 100
"""The most torrents EZTV returns per page: fewer requests at the site's rate limit."""
_IMDB_ID: Final = re.compile(r"(?:tt)?(\d{1,10})", re.IGNORECASE | re.ASCII)
_SITE_SUFFIX: Final = re.compile(r"\s+EZTV$")
"""EZTV appends its name to every API title; left there it reads as part of the group."""


class EztvSource(ApiSource):
    """EZTV (eztvx.to and its mirrors): TV only, searched by IMDb id."""

    id = "eztv"
    searches_by = "imdb"
    carries = frozenset({TV})

    def request(self, mode: str, query: str | None, page: int) -> ApiRequest:
        """Latest: the newest torrents. Search: one show's, `query` being its IMDb id.

        Raises:
            CrawlRequestError: a search query that is not an IMDb id ("tt1737565").
        """
        params: dict[str, str | int] = {"limit": PAGE_SIZE, "page": page}
        if mode == "search":
            params["imdb_id"] = imdb_digits(query or "")
        return ApiRequest(f"/api/get-torrents?{urlencode(params)}")

    def parse(self, data: Any, now: datetime) -> ApiPage:
        """One page of torrents; `more` when the count says pages remain after it."""
        if not isinstance(data, dict):
            raise ShapeError("the answer is not a JSON object")
        rows = as_list(data, "torrents") if data.get("torrents") is not None else []
        reader = RowReader()
        reader.read(rows, _record)
        return reader.page(more=_more(data))


def imdb_digits(query: str) -> str:
    """The digits EZTV wants for an IMDb id written "tt1737565" or "1737565" ("1737565").

    Raises:
        CrawlRequestError: anything else (EZTV cannot search by text).
    """
    match = _IMDB_ID.fullmatch(query.strip())
    if match is None or int(match.group(1)) == 0:
        raise CrawlRequestError(
            f"eztv searches by IMDb id only (like tt1737565), not by text: {query[:40]!r}"
        )
    return match.group(1)


def _more(data: dict[str, Any]) -> bool:
    """Pages remain after this one; without the numbers to tell, none (the crawl stops)."""
    try:
        page, limit = count(data, "page"), count(data, "limit")
        total = count(data, "torrents_count")
    except RowError as exc:
        raise ShapeError(f"paging: {exc}") from None
    if page is None or limit is None or total is None:
        return False
    return page * limit < total


def _record(row: Any) -> RawRecord:
    if not isinstance(row, dict):
        raise RowError("a torrent is not an object")
    return RawRecord(
        source="eztv",
        title=_SITE_SUFFIX.sub("", text(row, "title")),
        info_hash=text(row, "hash"),
        magnet=optional_text(row, "magnet_url"),
        size=count(row, "size_bytes"),
        seeders=count(row, "seeds"),
        leechers=count(row, "peers"),
        published_at=unix_time(row, "date_released_unix"),
        imdb_id=_imdb(row),
        category=str(TV),
        source_url=optional_text(row, "episode_url"),
    )


def _imdb(row: dict[str, Any]) -> str | None:
    """The show's IMDb id as IMDb writes it: "tt" and at least 7 digits (EZTV sends digits).

    None when EZTV does not know the show ("0", "", missing) or sends something that
    is no id: the torrent is still worth keeping without it.
    """
    match = _IMDB_ID.fullmatch(optional_text(row, "imdb_id") or "")
    if match is None or int(match.group(1)) == 0:
        return None
    return f"tt{int(match.group(1)):07d}"
