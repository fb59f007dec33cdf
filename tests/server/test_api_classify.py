"""With the classifier on (worker processes): kind, category, year, resolution... are filled
on ingest and usable as search filters through the API. Kept to a few records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.core import Core
from tests.conftest import SettingsFactory
from tests.server.conftest import Api, ApiFactory, info_hash, record

MATRIX = "The.Matrix.1999.1080p.BluRay.x264-GRP"
BREAKING = "Breaking.Bad.S01E02.720p.HDTV.x264-CTU"
DAFT = "Daft Punk - Random Access Memories (2013) [FLAC]"
UBUNTU = "Ubuntu 24.04 LTS Desktop amd64"


@pytest.fixture
def classifying_core(make_settings: SettingsFactory, database_url: str) -> Iterator[Core]:
    settings = make_settings(
        database_url, **{"pipeline.classify": True, "pipeline.classify_workers": 1}
    )
    opened = Core.open(settings)
    assert opened.classifier is not None
    yield opened
    opened.close()


@pytest.fixture
async def api(make_api: ApiFactory, classifying_core: Core) -> Api:
    made = await make_api(classifying_core)
    answer = await made.bulk(
        [
            record(MATRIX, seeders=1200),
            record(BREAKING, source="eztv", seeders=842),
            record(DAFT, source="limetorrents", seeders=57),
            record(UBUNTU, source="apibay", seeders=3100),
        ]
    )
    assert answer == {"created": 4, "updated": 0, "rejected": []}
    await made.drain()
    return made


def titles(page: dict[str, Any]) -> list[str]:
    return sorted(hit["title"] for hit in page["hits"])


async def test_movie_and_episode_are_classified(api: Api) -> None:
    movie = await api.detail(info_hash(MATRIX))
    assert movie["kind"] == "movie"
    assert movie["category"] == 2040  # Movies/HD
    assert movie["year"] == 1999
    assert movie["resolution"] == "1080p"
    assert movie["media_source"] == "BluRay"
    assert movie["release_group"] == "GRP"
    assert movie["season"] is None

    episode = await api.detail(info_hash(BREAKING))
    assert episode["kind"] == "tv"
    assert episode["category"] == 5040  # TV/HD
    assert (episode["season"], episode["episode"]) == (1, 2)
    assert episode["resolution"] == "720p"
    assert episode["release_group"] == "CTU"

    album = await api.detail(info_hash(DAFT))
    assert album["kind"] == "music"
    assert album["year"] == 2013


async def test_classification_drives_search_filters(api: Api) -> None:
    assert titles(await api.search(kind="movie")) == [MATRIX]
    assert titles(await api.search(kind="tv,movie")) == sorted([MATRIX, BREAKING])
    assert titles(await api.search(category="2000")) == [MATRIX]  # parent category
    assert titles(await api.search(category="5040")) == [BREAKING]
    assert titles(await api.search(category="2000,5000")) == sorted([MATRIX, BREAKING])
    assert titles(await api.search(year=1999)) == [MATRIX]
    assert titles(await api.search(season=1, episode=2)) == [BREAKING]
    assert titles(await api.search(resolution="720p")) == [BREAKING]
    assert titles(await api.search(q="matrix", kind="tv")) == []
    hits = (await api.search(kind="movie"))["hits"]
    assert (hits[0]["kind"], hits[0]["category"], hits[0]["year"]) == ("movie", 2040, 1999)


async def test_a_second_sighting_keeps_the_classification(api: Api) -> None:
    before = await api.detail(info_hash(MATRIX))
    await api.ingest(record(MATRIX, source="yts", seeders=1500))
    after = await api.detail(info_hash(MATRIX))
    for key in ("kind", "category", "year", "resolution", "video_codec"):
        assert after[key] == before[key]
    assert after["seeders"] == 1500
