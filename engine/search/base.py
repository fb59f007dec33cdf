"""The `SearchIndex` protocol every backend implements (embedded tantivy, Meilisearch).

The database is the truth; an index only answers "which info hashes match, in
which order, how many". Callers hydrate the hits from the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from engine.models import IndexDocument, IndexPage, IndexStats, SearchQuery


class SearchIndex(Protocol):
    """A derived, rebuildable full-text index of torrents."""

    def ensure_settings(self) -> None:
        """Create the index (schema, settings) if missing; idempotent."""

    def ensure_writable(self) -> None:
        """Be ready to write now; raises `IndexBusy` when another process holds the index."""

    def upsert(self, docs: Sequence[IndexDocument]) -> None:
        """Insert or replace documents by info hash, and make them searchable (commit)."""

    def delete(self, info_hashes: Sequence[str]) -> None:
        """Remove documents by info hash, and commit."""

    def search(self, query: SearchQuery) -> IndexPage:
        """Matching info hashes for `query`, ordered and paged, with the total count."""

    def reload(self) -> None:
        """See what another process committed now (it becomes visible by itself, later)."""

    def clear(self) -> None:
        """Remove every document (before a rebuild)."""

    def stats(self) -> IndexStats:
        """Backend name, document count, location."""

    @property
    def needs_rebuild(self) -> bool:
        """True when the index was (re)created empty and must be refilled from the database."""

    def mark_rebuilt(self) -> None:
        """Record that the caller refilled the index from the database."""

    def mark_stale(self) -> None:
        """Record that the index must be refilled from the database (`needs_rebuild`)."""

    def close(self) -> None:
        """Release files, locks and threads."""
