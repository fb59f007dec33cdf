"""The feed parser on saved real feeds (value by value) and on hostile bodies.

The feeds are the test files of Sonarr, Prowlarr, Jackett, FlexGet, nzbhydra2 and
bitmagnet (tests/fixtures/rss and tests/fixtures/torznab, sources in MANIFEST.tsv):
EZTV/ezRSS, showRSS, nyaa, LimeTorrents, KickassTorrents, IPTorrents, TorrentDay,
TorrentLeech, Jackett/Prowlarr/Cardigann Torznab, Newznab, plus edge cases.

Each feed has a golden file under tests/fixtures/feed-golden/, written once by
the parser and then checked by hand against the XML: sizes are binary-unit
products (1.37 GB = int(1.37 * 1024**3)), dates are the pubDate in UTC, leechers
are Torznab/ezRSS `peers` minus `seeders`. To rewrite them after a deliberate
change, run with MINATO_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.models import RawRecord
from engine.normalize import normalize
from engine.sources.feed_parse import (
    MAX_DEPTH,
    MAX_FEED_BYTES,
    MAX_ITEMS,
    MAX_MARKUP,
    SKIP_NO_HASH,
    SKIP_NO_TITLE,
    SKIP_NZB,
    SKIP_PAST_LIMIT,
    SKIP_TITLE_TOO_LONG,
    FeedError,
    FeedPage,
    parse_feed,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
GOLDEN = FIXTURES / "feed-golden"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
FEED_URL = "https://indexer.example/api/v2/feed?t=search"
HASH_A = "a" * 40

FEEDS = [
    "rss/flexget_rss_edgecases.xml",
    "rss/flexget_rss_escape.xml",
    "rss/jackett_invalid_rss.xml",
    "rss/sonarr_ezrss.xml",
    "rss/sonarr_eztv_invalid_size.xml",
    "rss/sonarr_iptorrents.xml",
    "rss/sonarr_kickasstorrents.xml",
    "rss/sonarr_limetorrents.xml",
    "rss/sonarr_nyaa2021.xml",
    "rss/sonarr_showrss.xml",
    "rss/sonarr_torrentday_nopubdate.xml",
    "rss/sonarr_torrentleech.xml",
    "torznab/bitmagnet_torznab_result_example.xml",
    "torznab/jackett_test_torznab_hdaccess.xml",
    "torznab/nzbhydra2_cardigann_torznab.xml",
    "torznab/nzbhydra2_newznab_3results.xml",
    "torznab/prowlarr_torznab_morethantv.xml",
    "torznab/sonarr_encoded_title.xml",
    "torznab/sonarr_relative_urls.xml",
    "torznab/sonarr_torznab_hdaccess_net.xml",
    "torznab/sonarr_torznab_tpb.xml",
]
NOT_FEEDS = {
    "torznab/sonarr_newznab_error_unauthorized.xml": "error 100: Incorrect user credentials",
    "torznab/sonarr_newznab_caps.xml": "a caps document, not a feed",
    "torznab/bitmagnet_torznab_caps_example.xml": "a caps document, not a feed",
    "torznab/nzbhydra2_jackett_t_indexers_caps.xml": "a list of indexers",
}


def fixture(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def parse(body: bytes | str, **kwargs: Any) -> FeedPage:
    data = body.encode() if isinstance(body, str) else body
    return parse_feed(data, source="feed:test", feed_url=kwargs.get("feed_url", FEED_URL), now=NOW)


def rss(items: str, *, namespaces: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" {namespaces}>'
        f"<channel><title>Test feed</title>{items}</channel></rss>"
    )


def item(title: str = "Some.Release.2024.1080p", extra: str = "", guid: str = "g1") -> str:
    return f"<item><title>{title}</title><guid>{guid}</guid>{extra}</item>"


def magnet(info_hash: str = HASH_A) -> str:
    return f"magnet:?xt=urn:btih:{info_hash}&amp;dn=x"


TORZNAB_NS = 'xmlns:torznab="http://torznab.com/schemas/2015/feed"'


def page_dict(page: FeedPage) -> dict[str, Any]:
    def one(feed_item: Any) -> dict[str, Any]:
        record: RawRecord = feed_item.record
        return {
            "guid": feed_item.guid,
            "title": record.title,
            "info_hash": record.info_hash,
            "magnet": record.magnet,
            "torrent_url": feed_item.torrent_url,
            "size": record.size,
            "seeders": record.seeders,
            "leechers": record.leechers,
            "published_at": record.published_at.isoformat() if record.published_at else None,
            "category": record.category,
            "categories": list(feed_item.categories),
            "imdb_id": record.imdb_id,
            "tmdb_id": record.tmdb_id,
            "tvdb_id": record.tvdb_id,
            "source_url": record.source_url,
        }

    return {
        "title": page.title,
        "skipped": dict(sorted(page.skipped.items())),
        "items": [one(i) for i in page.items],
    }


# ------------------------------------------------------------------ saved feeds


@pytest.mark.parametrize("relative", FEEDS)
def test_saved_feed_matches_golden(relative: str) -> None:
    actual = page_dict(parse(fixture(relative)))
    path = GOLDEN / (Path(relative).stem + ".json")
    if os.environ.get("MINATO_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n", "utf-8")
    expected = json.loads(path.read_text("utf-8"))
    assert actual == expected, f"{relative}: parse differs from {path}"


@pytest.mark.parametrize("relative", FEEDS)
def test_every_hashed_item_normalizes(relative: str) -> None:
    """What the parser hands over passes normalization as is (hash, magnet, date, ids)."""
    for feed_item in parse(fixture(relative)).items:
        if feed_item.record.info_hash is None:
            assert feed_item.torrent_url is not None
            continue
        record = normalize(feed_item.record, NOW)
        assert record.info_hash == feed_item.record.info_hash


def test_item_counts_per_feed() -> None:
    counts = {}
    for relative in FEEDS:
        page = parse(fixture(relative))
        counts[Path(relative).stem] = (len(page.items), dict(page.skipped))
    assert counts == {
        "flexget_rss_edgecases": (1, {SKIP_NO_HASH: 8, SKIP_NO_TITLE: 1}),
        "flexget_rss_escape": (5, {}),
        "jackett_invalid_rss": (0, {}),
        "sonarr_ezrss": (3, {}),
        "sonarr_eztv_invalid_size": (1, {}),
        "sonarr_iptorrents": (5, {}),
        "sonarr_kickasstorrents": (5, {}),
        "sonarr_limetorrents": (5, {}),
        "sonarr_nyaa2021": (3, {}),
        "sonarr_showrss": (5, {}),
        "sonarr_torrentday_nopubdate": (1, {}),
        "sonarr_torrentleech": (5, {}),
        "bitmagnet_torznab_result_example": (7, {}),
        "jackett_test_torznab_hdaccess": (5, {}),
        "nzbhydra2_cardigann_torznab": (2, {}),
        "nzbhydra2_newznab_3results": (0, {SKIP_NZB: 3}),
        "prowlarr_torznab_morethantv": (2, {}),
        "sonarr_encoded_title": (0, {SKIP_NZB: 1}),
        "sonarr_relative_urls": (0, {SKIP_NZB: 1}),
        "sonarr_torznab_hdaccess_net": (5, {}),
        "sonarr_torznab_tpb": (5, {}),
    }


def test_repeated_torznab_attrs_are_all_read() -> None:
    """feedparser keeps only the last `torznab:attr`; every one of them counts."""
    first = parse(fixture("torznab/sonarr_torznab_hdaccess_net.xml")).items[0]
    assert first.record.info_hash == "63e07ff523710ca268567dad344ce1e0e6b7e8a3"
    assert first.categories == (5000, 5040, 100009, 100036)
    assert first.record.category == "5040"  # the subcategory, not its parent or a custom id
    assert first.record.imdb_id == "tt3032476"
    assert first.record.tvdb_id == 273181
    assert (first.record.seeders, first.record.leechers) == (7, 0)


def test_torznab_peers_count_seeders_and_leechers() -> None:
    first = parse(fixture("torznab/sonarr_torznab_tpb.xml")).items[0]
    assert (first.record.seeders, first.record.leechers) == (34128, 36724 - 34128)
    assert first.record.magnet is not None
    assert first.record.magnet.startswith("magnet:?xt=urn:btih:9fb267cff5ae5603f07a3476")


def test_prowlarr_size_is_the_content_not_the_torrent_file() -> None:
    """Its enclosure length is the .torrent's (103641 bytes); the size attr is the content's."""
    first = parse(fixture("torznab/prowlarr_torznab_morethantv.xml")).items[0]
    assert first.record.size == 5412993028
    assert first.record.imdb_id == "tt0039689"
    # "(removed)" is no hash: the item waits for its .torrent instead.
    assert first.record.info_hash is None
    assert first.torrent_url is not None
    assert "action=download" in first.torrent_url


def test_ezrss_base32_magnet_agrees_with_its_hex_hash() -> None:
    first = parse(fixture("rss/sonarr_ezrss.xml")).items[0]
    assert first.record.info_hash == "20fc4fbfa88272274ac671f857cc15144e9aa83e"
    assert first.record.magnet is not None
    assert "ED6E7P5IQJZCOSWGOH4FPTAVCRHJVKB6" in first.record.magnet
    assert first.record.size == 796606175


def test_namespaced_nyaa_values() -> None:
    first = parse(fixture("rss/sonarr_nyaa2021.xml")).items[0]
    assert first.record.info_hash == "e8ca5e20eca876339f41c3d9e95ea66c1d7caaee"
    assert first.record.size == int(609.6 * 1024**2)
    assert (first.record.seeders, first.record.leechers) == (4, 3)
    assert first.record.category == "Anime - Non-English-translated"
    assert first.record.source_url == "https://nyaa.si/view/1424896"


def test_kickass_peers_include_the_seeders() -> None:
    first = parse(fixture("rss/sonarr_kickasstorrents.xml")).items[0]
    assert (first.record.seeders, first.record.leechers) == (206, 311 - 206)
    assert first.record.size == 1205364736


def test_sizes_written_in_descriptions() -> None:
    items = parse(fixture("rss/sonarr_iptorrents.xml")).items
    assert items[0].record.size == int(1.37 * 1024**3)  # "Size: 1.37 GB"
    assert items[1].record.size == 556 * 1024**2  # "556 MB; TV/x264", no label
    day = parse(fixture("rss/sonarr_torrentday_nopubdate.xml")).items[0]
    assert day.record.size == 341 * 1024**2  # "Size: 341 m"
    assert day.record.published_at is None


def test_torrentleech_swarm_from_its_description() -> None:
    first = parse(fixture("rss/sonarr_torrentleech.xml")).items[0]
    assert (first.record.seeders, first.record.leechers) == (1, 7)
    assert first.record.info_hash is None
    assert first.torrent_url == (
        "http://www.torrentleech.org/rss/download/513575/1234/"
        "Classic.Car.Rescue.S02E04.720p.HDTV.x264-C4TV.torrent"
    )
    assert first.record.source_url == "http://www.torrentleech.org/torrent/513575"


def test_encoded_title_is_decoded() -> None:
    """The indexer escaped "&" twice; the saved feed is usenet, so test it as a torrent feed."""
    assert parse(fixture("torznab/sonarr_encoded_title.xml")).skipped == {SKIP_NZB: 1}
    body = fixture("torznab/sonarr_encoded_title.xml").replace(
        b"application/x-nzb", b"application/x-bittorrent"
    )
    only = parse(body).items[0]
    assert only.record.title == "Series.&.Title.S02E19.EAC3.5.1.1080p.WEBRip.x265-iVy"
    assert only.torrent_url == "https://my.indexer.com/api?t=get&id=abc123&apikey=secret"
    assert only.record.source_url == "https://my.indexer.com/info.php?guid=abc123"
    assert only.record.size == 724655000


def test_bare_ampersands_stay_as_written() -> None:
    """Only entities with their ";" are decoded: "&not" in a name is no "¬"."""
    body = rss(
        item(
            title="Me&amp;notes &amp;amp; Tom&amp;Jerry&amp;#39;s", extra=f"<link>{magnet()}</link>"
        )
    )
    assert parse(body).items[0].record.title == "Me&notes & Tom&Jerry's"


def test_relative_urls_resolve_against_the_feed_url() -> None:
    body = fixture("torznab/sonarr_relative_urls.xml").replace(
        b"application/x-nzb", b"application/x-bittorrent"
    )
    only = parse(body).items[0]
    assert only.torrent_url == "https://indexer.example/api/v2/getnzb/123.nzb&i=123&r=123"
    assert only.record.source_url == "https://indexer.example/api/v2/details/123"
    assert only.guid == "details/123"  # an identifier, kept as written


def test_malformed_but_recoverable_feed_keeps_its_items() -> None:
    """FlexGet's escape test: bare "&" in titles and URLs is not well-formed XML."""
    page = parse(fixture("rss/flexget_rss_escape.xml"))
    assert [i.record.title for i in page.items] == [
        "Snatch",
        "Snatch &2",
        "Snatch &4",
        "Snatch &5",
        "Cyrillic &тест",
    ]


