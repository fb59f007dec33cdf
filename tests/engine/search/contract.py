"""The contract every `SearchIndex` backend passes (tantivy, Meilisearch).

Subclass `SearchIndexContract` in a `test_*.py` module and give it an `index` fixture
that yields an empty, ready backend and closes it afterwards:

    class TestMyBackendContract(SearchIndexContract):
        @pytest.fixture
        def index(self, tmp_path):
            backend = MyBackend(...)
            yield backend
            backend.close()

Only behaviour the protocol promises is checked here (not scores, not case folding of
filters); backend quirks belong in the backend's own tests.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from engine.models import ContentKind, IndexDocument, IndexPage, SearchQuery, SortOrder
from engine.search.base import SearchIndex


def info_hash(name: str) -> str:
    """A stable, realistic 40-hex info hash derived from `name`."""
    return hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()


def when(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


GIB = 1024**3

# Distinct seeders, sizes and dates everywhere, so every sort order has one right answer.
CORPUS: dict[str, IndexDocument] = {
    doc.title: doc
    for doc in (
        IndexDocument(
            info_hash=info_hash("ubuntu"),
            title="Ubuntu 24.04 LTS Desktop amd64",
            files_text="ubuntu-24.04-desktop-amd64.iso",
            kind=ContentKind.SOFTWARE,
            category=4020,
            year=2024,
            sources=("linuxtracker",),
            seeders=900,
            size=6 * GIB,
            published_at=when(2024, 4, 25),
        ),
        IndexDocument(
            info_hash=info_hash("debian"),
            title="debian-12.5.0-amd64-netinst.iso",
            kind=ContentKind.SOFTWARE,
            category=4020,
            sources=("linuxtracker",),
            seeders=0,
            size=GIB // 2,
            published_at=None,
        ),
        IndexDocument(
            info_hash=info_hash("matrix-1080"),
            title="The.Matrix.1999.1080p.BluRay.x264-GRP",
            files_text="The.Matrix.1999.1080p.BluRay.x264-GRP.mkv Sample/sample.mkv",
            kind=ContentKind.MOVIE,
            category=2040,
            year=1999,
            resolution="1080p",
            sources=("yts", "1337x"),
            imdb_id="tt0133093",
            tmdb_id=603,
            seeders=500,
            size=10 * GIB,
            published_at=when(2020, 5, 1),
        ),
        IndexDocument(
            info_hash=info_hash("matrix-720"),
            title="The.Matrix.1999.720p.BluRay.x264-SPARKS",
            kind=ContentKind.MOVIE,
            category=2040,
            year=1999,
            resolution="720p",
            sources=("1337x",),
            imdb_id="tt0133093",
            tmdb_id=603,
            seeders=50,
            size=5 * GIB,
            published_at=when(2012, 3, 2),
        ),
        IndexDocument(
            info_hash=info_hash("reloaded"),
            title="The.Matrix.Reloaded.2003.2160p.UHD.BluRay.x265-TERMiNAL",
            kind=ContentKind.MOVIE,
            category=2045,
            year=2003,
            resolution="2160p",
            sources=("rarbg",),
            imdb_id="tt0234215",
            tmdb_id=604,
            seeders=120,
            size=60 * GIB,
            published_at=when(2019, 8, 9),
        ),
        IndexDocument(
            info_hash=info_hash("bb-s01e02"),
            title="Breaking.Bad.S01E02.720p.HDTV.x264-CTU",
            kind=ContentKind.TV,
            category=5040,
            season=1,
            episode=2,
            resolution="720p",
            sources=("eztv",),
            imdb_id="tt0903747",
            tvdb_id=81189,
            seeders=30,
            size=GIB,
            published_at=when(2010, 1, 5),
        ),
        IndexDocument(
            info_hash=info_hash("bb-s02e01"),
            title="Breaking.Bad.S02E01.1080p.WEB-DL.DD5.1.H.264-BS",
            kind=ContentKind.TV,
            category=5040,
            season=2,
            episode=1,
            resolution="1080p",
            sources=("eztv", "1337x"),
            imdb_id="tt0903747",
            tvdb_id=81189,
            seeders=75,
            size=3 * GIB,
            published_at=when(2015, 6, 7),
        ),
        IndexDocument(
            info_hash=info_hash("frieren"),
            title="[SubsPlease] Sousou no Frieren - 12 (1080p) [ABCD1234].mkv",
            kind=ContentKind.ANIME,
            category=5070,
            episode=12,
            resolution="1080p",
            sources=("nyaa",),
            seeders=640,
            size=GIB + 1,
            published_at=when(2023, 11, 24),
        ),
        IndexDocument(
            info_hash=info_hash("daft-punk"),
            title="Daft Punk - Random Access Memories (2013) [FLAC]",
            files_text="01 - Give Life Back to Music.flac 08 - Get Lucky.flac cover.jpg",
            kind=ContentKind.MUSIC,
            category=3040,
            year=2013,
            sources=("rutracker",),
            seeders=210,
            size=GIB // 3,
            published_at=when(2013, 5, 20),
        ),
    )
}
ALL = frozenset(doc.info_hash for doc in CORPUS.values())
NAME = {doc.info_hash: title for title, doc in CORPUS.items()}


def titles(page: IndexPage) -> list[str]:
    """The titles of a page's hits, in order (readable assertion failures)."""
    return [NAME.get(hit.info_hash, hit.info_hash) for hit in page.hits]


