"""A Bitmagnet on 127.0.0.1: graphql-core executing requests against Bitmagnet's real schema.

Every POST to /graphql is parsed and validated against the saved schema (a document
that does not fit answers 422 with GRAPHQL_VALIDATION_FAILED, as gqlgen does), then
executed by resolvers over an in-memory list of torrents in Bitmagnet's shapes:
`TorrentContent` items with their `Torrent`, `Content` and `TorrentFile`s. Search
orders, offsets, limits and `hasNextPage` follow Bitmagnet's input; `queryString`
matches every word of the torrent name (a stand-in for its full-text search).

`Corpus` makes realistic torrents (movies and TV episodes with TMDb/IMDb ids, music
albums, software, books, a torrent with 12,000 files, one without files info).
Tests change the torrents between passes (`add_newer`, `delete`) and inject
failures: `override` answers a request instead of executing it, `corrupt` edits an
executed answer before it is sent (items with wrong fields).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from graphql import ExecutionResult, execute, parse, validate
from graphql.error import GraphQLError

from tests.engine.sources.bitmagnet.schema import bitmagnet_schema
from tests.site_server import serve

BASE_TIME = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
VERSION = "v0.10.0"
PLAYGROUND = "<!DOCTYPE html><html><head><title>GraphQL playground</title></head></html>"
BIG_FILES = 12_000


@dataclass(frozen=True, slots=True)
class Seen:
    """One GraphQL request the server received."""

    operation: str | None
    input: dict[str, Any]


def info_hash(number: int) -> str:
    """The (lowercase hex) info hash of corpus torrent `number`."""
    return hashlib.sha1(f"bitmagnet-test-{number}".encode()).hexdigest()  # noqa: S324


def iso(moment: datetime) -> str:
    """A time as gqlgen sends it (RFC 3339, nanoseconds, Z)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


@dataclass
class Torrent:
    """One torrent as Bitmagnet holds it: its content item and its files."""

    item: dict[str, Any]
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def info_hash(self) -> str:
        return str(self.item["infoHash"])

    @property
    def published_at(self) -> str:
        return str(self.item["publishedAt"])


def make_torrent(
    number: int,
    name: str,
    published: datetime,
    *,
    size: int,
    content_type: str | None,
    files: list[tuple[str, int]] | None = None,
    status: str | None = None,
    content: dict[str, Any] | None = None,
    seeders: int | None = 10,
    leechers: int | None = 2,
) -> Torrent:
    """A torrent in Bitmagnet's shapes; `files` None is a single-file torrent."""
    hash_ = info_hash(number)
    stamp = iso(published)
    files_status = status or ("single" if files is None else "multi")
    file_rows = [
        {
            "infoHash": hash_,
            "index": index,
            "path": path,
            "size": file_size,
            "extension": path.rsplit(".", 1)[-1] if "." in path else None,
            "fileType": None,
            "createdAt": stamp,
            "updatedAt": stamp,
        }
        for index, (path, file_size) in enumerate(files or [])
    ]
    torrent = {
        "infoHash": hash_,
        "name": name,
        "size": size,
        "hasFilesInfo": files_status != "no_info",
        "singleFile": files_status == "single",
        "extension": None,
        "filesStatus": files_status,
        "filesCount": len(file_rows)
        if files is not None
        else (1 if files_status == "single" else None),
        "fileType": None,
        "fileTypes": None,
        "files": file_rows,
        "sources": [
            {"key": "dht", "name": "DHT", "importId": None, "seeders": None, "leechers": None}
        ],
        "seeders": seeders,
        "leechers": leechers,
        "tagNames": [],
        "magnetUri": f"magnet:?xt=urn:btih:{hash_}",
        "createdAt": stamp,
        "updatedAt": stamp,
    }
    item: dict[str, Any] = {
        "id": f"{hash_}:{content_type or ''}",
        "infoHash": hash_,
        "torrent": torrent,
        "contentType": content_type,
        "contentSource": content["source"] if content else None,
        "contentId": content["id"] if content else None,
        "content": content,
        "title": content["title"] if content else name,
        "languages": [],
        "episodes": None,
        "videoResolution": None,
        "videoSource": None,
        "videoCodec": None,
        "video3d": None,
        "videoModifier": None,
        "releaseGroup": None,
        "seeders": seeders,
        "leechers": leechers,
        "publishedAt": stamp,
        "createdAt": stamp,
        "updatedAt": stamp,
    }
    return Torrent(item, file_rows)