def test_channel_without_items_is_an_empty_page() -> None:
    page = parse(fixture("rss/jackett_invalid_rss.xml"))
    assert page.title == "RSS Syndicator"
    assert page.items == ()
    assert page.skipped == {}


@pytest.mark.parametrize(("relative", "message"), NOT_FEEDS.items())
def test_documents_that_are_not_feeds(relative: str, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse(fixture(relative))


def test_error_document_carries_its_code() -> None:
    with pytest.raises(FeedError) as raised:
        parse(fixture("torznab/sonarr_newznab_error_unauthorized.xml"))
    assert raised.value.code == "100"
    assert "Incorrect user credentials" in str(raised.value)


# ------------------------------------------------------------------ item rules


def test_hash_sources_in_order() -> None:
    attr = rss(
        item(extra=f'<torznab:attr name="infohash" value="{"B" * 40}"/>'), namespaces=TORZNAB_NS
    )
    assert parse(attr).items[0].record.info_hash == "b" * 40
    base32 = rss(item(extra=f"<link>magnet:?xt=urn:btih:{'C' * 32}</link>"))
    assert parse(base32).items[0].record.info_hash == "10842108421084210842" * 2
    comments = rss(item(extra=f"<comments>{magnet()}</comments>"))
    assert parse(comments).items[0].record.info_hash == HASH_A
    in_guid = rss(item(guid=magnet("d" * 40)))
    assert parse(in_guid).items[0].record.info_hash == "d" * 40
    ns = 'xmlns:torrent="http://xmlns.ezrss.it/0.1/"'
    element = rss(item(extra=f"<torrent:infoHash>{'E' * 40}</torrent:infoHash>"), namespaces=ns)
    assert parse(element).items[0].record.info_hash == "e" * 40


def test_magnet_that_contradicts_the_hash_is_dropped() -> None:
    """Normalization refuses a record whose magnet and hash differ; the explicit hash wins."""
    body = rss(
        item(
            extra=f'<link>{magnet("f" * 40)}</link><torznab:attr name="infohash" value="{HASH_A}"/>'
        ),
        namespaces=TORZNAB_NS,
    )
    record = parse(body).items[0].record
    assert (record.info_hash, record.magnet) == (HASH_A, None)
    normalize(record, NOW)


def test_garbage_hashes_fall_through() -> None:
    body = rss(
        item(
            extra='<torznab:attr name="infohash" value="not-a-hash"/>'
            "<link>magnet:?xt=urn:btih:xyz</link>"
            '<enclosure url="https://t.example/dl/1.torrent" length="0" />'
        ),
        namespaces=TORZNAB_NS,
    )
    only = parse(body).items[0]
    assert only.record.info_hash is None
    assert only.torrent_url == "https://t.example/dl/1.torrent"


def test_item_without_hash_or_torrent_is_counted() -> None:
    body = rss(item(extra="<link>https://site.example/view/1</link>"))
    page = parse(body)
    assert page.items == ()
    assert page.skipped == {SKIP_NO_HASH: 1}


def test_guid_falls_back_to_link_then_to_a_stable_hash() -> None:
    link_only = rss(
        f"<item><title>A</title><link>https://s.example/a</link>"
        f'<enclosure url="{magnet()}" type="application/x-bittorrent"/></item>'
    )
    assert parse(link_only).items[0].guid == "https://s.example/a"
    bare = rss(f'<item><title>A</title><enclosure url="{magnet()}"/></item>')
    first, second = parse(bare).items[0].guid, parse(bare).items[0].guid
    assert first == second
    assert first.startswith("sha256:")
    other = rss(f'<item><title>B</title><enclosure url="{magnet()}"/></item>')
    assert parse(other).items[0].guid != first


def test_sizes_refuse_zero_and_garbage() -> None:
    body = rss(
        item(
            extra=f'<enclosure url="{magnet()}" length="0"/><size>garbage</size>'
            "<description>Size: 0 B</description>"
        )
    )
    assert parse(body).items[0].record.size is None
    small = rss(item(extra=f'<enclosure url="{magnet()}" length="20480"/>'))
    assert parse(small).items[0].record.size is None  # a .torrent's size, not the content's


def test_source_url_never_carries_a_passkey() -> None:
    for relative in FEEDS:
        for feed_item in parse(fixture(relative)).items:
            url = feed_item.record.source_url or ""
            assert "passkey" not in url
            assert "torrent_pass" not in url
            assert "apikey" not in url
            assert not url.endswith(".torrent")


def test_dates_in_the_future_or_before_bittorrent_are_dropped() -> None:
    future = rss(
        item(extra=f"<link>{magnet()}</link><pubDate>Mon, 01 Jan 2030 00:00:00 +0000</pubDate>")
    )
    assert parse(future).items[0].record.published_at is None
    old = rss(
        item(extra=f"<link>{magnet()}</link><pubDate>Fri, 01 Jan 1982 00:00:00 +0000</pubDate>")
    )
    assert parse(old).items[0].record.published_at is None
    fine = rss(
        item(extra=f"<link>{magnet()}</link><pubDate>Sat, 01 Feb 2025 10:00:00 +0200</pubDate>")
    )
    assert parse(fine).items[0].record.published_at == datetime(2025, 2, 1, 8, tzinfo=UTC)


def test_category_label_without_torznab_ids() -> None:
    body = rss(item(extra=f"<link>{magnet()}</link><category>Movies &gt; HD</category>"))
    only = parse(body).items[0]
    assert (only.record.category, only.categories) == ("Movies > HD", ())


def test_atom_and_rss1_feeds() -> None:
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title>'
        "<entry><title>A</title><id>urn:x:1</id><updated>2024-01-02T03:04:05Z</updated>"
        '<link rel="enclosure" type="application/x-bittorrent" href="/dl/1.torrent"/>'
        "</entry></feed>"
    )
    only = parse(atom).items[0]
    assert only.torrent_url == "https://indexer.example/dl/1.torrent"
    assert only.record.published_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert only.guid == "urn:x:1"
    rdf = (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="c"><title>R</title></channel>'
        f'<item rdf:about="i"><title>B</title><link>{magnet()}</link></item></rdf:RDF>'
    )
    assert parse(rdf).items[0].record.info_hash == HASH_A


