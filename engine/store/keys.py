"""API key rows: stored as SHA-256 digests with a short display prefix, never in clear."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from engine.models import ApiKeyInfo
from engine.store.schema import api_keys


def _info(row: Row[Any]) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def insert_key(
    conn: Connection, *, name: str, prefix: str, key_hash: str, now: datetime
) -> ApiKeyInfo:
    """Store a new key's digest; returns how listings show it."""
    key_id = conn.execute(
        api_keys.insert().values(name=name, prefix=prefix, key_hash=key_hash, created_at=now)
    ).inserted_primary_key
    assert key_id is not None  # noqa: S101 - an autoincrement insert always yields its key
    return ApiKeyInfo(id=int(key_id[0]), name=name, prefix=prefix, created_at=now)


def list_keys(conn: Connection) -> list[ApiKeyInfo]:
    """Every key, oldest first, revoked ones included."""
    return [_info(row) for row in conn.execute(select(api_keys).order_by(api_keys.c.id))]


def active_key_hashes(conn: Connection) -> list[str]:
    """Digests of the keys that are not revoked."""
    query = select(api_keys.c.key_hash).where(api_keys.c.revoked_at.is_(None))
    return list(conn.execute(query).scalars())


def is_active_key(conn: Connection, key_hash: str) -> bool:
    """Whether this digest belongs to a key that is not revoked."""
    query = select(api_keys.c.id).where(
        api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
    )
    return conn.execute(query).first() is not None


def revoke_key(conn: Connection, ref: str, now: datetime) -> list[ApiKeyInfo]:
    """Revoke the active keys whose id, name or prefix is `ref`; returns what was revoked."""
    # One kind of match only, the most specific first: "2" is key id 2, not also a key named "2".
    clauses = [api_keys.c.name == ref, api_keys.c.prefix == ref]
    if ref.isdigit() and len(ref) < 9:
        clauses.insert(0, api_keys.c.id == int(ref))
    rows: Sequence[Row[Any]] = []
    for clause in clauses:
        rows = conn.execute(select(api_keys).where(clause, api_keys.c.revoked_at.is_(None))).all()
        if rows:
            break
    if rows:
        conn.execute(
            update(api_keys).where(api_keys.c.id.in_([r.id for r in rows])).values(revoked_at=now)
        )
    return [dataclasses.replace(_info(r), revoked_at=now) for r in rows]


def touch_key(conn: Connection, key_hash: str, now: datetime) -> None:
    """Record when a key was last used (for the keys listing)."""
    conn.execute(update(api_keys).where(api_keys.c.key_hash == key_hash).values(last_used_at=now))
