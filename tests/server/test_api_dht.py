"""`/api/dht`: the DHT crawler's state and figures, start and stop, who may ask.

These tests never start a DHT node: the scheduler does not run in them, so a start
only records the choice (the end-to-end tests in tests/engine/dht run real nodes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from engine.core import Core
from engine.services.keys import ensure_internal_secret
from tests.conftest import SettingsFactory
from tests.crawl_support import only_sites
from tests.server.conftest import Api, ApiFactory, error_of


async def get_json(api: Api, path: str) -> Any:
    resp = await api.get(path)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_dht_is_reported_and_refused_when_crawling_is_off(api: Api) -> None:
    body = await get_json(api, "/api/dht")
    assert set(body) == {"crawler", "live", "figures"}
    assert body["crawler"]["id"] == "dht"
    assert body["crawler"]["state"] == "disabled"
    assert body["crawler"]["message"] == "disabled in the settings"
    assert body["live"] is False
    assert body["figures"]["fetched"] == 0
    assert body["figures"]["failures"] == 0
    error = await error_of(await api.post("/api/dht/start", b""), 409)
    assert error["type"] == "disabled"
    assert "[crawl] enabled" in error["message"]
    assert (await get_json(api, "/api/dht"))["crawler"]["enabled"] is False


@pytest.fixture
async def dht_core(
    make_settings: SettingsFactory, database_url: str
) -> AsyncIterator[Callable[[], Core]]:
    """Open cores on one database with crawling on, every site off, the DHT allowed."""
    opened: list[Core] = []
    values: dict[str, Any] = {**only_sites({"dht": {}}), "pipeline.classify": False}

    def open_() -> Core:
        core = Core.open(make_settings(database_url, **values))
        opened.append(core)
        return core

    yield open_
    for core in opened:
        await core.aclose()


async def test_start_and_stop_are_kept_across_a_restart(
    dht_core: Callable[[], Core], make_api: ApiFactory
) -> None:
    first = dht_core()
    api = await make_api(first)
    body = await get_json(api, "/api/dht")
    assert (body["crawler"]["state"], body["crawler"]["message"]) == (
        "disabled",
        "off until started",
    )
    started = await api.post("/api/dht/start", b"")
    assert started.status == 200, await started.text()
    assert (await started.json())["crawler"]["enabled"] is True
    await api.client.close()
    await first.aclose()

    second = dht_core()
    api = await make_api(second)
    assert (await get_json(api, "/api/dht"))["crawler"]["enabled"] is True  # the choice stays
    stopped = await api.post("/api/dht/stop", b"")
    assert stopped.status == 200, await stopped.text()
    assert (await stopped.json())["crawler"]["state"] == "disabled"
    await api.client.close()
    await second.aclose()

    third = dht_core()
    api = await make_api(third)
    body = await get_json(api, "/api/dht")
    assert (body["crawler"]["enabled"], body["crawler"]["message"]) == (False, "stopped")


async def test_the_internal_secret_opens_the_dht_routes_and_nothing_else(api: Api) -> None:
    settings = api.core.settings
    secret = ensure_internal_secret(settings.server.internal_secret, settings.data_path())
    headers = {"X-Internal-Secret": secret}
    resp = await api.client.get("/api/dht", headers=headers)
    assert resp.status == 200, await resp.text()
    await error_of(await api.client.get("/api/search", headers=headers), 401)
    await error_of(await api.client.get("/api/crawlers", headers=headers), 401)
    await error_of(await api.client.get("/api/dht", headers={"X-Internal-Secret": "x"}), 401)
    await error_of(await api.get("/api/dht", auth=False), 401)


async def test_odd_dht_requests_get_json_errors(api: Api) -> None:
    await error_of(await api.get("/api/dht/start"), 405)
    await error_of(await api.client.delete("/api/dht", headers=api.headers()), 405)
    await error_of(await api.post("/api/dht/restart", b""), 404)
    assert (await api.health())["status"] == "ok"
