"""Fixtures of the bridge's tests: a fake Bitmagnet on 127.0.0.1 and engines pointed at it.

Engines are opened as the API sources' tests open them (`open_core`: only this site
enabled, its one mirror the local server, no waits) over the parametrized temp
database; a test may close one and open another on the same database (a restart).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import GraphQLInt

from engine.core import Core
from engine.sources.bitmagnet import bitmagnet_crawler
from engine.sources.report import Crawler
from tests.conftest import SettingsFactory
from tests.engine.sources.api.local_api import close_core, open_core
from tests.engine.sources.bitmagnet.fake_bitmagnet import Corpus, FakeBitmagnet
from tests.engine.sources.bitmagnet.schema import serialize_int64


@pytest.fixture(autouse=True)
def _int64(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the local server send 64-bit `Int`s, as Bitmagnet's gqlgen does (sizes > 2 GiB)."""
    monkeypatch.setattr(GraphQLInt, "serialize", serialize_int64)


@pytest.fixture
async def bitmagnet() -> AsyncIterator[FakeBitmagnet]:
    """A running fake Bitmagnet holding a fresh corpus."""
    server = await FakeBitmagnet(Corpus()).start()
    yield server
    await server.close()


class Engines:
    """Opens engines crawling only Bitmagnet at a URL; closes whatever is still open."""

    def __init__(self, make_settings: SettingsFactory, database_url: str) -> None:
        self._make_settings = make_settings
        self._database_url = database_url
        self.open: list[Core] = []

    def start(self, url: str, **site: Any) -> Core:
        core = open_core(
            self._make_settings, self._database_url, "bitmagnet", url, enabled=True, **site
        )
        self.open.append(core)
        return core

    async def stop(self, core: Core) -> None:
        """Close an engine (a restart: the next one opens the same database)."""
        self.open.remove(core)
        await close_core(core)


@pytest.fixture
async def engines(make_settings: SettingsFactory, database_url: str) -> AsyncIterator[Engines]:
    opened = Engines(make_settings, database_url)
    yield opened
    for core in list(opened.open):
        await opened.stop(core)


def crawler_of(core: Core) -> Crawler:
    """The bridge's crawler for an engine, as `minato crawl bitmagnet` gets it."""
    assert core.crawling is not None
    crawler = core.crawling.crawler("bitmagnet")
    assert type(crawler) is type(
        bitmagnet_crawler(core.crawling.sites["bitmagnet"], core.crawling.deps)
    )
    return crawler
