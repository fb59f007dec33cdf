"""The mirror health worker against real HTTP mirrors (and a real proxy) on 127.0.0.1.

What users depend on: every site's mirrors are checked as soon as Minato starts and
then on schedule; one site whose check breaks never stops the others or the next
round; a site set to use a proxy is checked through it (never directly), and is
left alone, keeping what it knew, while none of its proxies works.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from engine.config import ProxySettings
from engine.errors import StoreError
from engine.net.clients import ClientPool
from engine.net.health import MirrorHealthWorker, proxy_skip_reason, site_probe
from engine.net.mirrors import MirrorResolver
from engine.net.proxies import ProxyManager
from engine.store.database import Database
from engine.store.mirrors import MirrorCheck, MirrorState, MirrorStore
from engine.store.writer import Writer
from tests.crawl_support import closed_url
from tests.engine.net.proxy_servers import ProxyFarm


@pytest.fixture
async def pool() -> AsyncIterator[ClientPool]:
    async with ClientPool(user_agent="minato-tests") as pool:
        yield pool


@pytest.fixture
def store(database: Database, writer: Writer) -> MirrorStore:
    return MirrorStore(database.reader, writer)


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[ProxyFarm]:
    farm = ProxyFarm(tmp_path)
    yield farm
    farm.close()


def round_done(worker: MirrorHealthWorker) -> bool:
    return worker.last_round_at is not None


def resolver(
    site: str,
    urls: Sequence[str],
    store: Any,
    pool: ClientPool,
    proxies: ProxyManager | None = None,
    policy: str | list[str] = "none",
    path: str = "/",
) -> MirrorResolver:
    proxies = proxies or ProxyManager([])
    return MirrorResolver(
        site,
        urls,
        probe=site_probe(pool, proxies, proxies.policy(policy, site=site), path=path),
        store=store,
        probe_timeout_s=5.0,
    )


async def test_every_site_is_checked_at_start_and_a_broken_one_stops_nothing(
    local_sites: Any, store: MirrorStore, pool: ClientPool
) -> None:
    up, down = await local_sites(), await local_sites(500)

    class BrokenStore:
        async def sync(self, site: str, urls: Sequence[str]) -> list[MirrorState]:
            raise StoreError("the database is gone")

        async def save(
            self, site: str, checks: Sequence[MirrorCheck], chosen: str | None
        ) -> list[MirrorState]:
            raise AssertionError("never reached")

    worker = MirrorHealthWorker(
        [
            resolver("broken", [up.url], BrokenStore(), pool),
            resolver("eztv", [closed_url(), down.url, up.url], store, pool, path="/api?limit=1"),
            resolver("yts", [up.url], store, pool),
        ],
        interval_s=3600,
    )
    assert not round_done(worker)
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(500):
            if round_done(worker):
                break
            await asyncio.sleep(0.01)
        assert round_done(worker), "no check at start"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    eztv = await store.states("eztv")
    assert [(s.online, s.usable, s.chosen) for s in eztv] == [
        (False, False, False),
        (False, False, False),
        (True, True, True),
    ]
    assert "ConnectError" in (eztv[0].last_error or "")
    assert eztv[1].last_error == "HTTP 500"
    assert eztv[2].latency_ms is not None
    assert [s.usable for s in await store.states("yts")] == [True]
    assert "/api?limit=1" in up.paths  # the site's own health path
    assert down.paths == ["/api?limit=1"]


async def test_rounds_repeat_on_schedule(
    local_sites: Any, store: MirrorStore, pool: ClientPool
) -> None:
    site = await local_sites()
    worker = MirrorHealthWorker([resolver("yts", [site.url], store, pool)], interval_s=0.3)
    task = asyncio.create_task(worker.run())
    rounds: list[object] = []
    try:
        for _ in range(500):
            if worker.last_round_at not in rounds:
                rounds.append(worker.last_round_at)
            if len(rounds) == 4:  # None, then three rounds
                break
            await asyncio.sleep(0.01)
    finally:
        # cancelled while it sleeps between rounds: a write cancelled halfway would take the
        # single writer down with it (see engine/store/writer.py)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert len(rounds) == 4
    assert len(site.paths) == 3
    assert len(await store.history("yts", site.url)) == 3


async def test_check_all_reports_each_site(
    local_sites: Any, store: MirrorStore, pool: ClientPool
) -> None:
    site = await local_sites()

    class Exploding(MirrorResolver):
        async def check_all(self) -> list[MirrorState]:
            raise RuntimeError("a bug in one site's check")

    broken = Exploding("limetorrents", [site.url], probe=lambda url: None, store=store)  # type: ignore[arg-type, return-value]
    worker = MirrorHealthWorker([broken, resolver("knaben", [site.url], store, pool)])
    assert await worker.check_all() == {"limetorrents": False, "knaben": True}
    assert worker.interval_s == 900.0  # fifteen minutes unless told otherwise


async def test_no_resolver_means_nothing_to_do() -> None:
    await asyncio.wait_for(MirrorHealthWorker([]).run(), timeout=1)
    with pytest.raises(ValueError, match="positive"):
        MirrorHealthWorker([], interval_s=0)


@pytest.mark.slow
async def test_a_site_with_a_proxy_policy_is_checked_through_its_proxy(
    local_sites: Any, store: MirrorStore, pool: ClientPool, farm: ProxyFarm
) -> None:
    site = await local_sites()
    [proxy] = farm.start(1, kind="socks5", user="crawler", password="pr0xy-pass")  # noqa: S106
    proxies = ProxyManager([ProxySettings(name="tor", url=proxy.url("socks5h"))])
    checked = resolver("1337x", [site.url], store, pool, proxies, policy=["tor"])
    worker = MirrorHealthWorker(
        [checked],
        skip_reason=proxy_skip_reason(proxies, {"1337x": proxies.policy(["tor"], site="1337x")}),
    )
    assert await worker.check_all() == {"1337x": True}
    assert [s.usable for s in await store.states("1337x")] == [True]
    host_port = site.url.removeprefix("http://")
    for _ in range(100):  # pproxy logs the connection as it opens it
        if proxy.connections_to(host_port):
            break
        await asyncio.sleep(0.05)
    assert proxy.connections_to(host_port) == 1
    assert proxies.status()[0].chosen == 1


async def test_a_site_whose_proxies_all_cool_down_is_skipped_and_keeps_its_state(
    local_sites: Any, store: MirrorStore, pool: ClientPool
) -> None:
    site = await local_sites()
    proxies = ProxyManager(
        [ProxySettings(name="tor", url="socks5h://user:secret@127.0.0.1:9")],
        base_cooldown_s=600,
    )
    policies = {"1337x": proxies.policy("pool", site="1337x")}
    plain = resolver("yts", [site.url], store, pool)
    proxied = resolver("1337x", [site.url], store, pool, proxies, policy="pool")
    await store.sync("1337x", [site.url])
    skip = proxy_skip_reason(proxies, policies)
    assert skip("1337x") is None
    assert skip("yts") is None  # no policy: direct

    proxies.report_failure(proxies.proxies[0], "ConnectError: refused")
    assert skip("1337x") == "no healthy proxy for proxy policy pool"
    worker = MirrorHealthWorker([plain, proxied], skip_reason=skip)
    assert await worker.check_all() == {"yts": True, "1337x": False}
    assert [s.online for s in await store.states("1337x")] == [None]  # not marked offline
    assert len(site.paths) == 1  # only yts asked


async def test_the_probe_reports_an_unreachable_pool_instead_of_going_direct(
    local_sites: Any, pool: ClientPool
) -> None:
    site = await local_sites()
    proxies = ProxyManager([ProxySettings(name="tor", url="socks5h://127.0.0.1:9")])
    proxies.report_failure(proxies.proxies[0], "refused")
    probe = site_probe(pool, proxies, proxies.policy(["tor"], site="1337x"))
    result = await probe(site.url)
    assert result.online is False
    assert "cooling down" in (result.error or "")
    assert site.paths == []
