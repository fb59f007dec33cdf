"""Knaben's aggregator API v1 (https://knaben.org/api/v1): searches and the newest torrents.

Knaben indexes many public trackers and answers a POSTed JSON query with
`{"hits": [...], "total": {"value": N, "relation": "eq"}, "max_score": ...}`.
`latest` is the same query without search terms, newest first; a search asks
for every term in the title (`"search_type": "100%"`), newest first too, so
pages read to a depth bring the recent matches. Pages are offsets (`from`, `size`).

A hit names its torrent by `hash` or by `magnetUrl`, either may be null; one
with neither cannot be indexed and is a bad row. `peers` is what Knaben's site
shows beside the seeders in its Peers column: the leechers (as Jackett's old
Knaben definition read it). Categories are Knaben's own ids (3001000 "Movies
HD"), mapped to Torznab ids as that definition mapped them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

from engine.errors import InvalidRecord
from engine.models import RawRecord
from engine.sources.api.base import (
    ApiPage,
    ApiRequest,
    ApiSource,
    RowError,
    RowReader,
    as_list,
    count,
    optional_text,
    text,
)
from engine.torrent import normalize_info_hash

PATH: Final = "/v1"
PAGE_SIZE: Final = 50
"""Hits asked for per page (Knaben allows up to 300; 50 keeps each answer small)."""

# fmt: off
KNABEN_CATEGORIES: Final[Mapping[int, int]] = MappingProxyType({
    # Audio: MP3, lossless, audiobook, video, radio, other
    1000000: 3000, 1001000: 3010, 1002000: 3040, 1003000: 3030, 1004000: 3020,
    1005000: 3050, 1006000: 3050,
    # TV: HD, SD, UHD, documentary, foreign, sport, cartoon, other
    2000000: 5000, 2001000: 5040, 2002000: 5030, 2003000: 5045, 2004000: 5080,
    2005000: 5020, 2006000: 5060, 2007000: 5050, 2008000: 5050,
    # Movies: HD, SD, UHD, DVD, foreign, Bollywood, 3D, other
    3000000: 2000, 3001000: 2040, 3002000: 2030, 3003000: 2045, 3004000: 2070,
    3005000: 2010, 3006000: 2010, 3007000: 2060, 3008000: 2020,
    # PC: games, software, Mac, Unix
    4000000: 4000, 4001000: 4050, 4002000: 4010, 4003000: 4030, 4004000: 4020,
    # XXX: video, image sets, games, hentai, other
    5000000: 6000, 5001000: 6040, 5002000: 6060, 5003000: 6070, 5004000: 6070,
    5005000: 6070,
    # Anime: subbed, dubbed, dual audio, raw, music video, literature, music, translated
    6000000: 5070, 6001000: 5070, 6002000: 5070, 6003000: 5070, 6004000: 5070,
    6005000: 3020, 6006000: 7050, 6007000: 3050, 6008000: 5070,
    # Console: PS4, PS3, PS2, PS1, Vita, PSP, Xbox 360, Xbox, Switch, NDS, Wii, WiiU,
    # 3DS, GameCube, other
    7000000: 1000, 7001000: 1180, 7002000: 1080, 7003000: 1080, 7004000: 1080,
    7005000: 1120, 7006000: 1020, 7007000: 1050, 7008000: 1040, 7009000: 1010,
    7010000: 1010, 7011000: 1030, 7012000: 1130, 7013000: 1110, 7014000: 1030,
    7015000: 1090,
    # Mobile: Android, iOS, other
    8000000: 4040, 8001000: 4070, 8002000: 4060, 8003000: 4040,
    # Books: e-books, comics, magazines, technical, other
    9000000: 7000, 9001000: 7020, 9002000: 7030, 9003000: 7010, 9004000: 7040,
    9005000: 7050,
    # Other
    10000000: 8000, 10001000: 8010,
})
# fmt: on
"""Knaben category id -> Torznab id (Jackett's former knaben.yml `categorymappings`)."""


class KnabenSource(ApiSource):
    """api.knaben.org/v1: one POSTed query per page, `from` = (page - 1) * `PAGE_SIZE`."""

    id = "knaben"

    def request(self, mode: str, query: str | None, page: int) -> ApiRequest:
        """The JSON body for one page; a search adds its terms to the latest query.

        `hide_unsafe` drops what Knaben judges likely malware or very old, and
        `hide_xxx` its adult categories.
        """
        body: dict[str, Any] = {}
        if mode == "search":
            body |= {"search_type": "100%", "search_field": "title", "query": query or ""}
        body |= {
            "order_by": "date",
            "order_direction": "desc",
            "from": (page - 1) * PAGE_SIZE,
            "size": PAGE_SIZE,
            "hide_unsafe": True,
            "hide_xxx": True,
        }
        return ApiRequest(PATH, json_body=body)

    def parse(self, data: Any, now: datetime) -> ApiPage:
        """Records from one answer; `more` while a full page came and the total says more.

        `parse` does not see the request, so it cannot compare `from + size` with
        the total: a full page means another may follow, unless the total is no
        more than one page. On a last page that is exactly full this costs one
        more request, which answers no hits and ends the crawl.

        Raises:
            ShapeError: the answer has no list of hits.
        """
        hits = as_list(data, "hits")
        reader = RowReader()
        reader.read(hits, _record)
        total = _total(data.get("total"))
        more = len(hits) >= PAGE_SIZE and (total is None or total > PAGE_SIZE)
        return reader.page(more=more)


def _record(hit: Any) -> RawRecord:
    """One hit.

    Raises:
        RowError: no title, neither hash nor magnet, a bad hash, number or date.
    """
    if not isinstance(hit, dict):
        raise RowError("a hit is not an object")
    raw_hash = optional_text(hit, "hash")
    magnet = optional_text(hit, "magnetUrl")
    if magnet is not None and not magnet.lower().startswith("magnet:?"):
        magnet = None  # a link to a page or a .torrent: not a magnet
    if raw_hash is None and magnet is None:
        raise RowError("neither hash nor magnetUrl")
    try:
        info_hash = normalize_info_hash(raw_hash) if raw_hash is not None else None
    except InvalidRecord as exc:
        raise RowError(str(exc)) from None
    return RawRecord(
        source=KnabenSource.id,
        title=text(hit, "title"),
        info_hash=info_hash,
        magnet=magnet,
        size=count(hit, "bytes"),
        seeders=count(hit, "seeders"),
        leechers=count(hit, "peers"),
        published_at=_date(hit.get("date")),
        category=_category(hit.get("categoryId")),
        source_url=optional_text(hit, "details"),
    )


def _date(value: Any) -> datetime | None:
    """An ISO 8601 time ("2024-04-06T04:39:43+00:00"); one without an offset is UTC.

    Raises:
        RowError: a value that is not such a time.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RowError("date: not a string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RowError(f"date: not an ISO 8601 time: {value[:40]!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _category(value: Any) -> str | None:
    """The most precise Torznab id among a hit's Knaben ids ([3000000, 3001000] -> "2040").

    Knaben's site also shows ids below a subcategory (1001069); they are read as
    their subcategory (1001000), then as their top category (1000000). Like every
    category, this is a hint: one that cannot be read is left out.
    """
    ids = value if isinstance(value, list) else [value]
    found = [t for t in (_torznab(i) for i in ids) if t is not None]
    precise = [t for t in found if t % 1000]
    chosen = precise or found
    return str(chosen[0]) if chosen else None


def _torznab(knaben_id: Any) -> int | None:
    if isinstance(knaben_id, bool) or not isinstance(knaben_id, int):
        return None
    for candidate in (knaben_id, knaben_id - knaben_id % 1000, knaben_id - knaben_id % 1_000_000):
        if candidate in KNABEN_CATEGORIES:
            return KNABEN_CATEGORIES[candidate]
    return None


def _total(value: Any) -> int | None:
    """The number of hits in all pages: `{"value": N}` (Elasticsearch's form) or N."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value
