"""Enrichment end to end: ingest -> classify -> queue -> TMDb/AniList on a local server -> index.

A running `Core` with the classifier processes and the enrichment worker, its
services pointed at the local server of `conftest.py` answering with the recorded
TMDb and AniList responses. What a user sees: a movie becomes findable by its IMDb
and TMDb ids, an anime gets its AniList and MAL ids, health says how each service
is doing, and with a service offline ingestion and search go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from engine.core import Core
from engine.models import ContentKind, RawRecord, SearchQuery
from tests.conftest import SettingsFactory
from tests.engine.enrich.conftest import FakeService, Reply, fixture_bytes
from tests.engine.enrich.test_anilist import search_answer
from tests.engine.enrich.test_tmdb import KEY, keyed

MATRIX = f"{1:040x}"
FRIEREN = f"{2:040x}"
SINTEL = f"{3:040x}"


def tmdb_routes(service: FakeService) -> None:
    service.route(
        "GET",
        "/3/search/movie",
        keyed(Reply(body=fixture_bytes("tmdb_v3_search_movie_the_matrix.json"))),
    )
    service.route("GET", "/3/movie/603", keyed(Reply(body=fixture_bytes("tmdb_v3_movie_603.json"))))
    service.route("POST", "/anilist", search_answer)


def enrich_settings(base_url: str, **more: Any) -> dict[str, Any]:
    return {
        "pipeline.classify_workers": 1,
        "enrich.enabled": True,
        "enrich.tmdb_api_key": KEY,
        "enrich.tmdb_url": f"{base_url}/3",
        "enrich.anilist_url": f"{base_url}/anilist",
        "enrich.idle_seconds": 0.05,
        **more,
    }


@pytest.fixture
async def running(
    make_settings: SettingsFactory, database_url: str, service: FakeService
) -> AsyncIterator[Callable[..., Any]]:
    """Open and run a Core with the given overrides; stopped after the test."""
    cores: list[tuple[Core, asyncio.Task[None]]] = []

    async def start(**overrides: Any) -> Core:
        core = Core.open(make_settings(database_url, **overrides))
        cores.append((core, asyncio.create_task(core.run())))
        return core

    yield start
    for core, task in cores:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        core.close()


async def ingest(core: Core, *records: tuple[str, str]) -> None:
    raws = [
        (n, RawRecord(source="test", title=title, info_hash=info_hash))
        for n, (info_hash, title) in enumerate(records)
    ]
    report = await core.pipeline.submit(raws)
    assert report.created == len(records), report


async def until(check: Callable[[], bool], seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def test_movies_and_anime_get_ids_and_become_findable_by_them(
    running: Callable[..., Any], service: FakeService
) -> None:
    tmdb_routes(service)
    core = await running(**enrich_settings(service.base_url))
    await ingest(
        core,
        (MATRIX, "The.Matrix.1999.1080p.BluRay.x264-FGT"),
        (FRIEREN, "[SubsPlease] Sousou no Frieren - 05 (1080p) [ABCD1234].mkv"),
    )
    search = core.services.search

    await until(lambda: search.search_sync(SearchQuery(imdb_id="tt0133093")).total == 1)
    hit = search.search_sync(SearchQuery(tmdb_id=603)).hits[0]
    assert (hit.info_hash, hit.imdb_id, hit.tmdb_id) == (MATRIX, "tt0133093", 603)
    assert hit.enriched_by == "tmdb 603 (1.00)"

    for _ in range(400):
        anime = (await search.torrent(FRIEREN)).summary
        if anime.anilist_id is not None:
            break
        await asyncio.sleep(0.05)
    assert (anime.anilist_id, anime.mal_id) == (154587, 52991)
    assert anime.kind is ContentKind.ANIME

    health = await core.services.status.health()
    assert health.enrich_backlog == 0
    states = {s.service: s.state for s in health.enrichment}
    assert states == {"tmdb": "ok", "anilist": "ok", "musicbrainz": "off"}
    assert sum(1 for seen in service.seen if seen.path == "/3/search/movie") == 1


async def test_offline_services_pause_while_ingest_and_search_go_on(
    running: Callable[..., Any], service: FakeService, closed_port: int
) -> None:
    core = await running(
        **enrich_settings(
            f"http://127.0.0.1:{closed_port}",
            **{"enrich.anilist": False, "enrich.musicbrainz_contact": "ops@example.org"},
        )
    )
    await ingest(core, (MATRIX, "The.Matrix.1999.1080p.BluRay.x264-FGT"))
    status = core.services.status

    async def tmdb_paused() -> bool:
        health = await status.health()
        return any(s.service == "tmdb" and s.state == "paused" for s in health.enrichment)

    for _ in range(400):
        if await tmdb_paused():
            break
        await asyncio.sleep(0.05)
    health = await status.health()
    states = {s.service: (s.state, s.detail) for s in health.enrichment}
    assert states["tmdb"][0] == "paused"
    assert states["anilist"] == ("off", "turned off (enrich.anilist = false)")
    assert states["musicbrainz"][0] == "ok"
    assert health.enrich_backlog == 1  # kept for when TMDb is back

    await ingest(core, (SINTEL, "Sintel.2010.1080p.WEB-DL.x264-GRP"))
    search = core.services.search
    await until(lambda: search.search_sync(SearchQuery(text="sintel")).total == 1)
    assert search.search_sync(SearchQuery(text="matrix")).total == 1
