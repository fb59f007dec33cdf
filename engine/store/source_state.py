"""Store side of per-source state: one JSON object per source, read and replaced whole.

A source's state is small (a watermark, a cursor, a handful of figures), so it is
kept as one JSON document rather than a table per source: adding a field needs no
migration. A document that no longer decodes (an older, hand-edited or damaged
row) reads as None, so the source starts afresh instead of failing every run.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from engine.store.schema import source_state
from engine.store.writer import Writer

log = logging.getLogger(__name__)

MAX_STATE_CHARS = 1_000_000
"""A state larger than this is a bug in its source: refused rather than stored."""


def read_state(conn: Connection, source: str) -> dict[str, Any] | None:
    """The state saved for `source`, or None (none saved, or not a JSON object)."""
    text = conn.execute(select(source_state.c.data).where(source_state.c.source == source)).scalar()
    if text is None:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        log.warning("the saved state of %s is not JSON: starting afresh", source)
        return None
    return data if isinstance(data, dict) else None


def write_state(conn: Connection, source: str, data: dict[str, Any]) -> None:
    """Replace the state of `source` with `data`.

    Raises:
        ValueError: `data` is not JSON-serializable or is larger than `MAX_STATE_CHARS`.
    """
    text = json.dumps(data, separators=(",", ":"), sort_keys=True)
    if len(text) > MAX_STATE_CHARS:
        raise ValueError(f"state of {source} is {len(text)} characters, over {MAX_STATE_CHARS}")
    conn.execute(delete(source_state).where(source_state.c.source == source))
    conn.execute(
        insert(source_state).values(source=source, data=text, updated_at=datetime.now(UTC))
    )


class SourceStateStore:
    """Per-source state for async code: writes through the single `Writer`, reads off the loop."""

    def __init__(self, reader: Engine, writer: Writer) -> None:
        self._reader = reader
        self._writer = writer

    def load_now(self, source: str) -> dict[str, Any] | None:
        """The saved state (a blocking read, for start-up and the CLI)."""
        with self._reader.connect() as conn:
            return read_state(conn, source)

    async def load(self, source: str) -> dict[str, Any] | None:
        """The saved state, read in a thread."""
        return await asyncio.to_thread(self.load_now, source)

    async def save(self, source: str, data: dict[str, Any]) -> None:
        """Replace the saved state once the writer has committed it."""
        await asyncio.wrap_future(self._writer.call(lambda conn: write_state(conn, source, data)))
