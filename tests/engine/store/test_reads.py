"""Reads and key rows: what the services see of the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, update

from engine.errors import StoreError
from engine.models import Classification, ClassifiedRecord, ContentKind, FileEntry, TorrentRecord
from engine.store.database import Database
from engine.store.keys import active_key_hashes, insert_key, list_keys, revoke_key, touch_key
from engine.store.reads import (
    classified_hashes,
    hash_pages,
    index_documents,
    metainfo_bytes,
    outbox_batch,
    outbox_size,
    source_names,
    summaries,
    torrent_count,
    torrent_detail,
)
from engine.store.schema import torrents
from engine.store.writer import Writer
from engine.torrent import parse_magnet

SLACKWARE = "6f8cd699135b491513e65d967a052a7087750d9c"
OFFICE = "3f1a59cb2a1cd7e1a0bd7d2ce0f9a0e5f2b7a4c1"
UNKNOWN = "0123456789abcdef0123456789abcdef01234567"

TV = Classification(
    kind=ContentKind.TV,
    category=5040,
    reason="test: tv",
    season=5,
    episode=14,
    resolution="720p",
    languages=("en", "es"),
)
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def rec(info_hash: str, title: str, source: str = "1337x", **fields: Any) -> ClassifiedRecord:
    classification = fields.pop("classification", None)
    return ClassifiedRecord(
        record=TorrentRecord(info_hash=info_hash, title=title, source=source, seen_at=T0, **fields),
        classification=classification,
    )


@pytest.fixture
def conn(database: Database, writer: Writer) -> Iterator[Connection]:
    writer.upsert(
        [
            rec(
                SLACKWARE,
                "slackware-14.1-iso",
                source="thepiratebay",
                files=(
                    FileEntry(path="slackware-14.1-iso/slackware-14.1-install-dvd.iso", size=7),
                    FileEntry(path="slackware-14.1-iso/CHECKSUMS.md5", size=3),
                ),
                trackers=("http://tracker1.transamrit.net:8082/announce",),
                metainfo=b"d4:infod4:name18:slackware-14.1-isoee",
                seeders=None,
            ),
            rec(SLACKWARE, "slackware-14.1-iso", source="1337x", seeders=40, leechers=2),
            rec(
                OFFICE,
                "The.Office.US.S05E14.720p.WEB-DL.DD5.1.H.264-NTb",
                source="eztv",
                classification=TV,
                published_at=T0 - timedelta(days=3),
                tvdb_id=73244,
                size=1_000_000,
            ),
        ]
    ).result(timeout=30)
    with database.reader.connect() as connection:
        yield connection


def test_summaries(conn: Connection) -> None:
    found = summaries(conn, [OFFICE, UNKNOWN, SLACKWARE, OFFICE])
    assert set(found) == {OFFICE, SLACKWARE}
    office = found[OFFICE]
    assert (office.kind, office.category, office.season, office.episode) == (
        ContentKind.TV,
        5040,
        5,
        14,
    )
    assert office.languages == ("en", "es")
    assert office.published_at == T0 - timedelta(days=3)
    assert office.sources == ("eztv",)
    slack = found[SLACKWARE]
    assert (slack.kind, slack.seeders, slack.leechers, slack.size, slack.file_count) == (
        None,
        40,
        2,
        10,
        2,
    )
    assert slack.sources == ("1337x", "thepiratebay")
    assert slack.first_seen.tzinfo is UTC


def test_an_unknown_kind_in_the_database_reads_as_none(database: Database, writer: Writer) -> None:
    writer.upsert([rec(OFFICE, "The.Office.US.S05E14")]).result(timeout=30)
    writer.call(lambda c: c.execute(update(torrents).values(kind="hologram"))).result(timeout=30)
    with database.reader.connect() as conn:
        assert summaries(conn, [OFFICE])[OFFICE].kind is None


def test_torrent_detail(conn: Connection) -> None:
    assert torrent_detail(conn, UNKNOWN) is None
    detail = torrent_detail(conn, SLACKWARE)
    assert detail is not None
    assert [f.path for f in detail.files] == [
        "slackware-14.1-iso/slackware-14.1-install-dvd.iso",
        "slackware-14.1-iso/CHECKSUMS.md5",
    ]
    assert [(s.source, s.seeders) for s in detail.sightings] == [
        ("1337x", 40),
        ("thepiratebay", None),
    ]
    assert all(s.seen_at == T0 for s in detail.sightings)
    assert detail.trackers == ("http://tracker1.transamrit.net:8082/announce",)
    assert detail.has_metainfo is True
    magnet = parse_magnet(detail.magnet)
    assert (magnet.info_hash, magnet.name, magnet.trackers) == (
        SLACKWARE,
        "slackware-14.1-iso",
        ("http://tracker1.transamrit.net:8082/announce",),
    )
    office = torrent_detail(conn, OFFICE)
    assert office is not None
    assert (office.files, office.trackers, office.has_metainfo) == ((), (), False)


def test_metainfo_bytes(conn: Connection) -> None:
    data = metainfo_bytes(conn, SLACKWARE)
    assert type(data) is bytes
    assert data == b"d4:infod4:name18:slackware-14.1-isoee"
    assert metainfo_bytes(conn, OFFICE) is None


def test_classified_hashes(conn: Connection) -> None:
    assert classified_hashes(conn, [SLACKWARE, OFFICE, UNKNOWN, OFFICE]) == {OFFICE}


def test_index_documents(conn: Connection) -> None:
    docs = {d.info_hash: d for d in index_documents(conn, [SLACKWARE, OFFICE, UNKNOWN])}
    assert set(docs) == {SLACKWARE, OFFICE}
    slack = docs[SLACKWARE]
    assert slack.files_text == (
        "slackware-14.1-iso/slackware-14.1-install-dvd.iso slackware-14.1-iso/CHECKSUMS.md5"
    )
    assert (slack.seeders, slack.size, slack.kind) == (40, 10, None)
    assert slack.sources == ("1337x", "thepiratebay")
    office = docs[OFFICE]
    assert office.published_at == T0 - timedelta(days=3)
    assert (office.kind, office.category, office.tvdb_id, office.seeders) == ("tv", 5040, 73244, 0)
    assert slack.published_at == torrent_detail(conn, SLACKWARE).summary.first_seen  # type: ignore[union-attr]


def test_index_documents_cap_the_file_text(database: Database, writer: Writer) -> None:
    listing = tuple(
        FileEntry(path=f"Discography/CD{n:03d}/{n:02d} - Track.flac", size=1) for n in range(400)
    )
    writer.upsert([rec(SLACKWARE, "Artist - Discography (1970-2020) FLAC", files=listing)]).result(
        timeout=30
    )
    with database.reader.connect() as conn:
        (doc,) = index_documents(conn, [SLACKWARE])
    assert len(doc.files_text) == 4000
    assert doc.files_text.startswith("Discography/CD000/00 - Track.flac Discography/CD001/")


def test_outbox_and_counts(conn: Connection) -> None:
    assert torrent_count(conn) == 2
    assert outbox_size(conn) == 2
    batch = outbox_batch(conn, 1)
    assert len(batch) == 1
    assert batch[0][1] == SLACKWARE  # oldest first
    assert [h for _, h in outbox_batch(conn, 10)] == [SLACKWARE, OFFICE]


def test_hash_pages_cover_every_torrent_once(database: Database, writer: Writer) -> None:
    hashes = sorted(f"{n * 7919:040x}" for n in range(1, 24))
    writer.upsert([rec(h, f"Ubuntu.Daily.{h[-4:]}") for h in hashes]).result(timeout=30)
    with database.reader.connect() as conn:
        pages = list(hash_pages(conn, 5))
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert [h for page in pages for h in page] == hashes


# --- key rows ------------------------------------------------------------------------------------


def add_keys(writer: Writer) -> None:
    def add(conn: Connection) -> None:
        for n, name in enumerate(["sonarr", "radarr", "7"]):
            insert_key(conn, name=name, prefix=f"pre{n}abcd", key_hash=f"{n}" * 64, now=T0)

    writer.call(add).result(timeout=30)


def test_keys_insert_list_revoke(database: Database, writer: Writer) -> None:
    add_keys(writer)
    with database.reader.connect() as conn:
        keys = list_keys(conn)
        assert [(k.id, k.name, k.prefix) for k in keys] == [
            (1, "sonarr", "pre0abcd"),
            (2, "radarr", "pre1abcd"),
            (3, "7", "pre2abcd"),
        ]
        assert keys[0].created_at == T0
        assert sorted(active_key_hashes(conn)) == ["0" * 64, "1" * 64, "2" * 64]

    later = T0 + timedelta(hours=1)
    by_prefix = writer.call(lambda c: revoke_key(c, "pre1abcd", later)).result(timeout=30)
    assert [(k.name, k.revoked_at) for k in by_prefix] == [("radarr", later)]
    by_id = writer.call(lambda c: revoke_key(c, "1", later)).result(timeout=30)
    assert [k.name for k in by_id] == ["sonarr"]
    again = writer.call(lambda c: revoke_key(c, "sonarr", later)).result(timeout=30)
    assert again == []
    with database.reader.connect() as conn:
        assert active_key_hashes(conn) == ["2" * 64]
        assert [k.revoked_at for k in list_keys(conn)] == [later, later, None]


def test_a_digit_ref_is_an_id_first_then_a_name(database: Database, writer: Writer) -> None:
    """`minato keys revoke 2` revokes key id 2 only, never also a key *named* "2"."""
    add_keys(writer)
    revoked = writer.call(lambda c: revoke_key(c, "7", T0)).result(timeout=30)
    assert [k.name for k in revoked] == ["7"]
    writer.call(
        lambda c: insert_key(c, name="2", prefix="pre3abcd", key_hash="3" * 64, now=T0)
    ).result(timeout=30)
    revoked = writer.call(lambda c: revoke_key(c, "2", T0)).result(timeout=30)
    assert [k.name for k in revoked] == ["radarr"]
    with database.reader.connect() as conn:
        assert "2" in [k.name for k in list_keys(conn) if k.revoked_at is None]


def test_touch_key_and_unique_digests(database: Database, writer: Writer) -> None:
    add_keys(writer)
    used = T0 + timedelta(minutes=5)
    writer.call(lambda c: touch_key(c, "0" * 64, used)).result(timeout=30)
    with database.reader.connect() as conn:
        assert [k.last_used_at for k in list_keys(conn)] == [used, None, None]
    duplicate = writer.call(
        lambda c: insert_key(c, name="copy", prefix="pre0abcd", key_hash="0" * 64, now=T0)
    )
    with pytest.raises(StoreError, match=r"(?i)database write failed: .*unique"):
        duplicate.result(timeout=30)


def test_source_names_are_every_source_once_in_order(
    conn: Connection, database: Database, writer: Writer
) -> None:
    assert source_names(conn) == ["1337x", "eztv", "thepiratebay"]
    writer.upsert([rec(UNKNOWN, "uploaded by hand", source="upload")]).result(timeout=30)
    with database.reader.connect() as fresh:  # `conn` reads its own snapshot
        assert source_names(fresh) == ["1337x", "eztv", "thepiratebay", "upload"]


def test_source_names_of_an_empty_database(database: Database) -> None:
    with database.reader.connect() as conn:
        assert source_names(conn) == []
