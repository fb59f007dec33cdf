"""Real proxies and a real origin on 127.0.0.1 for the network tests.

* `ProxyFarm` starts pproxy (pinned in the dev extras) as subprocesses: SOCKS5 or
  HTTP, with or without a user:password, each on its own free port. pproxy runs
  verbose and unbuffered into a log file, one line per tunnelled connection
  ("socks5 127.0.0.1:51234 -> 127.0.0.1:8080"), so a test can count the connections
  each proxy really carried to the origin. `--auth 0` makes pproxy ask for the
  credentials on every connection (by default it trusts an address that logged in
  once for 30 days, which would let a wrong password through after a right one).
* `origin_app()` is the site: small pages, compressed bodies, big and chunked
  bodies, a redirect. Every answer closes its connection, so every request opens a
  new one through the proxy and shows up in the proxy's log.
* `refusing_socks5_server` answers every SOCKS5 CONNECT with a reply code (what a
  real proxy says when it cannot reach the site), `silent_server` accepts TCP and
  never says a word (a proxy that hangs).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import brotli  # type: ignore[import-untyped]
from aiohttp import web

from tests.crawl_support import free_port

HOST = "127.0.0.1"
START_TIMEOUT_S = 15.0

PAGE_BYTES = 64
"""Size of every /page/{n} body."""


@dataclass
class ProxyServer:
    """One running pproxy."""

    kind: str  # "socks5" or "http"
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]
    user: str | None = None
    password: str | None = None

    def url(self, scheme: str | None = None) -> str:
        """The URL a client uses, with this proxy's own credentials (if it has any)."""
        own = f"{self.user}:{self.password}" if self.user is not None else None
        return self.url_with(own, scheme)

    def url_with(self, userinfo: str | None, scheme: str | None = None) -> str:
        """The URL with other credentials ("user:password"), or none at all (None)."""
        auth = f"{userinfo}@" if userinfo is not None else ""
        return f"{scheme or self.kind}://{auth}{HOST}:{self.port}"

    def log(self) -> str:
        """What pproxy wrote so far."""
        return self.log_path.read_text("utf-8", errors="replace")

    def connections_to(self, target: str) -> int:
        """How many connections this proxy opened to `target` ("host:port")."""
        return sum(1 for line in self.log().splitlines() if line.endswith(f"-> {target}"))

    def stop(self) -> None:
        """Kill the proxy and wait for it: its port refuses connections afterwards."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass
class ProxyFarm:
    """Starts pproxy processes and kills every one of them at `close()`."""

    workdir: Path
    servers: list[ProxyServer] = field(default_factory=list)

    def start(
        self,
        count: int = 1,
        *,
        kind: str = "socks5",
        user: str | None = None,
        password: str | None = None,
    ) -> list[ProxyServer]:
        """Start `count` proxies at once and return when all of them accept connections."""
        started = [self._spawn(kind, user, password) for _ in range(count)]
        deadline = time.monotonic() + START_TIMEOUT_S
        for server in started:
            _wait_until_listening(server, deadline)
        return started

    def _spawn(self, kind: str, user: str | None, password: str | None) -> ProxyServer:
        port = free_port()
        log_path = self.workdir / f"pproxy-{kind}-{port}.log"
        listen = f"{kind}://{HOST}:{port}" + (f"#{user}:{password}" if user is not None else "")
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-u", "-m", "pproxy", "-l", listen, "--auth", "0", "-v"],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = ProxyServer(kind, port, log_path, process, user, password)
        self.servers.append(server)
        return server

    def close(self) -> None:
        """Kill every proxy this farm started."""
        for server in self.servers:
            server.stop()


def _wait_until_listening(server: ProxyServer, deadline: float) -> None:
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"pproxy exited with {server.process.returncode}: {server.log()}")
        try:
            with socket.create_connection((HOST, server.port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


# --- the origin ------------------------------------------------------------------------

SEEN = web.AppKey("seen", list[str])


def origin_app() -> web.Application:
    """The site behind the proxies; `app[SEEN]` lists the paths it served, in order."""
    app = web.Application()
    app[SEEN] = []
    app.router.add_get("/page/{n}", _page)
    app.router.add_get("/gzip", _gzip)
    app.router.add_get("/brotli", _brotli)
    app.router.add_get("/gzip-bomb", _gzip_bomb)
    app.router.add_get("/big", _big)
    app.router.add_get("/chunked", _chunked)
    app.router.add_get("/redirect", _redirect)
    app.router.add_get("/headers", _headers)
    return app


def _closing(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    request.app[SEEN].append(request.path_qs)
    response.force_close()  # one connection per request: each shows up in the proxy log
    return response


async def _page(request: web.Request) -> web.StreamResponse:
    text = f"page {request.match_info['n']}".ljust(PAGE_BYTES, ".")
    return _closing(request, web.Response(text=text))


async def _gzip(request: web.Request) -> web.StreamResponse:
    body = gzip.compress(b"gzip " * 1000)
    return _closing(request, web.Response(body=body, headers={"Content-Encoding": "gzip"}))


async def _brotli(request: web.Request) -> web.StreamResponse:
    body = brotli.compress(b"brotli " * 1000)
    return _closing(request, web.Response(body=body, headers={"Content-Encoding": "br"}))


async def _gzip_bomb(request: web.Request) -> web.StreamResponse:
    body = gzip.compress(b"\0" * (4 * 1024 * 1024))  # ~4 kB on the wire, 4 MiB decoded
    return _closing(request, web.Response(body=body, headers={"Content-Encoding": "gzip"}))


async def _big(request: web.Request) -> web.StreamResponse:
    size = int(request.query["size"])
    return _closing(request, web.Response(body=b"x" * size))


async def _chunked(request: web.Request) -> web.StreamResponse:
    """`size` bytes in 16 KiB chunks, with no Content-Length."""
    size = int(request.query["size"])
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    _closing(request, response)
    await response.prepare(request)
    sent = 0
    with contextlib.suppress(ConnectionError):  # the client hangs up at its limit
        while sent < size:
            chunk = b"y" * min(16 * 1024, size - sent)
            await response.write(chunk)
            sent += len(chunk)
        await response.write_eof()
    return response


async def _redirect(request: web.Request) -> web.StreamResponse:
    found = web.HTTPFound("/page/1")
    _closing(request, found)
    raise found


async def _headers(request: web.Request) -> web.StreamResponse:
    lines = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
    return _closing(request, web.Response(text=lines))


# --- misbehaving proxies ---------------------------------------------------------------


@contextlib.asynccontextmanager
async def refusing_socks5_server(reply_code: int) -> AsyncIterator[int]:
    """A SOCKS5 proxy (no auth) that answers every CONNECT with `reply_code`; yields its port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            _, count = await reader.readexactly(2)
            await reader.readexactly(count)
            writer.write(b"\x05\x00")  # no authentication
            _, _, _, atyp = await reader.readexactly(4)
            if atyp == 1:
                await reader.readexactly(4 + 2)
            elif atyp == 4:
                await reader.readexactly(16 + 2)
            else:
                (length,) = await reader.readexactly(1)
                await reader.readexactly(length + 2)
            writer.write(bytes([5, reply_code, 0, 1, 0, 0, 0, 0, 0, 0]))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, HOST, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A port whose connections the kernel accepts (backlog) but nobody ever answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen(16)
        yield sock.getsockname()[1]
