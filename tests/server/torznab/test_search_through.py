"""Live search-through as Sonarr, Radarr and people meet it: `/torznab/.../api` and `/api/search`.

Every site is a real server on 127.0.0.1 made of saved pages (LimeTorrents,
TorrentDownloads, The Pirate Bay, 1337x), a Torznab indexer added as a feed serves
a saved Torznab answer, and TMDb is a local server answering `find` by TVDB id.
The engine is a real `Core` with the classifier on, behind the real aiohttp app.

What users depend on: a new install with an empty index answers a search with the
sites' results; the same search again is answered from the index without a
request to any site; a slow site does not hold the answer past the deadline and
what it finds later is stored; a failing or blocked site does not break the
answer; Sonarr's `tvsearch` by TVDB id alone fans out by the show's name and gets
the episode; an RSS poll never reaches a site.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from lxml import etree

from engine.core import Core
from tests.conftest import SettingsFactory
from tests.crawl_support import closed_url, only_sites
from tests.server.conftest import Api, ApiFactory, error_of
from tests.site_server import (
    SAVED_SITES,
    GatedSite,
    SavedSite,
    SiteServer,
    challenge_override,
    serve,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TORZNAB_ANSWER = FIXTURES / "torznab" / "jackett_test_torznab_hdaccess.xml"
"""Five items, each with its info hash: nothing to download from the hosts they name."""
YTS_ANSWER = FIXTURES / "json-yts" / "yts_list_movies_query_test.json"
ARROW_TVDB = 257655
KEY_PARAM = "apikey"


@dataclass
class TorznabIndexer:
    """A Torznab indexer (a Jackett-like feed) on 127.0.0.1 answering every search alike."""

    queries: list[dict[str, str]] = field(default_factory=list)
    server: TestServer | None = None
    url: str = ""

    async def start(self) -> TorznabIndexer:
        async def handle(request: web.Request) -> web.Response:
            self.queries.append(dict(request.query))
            return web.Response(body=TORZNAB_ANSWER.read_bytes(), content_type="application/xml")

        self.server, self.url = await serve(handle)
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


@dataclass
class FakeTmdb:
    """TMDb's `find` on 127.0.0.1: TVDB 257655 is "Arrow"; every request is kept."""

    asked: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    server: TestServer | None = None
    url: str = ""

    async def start(self) -> FakeTmdb:
        async def handle(request: web.Request) -> web.Response:
            self.asked.append((request.path, dict(request.query)))
            if request.path == f"/3/find/{ARROW_TVDB}":
                return web.json_response(
                    {
                        "movie_results": [],
                        "tv_results": [
                            {"id": 1412, "name": "Arrow", "first_air_date": "2012-10-10"}
                        ],
                    }
                )
            return web.json_response({"status_code": 34}, status=404)

        self.server, self.url = await serve(handle)
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


Through = Callable[..., Awaitable[Api]]


@pytest.fixture
async def through(
    make_api: ApiFactory, make_settings: SettingsFactory, database_url: str
) -> AsyncIterator[Through]:
    """An API over a core whose only sources are the given local servers."""
    cores: list[Core] = []

    async def make(
        mirrors: dict[str, str], *, feeds: dict[str, str] | None = None, **settings: Any
    ) -> Api:
        """`feeds` are added as a user adds them (the API), so they are searchable at once."""
        sites = {sid: {"mirrors": [url], "min_interval_s": 0} for sid, url in mirrors.items()}
        values: dict[str, Any] = {
            **only_sites(sites),
            "pipeline.classify_workers": 1,
            "live.source_deadline_s": 6.0,
            "live.global_deadline_s": 8.0,
            **settings,
        }
        core = Core.open(make_settings(database_url, **values))
        cores.append(core)
        for name, url in (feeds or {}).items():
            await core.services.feeds.add(name, url)
        return await make_api(core)

    try:
        yield make
    finally:
        for core in cores:
            await core.aclose()


