"""The ingest record schema: JSON objects from the API, files and workers -> `RawRecord`.

Pydantic checks the shape at this trust boundary; `engine.normalize` then
checks the meaning. Every refusal is an `InvalidRecord` whose message is
"field: reason", the format the ingest API answers with.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from engine.errors import InvalidRecord
from engine.models import FileEntry, RawRecord

MAX_TITLE_CHARS = 1024
MAX_FILES = 100_000
MAX_DESCRIPTION_CHARS = 64 * 1024
MAX_URL_CHARS = 4096
SOURCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]*$"
_MAX_INT64 = 2**63 - 1
_MAX_SWARM = 10**9

_Count = Annotated[StrictInt, Field(ge=0, le=_MAX_SWARM)]
_Bytes = Annotated[StrictInt, Field(ge=0, le=_MAX_INT64)]
_Id = Annotated[StrictInt, Field(gt=0, le=2**31 - 1)]


class FileModel(BaseModel):
    """One file of a record."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    path: Annotated[StrictStr, Field(min_length=1, max_length=MAX_URL_CHARS)]
    size: _Bytes


class RecordModel(BaseModel):
    """A torrent record as clients send it; unknown keys are ignored (newer workers)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    info_hash: Annotated[StrictStr, Field(max_length=128)] | None = None
    magnet: Annotated[StrictStr, Field(max_length=64 * 1024)] | None = None
    title: Annotated[StrictStr, Field(max_length=MAX_TITLE_CHARS)]
    source: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=SOURCE_PATTERN)]
    size: _Bytes | None = None
    seeders: _Count | None = None
    leechers: _Count | None = None
    source_url: Annotated[StrictStr, Field(max_length=MAX_URL_CHARS)] | None = None
    category: Annotated[StrictStr, Field(max_length=64)] | StrictInt | None = None
    published_at: StrictStr | None = None
    files: Annotated[list[FileModel], Field(max_length=MAX_FILES)] = []
    description: Annotated[StrictStr, Field(max_length=MAX_DESCRIPTION_CHARS)] | None = None
    imdb_id: Annotated[StrictStr, Field(max_length=16)] | StrictInt | None = None
    tmdb_id: _Id | None = None
    tvdb_id: _Id | None = None
    trackers: Annotated[
        list[Annotated[StrictStr, Field(max_length=MAX_URL_CHARS)]], Field(max_length=500)
    ] = []

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("source_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


def parse_record(obj: Any) -> RawRecord:
    """Validate one decoded JSON value as a record.

    Raises:
        InvalidRecord: the value is not an object, or a field is missing or wrong.
    """
    if not isinstance(obj, dict):
        raise InvalidRecord("record", f"must be a JSON object, not {_json_type(obj)}")
    try:
        model = RecordModel.model_validate(obj)
    except ValidationError as exc:
        raise _invalid(exc) from None
    if model.info_hash is None and model.magnet is None:
        raise InvalidRecord("info_hash", "either info_hash or magnet is required")
    return RawRecord(
        source=model.source,
        title=model.title,
        info_hash=model.info_hash,
        magnet=model.magnet,
        size=model.size,
        seeders=model.seeders,
        leechers=model.leechers,
        source_url=model.source_url,
        category=str(model.category) if model.category is not None else None,
        published_at=_parse_time(model.published_at),
        files=tuple(FileEntry(path=f.path, size=f.size) for f in model.files),
        description=model.description,
        imdb_id=str(model.imdb_id) if model.imdb_id is not None else None,
        tmdb_id=model.tmdb_id,
        tvdb_id=model.tvdb_id,
        trackers=tuple(model.trackers),
    )


def check_source(source: str) -> str:
    """A source name as records carry it (`1337x`, `feed:showrss`, `upload`).

    Raises:
        InvalidRecord: empty, too long, or with characters outside the pattern.
    """
    if not 1 <= len(source) <= 64 or not re.match(SOURCE_PATTERN, source):
        raise InvalidRecord("source", f"must be 1-64 characters matching {SOURCE_PATTERN}")
    return source


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRecord("published_at", f"not an ISO 8601 date-time: {value[:40]!r}") from None


def _invalid(exc: ValidationError) -> InvalidRecord:
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"] if not str(part).startswith(("function-", "constr"))]
    # Union members add their type names to the location; keep the field path only.
    path = ".".join(part for part in loc if part not in {"str", "int", "list[str]"})
    field = path or "record"
    message = error["msg"]
    if error["type"] == "missing":
        message = "is required"
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return InvalidRecord(field, message[:200])


def _json_type(obj: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    for kind, name in names.items():
        if isinstance(obj, kind):
            return name
    return "a number" if isinstance(obj, int | float) else type(obj).__name__


def decode_json(body: bytes) -> Any:
    """A JSON body, or an `InvalidRecord` on field "body" saying why it is not JSON."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRecord("body", f"not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidRecord("body", "JSON nested too deeply") from None


def decode_json_array(body: bytes) -> list[Any]:
    """A bulk body in JSON: an array of records.

    Raises:
        InvalidRecord: the body is not JSON or not an array (field "body").
    """
    data = decode_json(body)
    if not isinstance(data, list):
        raise InvalidRecord("body", f"must be a JSON array of records, not {_json_type(data)}")
    return data


def decode_ndjson(body: bytes) -> list[Any | InvalidRecord]:
    """A bulk body in NDJSON: one record per line; blank lines are skipped.

    A line that is not JSON becomes an `InvalidRecord` in its place, so the
    other lines of the body are still stored and the answer can point at it.
    """
    items: list[Any | InvalidRecord] = []
    for number, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            items.append(InvalidRecord("line", f"{number}: not valid JSON: {exc}"))
        except RecursionError:
            items.append(InvalidRecord("line", f"{number}: JSON nested too deeply"))
    return items