def tmdb_content(
    kind: str, tmdb_id: int, title: str, *, imdb: str | None = None, tvdb: int | None = None
) -> dict[str, Any]:
    """A `Content` from TMDb as Bitmagnet's classifier stores it: ids as attributes and links."""
    meta = {"key": "tmdb", "name": "TMDB"}
    attributes = []
    links = [{"metadataSource": meta, "url": f"https://www.themoviedb.org/{kind}/{tmdb_id}"}]
    stamp = iso(BASE_TIME)
    for source, value, url in (
        ("imdb", imdb, f"https://www.imdb.com/title/{imdb}"),
        ("tvdb", tvdb, f"https://thetvdb.com/?tab=series&id={tvdb}"),
    ):
        if value is not None:
            other = {"key": source, "name": source.upper()}
            attributes.append(
                {
                    "source": source,
                    "key": "id",
                    "value": str(value),
                    "metadataSource": other,
                    "createdAt": stamp,
                    "updatedAt": stamp,
                }
            )
            links.append({"metadataSource": other, "url": url})
    attributes.append(
        {
            "source": "tmdb",
            "key": "poster_path",
            "value": "/x.jpg",
            "metadataSource": meta,
            "createdAt": stamp,
            "updatedAt": stamp,
        }
    )
    return {
        "type": "movie" if kind == "movie" else "tv_show",
        "source": "tmdb",
        "id": str(tmdb_id),
        "title": title,
        "releaseDate": None,
        "releaseYear": None,
        "adult": False,
        "originalLanguage": None,
        "originalTitle": title,
        "overview": None,
        "runtime": None,
        "popularity": None,
        "voteAverage": None,
        "voteCount": None,
        "attributes": attributes,
        "collections": [],
        "metadataSource": meta,
        "externalLinks": links,
        "createdAt": stamp,
        "updatedAt": stamp,
    }


def filler(number: int, published: datetime) -> Torrent:
    """Corpus torrent `number`: one of the everyday kinds, by its number."""
    slot = number % 8
    if slot in (0, 1):
        name = f"Filler Movie {number} 2019 1080p BluRay x264-GRP"
        content = tmdb_content(
            "movie", 100_000 + number, f"Filler Movie {number}", imdb=f"tt{1_000_000 + number}"
        )
        return make_torrent(
            number,
            name,
            published,
            size=2_000_000_000 + number,
            content_type="movie",
            content=content,
        )
    if slot in (2, 3):
        name = f"Filler Show {number} S01E{number % 20 + 1:02d} 720p WEB-DL x264-GRP"
        content = tmdb_content("tv", 200_000 + number, f"Filler Show {number}")
        return make_torrent(
            number,
            name,
            published,
            size=400_000_000 + number,
            content_type="tv_show",
            content=content,
        )
    if slot == 4:
        tracks = [(f"Album {number}/{t:02d} - Track {t}.mp3", 9_000_000) for t in range(1, 11)]
        return make_torrent(
            number,
            f"Filler Artist {number} - Album {number} (2018) [MP3 320]",
            published,
            size=90_000_000,
            content_type="music",
            files=tracks,
        )
    if slot == 5:
        return make_torrent(
            number,
            f"FillerApp v{number}.2 x64 Setup",
            published,
            size=50_000_000,
            content_type="software",
            files=[(f"FillerApp {number}/setup.exe", 50_000_000)],
        )
    if slot == 6:
        return make_torrent(
            number,
            f"Filler Author {number} - Filler Book {number} EPUB",
            published,
            size=2_000_000,
            content_type="ebook",
        )
    return make_torrent(
        number,
        f"Filler Thing {number}",
        published,
        size=1_000 + number,
        content_type=None,
        seeders=None,
        leechers=None,
    )


