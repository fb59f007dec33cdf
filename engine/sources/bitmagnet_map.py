"""Bitmagnet's GraphQL, read into Minato records: the documents the bridge sends, and the mapping.

The documents are our own, trimmed to what Minato stores; the test suite checks
them against Bitmagnet's real schema (tests/fixtures/bitmagnet, from
https://github.com/bitmagnet-io/bitmagnet/tree/main/graphql). Bitmagnet is
gqlgen underneath, so `Int` is 64-bit there (sizes over 2 GiB are plain numbers).

Reading follows the JSON APIs' rules (engine.sources.api.base): an item with a
missing or wrong-typed required field is a bad row, skipped and counted; the
answer as a whole of the wrong shape is a `ShapeError`; a GraphQL `errors` array
is a `GraphQLFailure`. Optional metadata (Bitmagnet's `content`: TMDb/IMDb ids) is
read leniently: a malformed part of it is ignored, never worth losing the torrent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from engine.classify import categories as cat
from engine.models import FileEntry, RawRecord
from engine.records import MAX_TITLE_CHARS, MAX_URL_CHARS
from engine.sources.api.base import RowError, RowReader, ShapeError, count, text

SOURCE: Final = "bitmagnet"
PAGE_SIZE: Final = 100
"""Items per search request: about 100 KB of JSON, far below the client's body limit."""
FILES_PER_REQUEST: Final = 2_000
"""Files per TorrentFiles request (~0.5 MB of JSON)."""
MAX_FILES_PER_TORRENT: Final = 10_000
"""Files kept per torrent. Bitmagnet can hold 100k for one torrent; the classifier reads the
first 2,000 names and people page through a few, so the rest is not worth the requests."""
MAX_FILE_PAGES: Final = 8
"""TorrentFiles requests per batch at most, whatever the counts claimed (a lying server)."""
MAX_ERRORS_SHOWN: Final = 3

SEARCH_OPERATION: Final = "MinatoTorrentContent"
SEARCH_DOCUMENT: Final = """
query MinatoTorrentContent($input: TorrentContentSearchQueryInput!) {
  torrentContent {
    search(input: $input) {
      hasNextPage
      items {
        infoHash
        contentType
        contentSource
        contentId
        seeders
        leechers
        publishedAt
        torrent {
          name
          size
          filesStatus
          filesCount
          seeders
          leechers
        }
        content {
          source
          id
          attributes { source key value }
          externalLinks { url }
        }
      }
    }
  }
}
"""

FILES_OPERATION: Final = "MinatoTorrentFiles"
FILES_DOCUMENT: Final = """
query MinatoTorrentFiles($input: TorrentFilesQueryInput!) {
  torrent {
    files(input: $input) {
      hasNextPage
      items { infoHash index path size }
    }
  }
}
"""

CONTENT_CATEGORIES: Final[Mapping[str, int]] = {
    # A parent id lets the classifier refine the subcategory from the title (2000 -> 2040
    # for 1080p); kinds that only a subcategory names (audiobook, comic) are given as that.
    "movie": cat.MOVIES,
    "tv_show": cat.TV,
    "music": cat.AUDIO,
    "audiobook": cat.AUDIO_AUDIOBOOK,
    "ebook": cat.BOOKS_EBOOK,
    "comic": cat.BOOKS_COMICS,
    "game": cat.CONSOLE,  # refined to 4050 PC/Games unless a console is named
    "software": cat.PC,
    "xxx": cat.XXX,
}
"""Bitmagnet's `ContentType` -> the Torznab category Minato's classifier starts from."""

_HASH = re.compile(r"^[0-9a-fA-F]{40}$")
_IMDB = re.compile(r"^tt\d{5,10}$")
_IMDB_URL = re.compile(r"imdb\.com/title/(tt\d{5,10})\b")
_TMDB_URL = re.compile(r"themoviedb\.org/(?:movie|tv)/(\d{1,10})\b")
_MAX_ID = 2**31 - 1
_VALIDATION_CODES: Final = frozenset({"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"})


class GraphQLFailure(Exception):
    """Bitmagnet answered with a GraphQL `errors` array.

    `schema_mismatch` says our document does not fit its schema (Bitmagnet changed):
    waiting will not help, unlike an execution error (its database down).
    """

    def __init__(self, messages: tuple[str, ...], *, schema_mismatch: bool) -> None:
        super().__init__("; ".join(messages) or "an errors array without messages")
        self.messages = messages
        self.schema_mismatch = schema_mismatch


@dataclass(frozen=True, slots=True)
class Item:
    """One search item as Minato takes it."""

    record: RawRecord
    published_at: datetime
    files_wanted: int
    """Files to ask TorrentFiles for (0: none to ask: single file, no info, not saved)."""

    @property
    def key(self) -> tuple[datetime, str]:
        """Its place in the bridge's order (newest first, then info hash descending)."""
        return (self.published_at, self.info_hash)

    @property
    def info_hash(self) -> str:
        """40 lowercase hex (checked when read)."""
        return self.record.info_hash or ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchPage:
    """What one search answer held."""

    items: tuple[Item, ...]
    size: int
    """Items in the answer, good and bad (the next page's offset moves by this)."""
    bad_rows: int = 0
    errors: tuple[str, ...] = ()
    more: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class FilesPage:
    """What one TorrentFiles answer held, by info hash (in index order)."""

    files: dict[str, list[tuple[int, FileEntry]]]
    size: int
    more: bool


