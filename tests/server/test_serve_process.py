"""`minato serve` as a real process: first-start key, the ingest/search/auth contract over
real HTTP (httpx), a clean SIGTERM shutdown, a restart on the same data, and no API key in
the log output."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import (
    NDJSON_TYPE,
    TORRENT_TYPE,
    TORRENTS,
    ServerProcess,
    info_hash,
    ndjson,
    record,
)

pytestmark = pytest.mark.slow

MATRIX = "The.Matrix.1999.1080p.BluRay.x264-GRP"
BREAKING = "Breaking.Bad.S01E02.720p.HDTV.x264-CTU"
SLACKWARE_HASH = "6f8cd699135b491513e65d967a052a7087750d9c"  # flexget_multi.torrent


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServerProcess]:
    """A server with the classifier on (one worker) and a small body limit, on each database."""
    config = tmp_path / "config.toml"
    config.write_text("[server]\nmax_body_bytes = 65536\n\n[pipeline]\nclassify_workers = 1\n")
    proc = ServerProcess(tmp_path / "data", config, MINATO_DATABASE_URL=database_url)
    yield proc.start()
    proc.close()  # SIGTERM if the test did not stop it, then reap the process group


def wait_for(check: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def total(client: httpx.Client, key: str, **params: Any) -> int:
    resp = client.get("/api/search", params=params, headers={"X-Api-Key": key})
    assert resp.status_code == 200, resp.text
    return int(resp.json()["total"])


def test_serve_contract_over_real_http(server: ServerProcess) -> None:
    key = server.first_key
    assert key is not None, server.output()
    assert len(key) == 32
    secret = (server.data_dir / "internal_secret").read_text().strip()
    auth = {"X-Api-Key": key}

    with httpx.Client(base_url=server.url, timeout=30) as client:
        health = client.get("/api/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"

        denied = client.get("/api/search", params={"q": "matrix"})
        assert denied.status_code == 401
        assert denied.json()["error"]["type"] == "unauthorized"
        assert client.get("/api/search", headers={"X-Api-Key": "nope"}).status_code == 401

        one = client.post("/api/ingest", json=record(MATRIX, seeders=1200), headers=auth)
        assert one.status_code == 200, one.text
        assert one.json() == {"created": 1, "updated": 0, "rejected": []}

        body = ndjson([record(BREAKING, source="eztv")]) + b"{broken\n"
        body += ndjson([record("Arrival.2016.1080p.BluRay.x264-SPARKS", source="yts")])
        bulk = client.post(
            "/api/ingest/bulk",
            content=body,
            params={"apikey": key},
            headers={"Content-Type": NDJSON_TYPE},
        )
        assert bulk.status_code == 200, bulk.text
        answer = bulk.json()
        assert answer["created"] == 2
        assert [r["index"] for r in answer["rejected"]] == [1]

        torrent = (TORRENTS / "flexget_multi.torrent").read_bytes()
        upload = client.post(
            "/api/ingest/file",
            content=torrent,
            headers={"X-Internal-Secret": secret, "Content-Type": TORRENT_TYPE},
        )
        assert upload.status_code == 200, upload.text
        assert upload.json()["created"] == 1
        files = client.post(
            "/api/ingest/file",
            files={"file": ("multi.torrent", torrent, TORRENT_TYPE)},
            data={"source": "worker-7"},
            headers=auth,
        )
        assert files.status_code == 200, files.text
        assert files.json()["updated"] == 1
        # The internal secret opens the ingest routes only.
        for path in ("/api/search", f"/api/torrents/{SLACKWARE_HASH}"):
            resp = client.get(path, headers={"X-Internal-Secret": secret})
            assert resp.status_code == 401

        # Bad input: a clear 4xx, and the server goes on.
        bad = client.post(
            "/api/ingest",
            content=b'{"title": ',
            headers={**auth, "Content-Type": "application/json"},
        )
        assert bad.status_code == 400
        assert bad.json()["error"]["field"] == "body"
        big = client.post("/api/ingest/bulk", json=[record("x" * 1000)] * 100, headers=auth)
        assert big.status_code == 413
        wrong = client.post(
            "/api/ingest", content=b"{}", headers={**auth, "Content-Type": "text/plain"}
        )
        assert wrong.status_code == 415
        hash_ = client.get("/api/torrents/not-a-hash", headers=auth)
        assert hash_.status_code == 400

        # The server's own drainer makes everything searchable.
        def indexed() -> bool:
            return bool(client.get("/api/health").json()["index_backlog"] == 0)

        wait_for(indexed, "the drainer to empty the outbox")
        assert total(client, key) == 4
        assert total(client, key, q="matrix") == 1
        assert total(client, key, q="breaking ba") == 1
        assert total(client, key, q="slackware", source="worker-7") == 1
        assert total(client, key, q="matrix", kind="movie", year=1999) == 1  # classifier on
        assert total(client, key, q="breaking", category=5000) == 1

        detail = client.get(f"/api/torrents/{SLACKWARE_HASH}", headers=auth).json()
        assert detail["title"] == "slackware-14.1-iso"
        assert len(detail["files"]) == 4
        assert sorted(s["source"] for s in detail["sightings"]) == ["upload", "worker-7"]
        served = client.get(f"/api/torrents/{SLACKWARE_HASH}/file", params={"apikey": key})
        assert served.status_code == 200
        assert served.headers["content-type"] == TORRENT_TYPE
        assert served.content == torrent
        movie = client.get(f"/api/torrents/{info_hash(MATRIX)}", headers=auth).json()
        assert (movie["kind"], movie["year"], movie["resolution"]) == ("movie", 1999, "1080p")

    code = server.stop()
    output = server.output()
    assert code == 0, output
    assert "stopped" in output
    assert "Traceback" not in output
    assert "BUG" not in output
    assert output.count(key) == 1, "the API key was logged after its first-start display"
    assert secret not in output

    # A restart on the same data dir: no new key, the old one works, the data is there.
    server.start()
    assert server.first_key is None
    assert "First start" not in server.output()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert total(client, key) == 4
        assert total(client, key, q="arrival") == 1
    assert server.stop() == 0
    assert key not in server.output()


def test_sigterm_right_after_start_is_clean(server: ServerProcess) -> None:
    assert server.stop() == 0, server.output()
    assert "stopped" in server.output()


def test_api_key_is_not_logged_for_overlong_request_lines(server: ServerProcess) -> None:
    key = server.first_key
    assert key is not None
    with httpx.Client(base_url=server.url, timeout=30) as client:
        resp = client.get("/api/search", params={"apikey": key, "q": "a" * 9000})
        assert 400 <= resp.status_code < 500
        assert client.get("/api/health").status_code == 200
    assert server.stop() == 0
    output = server.output()
    assert "LineTooLong" in output  # aiohttp logged the refusal with its traceback...
    assert output.count(key) == 1, "the API key is in the log output"  # ...redacted


def test_apikey_in_query_strings_is_never_logged(server: ServerProcess) -> None:
    key = server.first_key
    assert key is not None
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(3):
            assert client.get("/api/search", params={"apikey": key, "q": "x"}).status_code == 200
        resp = client.post(
            "/api/ingest", params={"apikey": key}, content=json.dumps({"title": "no hash"})
        )
        assert resp.status_code == 415
        resp = client.post(
            "/api/ingest",
            params={"apikey": key},
            json={"title": "x", "source": "s", "info_hash": "zz"},
        )
        assert resp.status_code == 400
        assert client.get(f"/api/torrents/{'0' * 39}x", params={"apikey": key}).status_code == 400
        assert client.get("/api/nowhere", params={"apikey": key}).status_code == 404
    assert server.stop() == 0
    assert server.output().count(key) == 1, server.output()
