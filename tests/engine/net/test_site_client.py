"""`SiteClient` end to end: local sites on several loopback ports, real pproxy proxies.

The sites answer on command (429 with Retry-After, 503, 500, a real Cloudflare
challenge page, a 404), so each rule a source relies on is seen working through the
whole stack: mirror failover, proxy switching, rate-limit spacing, retries and the
site's circuit breaker.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from engine.config import ProxySettings
from engine.errors import AllMirrorsDown, CircuitOpen, NoProxyAvailable
from engine.net.breaker import BreakerState, CircuitBreaker
from engine.net.clients import ClientPool
from engine.net.flaresolverr import FlareSolverr
from engine.net.mirrors import MirrorResolver, http_probe
from engine.net.politeness import HostRateLimiter
from engine.net.proxies import ProxyManager
from engine.net.site_client import SiteClient
from engine.site_config import SiteConfig
from engine.store.database import Database, open_database
from engine.store.mirrors import MirrorStore
from engine.store.writer import Writer
from tests.conftest import FIXTURES
from tests.engine.net.proxy_servers import ProxyFarm

CHALLENGE = (FIXTURES / "html-other" / "torrentz2_cloudflare_503_challenge.html").read_bytes()


@dataclass
class Site:
    """One mirror: answers scripted replies per path, then 200; records every hit."""

    script: dict[str, list[tuple[int, dict[str, str], bytes]]] = field(default_factory=dict)
    hits: list[tuple[str, float, str]] = field(default_factory=list)  # path, time, user agent
    server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.hits]

    async def handle(self, request: web.Request) -> web.Response:
        self.hits.append((request.path, time.monotonic(), request.headers.get("User-Agent", "")))
        queued = self.script.get(request.path)
        if queued:
            status, headers, body = queued.pop(0)
            return web.Response(status=status, headers=headers, body=body)
        if request.path == "/missing":
            return web.Response(status=404, text="no such page")
        return web.Response(text=f"page {request.path} from {request.host}")


@pytest.fixture
async def sites(aiohttp_server: AiohttpServer) -> list[Site]:
    made = []
    for _ in range(2):
        site = Site()
        app = web.Application()
        app.router.add_get("/{tail:.*}", site.handle)
        site.server = await aiohttp_server(app)
        made.append(site)
    return made


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = open_database(f"sqlite:///{tmp_path / 'minato.sqlite3'}")
    yield db
    db.dispose()


@pytest.fixture
def writer(database: Database) -> Iterator[Writer]:
    w = Writer(database.writer)
    w.start()
    yield w
    w.stop()


@dataclass
class Stack:
    client: SiteClient
    proxies: ProxyManager
    breaker: CircuitBreaker


class ClientFactory(Protocol):
    def __call__(
        self,
        mirrors: list[str],
        *,
        proxies: list[ProxySettings] | None = None,
        policy: str | tuple[str, ...] = "none",
        min_interval_s: float = 0.0,
        threshold: int = 3,
    ) -> Awaitable[Stack]: ...


@pytest.fixture
def make_client(clients: ClientPool, database: Database, writer: Writer) -> ClientFactory:
    async def make(
        mirrors: list[str],
        *,
        proxies: list[ProxySettings] | None = None,
        policy: str | tuple[str, ...] = "none",
        min_interval_s: float = 0.0,
        threshold: int = 3,
    ) -> Stack:
        config = SiteConfig(
            id="testsite", kind="html", enabled=True, mirrors=tuple(mirrors), proxy=policy,
            min_interval_s=min_interval_s, depth=1, every_s=60.0, user_agent="MinatoTest/1",
            health_path="/",
        )  # fmt: skip
        manager = ProxyManager(proxies or [], base_cooldown_s=60.0)
        breaker = CircuitBreaker("testsite", failure_threshold=threshold, cooldown=0.3)
        resolver = await MirrorResolver.open(
            "testsite",
            mirrors,
            probe=http_probe(clients.client_for(None)),
            store=MirrorStore(database.reader, writer),
        )
        client = SiteClient(
            config, pool=clients, proxies=manager, limiter=HostRateLimiter(0.0),
            breaker=breaker, mirrors=resolver, backoff_base_s=0.05, backoff_cap_s=0.2,
        )  # fmt: skip
        return Stack(client, manager, breaker)

    return make


async def test_retry_after_is_honoured(sites: list[Site], make_client: ClientFactory) -> None:
    site = sites[0]
    site.script["/list"] = [(429, {"Retry-After": "1"}, b"slow down")]
    stack = await make_client([site.url])
    response = await stack.client.get("/list")
    assert response.status == 200
    (first, _, _), (second, later, _) = site.hits[0], site.hits[1]
    assert (first, second) == ("/list", "/list")
    assert later - site.hits[0][1] >= 0.95  # waited what the site asked


async def test_503s_are_retried_with_backoff_then_succeed(
    sites: list[Site], make_client: ClientFactory
) -> None:
    site = sites[0]
    site.script["/list"] = [(503, {}, b"busy"), (503, {}, b"busy")]
    stack = await make_client([site.url])
    response = await stack.client.get("/list")
    assert (response.status, response.body.startswith(b"page /list")) == (200, True)
    assert site.paths() == ["/list"] * 3


async def test_a_failing_mirror_fails_over_within_the_request(
    sites: list[Site], make_client: ClientFactory
) -> None:
    broken, healthy = sites
    broken.script["/list"] = [(500, {}, b"oops")] * 10
    stack = await make_client([broken.url, healthy.url])
    response = await stack.client.get("/list")
    assert response.status == 200
    assert response.url.startswith(healthy.url)
    assert broken.paths() == ["/list"] * 4  # MAX_ATTEMPTS on the broken mirror, then moved
    assert stack.client.mirrors.current() == healthy.url
    assert (await stack.client.get("/next")).status == 200
    assert broken.paths() == ["/list"] * 4  # the crawl stays on the healthy mirror


async def test_a_challenge_page_moves_to_the_next_mirror(
    sites: list[Site], make_client: ClientFactory
) -> None:
    blocked, healthy = sites
    blocked.script["/list"] = [(503, {"Server": "cloudflare"}, CHALLENGE)]
    stack = await make_client([blocked.url, healthy.url])
    assert (await stack.client.get("/list")).status == 200
    assert blocked.paths() == ["/list"]  # a challenge is not retried on the same mirror
    state = stack.client.mirrors.states()[0]
    assert state.blocked is not None  # "challenged" to people, not "down"
    assert "challenge" in state.blocked.lower()


async def test_the_breaker_opens_after_repeated_failures_and_probes_again(
    sites: list[Site], make_client: ClientFactory
) -> None:
    site = sites[0]
    site.script["/list"] = [(500, {}, b"down")] * 12
    stack = await make_client([site.url], threshold=3)
    for _ in range(3):
        with pytest.raises(AllMirrorsDown):
            await stack.client.get("/list")
    assert stack.breaker.state is BreakerState.OPEN
    sent = len(site.hits)
    with pytest.raises(CircuitOpen):
        await stack.client.get("/list")
    assert len(site.hits) == sent  # nothing was sent while open
    site.script.clear()
    await asyncio.sleep(0.35)  # the breaker's cool-down: one probe may go out
    response = await stack.client.get("/list")
    assert response.status == 200
    assert stack.breaker.state is BreakerState.CLOSED


async def test_a_long_retry_after_pauses_the_site(
    sites: list[Site], make_client: ClientFactory
) -> None:
    site = sites[0]
    site.script["/list"] = [(429, {"Retry-After": "3600"}, b"come back later")]
    stack = await make_client([site.url])
    with pytest.raises(CircuitOpen) as caught:
        await stack.client.get("/list")
    assert caught.value.retry_after >= 3599


async def test_missing_pages_are_answers_not_errors(
    sites: list[Site], make_client: ClientFactory
) -> None:
    stack = await make_client([sites[0].url])
    response = await stack.client.get("/missing")
    assert response.status == 404
    assert sites[0].paths() == ["/missing"]  # not retried
    assert stack.breaker.state is BreakerState.CLOSED


async def test_user_agent_and_rate_limit_spacing(
    sites: list[Site], make_client: ClientFactory
) -> None:
    site = sites[0]
    stack = await make_client([site.url], min_interval_s=0.2)
    for n in range(4):
        await stack.client.get(f"/page/{n}")
    times = [at for _, at, _ in site.hits]
    assert all(later - earlier >= 0.19 for earlier, later in itertools.pairwise(times))
    assert {agent for _, _, agent in site.hits} == {"MinatoTest/1"}


async def test_a_crawl_survives_a_proxy_dying_and_fails_clearly_when_all_are_gone(
    sites: list[Site], make_client: ClientFactory, farm: ProxyFarm
) -> None:
    first, second = farm.start(2, kind="socks5")
    settings = [
        ProxySettings(name="p1", url=first.url()),
        ProxySettings(name="p2", url=second.url()),
    ]
    site = sites[0]
    stack = await make_client([site.url], proxies=settings, policy=("p1", "p2"))
    for n in range(4):
        assert (await stack.client.get(f"/page/{n}")).status == 200
    target = f"127.0.0.1:{site.server.port}" if site.server else ""
    assert first.connections_to(target) >= 1
    assert second.connections_to(target) >= 1  # round robin used both

    first.stop()  # dies mid-crawl
    for n in range(4, 10):
        assert (await stack.client.get(f"/page/{n}")).status == 200
    health = {status.name: status for status in stack.proxies.status()}
    assert health["p1"].healthy is False
    assert health["p2"].healthy is True
    assert site.paths()[-6:] == [f"/page/{n}" for n in range(4, 10)]  # nothing skipped

    second.stop()
    started = time.monotonic()
    with pytest.raises(NoProxyAvailable, match="cooling down"):
        await stack.client.get("/page/99")
    assert time.monotonic() - started < 10  # a clear error, not a hang
    assert stack.breaker.state is BreakerState.CLOSED  # the site did nothing wrong


def flaresolverr_app(seen: list[dict[str, object]], *, ok: bool) -> web.Application:
    """FlareSolverr's `/v1` API on loopback: answers as the real service documents it."""

    async def v1(request: web.Request) -> web.Response:
        command = await request.json()
        seen.append(command)
        if not ok:
            return web.json_response({"status": "error", "message": "Challenge not solved"})
        solution = {
            "url": command["url"],
            "status": 200,
            "headers": {"content-type": "text/html"},
            "response": "<html><body>the real listing</body></html>",
            "cookies": [{"name": "cf_clearance", "value": "x"}],
            "userAgent": "Mozilla/5.0",
        }
        return web.json_response({"status": "ok", "message": "", "solution": solution})

    app = web.Application()
    app.router.add_post("/v1", v1)
    return app


@pytest.mark.parametrize("solved", [True, False])
async def test_flaresolverr_passes_a_challenge_when_configured(
    sites: list[Site],
    make_client: ClientFactory,
    aiohttp_server: AiohttpServer,
    clients: ClientPool,
    solved: bool,
) -> None:
    site = sites[0]
    site.script["/list"] = [(503, {"Server": "cloudflare"}, CHALLENGE)]
    seen: list[dict[str, object]] = []
    solver_server = await aiohttp_server(flaresolverr_app(seen, ok=solved))
    stack = await make_client([site.url])
    stack.client = SiteClient(
        stack.client.config, pool=clients, proxies=stack.proxies, limiter=HostRateLimiter(0.0),
        breaker=stack.breaker, mirrors=stack.client.mirrors,
        solver=FlareSolverr(str(solver_server.make_url("")), client=clients.client_for(None)),
    )  # fmt: skip
    if solved:
        response = await stack.client.get("/list")
        assert response.body == b"<html><body>the real listing</body></html>"
    else:
        with pytest.raises(AllMirrorsDown, match="FlareSolverr could not pass"):
            await stack.client.get("/list")
    assert [c["cmd"] for c in seen] == ["request.get"]
    assert seen[0]["url"] == f"{site.url}/list"