# ------------------------------------------------------------------ requests


def search_body(offset: int, limit: int = PAGE_SIZE, query: str | None = None) -> dict[str, Any]:
    """The POST body of one search page: newest first for the pass, by relevance for a query.

    The pass orders by info hash after the date so that items sharing a timestamp keep
    one order across pages (PostgreSQL's OFFSET over ties is otherwise unstable).
    """
    search: dict[str, Any] = {
        "limit": limit,
        "offset": offset,
        "hasNextPage": True,
        "totalCount": False,  # a count over all of Bitmagnet is costly, and not needed
    }
    if query:
        search["queryString"] = query
    else:
        search["orderBy"] = [
            {"field": "published_at", "descending": True},
            {"field": "info_hash", "descending": True},
        ]
    return {
        "operationName": SEARCH_OPERATION,
        "query": SEARCH_DOCUMENT,
        "variables": {"input": search},
    }


def files_body(info_hashes: list[str], offset: int, limit: int) -> dict[str, Any]:
    """The POST body of one TorrentFiles page for a batch of torrents, in file index order."""
    files = {
        "infoHashes": info_hashes,
        "limit": limit,
        "offset": offset,
        "hasNextPage": True,
        "totalCount": False,
        "orderBy": [{"field": "index", "descending": False}],
    }
    return {
        "operationName": FILES_OPERATION,
        "query": FILES_DOCUMENT,
        "variables": {"input": files},
    }


# ------------------------------------------------------------------ answers


def graphql_data(answer: Any, *path: str) -> dict[str, Any]:
    """The object at `data.<path...>` of a GraphQL answer.

    Raises:
        GraphQLFailure: the answer carries an `errors` array (even beside data: a
            partial answer is not stored).
        ShapeError: not a GraphQL answer, or no object at `path`.
    """
    if not isinstance(answer, dict):
        raise ShapeError("the answer is not a JSON object")
    errors = answer.get("errors")
    if errors:
        raise _failure(errors)
    node: Any = answer.get("data")
    where = "data"
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
        where += f".{key}"
        if not isinstance(node, dict):
            raise ShapeError(f"{where} is not an object")
    if not isinstance(node, dict):
        raise ShapeError(f"{where} is not an object")
    return node


def _failure(errors: Any) -> GraphQLFailure:
    entries = errors if isinstance(errors, list) else [errors]
    messages: list[str] = []
    mismatch = False
    for entry in entries[:MAX_ERRORS_SHOWN]:
        message = entry.get("message") if isinstance(entry, dict) else entry
        messages.append(str(message)[:200])
        extensions = entry.get("extensions") if isinstance(entry, dict) else None
        if isinstance(extensions, dict) and extensions.get("code") in _VALIDATION_CODES:
            mismatch = True
    return GraphQLFailure(tuple(messages), schema_mismatch=mismatch)


def parse_search(answer: Any) -> SearchPage:
    """The items of a search answer.

    Raises:
        GraphQLFailure / ShapeError: as `graphql_data`, or `items` is not a list.
    """
    result = graphql_data(answer, "torrentContent", "search")
    rows = result.get("items")
    if not isinstance(rows, list):
        raise ShapeError("data.torrentContent.search.items is not a list")
    if len(rows) > PAGE_SIZE * 10:
        raise ShapeError(f"{len(rows)} items where at most {PAGE_SIZE} were asked for")
    items: list[Item] = []
    reader = RowReader()
    reader.read(rows, lambda row: _keep(items, read_item(row)))
    has_next = result.get("hasNextPage")
    return SearchPage(
        items=tuple(items),
        size=len(rows),
        bad_rows=reader.bad,
        errors=tuple(reader.errors),
        # null when a Bitmagnet ignores `hasNextPage: true`: then a full page may have more
        more=has_next if isinstance(has_next, bool) else len(rows) >= PAGE_SIZE,
    )


def _keep(items: list[Item], item: Item) -> RawRecord:
    items.append(item)
    return item.record


