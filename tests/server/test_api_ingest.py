"""Ingest over HTTP: answer shapes, partial success, and upsert semantics seen through the API."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from tests.server.conftest import NDJSON_TYPE, Api, error_of, info_hash, ndjson, record

MATRIX = "The.Matrix.1999.1080p.BluRay.x264-GRP"
BREAKING = "Breaking.Bad.S01E02.720p.HDTV.x264-CTU"
UBUNTU = "ubuntu-24.04.1-desktop-amd64.iso"


async def test_health_needs_no_key_and_reports_counts(api: Api) -> None:
    before = await api.health()
    assert before["status"] == "ok"
    assert before["torrents"] == 0
    assert before["search_backend"] == "tantivy"
    assert isinstance(before["version"], str)
    await api.ingest(record(MATRIX))
    after = await api.health()
    assert after["torrents"] == 1
    assert after["index_backlog"] >= 1
    await api.drain()
    assert (await api.health())["index_backlog"] == 0


async def test_ingest_one_answers_created_then_updated(api: Api) -> None:
    first = await api.ingest(record(MATRIX, seeders=120, leechers=14, size=2_147_483_648))
    assert first == {"created": 1, "updated": 0, "rejected": []}
    again = await api.ingest(record(MATRIX, seeders=150))
    assert again == {"created": 0, "updated": 1, "rejected": []}


async def test_ingest_one_stores_every_field(api: Api) -> None:
    rec = record(
        BREAKING,
        source="eztv",
        size=1_288_490_189,
        seeders=842,
        leechers=37,
        source_url="https://eztv.re/ep/1234/breaking-bad-s01e02/",
        category="TV HD",
        published_at="2008-01-27T21:30:00-05:00",
        files=[
            {"path": "Breaking.Bad.S01E02.720p.HDTV.x264-CTU.mkv", "size": 1_288_400_000},
            {"path": "Breaking.Bad.S01E02.720p.HDTV.x264-CTU.nfo", "size": 90_189},
        ],
        description="Cat's in the Bag...",
        imdb_id="tt1054724",
        tmdb_id=62085,
        tvdb_id=349232,
        trackers=["udp://tracker.opentrackr.org:1337/announce"],
    )
    await api.ingest(rec)
    got = await api.detail(rec["info_hash"])
    assert got["info_hash"] == rec["info_hash"]
    assert got["title"] == BREAKING
    assert got["size"] == 1_288_490_189
    assert got["seeders"] == 842
    assert got["leechers"] == 37
    assert datetime.fromisoformat(got["published_at"]) == datetime(2008, 1, 28, 2, 30, tzinfo=UTC)
    assert got["files"] == rec["files"]
    assert got["file_count"] == 2
    assert got["description"] == "Cat's in the Bag..."
    assert (got["imdb_id"], got["tmdb_id"], got["tvdb_id"]) == ("tt1054724", 62085, 349232)
    assert got["trackers"] == ["udp://tracker.opentrackr.org:1337/announce"]
    assert got["sources"] == ["eztv"]
    assert got["has_torrent_file"] is False
    assert got["magnet"].startswith(f"magnet:?xt=urn:btih:{rec['info_hash']}&dn=Breaking.Bad")
    [sighting] = got["sightings"]
    assert sighting["source"] == "eztv"
    assert sighting["source_url"] == "https://eztv.re/ep/1234/breaking-bad-s01e02/"
    assert (sighting["seeders"], sighting["leechers"]) == (842, 37)
    seen = datetime.fromisoformat(sighting["seen_at"])
    assert abs(datetime.now(UTC) - seen) < timedelta(minutes=5)


async def test_hash_spellings_and_magnets_land_on_one_torrent(api: Api) -> None:
    hex_hash = info_hash(UBUNTU)
    b32 = base64.b32encode(bytes.fromhex(hex_hash)).decode()
    magnet = (
        f"magnet:?xt=urn:btih:{b32}&dn=ubuntu&xl=6203355136"
        "&tr=https%3A%2F%2Ftorrent.ubuntu.com%2Fannounce"
    )
    answers = [
        await api.ingest({"info_hash": hex_hash.upper(), "title": UBUNTU, "source": "apibay"}),
        await api.ingest({"info_hash": b32, "title": UBUNTU, "source": "knaben"}),
        await api.ingest({"magnet": magnet, "title": UBUNTU, "source": "feed:ubuntu"}),
    ]
    assert [a["created"] for a in answers] == [1, 0, 0]
    got = await api.detail(hex_hash)
    assert got["info_hash"] == hex_hash
    assert [s["source"] for s in got["sightings"]] == ["apibay", "feed:ubuntu", "knaben"]
    assert got["trackers"] == ["https://torrent.ubuntu.com/announce"]
    assert got["size"] == 6_203_355_136  # filled from the magnet's xl
    assert (await api.health())["torrents"] == 1
    # The detail route accepts any spelling of the hash too.
    assert (await api.detail(b32))["info_hash"] == hex_hash
    assert (await api.detail(hex_hash.upper()))["info_hash"] == hex_hash


async def test_bulk_json_stores_valid_records_and_rejects_the_others(api: Api) -> None:
    records = [
        record(MATRIX, seeders=1200),
        {"title": "Inception.2010.1080p.BluRay.x264-SPARKS", "source": "yts"},  # no hash
        record(BREAKING, source="eztv"),
        record("Dune.Part.Two.2024.2160p.WEB-DL.DDP5.1.Atmos", size=-5),
        record("Oppenheimer.2023.1080p.WEBRip.x265", seeders="many"),
        record(UBUNTU, source="apibay", published_at="yesterday"),
        "not an object",
        record("Interstellar.2014.IMAX.1080p.BluRay", source="bad source!"),
        {"info_hash": "zz" * 20, "title": "Arrival.2016.720p", "source": "yts"},
    ]
    answer = await api.bulk(records)
    assert set(answer) == {"created", "updated", "rejected"}
    assert answer["created"] == 2
    assert answer["updated"] == 0
    errors = {r["index"]: r["error"] for r in answer["rejected"]}
    assert sorted(errors) == [1, 3, 4, 5, 6, 7, 8]
    assert errors[1].startswith("info_hash: ")
    assert errors[3].startswith("size: ")
    assert errors[4].startswith("seeders: ")
    assert errors[5].startswith("published_at: ")
    assert errors[6].startswith("record: ")
    assert errors[7].startswith("source: ")
    assert errors[8].startswith("info_hash: ")
    assert [r["index"] for r in answer["rejected"]] == sorted(errors)  # in request order
    await api.detail(info_hash(MATRIX))
    await api.detail(info_hash(BREAKING))
    for bad in (3, 4, 5, 7):
        resp = await api.get(f"/api/torrents/{records[bad]['info_hash']}")  # type: ignore[index]
        await error_of(resp, 404)
    assert (await api.health())["torrents"] == 2


async def test_bulk_ndjson_rejects_a_bad_line_by_index_and_stores_the_rest(api: Api) -> None:
    lines = [
        json.dumps(record(MATRIX)).encode(),
        b'{"info_hash": "' + info_hash(BREAKING).encode() + b'", "title": "Breaking',  # cut off
        b"",  # blank lines are skipped
        json.dumps(record(BREAKING, source="eztv")).encode(),
        b"\xff\xfe not utf-8",
        json.dumps(record(UBUNTU, source="apibay", seeders=-1)).encode(),
        json.dumps(record("Arrival.2016.1080p.BluRay.x264-SPARKS", source="yts")).encode(),
    ]
    resp = await api.post("/api/ingest/bulk", b"\n".join(lines), NDJSON_TYPE)
    assert resp.status == 200, await resp.text()
    answer = await resp.json()
    assert answer["created"] == 3
    errors = {r["index"]: r["error"] for r in answer["rejected"]}
    assert sorted(errors) == [1, 3, 4]
    assert errors[1].startswith("line: 2: not valid JSON")
    assert errors[3].startswith("line: 5: not valid JSON")
    assert errors[4].startswith("seeders: ")
    for title in (MATRIX, BREAKING, "Arrival.2016.1080p.BluRay.x264-SPARKS"):
        await api.detail(info_hash(title))
    await error_of(await api.get(f"/api/torrents/{info_hash(UBUNTU)}"), 404)


async def test_ndjson_with_crlf_and_no_final_newline(api: Api) -> None:
    body = ndjson([record(MATRIX)]).replace(b"\n", b"\r\n") + json.dumps(record(BREAKING)).encode()
    resp = await api.post("/api/ingest/bulk", body, NDJSON_TYPE)
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"created": 2, "updated": 0, "rejected": []}


async def test_empty_bulk_array_is_a_no_op(api: Api) -> None:
    assert await api.bulk([]) == {"created": 0, "updated": 0, "rejected": []}


async def test_reingest_from_another_source_adds_a_sighting(api: Api) -> None:
    await api.ingest(
        record(MATRIX, source="1337x", seeders=100, source_url="https://1337x.to/torrent/1/")
    )
    await api.ingest(
        record(MATRIX, source="thepiratebay", seeders=340, source_url="https://tpb.party/t/9")
    )
    got = await api.detail(info_hash(MATRIX))
    by_source = {s["source"]: s for s in got["sightings"]}
    assert set(by_source) == {"1337x", "thepiratebay"}
    assert by_source["1337x"]["seeders"] == 100
    assert by_source["thepiratebay"]["seeders"] == 340
    assert by_source["thepiratebay"]["source_url"] == "https://tpb.party/t/9"
    assert got["seeders"] == 340  # the latest report refreshes the torrent's figures
    assert sorted(got["sources"]) == ["1337x", "thepiratebay"]
    assert (await api.health())["torrents"] == 1


async def test_reingest_from_the_same_source_refreshes_its_one_sighting(api: Api) -> None:
    await api.ingest(record(MATRIX, source="1337x", seeders=100, leechers=10))
    first = (await api.detail(info_hash(MATRIX)))["sightings"][0]
    await api.ingest(record(MATRIX, source="1337x", seeders=75, leechers=31))
    got = await api.detail(info_hash(MATRIX))
    [sighting] = got["sightings"]
    assert (sighting["seeders"], sighting["leechers"]) == (75, 31)
    assert (got["seeders"], got["leechers"]) == (75, 31)
    assert datetime.fromisoformat(sighting["seen_at"]) >= datetime.fromisoformat(first["seen_at"])
    # A report without swarm figures keeps the known ones.
    await api.ingest(record(MATRIX, source="1337x"))
    got = await api.detail(info_hash(MATRIX))
    assert (got["seeders"], got["leechers"]) == (75, 31)
    assert len(got["sightings"]) == 1


async def test_reingest_fills_missing_fields_but_never_overwrites(api: Api) -> None:
    await api.ingest(record(MATRIX, source="1337x"))
    bare = await api.detail(info_hash(MATRIX))
    assert bare["size"] is None
    assert bare["imdb_id"] is None
    await api.ingest(
        record(
            "The Matrix (1999) 1080p",  # another site's title does not replace the first
            source="yts",
            size=2_200_000_000,
            imdb_id="tt0133093",
            tmdb_id=603,
            description="Welcome to the Real World.",
            published_at="2019-03-01T10:00:00Z",
            files=[{"path": "The.Matrix.1999.1080p.mkv", "size": 2_200_000_000}],
            info_hash=info_hash(MATRIX),
        )
    )
    filled = await api.detail(info_hash(MATRIX))
    assert filled["title"] == MATRIX
    assert filled["size"] == 2_200_000_000
    assert (filled["imdb_id"], filled["tmdb_id"]) == ("tt0133093", 603)
    assert filled["description"] == "Welcome to the Real World."
    assert filled["files"] == [{"path": "The.Matrix.1999.1080p.mkv", "size": 2_200_000_000}]
    await api.ingest(
        record(
            MATRIX,
            source="limetorrents",
            size=1,
            imdb_id="tt9999999",
            description="spam",
            published_at="2024-01-01T00:00:00Z",
            files=[{"path": "virus.exe", "size": 1}],
        )
    )
    kept = await api.detail(info_hash(MATRIX))
    assert kept["size"] == 2_200_000_000
    assert kept["imdb_id"] == "tt0133093"
    assert kept["description"] == "Welcome to the Real World."
    assert datetime.fromisoformat(kept["published_at"]) == datetime(2019, 3, 1, 10, tzinfo=UTC)
    assert kept["files"] == filled["files"]
    assert len(kept["sightings"]) == 3


async def test_one_hash_twice_in_a_bulk_is_one_torrent(api: Api) -> None:
    answer = await api.bulk(
        [
            record(MATRIX, source="1337x", seeders=10),
            record(MATRIX, source="1337x", seeders=20, size=2_000_000_000),
            record(MATRIX, source="yts", seeders=30),
        ]
    )
    assert answer["created"] + answer["updated"] == 3
    assert answer["created"] == 1
    got = await api.detail(info_hash(MATRIX))
    assert {s["source"] for s in got["sightings"]} == {"1337x", "yts"}
    assert got["size"] == 2_000_000_000
    assert (await api.health())["torrents"] == 1


async def test_internal_secret_ingest_is_searchable(api: Api) -> None:
    secret = (api.core.settings.data_path() / "internal_secret").read_text().strip()
    resp = await api.client.post(
        "/api/ingest/bulk",
        data=ndjson([record(BREAKING, source="worker-1"), record(MATRIX, source="worker-1")]),
        headers={"X-Internal-Secret": secret, "Content-Type": NDJSON_TYPE},
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["created"] == 2
    await api.drain()
    page = await api.search(q="breaking bad", source="worker-1")
    assert [h["info_hash"] for h in page["hits"]] == [info_hash(BREAKING)]
