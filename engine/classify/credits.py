"""Who made it and what it is called: "Artist - Album" and "Author - Title" from a name.

Music and book releases are named "<credit> - <work> (year) [format]" far more
often than not. Lidarr searches by artist and album, Readarr by author and title,
MusicBrainz by both halves; the Torznab feed reports them as attributes. The split
is deliberately plain: one spaced dash, trailing tags dropped, no guessing when
there is no separator.
"""

from __future__ import annotations

import re
from typing import Final

_SEPARATOR: Final = re.compile(r"\s+[-\u2013\u2014]+\s+")
_TRAILING_TAG: Final = re.compile(r"\s*(\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\})\s*$")
_TRAILING_NOISE: Final = re.compile(
    r"[\s._-]+(?:(?:19|20)\d\d|flac|mp3|aac|ogg|opus|alac|wav|ape|web|cd|vinyl|lossless|"
    r"\d{2,3}\s?kbps|v0|v2|320|24bit|16bit|24-\d+|hi-?res|remaster(?:ed)?|deluxe edition|"
    r"epub|pdf|mobi|azw3|m4b|retail|unabridged)$",
    re.IGNORECASE,
)


def split_credit(title: str) -> tuple[str, str] | None:
    """The credit (artist, author) and the work (album, book), or None when it does not split.

    "Pink Floyd - The Dark Side of the Moon (1973) [FLAC]" gives ("Pink Floyd",
    "The Dark Side of the Moon"); "Frank Herbert - Dune (epub)" gives ("Frank
    Herbert", "Dune"). The first " - " (or en/em dash, spaced) splits the two; a
    later one starts trailing details ("- 2011 - FLAC"), dropped. Trailing bracketed
    tags, years and format words are stripped; a leading bracket stays, since it can
    be part of the name ("(What's the Story) Morning Glory?"). None when there is no
    separator or a half has no letter or digit.
    """
    parts = _SEPARATOR.split(title.strip(), maxsplit=2)
    if len(parts) < 2:
        return None
    credit = _strip_tags(parts[0])
    work = _strip_tags(parts[1])
    if not _has_word(credit) or not _has_word(work):
        return None
    return credit, work


def _has_word(text: str) -> bool:
    return any(char.isalnum() for char in text)


def _strip_tags(text: str) -> str:
    previous = None
    text = text.strip()
    while text != previous:
        previous = text
        text = _TRAILING_TAG.sub("", text).strip()
        text = _TRAILING_NOISE.sub("", text).strip()
    return text
