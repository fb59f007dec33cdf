"""`split_credit`: the artist/album or author/book halves of a release name.

Lidarr and Readarr search by these halves and the Torznab feed reports them, so a
wrong split is worse than none: no separator, or an empty half, gives None.
"""

from __future__ import annotations

import pytest

from engine.classify.credits import split_credit


@pytest.mark.parametrize(
    ("title", "split"),
    [
        (
            "Pink Floyd - The Dark Side of the Moon (1973) [FLAC]",
            ("Pink Floyd", "The Dark Side of the Moon"),
        ),
        ("AC/DC - Back in Black - 1980 - FLAC", ("AC/DC", "Back in Black")),
        ("Daft Punk \u2013 Discovery 2001 320", ("Daft Punk", "Discovery")),  # en dash
        (
            "Oasis - (What's the Story) Morning Glory? [24bit]",
            ("Oasis", "(What's the Story) Morning Glory?"),
        ),
        ("Various Artists - Now 100 {2018} (Deluxe Edition) [MP3]", ("Various Artists", "Now 100")),
        ("Pink Floyd-The Wall", None),  # an unspaced hyphen is part of a name (Jay-Z)
        ("The Dark Side of the Moon", None),
        (" - The Wall", None),
        ("Pink Floyd - [FLAC]", None),
        ("", None),
        ("Frank Herbert - Dune (epub)", ("Frank Herbert", "Dune")),
        ("Terry Pratchett - Guards! Guards! [EPUB] 1989", ("Terry Pratchett", "Guards! Guards!")),
        ("Andy Weir - Project Hail Mary (Unabridged) m4b", ("Andy Weir", "Project Hail Mary")),
        ("Neil Gaiman \u2014 American Gods retail", ("Neil Gaiman", "American Gods")),
        ("Radiohead - OK Computer (1997) [FLAC]", ("Radiohead", "OK Computer")),
        ("宇多田ヒカル - First Love (1999) [FLAC]", ("宇多田ヒカル", "First Love")),
        ("Isaac Asimov-Foundation", None),  # unspaced: could be one name
        ("Foundation (epub)", None),
        ("Isaac Asimov - (epub)", None),
        ("- - -", None),
    ],
)
def test_split_credit(title: str, split: tuple[str, str] | None) -> None:
    assert split_credit(title) == split