@pytest.fixture
async def servers() -> AsyncIterator[list[Any]]:
    """Servers a test starts; closed after it."""
    started: list[Any] = []
    yield started
    for server in started:
        await server.close()


async def saved(servers: list[Any], site_id: str, *, gated: bool = False) -> SavedSite:
    pages = SAVED_SITES[site_id]
    site = await (GatedSite(pages) if gated else SavedSite(pages)).start()
    servers.append(site)
    return site


async def torznab(api: Api, **params: Any) -> etree._Element:
    query = {KEY_PARAM: api.key, **{k: str(v) for k, v in params.items()}}
    resp = await api.client.get("/torznab/all/api", params=query)
    assert resp.status == 200, await resp.text()
    root = etree.fromstring(await resp.read())
    assert root.tag == "rss", etree.tostring(root)[:300]
    return root


def titles(root: etree._Element) -> list[str]:
    return [item.findtext("title") or "" for item in root.findall("./channel/item")]


async def live_status(api: Api, query: str) -> dict[str, dict[str, Any]]:
    resp = await api.get("/api/search/live-status", params={"q": query})
    assert resp.status == 200, await resp.text()
    newest_first = (await resp.json())["searches"]
    return {row["source"]: row for row in reversed(newest_first)}  # each source's newest


def asked_search(site: SavedSite) -> int:
    return site.paths.count(site.pages.search_path)


# ------------------------------------------------------------------ an empty index


async def test_an_empty_index_answers_from_the_sites_and_then_from_itself(
    through: Through, servers: list[Any]
) -> None:
    lime, td = await saved(servers, "limetorrents"), await saved(servers, "torrentdownloads")
    leetx = await SiteServer(pages=1).start()
    indexer = await TorznabIndexer().start()
    servers += [leetx, indexer]
    feed_url = f"{indexer.url}/api/v2.0/indexers/demo/results/torznab/api?apikey=s3cret&t=search"
    api = await through(
        {"limetorrents": lime.url, "torrentdownloads": td.url, "1337x": leetx.url},
        feeds={"demo": feed_url},
    )
    assert (await api.search(q="sintel"))["total"] == 0  # a new install: nothing indexed

    first = titles(await torznab(api, t="search", q="sintel 2010"))

    assert first, "the sites' results answer the search"
    assert all("sintel" in title.lower() for title in first)
    assert (asked_search(lime), asked_search(td)) == (1, 1)
    assert leetx.listing_paths() == ["/search/sintel+2010/1/"]
    assert [(q.get("t"), q.get("q"), q.get("apikey")) for q in indexer.queries] == [
        ("search", "sintel 2010", "s3cret")
    ]
    status = await live_status(api, "sintel 2010")
    assert {source: row["error"] for source, row in status.items()} == {
        "1337x": None, "limetorrents": None, "torrentdownloads": None, "feed:demo": None,
    }  # fmt: skip
    assert status["limetorrents"]["results"] == 14
    assert (status["feed:demo"]["results"], status["feed:demo"]["new"]) == (5, 5)
    # what the sites returned is stored for every search, not only this one
    monkeys = await api.search(q="monkeys")
    assert monkeys["total"] == 1
    assert monkeys["hits"][0]["sources"] == ["feed:demo"]
    hit = next(h for h in (await api.search(q="sintel", limit=100))["hits"])
    assert {"limetorrents", "torrentdownloads"} & set(hit["sources"])

    requests_so_far = (len(lime.paths), len(td.paths), len(leetx.paths), len(indexer.queries))

    second = titles(await torznab(api, t="search", q="Sintel   2010"))

    assert sorted(second) == sorted(first)
    assert (len(lime.paths), len(td.paths), len(leetx.paths), len(indexer.queries)) == (
        requests_so_far
    )  # no site was asked again


# ------------------------------------------------------------------ slow, failing, blocked


