"""Authentication: API keys (header or query), the internal secret on ingest routes only,
keys made and revoked by another process, and the 401 shape."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from engine.core import Core
from engine.torrent import parse_torrent
from tests.server.conftest import (
    MINATO,
    NDJSON_TYPE,
    TORRENT_TYPE,
    TORRENTS,
    Api,
    error_of,
    info_hash,
    ndjson,
    record,
)

MATRIX = "The.Matrix.1999.1080p.BluRay.x264-GRP"
HASH = info_hash(MATRIX)
TORRENT = (TORRENTS / "flexget_test.torrent").read_bytes()
TORRENT_HASH = parse_torrent(TORRENT).info_hash

# (method, path, content type, body) for every route that needs credentials.
INGEST_ROUTES: list[tuple[str, str, str, bytes]] = [
    ("POST", "/api/ingest", "application/json", json.dumps(record(MATRIX)).encode()),
    ("POST", "/api/ingest/bulk", "application/json", json.dumps([record(MATRIX)]).encode()),
    ("POST", "/api/ingest/bulk", NDJSON_TYPE, ndjson([record(MATRIX)])),
    ("POST", "/api/ingest/file", TORRENT_TYPE, TORRENT),
]
READ_ROUTES: list[tuple[str, str, str, bytes]] = [
    ("GET", "/api/search?q=matrix", "", b""),
    ("GET", f"/api/torrents/{HASH}", "", b""),
    ("GET", f"/api/torrents/{TORRENT_HASH}/file", "", b""),
]
ALL_ROUTES = INGEST_ROUTES + READ_ROUTES


def route_id(route: tuple[str, str, str, bytes]) -> str:
    return f"{route[0]} {route[1].split('?')[0]} {route[2]}".strip()


async def call(
    api: Api, route: tuple[str, str, str, bytes], headers: dict[str, str], **params: str
) -> Any:
    method, path, content_type, body = route
    if content_type:
        headers = {**headers, "Content-Type": content_type}
    return await api.client.request(method, path, data=body or None, headers=headers, params=params)


def internal_secret(core: Core) -> str:
    return (core.settings.data_path() / "internal_secret").read_text().strip()


@pytest.fixture
async def stored(api: Api) -> Api:
    """An API whose database holds the Matrix torrent with its .torrent file (for the reads)."""
    await api.ingest(record(MATRIX))
    resp = await api.post("/api/ingest/file?source=upload", TORRENT, TORRENT_TYPE)
    assert resp.status == 200, await resp.text()
    return api


@pytest.mark.parametrize("route", ALL_ROUTES, ids=route_id)
async def test_missing_key_is_401_json(stored: Api, route: tuple[str, str, str, bytes]) -> None:
    error = await error_of(await call(stored, route, {}), 401)
    assert error["type"] == "unauthorized"
    assert "missing" in error["message"]
    assert "X-Api-Key" in error["message"]


@pytest.mark.parametrize("route", ALL_ROUTES, ids=route_id)
async def test_wrong_key_is_401_and_not_echoed(
    stored: Api, route: tuple[str, str, str, bytes]
) -> None:
    wrong = "0123456789abcdef0123456789abcdef"
    for headers, params in (({"X-Api-Key": wrong}, {}), ({}, {"apikey": wrong})):
        resp = await call(stored, route, headers, **params)
        error = await error_of(resp, 401)
        assert "invalid" in error["message"]
        assert wrong not in await resp.text()
    # A near miss (the right key with one character changed) is refused as well.
    near = stored.key[:-1] + ("0" if stored.key[-1] != "0" else "1")
    await error_of(await call(stored, route, {"X-Api-Key": near}), 401)


@pytest.mark.parametrize("route", ALL_ROUTES, ids=route_id)
async def test_key_in_header_or_query_is_accepted(
    stored: Api, route: tuple[str, str, str, bytes]
) -> None:
    by_header = await call(stored, route, {"X-Api-Key": stored.key})
    assert by_header.status == 200, await by_header.text()
    by_query = await call(stored, route, {}, apikey=stored.key)
    assert by_query.status == 200, await by_query.text()


@pytest.mark.parametrize("route", INGEST_ROUTES, ids=route_id)
async def test_internal_secret_is_accepted_on_ingest_routes(
    stored: Api, route: tuple[str, str, str, bytes]
) -> None:
    resp = await call(stored, route, {"X-Internal-Secret": internal_secret(stored.core)})
    assert resp.status == 200, await resp.text()
    assert set(await resp.json()) == {"created", "updated", "rejected"}


@pytest.mark.parametrize("route", READ_ROUTES, ids=route_id)
async def test_internal_secret_is_refused_on_read_routes(
    stored: Api, route: tuple[str, str, str, bytes]
) -> None:
    await error_of(
        await call(stored, route, {"X-Internal-Secret": internal_secret(stored.core)}), 401
    )


async def test_wrong_internal_secret_and_secret_as_api_key_are_refused(stored: Api) -> None:
    secret = internal_secret(stored.core)
    route = INGEST_ROUTES[0]
    await error_of(await call(stored, route, {"X-Internal-Secret": secret[:-1] + "x"}), 401)
    await error_of(await call(stored, route, {"X-Internal-Secret": ""}), 401)
    # The internal secret is not an API key, and an API key is not the internal secret.
    await error_of(await call(stored, route, {"X-Api-Key": secret}), 401)
    await error_of(await call(stored, route, {"X-Internal-Secret": stored.key}), 401)


async def test_health_and_unknown_routes_need_no_key(api: Api) -> None:
    resp = await api.client.get("/api/health", headers={"X-Api-Key": "wrong"})
    assert resp.status == 200
    missing = await error_of(await api.client.get("/api/nothing-here"), 404)
    assert missing["type"] == "not_found"
    wrong_method = await error_of(await api.client.get("/api/ingest"), 405)
    assert "POST" in wrong_method["message"]


async def test_revoked_key_stops_at_once_when_revoked_through_the_server(api: Api) -> None:
    assert (await api.get("/api/search")).status == 200
    await api.core.services.keys.revoke("tests")
    await error_of(await api.get("/api/search"), 401)
    await error_of(await api.client.get("/api/search", params={"apikey": api.key}), 401)


async def test_two_keys_are_independent(api: Api) -> None:
    other = await api.core.services.keys.create("sonarr")
    assert (await api.client.get("/api/search", headers={"X-Api-Key": other.secret})).status == 200
    await api.core.services.keys.revoke(other.info.prefix)
    await error_of(await api.client.get("/api/search", headers={"X-Api-Key": other.secret}), 401)
    assert (await api.get("/api/search")).status == 200


def cli(core: Core, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `minato` in another process on the same data dir and database as `core`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINATO_")}
    env.update(
        MINATO_CONFIG=str(tmp_path / "absent.toml"),
        MINATO_DATA_DIR=str(core.settings.data_path()),
        MINATO_DATABASE_URL=core.settings.storage.database_url,
    )
    return subprocess.run(
        [str(MINATO), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


async def test_key_made_by_minato_keys_create_works_at_once(api: Api, tmp_path: Path) -> None:
    assert (await api.get("/api/search")).status == 200  # the server has loaded its keys
    made = await asyncio.to_thread(cli, api.core, tmp_path, "keys", "create", "--name", "radarr")
    new_key = made.stdout.strip().splitlines()[-1]
    assert len(new_key) == 32
    resp = await api.client.get("/api/search", headers={"X-Api-Key": new_key})
    assert resp.status == 200, await resp.text()


async def test_key_revoked_by_minato_keys_revoke_stops_within_seconds(
    api: Api, tmp_path: Path
) -> None:
    made = await asyncio.to_thread(cli, api.core, tmp_path, "keys", "create", "--name", "radarr")
    new_key = made.stdout.strip().splitlines()[-1]
    deadline = time.monotonic() + 5
    while (await api.client.get("/api/search", headers={"X-Api-Key": new_key})).status != 200:
        assert time.monotonic() < deadline, "a key made by `minato keys create` never worked"
        await asyncio.sleep(0.2)

    revoked = await asyncio.to_thread(cli, api.core, tmp_path, "keys", "revoke", "radarr")
    assert "revoked key" in revoked.stdout
    revoked_at = time.monotonic()
    while True:
        resp = await api.client.get("/api/search", headers={"X-Api-Key": new_key})
        if resp.status == 401:
            break
        assert resp.status == 200
        assert time.monotonic() - revoked_at < 10, "revoked key still accepted after 10 s"
        await asyncio.sleep(0.2)
    assert time.monotonic() - revoked_at < 7
    assert (await api.get("/api/search")).status == 200  # the other key is untouched


async def test_key_made_elsewhere_works_even_right_after_a_cache_reload(
    api: Api, core: Core
) -> None:
    assert (await api.get("/api/search")).status == 200  # this request reloads the cache
    # Another process's KeyService on the same database (what `minato keys create` does).
    other = Core.open(core.settings, classify=False)
    try:
        new = await other.services.keys.create("prowlarr")
    finally:
        other.close()
    resp = await api.client.get("/api/search", headers={"X-Api-Key": new.secret})
    assert resp.status == 200, await resp.text()
