"""Store side of mirror health: each site's mirrors, their last check, the chosen one, history.

`site_mirrors` holds one row per configured mirror: its place in the config, what
the last check (or the last crawl failure) found, and which mirror crawls use.
`mirror_checks` keeps the last `HISTORY_PER_MIRROR` checks of each mirror, so the
GUI can say why a mirror was skipped without the table growing forever.

The functions take a `Connection`: writes run inside `Writer.call` (the single
writer), reads on the reader engine. `MirrorStore` wraps both for async callers
such as `engine.net.mirrors.MirrorResolver`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, false, func, insert, select, update

from engine.store.schema import mirror_checks, site_mirrors
from engine.store.writer import Writer

HISTORY_PER_MIRROR = 100
"""Checks kept per mirror; older ones are deleted as new ones are written."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MirrorCheck:
    """One observation of a mirror: a health check, or a failure seen during a crawl."""

    site: str
    url: str
    checked_at: datetime
    online: bool
    """The host answered over HTTP with a status below 400 (or a recognised block page)."""
    latency_ms: float | None = None
    status: int | None = None
    error: str | None = None
    blocked: str | None = None
    """"challenge: ..." or "parked: ...": it answered, but not with the site's content."""

    @property
    def usable(self) -> bool:
        """Online and answering as the site itself: a crawl can use this mirror."""
        return self.online and self.blocked is None


@dataclass(frozen=True, slots=True, kw_only=True)
class MirrorState:
    """A configured mirror and what is known of it; `online` is None before the first check."""

    site: str
    url: str
    position: int
    online: bool | None = None
    latency_ms: float | None = None
    checked_at: datetime | None = None
    last_error: str | None = None
    blocked: str | None = None
    consecutive_failures: int = 0
    chosen: bool = False

    @property
    def usable(self) -> bool:
        """Known to answer as the site (checked online and not blocked)."""
        return self.online is True and self.blocked is None

    @property
    def known_bad(self) -> bool:
        """Known not to serve the site: the last observation was offline or a block page."""
        return self.online is False or self.blocked is not None


def sync_mirrors(conn: Connection, site: str, urls: Sequence[str]) -> None:
    """Make `site`'s rows match its configured `urls`, in order.

    New mirrors are added (state unknown), kept ones get their new position and keep
    their health, and mirrors no longer configured are deleted with their history.
    `urls` must be distinct (the resolver validates and de-duplicates the config).
    """
    m = site_mirrors.c
    stored = set(conn.execute(select(m.url).where(m.site == site)).scalars())
    gone = stored - set(urls)
    if gone:
        conn.execute(delete(site_mirrors).where(m.site == site, m.url.in_(sorted(gone))))
        h = mirror_checks.c
        conn.execute(delete(mirror_checks).where(h.site == site, h.url.in_(sorted(gone))))
    for position, url in enumerate(urls):
        if url in stored:
            conn.execute(
                update(site_mirrors)
                .where(m.site == site, m.url == url, m.position != position)
                .values(position=position)
            )
        else:
            conn.execute(
                insert(site_mirrors).values(
                    site=site, url=url, position=position, consecutive_failures=0, chosen=False
                )
            )


def record_check(conn: Connection, check: MirrorCheck, *, keep: int = HISTORY_PER_MIRROR) -> None:
    """Store `check` as the mirror's latest state and in its history (pruned to `keep`).

    A usable check resets the failure streak; anything else lengthens it. A mirror
    not configured yet is added at the end, so no observation is lost.
    """
    m = site_mirrors.c
    values = {
        "online": check.online,
        "latency_ms": check.latency_ms,
        "checked_at": check.checked_at,
        "last_error": check.error,
        "blocked": check.blocked,
        "consecutive_failures": 0 if check.usable else m.consecutive_failures + 1,
    }
    found = conn.execute(
        update(site_mirrors).where(m.site == check.site, m.url == check.url).values(values)
    )
    if found.rowcount == 0:
        position = conn.execute(
            select(func.coalesce(func.max(m.position) + 1, 0)).where(m.site == check.site)
        ).scalar_one()
        values["consecutive_failures"] = 0 if check.usable else 1
        conn.execute(
            insert(site_mirrors).values(
                site=check.site, url=check.url, position=position, chosen=False, **values
            )
        )
    conn.execute(
        insert(mirror_checks).values(
            site=check.site,
            url=check.url,
            checked_at=check.checked_at,
            online=check.online,
            latency_ms=check.latency_ms,
            status=check.status,
            error=check.error,
            blocked=check.blocked,
        )
    )
    _prune(conn, check.site, check.url, keep)


