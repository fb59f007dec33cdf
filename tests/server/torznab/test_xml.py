"""Torznab XML rendering: well-formed whatever the titles hold, in the shapes clients read.

Parsed back with lxml (strict: a broken document raises), the way a client would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import etree

from server.torznab.xml import (
    MAGNET_TYPE,
    TORZNAB_NS,
    Caps,
    Category,
    FeedItem,
    SearchMode,
    caps_xml,
    error_xml,
    feed_xml,
    rfc822,
    text,
)

NS = {"torznab": TORZNAB_NS}


def parse(document: str) -> etree._Element:
    return etree.fromstring(document.encode())


def item(title: str = "The.Matrix.1999.1080p.BluRay.x264-FGT", **more: object) -> FeedItem:
    values: dict[str, object] = {
        "title": title,
        "guid": "c9e15763f722f23e98a29decdfae341b98d53056",
        "published": datetime(2026, 11, 24, 5, 50, 48, tzinfo=UTC),
        "size": 8_500_000_000,
        "link": "magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056&dn=The+Matrix",
        "comments": "http://127.0.0.1:9797/api/torrents/c9e15763f722f23e98a29decdfae341b98d53056",
        "enclosure_url": "magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056&tr=x",
        "enclosure_type": MAGNET_TYPE,
        "categories": (2000, 2040),
        "attrs": (("seeders", 12), ("peers", 15), ("imdbid", "tt0133093")),
    }
    values.update(more)
    return FeedItem(**values)  # type: ignore[arg-type]


def test_pubdate_is_rfc822_with_a_numeric_zone() -> None:
    assert (
        rfc822(datetime(2026, 11, 24, 5, 50, 48, tzinfo=UTC)) == "Tue, 24 Nov 2026 05:50:48 +0000"
    )
    tokyo = timezone(timedelta(hours=9))
    assert rfc822(datetime(2026, 11, 24, 14, 50, 48, tzinfo=tokyo)).endswith("05:50:48 +0000")
    naive = datetime(2026, 11, 24, 5, 50, 48)  # noqa: DTZ001 - taken as UTC
    assert rfc822(naive) == "Tue, 24 Nov 2026 05:50:48 +0000"


def test_a_feed_has_what_sonarr_reads() -> None:
    root = parse(
        feed_xml([item()], title="Minato", link="http://127.0.0.1:9797/", offset=0, total=1)
    )
    assert root.tag == "rss"
    entries = root.findall("./channel/item")
    assert len(entries) == 1
    entry = entries[0]
    assert entry.findtext("title") == "The.Matrix.1999.1080p.BluRay.x264-FGT"
    assert entry.findtext("guid") == "c9e15763f722f23e98a29decdfae341b98d53056"
    assert entry.findtext("pubDate") == "Tue, 24 Nov 2026 05:50:48 +0000"
    assert int(entry.findtext("size") or "") == 8_500_000_000
    assert [c.text for c in entry.findall("category")] == ["2000", "2040"]
    enclosure = entry.find("enclosure")
    assert enclosure is not None
    assert enclosure.get("type") == MAGNET_TYPE
    assert enclosure.get("url", "").endswith("&tr=x")  # escaped on the way out, whole on the way in
    assert int(enclosure.get("length", "")) == 8_500_000_000
    attrs = {a.get("name"): a.get("value") for a in entry.findall("torznab:attr", NS)}
    assert attrs == {"seeders": "12", "peers": "15", "imdbid": "tt0133093"}
    response = root.find("./channel/torznab:response", NS)
    assert response is not None
    assert (response.get("offset"), response.get("total")) == ("0", "1")


@pytest.mark.parametrize(
    "title",
    [
        "Tom & Jerry <Complete> \"Collection\" 'Remastered'",
        "Amélie 2001 🎬 1080p 映画",
        "Bad\x00\x01\x08\x0b\x0c\x1fTitle\ufffe\uffff",
        "]]></title><script>alert(1)</script>",
        "x" * 20_000,
        "",
    ],
)
def test_any_title_gives_well_formed_xml(title: str) -> None:
    root = parse(feed_xml([item(title)], title=title, link="http://h/?a=1&b=2", offset=0, total=1))
    got = root.findtext("./channel/item/title") or ""
    assert got == text(title).replace("&amp;", "&").replace("&lt;", "<").replace(
        "&gt;", ">"
    ).replace("&quot;", '"').replace("&apos;", "'")
    assert "\x00" not in got


def test_caps_lists_modes_limits_and_categories() -> None:
    caps = Caps(
        title="Minato",
        version="1.3",
        default_limit=100,
        max_limit=100,
        modes=(
            SearchMode("search", True, ("q",)),
            SearchMode("tv-search", True, ("q", "season", "ep", "imdbid", "tvdbid")),
            SearchMode("book-search", False),
        ),
        categories=(Category(2000, "Movies", ((2040, "Movies/HD"), (2045, "Movies/UHD"))),),
    )
    root = parse(caps_xml(caps))
    assert root.tag == "caps"
    limits = root.find("limits")
    assert limits is not None
    assert (limits.get("default"), limits.get("max")) == ("100", "100")
    tv = root.find("./searching/tv-search")
    assert tv is not None
    assert tv.get("available") == "yes"
    assert tv.get("supportedParams") == "q,season,ep,imdbid,tvdbid"
    book = root.find("./searching/book-search")
    assert book is not None
    assert book.get("available") == "no"
    movies = root.find("./categories/category")
    assert movies is not None
    assert (movies.get("id"), movies.get("name")) == ("2000", "Movies")
    assert [s.get("id") for s in movies.findall("subcat")] == ["2040", "2045"]


def test_errors_are_newznab_error_elements() -> None:
    root = parse(error_xml(100, 'Incorrect user credentials: "apikey" & <key>'))
    assert root.tag == "error"
    assert root.get("code") == "100"
    assert root.get("description") == 'Incorrect user credentials: "apikey" & <key>'
