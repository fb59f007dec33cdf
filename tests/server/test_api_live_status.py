"""`/api/search/live-status`, and live search as the engine wires it (`Core.services.live`).

A local 1337x (saved pages on 127.0.0.1) is the only site; the core's own live search
asks it, and the API shows what it answered. With `[crawl] enabled = false` (the test
default) a live search asks no site at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from engine.core import Core
from tests.conftest import SettingsFactory
from tests.crawl_support import only_sites
from tests.server.conftest import Api, ApiFactory, error_of
from tests.site_server import SiteServer

QUERY = "lion king"


@pytest.fixture
async def leetx() -> AsyncIterator[SiteServer]:
    site = await SiteServer(pages=1).start()
    yield site
    await site.close()


@pytest.fixture
async def live_api(
    leetx: SiteServer, make_settings: SettingsFactory, database_url: str, make_api: ApiFactory
) -> AsyncIterator[Api]:
    values: dict[str, Any] = only_sites({"1337x": {"mirrors": [leetx.url], "min_interval_s": 0}})
    core = Core.open(make_settings(database_url, **values, **{"pipeline.classify": False}))
    try:
        yield await make_api(core)
    finally:
        await core.aclose()


async def test_a_live_search_is_logged_and_shown(live_api: Api) -> None:
    assert live_api.core.crawling is not None
    assert await live_api.core.crawling.searchable_sources() == ["1337x"]
    answer = await live_api.core.services.live.run("Lion  KING")
    assert [(o.source, o.status.value) for o in answer.outcomes] == [("1337x", "answered")]
    assert answer.results == 20

    resp = await live_api.get("/api/search/live-status")
    assert resp.status == 200, await resp.text()
    searches = (await resp.json())["searches"]
    assert [(s["query"], s["source"], s["results"], s["error"]) for s in searches] == [
        (QUERY, "1337x", 20, None)
    ]
    assert searches[0]["new"] == 20
    assert searches[0]["late"] is False
    assert searches[0]["searched_at"].endswith("+00:00")
    assert await live_api.core.services.live.needs_live(QUERY, 25) is False  # asked just now

    only = await live_api.get("/api/search/live-status", params={"q": "LION king", "limit": "5"})
    assert len((await only.json())["searches"]) == 1
    other = await live_api.get("/api/search/live-status", params={"q": "dune"})
    assert (await other.json())["searches"] == []


async def test_with_crawling_off_a_live_search_asks_no_site(api: Api) -> None:
    assert api.core.crawling is not None
    assert await api.core.crawling.searchable_sources() == []
    answer = await api.core.services.live.run(QUERY)
    assert answer.outcomes == ()
    resp = await api.get("/api/search/live-status")
    assert (await resp.json())["searches"] == []


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"limit": "0"}, 400),
        ({"limit": "x"}, 400),
        ({"limit": "1001"}, 400),
        ({"q": "q" * 501}, 400),
    ],
)
async def test_bad_live_status_parameters_are_named(
    api: Api, params: dict[str, str], status: int
) -> None:
    error = await error_of(await api.get("/api/search/live-status", params=params), status)
    assert error["message"].split(":")[0] in params


async def test_live_status_needs_a_key(api: Api) -> None:
    await error_of(await api.get("/api/search/live-status", auth=False), 401)