async def test_a_slow_site_misses_the_answer_and_is_stored_late_while_failures_are_shown(
    through: Through, servers: list[Any]
) -> None:
    lime = await saved(servers, "limetorrents")
    slow = await saved(servers, "torrentdownloads", gated=True)
    assert isinstance(slow, GatedSite)
    blocked = await SiteServer(pages=1).start()
    servers.append(blocked)
    blocked.override_all = challenge_override()
    api = await through(
        {
            "limetorrents": lime.url,
            "torrentdownloads": slow.url,
            "1337x": blocked.url,
            "apibay": closed_url(),
        },
        **{"live.source_deadline_s": 3.0, "live.global_deadline_s": 4.0},
    )

    found = titles(await torznab(api, t="search", q="sintel 2010"))

    assert slow.asked
    assert not slow.answered  # the answer went out while it still waited
    assert found
    assert all("sintel" in title.lower() for title in found)
    status = await live_status(api, "sintel 2010")
    assert status["limetorrents"]["error"] is None
    assert status["limetorrents"]["results"] == 14
    assert "deadline" in status["torrentdownloads"]["error"]
    assert "challenge" in (status["1337x"]["error"] or "").lower()
    assert status["apibay"]["error"]
    before = {h["info_hash"] for h in (await api.search(q="sintel", limit=500))["hits"]}

    slow.gate.set()  # the slow site answers now; its crawl goes on in the background
    await api.core.services.live.wait_idle()
    await api.drain()

    late = (await live_status(api, "sintel 2010"))["torrentdownloads"]
    assert (late["late"], late["error"], late["results"]) == (True, None, 38)
    after = await api.search(q="sintel", limit=500)
    added = {h["info_hash"] for h in after["hits"]} - before
    assert added, "the late site's torrents are stored and searchable"
    assert all("torrentdownloads" in h["sources"] for h in after["hits"] if h["info_hash"] in added)


async def test_the_same_search_arriving_twice_at_once_asks_the_sites_once(
    through: Through, servers: list[Any]
) -> None:
    slow = await saved(servers, "limetorrents", gated=True)
    assert isinstance(slow, GatedSite)
    api = await through({"limetorrents": slow.url})

    first = asyncio.create_task(torznab(api, t="search", q="sintel 2010"))
    for _ in range(500):
        if slow.asked:
            break
        await asyncio.sleep(0.01)
    second = asyncio.create_task(torznab(api, t="search", q="Sintel 2010"))  # Prowlarr too
    await asyncio.sleep(0.3)  # the second request is in, waiting on the first's fan-out
    slow.gate.set()
    answers = [titles(root) for root in await asyncio.gather(first, second)]

    assert asked_search(slow) == 1
    assert answers[0]
    assert sorted(answers[0]) == sorted(answers[1])


async def test_categories_choose_the_sources_and_reach_a_torznab_indexer(
    through: Through, servers: list[Any]
) -> None:
    yts_asked: list[dict[str, str]] = []

    async def yts(request: web.Request) -> web.Response:  # YTS's JSON API: movies only
        yts_asked.append(dict(request.query))
        return web.Response(body=YTS_ANSWER.read_bytes(), content_type="application/json")

    yts_server, yts_url = await serve(yts)
    indexer = await TorznabIndexer().start()
    servers += [indexer]
    try:
        api = await through(
            {"yts": yts_url},
            feeds={"demo": f"{indexer.url}/api?apikey=s3cret&t=search"},
        )

        await torznab(api, t="tvsearch", q="monkeys", cat="5000,5040")

        assert yts_asked == []  # a TV search does not ask a movies-only API
        assert [(q["q"], q["cat"]) for q in indexer.queries] == [("monkeys", "5000,5040")]

        await torznab(api, t="movie", q="wild 2014")

        assert [q.get("query_term") for q in yts_asked] == ["wild 2014"]
        assert [(q["q"], q["cat"]) for q in indexer.queries][1] == ("wild 2014", "2000")
    finally:
        await yts_server.close()


