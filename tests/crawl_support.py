"""Helpers for the crawl-side tests: local mirrors, settings that reach no public host, sources.

The built-in sites (resources/sites.toml) are real public hosts. A test that turns
crawling on must therefore disable every built-in site except the ones it points at
127.0.0.1 (`only_sites`). It may register jobs of its own (`register`) beside the
real sources, to control what a crawl does.
"""

from __future__ import annotations

import socket
import tomllib
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from engine.scheduler import CrawlContext, Job, RunResult
from engine.site_config import BUILTIN_SITES, SiteConfig
from engine.sources import CrawlDeps, scheduled_sources
from tests.site_server import serve

BUILTIN_IDS = tuple(tomllib.loads(BUILTIN_SITES.read_text("utf-8"))["sites"])


class LocalSite:
    """A mirror on its own 127.0.0.1 port: answers every path with `status`, counts requests."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.paths: list[str] = []
        self.server: TestServer | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.paths.append(request.path_qs)
        return web.Response(status=self.status, text="<html>a torrent site</html>")

    async def start(self) -> LocalSite:
        self.server, self.url = await serve(self.handle)
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


def free_port(host: str = "127.0.0.1", *, udp_too: bool = False) -> int:
    """A TCP port nobody listens on right now on `host` (the kernel's pick).

    `udp_too`: free for UDP as well (a libtorrent node listens on both).
    """
    while True:
        with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            tcp.bind((host, 0))
            port = int(tcp.getsockname()[1])
            if not udp_too:
                return port
            try:
                udp.bind((host, port))
            except OSError:
                continue
            return port


def closed_url() -> str:
    """A loopback base URL nothing listens on: connections are refused."""
    return f"http://127.0.0.1:{free_port()}"


def only_sites(sites: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """`make_settings` overrides: crawling on, `sites` as given, every other built-in off."""
    overrides: dict[str, Any] = {"crawl.enabled": True}
    for site_id in BUILTIN_IDS:
        overrides[f"sites.{site_id}"] = dict(sites.get(site_id, {"enabled": False}))
    return overrides


def counting_job(runs: list[str], *, items: int = 3) -> Job:
    """A crawl that records its id, reports progress once and finds `items` new records."""

    async def crawl(ctx: CrawlContext) -> RunResult:
        runs.append(ctx.crawl_id)
        ctx.heartbeat(items_seen=items, items_new=items)
        return RunResult(items_seen=items, items_new=items)

    return crawl


def register(monkeypatch: pytest.MonkeyPatch, jobs: Mapping[str, Job]) -> None:
    """Make `Core.open` schedule `jobs` (by site id) through the real registry function."""

    def factory_for(job: Job) -> Callable[[SiteConfig, CrawlDeps], Job]:
        return lambda _config, _deps: job

    test_jobs = {site_id: factory_for(job) for site_id, job in jobs.items()}

    def registered(
        configs: Mapping[str, SiteConfig],
        deps: CrawlDeps,
        factories: Mapping[str, Callable[[SiteConfig, CrawlDeps], Job]] | None = None,
    ) -> Any:
        return scheduled_sources(configs, deps, factories={**(factories or {}), **test_jobs})

    monkeypatch.setattr("engine.core.scheduled_sources", registered)
