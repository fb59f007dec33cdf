"""A real HTTP server on 127.0.0.1 that answers like the services, from recorded answers.

`service` is a `FakeService`: routes by (method, path) to a responder, records every
request (headers, query, body) and fails the test on a request it has no route for.
`clock` is a fake monotonic clock whose `sleep` only advances it, so rate limiters
are checked without waiting. Every test here also fails if anything calls
`requests` (tmdbsimple's own HTTP library): all traffic must be httpx's.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests
import requests.adapters
import tmdbsimple  # type: ignore[import-untyped]

from engine.enrich.http import make_client

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "enrichment"
CONTACT = "https://github.com/example/minato"


def fixture_bytes(name: str) -> bytes:
    """A recorded answer, byte for byte."""
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    """A recorded answer, parsed."""
    return json.loads(fixture_bytes(name))


@dataclass
class Seen:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    """What the server sends back; `body` may be bytes, str, or anything JSON."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_length: bool = True  # False: no Content-Length, body ends when the connection closes
    gzip: bool = False
    hang: threading.Event | None = None  # wait for this, then close without answering

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            data = self.body
        elif isinstance(self.body, str):
            data = self.body.encode()
        else:
            data = json.dumps(self.body).encode()
        return gzip.compress(data) if self.gzip else data


Responder = Callable[[Seen], Reply]


class FakeService:
    """The routes and the record of one test's server."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.routes: dict[tuple[str, str], Responder] = {}
        self.seen: list[Seen] = []
        self.unrouted: list[Seen] = []
        self.lock = threading.Lock()

    def route(self, method: str, path: str, responder: Responder | Reply) -> None:
        if isinstance(responder, Reply):
            fixed = responder
            self.routes[(method, path)] = lambda _seen: fixed
        else:
            self.routes[(method, path)] = responder

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    service: FakeService

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads `service.seen` instead."""

    def _answer(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        service = self.service
        with service.lock:
            service.seen.append(seen)
            responder = service.routes.get((self.command, split.path))
            if responder is None:
                service.unrouted.append(seen)
        reply = responder(seen) if responder else Reply(404, {"error": "no route in the test"})
        if reply.hang is not None:
            reply.hang.wait(10)
            self.close_connection = True
            return
        payload = reply.payload()
        self.send_response(reply.status)
        headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
        if reply.gzip:
            headers["Content-Encoding"] = "gzip"
        for name, value in headers.items():
            self.send_header(name, value)
        if reply.content_length:
            self.send_header("Content-Length", str(len(payload)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that gave up (timeout tests) breaks the pipe on purpose."""


@pytest.fixture
def service() -> Iterator[FakeService]:
    """A fresh local server; fails the test if a request hit no route."""
    server = _QuietServer(("127.0.0.1", 0), _Handler)
    port = server.server_address[1]
    fake = FakeService(f"http://127.0.0.1:{port}")
    handler: type[_Handler] = type("Handler", (_Handler,), {"service": fake})
    server.RequestHandlerClass = handler
    thread = threading.Thread(
        target=server.serve_forever, args=(0.01,), name="fake-service", daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert not fake.unrouted, [f"{s.method} {s.path}" for s in fake.unrouted]


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """The enrichment client as production makes it, with short timeouts."""
    with make_client(contact=CONTACT, timeout_s=3.0) as c:
        yield c


class FakeClock:
    """A monotonic clock that only moves when slept on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RequestsUsed(AssertionError):
    """Raised when anything sends a request through `requests` instead of httpx."""


@pytest.fixture(autouse=True)
def no_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every `requests` entry point raises, and is recorded: no call path may fall back to it."""
    calls: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        url = next((a for a in args if isinstance(a, str) and "://" in a), kwargs.get("url"))
        calls.append(str(url))
        raise RequestsUsed(f"requests was used for {url}")

    monkeypatch.setattr(requests, "request", refuse)
    monkeypatch.setattr(requests.api, "request", refuse)
    monkeypatch.setattr(requests.Session, "request", refuse)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", refuse)
    # tmdbsimple's globals are process-wide: restore them after each test.
    monkeypatch.setattr(tmdbsimple, "API_KEY", tmdbsimple.API_KEY)
    monkeypatch.setattr(tmdbsimple, "REQUESTS_SESSION", None)
    return calls