def _prune(conn: Connection, site: str, url: str, keep: int) -> None:
    """Delete all but the newest `keep` checks of one mirror (newest = highest id)."""
    h = mirror_checks.c
    oldest_kept = conn.execute(
        select(h.id)
        .where(h.site == site, h.url == url)
        .order_by(h.id.desc())
        .offset(max(keep, 1) - 1)
        .limit(1)
    ).scalar_one_or_none()
    if oldest_kept is not None:
        conn.execute(delete(mirror_checks).where(h.site == site, h.url == url, h.id < oldest_kept))


def set_chosen(conn: Connection, site: str, url: str | None) -> None:
    """Make `url` the only chosen mirror of `site` (None: no choice)."""
    m = site_mirrors.c
    chosen = m.url == url if url is not None else false()
    conn.execute(update(site_mirrors).where(m.site == site).values(chosen=chosen))


def mirror_states(conn: Connection, site: str | None = None) -> list[MirrorState]:
    """Every mirror (of `site`, or of all sites), by site then configured order."""
    m = site_mirrors.c
    query = select(site_mirrors).order_by(m.site, m.position, m.url)
    if site is not None:
        query = query.where(m.site == site)
    return [
        MirrorState(
            site=row.site,
            url=row.url,
            position=row.position,
            online=row.online,
            latency_ms=row.latency_ms,
            checked_at=row.checked_at,
            last_error=row.last_error,
            blocked=row.blocked,
            consecutive_failures=row.consecutive_failures,
            chosen=row.chosen,
        )
        for row in conn.execute(query)
    ]


def check_history(conn: Connection, site: str, url: str, limit: int = 20) -> list[MirrorCheck]:
    """The newest `limit` checks of one mirror, newest first."""
    h = mirror_checks.c
    query = (
        select(mirror_checks)
        .where(h.site == site, h.url == url)
        .order_by(h.id.desc())
        .limit(max(limit, 0))
    )
    return [
        MirrorCheck(
            site=row.site,
            url=row.url,
            checked_at=row.checked_at,
            online=row.online,
            latency_ms=row.latency_ms,
            status=row.status,
            error=row.error,
            blocked=row.blocked,
        )
        for row in conn.execute(query)
    ]


class MirrorStore:
    """Mirror state for async code: writes through the single `Writer`, reads off the loop."""

    def __init__(self, reader: Engine, writer: Writer) -> None:
        self._reader = reader
        self._writer = writer

    async def sync(self, site: str, urls: Sequence[str]) -> list[MirrorState]:
        """Match the stored mirrors to the config; the site's states afterwards.

        The write is skipped when nothing changed, so opening a resolver at each
        crawl costs one read.
        """
        states = await self.states(site)
        if [s.url for s in states] == list(urls):
            return states
        wanted = list(urls)

        def write(conn: Connection) -> list[MirrorState]:
            sync_mirrors(conn, site, wanted)
            return mirror_states(conn, site)

        return await asyncio.wrap_future(self._writer.call(write))

    async def save(
        self, site: str, checks: Sequence[MirrorCheck], chosen: str | None
    ) -> list[MirrorState]:
        """Record `checks` and the choice in one transaction; the site's states afterwards."""
        pending = list(checks)

        def write(conn: Connection) -> list[MirrorState]:
            for check in pending:
                record_check(conn, check)
            set_chosen(conn, site, chosen)
            return mirror_states(conn, site)

        return await asyncio.wrap_future(self._writer.call(write))

    async def states(self, site: str | None = None) -> list[MirrorState]:
        """The stored states (of `site`, or of every site)."""
        return await asyncio.to_thread(self._read_states, site)

    async def history(self, site: str, url: str, limit: int = 20) -> list[MirrorCheck]:
        """The newest checks of one mirror, newest first."""
        return await asyncio.to_thread(self._read_history, site, url, limit)

    def _read_states(self, site: str | None) -> list[MirrorState]:
        with self._reader.connect() as conn:
            return mirror_states(conn, site)

    def _read_history(self, site: str, url: str, limit: int) -> list[MirrorCheck]:
        with self._reader.connect() as conn:
            return check_history(conn, site, url, limit)
