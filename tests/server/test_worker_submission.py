"""A worker's submitter against the real central server: stored, searchable, refusals kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine.core import Core
from engine.models import SearchQuery
from tests.conftest import SettingsFactory
from tests.engine.net.test_submitter import SECRET, submitter
from tests.server.conftest import ApiFactory


async def test_against_the_real_central_server(
    tmp_path: Path, make_api: ApiFactory, make_settings: SettingsFactory
) -> None:
    core = Core.open(make_settings(**{"server.internal_secret": SECRET}))
    try:
        api = await make_api(core)
        base = str(api.client.make_url("/")).rstrip("/")
        async with submitter(base, tmp_path / "spool") as sub:
            records = [
                {
                    "title": "Ubuntu 24.04 Desktop amd64",
                    "source": "worker-1",
                    "info_hash": "a" * 40,
                    "size": 6_000_000_000,
                },
                {"source": "worker-1", "info_hash": "b" * 40},  # no title: refused alone
            ]
            await sub.submit(records)
            await asyncio.wait_for(sub.flush(), 20)
            assert (sub.status().sent_records, sub.status().rejected_records) == (1, 1)
        await asyncio.to_thread(core.drainer.drain_all)
        page = await core.services.search.search(SearchQuery(text="ubuntu"))
        assert [hit.info_hash for hit in page.hits] == ["a" * 40]
        refused = (tmp_path / "spool" / "rejected.ndjson").read_text()
        assert "title" in refused
    finally:
        core.close()
