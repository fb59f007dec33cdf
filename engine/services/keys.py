"""API keys and the workers' internal secret: creation, listing, revocation, checking.

Keys are random, shown once, and stored as SHA-256 digests; checks compare
digests with `hmac.compare_digest` so timing tells nothing. Active digests are
cached for a few seconds; a miss looks the digest up (one indexed read), so a
key made by `minato keys create` in another process works at once, and a
revoked one stops working within the cache's few seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from engine.errors import BadRequest, NotFound
from engine.models import ApiKeyInfo, NewApiKey
from engine.store.keys import (
    active_key_hashes,
    insert_key,
    is_active_key,
    list_keys,
    revoke_key,
    touch_key,
)
from engine.store.writer import Writer

_CACHE_TTL_S = 5.0
_TOUCH_EVERY_S = 60.0
SECRET_FILE = "internal_secret"  # noqa: S105 - a file name, not a secret


def digest(secret: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def ensure_internal_secret(configured: str, data_dir: Path) -> str:
    """The configured internal secret, or the one generated at first start (kept 0600)."""
    if configured:
        return configured
    path = data_dir / SECRET_FILE
    if path.exists():
        return path.read_text("utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    path.touch(mode=0o600)
    path.write_text(secret + "\n", "utf-8")
    return secret


class KeyService:
    """API key management and request authentication."""

    def __init__(self, reader: Engine, writer: Writer, internal_secret: str) -> None:
        self._reader = reader
        self._writer = writer
        self._internal_digest = digest(internal_secret)
        self._active: tuple[str, ...] = ()
        self._loaded_at = -1e9
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    async def create(self, name: str) -> NewApiKey:
        """A new key; its secret is in the answer and nowhere else."""
        name = name.strip()
        if not name or len(name) > 128:
            raise BadRequest("name: must be 1-128 characters")
        secret = secrets.token_hex(16)
        now = datetime.now(UTC)
        info = await asyncio.wrap_future(
            self._writer.call(
                lambda c: insert_key(
                    c, name=name, prefix=secret[:8], key_hash=digest(secret), now=now
                )
            )
        )
        self._loaded_at = -1e9
        return NewApiKey(info=info, secret=secret)

    async def list_all(self) -> list[ApiKeyInfo]:
        """Every key (prefix only), oldest first."""
        return await asyncio.to_thread(self._list)

    async def revoke(self, ref: str) -> list[ApiKeyInfo]:
        """Revoke by id, name or prefix.

        Raises:
            NotFound: no active key matches.
        """
        now = datetime.now(UTC)
        revoked = await asyncio.wrap_future(self._writer.call(lambda c: revoke_key(c, ref, now)))
        if not revoked:
            raise NotFound(f"no active key with id, name or prefix {ref!r}")
        self._loaded_at = -1e9
        return revoked

    async def verify(self, supplied: str | None) -> bool:
        """Whether `supplied` is an active API key."""
        if not supplied:
            return False
        wanted = digest(supplied)
        age = time.monotonic() - self._loaded_at
        if age > _CACHE_TTL_S:
            await asyncio.to_thread(self._reload)
        found = self._match(wanted)
        if not found and await asyncio.to_thread(self._is_active, wanted):
            # Made (e.g. by `minato keys create`) since the last reload: valid at once.
            self._active = (*self._active, wanted)
            found = True
        if found:
            self._touch(wanted)
        return found

    def verify_internal(self, supplied: str | None) -> bool:
        """Whether `supplied` is the workers' internal secret."""
        return bool(supplied) and hmac.compare_digest(digest(supplied or ""), self._internal_digest)

    def _match(self, wanted: str) -> bool:
        matched = False
        for known in self._active:  # no early exit: every comparison costs the same
            matched |= hmac.compare_digest(known, wanted)
        return matched

    def _is_active(self, wanted: str) -> bool:
        with self._reader.connect() as conn:
            return is_active_key(conn, wanted)

    def _reload(self) -> None:
        with self._lock, self._reader.connect() as conn:
            self._active = tuple(active_key_hashes(conn))
            self._loaded_at = time.monotonic()

    def _list(self) -> list[ApiKeyInfo]:
        with self._reader.connect() as conn:
            return list_keys(conn)

    def _touch(self, key_hash: str) -> None:
        now = time.monotonic()
        if now - self._touched.get(key_hash, -1e9) < _TOUCH_EVERY_S:
            return
        self._touched[key_hash] = now
        stamp = datetime.now(UTC)
        self._writer.call(lambda c: touch_key(c, key_hash, stamp))