def special_torrents(published: datetime) -> list[Torrent]:
    """The torrents the tests look at by name, each a case of its own."""
    minute = timedelta(minutes=1)
    episodes = [
        ("The.Expanse.S03E05.1080p.WEB-DL.x264-MINATO.mkv", 1_500_000_000),
        ("The.Expanse.S03E05.1080p.WEB-DL.x264-MINATO.nfo", 3_000),
    ]
    album = [(f"Radiohead - OK Computer (1997)/{t:02d}.flac", 30_000_000) for t in range(1, 13)]
    big = [(f"linux/src/dir{i // 100:03d}/file{i:05d}.c", 1_000 + i) for i in range(BIG_FILES)]
    return [
        make_torrent(
            900_001,
            "Dune Part Two 2024 1080p WEB-DL x265-MINATO",
            published,
            size=8_123_456_789,
            content_type="movie",
            seeders=1209,
            leechers=269,
            content=tmdb_content("movie", 693134, "Dune: Part Two", imdb="tt15239678"),
        ),
        make_torrent(
            900_002,
            "The Expanse S03E05 1080p WEB-DL x264-MINATO",
            published - minute,
            size=1_500_003_000,
            content_type="tv_show",
            files=episodes,
            seeders=388,
            leechers=41,
            content=tmdb_content("tv", 63639, "The Expanse", tvdb=280619),
        ),
        make_torrent(
            900_003,
            "Radiohead - OK Computer (1997) [FLAC]",
            published - 2 * minute,
            size=360_000_000,
            content_type="music",
            files=album,
            seeders=57,
            leechers=3,
        ),
        make_torrent(
            900_004,
            "Ubuntu 24.04 LTS Desktop amd64",
            published - 3 * minute,
            size=6_114_656_256,
            content_type="software",
            seeders=999,
            leechers=12,
        ),
        make_torrent(
            900_005,
            "Linux Kernel Source Archive",
            published - 4 * minute,
            size=sum(size for _, size in big),
            content_type=None,
            files=big,
        ),
        make_torrent(
            900_006,
            "Mystery Torrent Without Files Info",
            published - 5 * minute,
            size=123_456,
            content_type=None,
            status="no_info",
        ),
    ]


