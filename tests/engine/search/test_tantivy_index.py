"""TantivyIndex: the backend contract, plus what only an embedded folder index has.

Folder-specific behaviour: persistence across reopen, one writer per folder (a second
instance reads and gets IndexBusy when it tries to write), read-only readers seeing
commits after a reload, and rebuilding an index left by an incompatible schema.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tantivy

from engine.errors import IndexBusy, SearchIndexError
from engine.models import IndexDocument, SearchQuery, SortOrder
from engine.search.tantivy_index import TantivyIndex, build_schema, health_boost, query_words
from tests.engine.search.contract import (
    CORPUS,
    MATRIX_1080,
    UBUNTU,
    SearchIndexContract,
    found,
    info_hash,
)

HEAP = 20_000_000  # tantivy's minimum is 15 MB per thread; keep tests light


def open_index(path: Path, **options: bool) -> TantivyIndex:
    return TantivyIndex(path, writer_heap_bytes=HEAP, **options)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "index"


class TestTantivyContract(SearchIndexContract):
    @pytest.fixture
    def index(self, folder: Path):
        backend = open_index(folder)
        yield backend
        backend.close()


def test_folder_is_created_and_reported(folder: Path) -> None:
    index = open_index(folder)
    assert (folder / "meta.json").is_file()
    assert index.stats().backend == "tantivy"
    assert index.stats().location == str(folder)
    index.close()


def test_reopening_keeps_documents(folder: Path) -> None:
    first = open_index(folder)
    first.upsert(list(CORPUS.values()))
    first.close()
    again = open_index(folder)
    assert again.stats().documents == len(CORPUS)
    assert found(again, text="ubun") == {UBUNTU}
    again.close()


def test_second_instance_reads_while_first_writes(folder: Path) -> None:
    writer = open_index(folder)
    writer.upsert([CORPUS[UBUNTU]])  # takes and keeps the writer lock
    other = open_index(folder)
    assert found(other, text="ubuntu") == {UBUNTU}
    with pytest.raises(IndexBusy) as busy:
        other.upsert([CORPUS[MATRIX_1080]])
    assert "another Minato process" in busy.value.user_message
    assert "minato serve" in busy.value.user_message
    with pytest.raises(IndexBusy):
        other.delete([CORPUS[UBUNTU].info_hash])
    with pytest.raises(IndexBusy):
        other.clear()
    assert writer.stats().documents == 1  # nothing was lost or changed
    writer.close()
    other.upsert([CORPUS[MATRIX_1080]])  # the lock is free once the writer closed
    assert other.stats().documents == 2
    other.close()


def test_failed_batch_is_rolled_back_entirely(folder: Path) -> None:
    index = open_index(folder)
    broken = IndexDocument(info_hash=info_hash("bad"), title="Broken.Year", year=2**70)
    with pytest.raises(SearchIndexError, match="upsert failed"):
        index.upsert([CORPUS[UBUNTU], broken])
    index.upsert([CORPUS[MATRIX_1080]])  # must not commit the failed batch's leftovers
    assert found(index) == {MATRIX_1080}
    index.close()


def test_searches_run_while_another_thread_writes(folder: Path) -> None:
    index = open_index(folder)
    batches = [
        [
            IndexDocument(info_hash=info_hash(f"{b}-{n}"), title=f"Show.S{b:02d}E{n:02d}.720p")
            for n in range(1, 21)
        ]
        for b in range(1, 11)
    ]

    def write_all() -> None:
        for batch in batches:
            index.upsert(batch)

    writer = threading.Thread(target=write_all)
    writer.start()
    totals = []
    while writer.is_alive():
        totals.append(index.search(SearchQuery(text="show 720")).total)
    writer.join()
    assert totals == sorted(totals)  # commits only ever add whole batches
    assert all(total % 20 == 0 for total in totals)
    assert index.search(SearchQuery(text="show 720")).total == 200
    index.close()


def test_read_only_reader_sees_commits_after_reload(folder: Path) -> None:
    writer = open_index(folder)
    reader = open_index(folder, read_only=True)
    assert reader.search(SearchQuery()).total == 0
    writer.upsert([CORPUS[UBUNTU], CORPUS[MATRIX_1080]])
    reader.reload()
    assert found(reader, text="matrix") == {MATRIX_1080}
    writer.delete([CORPUS[UBUNTU].info_hash])
    reader.reload()
    assert found(reader) == {MATRIX_1080}
    writer.close()
    reader.close()


def test_read_only_refuses_writes_without_locking(folder: Path) -> None:
    reader = open_index(folder, read_only=True)
    with pytest.raises(SearchIndexError, match="read-only") as refused:
        reader.upsert([CORPUS[UBUNTU]])
    assert not isinstance(refused.value, IndexBusy)
    writer = open_index(folder)  # the reader never took the lock
    writer.upsert([CORPUS[UBUNTU]])
    writer.close()


def write_old_index(folder: Path) -> tantivy.Index:
    """An index as an older Minato might have left it: other fields, one document."""
    folder.mkdir(parents=True)
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("info_hash", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True)
    old = tantivy.Index(builder.build(), str(folder))
    writer = old.writer(HEAP)
    writer.add_document(tantivy.Document(info_hash=info_hash("old"), title="Old.Release.2001"))
    writer.commit()
    writer.wait_merging_threads()
    return old


def flagged(index: TantivyIndex) -> bool:
    return index.needs_rebuild


def test_outdated_schema_is_recreated_empty_and_flagged(folder: Path) -> None:
    write_old_index(folder)
    index = open_index(folder)
    assert flagged(index)
    assert index.stats().documents == 0
    index.upsert(list(CORPUS.values()))
    index.mark_rebuilt()
    assert not flagged(index)
    index.close()
    again = open_index(folder)
    assert not again.needs_rebuild
    assert again.stats().documents == len(CORPUS)
    assert tantivy.Index.open(str(folder)).schema == build_schema()
    again.close()


def test_rebuild_flag_survives_a_crash_before_the_rebuild(folder: Path) -> None:
    write_old_index(folder)
    open_index(folder).close()  # recreated, then "crashed" before refilling
    again = open_index(folder)
    assert again.needs_rebuild
    again.close()


def test_new_index_asks_for_a_fill_from_the_database(folder: Path) -> None:
    index = open_index(folder)
    assert flagged(index)
    index.mark_rebuilt()
    assert not flagged(index)
    index.close()
    assert not open_index(folder).needs_rebuild


def test_outdated_schema_read_only_says_reindex(folder: Path) -> None:
    write_old_index(folder)
    with pytest.raises(SearchIndexError, match="minato reindex"):
        open_index(folder, read_only=True)
    assert tantivy.Index.open(str(folder)).searcher().num_docs == 1  # left untouched


def test_outdated_schema_held_by_another_process_is_left_alone(folder: Path) -> None:
    old = write_old_index(folder)
    holder = old.writer(HEAP)
    with pytest.raises(IndexBusy):
        open_index(folder)
    holder.wait_merging_threads()
    assert tantivy.Index.open(str(folder)).searcher().num_docs == 1


def test_unreadable_index_is_recreated(folder: Path) -> None:
    folder.mkdir()
    (folder / "meta.json").write_text("{ not json")
    index = open_index(folder)
    assert index.needs_rebuild
    index.upsert([CORPUS[UBUNTU]])
    assert found(index, text="ubuntu") == {UBUNTU}
    index.close()


def test_ensure_settings_recreates_a_deleted_folder(folder: Path) -> None:
    index = open_index(folder, read_only=True)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    index.ensure_settings()
    assert (folder / "meta.json").is_file()
    assert index.search(SearchQuery()).total == 0


def test_date_sort_score_is_epoch_and_naive_times_are_utc(folder: Path) -> None:
    index = open_index(folder)
    naive = datetime(2021, 3, 4, 5, 6, 7)  # noqa: DTZ001 - the point of the test
    index.upsert([IndexDocument(info_hash=info_hash("n"), title="Naive", published_at=naive)])
    page = index.search(SearchQuery(sort=SortOrder.DATE))
    assert page.hits[0].score == naive.replace(tzinfo=UTC).timestamp()
    index.close()


def test_filters_ignore_case_and_padding(folder: Path) -> None:
    index = open_index(folder)
    index.upsert(list(CORPUS.values()))
    assert found(index, resolution=" 1080P", source="YTS") == {MATRIX_1080}
    assert found(index, imdb_id="TT0133093", year=1999, text="grp") == {MATRIX_1080}
    index.close()


@pytest.mark.parametrize("typed", ["pa", "pac", "pack", "pack0"])
def test_prefix_with_many_completions_matches_them_all(folder: Path, typed: str) -> None:
    # More completions than the term-expansion limit forces the prefix-query fallback.
    index = open_index(folder)
    docs = [
        IndexDocument(info_hash=info_hash(str(n)), title=f"Texture.Pack{n:03d}.2019-GRP")
        for n in range(120)
    ]
    index.upsert(docs)
    expected = 120 if typed != "pack0" else 100
    assert index.search(SearchQuery(text=f"texture {typed}", limit=0)).total == expected
    assert index.search(SearchQuery(text=f"{typed} texture", limit=0)).total == 0
    index.close()


@pytest.mark.parametrize("typed", ["İ", "İs", "İstan", "İstanbul", "kanat 1080"])
def test_prefix_with_a_mark_added_by_lowercasing(folder: Path, typed: str) -> None:
    # 'İ' lowercases to 'i' + U+0307, a non-alphanumeric the prefix regex must escape.
    index = open_index(folder)
    index.upsert([IndexDocument(info_hash=info_hash("i"), title="İstanbul.Kanat.2011.1080p")])
    assert index.search(SearchQuery(text=typed)).total == 1
    index.close()


def test_filters_do_not_change_relevance_scores(folder: Path) -> None:
    index = open_index(folder)
    index.upsert(list(CORPUS.values()))
    plain = {h.info_hash: h.score for h in index.search(SearchQuery(text="matrix")).hits}
    # 1337x is one of two sources on one release and the only one on the other: a scored
    # term on that multi-valued field would score them differently.
    filtered = index.search(SearchQuery(text="matrix", source="1337x", year=1999)).hits
    scores = {h.info_hash: h.score for h in filtered}
    assert len(scores) == 2
    assert scores == {key: plain[key] for key in scores}
    index.close()


def test_query_words_match_the_default_tokenizer() -> None:
    assert query_words("The.Matrix.1999.1080p.BluRay.x264-GRP") == [
        "the",
        "matrix",
        "1999",
        "1080p",
        "bluray",
        "x264",
        "grp",
    ]
    assert query_words('title:"Straße" (AND) ubun*') == ["title", "straße", "and", "ubun"]
    assert query_words("-- * :: ()") == []
    assert query_words("x" * 40 + " ok") == ["ok"]  # tantivy drops tokens of 40+ bytes


def test_health_boost_orders_health_then_recency() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    day = 86_400
    assert health_boost(0, int(now), now) == 0.0
    assert health_boost(-5, int(now), now) == 0.0
    fresh = health_boost(100, int(now - 7 * day), now)
    stale = health_boost(100, int(now - 3650 * day), now)
    assert fresh > stale > health_boost(10, int(now - 7 * day), now) * 0.5
    assert health_boost(1000, int(now), now) > fresh
    assert health_boost(100, 0, now) == pytest.approx(math.log2(101) * 0.5)  # unknown: old
    assert health_boost(100, int(now + day), now) == pytest.approx(math.log2(101))
    assert math.log2(2 + health_boost(10**9, int(now), now)) < 5  # never drowns relevance