# ------------------------------------------------------------------ Sonarr by id


async def test_sonarr_tvsearch_by_tvdb_id_alone_fans_out_by_the_show_name(
    through: Through, servers: list[Any]
) -> None:
    tpb = await saved(servers, "thepiratebay")
    tmdb = await FakeTmdb().start()
    servers.append(tmdb)
    api = await through(
        {"thepiratebay": tpb.url},
        **{
            "enrich.enabled": True,
            "enrich.tmdb_api_key": "test-key",
            "enrich.tmdb_url": f"{tmdb.url}/3",
        },
    )

    root = await torznab(api, t="tvsearch", tvdbid=ARROW_TVDB, season=5, ep=7, cat="5000,5040")

    assert tpb.paths[0] == "/search/Arrow%20S05E07/0/99/0"  # the name and episode, as text
    assert [path for path, _ in tmdb.asked] == [f"/3/find/{ARROW_TVDB}"]
    assert tmdb.asked[0][1]["external_source"] == "tvdb_id"
    found = titles(root)
    assert len(found) == 24  # one filed under HD Movies by its uploader: S05E07 says TV
    assert all(t.lower().startswith("arrow") and "s05e07" in t.lower() for t in found)
    for item in root.findall("./channel/item"):
        attrs = {a.get("name"): a.get("value") for a in item.findall("{*}attr")}
        assert (attrs["season"], attrs["episode"]) == ("5", "7")
        assert "5000" in [c.text for c in item.findall("category")]

    # asked again (Sonarr retries): the index answers, the name is not looked up again
    again = titles(await torznab(api, t="tvsearch", tvdbid=ARROW_TVDB, season=5, ep=7))
    assert sorted(again) == sorted(found)
    assert tpb.paths.count("/search/Arrow%20S05E07/0/99/0") == 1
    assert len(tmdb.asked) == 1


async def test_an_rss_poll_reaches_no_site(through: Through, servers: list[Any]) -> None:
    lime = await saved(servers, "limetorrents")
    api = await through({"limetorrents": lime.url})
    for params in ({"t": "search"}, {"t": "tvsearch", "cat": "5000"}, {"t": "movie"}):
        assert titles(await torznab(api, **params)) == []
    assert lime.paths == []
    assert await live_status(api, "") == {}


async def test_an_id_nobody_can_name_asks_no_site(through: Through, servers: list[Any]) -> None:
    lime = await saved(servers, "limetorrents")
    api = await through({"limetorrents": lime.url})  # no TMDb key: nothing names the id
    assert titles(await torznab(api, t="tvsearch", tvdbid=ARROW_TVDB, season=5, ep=7)) == []
    assert lime.paths == []


# ------------------------------------------------------------------ the JSON API


async def test_the_json_search_goes_live_when_asked_and_shows_each_source(
    through: Through, servers: list[Any]
) -> None:
    lime = await saved(servers, "limetorrents")
    api = await through({"limetorrents": lime.url, "torrentdownloads": closed_url()})

    off = await api.search(q="sintel 2010")
    assert (off["total"], "live" in off, lime.paths) == (0, False, [])

    body = await api.search(q="sintel 2010", live="always")

    assert body["total"] > 0
    assert body["live"]["query"] == "sintel 2010"
    sources = {s["source"]: s for s in body["live"]["sources"]}
    assert sources["limetorrents"]["status"] == "answered"
    assert sources["limetorrents"]["results"] == 14
    assert sources["torrentdownloads"]["status"] == "failed"
    assert sources["torrentdownloads"]["error"]

    auto = await api.search(q="sintel 2010", live="auto")  # asked just now: the index answers
    assert auto["total"] == body["total"]
    assert "live" not in auto
    assert asked_search(lime) == 1

    bad = await api.get("/api/search", params={"q": "x", "live": "sometimes"})
    assert "live" in (await error_of(bad, 400))["message"]
