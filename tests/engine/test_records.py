"""The ingest record schema: every refusal is an `InvalidRecord` reading "field: reason".

The reasons are pydantic's; the tests pin the field path and the gist of the
reason, which is what an API client reads to fix its record.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from engine.errors import InvalidRecord
from engine.models import FileEntry, RawRecord
from engine.records import (
    MAX_FILES,
    MAX_TITLE_CHARS,
    check_source,
    decode_json_array,
    decode_ndjson,
    parse_record,
)

HASH = "c9e15763f722f23e98a29decdfae341b98d53056"
BASE: dict[str, Any] = {
    "source": "1337x",
    "title": "The.Matrix.1999.1080p.BluRay.x264-FGT",
    "info_hash": HASH,
}


def refusal(obj: Any) -> InvalidRecord:
    with pytest.raises(InvalidRecord) as caught:
        parse_record(obj)
    error = caught.value
    assert str(error) == f"{error.field}: {error.reason}"
    return error


def with_(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


def test_a_full_record_is_parsed() -> None:
    record = parse_record(
        {
            "source": "feed:showrss",
            "title": "The.Office.US.S05E14.720p.WEB-DL.DD5.1.H.264-NTb",
            "magnet": f"magnet:?xt=urn:btih:{HASH}",
            "info_hash": HASH.upper(),
            "size": 1_234_567_890,
            "seeders": 0,
            "leechers": 1_000_000_000,
            "source_url": "https://showrss.info/browse/14",
            "category": 5040,
            "published_at": "2024-03-01T10:00:00Z",
            "files": [{"path": "The.Office.S05E14.mkv", "size": 1_234_567_890, "crc": "x"}],
            "description": "Stress Relief",
            "imdb_id": 386676,
            "tmdb_id": 2316,
            "tvdb_id": 73244,
            "trackers": ["udp://tracker.opentrackr.org:1337/announce"],
            "added_by_worker_v9": True,  # unknown keys from newer workers are ignored
        }
    )
    assert record == RawRecord(
        source="feed:showrss",
        title="The.Office.US.S05E14.720p.WEB-DL.DD5.1.H.264-NTb",
        info_hash=HASH.upper(),
        magnet=f"magnet:?xt=urn:btih:{HASH}",
        size=1_234_567_890,
        seeders=0,
        leechers=1_000_000_000,
        source_url="https://showrss.info/browse/14",
        category="5040",
        published_at=datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
        files=(FileEntry(path="The.Office.S05E14.mkv", size=1_234_567_890),),
        description="Stress Relief",
        imdb_id="386676",
        tmdb_id=2316,
        tvdb_id=73244,
        trackers=("udp://tracker.opentrackr.org:1337/announce",),
    )


def test_a_minimal_record_with_only_a_magnet() -> None:
    record = parse_record(
        {"source": "apibay", "title": "Ubuntu 24.04", "magnet": f"magnet:?xt=urn:btih:{HASH}"}
    )
    assert (record.info_hash, record.files, record.trackers) == (None, (), ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T10:00:00z", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        ("2024-03-01T12:00:00+02:00", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        (" 2024-03-01 10:00:00 ", datetime(2024, 3, 1, 10)),  # noqa: DTZ001 - naive stays naive
        ("2024-03-01", datetime(2024, 3, 1)),  # noqa: DTZ001
    ],
)
def test_published_at_is_iso_8601(text: str, expected: datetime) -> None:
    parsed = parse_record(with_(published_at=text)).published_at
    assert parsed == expected
    assert parsed is not None
    assert (parsed.tzinfo is None) == (expected.tzinfo is None)


def test_published_at_keeps_its_offset_for_normalize() -> None:
    parsed = parse_record(with_(published_at="2024-03-01T12:00:00+02:00")).published_at
    assert parsed is not None
    assert parsed.tzinfo == timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        # wrong types: strict, no coercion from strings or floats
        ({"seeders": "5"}, "seeders", "valid integer"),
        ({"size": 1.5}, "size", "valid integer"),
        ({"size": "1 GiB"}, "size", "valid integer"),
        ({"title": 42}, "title", "valid string"),
        ({"source": ["1337x"]}, "source", "valid string"),
        ({"magnet": 1}, "magnet", "valid string"),
        ({"info_hash": 12345}, "info_hash", "valid string"),
        ({"tvdb_id": "73244"}, "tvdb_id", "valid integer"),
        ({"published_at": 1709287200}, "published_at", "valid string"),
        ({"files": "The.Office.S05E14.mkv"}, "files", "valid list"),
        ({"files": [["a.mkv", 1]]}, "files.0", "valid dictionary"),
        ({"trackers": "udp://tracker.opentrackr.org:1337"}, "trackers", "valid list"),
        ({"trackers": [1337]}, "trackers.0", "valid string"),
        ({"category": 20.4}, "category", "valid"),
        ({"description": {"text": "x"}}, "description", "valid string"),
        # booleans are not numbers (JSON true would otherwise become 1)
        ({"seeders": True}, "seeders", "valid integer"),
        ({"leechers": False}, "leechers", "valid integer"),
        ({"size": True}, "size", "valid integer"),
        ({"tmdb_id": True}, "tmdb_id", "valid integer"),
        ({"imdb_id": True}, "imdb_id", "valid"),
        ({"category": True}, "category", "valid"),
        ({"files": [{"path": "a.mkv", "size": True}]}, "files.0.size", "valid integer"),
        # negative and out-of-range numbers
        ({"seeders": -1}, "seeders", "greater than or equal to 0"),
        ({"leechers": -20}, "leechers", "greater than or equal to 0"),
        ({"size": -1}, "size", "greater than or equal to 0"),
        ({"leechers": 10**9 + 1}, "leechers", "less than or equal to 1000000000"),
        ({"size": 2**63}, "size", "less than or equal to 9223372036854775807"),
        ({"tmdb_id": 0}, "tmdb_id", "greater than 0"),
        ({"tvdb_id": -5}, "tvdb_id", "greater than 0"),
        ({"tmdb_id": 2**31}, "tmdb_id", "less than or equal to 2147483647"),
        ({"files": [{"path": "a.mkv", "size": -3}]}, "files.0.size", "greater than or equal"),
        # too-long strings and lists
        ({"title": "x" * (MAX_TITLE_CHARS + 1)}, "title", "at most 1024 characters"),
        ({"description": "d" * (64 * 1024 + 1)}, "description", "at most 65536 characters"),
        ({"source_url": "https://1337x.to/" + "a" * 4096}, "source_url", "at most 4096"),
        ({"info_hash": "a" * 129}, "info_hash", "at most 128 characters"),
        ({"imdb_id": "tt" + "0" * 15}, "imdb_id", "at most 16 characters"),
        ({"category": "Movies/" + "x" * 60}, "category", "at most 64 characters"),
        ({"trackers": ["udp://t:1"] * 501}, "trackers", "at most 500 items"),
        ({"trackers": ["udp://" + "t" * 4096]}, "trackers.0", "at most 4096"),
        ({"files": [{"path": "x" * 4097, "size": 1}]}, "files.0.path", "at most 4096"),
        ({"files": [{"path": "", "size": 1}]}, "files.0.path", "at least 1 character"),
        ({"files": [{"path": "a.mkv"}]}, "files.0.size", "is required"),
        # sources, urls, required fields
        ({"source": "the pirate bay"}, "source", "match pattern"),
        ({"source": "-1337x"}, "source", "match pattern"),
        ({"source": "1337x/../../etc"}, "source", "match pattern"),
        ({"source": ""}, "source", "at least 1 character"),
        ({"source": "s" * 65}, "source", "at most 64 characters"),
        (
            {"source_url": "ftp://ftp.example.org/ubuntu.torrent"},
            "source_url",
            "http:// or https://",
        ),
        ({"source_url": "javascript:alert(1)"}, "source_url", "http:// or https://"),
        ({"source_url": "//1337x.to/torrent/1"}, "source_url", "http:// or https://"),
        ({"title": "   "}, "title", "must not be empty"),
        ({"published_at": "yesterday"}, "published_at", "not an ISO 8601 date-time"),
        ({"published_at": "01/03/2024"}, "published_at", "not an ISO 8601 date-time"),
        ({"info_hash": None}, "info_hash", "either info_hash or magnet is required"),
    ],
)
def test_bad_fields_are_named(changes: dict[str, Any], field: str, reason: str) -> None:
    error = refusal(with_(**changes))
    assert error.field == field
    assert reason in error.reason
    assert len(error.reason) <= 200


def test_too_many_files() -> None:
    error = refusal(with_(files=[{"path": "f.bin", "size": 1}] * (MAX_FILES + 1)))
    assert error.field == "files"
    assert f"at most {MAX_FILES} items" in error.reason


@pytest.mark.parametrize("missing", ["source", "title"])
def test_required_fields(missing: str) -> None:
    record = dict(BASE)
    del record[missing]
    assert str(refusal(record)) == f"{missing}: is required"


@pytest.mark.parametrize(
    ("obj", "kind"),
    [
        ([BASE], "an array"),
        ("magnet:?xt=urn:btih:" + HASH, "a string"),
        (None, "null"),
        (42, "a number"),
        (4.2, "a number"),
        (True, "a boolean"),
    ],
)
def test_non_objects_are_refused(obj: Any, kind: str) -> None:
    assert str(refusal(obj)) == f"record: must be a JSON object, not {kind}"


@pytest.mark.parametrize(
    "source", ["1337x", "feed:showrss", "upload", "bitmagnet", "worker@host-2.lan", "yts.mx"]
)
def test_good_source_names(source: str) -> None:
    assert check_source(source) == source
    assert parse_record(with_(source=source)).source == source


@pytest.mark.parametrize("source", ["", " upload", "up load", "_upload", "s" * 65, "ümlaut"])
def test_bad_source_names(source: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        check_source(source)
    assert caught.value.field == "source"
    assert "1-64 characters" in caught.value.reason


# --- bodies ------------------------------------------------------------------------------------


def test_json_array_body() -> None:
    body = json.dumps([BASE, {"title": "x"}, 7]).encode()
    assert decode_json_array(body) == [BASE, {"title": "x"}, 7]
    assert decode_json_array(b"[]") == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"source": "1337x"}', "must be a JSON array of records, not"),
        (b'"just a string"', "must be a JSON array of records, not a string"),
        (b"[1, 2", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"\xff\xfe[]", "not valid JSON"),
    ],
)
def test_bad_json_bodies(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        decode_json_array(body)
    assert caught.value.field == "body"
    assert reason in caught.value.reason


def test_ndjson_skips_blank_lines_and_marks_bad_lines_in_place() -> None:
    good = json.dumps(BASE).encode()
    body = b"\n".join([good, b"", b"   ", b"{not json", good, b"\r", b"[1,2]", b'"x'])
    items = decode_ndjson(body + b"\n")
    assert len(items) == 5
    assert items[0] == BASE
    assert isinstance(items[1], InvalidRecord)
    assert str(items[1]).startswith("line: 4: not valid JSON")  # numbered like an editor
    assert items[2] == BASE
    assert items[3] == [1, 2]  # valid JSON; parse_record refuses it later, with its index
    assert isinstance(items[4], InvalidRecord)
    assert str(items[4]).startswith("line: 8: not valid JSON")


def test_ndjson_with_windows_line_endings() -> None:
    good = json.dumps(BASE).encode()
    assert decode_ndjson(good + b"\r\n" + good + b"\r\n") == [BASE, BASE]


def test_ndjson_bad_utf8_line() -> None:
    items = decode_ndjson(b'{"title": "\xff"}\n')
    assert len(items) == 1
    assert isinstance(items[0], InvalidRecord)
    assert items[0].field == "line"
