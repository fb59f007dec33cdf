"""Shared fixtures of the network tests: a local origin site, a client pool, real proxies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from engine.net.clients import ClientPool
from tests.engine.net.proxy_servers import ProxyFarm, origin_app

USER_AGENT = "Minato-test/1.0"


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[ProxyFarm]:
    """pproxy processes on loopback, all killed at the end of the test."""
    made = ProxyFarm(tmp_path)
    yield made
    made.close()


@pytest.fixture
async def origin(aiohttp_server: AiohttpServer) -> TestServer:
    """The site behind the proxies (see `proxy_servers.origin_app`)."""
    server: TestServer = await aiohttp_server(origin_app())
    return server


@pytest.fixture
async def clients() -> AsyncIterator[ClientPool]:
    """A client pool with short timeouts and a recognisable User-Agent."""
    async with ClientPool(user_agent=USER_AGENT, timeout=httpx.Timeout(3.0)) as pool:
        yield pool