def test_utf16_feed() -> None:
    text = rss(item(title="Été", extra=f"<link>{magnet()}</link>")).replace("utf-8", "utf-16")
    assert parse(text.encode("utf-16")).items[0].record.title == "Été"


def test_item_limit() -> None:
    items = "".join(
        item(title=f"T{n}", guid=f"g{n}", extra=f"<link>{magnet(f'{n + 1:040x}')}</link>")
        for n in range(MAX_ITEMS + 3)
    )
    page = parse(rss(items))
    assert len(page.items) == MAX_ITEMS
    assert page.skipped == {SKIP_PAST_LIMIT: 3}


# ------------------------------------------------------------------ hostile bodies


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b" \r\n\t ", "empty"),
        (b'{"error": "bad key"}', "JSON"),
        (b"\n [1, 2]", "JSON"),
        (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>", "HTML"),
        (b"<html><body><item><title>x</title></item></body></html>", "HTML"),
        (b"Service Unavailable", "neither a feed nor XML"),
        (b"\x00" * 1000, "neither a feed nor XML"),
        (bytes(range(256)) * 4, "neither a feed nor XML"),
        (b"<?xml version='1.0'?><torrents><t>1</t></torrents>", "root is <torrents>"),
    ],
)
def test_bodies_that_are_not_feeds(body: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse(body)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>',
        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!doctype rss [<!entity % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>',
    ],
)
def test_entity_declarations_are_refused(doctype: str) -> None:
    body = f'<?xml version="1.0"?>{doctype}' + rss(item(title="&lol2;")).split("?>", 1)[1]
    with pytest.raises(FeedError, match="entities"):
        parse(body)
    with pytest.raises(FeedError, match="entities"):
        parse(body.replace('"1.0"?>', '"1.0" encoding="utf-16"?>').encode("utf-16"))


