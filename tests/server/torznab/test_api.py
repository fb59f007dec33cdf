"""`/torznab/{indexer}/api` over a live app with the classifier on, parsed as clients parse it.

What Sonarr/Radarr depend on: caps without a key; RSS sync (no `q`) answers the
newest items of the asked categories, newest first; every item carries title,
guid, pubDate, enclosure and integer size/seeders/peers; errors are XML with HTTP
200; hostile query text never breaks the document.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from lxml import etree
from yarl import URL

from engine.models import RawRecord
from engine.torrent import build_magnet, parse_torrent
from server.torznab.xml import TORZNAB_NS
from tests.server.conftest import Api
from tests.server.torznab.conftest import TorznabFactory

NS = {"torznab": TORZNAB_NS}
NOW = datetime.now(UTC)
RELEASES = [  # (title, hours ago, seeders, imdb id)
    ("The.Matrix.1999.1080p.BluRay.x264-FGT", 5, 120, "tt0133093"),
    ("Show.Name.S01E02.720p.HDTV.x264-GRP", 1, 30, None),
    ("Show.Name.S01E03.1080p.WEB-DL.DDP5.1.H.264-GRP", 2, 45, None),
    ("Pink Floyd - The Dark Side of the Moon (1973) [FLAC]", 3, 12, None),
]


@pytest.fixture
async def torznab(serve_torznab: TorznabFactory) -> Api:
    return await serve_torznab(
        [
            RawRecord(
                source="tpb" if n % 2 else "1337x",
                title=title,
                info_hash=f"{n + 1:040x}",
                seeders=seeders,
                leechers=3,
                size=1_000_000 * (n + 1),
                published_at=NOW - timedelta(hours=hours),
                imdb_id=imdb,
            )
            for n, (title, hours, seeders, imdb) in enumerate(RELEASES)
        ]
    )


async def get_xml(api: Api, path: str = "/torznab/all/api", **params: Any) -> etree._Element:
    resp = await api.client.get(path, params={k: str(v) for k, v in params.items()})
    assert resp.status == 200
    assert resp.content_type in ("application/xml", "application/rss+xml")
    return etree.fromstring(await resp.read())


def titles(root: etree._Element) -> list[str]:
    return [item.findtext("title") or "" for item in root.findall("./channel/item")]


async def test_caps_needs_no_key_and_lists_what_clients_read(torznab: Api) -> None:
    root = await get_xml(torznab, t="caps")
    assert root.tag == "caps"
    modes = {m.tag: m.get("supportedParams") for m in root.findall("./searching/*")}
    assert set(modes) >= {"search", "tv-search", "movie-search", "music-search", "audio-search"}
    assert {"season", "ep"} <= set((modes["tv-search"] or "").split(","))
    ids = {c.get("id") for c in root.findall("./categories/category")}
    assert {"2000", "3000", "5000", "7000", "8000"} <= ids
    subcats = {s.get("id") for s in root.findall("./categories/category/subcat")}
    assert {"2045", "5070", "5045"} <= subcats


async def test_sonarr_rss_sync_gets_newest_tv_first(torznab: Api) -> None:
    root = await get_xml(
        torznab, t="tvsearch", cat="5030,5040", extended=1, offset=0, limit=100, apikey=torznab.key
    )
    assert titles(root) == [
        "Show.Name.S01E02.720p.HDTV.x264-GRP",
        "Show.Name.S01E03.1080p.WEB-DL.DDP5.1.H.264-GRP",
    ]
    for item in root.findall("./channel/item"):
        assert item.findtext("guid")
        datetime.strptime(item.findtext("pubDate") or "", "%a, %d %b %Y %H:%M:%S %z")
        enclosure = item.find("enclosure")
        assert enclosure is not None
        assert enclosure.get("url", "").startswith("magnet:?xt=")
        attrs = {a.get("name"): a.get("value") for a in item.findall("torznab:attr", NS)}
        for name in ("seeders", "peers", "size"):
            int(attrs[name] or "")
        assert int(item.findtext("size") or "") > 0
        assert len(attrs["infohash"] or "") == 40


async def test_tvsearch_by_season_and_episode(torznab: Api) -> None:
    root = await get_xml(
        torznab, t="tvsearch", q="show name", season="1", ep="3", apikey=torznab.key
    )
    assert titles(root) == ["Show.Name.S01E03.1080p.WEB-DL.DDP5.1.H.264-GRP"]
    attrs = {a.get("name"): a.get("value") for a in root.findall("./channel/item/torznab:attr", NS)}
    assert (attrs["season"], attrs["episode"]) == ("1", "3")


@pytest.mark.parametrize("imdb", ["tt0133093", "0133093"])
async def test_movie_by_imdb_with_or_without_tt(torznab: Api, imdb: str) -> None:
    root = await get_xml(torznab, t="movie", imdbid=imdb, apikey=torznab.key)
    assert titles(root) == ["The.Matrix.1999.1080p.BluRay.x264-FGT"]
    attrs = {a.get("name"): a.get("value") for a in root.findall("./channel/item/torznab:attr", NS)}
    assert (attrs["imdb"], attrs["imdbid"]) == ("0133093", "tt0133093")


async def test_one_indexer_is_one_source(torznab: Api) -> None:
    everything = await get_xml(torznab, t="search", apikey=torznab.key)
    tpb = await get_xml(torznab, "/torznab/tpb/api", t="search", apikey=torznab.key)
    assert len(titles(everything)) == len(RELEASES)
    assert titles(tpb) == [RELEASES[n][0] for n in (1, 3)]


async def test_paging_is_stable(torznab: Api) -> None:
    first = await get_xml(torznab, t="search", limit=2, offset=0, apikey=torznab.key)
    second = await get_xml(torznab, t="search", limit=2, offset=2, apikey=torznab.key)
    assert len(titles(first)) == len(titles(second)) == 2
    assert not set(titles(first)) & set(titles(second))
    response = first.find("./channel/torznab:response", NS)
    assert response is not None
    assert response.get("total") == str(len(RELEASES))


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"t": "search"}, "100"),  # no key
        ({"t": "search", "apikey": "wrong"}, "100"),
        ({"t": "nonsense", "key": True}, "202"),
        ({"key": True}, "200"),
        ({"t": "search", "cat": "movies", "key": True}, "201"),
        ({"t": "tvsearch", "season": "one", "key": True}, "201"),
    ],
)
async def test_errors_are_xml_with_http_200(
    torznab: Api, params: dict[str, Any], code: str
) -> None:
    query = dict(params)  # the parametrized dict is shared by the SQLite and PostgreSQL runs
    if query.pop("key", False):
        query["apikey"] = torznab.key
    root = await get_xml(torznab, **query)
    assert root.tag == "error"
    assert root.get("code") == code
    assert root.get("description")


async def test_key_in_header_and_any_case(torznab: Api) -> None:
    resp = await torznab.client.get(
        "/torznab/all/api", params={"T": "search"}, headers={"X-Api-Key": torznab.key}
    )
    assert etree.fromstring(await resp.read()).tag == "rss"
    root = await get_xml(torznab, T="search", APIKEY=torznab.key)
    assert root.tag == "rss"


@pytest.mark.parametrize("q", ["<script>&amp;\"'", "映画 🎬", "\x00\x01", "a" * 5000, "(((", '"'])
async def test_hostile_queries_give_well_formed_answers(torznab: Api, q: str) -> None:
    root = await get_xml(torznab, t="search", q=q, apikey=torznab.key)
    assert root.tag in ("rss", "error")


TORRENTS = Path(__file__).resolve().parents[2] / "fixtures" / "torrents"
EXTRA_TRACKER = "udp://tracker.example.org:1337/announce"


async def kept_file(api: Api) -> tuple[bytes, str]:
    """Upload a real .torrent, then report one more tracker for it from a magnet source."""
    data = (TORRENTS / "flexget_multi.torrent").read_bytes()
    info_hash = parse_torrent(data).info_hash
    resp = await api.client.post(
        "/api/ingest/file",
        data=data,
        headers={"X-Api-Key": api.key, "Content-Type": "application/x-bittorrent"},
    )
    assert resp.status == 200, await resp.text()
    magnet = build_magnet(info_hash, "slackware-14.1-iso", [EXTRA_TRACKER])
    await api.core.pipeline.submit([(0, RawRecord(source="dht", title="x", magnet=magnet))])
    await asyncio.to_thread(api.core.drainer.drain_all)
    return data, info_hash


async def test_kept_file_is_the_enclosure_and_downloads_with_every_tracker(torznab: Api) -> None:
    data, info_hash = await kept_file(torznab)
    root = await get_xml(torznab, t="search", q="slackware", apikey=torznab.key)
    (item,) = root.findall("./channel/item")
    enclosure = item.find("enclosure")
    assert enclosure is not None
    assert enclosure.get("type") == "application/x-bittorrent"
    url = URL(enclosure.get("url") or "")
    assert url.path == f"/torznab/all/download/{info_hash}.torrent"
    assert url.query["apikey"] == torznab.key  # the client grabs it with no header
    assert item.findtext("link") == str(url)
    attrs = {a.get("name"): a.get("value") for a in item.findall("torznab:attr", NS)}
    assert EXTRA_TRACKER in unquote(attrs["magneturl"] or "")

    resp = await torznab.client.get(url.path_qs)
    assert resp.status == 200
    assert resp.content_type == "application/x-bittorrent"
    served = parse_torrent(await resp.read())
    assert served.info_hash == attrs["infohash"] == info_hash
    assert served.trackers == (*parse_torrent(data).trackers, EXTRA_TRACKER)


async def test_download_accepts_the_key_in_a_header(torznab: Api) -> None:
    _, info_hash = await kept_file(torznab)
    resp = await torznab.client.get(
        f"/torznab/all/download/{info_hash.upper()}.torrent", headers={"X-Api-Key": torznab.key}
    )
    assert resp.status == 200
    assert parse_torrent(await resp.read()).info_hash == info_hash


@pytest.mark.parametrize(
    ("name", "key", "status", "code"),
    [
        (f"{1:040x}", True, 404, "300"),  # known, but only as a magnet: no file kept
        (f"{999:040x}", True, 404, "300"),  # unknown
        ("not-a-hash", True, 404, "300"),
        ("slackware", False, 401, "100"),
        ("slackware", "wrong", 401, "100"),
    ],
)
async def test_download_failures_keep_their_status(
    torznab: Api, name: str, key: bool | str, status: int, code: str
) -> None:
    _, info_hash = await kept_file(torznab)
    name = info_hash if name == "slackware" else name
    params = {"apikey": torznab.key if key is True else key} if key else {}
    resp = await torznab.client.get(f"/torznab/all/download/{name}.torrent", params=params)
    assert resp.status == status
    assert resp.content_type == "application/xml"
    root = etree.fromstring(await resp.read())
    assert (root.tag, root.get("code")) == ("error", code)


async def test_magnet_only_items_enclose_the_magnet(torznab: Api) -> None:
    root = await get_xml(torznab, t="search", apikey=torznab.key)
    for item in root.findall("./channel/item"):
        enclosure = item.find("enclosure")
        assert enclosure is not None
        assert enclosure.get("type") == "application/x-bittorrent;x-scheme-handler/magnet"
        assert (enclosure.get("url") or "").startswith("magnet:?xt=urn:btih:")


async def test_music_items_name_artist_and_album(torznab: Api) -> None:
    root = await get_xml(torznab, t="music", artist="Pink Floyd", apikey=torznab.key)
    assert titles(root) == [RELEASES[3][0]]
    attrs = {a.get("name"): a.get("value") for a in root.findall("./channel/item/torznab:attr", NS)}
    assert (attrs["artist"], attrs["album"]) == ("Pink Floyd", "The Dark Side of the Moon")
    assert attrs["year"] == "1973"


@pytest.mark.parametrize(("year", "found"), [("1999", True), ("1998", False)])
async def test_year_narrows_a_search(torznab: Api, year: str, found: bool) -> None:
    root = await get_xml(torznab, t="movie", q="matrix", year=year, apikey=torznab.key)
    assert titles(root) == ([RELEASES[0][0]] if found else [])
