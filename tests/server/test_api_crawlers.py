"""The crawler and site routes over the live app: `/api/crawlers`, `/api/sites`, mirrors.

What users depend on: a running Minato checks its sites' mirrors at start and the
API shows which answer and how fast; crawlers are listed, started and stopped over
HTTP with an API key; proxy passwords never appear; and no id a client can send
(unknown, with slashes, unicode, control characters, huge) gets anything but a JSON
404 while the server stays up. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from yarl import URL

from engine.config import ProxySettings
from engine.core import Core
from tests.conftest import SettingsFactory
from tests.crawl_support import closed_url, counting_job, only_sites, register
from tests.server.conftest import Api, ApiFactory, error_of

PROXY_PASSWORD = "pr0xy-s3cret"  # noqa: S105 - a test value that must never be shown
ROUTES = (
    ("GET", "/api/sites"),
    ("GET", "/api/sites/yts/mirrors"),
    ("GET", "/api/crawlers"),
    ("POST", "/api/crawlers/yts/start"),
    ("POST", "/api/crawlers/yts/stop"),
)


@pytest.fixture
def open_core(
    make_settings: SettingsFactory, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """Open a core with a counting "yts" crawler registered; closed after the test."""
    opened: list[Core] = []

    def open_(runs: list[str], **overrides: Any) -> Core:
        register(monkeypatch, {"yts": counting_job(runs)})
        settings = make_settings(database_url, **{"pipeline.classify": False, **overrides})
        settings = settings.model_copy(
            update={
                "proxies": [
                    ProxySettings(name="tor", url=f"socks5h://alice:{PROXY_PASSWORD}@127.0.0.1:9")
                ]
            }
        )
        core = Core.open(settings)
        opened.append(core)
        return core

    yield open_
    for core in opened:
        core.close()


@pytest.fixture
async def api(open_core: Any, make_api: ApiFactory) -> Api:
    """The API over a core with crawling off (make_settings): nothing is sent to any site."""
    return await make_api(open_core([], **{"sites.yts": {"proxy": ["tor"]}}))


async def get_json(api: Api, path: str, status: int = 200) -> Any:
    resp = await api.get(path)
    text = await resp.text()
    assert resp.status == status, text
    assert resp.content_type == "application/json"
    return json.loads(text)


async def post_json(api: Api, path: str) -> Any:
    resp = await api.client.post(path, headers=api.headers())
    text = await resp.text()
    assert resp.status == 200, text
    return json.loads(text)


async def until(check: Callable[[], Awaitable[bool]], what: str, within_s: float = 20.0) -> None:
    for _ in range(int(within_s / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# --- a running core: real mirror checks on 127.0.0.1, a crawler, a clean stop ------------------


async def test_a_running_core_checks_mirrors_and_the_api_shows_them(
    open_core: Any, make_api: ApiFactory, local_sites: Any
) -> None:
    up, failing = await local_sites(), await local_sites(500)
    refused = closed_url()
    runs: list[str] = []
    yts = {"mirrors": [refused, failing.url, up.url], "health_path": "/api/v2/ping?limit=1"}
    core = open_core(runs, **only_sites({"yts": yts}))
    assert core.crawling is not None
    assert core.crawling.health is not None
    assert [r.site for r in core.crawling.health.resolvers] == ["yts"]  # nothing public
    api = await make_api(core)
    task = asyncio.create_task(core.run())
    try:

        async def checked() -> bool:
            body = await get_json(api, "/api/sites")
            return body["mirror_checks"]["last_round_at"] is not None and bool(runs)

        await until(checked, "the first mirror check and the first crawl")
        body = await get_json(api, "/api/sites/yts/mirrors")
        assert body["site"] == "yts"
        assert body["current"] == up.url
        mirrors = {m["url"]: m for m in body["mirrors"]}
        assert [m["url"] for m in body["mirrors"]] == [refused, failing.url, up.url]
        live = mirrors[up.url]
        assert (live["online"], live["usable"], live["chosen"], live["position"]) == (
            True,
            True,
            True,
            2,
        )
        assert isinstance(live["latency_ms"], float)
        assert live["latency_ms"] >= 0
        assert live["checked_at"] is not None
        [check] = live["history"]
        assert (check["online"], check["status"], check["error"]) == (True, 200, None)
        assert (mirrors[failing.url]["online"], mirrors[failing.url]["last_error"]) == (
            False,
            "HTTP 500",
        )
        assert mirrors[refused]["online"] is False
        assert "ConnectError" in mirrors[refused]["last_error"]
        assert up.paths == ["/api/v2/ping?limit=1"]  # the site's health path, once

        listing = await get_json(api, "/api/sites")
        site = next(s for s in listing["sites"] if s["id"] == "yts")
        assert (site["current_mirror"], site["mirrors"], site["mirrors_online"]) == (up.url, 3, 1)
        assert site["crawler"] in ("idle", "running")
        assert listing["mirror_checks"]["enabled"] is True
        assert listing["mirror_checks"]["every_s"] == 900.0

        crawlers = [c for c in (await get_json(api, "/api/crawlers"))["crawlers"] if c["runs"]]
        assert [(c["id"], c["runs"], c["items_total"]) for c in crawlers] == [("yts", 1, 3)]
        assert crawlers[0]["state"] == "idle"
        assert crawlers[0]["next_run_at"] is not None
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert task.cancelled()
    with pytest.raises(RuntimeError, match="closed"):
        core.crawling.deps.pool.client_for(None)  # closed with the work of the loop
    [saved] = [s for s in core.services.crawlers.saved_statuses() if s.runs]
    assert (saved.source, saved.runs, saved.items_total) == ("yts", 1, 3)


# --- crawlers -----------------------------------------------------------------------------------


async def test_crawlers_are_listed_stopped_and_started(
    open_core: Any, make_api: ApiFactory
) -> None:
    runs: list[str] = []
    core = open_core(runs, **only_sites({"yts": {"mirrors": ["https://yts.example"]}}))
    assert core.crawling is not None
    api = await make_api(core)
    scheduler = asyncio.create_task(core.crawling.scheduler.run())  # no mirror checks
    try:
        await until(lambda: asyncio.sleep(0, bool(runs)), "the first crawl")
        stopped = await post_json(api, "/api/crawlers/yts/stop")
        assert (stopped["id"], stopped["state"], stopped["enabled"]) == ("yts", "disabled", False)
        assert stopped["message"] == "stopped"
        assert set(stopped) == {
            "id", "state", "enabled", "message", "last_heartbeat", "started_at", "finished_at",
            "last_duration_s", "items_seen", "items_new", "items_total", "runs",
            "consecutive_failures", "next_run_at", "last_error",
        }  # fmt: skip
        listed = (await get_json(api, "/api/crawlers"))["crawlers"]
        assert ("yts", "disabled") in [(c["id"], c["state"]) for c in listed]
        assert [c["id"] for c in listed if c["enabled"]] == []  # the HTML sites are off here

        started = await post_json(api, "/api/crawlers/yts/start")
        assert started["enabled"] is True
        await until(lambda: asyncio.sleep(0, len(runs) == 2), "the crawl started by the API")
        assert runs == ["yts#1", "yts#2"]
    finally:
        scheduler.cancel()
        with pytest.raises(asyncio.CancelledError):
            await scheduler


async def test_a_crawler_off_in_the_settings_stays_off(api: Api) -> None:
    # make_settings turns crawling off: the crawler exists, disabled, and start does not run it
    crawlers = (await get_json(api, "/api/crawlers"))["crawlers"]
    [listed] = [c for c in crawlers if c["id"] == "yts"]
    assert (listed["id"], listed["state"], listed["message"]) == (
        "yts",
        "disabled",
        "disabled in the settings",
    )
    started = await post_json(api, "/api/crawlers/yts/start")
    assert started["state"] == "disabled"


# --- sites ----------------------------------------------------------------------------------


async def test_sites_list_every_site_and_never_a_proxy_password(api: Api) -> None:
    resp = await api.get("/api/sites")
    text = await resp.text()
    assert resp.status == 200, text
    assert PROXY_PASSWORD not in text
    body = json.loads(text)
    assert set(body) == {"sites", "proxies", "mirror_checks"}
    ids = [s["id"] for s in body["sites"]]
    assert ids == sorted(ids)
    assert {"1337x", "thepiratebay", "eztv", "yts", "knaben", "apibay", "dht"} <= set(ids)
    yts = next(s for s in body["sites"] if s["id"] == "yts")
    assert yts == {
        "id": "yts",
        "kind": "api",
        "enabled": True,
        "every_s": 3600.0,
        "proxy": ["tor"],
        "current_mirror": "https://yts.gg",
        "mirrors": 3,
        "mirrors_online": 0,
        "checked_at": None,
        "breaker": {"state": "closed", "consecutive_failures": 0, "retry_after_s": 0.0},
        "crawler": "disabled",
    }
    assert body["proxies"] == [
        {
            "name": "tor",
            "url": "socks5h://alice:***@127.0.0.1:9",
            "healthy": True,
            "cooling_s": 0.0,
            "consecutive_failures": 0,
            "last_error": None,
            "chosen": 0,
        }
    ]
    assert body["mirror_checks"] == {"enabled": False, "every_s": 900.0, "last_round_at": None}


async def test_a_sites_mirrors_before_any_check(api: Api) -> None:
    body = await get_json(api, "/api/sites/yts/mirrors?history=5")
    assert body["current"] == "https://yts.gg"
    assert [(m["url"], m["online"], m["history"]) for m in body["mirrors"]] == [
        ("https://yts.gg", None, []),
        ("https://yts.proxyninja.org", None, []),
        ("https://yts.torrentbay.st", None, []),
    ]
    assert (await get_json(api, "/api/sites/dht/mirrors")) == {
        "site": "dht",
        "current": None,
        "mirrors": [],
    }


@pytest.mark.parametrize("history", ["-1", "101", "ten", "1e3", "", "٣", "9" * 5000])
async def test_a_bad_history_parameter_is_a_400(api: Api, history: str) -> None:
    resp = await api.get("/api/sites/yts/mirrors", params={"history": history})
    error = await error_of(resp, 400)
    assert error["message"].startswith("history:")


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_route_needs_an_api_key(api: Api, method: str, path: str) -> None:
    await error_of(await api.client.request(method, path), 401)
    resp = await api.client.request(method, path, headers={"X-Api-Key": "wrong"})
    await error_of(resp, 401)


# --- hostile ids ---------------------------------------------------------------------------------

HOSTILE_IDS = [
    "nope",
    "YTS",
    "yts%2Fmirrors",
    "..",
    "%2E%2E",
    "..%2F..%2Fetc%2Fpasswd",
    "%C3%BC%C3%9F",  # üß
    "%F0%9F%A7%B2",  # an emoji
    "%FF%FE",  # not UTF-8
    "%00",
    "%0D%0AX-Injected:%201",
    "yts%20",
    "x" * 4000,
]


@pytest.mark.parametrize("site", HOSTILE_IDS)
async def test_hostile_site_ids_are_json_404s(api: Api, site: str) -> None:
    resp = await api.client.get(
        URL(f"/api/sites/{site}/mirrors", encoded=True), headers=api.headers()
    )
    error = await error_of(resp, 404)
    assert len(error["message"]) < 200
    assert "X-Injected" not in resp.headers


@pytest.mark.parametrize("crawler", HOSTILE_IDS)
@pytest.mark.parametrize("action", ["start", "stop"])
async def test_hostile_crawler_ids_are_json_404s(api: Api, crawler: str, action: str) -> None:
    resp = await api.client.post(
        URL(f"/api/crawlers/{crawler}/{action}", encoded=True), headers=api.headers()
    )
    error = await error_of(resp, 404)
    assert len(error["message"]) < 200


async def test_odd_requests_get_json_errors_and_the_server_stays_up(api: Api) -> None:
    await error_of(await api.get("/api/crawlers/yts/start"), 405)  # start is a POST
    await error_of(await api.get("/api/sites/yts/mirrors/extra"), 404)
    await error_of(await api.get("/api/sites//mirrors"), 404)
    await error_of(await api.client.post("/api/crawlers/yts/restart", headers=api.headers()), 404)
    # longer than the request line aiohttp reads: refused by its parser, not by us
    resp = await api.client.get(f"/api/sites/{'x' * 20_000}/mirrors", headers=api.headers())
    assert resp.status in (400, 414)
    assert (await api.health())["status"] == "ok"
    ids = [c["id"] for c in (await get_json(api, "/api/crawlers"))["crawlers"]]
    html = ["1337x", "limetorrents", "thepiratebay", "torrentdownloads"]
    assert ids == sorted([*html, "apibay", "bitmagnet", "dht", "eztv", "knaben", "yts"])