def test_external_dtd_is_neither_fetched_nor_fatal() -> None:
    """RSS 0.91 feeds name Netscape's DTD; nothing is fetched (the test run has no network)."""
    body = (
        '<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'
        + rss(item(extra=f"<link>{magnet()}</link>")).split("?>", 1)[1]
    )
    assert parse(body).items[0].record.info_hash == HASH_A


def test_body_size_cap() -> None:
    body = rss(
        item(extra=f"<link>{magnet()}</link><description>{'x' * MAX_FEED_BYTES}</description>")
    )
    with pytest.raises(FeedError, match="bytes, more than"):
        parse(body)


def test_markup_cap() -> None:
    with pytest.raises(FeedError, match="tags"):
        parse(rss("<x/>" * (MAX_MARKUP + 1)))


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(FeedError, match=f"more than {MAX_DEPTH} deep"):
        parse(rss(item(extra="<a>" * (MAX_DEPTH + 10) + "</a>" * (MAX_DEPTH + 10))))


def test_huge_title_is_counted_and_the_rest_kept() -> None:
    body = rss(
        item(title="A" * 1_000_000, guid="big", extra=f"<link>{magnet()}</link>")
        + item(title="Fine", guid="ok", extra=f"<link>{magnet('b' * 40)}</link>")
    )
    page = parse(body)
    assert [i.guid for i in page.items] == ["ok"]
    assert page.skipped == {SKIP_TITLE_TOO_LONG: 1}


