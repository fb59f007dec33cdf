"""The embedded search backend: a tantivy index folder beside the database.

It is the zero-setup default (no Meilisearch binary needed) and what CI runs. The
index is derived data: it holds only what searching needs and returns info hashes,
which the caller hydrates from the database. One process at a time may write (tantivy
locks the folder); any number may read, so a CLI `search` works while `minato serve`
holds the writer. The writer is therefore opened lazily, on the first write.

Schema changes: if the folder holds an index whose schema differs from `build_schema()`
(an older Minato) or that tantivy cannot open, a writable `TantivyIndex` recreates it
empty and sets `needs_rebuild`; the flag is persisted in a marker file, so a crash
before the rebuild is not forgotten, until the caller calls `mark_rebuilt()`. A
read-only `TantivyIndex` cannot recreate it and raises `SearchIndexError` instead,
telling the user to run `minato reindex`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tantivy

from engine.classify.categories import TORZNAB_CATEGORIES
from engine.errors import IndexBusy, MinatoError, SearchIndexError
from engine.models import IndexDocument, IndexHit, IndexPage, IndexStats, SearchQuery, SortOrder

__all__ = ["TantivyIndex", "build_schema", "health_boost", "query_words"]

_REBUILD_MARKER = "minato-rebuild-needed"
_TEXT_FIELDS = (("title", 2.0), ("files_text", 1.0))  # a title word counts twice a file's
_MIN_EXPANDED_PREFIX = 3  # shorter last words match by regex, not term expansion
_MAX_EXPANSIONS = 50  # as tantivy's own phrase-prefix expansion limit
_BUSY_HINT = (
    "the search index at {path} is used by another Minato process (for example a running "
    "`minato serve`); stop it or make this change through it"
)
_SORT_FIELDS = {SortOrder.SEEDERS: "seeders", SortOrder.SIZE: "size", SortOrder.DATE: "published"}

# The same pipeline as tantivy's "default" tokenizer, so query words equal indexed terms:
# split on non-alphanumerics, drop tokens of 40+ bytes, lowercase.
_ANALYZER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(40))
    .filter(tantivy.Filter.lowercase())
    .build()
)


def build_schema() -> tantivy.Schema:
    """The index schema; any change to it makes existing folders rebuild (see module doc)."""
    raw: dict[str, Any] = {"tokenizer_name": "raw", "index_option": "basic"}
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("info_hash", stored=True, **raw)  # the only stored value
    sb.add_text_field("title", index_option="freq")  # BM25 needs frequencies, not positions
    sb.add_text_field("files_text", index_option="freq")
    for name in ("kind", "resolution", "sources", "imdb_id"):
        sb.add_text_field(name, **raw)
    for name in ("category", "year", "season", "episode"):
        sb.add_integer_field(name, indexed=True, fast=True)
    for name in ("tmdb_id", "tvdb_id"):
        sb.add_integer_field(name, indexed=True)
    for name in ("seeders", "size", "published"):
        sb.add_integer_field(name, fast=True)
    sb.add_float_field("boost", fast=True)
    return sb.build()


def query_words(text: str) -> list[str]:
    """Split search text exactly as titles were indexed; punctuation alone yields no word."""
    return list(_ANALYZER.analyze(text))


def health_boost(seeders: int, published: int, now: float) -> float:
    """The ranking weight stored in the `boost` fast field.

    tantivy multiplies a relevance score by `log2(2 + boost)`. `boost` is
    `log2(1 + seeders)` scaled by recency from 1.0 (new) down towards 0.5 (a half-life of
    two years; unknown dates count as old). The double logarithm keeps the multiplier
    between 1 and about 4, so popularity reorders equally relevant hits without drowning
    relevance, and a dead torrent (0 seeders) keeps its plain score (multiplier 1).

    Args:
        seeders: Seeders when indexed (negative counts as 0).
        published: Epoch seconds, 0 when unknown.
        now: Epoch seconds of indexing; seeders are a snapshot of that moment too.
    """
    age_years = max(0.0, now - published) / 31_557_600 if published > 0 else math.inf
    recency = 0.5 + 0.5 * math.pow(2.0, -age_years / 2.0)
    return math.log2(1 + max(0, seeders)) * recency


@contextmanager
def _failures(action: str) -> Iterator[None]:
    """Turn tantivy's ValueErrors (and any other surprise) into `SearchIndexError`."""
    try:
        yield
    except MinatoError:
        raise
    except Exception as exc:
        raise SearchIndexError(f"search index: {action} failed: {exc}") from exc


