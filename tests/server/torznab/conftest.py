"""A live Torznab app over a given dataset, classified by the real classifier processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import pytest

from engine.core import Core
from engine.models import RawRecord
from tests.conftest import SettingsFactory
from tests.server.conftest import Api, ApiFactory

TorznabFactory = Callable[..., Awaitable[Api]]
"""`serve(records, torrent_files=((bytes, source), ...))` -> a live `Api`, everything indexed."""


@pytest.fixture
async def serve_torznab(
    make_api: ApiFactory, make_settings: SettingsFactory, database_url: str
) -> AsyncIterator[TorznabFactory]:
    """Store `records` and `.torrent` files through the pipeline, drain the index, serve."""
    cores: list[Core] = []

    async def serve(
        records: Sequence[RawRecord], torrent_files: Sequence[tuple[bytes, str]] = ()
    ) -> Api:
        core = Core.open(make_settings(database_url, **{"pipeline.classify_workers": 1}))
        cores.append(core)
        report = await core.pipeline.submit(list(enumerate(records)))
        assert report.created == len(records), report
        for data, source in torrent_files:
            uploaded = await core.services.ingest.ingest_torrent(data, source)
            assert uploaded.created == 1, uploaded
        await asyncio.to_thread(core.drainer.drain_all)
        return await make_api(core)

    try:
        yield serve
    finally:
        for core in cores:
            core.close()