def test_nul_bytes_in_items() -> None:
    body = rss(
        item(title="A\x00B", guid="nul", extra=f"<link>{magnet()}</link>")
        + item(title="\x00\x00", guid="only-nul", extra=f"<link>{magnet('b' * 40)}</link>")
    ).encode()
    page = parse(body)
    assert [i.guid for i in page.items] == ["nul"]
    assert page.skipped == {SKIP_NO_TITLE: 1}
    assert normalize(page.items[0].record, NOW).title == "A B"


def test_a_file_path_body_is_not_opened(tmp_path: Path) -> None:
    """feedparser opens a `bytes` argument as a file name if it can; the parser must not."""
    feed = tmp_path / "local.xml"
    feed.write_text(rss(item(extra=f"<link>{magnet()}</link>")))
    with pytest.raises(FeedError, match="neither a feed nor XML"):
        parse(str(feed).encode())


@pytest.mark.parametrize("relative", ["rss/sonarr_ezrss.xml", "torznab/sonarr_torznab_tpb.xml"])
def test_truncated_and_corrupted_feeds_never_crash(relative: str) -> None:
    body = fixture(relative)
    bodies = [body[:cut] for cut in range(0, len(body), 97)]
    rng = random.Random(7)
    for _ in range(60):
        mutated = bytearray(body)
        for _ in range(20):
            mutated[rng.randrange(len(mutated))] = rng.choice(b"<>&\"'\x00]!/ ")
        bodies.append(bytes(mutated))
    for candidate in bodies:
        try:
            page = parse(candidate)
        except FeedError:
            continue
        for feed_item in page.items:
            assert feed_item.record.info_hash or feed_item.torrent_url


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
 <title>Example torrents</title><id>urn:x</id><updated>2026-11-20T10:00:00Z</updated>
 <entry><title>Show.Name.S01E02.1080p.WEB.h264-GRP</title><id>urn:uuid:1</id>
  <updated>2026-11-20T09:00:00Z</updated>
  <link rel="alternate"
        href="magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&amp;dn=x"/>
  <link rel="enclosure" type="application/x-bittorrent" length="734003200"
        href="https://t.example/1.torrent"/>
 </entry>
 <entry><title>No torrent here</title><id>urn:uuid:2</id><updated>2026-11-20T08:00:00Z</updated>
  <link rel="alternate" href="https://t.example/news/2"/></entry>
</feed>"""


def test_an_atom_feed_gives_its_entries() -> None:
    page = parse_feed(
        ATOM, source="feed:atom", feed_url="https://t.example/atom", now=datetime.now(UTC)
    )
    assert page.title == "Example torrents"
    [item] = page.items
    assert item.guid == "urn:uuid:1"
    assert item.record.info_hash == "0123456789abcdef0123456789abcdef01234567"
    assert item.record.size == 734003200  # the enclosure's length
    assert item.record.published_at == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert sum(page.skipped.values()) == 1  # the entry that names no torrent
