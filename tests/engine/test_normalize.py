"""Normalization: one canonical record, or an `InvalidRecord` naming the field.

Expected hashes are worked out here with `base64`/`bytes.hex`, not with the
code under test.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from engine.errors import InvalidRecord
from engine.models import FileEntry, RawRecord
from engine.normalize import normalize

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
UBUNTU_HEX = "14ffe5dd23188fd5cb53a1d47f1289db70abf31e"
UBUNTU_B32 = base64.b32encode(bytes.fromhex(UBUNTU_HEX)).decode()
OTHER_HEX = "6f8cd699135b491513e65d967a052a7087750d9c"
TITLE = "ubuntu-12.04.1-desktop-i386.iso"


def raw(**fields: Any) -> RawRecord:
    fields.setdefault("source", "1337x")
    fields.setdefault("title", TITLE)
    if "magnet" not in fields:
        fields.setdefault("info_hash", UBUNTU_HEX)
    return RawRecord(**fields)


def refused(field: str, **fields: Any) -> InvalidRecord:
    with pytest.raises(InvalidRecord) as caught:
        normalize(raw(**fields), NOW)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    return caught.value


# --- info hash ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        UBUNTU_HEX,
        UBUNTU_HEX.upper(),
        "14FFE5dd23188FD5cb53a1d47f1289db70abf31E",
        f"  {UBUNTU_HEX}\n",
        UBUNTU_B32,
        UBUNTU_B32.lower(),
    ],
)
def test_info_hash_spellings_become_lowercase_hex(given: str) -> None:
    assert normalize(raw(info_hash=given), NOW).info_hash == UBUNTU_HEX


@pytest.mark.parametrize(
    "magnet",
    [
        f"magnet:?xt=urn:btih:{UBUNTU_HEX.upper()}&dn=ubuntu",
        f"magnet:?xt=urn:btih:{UBUNTU_B32}",
        f"MAGNET:?dn=ubuntu&xt=urn:btih:{UBUNTU_HEX}",
    ],
)
def test_info_hash_from_a_magnet(magnet: str) -> None:
    assert normalize(raw(magnet=magnet), NOW).info_hash == UBUNTU_HEX


def test_magnet_and_info_hash_that_agree_are_accepted() -> None:
    record = normalize(
        raw(info_hash=UBUNTU_HEX.upper(), magnet=f"magnet:?xt=urn:btih:{UBUNTU_B32}"), NOW
    )
    assert record.info_hash == UBUNTU_HEX


def test_magnet_and_info_hash_that_disagree_are_rejected() -> None:
    error = refused("magnet", info_hash=OTHER_HEX, magnet=f"magnet:?xt=urn:btih:{UBUNTU_HEX}")
    assert "differs from info_hash" in error.reason


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"info_hash": "14ffe5dd23188fd5cb53a1d47f1289db70abf31"}, "info_hash", "got 39"),
        ({"info_hash": "g" * 40}, "info_hash", "not all hexadecimal"),
        ({"info_hash": "0" * 40}, "info_hash", "all zeros"),
        ({"info_hash": "1" * 32}, "info_hash", "not base32"),
        ({"info_hash": ""}, "info_hash", "empty"),
        ({"info_hash": None}, "info_hash", "either info_hash or magnet is required"),
        ({"magnet": "http://example.org/ubuntu.torrent"}, "magnet", "magnet:?"),
        ({"magnet": "magnet:?dn=ubuntu"}, "magnet", "no BitTorrent hash"),
    ],
)
def test_bad_identities_are_rejected(fields: dict[str, Any], field: str, reason: str) -> None:
    assert reason in refused(field, **fields).reason


# --- trackers, size ------------------------------------------------------------------------------


def test_trackers_and_size_come_from_the_magnet() -> None:
    magnet = (
        f"magnet:?xt=urn:btih:{UBUNTU_HEX}&dn=ubuntu&xl=729067520"
        "&tr=http%3A%2F%2Ftorrent.ubuntu.com%3A6969%2Fannounce"
        "&tr=udp%3A%2F%2Ftracker.opentrackr.org%3A1337%2Fannounce"
    )
    record = normalize(
        raw(magnet=magnet, trackers=("udp://tracker.opentrackr.org:1337/announce",)), NOW
    )
    assert record.size == 729067520
    assert record.trackers == (
        "udp://tracker.opentrackr.org:1337/announce",
        "http://torrent.ubuntu.com:6969/announce",
    )


def test_the_records_own_size_wins_over_the_magnet() -> None:
    magnet = f"magnet:?xt=urn:btih:{UBUNTU_HEX}&xl=1"
    assert normalize(raw(magnet=magnet, size=729067520), NOW).size == 729067520


# --- times ---------------------------------------------------------------------------------------


def test_published_at_becomes_utc() -> None:
    paris = timezone(timedelta(hours=2))
    record = normalize(raw(published_at=datetime(2024, 5, 31, 23, 30, tzinfo=paris)), NOW)
    assert record.published_at == datetime(2024, 5, 31, 21, 30, tzinfo=UTC)
    assert record.published_at.tzinfo is UTC


def test_naive_published_at_is_taken_as_utc() -> None:
    naive = datetime(2024, 5, 31, 23, 30)  # noqa: DTZ001 - what sites send
    assert normalize(raw(published_at=naive), NOW).published_at == naive.replace(tzinfo=UTC)


def test_published_at_within_a_day_of_now_is_clock_skew() -> None:
    soon = NOW + timedelta(hours=23)
    assert normalize(raw(published_at=soon), NOW).published_at == soon


@pytest.mark.parametrize(
    "when",
    [
        NOW + timedelta(days=1, minutes=1),
        datetime(2031, 1, 1, tzinfo=UTC),
        # naive and far ahead: still the future once read as UTC
        datetime(2025, 1, 1),  # noqa: DTZ001
    ],
)
def test_published_at_in_the_future_is_rejected(when: datetime) -> None:
    assert "future" in refused("published_at", published_at=when).reason


@pytest.mark.parametrize(
    "when",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(1989, 12, 31, 23, 59, tzinfo=UTC),
        # 00:30 on New Year's Day 1990 in Paris is still 1989 in UTC
        datetime(1990, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
    ],
)
def test_published_at_before_1990_is_rejected(when: datetime) -> None:
    assert "before BitTorrent" in refused("published_at", published_at=when).reason


def test_published_at_in_1990_is_accepted() -> None:
    early = datetime(1990, 1, 1, 0, 30, tzinfo=UTC)
    assert normalize(raw(published_at=early), NOW).published_at == early


def test_seen_at_is_the_pipeline_clock() -> None:
    assert normalize(raw(), NOW).seen_at == NOW


# --- ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("tt0133093", "tt0133093"),
        ("TT0133093", "tt0133093"),
        ("0133093", "tt0133093"),
        ("133093", "tt0133093"),
        (" tt0133093 ", "tt0133093"),
        ("tt12345", "tt0012345"),
        ("tt15239678", "tt15239678"),  # eight digits (newer titles) stay as they are
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_imdb_ids_get_one_spelling(given: str | None, expected: str | None) -> None:
    assert normalize(raw(imdb_id=given), NOW).imdb_id == expected


@pytest.mark.parametrize("given", ["nm0000206", "tt", "tt1234", "tt0133093x", "imdb:0133093"])
def test_bad_imdb_ids_are_rejected(given: str) -> None:
    assert "tt1234567" in refused("imdb_id", imdb_id=given).reason


# --- titles and text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("The.Office.US.S05E14.720p.WEB-DL\x00", "The.Office.US.S05E14.720p.WEB-DL"),
        ("Ubuntu\x0024.04\x1b[31m LTS", "Ubuntu 24.04 [31m LTS"),
        ("\tDune.Part.Two.2024.2160p\r\n", "Dune.Part.Two.2024.2160p"),
        ("Arch\x7fLinux 2024.05.01", "Arch Linux 2024.05.01"),
        ("Big.Buck.Bunny\x85720p\x9b", "Big.Buck.Bunny 720p"),  # C1 controls (NEL, CSI)
        ("Amélie.2001.1080p.BluRay.x264-株式会社", "Amélie.2001.1080p.BluRay.x264-株式会社"),
    ],
)
def test_control_characters_are_stripped_from_titles(given: str, expected: str) -> None:
    assert normalize(raw(title=given), NOW).title == expected


@pytest.mark.parametrize("given", ["", "   ", "\x00\x01\x1f", "\t\n\r", "\x85\x9f"])
def test_an_empty_title_is_rejected(given: str) -> None:
    assert "empty" in refused("title", title=given).reason


def test_blank_category_and_description_become_none() -> None:
    record = normalize(raw(category="  ", description=""), NOW)
    assert (record.category, record.description) == (None, None)
    record = normalize(raw(category=" Movies/HD ", description="Remux"), NOW)
    assert (record.category, record.description) == ("Movies/HD", "Remux")


def test_other_fields_pass_through() -> None:
    files = (FileEntry(path="ubuntu.iso", size=729067520),)
    record = normalize(
        raw(
            seeders=12,
            leechers=3,
            source_url="https://1337x.to/torrent/1/ubuntu/",
            files=files,
            tmdb_id=603,
            tvdb_id=81189,
            metainfo=b"d4:infod4:name1:aee",
            trackers=("http://torrent.ubuntu.com:6969/announce",),
        ),
        NOW,
    )
    assert (record.seeders, record.leechers, record.files) == (12, 3, files)
    assert (record.tmdb_id, record.tvdb_id) == (603, 81189)
    assert record.source_url == "https://1337x.to/torrent/1/ubuntu/"
    assert record.metainfo == b"d4:infod4:name1:aee"
    assert record.trackers == ("http://torrent.ubuntu.com:6969/announce",)
    assert record.source == "1337x"
