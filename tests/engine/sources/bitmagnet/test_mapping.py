"""Reading Bitmagnet's answers, and the pass's bookkeeping, without a server.

Items are made by the fake Bitmagnet's corpus (the shapes its schema gives), then
read as the bridge reads an answer.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.models import FileEntry
from engine.sources.api.base import ShapeError
from engine.sources.bitmagnet import file_batches
from engine.sources.bitmagnet_map import (
    FILES_PER_REQUEST,
    MAX_FILES_PER_TORRENT,
    GraphQLFailure,
    external_ids,
    graphql_data,
    parse_files,
    parse_search,
    read_item,
)
from engine.sources.bitmagnet_state import MAX_TIE_HASHES, BridgeState, Cursor, Mark, take, top_of
from tests.engine.sources.bitmagnet.fake_bitmagnet import (
    BASE_TIME,
    filler,
    info_hash,
    make_torrent,
    special_torrents,
    tmdb_content,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def answer(*items: Any, more: bool | None = False) -> dict[str, Any]:
    return {"data": {"torrentContent": {"search": {"hasNextPage": more, "items": list(items)}}}}


def specials() -> dict[str, dict[str, Any]]:
    return {t.item["torrent"]["name"].split()[0]: t.item for t in special_torrents(BASE_TIME)}


# ------------------------------------------------------------------ items


def test_a_movie_with_tmdb_and_imdb_ids() -> None:
    item = read_item(specials()["Dune"])
    record = item.record
    assert (record.source, record.title) == (
        "bitmagnet",
        "Dune Part Two 2024 1080p WEB-DL x265-MINATO",
    )
    assert record.info_hash == info_hash(900_001)
    assert (record.size, record.seeders, record.leechers) == (8_123_456_789, 1209, 269)
    assert (record.imdb_id, record.tmdb_id, record.tvdb_id) == ("tt15239678", 693134, None)
    assert record.category == "2000"  # refined from the title by the classifier (2040)
    assert record.published_at == item.published_at == BASE_TIME
    assert record.files == (FileEntry(path=record.title, size=8_123_456_789),)  # single file
    assert item.files_wanted == 0


def test_a_tv_episode_with_tmdb_and_tvdb_ids_asks_for_its_files() -> None:
    item = read_item(specials()["The"])
    assert (item.record.tmdb_id, item.record.tvdb_id, item.record.imdb_id) == (63639, 280619, None)
    assert item.record.category == "5000"
    assert (item.files_wanted, item.record.files) == (2, ())


@pytest.mark.parametrize(
    ("content_type", "category"),
    [
        ("movie", "2000"),
        ("tv_show", "5000"),
        ("music", "3000"),
        ("audiobook", "3030"),
        ("ebook", "7020"),
        ("comic", "7030"),
        ("game", "1000"),
        ("software", "4000"),
        ("xxx", "6000"),
        (None, None),
        ("hologram", None),  # a type a newer Bitmagnet may add: the classifier decides
    ],
)
def test_content_types_become_torznab_categories(
    content_type: str | None, category: str | None
) -> None:
    row = make_torrent(1, "Some Name", T0, size=1, content_type=content_type).item
    assert read_item(row).record.category == category


def test_a_huge_torrent_asks_for_at_most_the_cap() -> None:
    row = make_torrent(1, "Big", T0, size=1, content_type=None, files=[("a", 1)]).item
    row["torrent"]["filesCount"] = 100_000
    assert read_item(row).files_wanted == MAX_FILES_PER_TORRENT
    row["torrent"]["filesStatus"] = "over_threshold"  # Bitmagnet saved no file rows
    assert read_item(row).files_wanted == 0


def test_seeders_fall_back_to_the_torrents() -> None:
    row = filler(0, T0).item
    row["seeders"], row["leechers"] = None, None
    row["torrent"]["seeders"], row["torrent"]["leechers"] = 7, 1
    assert (read_item(row).record.seeders, read_item(row).record.leechers) == (7, 1)


@pytest.mark.parametrize(
    ("content", "ids"),
    [
        (tmdb_content("movie", 603, "The Matrix", imdb="tt0133093"), ("tt0133093", 603, None)),
        ({"source": "imdb", "id": "tt0133093"}, ("tt0133093", None, None)),
        (
            {
                "externalLinks": [
                    {"url": "https://www.imdb.com/title/tt0133093/"},
                    {"url": "https://www.themoviedb.org/movie/603-the-matrix"},
                ]
            },
            ("tt0133093", 603, None),
        ),
        ({"source": "tmdb", "id": "not-a-number"}, (None, None, None)),
        ({"source": "tmdb", "id": "0"}, (None, None, None)),
        ({"source": "tmdb", "id": str(2**40)}, (None, None, None)),
        ({"source": "imdb", "id": "0133093"}, (None, None, None)),
        ({"attributes": "garbage", "externalLinks": [None, 3, {"url": 5}]}, (None, None, None)),
        ("not an object", (None, None, None)),
    ],
)
def test_external_ids_come_from_content_attributes_and_links(
    content: Any, ids: tuple[Any, ...]
) -> None:
    assert external_ids({"content": content}) == ids


def test_the_items_content_source_names_its_id_without_content() -> None:
    assert external_ids({"contentSource": "tmdb", "contentId": "550"}) == (None, 550, None)


@pytest.mark.parametrize(
    "breakage",
    [
        lambda r: r.update(infoHash="not-a-hash"),
        lambda r: r.update(infoHash="a" * 39),
        lambda r: r.update(infoHash=None),
        lambda r: r.pop("infoHash"),
        lambda r: r.update(torrent=None),
        lambda r: r["torrent"].update(name=""),
        lambda r: r["torrent"].update(name="x" * 5000),
        lambda r: r["torrent"].update(size="big"),
        lambda r: r["torrent"].update(size=-1),
        lambda r: r.update(seeders=-5),
        lambda r: r.update(seeders=True),
        lambda r: r.update(publishedAt="yesterday"),
        lambda r: r.update(publishedAt=1714000000),
        lambda r: r.pop("publishedAt"),
    ],
)
def test_an_item_with_a_bad_field_is_skipped_and_counted(breakage: Any) -> None:
    good = [filler(n, T0).item for n in range(4)]
    bad = copy.deepcopy(good[0])
    breakage(bad)
    page = parse_search(answer(*good, bad, "not an object"))
    assert [i.info_hash for i in page.items] == [info_hash(n) for n in range(4)]
    assert (page.size, page.bad_rows, len(page.errors)) == (6, 2, 2)


@pytest.mark.parametrize(
    ("has_next", "count", "more"),
    [(True, 1, True), (False, 100, False), (None, 100, True), (None, 99, False)],
)
def test_more_pages_follow_has_next_page_else_a_full_page(
    has_next: bool | None, count: int, more: bool
) -> None:
    items = [filler(n, T0).item for n in range(count)]
    assert parse_search(answer(*items, more=has_next)).more is more


def test_times_are_utc_and_nanoseconds_are_read() -> None:
    row = filler(0, T0).item
    row["publishedAt"] = "2025-01-01T02:00:00.123456789+02:00"
    assert read_item(row).published_at == datetime(2025, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)


# ------------------------------------------------------------------ answers


@pytest.mark.parametrize(
    "data",
    [
        [],
        "oops",
        {"data": None},
        {"data": {"torrentContent": None}},
        {"data": {"torrentContent": {"search": {"items": None}}}},
        {"data": {"torrentContent": {"search": {"items": {"a": 1}}}}},
        {"data": {"torrentContent": {"search": {"items": [{}] * 5000}}}},
    ],
)
def test_an_answer_of_another_shape_is_a_shape_error(data: Any) -> None:
    with pytest.raises(ShapeError):
        parse_search(data)


def test_graphql_errors_say_whether_the_query_no_longer_fits() -> None:
    execution = {
        "errors": [{"message": "database is down", "path": ["torrentContent"]}],
        "data": {"torrentContent": None},
    }
    with pytest.raises(GraphQLFailure, match="database is down") as raised:
        graphql_data(execution, "torrentContent")
    assert not raised.value.schema_mismatch
    validation = {
        "errors": [
            {
                "message": "Cannot query field 'x'",
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
            }
        ]
    }
    with pytest.raises(GraphQLFailure) as raised:
        graphql_data(validation, "torrentContent")
    assert raised.value.schema_mismatch


def test_files_are_read_for_the_wanted_torrents_only() -> None:
    a, b = info_hash(1), info_hash(2)
    rows = [
        {"infoHash": a, "index": 1, "path": "x/2.flac", "size": 5},
        {"infoHash": a, "index": 0, "path": "x/1.flac", "size": 4},
        {"infoHash": b, "index": 0, "path": "other", "size": 1},  # not asked for
        {"infoHash": a, "index": 2, "path": "", "size": 1},  # bad ones are skipped
        {"infoHash": a, "index": 3, "path": "p" * 5000, "size": 1},
        {"infoHash": a, "index": 4, "path": "ok", "size": "1"},
        {"infoHash": a, "index": True, "path": "ok", "size": 1},
        "garbage",
    ]
    page = parse_files(
        {"data": {"torrent": {"files": {"items": rows, "hasNextPage": True}}}}, {a: 5}
    )
    assert page.files == {
        a: [(1, FileEntry(path="x/2.flac", size=5)), (0, FileEntry(path="x/1.flac", size=4))]
    }
    assert (page.size, page.more) == (8, True)


def test_file_batches_stay_near_the_request_size() -> None:
    wanted = {f"h{n}": 300 for n in range(10)} | {"big": MAX_FILES_PER_TORRENT, "last": 1}
    batches = file_batches(wanted)
    assert [sum(b.values()) for b in batches] == [1800, 1200, MAX_FILES_PER_TORRENT, 1]
    assert all(sum(b.values()) <= FILES_PER_REQUEST or len(b) == 1 for b in batches)
    assert [h for b in batches for h in b] == list(wanted)


# ------------------------------------------------------------------ the pass's bookkeeping


def items_at(*times: tuple[int, int]) -> list[Any]:
    """Items published at T0 + minutes, with the hash of a number: [(minutes, number)]."""
    return [read_item(filler(n, T0 + timedelta(minutes=m)).item) for m, n in times]


def test_take_stops_below_the_watermark_and_rereads_its_ties() -> None:
    page = items_at((9, 1), (5, 2), (5, 3), (5, 4), (4, 5), (3, 6))
    watermark = Mark(T0 + timedelta(minutes=5), frozenset({info_hash(3)}))
    fresh, reached = take(page, watermark)
    # 2 and 4 share the watermark's time but it does not name them: stored; 3 it names
    assert [i.info_hash for i in fresh] == [info_hash(1), info_hash(2), info_hash(4)]
    assert reached
    assert take(page, None) == (page, False)
    assert take(page[:2], watermark) == (page[:2], False)


def test_the_top_names_every_hash_at_the_newest_time() -> None:
    page = items_at((5, 1), (5, 2), (4, 3))
    assert top_of(page) == Mark(T0 + timedelta(minutes=5), frozenset({info_hash(1), info_hash(2)}))
    assert top_of([]) is None


def test_a_finished_pass_moves_the_watermark_up_only() -> None:
    old = Mark(T0, frozenset({"a"}))
    assert BridgeState(old).finished(Mark(T0 + timedelta(1), frozenset({"b"}))).watermark == Mark(
        T0 + timedelta(1), frozenset({"b"})
    )
    assert BridgeState(old).finished(Mark(T0, frozenset({"b"}))).watermark == Mark(
        T0, frozenset({"a", "b"})
    )
    assert BridgeState(old).finished(Mark(T0 - timedelta(1))).watermark == old  # deleted above
    assert BridgeState(old).finished(None) == BridgeState(old)
    many = Mark(T0, frozenset(f"{n:040x}" for n in range(MAX_TIE_HASHES * 2)))
    assert len(BridgeState().finished(many).watermark.hashes) == MAX_TIE_HASHES  # type: ignore[union-attr]


def test_the_state_survives_a_round_trip_through_json() -> None:
    state = BridgeState(
        Mark(T0, frozenset({info_hash(1)})),
        Cursor(200, Mark(T0 + timedelta(hours=1), frozenset({info_hash(2)})), (T0, info_hash(3))),
    )
    assert BridgeState.from_json(state.to_json()) == state
    assert BridgeState.from_json(BridgeState().to_json()) == BridgeState()


@pytest.mark.parametrize(
    "saved",
    [
        None,
        {},
        {"version": 99},
        {"version": 1, "watermark": {"published_at": "yesterday", "hashes": []}},
        {"version": 1, "watermark": {"published_at": "2025-01-01T00:00:00", "hashes": []}},
        {"version": 1, "watermark": None, "pass": {"offset": -1}},
        {"version": 1, "watermark": None, "pass": {"offset": "100"}},
        {"version": 1, "watermark": None, "pass": {"offset": 1, "last": ["x"]}},
        {"version": 1, "watermark": {"published_at": "2025-01-01T00:00:00+00:00", "hashes": 5}},
    ],
)
def test_an_unreadable_state_starts_afresh(saved: Any) -> None:
    assert BridgeState.from_json(saved) == BridgeState()
