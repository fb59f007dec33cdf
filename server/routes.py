"""Route handlers: parse the request, call a service, render the answer. Nothing more."""

from __future__ import annotations

import json

from aiohttp import BodyPartReader, web
from multidict import MultiMapping

from engine.errors import BadRequest, InvalidRecord, PayloadTooLarge, UnsupportedMediaType
from engine.services import parse_live_mode, parse_search_params
from server.middleware import MAX_BODY, SERVICES
from server.render import (
    crawler_json,
    crawlers_json,
    dht_json,
    feed_json,
    health_json,
    live_searches_json,
    mirrors_json,
    page_json,
    report_json,
    sites_json,
    torrent_json,
)

JSON = "application/json"
NDJSON = "application/x-ndjson"
BITTORRENT = "application/x-bittorrent"
MULTIPART = "multipart/form-data"

MAX_LIVE_QUERY_CHARS = 500
"""As long as a search query may be (`engine.services.search.MAX_QUERY_CHARS`)."""


async def health(request: web.Request) -> web.Response:
    """GET /api/health: liveness and counts, no key needed."""
    return web.json_response(health_json(await request.app[SERVICES].status.health()))


async def ingest_one(request: web.Request) -> web.Response:
    """POST /api/ingest: one JSON record."""
    _require_type(request, (JSON,))
    body = await _read_body(request)
    report = await request.app[SERVICES].ingest.ingest_one(body)
    return web.json_response(report_json(report))


async def ingest_bulk(request: web.Request) -> web.Response:
    """POST /api/ingest/bulk: a JSON array, or NDJSON with Content-Type application/x-ndjson."""
    kind = _require_type(request, (JSON, NDJSON))
    body = await _read_body(request)
    ingest = request.app[SERVICES].ingest
    report = await (ingest.ingest_ndjson(body) if kind == NDJSON else ingest.ingest_json(body))
    return web.json_response(report_json(report))


async def ingest_file(request: web.Request) -> web.Response:
    """POST /api/ingest/file: a .torrent, raw or as multipart field `file`."""
    kind = _require_type(request, (BITTORRENT, MULTIPART))
    ingest = request.app[SERVICES].ingest
    source = request.query.get("source", "upload")
    if kind == BITTORRENT:
        data = await _read_body(request, min(ingest.max_torrent_bytes, request.app[MAX_BODY]))
    else:
        data, source = await _multipart_torrent(request, ingest.max_torrent_bytes, source)
    report = await ingest.ingest_torrent(data, source)
    return web.json_response(report_json(report))


async def search(request: web.Request) -> web.Response:
    """GET /api/search?q=&kind=&category=&sort=&limit=&offset=&live= and the other filters.

    `live=auto` asks the sites too when the index is thin or stale for the query,
    `live=always` every time; the default (off) reads the index alone.
    """
    params = _single_values(request.query)
    query = parse_search_params(params)
    live = parse_live_mode(params.get("live", ""))
    page = await request.app[SERVICES].search.search(query, live=live)
    return web.json_response(page_json(page))


async def torrent(request: web.Request) -> web.Response:
    """GET /api/torrents/{info_hash}: the torrent with files and sightings."""
    detail = await request.app[SERVICES].search.torrent(request.match_info["info_hash"])
    return web.json_response(torrent_json(detail))


async def torrent_file(request: web.Request) -> web.Response:
    """GET /api/torrents/{info_hash}/file: the kept .torrent, when there is one."""
    info_hash = request.match_info["info_hash"]
    data = await request.app[SERVICES].search.metainfo(info_hash)
    return web.Response(
        body=data,
        content_type=BITTORRENT,
        headers={"Content-Disposition": f'attachment; filename="{info_hash.lower()}.torrent"'},
    )


async def sites(request: web.Request) -> web.Response:
    """GET /api/sites: every site, its current mirror and breaker; the proxies; check schedule."""
    crawlers = request.app[SERVICES].crawlers
    body = sites_json(await crawlers.sites(), crawlers.proxies(), crawlers.mirror_checks())
    return web.json_response(body)


async def site_mirrors(request: web.Request) -> web.Response:
    """GET /api/sites/{site}/mirrors?history=N: the site's mirrors with their latest checks."""
    history = _whole_number(request.query.get("history", "10"), "history", 0, 100)
    found = await request.app[SERVICES].crawlers.mirrors(
        request.match_info["site"], history=history
    )
    return web.json_response(mirrors_json(found))


async def crawlers(request: web.Request) -> web.Response:
    """GET /api/crawlers: every crawler's live status."""
    return web.json_response(crawlers_json(request.app[SERVICES].crawlers.statuses()))