class TantivyIndex:
    """`SearchIndex` on an embedded tantivy folder (see the module doc for the rules).

    Thread-safe: writes are serialized by a lock; searches use tantivy's searchers.
    """

    def __init__(
        self, path: Path, *, writer_heap_bytes: int = 128_000_000, read_only: bool = False
    ) -> None:
        """Open (or create) the index in `path`.

        Args:
            path: The index folder, created if missing.
            writer_heap_bytes: tantivy's indexing memory budget (at least 15 MB per thread).
            read_only: Never take the writer; writes raise `SearchIndexError`.

        Raises:
            SearchIndexError: The folder cannot be used, or (read-only) needs a rebuild.
            IndexBusy: The schema is outdated but another process holds the writer.
        """
        self.path = Path(path)
        self.read_only = read_only
        self._heap = writer_heap_bytes
        self._schema = build_schema()
        self._lock = threading.Lock()
        self._writer: tantivy.IndexWriter | None = None
        self._index = self._open()

    @property
    def needs_rebuild(self) -> bool:
        """True when the index was created or recreated empty and not refilled since."""
        return (self.path / _REBUILD_MARKER).exists()

    def mark_rebuilt(self) -> None:
        """Tell the index that the caller refilled it from the database."""
        (self.path / _REBUILD_MARKER).unlink(missing_ok=True)

    def mark_stale(self) -> None:
        """Record that a refill from the database is due (survives a crash or a cancel)."""
        with _failures("mark"):
            (self.path / _REBUILD_MARKER).touch()

    def ensure_settings(self) -> None:
        """Recreate the index if its folder vanished; otherwise nothing (idempotent)."""
        with self._lock, _failures("open"):
            if not (self.path / "meta.json").is_file():
                self._release_writer()
                self._index = self._open()

    def reload(self) -> None:
        """See commits made by another process now, instead of after tantivy's short delay."""
        with _failures("reload"):
            self._index.reload()

    def upsert(self, docs: Sequence[IndexDocument]) -> None:
        """Insert or replace by info hash (the last of duplicates wins), commit, reload."""
        if not docs:
            return
        latest = {doc.info_hash: doc for doc in docs}
        now = time.time()
        with self._lock, _failures("upsert"), self._transaction() as writer:
            for info_hash, doc in latest.items():
                writer.delete_documents_by_term("info_hash", info_hash)
                writer.add_document(self._document(doc, now))

    def delete(self, info_hashes: Sequence[str]) -> None:
        """Remove documents by info hash and commit; unknown hashes are ignored."""
        if not info_hashes:
            return
        with self._lock, _failures("delete"), self._transaction() as writer:
            for info_hash in set(info_hashes):
                writer.delete_documents_by_term("info_hash", info_hash)

    def clear(self) -> None:
        """Remove every document (before a rebuild) and commit."""
        with self._lock, _failures("clear"), self._transaction() as writer:
            writer.delete_all_documents()

    def search(self, query: SearchQuery) -> IndexPage:
        """Matching info hashes, ordered and paged, with the total number of matches."""
        with _failures("search"):
            searcher = self._index.searcher()
            # tantivy allocates offset+limit slots up front (a huge offset aborts the
            # process) and panics on limit 0, so both are clamped to the document count.
            size = searcher.num_docs
            offset = min(max(0, query.offset), size)
            limit = max(1, min(query.limit, size - offset))
            words = query_words(query.text)
            options: dict[str, Any] = {}
            if query.sort in _SORT_FIELDS:
                options["order_by_field"] = _SORT_FIELDS[query.sort]
            elif words:
                options["weight_by_field"] = "boost"
            else:  # relevance without words: newest first
                options["order_by_field"] = "published"
            result = searcher.search(
                self._query(words, query, searcher),
                limit=limit,
                count=True,
                offset=offset,
                **options,
            )
            total = int(result.count)  # type: ignore[attr-defined]  # not in tantivy's stub
            if query.limit <= 0:
                return IndexPage(total=total, hits=())
            hits = tuple(
                IndexHit(searcher.doc(address)["info_hash"][0], float(key))
                for key, address in result.hits
            )
            return IndexPage(total=total, hits=hits)

    def stats(self) -> IndexStats:
        """Backend name, live document count, folder."""
        with _failures("stats"):
            documents = self._index.searcher().num_docs
        return IndexStats(backend="tantivy", documents=documents, location=str(self.path))

    def close(self) -> None:
        """Release the writer (after its merges finish) so another process may write."""
        with self._lock, _failures("close"):
            self._release_writer()

    # -- internals -------------------------------------------------------------

    def _open(self) -> tantivy.Index:
        """Open or create the index, recreating an incompatible one (see module doc)."""
        with _failures("open"):
            self.path.mkdir(parents=True, exist_ok=True)
            where = str(self.path)
            if not tantivy.Index.exists(where):
                (self.path / _REBUILD_MARKER).touch()  # first, in case we crash next
                return tantivy.Index(self._schema, where)
            reason = None
            try:
                index = tantivy.Index.open(where)
                if index.schema == self._schema:
                    return index
                reason = "was built by another Minato version (its fields differ)"
            except ValueError as exc:
                reason = f"cannot be opened ({exc})"
            if self.read_only:
                raise SearchIndexError(
                    f"the search index at {where} {reason}; run `minato reindex` to rebuild it"
                )
            with suppress(ValueError):  # an unreadable index cannot be locked: go ahead
                self._take_writer(tantivy.Index.open(where)).wait_merging_threads()
            (self.path / _REBUILD_MARKER).touch()
            return tantivy.Index(self._schema, where, reuse=False)

    def _take_writer(self, index: tantivy.Index) -> tantivy.IndexWriter:
        """A writer on `index`, or `IndexBusy` when another process holds its lock."""
        try:
            return index.writer(heap_size=self._heap)
        except ValueError as exc:
            if "lock" in str(exc).lower():
                raise IndexBusy(_BUSY_HINT.format(path=self.path)) from exc
            raise

    def ensure_writable(self) -> None:
        """Take the write lock now, so a second server on this folder fails at start.

        Raises:
            IndexBusy: another process holds the index for writing.
        """
        with self._lock, _failures("open the writer"):
            self._writable()

    def _writable(self) -> tantivy.IndexWriter:
        """The writer, opened on first use; the caller holds `_lock`."""
        if self.read_only:
            raise SearchIndexError(f"the search index at {self.path} was opened read-only")
        if self._writer is None:
            self._writer = self._take_writer(self._index)
        return self._writer

    @contextmanager
    def _transaction(self) -> Iterator[tantivy.IndexWriter]:
        """The writer for one batch: commit and reload after it, or roll it all back.

        Rolling back matters: a half-applied batch left in the writer would otherwise be
        committed by the next, unrelated call. The caller holds `_lock`.
        """
        writer = self._writable()
        try:
            yield writer
            writer.commit()
        except BaseException:
            with suppress(Exception):
                writer.rollback()
            raise
        self._index.reload()  # searchable as soon as the call returns

    def _release_writer(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.wait_merging_threads()

    def _document(self, doc: IndexDocument, now: float) -> tantivy.Document:
        """The tantivy document for `doc`; missing values are left out, so filters skip it."""
        published = 0
        if doc.published_at is not None:
            published = int(_utc(doc.published_at).timestamp())
        fields: dict[str, Any] = {
            "info_hash": doc.info_hash,
            "title": doc.title,
            "files_text": doc.files_text,
            "sources": [source.strip().lower() for source in doc.sources],
            "seeders": max(0, doc.seeders),
            "size": max(0, doc.size),
            "published": published,
            "boost": health_boost(doc.seeders, published, now),
        }
        for name in ("kind", "resolution", "imdb_id"):
            value = getattr(doc, name)
            if value:
                fields[name] = str(value).strip().lower()
        for name in ("category", "year", "season", "episode", "tmdb_id", "tvdb_id"):
            value = getattr(doc, name)
            if value is not None:
                fields[name] = int(value)
        return tantivy.Document.from_dict(fields, self._schema)

    def _completions(
        self, searcher: tantivy.Searcher, field: str, prefix: str
    ) -> list[tantivy.Query]:
        """Queries for every indexed word of `field` that starts with `prefix`.

        Expanding to term queries keeps BM25 scoring and costs one posting scan for a
        complete word ('1080p' has no longer completion), where a prefix query scores
        a constant and needs the exact term beside it. Short or prolific prefixes
        ('a', 's0') use a constant-score regex instead, as listing their terms is slow;
        tokens are alphanumeric, but lowercasing can add marks ('İ' -> 'i̇'), so anything
        else is escaped.
        """
        schema = self._schema
        if len(prefix) >= _MIN_EXPANDED_PREFIX:
            terms = searcher.terms_with_prefix(field, prefix, limit=_MAX_EXPANSIONS + 1)
            if len(terms) <= _MAX_EXPANSIONS:
                return [tantivy.Query.term_query(schema, field, term) for term, _ in terms]
        # Not phrase_prefix_query: tantivy caps it at 50 expansions, silently.
        pattern = "".join(c if c.isalnum() else f"\\x{{{ord(c):x}}}" for c in prefix) + ".*"
        return [
            tantivy.Query.term_query(schema, field, prefix),
            tantivy.Query.regex_query(schema, field, pattern),
        ]

    def _categories(self, categories: Sequence[int]) -> tantivy.Query:
        exact, ranges = _category_terms(categories)
        queries = [
            tantivy.Query.range_query(
                self._schema, "category", tantivy.FieldType.Integer, cat, cat + 999
            )
            for cat in ranges
        ]
        if exact:
            queries.append(tantivy.Query.term_set_query(self._schema, "category", exact))
        return queries[0] if len(queries) == 1 else _any_of(queries)

    def _query(
        self, words: list[str], query: SearchQuery, searcher: tantivy.Searcher
    ) -> tantivy.Query:
        """All words (the last also as a prefix) in title or files, AND every filter."""
        schema, must = self._schema, tantivy.Occur.Must
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for position, word in enumerate(words):
            alternatives: list[tantivy.Query] = []
            for field, weight in _TEXT_FIELDS:
                if position < len(words) - 1:
                    found = [tantivy.Query.term_query(schema, field, word)]
                else:
                    found = self._completions(searcher, field, word)
                alternatives += [tantivy.Query.boost_query(q, weight) for q in found]
            clauses.append((must, _any_of(alternatives)))
        for name, value in (
            ("year", query.year),
            ("season", query.season),
            ("episode", query.episode),
            ("tmdb_id", query.tmdb_id),
            ("tvdb_id", query.tvdb_id),
            ("resolution", query.resolution),
            ("sources", query.source),
            ("imdb_id", query.imdb_id),
        ):
            if value is not None:
                term = value.strip().lower() if isinstance(value, str) else value
                clauses.append((must, _filter(tantivy.Query.term_query(schema, name, term))))
        if query.kinds:
            kinds = [str(kind.value) for kind in query.kinds]
            clauses.append((must, _filter(tantivy.Query.term_set_query(schema, "kind", kinds))))
        if query.categories:
            clauses.append((must, _filter(self._categories(query.categories))))
        return tantivy.Query.boolean_query(clauses) if clauses else tantivy.Query.all_query()


def _category_terms(categories: Sequence[int]) -> tuple[list[int], list[int]]:
    """Exact ids to match, and parents whose subcategories are unknown (matched as a range).

    A parent of the Torznab table (2000) expands to itself and its subcategories:
    a term set is about a third cheaper than a range scan at 1M documents.
    """
    exact: list[int] = []
    ranges: list[int] = []
    for cat in categories:
        if cat > 0 and cat % 1000 == 0:
            subcats = _SUBCATEGORIES.get(cat)
            if subcats is None:
                ranges.append(cat)
            else:
                exact += [cat, *subcats]
        else:
            exact.append(cat)
    return exact, ranges


_SUBCATEGORIES = {
    parent: tuple(sub_id for sub_id, _ in subs) for parent, _, subs in TORZNAB_CATEGORIES
}


def _any_of(queries: list[tantivy.Query]) -> tantivy.Query:
    """A disjunction: a document matches if any of `queries` does (scores add up)."""
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])


def _filter(query: tantivy.Query) -> tantivy.Query:
    """A condition that must hold but adds nothing to the score (so it cannot reorder hits)."""
    return tantivy.Query.const_score_query(query, 0.0)


def _utc(at: datetime) -> datetime:
    """`at` as an aware time; a naive one is taken as UTC, as the models promise."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
