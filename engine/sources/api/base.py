"""A JSON-API source: a small class that says which request fetches a page, and reads the answer.

Each API (EZTV, YTS, Knaben, apibay) is one module with one `ApiSource` subclass
(STYLE.md C3). It keeps no state per call: `request` turns (mode, query, page) into
an `ApiRequest`, `parse` turns the decoded JSON into records. Everything else —
mirrors, proxies, rate limits, paging to a depth, stopping when nothing is new,
the pipeline — is `ApiCrawler`'s.

Rows are read with `RowReader`: a row that lacks a field or holds a wrong type is
skipped and counted, never fatal. The crawler judges the page: more bad rows than
good, or an answer of the wrong shape, is `LayoutChanged` ("the API changed").
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Final, TypeVar

from engine.models import RawRecord

MAX_ROW_ERRORS: Final = 5
T = TypeVar("T")


class RowError(ValueError):
    """A row of an answer lacks a field or holds a value of the wrong kind."""


class ShapeError(ValueError):
    """The answer as a whole is not what the API returns (the API changed, or an error page)."""


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One request for one page: GET `path`, or POST `json_body` to it."""

    path: str
    json_body: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiPage:
    """What one answer held."""

    records: tuple[RawRecord, ...]
    bad_rows: int = 0
    errors: tuple[str, ...] = ()
    more: bool = False
    """The API has another page after this one."""


class RowReader:
    """Reads the rows of one answer: good ones become records, bad ones are counted."""

    def __init__(self) -> None:
        self.records: list[RawRecord] = []
        self.bad = 0
        self.errors: list[str] = []

    def read(self, rows: Iterable[T], make: Callable[[T], RawRecord | None]) -> None:
        """`make` each row; a row it returns None for is one to skip quietly (a filler row)."""
        for row in rows:
            try:
                record = make(row)
            except (RowError, KeyError, TypeError, ValueError) as exc:
                self.bad += 1
                if len(self.errors) < MAX_ROW_ERRORS:
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            if record is not None:
                self.records.append(record)

    def page(self, *, more: bool) -> ApiPage:
        """The page of everything read."""
        return ApiPage(
            records=tuple(self.records), bad_rows=self.bad, errors=tuple(self.errors), more=more
        )


class ApiSource(abc.ABC):
    """One JSON API. Subclasses set `id` and `modes`, and implement `request` and `parse`."""

    id: ClassVar[str]
    modes: ClassVar[tuple[str, ...]] = ("latest", "search")
    first_page: ClassVar[int] = 1
    searches_by: ClassVar[str] = "text"
    """What its search takes: "text", or "imdb" for an API searched by IMDb id (EZTV)."""
    carries: ClassVar[frozenset[int] | None] = None
    """The Torznab top categories it holds (YTS: movies); None: any."""

    @abc.abstractmethod
    def request(self, mode: str, query: str | None, page: int) -> ApiRequest:
        """The request for page `page` (from `first_page`) of `mode` ("latest" or "search")."""

    @abc.abstractmethod
    def parse(self, data: Any, now: datetime) -> ApiPage:
        """Records from one decoded answer.

        Raises:
            ShapeError: the answer is not this API's (wrong top-level type, missing list).
        """


# ------------------------------------------------------------------ value readers


def text(row: Mapping[str, Any], key: str) -> str:
    """A required non-empty string field."""
    value = row[key]
    if not isinstance(value, str) or not value.strip():
        raise RowError(f"{key}: not a non-empty string")
    return value.strip()


def optional_text(row: Mapping[str, Any], key: str) -> str | None:
    """A string field that may be missing, null or empty."""
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str | int):
        raise RowError(f"{key}: not a string")
    return str(value).strip()


def count(row: Mapping[str, Any], key: str) -> int | None:
    """A non-negative whole number, sent as a number or as digits in a string ("269")."""
    value = row.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RowError(f"{key}: not a number")
    if isinstance(value, str):
        if not value.strip().isdecimal() or len(value) > 19:
            raise RowError(f"{key}: not a whole number: {value[:30]!r}")
        value = int(value)
    if not isinstance(value, int) or value < 0 or value > 2**63 - 1:
        raise RowError(f"{key}: not a non-negative whole number")
    return value


def unix_time(row: Mapping[str, Any], key: str) -> datetime | None:
    """A time sent as Unix seconds (a number or digits in a string); 0 or missing is None."""
    seconds = count(row, key)
    if not seconds:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise RowError(f"{key}: not a time: {seconds}") from None


def as_list(data: Any, key: str | None = None) -> list[Any]:
    """The answer's list of rows (the answer itself, or `data[key]`).

    Raises:
        ShapeError: not a list where one is expected.
    """
    value = data if key is None else (data.get(key) if isinstance(data, dict) else None)
    if not isinstance(value, list):
        where = "the answer" if key is None else f"{key!r}"
        raise ShapeError(f"{where} is not a list")
    return value
