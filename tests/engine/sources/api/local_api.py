"""A JSON API on 127.0.0.1 for the API sources' end-to-end tests, and a Core pointed at it.

`LocalApi` records every request (method, path with query, decoded JSON body)
and answers each with what the test's `answer` function returns, so a test
serves saved answers at the paths the source really asks for and checks what
was sent. `open_core` opens an engine whose only enabled site is the API under
test, its one mirror the local server.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from engine.core import Core
from engine.services import parse_search_params
from tests.conftest import SettingsFactory
from tests.crawl_support import only_sites
from tests.site_server import serve


@dataclass(frozen=True, slots=True)
class Seen:
    """One request the server received."""

    method: str
    path_qs: str
    body: Any
    """The decoded JSON body, or None when there was none."""


Answer = Callable[[Seen], web.Response]


def json_answer(data: Any) -> web.Response:
    """A 200 answer with `data` as JSON."""
    return web.Response(text=json.dumps(data), content_type="application/json")


class LocalApi:
    """An API mirror: `answer(seen)` decides each response; `seen` lists every request."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.seen: list[Seen] = []
        self.url = ""
        self._server: TestServer | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        seen = Seen(request.method, request.path_qs, json.loads(raw) if raw else None)
        self.seen.append(seen)
        return self.answer(seen)

    async def start(self) -> LocalApi:
        self._server, self.url = await serve(self._handle, "*")
        return self

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()


def open_core(
    make_settings: SettingsFactory, database_url: str, site_id: str, url: str, **site: Any
) -> Core:
    """An engine crawling only `site_id`, at `url`, without waits between requests."""
    values = only_sites({site_id: {"mirrors": [url], "min_interval_s": 0, **site}})
    return Core.open(make_settings(database_url, **values, **{"pipeline.classify": True}))


async def close_core(core: Core) -> None:
    """Close an engine opened by `open_core`."""
    await core.aclose()


def hits(core: Core, **params: str) -> list[Any]:
    """Search hits once everything stored is indexed."""
    core.services.status.drain_index()
    return list(core.services.search.search_sync(parse_search_params(params)).hits)
