"""ClientPool: one httpx.AsyncClient per proxy (or direct), and `fetch`, the bounded read.

Every request to a site goes through a client from here, so they all share the same
settings: the stack's User-Agent, connect/read/write/pool timeouts, connection
limits, redirects followed, gzip/deflate/brotli decoded by httpx, and `trust_env`
off, so an HTTP_PROXY or ALL_PROXY in the environment never routes (or leaks) a
crawl the settings say goes direct or through another proxy. A client is keyed by
proxy name because httpx binds the proxy to the client, and reusing it keeps the
proxy's connections alive across requests.

`fetch` streams the body and stops as soon as it passes `max_bytes` (after
decompression, so a small gzip bomb cannot fill memory), and puts a deadline on the
response head, which httpx alone does not guarantee through a SOCKS proxy.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

import httpx
import socksio

from engine.errors import ResponseTooLarge
from engine.logs import redact
from engine.net.proxies import Proxy

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=10.0)
"""Connect is short (a live site or proxy answers fast); read allows a slow, big page."""

DEFAULT_LIMITS = httpx.Limits(
    max_connections=20, max_keepalive_connections=10, keepalive_expiry=30.0
)
"""Per client, so per proxy; politeness (one request per host every few seconds) keeps
real use far below this."""

MAX_REDIRECTS = 10
"""Mirrors redirect once or twice (http -> https, old domain -> new); ten is a loop."""

_SOCKS_AUTH = re.compile(r"\bauth=.*", re.DOTALL)


class _HideSocksAuth(logging.Filter):
    """Masks the SOCKS5 credentials httpcore puts in its DEBUG trace.

    httpcore logs `setup_socks5_connection.started ... auth=(b'user', b'password')`
    on the "httpcore.socks" logger (httpcore/_async/socks_proxy.py, via _trace.py);
    with DEBUG logging on, every proxied connection would write the password out.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        message = record.getMessage()
        masked = _SOCKS_AUTH.sub("auth=(***)", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def hide_socks_credentials_in_logs() -> None:
    """Install `_HideSocksAuth` on httpcore's SOCKS logger, once per process."""
    socks_log = logging.getLogger("httpcore.socks")
    if not any(isinstance(f, _HideSocksAuth) for f in socks_log.filters):
        socks_log.addFilter(_HideSocksAuth())


class ClientPool:
    """Builds and caches one `httpx.AsyncClient` per proxy name (None: direct).

    Close it with `aclose()` (or use it as an async context manager) on the loop
    that used the clients.
    """

    def __init__(
        self,
        *,
        user_agent: str,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        """Keep the settings every client gets; no client is built before it is asked for."""
        self._user_agent = user_agent
        self._timeout = timeout
        self._limits = limits
        self._max_redirects = max_redirects
        self._clients: dict[str | None, tuple[Proxy | None, httpx.AsyncClient]] = {}
        self._closed = False
        hide_socks_credentials_in_logs()

    def client_for(self, proxy: Proxy | None) -> httpx.AsyncClient:
        """The client that sends through `proxy` (None: directly), built on first use.

        Raises:
            RuntimeError: the pool is closed.
            ValueError: another proxy with this name (a different URL) was used before;
                build a new pool when the proxy settings change.
        """
        if self._closed:
            raise RuntimeError("ClientPool is closed")
        key = None if proxy is None else proxy.name
        cached = self._clients.get(key)
        if cached is not None:
            if cached[0] != proxy:
                raise ValueError(f"proxy {key!r} changed; build a new ClientPool for new settings")
            return cached[1]
        client = httpx.AsyncClient(
            proxy=None if proxy is None else proxy.url,
            headers={"User-Agent": self._user_agent},
            timeout=self._timeout,
            limits=self._limits,
            follow_redirects=True,
            max_redirects=self._max_redirects,
            trust_env=False,
        )
        self._clients[key] = (proxy, client)
        return client

    async def aclose(self) -> None:
        """Close every client (their connections to sites and proxies); idempotent."""
        self._closed = True
        clients = [client for _, client in self._clients.values()]
        self._clients.clear()
        for client in clients:
            await client.aclose()

    async def __aenter__(self) -> ClientPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchedResponse:
    """A whole answer, read within the size limit.

    Attributes:
        status: the HTTP status of the last response (after redirects).
        headers: its headers (case-insensitive lookup).
        url: the final URL, after redirects.
        body: the body, decoded from gzip/deflate/brotli.
        encoding: the charset the Content-Type names, if any.
        elapsed_s: seconds from sending the first request to the body's end.
    """

    status: int
    headers: httpx.Headers
    url: str
    body: bytes
    encoding: str | None
    elapsed_s: float


async def fetch(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    max_bytes: int,
    headers: Mapping[str, str] | None = None,
    site: str = "",
    deadline_s: float | None = None,
    content: bytes | None = None,
) -> FetchedResponse:
    """Send one request (following redirects) and read the body, at most `max_bytes` of it.

    A Content-Length over the limit is refused before reading; a body without one
    (chunked, or until close) is refused as soon as it passes the limit. Statuses are
    returned, not raised: the caller decides what a 404 or a 503 means.

    Args:
        client: from `ClientPool.client_for`.
        method: "GET", "HEAD", ...
        url: the absolute URL.
        max_bytes: the largest decoded body accepted.
        headers: extra request headers.
        site: the source id, for error messages.
        deadline_s: the longest wait for the response head, redirects included; None
            means the sum of the client's connect, write, read and pool timeouts.
            httpcore reads the SOCKS5 handshake without any timeout, so a proxy that
            accepts the connection and then stays silent would otherwise hang the
            crawl forever.
        content: the request body (a POST's JSON), if any.

    Raises:
        ResponseTooLarge: the body passed `max_bytes`.
        httpx.ConnectTimeout: no response head within the deadline (the message says so).
        httpx.ProxyError: the SOCKS5 proxy answered something that is not SOCKS5
            (httpx lets `socksio` errors out unwrapped; they are wrapped here).
        httpx.HTTPError: any other transport failure, as httpx raises it.
    """
    request = client.build_request(method, url, headers=headers, content=content)
    limit = _head_deadline(client.timeout) if deadline_s is None else deadline_s
    started = time.perf_counter()
    head_deadline = asyncio.timeout(limit)
    try:
        async with head_deadline:
            response = await client.send(request, stream=True)
    except TimeoutError as exc:
        if not head_deadline.expired():
            raise
        raise httpx.ConnectTimeout(
            f"no response head within {limit:.1f} s (a proxy that accepts connections"
            " but never answers, or a site that never replies)",
            request=request,
        ) from exc
    except socksio.SOCKSError as exc:
        raise httpx.ProxyError(f"the SOCKS5 proxy answered badly: {exc}", request=request) from exc
    try:
        body = await _read_limited(response, max_bytes, site)
    finally:
        await response.aclose()
    return FetchedResponse(
        status=response.status_code,
        headers=response.headers,
        url=str(response.url),
        body=body,
        encoding=response.charset_encoding,
        elapsed_s=time.perf_counter() - started,
    )


async def _read_limited(response: httpx.Response, max_bytes: int, site: str) -> bytes:
    where = redact(str(response.url))
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge(
            site, f"{where}: Content-Length {declared} is over the {max_bytes}-byte limit"
        )
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > max_bytes:
            raise ResponseTooLarge(
                site, f"{where}: the body passed the {max_bytes}-byte limit; not read further"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _head_deadline(timeout: httpx.Timeout) -> float | None:
    """The default deadline: every phase's timeout added up; None if none is set."""
    phases = [t for t in (timeout.connect, timeout.write, timeout.read, timeout.pool) if t]
    return sum(phases) if phases else None
