"""Shared fixtures of the API source tests: local APIs on 127.0.0.1 and engines crawling them.

Each test module names the source it tests in a module constant `SITE`; the
fixtures open engines that crawl only that source, and close everything after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from engine.core import Core
from tests.conftest import SettingsFactory
from tests.engine.sources.api.local_api import LocalApi, Seen, close_core, open_core

Answer = Callable[[Seen], web.Response]
Serve = Callable[[Answer], Awaitable[LocalApi]]
OpenCore = Callable[..., Core]


@pytest.fixture
async def served() -> AsyncIterator[Serve]:
    """Start local APIs answering with a given function; closed after the test."""
    apis: list[LocalApi] = []

    async def serve(answer: Answer) -> LocalApi:
        api = await LocalApi(answer).start()
        apis.append(api)
        return api

    yield serve
    for api in apis:
        await api.close()


@pytest.fixture
async def cores(
    request: pytest.FixtureRequest, make_settings: SettingsFactory, database_url: str
) -> AsyncIterator[OpenCore]:
    """Open engines crawling only the module's `SITE` at a given URL; closed after the test."""
    site_id: str = request.module.SITE
    opened: list[Core] = []

    def open_(url: str, **site: Any) -> Core:
        core = open_core(make_settings, database_url, site_id, url, **site)
        opened.append(core)
        return core

    yield open_
    for core in opened:
        await close_core(core)


@pytest.fixture
def api_core(served: Serve, cores: OpenCore) -> Callable[..., Awaitable[tuple[LocalApi, Core]]]:
    """Start a local API answering with `answer`, and an engine crawling only it."""

    async def start(answer: Answer, **site: Any) -> tuple[LocalApi, Core]:
        api = await served(answer)
        return api, cores(api.url, **site)

    return start
