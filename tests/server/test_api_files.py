""".torrent uploads: multipart and raw, v1/v2/hybrid, the file served back byte-identical,
and every malformed fixture refused with libtorrent's reason."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import aiohttp
import pytest

from engine.torrent import parse_torrent
from tests.engine.test_torrent import GOOD, MALFORMED, SANITIZED, bdecode, raw_info
from tests.server.conftest import TORRENT_TYPE, TORRENTS, Api, error_of, info_hash, record


def fixture_bytes(name: str) -> bytes:
    return (TORRENTS / name).read_bytes()


def v1_or_v2_hash(data: bytes) -> str:
    """The expected key, worked out from the raw info dictionary (not via libtorrent)."""
    info_bytes = raw_info(data)
    info, _ = bdecode(info_bytes)
    if b"pieces" in info:
        return hashlib.sha1(info_bytes, usedforsecurity=False).hexdigest()
    return hashlib.sha256(info_bytes).hexdigest()[:40]


async def upload_multipart(
    api: Api, data: bytes, filename: str = "upload.torrent", source: str | None = None
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    if source is not None:
        form.add_field("source", source)
    form.add_field("file", io.BytesIO(data), filename=filename, content_type=TORRENT_TYPE)
    return await api.client.post("/api/ingest/file", data=form, headers=api.headers())


async def upload_raw(api: Api, data: bytes, **params: str) -> aiohttp.ClientResponse:
    headers = api.headers(content_type=TORRENT_TYPE)
    body = io.BytesIO(data)  # aiohttp warns about large raw-bytes bodies
    return await api.client.post("/api/ingest/file", data=body, headers=headers, params=params)


async def ok(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    assert resp.status == 200, await resp.text()
    return await resp.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", GOOD + sorted(SANITIZED))
async def test_every_good_torrent_is_stored_and_served_back_identical(api: Api, name: str) -> None:
    data = fixture_bytes(name)
    expected = parse_torrent(data)
    first = await ok(await upload_multipart(api, data, name))
    assert first == {"created": 1, "updated": 0, "rejected": []}
    again = await ok(await upload_raw(api, data))
    assert again == {"created": 0, "updated": 1, "rejected": []}
    key = v1_or_v2_hash(data)
    got = await api.detail(key)
    assert got["info_hash"] == key == expected.info_hash
    assert got["title"] == expected.name
    assert got["files"] == [{"path": f.path, "size": f.size} for f in expected.files]
    assert got["file_count"] == len(expected.files)
    assert got["size"] == expected.total_size
    assert got["trackers"] == list(expected.trackers)
    assert got["has_torrent_file"] is True
    assert got["sources"] == ["upload"]

    served = await api.get(f"/api/torrents/{key}/file")
    assert served.status == 200
    assert served.content_type == TORRENT_TYPE
    assert served.headers["Content-Disposition"] == f'attachment; filename="{key}.torrent"'
    assert await served.read() == data
    # Any spelling of the hash finds the file.
    assert await (await api.get(f"/api/torrents/{key.upper()}/file")).read() == data


async def test_multi_file_v1_torrent_detail(api: Api) -> None:
    await ok(await upload_multipart(api, fixture_bytes("flexget_multi.torrent")))
    got = await api.detail("6f8cd699135b491513e65d967a052a7087750d9c")
    assert got["title"] == "slackware-14.1-iso"
    assert got["files"][:2] == [
        {"path": "slackware-14.1-iso/slackware-14.1-install-d1.iso", "size": 702_545_920},
        {"path": "slackware-14.1-iso/slackware-14.1-install-d1.iso.asc", "size": 198},
    ]
    assert got["size"] == sum(f["size"] for f in got["files"])
    assert got["trackers"][0] == "http://tracker1.transamrit.net:8082/announce"
    assert got["published_at"].startswith("2013-11-06T01:29:09")


async def test_v2_only_and_hybrid_torrents(api: Api) -> None:
    await ok(await upload_raw(api, fixture_bytes("libtorrent_v2_only.torrent")))
    v2_only = await api.detail("95e04d0c4bad94ab206efa884666fd89777dbe4f")  # sha256[:40]
    assert v2_only["files"] == [{"path": "test1MB", "size": 1_048_576}]
    await ok(await upload_raw(api, fixture_bytes("libtorrent_v2_hybrid.torrent")))
    hybrid = await api.detail("514c76c1f27ec61ca8b37851bcd1cbf0b26cf120")  # keyed by v1
    assert hybrid["title"] == "bittorrent-v1-v2-hybrid-test"
    assert len(hybrid["files"]) == 9
    assert {"path": "bittorrent-v1-v2-hybrid-test/eld-dust.mkv", "size": 61_638_604} in hybrid[
        "files"
    ]


async def test_implausible_creation_date_is_dropped_not_refused(api: Api) -> None:
    # libtorrent_creation_date.torrent says it was made on 1970-01-15: keep the torrent.
    data = fixture_bytes("libtorrent_creation_date.torrent")
    assert await ok(await upload_raw(api, data)) == {"created": 1, "updated": 0, "rejected": []}
    got = await api.detail(v1_or_v2_hash(data))
    assert got["published_at"] is None
    assert got["has_torrent_file"] is True


async def test_pad_files_are_left_out(api: Api) -> None:
    await ok(await upload_raw(api, fixture_bytes("libtorrent_pad_file.torrent")))
    got = await api.detail("fa2d263afecd65b98640ae50d5b11d9d250d9e2a")
    assert got["files"] == [{"path": "temp/foo/bar.txt", "size": 45}]


async def test_source_from_query_or_multipart_field(api: Api) -> None:
    data = fixture_bytes("flexget_private.torrent")
    key = "09977fe761b8d293ad8a929ccaf2e9322d525a6c"
    await ok(await upload_raw(api, data, source="worker:dht-1"))
    assert await ok(await upload_multipart(api, data, source="1337x")) == {
        "created": 0,
        "updated": 1,
        "rejected": [],
    }
    got = await api.detail(key)
    assert [s["source"] for s in got["sightings"]] == ["1337x", "worker:dht-1"]
    bad = await error_of(await upload_raw(api, data, source="bad source!"), 400)
    assert bad["field"] == "source"
    assert len((await api.detail(key))["sightings"]) == 2


async def test_upload_completes_a_torrent_first_seen_as_a_magnet(api: Api) -> None:
    key = "09977fe761b8d293ad8a929ccaf2e9322d525a6c"
    await api.ingest(
        {
            "magnet": f"magnet:?xt=urn:btih:{key}&dn=ubuntu-9.04-desktop-amd64.iso",
            "title": "Ubuntu 9.04 Desktop amd64",
            "source": "thepiratebay",
            "seeders": 12,
        }
    )
    before = await api.detail(key)
    assert before["files"] == []
    assert before["has_torrent_file"] is False
    await error_of(await api.get(f"/api/torrents/{key}/file"), 404)
    assert await ok(await upload_raw(api, fixture_bytes("flexget_private.torrent"))) == {
        "created": 0,
        "updated": 1,
        "rejected": [],
    }
    after = await api.detail(key)
    assert after["title"] == "Ubuntu 9.04 Desktop amd64"  # the first title stays
    assert after["files"] == [{"path": "ubuntu-9.04-desktop-amd64.iso", "size": 730_554_368}]
    assert after["size"] == 730_554_368
    assert after["trackers"] == ["http://torrent.ubuntu.com:6969/announce"]
    assert after["description"] == "Ubuntu CD releases.ubuntu.com"
    assert after["seeders"] == 12
    assert after["has_torrent_file"] is True
    served = await api.get(f"/api/torrents/{key}/file")
    assert await served.read() == fixture_bytes("flexget_private.torrent")


async def test_uploaded_torrents_are_searchable_by_name_and_file_names(api: Api) -> None:
    await ok(await upload_multipart(api, fixture_bytes("flexget_multi.torrent")))
    await ok(await upload_multipart(api, fixture_bytes("libtorrent_v2_hybrid.torrent")))
    await api.drain()
    assert [h["title"] for h in (await api.search(q="slackware"))["hits"]] == ["slackware-14.1-iso"]
    page = await api.search(q="spaceballs")  # only in a file name
    assert [h["info_hash"] for h in page["hits"]] == ["514c76c1f27ec61ca8b37851bcd1cbf0b26cf120"]


@pytest.mark.parametrize(("name", "reason"), sorted(MALFORMED.items()))
async def test_malformed_torrents_are_400_with_libtorrents_reason(
    api: Api, name: str, reason: str
) -> None:
    await api.ingest(record("The.Matrix.1999.1080p.BluRay.x264-GRP"))
    data = fixture_bytes(name)
    for resp in (await upload_multipart(api, data, name), await upload_raw(api, data)):
        error = await error_of(resp, 400)
        assert error["type"] == "invalid_torrent"
        assert reason in error["message"]
        assert "[libtorrent:" not in error["message"]
    health = await api.health()
    assert health["torrents"] == 1
    await api.detail(info_hash("The.Matrix.1999.1080p.BluRay.x264-GRP"))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"this is not bencode at all", "invalid torrent"),
        (b"d8:announce", "invalid torrent"),  # cut off
        (b"\x00" * 4096, "invalid torrent"),
        (fixture_bytes("flexget_test.torrent")[:-200], "invalid torrent"),  # truncated
    ],
)
async def test_garbage_uploads_are_400(api: Api, data: bytes, reason: str) -> None:
    for resp in (await upload_raw(api, data), await upload_multipart(api, data)):
        error = await error_of(resp, 400)
        assert reason in error["message"]
    assert (await api.health())["torrents"] == 0


async def test_multipart_without_a_file_field_is_400(api: Api) -> None:
    form = aiohttp.FormData()
    form.add_field("torrent", fixture_bytes("flexget_test.torrent"), filename="x.torrent")
    resp = await api.client.post("/api/ingest/file", data=form, headers=api.headers())
    error = await error_of(resp, 400)
    assert "file" in error["message"]


async def test_empty_raw_upload_is_400(api: Api) -> None:
    error = await error_of(await upload_raw(api, b""), 400)
    assert error["field"] == "body"


async def test_torrent_over_the_size_limit_is_413(api: Api) -> None:
    limit = api.core.services.ingest.max_torrent_bytes
    big = b"d4:info" + b"x" * (limit + 10) + b"e"
    await error_of(await upload_raw(api, big), 413)
    await error_of(await upload_multipart(api, big), 413)
    assert (await api.health())["status"] == "ok"


async def test_wrong_content_type_for_a_torrent_is_415(api: Api) -> None:
    data = fixture_bytes("flexget_test.torrent")
    for content_type in ("application/octet-stream", "application/json", "text/plain"):
        resp = await api.post("/api/ingest/file", data, content_type)
        error = await error_of(resp, 415)
        assert "application/x-bittorrent" in error["message"]
    assert (await api.health())["torrents"] == 0
