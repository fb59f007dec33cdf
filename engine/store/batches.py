"""Helpers for batched statements: key lists under the parameter limits, dialect upserts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

T = TypeVar("T")

IN_CHUNK = 500
"""Keys per `IN (...)` list: far below SQLite's 32,766 bind variables, cheap on PostgreSQL."""


def in_chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """`values` in consecutive slices of at most `size`."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def dialect_insert(conn: Connection, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with `on_conflict_do_*` for the connection's backend (SQLite or PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