def found(index: SearchIndex, **query: object) -> set[str]:
    """The set of titles a query matches (limit large enough for the corpus)."""
    page = index.search(SearchQuery(limit=100, **query))  # type: ignore[arg-type]
    assert page.total == len(page.hits)
    return set(titles(page))


MATRIX_1080 = "The.Matrix.1999.1080p.BluRay.x264-GRP"
MATRIX_720 = "The.Matrix.1999.720p.BluRay.x264-SPARKS"
RELOADED = "The.Matrix.Reloaded.2003.2160p.UHD.BluRay.x265-TERMiNAL"
UBUNTU = "Ubuntu 24.04 LTS Desktop amd64"
DEBIAN = "debian-12.5.0-amd64-netinst.iso"
BB1 = "Breaking.Bad.S01E02.720p.HDTV.x264-CTU"
BB2 = "Breaking.Bad.S02E01.1080p.WEB-DL.DD5.1.H.264-BS"
FRIEREN = "[SubsPlease] Sousou no Frieren - 12 (1080p) [ABCD1234].mkv"
DAFT_PUNK = "Daft Punk - Random Access Memories (2013) [FLAC]"

HOSTILE = [
    '"unterminated',
    "title:matrix",
    "(((",
    ")",
    "*",
    "ubun*",
    "AND",
    "matrix AND OR NOT",
    "-matrix",
    "+",
    "[1 TO 5]",
    "\\",
    "ma?rix",
    "~2",
    "^3",
    "Ünïcode 東京 привет ß",
    "\x00\x01",
    "🎬🍿",
    "a" * 1000,
    "matrix " * 150,
    ".*",
    "$(rm -rf /)",
    "'; DROP TABLE torrents; --",
]


