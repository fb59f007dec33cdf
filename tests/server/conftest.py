"""Fixtures for the HTTP API tests: the real aiohttp app over a real `Core`.

Every test runs on SQLite and (when MINATO_TEST_DATABASE_URL is set) PostgreSQL,
through the shared `core` fixture of tests/conftest.py. `api` is a client that
sends a valid API key unless told otherwise; `drain` brings the search index up
to date with the database, as the running server's drainer would.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from engine.core import Core
from server.app import make_app

TORRENTS = Path(__file__).resolve().parent.parent / "fixtures" / "torrents"
MAX_BODY = 32 * 1024 * 1024  # room for the 100k+1-record bulk body
JSON_TYPE = "application/json"
NDJSON_TYPE = "application/x-ndjson"
TORRENT_TYPE = "application/x-bittorrent"


def info_hash(text: str) -> str:
    """A deterministic, realistic 40-hex info hash for a test record."""
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def record(title: str, source: str = "1337x", **fields: Any) -> dict[str, Any]:
    """An ingest record with a hash derived from its title."""
    return {"info_hash": info_hash(title), "title": title, "source": source, **fields}


def ndjson(records: list[Any]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


@dataclass
class Api:
    """A test client bound to one app, with helpers that add the API key."""

    client: TestClient[Any, Any]
    key: str
    core: Core

    def headers(self, auth: bool = True, content_type: str | None = None) -> dict[str, str]:
        headers = {"X-Api-Key": self.key} if auth else {}
        if content_type is not None:
            headers["Content-Type"] = content_type
        return headers

    async def get(self, path: str, *, auth: bool = True, **kwargs: Any) -> ClientResponse:
        return await self.client.get(path, headers=self.headers(auth), **kwargs)

    async def post(
        self, path: str, body: bytes | str, content_type: str = JSON_TYPE, *, auth: bool = True
    ) -> ClientResponse:
        headers = self.headers(auth, content_type)
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        # BytesIO: aiohttp warns (an error here) about large raw-bytes bodies.
        return await self.client.post(path, data=io.BytesIO(raw), headers=headers)

    async def ingest(self, rec: Any) -> dict[str, Any]:
        """POST one record; it must be accepted."""
        resp = await self.post("/api/ingest", json.dumps(rec))
        assert resp.status == 200, await resp.text()
        return await resp.json()  # type: ignore[no-any-return]

    async def bulk(self, records: list[Any]) -> dict[str, Any]:
        """POST a JSON array; the request must be accepted (rejections are in the answer)."""
        resp = await self.post("/api/ingest/bulk", json.dumps(records))
        assert resp.status == 200, await resp.text()
        return await resp.json()  # type: ignore[no-any-return]

    async def detail(self, hash_: str) -> dict[str, Any]:
        resp = await self.get(f"/api/torrents/{hash_}")
        assert resp.status == 200, await resp.text()
        return await resp.json()  # type: ignore[no-any-return]

    async def search(self, **params: Any) -> dict[str, Any]:
        resp = await self.get("/api/search", params={k: str(v) for k, v in params.items()})
        assert resp.status == 200, await resp.text()
        return await resp.json()  # type: ignore[no-any-return]

    async def drain(self) -> None:
        """Index everything committed so far (what the server's drainer does)."""
        await asyncio.to_thread(self.core.drainer.drain_all)

    async def health(self) -> dict[str, Any]:
        resp = await self.client.get("/api/health")
        assert resp.status == 200, await resp.text()
        return await resp.json()  # type: ignore[no-any-return]


ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ApiFactory = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_api(aiohttp_client: ClientFactory) -> ApiFactory:
    """Build an `Api` over a core with a given body limit."""

    async def make(core: Core, max_body_bytes: int = MAX_BODY) -> Api:
        app = make_app(core.services, max_body_bytes=max_body_bytes)
        client = await aiohttp_client(app)
        key = (await core.services.keys.create("tests")).secret
        return Api(client=client, key=key, core=core)

    return make


@pytest.fixture
async def api(make_api: ApiFactory, core: Core) -> Api:
    """The API over the shared `core` (each database kind), with a fresh, valid key."""
    return await make_api(core)


async def error_of(resp: ClientResponse, status: int) -> dict[str, Any]:
    """Assert the one JSON error shape and status; return the `error` object."""
    text = await resp.text()
    assert resp.status == status, text
    assert resp.content_type == JSON_TYPE, text
    body = json.loads(text)
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["type"], str)
    assert isinstance(error["message"], str)
    assert error["message"]
    return error  # type: ignore[no-any-return]


# --- a real `minato serve` process (used here and by tests/test_crash_recovery.py) ----------

MINATO = Path(sys.executable).with_name("minato")  # the console script of this venv
_SERVING = re.compile(r"serving on (http://[\w.]+:(\d+))")
_FIRST_KEY = "First start: created API key"


class ServerProcess:
    """`minato serve --port 0` in its own process, its output collected line by line."""

    def __init__(self, data_dir: Path, config: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.config = config
        self.env = env
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.url = ""
        self.first_key: str | None = None
        self._reader: threading.Thread | None = None

    def start(self, timeout_s: float = 60.0) -> ServerProcess:
        """Start and wait until it prints the bound address; read the first-start key."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("MINATO_")}
        env["MINATO_CRAWL__ENABLED"] = "false"  # the built-in sites are public hosts
        env["MINATO_ENRICH__ENABLED"] = "false"  # so are TMDb, AniList and MusicBrainz
        env.update(
            MINATO_DATA_DIR=str(self.data_dir),
            MINATO_CONFIG=str(self.config),
            PYTHONUNBUFFERED="1",
            **self.env,
        )
        self.lines = []
        self.url = ""
        self.first_key = None
        self.proc = subprocess.Popen(
            [str(MINATO), "serve", "--port", "0"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,  # its own process group: close() can reap its children
        )
        self._reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout_s
        while not self.url:
            if self.proc.poll() is not None:
                raise AssertionError(f"minato serve exited early:\n{self.output()}")
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"minato serve did not start:\n{self.output()}")
            time.sleep(0.05)
        return self

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        with proc.stdout:
            for line in proc.stdout:
                line = line.rstrip("\n")
                if self.lines and self.lines[-1].startswith(_FIRST_KEY):
                    self.first_key = line.strip()
                self.lines.append(line)
                if not self.url and (match := _SERVING.search(line)):
                    self.url = match.group(1)

    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM, then wait for the exit code (and the last of the output)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout_s)
        if self._reader is not None:
            self._reader.join(timeout=10)
        return code

    def kill(self) -> None:
        """SIGKILL the server process alone: no cleanup of any kind (a crash)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._reap()

    def close(self) -> None:
        """Teardown: stop the server if it still runs, and reap anything it left behind."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=30)
        self._reap()

    def _reap(self) -> None:
        # Classifier worker processes outlive a SIGKILLed server; end its group (its own).
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        if self._reader is not None:
            self._reader.join(timeout=10)


def minato_cli(data_dir: Path, config: Path, *args: str, **env: str) -> str:
    """Run a `minato` command on a data dir; returns its stdout."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("MINATO_")}
    full["MINATO_CRAWL__ENABLED"] = "false"  # the built-in sites are public hosts
    full["MINATO_ENRICH__ENABLED"] = "false"  # so are TMDb, AniList and MusicBrainz
    full.update(MINATO_DATA_DIR=str(data_dir), MINATO_CONFIG=str(config), **env)
    done = subprocess.run(
        [str(MINATO), *args], env=full, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
