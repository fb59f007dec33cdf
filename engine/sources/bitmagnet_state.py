"""The Bitmagnet bridge's bookkeeping between runs: the watermark and an unfinished pass.

Pure data and functions (no I/O): `engine.sources.bitmagnet` walks the pages and
saves `BridgeState.to_json()` in the source state after every stored page. The
module docstring there explains the pass; here are its rules in code: which items
of a page are new (`take`), what becomes the next watermark (`top_of`,
`BridgeState.finished`), and how the state reads back (`BridgeState.from_json`,
which treats an unreadable document as a fresh start rather than a failure).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from engine.sources.bitmagnet_map import Item

log = logging.getLogger(__name__)

STATE_VERSION: Final = 1
MAX_TIE_HASHES: Final = 1_000
"""Info hashes kept with the watermark; past this a tie group is re-stored (harmless)."""
Key = tuple[datetime, str]
"""An item's place in the pass's order: (published_at, info hash), both descending."""


@dataclass(frozen=True, slots=True)
class Mark:
    """A point of the newest-first order: a publication time and the info hashes at it."""

    published_at: datetime
    hashes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Cursor:
    """An unfinished pass: where it goes on, and what becomes the watermark when it ends."""

    offset: int
    top: Mark | None
    """The newest item when the pass began (None while nothing was read)."""
    last: Key | None
    """The last item read, to find the place again on resumption."""


@dataclass(frozen=True, slots=True)
class BridgeState:
    """What the bridge keeps between runs (source state "bitmagnet")."""

    watermark: Mark | None = None
    cursor: Cursor | None = None

    def finished(self, top: Mark | None) -> BridgeState:
        """The state once a pass that began at `top` is complete: no cursor, watermark moved."""
        old = self.watermark
        if top is None or (old is not None and old.published_at > top.published_at):
            return BridgeState(old)
        same_time = old is not None and old.published_at == top.published_at
        hashes = (old.hashes | top.hashes) if same_time and old is not None else top.hashes
        return BridgeState(Mark(top.published_at, _bounded(hashes)))

    def to_json(self) -> dict[str, Any]:
        """The JSON document saved in the source state."""
        cursor = self.cursor
        return {
            "version": STATE_VERSION,
            "watermark": _mark_json(self.watermark),
            "pass": None
            if cursor is None
            else {
                "offset": cursor.offset,
                "top": _mark_json(cursor.top),
                "last": None
                if cursor.last is None
                else [cursor.last[0].isoformat(), cursor.last[1]],
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> BridgeState:
        """The saved state; a missing or unreadable one is a fresh start (logged)."""
        if not data:
            return cls()
        try:
            return _read_state(data)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            log.warning("bitmagnet: the saved state is unreadable (%s): starting afresh", exc)
            return cls()


def take(items: Sequence[Item], watermark: Mark | None) -> tuple[list[Item], bool]:
    """The items of a page that a pass stores, and whether the page reached the watermark."""
    if watermark is None:
        return list(items), False
    fresh: list[Item] = []
    for item in items:
        if item.published_at < watermark.published_at:
            return fresh, True
        if item.published_at > watermark.published_at or item.info_hash not in watermark.hashes:
            fresh.append(item)
    return fresh, False


def top_of(items: Sequence[Item]) -> Mark | None:
    """The newest item of a (newest-first) page, with every hash sharing its time."""
    if not items:
        return None
    newest = max(item.published_at for item in items)
    return Mark(newest, _bounded(i.info_hash for i in items if i.published_at == newest))


def _bounded(hashes: Iterable[str]) -> frozenset[str]:
    return frozenset(sorted(hashes)[:MAX_TIE_HASHES])


def _read_state(data: Mapping[str, Any]) -> BridgeState:
    """A saved state document, read strictly (any surprise raises)."""
    if data.get("version") != STATE_VERSION:
        raise ValueError(f"version {data.get('version')!r}")
    watermark = _read_mark(data.get("watermark"))
    saved = data.get("pass")
    if saved is None:
        return BridgeState(watermark)
    offset, last = saved["offset"], saved.get("last")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ValueError("pass.offset")
    key = None if last is None else (_read_time(last[0]), str(last[1]))
    return BridgeState(watermark, Cursor(offset, _read_mark(saved.get("top")), key))


def _mark_json(mark: Mark | None) -> dict[str, Any] | None:
    if mark is None:
        return None
    return {"published_at": mark.published_at.isoformat(), "hashes": sorted(mark.hashes)}


def _read_mark(data: Any) -> Mark | None:
    if data is None:
        return None
    hashes = data["hashes"]
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        raise ValueError("hashes")
    return Mark(_read_time(data["published_at"]), _bounded(hashes))


def _read_time(value: Any) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a time without a zone")
    return moment
