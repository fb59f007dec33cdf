"""The Pirate Bay's JSON API (apibay.org): a search, and the list of the latest uploads.

apibay answers a search (`q.php`) with every match in one list: it has no pages.
For `latest` it serves precompiled lists; `data_top100_recent.json` holds the 100
newest uploads in the same row shape as a search answer (a JSON array of rows).
Every number in a row is a string ("seeders": "1209"), and a search that finds
nothing answers one filler row with an all-zero info hash ("No results returned"),
which is skipped quietly rather than counted as a bad row.

TPB's category codes ("207") become Torznab ids the way Jackett's TPB definition
maps them (its `categorymappings`), so both indexers file a torrent alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlencode

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
    unix_time,
)
from engine.torrent import normalize_info_hash

LATEST_PATH: Final = "/precompiled/data_top100_recent.json"
DETAILS_URL: Final = "https://thepiratebay.org/description.php?id={}"
"""A row's page on TPB itself: apibay's own host serves no pages for people."""

# fmt: off
TPB_CATEGORIES: Final[Mapping[int, int]] = MappingProxyType({
    # Audio: music, audiobooks, sound clips, FLAC, other
    100: 3000, 101: 3000, 102: 3030, 103: 3000, 104: 3040, 199: 3050,
    # Video: movies, DVDR, music videos, clips, TV, handheld, HD/3D/CAM/UHD, other
    200: 2000, 201: 2000, 202: 2000, 203: 3020, 204: 2020, 205: 5000, 206: 5050,
    207: 2040, 208: 5040, 209: 2060, 210: 2030, 211: 2045, 212: 5045, 299: 2020,
    # Applications: Windows, Mac, UNIX, handheld, iOS, Android, other
    300: 4000, 301: 4000, 302: 4030, 303: 4000, 304: 4040, 305: 4060, 306: 4070, 399: 4000,
    # Games: PC, Mac, PSx, Xbox, Wii, handheld, iOS, Android, other
    400: 1000, 401: 4050, 402: 4030, 403: 1180, 404: 1040, 405: 1030, 406: 1090,
    407: 1090, 408: 1090, 499: 1090,
    # Porn
    500: 6000, 501: 6000, 502: 6010, 503: 6060, 504: 6000, 505: 6040, 506: 6000,
    507: 6045, 599: 6070,
    # Other: e-books, comics, pictures, covers, physibles, other
    600: 8000, 601: 7020, 602: 7030, 603: 7000, 604: 7000, 605: 7000, 699: 7050,
})
# fmt: on
"""TPB category code -> Torznab id (Jackett's thepiratebay.yml `categorymappings`)."""

_IMDB: Final = re.compile(r"tt\d{5,10}")


class ApiBaySource(ApiSource):
    """apibay.org: `q.php` for a search, the precompiled top-100 list for `latest`."""

    id = "apibay"

    def request(self, mode: str, query: str | None, page: int) -> ApiRequest:
        """The search URL (an empty `cat` searches every category), or the latest list."""
        if mode == "search":
            return ApiRequest(f"/q.php?{urlencode({'q': query or '', 'cat': ''})}")
        return ApiRequest(LATEST_PATH)

    def parse(self, data: Any, now: datetime) -> ApiPage:
        """Records from a search answer or the top-100 list: one page, never more."""
        reader = RowReader()
        reader.read(as_list(data), _record)
        return reader.page(more=False)


def _record(row: Any) -> RawRecord | None:
    """One row, or None for the "No results returned" filler.

    Raises:
        RowError: a missing name, a hash that is not one, or a number that is not.
    """
    if not isinstance(row, dict):
        raise RowError("a row is not an object")
    raw_hash = text(row, "info_hash")
    if not raw_hash.strip("0"):
        return None
    try:
        info_hash = normalize_info_hash(raw_hash)
    except InvalidRecord as exc:
        raise RowError(str(exc)) from None
    row_id = optional_text(row, "id")
    return RawRecord(
        source=ApiBaySource.id,
        title=text(row, "name"),
        info_hash=info_hash,
        size=count(row, "size"),
        seeders=count(row, "seeders"),
        leechers=count(row, "leechers"),
        published_at=unix_time(row, "added"),
        category=_category(row.get("category")),
        imdb_id=_imdb(row.get("imdb")),
        source_url=DETAILS_URL.format(row_id) if row_id and row_id.isdecimal() else None,
    )


def _category(value: Any) -> str | None:
    """The Torznab id of a TPB code; an unknown code falls back to its group (213 -> 200).

    The category is a hint for the classifier: one it cannot read is left out,
    never a reason to drop the row.
    """
    code = str(value).strip() if isinstance(value, str | int) else ""
    if not code.isdecimal() or len(code) > 4:
        return None
    number = int(code)
    torznab = TPB_CATEGORIES.get(number) or TPB_CATEGORIES.get(number - number % 100)
    return str(torznab) if torznab else None


def _imdb(value: Any) -> str | None:
    """The IMDb id ("tt15239678"); None for "" and for anything that is not one.

    The pipeline refuses a record whose IMDb id is malformed; a bad one here must
    cost only the id, not the torrent.
    """
    if isinstance(value, str) and _IMDB.fullmatch(value.strip()):
        return value.strip()
    return None