def read_item(row: Any) -> Item:
    """One `TorrentContent` item as a record, its date and the files it has to ask for.

    Raises:
        RowError / KeyError / TypeError / ValueError: a required field is missing or wrong.
    """
    row = _object(row, "item")
    torrent = _object(row.get("torrent"), "torrent")
    info_hash = text(row, "infoHash")
    if not _HASH.match(info_hash):
        raise RowError(f"infoHash: not 40 hex digits: {info_hash[:50]!r}")
    title = text(torrent, "name")
    if len(title) > MAX_TITLE_CHARS:
        raise RowError(f"torrent.name: longer than {MAX_TITLE_CHARS} characters")
    size = count(torrent, "size")
    published_at = _time(row, "publishedAt")
    status = torrent.get("filesStatus")
    files: tuple[FileEntry, ...] = ()
    if status == "single" and size is not None:
        files = (FileEntry(path=title, size=size),)  # Bitmagnet keeps no file row for these
    wanted = 0
    if status == "multi":
        wanted = min(count(torrent, "filesCount") or MAX_FILES_PER_TORRENT, MAX_FILES_PER_TORRENT)
    imdb_id, tmdb_id, tvdb_id = external_ids(row)
    category = CONTENT_CATEGORIES.get(row.get("contentType") or "")
    seeders = count(row, "seeders")
    leechers = count(row, "leechers")
    record = RawRecord(
        source=SOURCE,
        title=title,
        info_hash=info_hash.lower(),
        size=size,
        seeders=seeders if seeders is not None else count(torrent, "seeders"),
        leechers=leechers if leechers is not None else count(torrent, "leechers"),
        category=str(category) if category is not None else None,
        published_at=published_at,
        files=files,
        imdb_id=imdb_id,
        tmdb_id=tmdb_id,
        tvdb_id=tvdb_id,
    )
    return Item(record=record, published_at=published_at, files_wanted=wanted)


def external_ids(row: Mapping[str, Any]) -> tuple[str | None, int | None, int | None]:
    """(IMDb, TMDb, TVDB) ids from wherever Bitmagnet keeps them, first found wins.

    Bitmagnet names an item's content by `contentSource`/`contentId` (and the same in
    `content.source`/`content.id`), e.g. ("tmdb", "603"); the content's other ids are
    attributes keyed "id" ({source: "imdb", key: "id", value: "tt0133093"}), and its
    external links point at the sites' pages.
    """
    found: dict[str, str] = {}
    content = row.get("content")
    content = content if isinstance(content, dict) else {}
    pairs = [(row.get("contentSource"), row.get("contentId"))]
    pairs.append((content.get("source"), content.get("id")))
    attributes = content.get("attributes")
    pairs.extend(
        (attribute.get("source"), attribute.get("value"))
        for attribute in (attributes if isinstance(attributes, list) else ())
        if isinstance(attribute, dict) and attribute.get("key") == "id"
    )
    for source, value in pairs:
        if isinstance(source, str) and isinstance(value, str | int) and source not in found:
            found[source] = str(value).strip()
    links = content.get("externalLinks")
    for link in links if isinstance(links, list) else ():
        url = link.get("url") if isinstance(link, dict) else None
        if isinstance(url, str) and len(url) <= MAX_URL_CHARS:
            if (imdb := _IMDB_URL.search(url)) is not None:
                found.setdefault("imdb", imdb.group(1))
            if (tmdb := _TMDB_URL.search(url)) is not None:
                found.setdefault("tmdb", tmdb.group(1))
    imdb_id = found.get("imdb")
    return (
        imdb_id if imdb_id is not None and _IMDB.match(imdb_id) else None,
        _positive_id(found.get("tmdb")),
        _positive_id(found.get("tvdb")),
    )


def parse_files(answer: Any, wanted: Mapping[str, int]) -> FilesPage:
    """The files of a TorrentFiles answer for the torrents in `wanted` (others are ignored).

    A file with a missing or wrong field is skipped: the torrent keeps the others.

    Raises:
        GraphQLFailure / ShapeError: as `graphql_data`, or `items` is not a list.
    """
    result = graphql_data(answer, "torrent", "files")
    rows = result.get("items")
    if not isinstance(rows, list):
        raise ShapeError("data.torrent.files.items is not a list")
    files: dict[str, list[tuple[int, FileEntry]]] = {}
    for row in rows:
        if not isinstance(row, dict):
            continue
        info_hash = row.get("infoHash")
        path, size, index = row.get("path"), row.get("size"), row.get("index")
        if not isinstance(info_hash, str) or info_hash.lower() not in wanted:
            continue
        if not (isinstance(path, str) and path.strip() and len(path) <= MAX_URL_CHARS):
            continue
        if not (isinstance(size, int) and isinstance(index, int) and _whole(size, index)):
            continue
        files.setdefault(info_hash.lower(), []).append((index, FileEntry(path=path, size=size)))
    return FilesPage(files=files, size=len(rows), more=result.get("hasNextPage") is True)


# ------------------------------------------------------------------ values


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RowError(f"{name}: not an object")
    return value


def _time(row: Mapping[str, Any], key: str) -> datetime:
    """A required RFC 3339 time (Go may send nanoseconds: Python keeps microseconds)."""
    value = text(row, key)
    if len(value) > 40:
        raise RowError(f"{key}: not a time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RowError(f"{key}: not a time: {value[:40]!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _positive_id(value: str | None) -> int | None:
    if value is None or not value.isdecimal() or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= _MAX_ID else None


def _whole(*values: int) -> bool:
    """Non-negative 64-bit whole numbers (JSON true/false are not numbers here)."""
    return all(not isinstance(v, bool) and 0 <= v < 2**63 for v in values)