class Corpus:
    """Torrents by info hash; `count` fillers plus the special ones, three to a timestamp."""

    def __init__(self, count: int = 314) -> None:
        self.torrents: dict[str, Torrent] = {}
        self._next = 0
        self._newest = BASE_TIME
        for torrent in special_torrents(BASE_TIME - timedelta(hours=1)):
            self.put(torrent)
        for number in range(count):
            # three torrents share each timestamp: ties cross page boundaries
            self.put(filler(number, BASE_TIME - timedelta(hours=2, minutes=number // 3)))
        self._next = count

    def put(self, torrent: Torrent) -> None:
        self.torrents[torrent.info_hash] = torrent

    def add_newer(self, count: int, *, at: datetime | None = None) -> list[str]:
        """`count` torrents published after every other one (or all `at` one time)."""
        added = []
        for _ in range(count):
            self._newest += timedelta(seconds=1)
            torrent = filler(self._next, at or self._newest)
            self._next += 1
            self.put(torrent)
            added.append(torrent.info_hash)
        return added

    def delete(self, hashes: list[str]) -> None:
        for hash_ in hashes:
            del self.torrents[hash_]

    def ordered(self) -> list[Torrent]:
        """Newest first, ties by info hash descending: the bridge's order."""
        return sorted(
            self.torrents.values(), key=lambda t: (t.published_at, t.info_hash), reverse=True
        )


def _sort_key(name: str, item: dict[str, Any]) -> Any:
    torrent = item["torrent"]
    return {
        "published_at": item["publishedAt"],
        "updated_at": item["updatedAt"],
        "size": torrent["size"],
        "files_count": torrent["filesCount"] or 0,
        "seeders": item["seeders"] or 0,
        "leechers": item["leechers"] or 0,
        "name": torrent["name"],
        "info_hash": item["infoHash"],
    }.get(name, 0)


class FakeBitmagnet:
    """The server: `corpus` is what it holds; `seen` lists every GraphQL request."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.seen: list[Seen] = []
        self.override: Callable[[Seen], web.Response | None] | None = None
        self.corrupt: Callable[[Seen, dict[str, Any]], None] | None = None
        self.url = ""
        self._server: TestServer | None = None

    def searches(self) -> list[dict[str, Any]]:
        """The `input` of every search request, in order."""
        return [s.input for s in self.seen if s.operation == "MinatoTorrentContent"]

    def file_requests(self) -> list[dict[str, Any]]:
        """The `input` of every TorrentFiles request, in order."""
        return [s.input for s in self.seen if s.operation == "MinatoTorrentFiles"]

    # ------------------------------------------------------------ resolvers

    def _search(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        items = [t.item for t in self.corpus.ordered()]
        if words := (input.get("queryString") or "").lower().split():
            items = [i for i in items if all(w in i["torrent"]["name"].lower() for w in words)]
        if input.get("infoHashes"):
            items = [i for i in items if i["infoHash"] in set(input["infoHashes"])]
        for order in reversed(input.get("orderBy") or []):  # a stable sort per key, last first
            field_name = order["field"]
            items.sort(
                key=lambda i: _sort_key(field_name, i), reverse=bool(order.get("descending"))
            )
        offset, limit = input.get("offset") or 0, input.get("limit") or 10
        return {
            "totalCount": len(items),
            "totalCountIsEstimate": False,
            "hasNextPage": offset + limit < len(items) if input.get("hasNextPage") else None,
            "items": items[offset : offset + limit],
            "aggregations": {},
        }

    def _files(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        wanted = input.get("infoHashes") or list(self.corpus.torrents)
        rows = [
            f for h in wanted if h in self.corpus.torrents for f in self.corpus.torrents[h].files
        ]
        for order in reversed(input.get("orderBy") or []):
            key = order["field"]
            rows.sort(key=lambda f: f[key], reverse=bool(order.get("descending")))
        offset, limit = input.get("offset") or 0, input.get("limit") or 10
        return {
            "totalCount": len(rows),
            "hasNextPage": offset + limit < len(rows) if input.get("hasNextPage") else None,
            "items": rows[offset : offset + limit],
        }

    def root(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "torrentContent": {"search": self._search},
            "torrent": {"files": self._files},
        }

    # ------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        if request.path != "/graphql":
            return web.Response(status=404, text="404 page not found")
        if request.method == "GET":  # Bitmagnet routes GET /graphql to its playground page
            return web.Response(text=PLAYGROUND, content_type="text/html")
        try:
            body: Any = json.loads(await request.read())
        except ValueError:
            return web.json_response(
                {"errors": [{"message": "json body could not be decoded"}]}, status=400
            )
        variables = body.get("variables") or {}
        seen = Seen(body.get("operationName"), variables.get("input") or {})
        self.seen.append(seen)
        if self.override is not None and (answer := self.override(seen)) is not None:
            return answer
        result, status = self.execute(body.get("query", ""), variables, body.get("operationName"))
        if self.corrupt is not None:
            self.corrupt(seen, result)
        return web.Response(text=json.dumps(result), status=status, content_type="application/json")

    def execute(
        self, source: str, variables: dict[str, Any], operation: str | None
    ) -> tuple[dict[str, Any], int]:
        """Validate and run one document, answering as gqlgen does (422 for a bad document)."""
        schema = bitmagnet_schema()
        try:
            document = parse(source)
        except GraphQLError as exc:
            return _failed([exc], "GRAPHQL_PARSE_FAILED"), 422
        if errors := validate(schema, document):
            return _failed(errors, "GRAPHQL_VALIDATION_FAILED"), 422
        result = execute(
            schema, document, self.root(), variable_values=variables, operation_name=operation
        )
        assert isinstance(result, ExecutionResult)
        return dict(result.formatted), 200

    async def start(self) -> FakeBitmagnet:
        self._server, self.url = await serve(self._handle, "*")
        return self

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None


def _failed(errors: list[GraphQLError], code: str) -> dict[str, Any]:
    return {
        "errors": [{"message": e.message, "extensions": {"code": code}} for e in errors],
        "data": None,
    }
