"""`/api/feeds` over the live app: list, add, remove, and every bad request as a JSON error.

Adding a feed needs no reachable URL (nothing is fetched here: crawling is off in
the test settings). Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

import pytest

from tests.server.conftest import Api, error_of


async def test_feeds_are_added_listed_and_removed(api: Api) -> None:
    resp = await api.get("/api/feeds")
    assert (resp.status, await resp.json()) == (200, {"feeds": []})

    body = {"name": "showrss", "url": "https://showrss.example/feeds/all.rss", "every": "30m"}
    resp = await api.post("/api/feeds", json.dumps(body))
    assert resp.status == 201, await resp.text()
    added = await resp.json()
    assert (added["name"], added["source"], added["every_s"], added["origin"]) == (
        "showrss",
        "feed:showrss",
        1800.0,
        "api",
    )
    assert added["crawler"]["state"] == "disabled"  # crawling is off in the test settings

    listed = (await (await api.get("/api/feeds")).json())["feeds"]
    assert [f["name"] for f in listed] == ["showrss"]
    crawlers = (await (await api.get("/api/crawlers")).json())["crawlers"]
    assert "feed:showrss" in [c["id"] for c in crawlers]

    resp = await api.client.delete("/api/feeds/showrss", headers=api.headers())
    assert resp.status == 204
    await error_of(await api.client.delete("/api/feeds/showrss", headers=api.headers()), 404)
    assert (await (await api.get("/api/feeds")).json())["feeds"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"name": "x1"}', "required"),
        ('{"name": 5, "url": "https://a.example/rss"}', "name: must be a string"),
        ('{"name": "Bad Name!", "url": "https://a.example/rss"}', "name"),
        ('{"name": "x1", "url": "file:///etc/passwd"}', "http:// or https://"),
        ('{"name": "x1", "url": "https://a.example/rss", "every": "1s"}', "outside"),
        ('{"name": "x1", "url": "https://a.example/rss", "every": "soon"}', "not an interval"),
        ('{"name": "' + "x" * 5000 + '", "url": "https://a.example/rss"}', "name"),
    ],
)
async def test_bad_feed_requests_are_json_errors(api: Api, body: str, message: str) -> None:
    error = await error_of(await api.post("/api/feeds", body), 400)
    assert message in error["message"]
    assert len(error["message"]) < 300  # a huge name is not echoed whole
    assert (await (await api.get("/api/feeds")).json())["feeds"] == []


async def test_a_taken_name_and_a_missing_key_are_refused(api: Api) -> None:
    body = json.dumps({"name": "nyaa", "url": "https://nyaa.example/?page=rss"})
    assert (await api.post("/api/feeds", body)).status == 201
    error = await error_of(await api.post("/api/feeds", body), 400)
    assert "exists" in error["message"]
    await error_of(await api.post("/api/feeds", body, auth=False), 401)
    await error_of(await api.get("/api/feeds", auth=False), 401)
    await error_of(await api.post("/api/feeds", "x" * 20_000), 413)


async def test_a_feeds_tracker_key_is_never_shown_back(api: Api) -> None:
    url = "https://tracker.example/rss?passkey=0123456789abcdef&apikey=s3cr3t&cat=5000"
    body = {"name": "private", "url": url}
    resp = await api.post("/api/feeds", json.dumps(body))
    assert resp.status == 201, await resp.text()
    for shown in (
        (await resp.json())["url"],
        (await (await api.get("/api/feeds")).json())["feeds"][0]["url"],
    ):
        assert "0123456789abcdef" not in shown
        assert "s3cr3t" not in shown
        assert "cat=5000" in shown  # the rest of the URL is kept for recognising the feed