class SearchIndexContract:
    """Backend-agnostic tests; subclasses provide the `index` fixture."""

    @pytest.fixture
    def loaded(self, index: SearchIndex) -> SearchIndex:
        index.ensure_settings()
        index.upsert(list(CORPUS.values()))
        return index

    # -- text ----------------------------------------------------------------------

    def test_upsert_then_search_finds(self, loaded: SearchIndex) -> None:
        page = loaded.search(SearchQuery(text="ubuntu"))
        assert titles(page) == [UBUNTU]
        assert page.total == 1
        assert page.hits[0].info_hash == info_hash("ubuntu")

    def test_words_split_like_release_names(self, loaded: SearchIndex) -> None:
        assert found(loaded, text="MATRIX") == {MATRIX_1080, MATRIX_720, RELOADED}
        assert found(loaded, text="x264") == {MATRIX_1080, MATRIX_720, BB1}
        assert found(loaded, text="S01E02") == {BB1}

    def test_all_words_must_match(self, loaded: SearchIndex) -> None:
        assert found(loaded, text="matrix 1080p") == {MATRIX_1080}
        assert found(loaded, text="matrix 1999") == {MATRIX_1080, MATRIX_720}
        assert found(loaded, text="matrix hdtv") == set()
        assert found(loaded, text="breaking bad 720p") == {BB1}

    def test_last_word_matches_as_prefix(self, loaded: SearchIndex) -> None:
        assert found(loaded, text="ubun") == {UBUNTU}
        assert found(loaded, text="matrix 108") == {MATRIX_1080}
        assert found(loaded, text="matr") == {MATRIX_1080, MATRIX_720, RELOADED}
        assert found(loaded, text="breaking bad s0") == {BB1, BB2}

    def test_only_last_word_is_a_prefix(self, loaded: SearchIndex) -> None:
        assert found(loaded, text="matr 1080p") == set()
        assert found(loaded, text="ubun desktop") == set()

    def test_words_also_match_file_names(self, loaded: SearchIndex) -> None:
        assert found(loaded, text="lucky") == {DAFT_PUNK}
        assert found(loaded, text="daft punk luck") == {DAFT_PUNK}
        assert found(loaded, text="sample") == {MATRIX_1080}

    def test_title_match_outranks_file_match(self, index: SearchIndex) -> None:
        in_title = IndexDocument(
            info_hash=info_hash("t"), title="Sintel.2010.1080p.WEB-DL", seeders=10
        )
        in_files = IndexDocument(
            info_hash=info_hash("f"),
            title="Blender Open Movies Collection",
            files_text="Sintel.2010.1080p.WEB-DL.mkv",
            seeders=10,
        )
        index.upsert([in_files, in_title])
        page = index.search(SearchQuery(text="sintel"))
        assert [hit.info_hash for hit in page.hits] == [info_hash("t"), info_hash("f")]

    @pytest.mark.parametrize("text", HOSTILE)
    def test_hostile_text_never_raises(self, loaded: SearchIndex, text: str) -> None:
        page = loaded.search(SearchQuery(text=text))
        assert page.total >= len(page.hits)

    def test_hostile_text_is_taken_literally(self, loaded: SearchIndex) -> None:
        assert found(loaded, text="title:matrix") == set()  # no field syntax: no "title" word
        assert found(loaded, text='"matrix"') == {MATRIX_1080, MATRIX_720, RELOADED}
        assert found(loaded, text="(matrix) AND") == set()  # "and" is a word to match
        assert found(loaded, text="ubun*") == {UBUNTU}

    @pytest.mark.parametrize("text", ["", "   ", "...", "-- * () :", '"'])
    def test_no_words_means_no_text_condition(self, loaded: SearchIndex, text: str) -> None:
        assert found(loaded, text=text) == set(CORPUS)

    # -- filters -------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("condition", "expected"),
        [
            ({"kinds": (ContentKind.TV,)}, {BB1, BB2}),
            ({"kinds": (ContentKind.ANIME, ContentKind.MUSIC)}, {FRIEREN, DAFT_PUNK}),
            ({"categories": (2045,)}, {RELOADED}),
            ({"categories": (3040, 5070)}, {DAFT_PUNK, FRIEREN}),
            ({"year": 1999}, {MATRIX_1080, MATRIX_720}),
            ({"season": 2}, {BB2}),
            ({"episode": 12}, {FRIEREN}),
            ({"season": 1, "episode": 2}, {BB1}),
            ({"resolution": "1080p"}, {MATRIX_1080, BB2, FRIEREN}),
            ({"source": "1337x"}, {MATRIX_1080, MATRIX_720, BB2}),
            ({"source": "yts"}, {MATRIX_1080}),
            ({"imdb_id": "tt0903747"}, {BB1, BB2}),
            ({"tmdb_id": 604}, {RELOADED}),
            ({"tvdb_id": 81189}, {BB1, BB2}),
            ({"year": 2031}, set()),
            ({"kinds": (ContentKind.GAME,)}, set()),
        ],
    )
    def test_filter(
        self, loaded: SearchIndex, condition: dict[str, object], expected: set[str]
    ) -> None:
        assert found(loaded, **condition) == expected

    def test_filters_combine_with_text(self, loaded: SearchIndex) -> None:
        assert found(loaded, text="matrix", resolution="720p") == {MATRIX_720}
        assert found(loaded, text="bad", season=2, source="eztv") == {BB2}
        assert found(loaded, text="matrix", kinds=(ContentKind.TV,)) == set()

    def test_parent_category_matches_its_range(self, loaded: SearchIndex) -> None:
        assert found(loaded, categories=(2000,)) == {MATRIX_1080, MATRIX_720, RELOADED}
        assert found(loaded, categories=(5000,)) == {BB1, BB2, FRIEREN}
        assert found(loaded, categories=(4000, 3000)) == {UBUNTU, DEBIAN, DAFT_PUNK}
        assert found(loaded, categories=(2040,)) == {MATRIX_1080, MATRIX_720}  # not 2045
        assert found(loaded, categories=(6000,)) == set()

    # -- order -----------------------------------------------------------------

    @pytest.mark.parametrize(
        ("sort", "key"),
        [
            (SortOrder.SEEDERS, lambda d: d.seeders),
            (SortOrder.SIZE, lambda d: d.size),
            (SortOrder.DATE, lambda d: d.published_at or datetime.min.replace(tzinfo=UTC)),
        ],
    )
    def test_sort_by_field_descending(self, loaded: SearchIndex, sort: SortOrder, key) -> None:
        expected = [d.title for d in sorted(CORPUS.values(), key=key, reverse=True)]
        assert titles(loaded.search(SearchQuery(sort=sort))) == expected

    def test_sort_applies_to_matches_only(self, loaded: SearchIndex) -> None:
        page = loaded.search(SearchQuery(text="matrix", sort=SortOrder.SIZE))
        assert titles(page) == [RELOADED, MATRIX_1080, MATRIX_720]
        page = loaded.search(SearchQuery(text="1080p", sort=SortOrder.SEEDERS))
        assert titles(page) == [FRIEREN, MATRIX_1080, BB2]

    def test_empty_text_relevance_is_newest_first(self, loaded: SearchIndex) -> None:
        page = loaded.search(SearchQuery())
        assert page.total == len(CORPUS)
        assert titles(page) == [
            UBUNTU,
            FRIEREN,
            MATRIX_1080,
            RELOADED,
            BB2,
            DAFT_PUNK,
            MATRIX_720,
            BB1,
            DEBIAN,  # no date: last
        ]

    def test_relevance_prefers_healthy_then_recent(self, index: SearchIndex) -> None:
        title = "Big.Buck.Bunny.2008.1080p.WEB-DL.x264-OPEN"
        recent, old = (
            datetime.now(UTC) - timedelta(days=30),
            datetime.now(UTC) - timedelta(days=5000),
        )
        docs = [
            IndexDocument(info_hash=info_hash(name), title=title, seeders=s, published_at=at)
            for name, s, at in [
                ("dead", 0, recent),
                ("old", 40, old),
                ("healthy", 4000, old),
                ("new", 40, recent),
            ]
        ]
        index.upsert(docs)
        page = index.search(SearchQuery(text="bunny"))
        order = [hit.info_hash for hit in page.hits]
        assert order == [info_hash(n) for n in ("healthy", "new", "old", "dead")]
        scores = [hit.score for hit in page.hits]
        assert scores == sorted(scores, reverse=True)

    # -- paging ------------------------------------------------------------------

    def test_paging_walks_every_match_once(self, loaded: SearchIndex) -> None:
        seen: list[str] = []
        for offset in range(0, 12, 4):
            page = loaded.search(SearchQuery(sort=SortOrder.SEEDERS, offset=offset, limit=4))
            assert page.total == len(CORPUS)
            assert len(page.hits) == min(4, len(CORPUS) - offset)
            seen += titles(page)
        full = titles(loaded.search(SearchQuery(sort=SortOrder.SEEDERS)))
        assert seen == full

    def test_total_counts_beyond_the_page(self, loaded: SearchIndex) -> None:
        page = loaded.search(SearchQuery(text="matrix", limit=1))
        assert page.total == 3
        assert len(page.hits) == 1

    @pytest.mark.parametrize("offset", [9, 10, 1000, 10**12])
    def test_offset_past_the_end_is_empty(self, loaded: SearchIndex, offset: int) -> None:
        page = loaded.search(SearchQuery(offset=offset))
        assert page.hits == ()
        assert page.total == len(CORPUS)

    def test_limit_zero_counts_only(self, loaded: SearchIndex) -> None:
        page = loaded.search(SearchQuery(text="1080p", limit=0))
        assert page == IndexPage(total=3, hits=())

    def test_empty_index(self, index: SearchIndex) -> None:
        index.ensure_settings()
        assert index.search(SearchQuery()) == IndexPage(total=0, hits=())
        assert index.search(SearchQuery(text="matrix")) == IndexPage(total=0, hits=())
        assert index.stats().documents == 0

    # -- writes ------------------------------------------------------------------

    def test_upsert_replaces_by_info_hash(self, loaded: SearchIndex) -> None:
        old = CORPUS[UBUNTU]
        renamed = IndexDocument(
            info_hash=old.info_hash, title="Kubuntu 24.04 Plasma amd64", seeders=5
        )
        loaded.upsert([renamed])
        assert loaded.stats().documents == len(CORPUS)
        assert found(loaded, text="ubuntu") == set()
        page = loaded.search(SearchQuery(text="kubuntu plasma"))
        assert [hit.info_hash for hit in page.hits] == [old.info_hash]
        assert found(loaded, kinds=(ContentKind.SOFTWARE,)) == {DEBIAN}  # old fields gone

    def test_reupsert_same_documents_adds_nothing(self, loaded: SearchIndex) -> None:
        loaded.upsert(list(CORPUS.values()))
        assert loaded.stats().documents == len(CORPUS)
        assert loaded.search(SearchQuery(text="matrix")).total == 3

    def test_duplicate_in_one_batch_last_wins(self, index: SearchIndex) -> None:
        first = IndexDocument(info_hash=info_hash("x"), title="Sintel.2010.720p", seeders=1)
        second = IndexDocument(info_hash=info_hash("x"), title="Tears.of.Steel.2012.4K")
        index.upsert([first, second])
        assert index.stats().documents == 1
        assert index.search(SearchQuery(text="sintel")).total == 0
        assert [h.info_hash for h in index.search(SearchQuery(text="steel")).hits] == [
            info_hash("x")
        ]

    def test_delete(self, loaded: SearchIndex) -> None:
        loaded.delete([CORPUS[MATRIX_720].info_hash, info_hash("never indexed")])
        assert found(loaded, text="matrix") == {MATRIX_1080, RELOADED}
        assert loaded.stats().documents == len(CORPUS) - 1
        loaded.delete([])
        assert loaded.stats().documents == len(CORPUS) - 1

    def test_clear(self, loaded: SearchIndex) -> None:
        loaded.clear()
        assert loaded.search(SearchQuery()).total == 0
        assert loaded.stats().documents == 0
        loaded.upsert([CORPUS[UBUNTU]])  # still usable after a clear
        assert found(loaded, text="ubuntu") == {UBUNTU}

    def test_ensure_settings_is_idempotent(self, loaded: SearchIndex) -> None:
        loaded.ensure_settings()
        loaded.ensure_settings()
        assert loaded.stats().documents == len(CORPUS)
        assert found(loaded, text="ubuntu") == {UBUNTU}

    def test_stats(self, loaded: SearchIndex) -> None:
        stats = loaded.stats()
        assert stats.documents == len(CORPUS)
        assert stats.backend
        assert stats.location
