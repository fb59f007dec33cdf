"""Small deterministic torrents made by libtorrent, with the values a crawler should report.

``make_torrent`` writes the content and a real .torrent (``lt.list_files`` +
``lt.create_torrent``). The expectations in ``MadeTorrent`` do not come from libtorrent's
parse: ``files`` is what was written to disk (pad files never appear), and the hashes are
SHA-1 / SHA-256 of the raw ``info`` span, found by ``tests.dht_swarm.bencoding``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import libtorrent as lt

from tests.dht_swarm.bencoding import bdecode_prefix, info_section

TorrentKind = Literal["single", "multi", "hybrid", "v1", "v2"]
Layout = Literal["single", "multi"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MadeTorrent:
    """A torrent written by `make_torrent`, with the values a crawler should report for it."""

    name: str
    kind: TorrentKind
    save_path: Path
    """The directory holding the content (seed with this as libtorrent's save_path)."""
    info_hash_v1: str | None
    """SHA-1 of the info dict, 40 hex; None for v2-only torrents."""
    info_hash_v2: str | None
    """SHA-256 of the info dict, 64 hex; None for v1-only torrents."""
    info_hash_v2_truncated: str | None
    """The first 20 bytes of the v2 hash (what the DHT uses), 40 hex."""
    files: tuple[tuple[str, int], ...]
    """(path with '/', size) as written to disk, sorted by path, no pad files."""
    total_size: int
    metainfo: bytes
    """The .torrent file."""

    @property
    def info_dict(self) -> bytes:
        """The raw info dictionary: exactly what BEP 9 metadata exchange transfers."""
        return info_section(self.metainfo)

    @property
    def info_hash(self) -> str:
        """The key Minato stores it under: v1, else the truncated v2 hash."""
        return cast(str, self.info_hash_v1 or self.info_hash_v2_truncated)

    @property
    def dht_hashes(self) -> tuple[str, ...]:
        """Every 20-byte hash the torrent is announced under in the DHT."""
        return tuple(h for h in (self.info_hash_v1, self.info_hash_v2_truncated) if h)


def make_torrent(
    directory: Path,
    name: str,
    kind: TorrentKind,
    *,
    files: int = 3,
    size: int = 20_000,
    layout: Layout | None = None,
) -> MadeTorrent:
    """Write content under ``directory / name`` and make a .torrent of it with libtorrent.

    Args:
        directory: Parent of the content; becomes ``save_path``.
        name: The torrent's name (file or directory name); no '/'.
        kind: "single"/"multi" (default v1+v2 format), or "hybrid"/"v1"/"v2" (a format).
        files: Number of files for a directory layout (every third one in a subdirectory).
        size: Bytes of the first file; file i has ``size + 1237 * i``, so files do not
            end on piece boundaries and v2/hybrid torrents get pad files.
        layout: Overrides the layout of "hybrid"/"v1"/"v2" (default "multi").

    Returns:
        The torrent and the expected values.
    """
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(f"bad torrent name {name!r}")
    if kind in ("single", "multi"):
        if layout not in (None, kind):
            raise ValueError(f"kind {kind!r} contradicts layout {layout!r}")
        layout = kind
    layout = layout or "multi"
    flags = {"v1": lt.create_torrent.v1_only, "v2": lt.create_torrent.v2_only}.get(kind, 0)
    content = directory / name
    if content.exists():
        raise FileExistsError(content)
    directory.mkdir(parents=True, exist_ok=True)
    if layout == "single":
        _write_content(content, name, size)
    else:
        for i in range(files):
            sub = "extras/" if i % 3 == 2 else ""
            _write_content(content / f"{sub}part{i:02d}.bin", f"{name}/{i}", size + 1237 * i)
    written = sorted(
        (p.relative_to(directory).as_posix(), p.stat().st_size)
        for p in ([content] if content.is_file() else content.rglob("*"))
        if p.is_file()
    )
    creator = lt.create_torrent(lt.list_files(str(content)), 0, flags)
    creator.set_creator("Minato test harness")
    lt.set_piece_hashes(creator, str(directory))
    # generate_buf() raises UnicodeDecodeError in 2.1.1's binding; bencode the entry instead.
    metainfo = lt.bencode(creator.generate())
    info = info_section(metainfo)
    info_dict, _ = bdecode_prefix(info)
    assert isinstance(info_dict, dict)
    v1 = hashlib.sha1(info).hexdigest() if b"pieces" in info_dict else None  # noqa: S324
    v2 = hashlib.sha256(info).hexdigest() if info_dict.get(b"meta version") == 2 else None
    return MadeTorrent(
        name=name,
        kind=kind,
        save_path=directory,
        info_hash_v1=v1,
        info_hash_v2=v2,
        info_hash_v2_truncated=v2[:40] if v2 else None,
        files=tuple(written),
        total_size=sum(size for _, size in written),
        metainfo=metainfo,
    )


def _write_content(path: Path, seed: str, size: int) -> None:
    """Deterministic, incompressible bytes: a SHA-256 counter stream over ``seed``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    blocks = (hashlib.sha256(f"{seed}:{n}".encode()).digest() for n in range(size // 32 + 1))
    path.write_bytes(b"".join(blocks)[:size])
