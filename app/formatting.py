"""How sizes read for people, the same in the terminal and in the window."""

from __future__ import annotations


def human_size(size: int | None, unknown: str = "") -> str:
    """1.4 GiB, 700.0 MiB, 512 B; `unknown` when the size is not known."""
    if size is None:
        return unknown
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
