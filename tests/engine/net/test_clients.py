"""ClientPool and fetch against a real origin on 127.0.0.1: limits, decoding, environment."""

from __future__ import annotations

import logging
import time

import httpx
import pytest
from aiohttp.test_utils import TestServer

from engine.errors import ResponseTooLarge
from engine.net.clients import (
    ClientPool,
    FetchedResponse,
    _HideSocksAuth,
    fetch,
    hide_socks_credentials_in_logs,
)
from engine.net.proxies import Proxy
from tests.engine.net.proxy_servers import PAGE_BYTES, free_port, silent_server

LIMIT = 100 * 1024


async def get(
    clients: ClientPool, origin: TestServer, path: str, max_bytes: int = LIMIT
) -> FetchedResponse:
    return await fetch(
        clients.client_for(None), "GET", str(origin.make_url(path)), max_bytes=max_bytes, site="yts"
    )


async def test_one_client_per_proxy_built_once() -> None:
    pool = ClientPool(user_agent="x")
    a, b = Proxy("a", "socks5h://127.0.0.1:1"), Proxy("b", "http://127.0.0.1:2")

    direct = pool.client_for(None)
    via_a = pool.client_for(a)

    assert pool.client_for(None) is direct
    assert pool.client_for(Proxy("a", "socks5h://127.0.0.1:1")) is via_a
    assert len({id(direct), id(via_a), id(pool.client_for(b))}) == 3
    with pytest.raises(ValueError, match="proxy 'a' changed"):
        pool.client_for(Proxy("a", "socks5h://127.0.0.1:3"))

    await pool.aclose()

    assert direct.is_closed
    assert via_a.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        pool.client_for(None)
    await pool.aclose()  # idempotent


async def test_clients_share_the_stack_settings() -> None:
    timeout = httpx.Timeout(connect=1.0, read=2.0, write=3.0, pool=4.0)
    async with ClientPool(user_agent="Minato/9", timeout=timeout) as pool:
        client = pool.client_for(Proxy("a", "http://127.0.0.1:1"))
        assert client.headers["User-Agent"] == "Minato/9"
        assert client.timeout == timeout
        assert client.follow_redirects
        assert not client.trust_env


async def test_fetch_returns_status_headers_final_url_body_and_time(
    clients: ClientPool, origin: TestServer
) -> None:
    started = time.perf_counter()
    response = await get(clients, origin, "/redirect")

    assert response.status == 200
    assert response.url == str(origin.make_url("/page/1"))  # the redirect was followed
    assert response.body == b"page 1".ljust(PAGE_BYTES, b".")
    assert response.headers["content-type"].startswith("text/plain")
    assert response.encoding == "utf-8"
    assert 0 < response.elapsed_s <= time.perf_counter() - started


async def test_fetch_sends_the_user_agent_and_extra_headers(
    clients: ClientPool, origin: TestServer
) -> None:
    response = await fetch(
        clients.client_for(None),
        "GET",
        str(origin.make_url("/headers")),
        max_bytes=LIMIT,
        headers={"Referer": "https://example.org/"},
    )
    assert b"User-Agent: Minato-test/1.0" in response.body
    assert b"Referer: https://example.org/" in response.body


async def test_statuses_are_returned_not_raised(clients: ClientPool, origin: TestServer) -> None:
    assert (await get(clients, origin, "/missing")).status == 404


@pytest.mark.parametrize("path", ["/gzip", "/brotli"])
async def test_compressed_bodies_are_decoded(
    clients: ClientPool, origin: TestServer, path: str
) -> None:
    response = await get(clients, origin, path)
    word = path.strip("/").encode()
    assert response.headers["content-encoding"] in ("gzip", "br")
    assert response.body == (word + b" ") * 1000


async def test_a_body_exactly_at_the_limit_is_read(clients: ClientPool, origin: TestServer) -> None:
    assert len((await get(clients, origin, "/big?size=1000", max_bytes=1000)).body) == 1000


async def test_a_content_length_over_the_limit_is_refused_before_reading(
    clients: ClientPool, origin: TestServer
) -> None:
    with pytest.raises(ResponseTooLarge) as caught:
        await get(clients, origin, "/big?size=1001", max_bytes=1000)
    assert str(caught.value) == (
        f"yts: {origin.make_url('/big?size=1001')}: Content-Length 1001 is over the 1000-byte limit"
    )


async def test_a_chunked_body_is_cut_as_soon_as_it_passes_the_limit(
    clients: ClientPool, origin: TestServer
) -> None:
    started = time.perf_counter()
    with pytest.raises(ResponseTooLarge, match="passed the 102400-byte limit; not read further"):
        await get(clients, origin, f"/chunked?size={512 * 1024 * 1024}")  # 512 MiB on offer
    assert time.perf_counter() - started < 5


async def test_the_limit_counts_decoded_bytes(clients: ClientPool, origin: TestServer) -> None:
    with pytest.raises(ResponseTooLarge, match="passed the 102400-byte limit"):
        await get(clients, origin, "/gzip-bomb")  # ~4 kB on the wire


async def test_environment_proxies_are_ignored(
    clients: ClientPool, origin: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.setenv(name, dead)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    url = str(origin.make_url("/page/1"))

    async with httpx.AsyncClient() as trusting:  # the control: httpx's default obeys them
        with pytest.raises(httpx.ConnectError):
            await trusting.get(url)
    response = await fetch(clients.client_for(None), "GET", url, max_bytes=LIMIT)

    assert response.status == 200


async def test_a_response_head_that_never_comes_hits_the_deadline(clients: ClientPool) -> None:
    with silent_server() as port:
        started = time.perf_counter()
        with pytest.raises(httpx.ConnectTimeout, match=r"no response head within 0\.3 s"):
            await fetch(
                clients.client_for(None),
                "GET",
                f"http://127.0.0.1:{port}/",
                max_bytes=1,
                deadline_s=0.3,
            )
    assert time.perf_counter() - started < 2


async def test_httpx_timeouts_still_fire_before_the_deadline() -> None:
    timeout = httpx.Timeout(connect=0.1, read=0.2, write=0.1, pool=0.1)
    async with ClientPool(user_agent="x", timeout=timeout) as pool:
        # httpx's own read timeout fires first here: the deadline is a backstop
        with silent_server() as port, pytest.raises(httpx.ReadTimeout):
            await fetch(pool.client_for(None), "GET", f"http://127.0.0.1:{port}/", max_bytes=1)


def test_the_socks_credentials_filter_is_installed_once() -> None:
    hide_socks_credentials_in_logs()
    hide_socks_credentials_in_logs()
    socks_log = logging.getLogger("httpcore.socks")
    (installed,) = [f for f in socks_log.filters if isinstance(f, _HideSocksAuth)]
    record = logging.LogRecord(
        "httpcore.socks",
        logging.DEBUG,
        __file__,
        1,
        "setup_socks5_connection.started stream=<s> host='h' port=1 auth=(b'u', b'p)w')",
        None,
        None,
    )
    assert installed.filter(record)
    assert (
        record.getMessage()
        == "setup_socks5_connection.started stream=<s> host='h' port=1 auth=(***)"
    )