async def crawler_start(request: web.Request) -> web.Response:
    """POST /api/crawlers/{source}/start: enable a crawler and run it now."""
    status = await request.app[SERVICES].crawlers.start(request.match_info["source"])
    return web.json_response(crawler_json(status))


async def crawler_stop(request: web.Request) -> web.Response:
    """POST /api/crawlers/{source}/stop: disable a crawler, cancelling its crawl."""
    status = await request.app[SERVICES].crawlers.stop(request.match_info["source"])
    return web.json_response(crawler_json(status))


async def search_live_status(request: web.Request) -> web.Response:
    """GET /api/search/live-status: what each site answered to the latest live searches."""
    limit = _whole_number(request.query.get("limit", "50"), "limit", 1, 1000)
    query = request.query.get("q", "").strip()
    if len(query) > MAX_LIVE_QUERY_CHARS:
        raise BadRequest(f"q: longer than {MAX_LIVE_QUERY_CHARS} characters")
    rows = await request.app[SERVICES].live.recent(limit, query=query or None)
    return web.json_response(live_searches_json(rows))


async def dht(request: web.Request) -> web.Response:
    """GET /api/dht: the DHT crawler's state and figures."""
    return web.json_response(dht_json(await request.app[SERVICES].dht.report()))


async def dht_start(request: web.Request) -> web.Response:
    """POST /api/dht/start: turn the DHT crawler on (kept across restarts)."""
    return web.json_response(dht_json(await request.app[SERVICES].dht.start()))


async def dht_stop(request: web.Request) -> web.Response:
    """POST /api/dht/stop: turn the DHT crawler off (kept across restarts)."""
    return web.json_response(dht_json(await request.app[SERVICES].dht.stop()))


async def feeds(request: web.Request) -> web.Response:
    """GET /api/feeds: every feed, with where its last poll stopped."""
    listed = await request.app[SERVICES].feeds.list()
    return web.json_response({"feeds": [feed_json(feed) for feed in listed]})


async def feed_add(request: web.Request) -> web.Response:
    """POST /api/feeds: {"name", "url", "every"?}; polled at once and on its interval."""
    _require_type(request, (JSON,))
    body = await _read_body(request, _MAX_FEED_REQUEST)
    try:
        data = json.loads(body)
    except ValueError:
        raise BadRequest("body: not JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("body: give a JSON object with name and url")
    fields = {key: data.get(key) for key in ("name", "url", "every")}
    for key, value in fields.items():
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{key}: must be a string")
    if not fields["name"] or not fields["url"]:
        raise BadRequest("name and url are required")
    feed = await request.app[SERVICES].feeds.add(
        str(fields["name"]), str(fields["url"]), str(fields["every"] or "15m")
    )
    return web.json_response(feed_json(feed), status=201)


async def feed_remove(request: web.Request) -> web.Response:
    """DELETE /api/feeds/{name}: stop polling a feed added through the API and forget it."""
    await request.app[SERVICES].feeds.remove(request.match_info["name"])
    return web.Response(status=204)


_MAX_FEED_REQUEST = 8 * 1024


def _whole_number(value: str, name: str, low: int, high: int) -> int:
    text = value.strip()
    # the length first: int() refuses strings of over 4300 digits with a ValueError
    if not (text.isascii() and text.isdecimal() and len(text) <= 9) or not low <= int(text) <= high:
        raise BadRequest(f"{name}: must be a whole number from {low} to {high}")
    return int(text)


def _require_type(request: web.Request, allowed: tuple[str, ...]) -> str:
    kind = request.content_type
    if kind not in allowed:
        raise UnsupportedMediaType(
            f"Content-Type {kind!r} is not accepted here; use {' or '.join(allowed)}"
        )
    return kind


async def _read_body(request: web.Request, limit: int | None = None) -> bytes:
    """The body, refused with 413 when over `limit` (or the app's client_max_size)."""
    limit = limit or request.app[MAX_BODY]
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"body of {request.content_length} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body over the limit of {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body:
        raise InvalidRecord("body", "is empty")
    return body


async def _multipart_torrent(request: web.Request, limit: int, source: str) -> tuple[bytes, str]:
    reader = await request.multipart()
    data: bytes | None = None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "source":
            source = (await part.text())[:100]
        elif part.name == "file":
            buf = bytearray()
            while chunk := await part.read_chunk(64 * 1024):
                buf.extend(chunk)
                if len(buf) > limit:
                    raise PayloadTooLarge(f"torrent file over the limit of {limit} bytes")
            data = bytes(buf)
    if data is None:
        raise BadRequest("file: a multipart field named 'file' is required")
    return data, source


def _single_values(query: MultiMapping[str]) -> dict[str, str]:
    """Query parameters with case-insensitive names; a repeated name keeps its last value."""
    return {name.lower(): value for name, value in query.items()}
