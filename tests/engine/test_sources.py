"""The source registry: which sites become scheduled crawlers, and what a source gets to work with.

The HTML sites (one per definition file) and the JSON APIs are the registered
sources; these tests pin
down which exist, how a registered factory is turned into a `ScheduledSource`
(schedule and enabled flag from the site config; a disabled site is listed but its
job is never built) and that a source's client shares the resolver the health
worker keeps.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.core import Core
from engine.errors import ConfigError
from engine.scheduler import CrawlContext, CrawlerState, RunResult
from engine.site_config import SiteConfig
from engine.sources import BUILTIN_SOURCES, CrawlDeps, scheduled_sources


def config(site_id: str, *, enabled: bool = True, every_s: float | None = 1800.0) -> SiteConfig:
    return SiteConfig(
        id=site_id,
        kind="api",
        enabled=enabled,
        mirrors=(f"https://{site_id}.example",),
        proxy="none",
        min_interval_s=2.0,
        depth=1,
        every_s=every_s,
        user_agent="ua",
        health_path="/",
    )


def test_the_html_sites_the_apis_bitmagnet_and_the_dht_are_the_sources(core: Core) -> None:
    python = ["apibay", "bitmagnet", "eztv", "knaben", "yts"]
    assert sorted(BUILTIN_SOURCES) == python
    assert core.crawling is not None
    scheduled = scheduled_sources(core.crawling.sites, core.crawling.deps)
    assert [s.id for s in scheduled] == python
    html = ["1337x", "limetorrents", "thepiratebay", "torrentdownloads"]
    assert sorted(core.crawling.html_sites) == html
    statuses = core.services.crawlers.statuses()
    assert [s.source for s in statuses] == sorted([*html, *python, "dht"])  # the DHT: core
    assert {s.state for s in statuses} == {CrawlerState.DISABLED}  # crawling is off in tests


def test_a_registered_factory_becomes_a_scheduled_source() -> None:
    built: list[str] = []

    def factory(site: SiteConfig, deps: CrawlDeps) -> Any:
        built.append(site.id)

        async def crawl(ctx: CrawlContext) -> RunResult:
            return RunResult()

        return crawl

    configs = {
        "yts": config("yts", every_s=3600.0),
        "dht": config("dht", every_s=None),
        "eztv": config("eztv", enabled=False),
    }
    factories = {"yts": factory, "dht": factory, "eztv": factory, "unconfigured": factory}
    sources = scheduled_sources(configs, deps=None, factories=factories)  # type: ignore[arg-type]

    assert [(s.id, s.every_s, s.enabled) for s in sources] == [
        ("dht", None, True),
        ("eztv", 1800.0, False),
        ("yts", 3600.0, True),
    ]
    assert built == ["dht", "yts"]  # a disabled site's job is never built


def test_a_sources_client_shares_the_health_checked_resolver(core: Core) -> None:
    assert core.crawling is not None
    deps = core.crawling.deps
    sites = core.crawling.sites
    client = deps.site_client(sites["yts"])
    assert client.mirrors is deps.mirrors["yts"]
    assert client.breaker is deps.breakers.get("yts")
    with pytest.raises(ConfigError, match=r"sites\.dht: no mirrors"):
        deps.site_client(sites["dht"])
    assert "bitmagnet" not in deps.mirrors  # disabled by default: no resolver, never probed
