"""Tests for engine.classify.categories: the Newznab/Torznab table and category choice."""

from __future__ import annotations

import pytest

from engine.classify import (
    TORZNAB_CATEGORIES,
    CategoryHints,
    ParsedTitle,
    category_by_name,
    category_for,
    category_name,
    is_known,
    kind_of_category,
    kind_of_label,
    parent_of,
)
from engine.models import ContentKind

K = ContentKind

# The standard ids and names, as Jackett/Prowlarr publish them (current numbering).
STANDARD = {
    1000: "Console",
    2000: "Movies",
    2010: "Movies/Foreign",
    2020: "Movies/Other",
    2030: "Movies/SD",
    2040: "Movies/HD",
    2045: "Movies/UHD",
    2050: "Movies/BluRay",
    2060: "Movies/3D",
    2070: "Movies/DVD",
    2080: "Movies/WEB-DL",
    3000: "Audio",
    3010: "Audio/MP3",
    3020: "Audio/Video",
    3030: "Audio/Audiobook",
    3040: "Audio/Lossless",
    3050: "Audio/Other",
    3060: "Audio/Foreign",
    4000: "PC",
    4010: "PC/0day",
    4020: "PC/ISO",
    4030: "PC/Mac",
    4040: "PC/Mobile-Other",
    4050: "PC/Games",
    4060: "PC/Mobile-iOS",
    4070: "PC/Mobile-Android",
    5000: "TV",
    5010: "TV/WEB-DL",
    5020: "TV/Foreign",
    5030: "TV/SD",
    5040: "TV/HD",
    5045: "TV/UHD",
    5050: "TV/Other",
    5060: "TV/Sport",
    5070: "TV/Anime",
    5080: "TV/Documentary",
    6000: "XXX",
    6010: "XXX/DVD",
    6060: "XXX/ImageSet",
    7000: "Books",
    7010: "Books/Mags",
    7020: "Books/EBook",
    7030: "Books/Comics",
    7040: "Books/Technical",
    7050: "Books/Other",
    7060: "Books/Foreign",
    8000: "Other",
    8010: "Other/Misc",
    8020: "Other/Hashed",
}


@pytest.mark.parametrize(("category_id", "name"), sorted(STANDARD.items()))
def test_standard_names(category_id: int, name: str) -> None:
    assert category_name(category_id) == name
    assert is_known(category_id)
    assert category_by_name(name.upper()) == category_id


def test_table_shape() -> None:
    ids = [parent for parent, _, _ in TORZNAB_CATEGORIES]
    ids += [sub for _, _, subs in TORZNAB_CATEGORIES for sub, _ in subs]
    assert len(ids) == len(set(ids))
    for parent, name, subs in TORZNAB_CATEGORIES:
        assert parent % 1000 == 0
        for sub, sub_name in subs:
            assert parent < sub < parent + 1000
            assert sub_name.startswith(f"{name}/")


@pytest.mark.parametrize(
    ("category_id", "parent"), [(2040, 2000), (2000, 2000), (8020, 8000), (9999, None), (0, None)]
)
def test_parent_of(category_id: int, parent: int | None) -> None:
    assert parent_of(category_id) == parent


@pytest.mark.parametrize(
    ("name", "category_id"),
    [("Movies/WEBDL", 2080), ("PC/Phone-Android", 4070), ("TV/OTHER", 5050), ("Books/Ebook", 7020)],
)
def test_older_names(name: str, category_id: int) -> None:
    assert category_by_name(name) == category_id


def test_unknown_ids() -> None:
    assert not is_known(100467)  # a site's own category id in a caps document
    assert category_name(2041) is None
    assert kind_of_category(2041) is None
    assert category_by_name("Movies/Cartoons") is None


@pytest.mark.parametrize(
    ("category_id", "kind"),
    [
        (1090, K.GAME),
        (2045, K.MOVIE),
        (3010, K.MUSIC),
        (3020, K.MUSIC),
        (3030, K.AUDIOBOOK),
        (4050, K.GAME),
        (4070, K.SOFTWARE),
        (5070, K.ANIME),
        (5080, K.TV),
        (6060, K.XXX),
        (7010, K.EBOOK),
        (7030, K.COMIC),
        (8010, K.OTHER),
    ],
)
def test_kind_of_category(category_id: int, kind: ContentKind) -> None:
    assert kind_of_category(category_id) is kind


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        # The Pirate Bay
        ("Video > HD - Movies", K.MOVIE),
        ("Video > TV shows", K.TV),
        ("Video > Music videos", K.MUSIC),
        ("Audio > Audio books", K.AUDIOBOOK),
        ("Audio > FLAC", K.MUSIC),
        ("Applications > Windows", K.SOFTWARE),
        ("Games > Mac", K.GAME),
        ("Porn > Movies", K.XXX),
        ("Other > E-books", K.EBOOK),
        ("Other > Comics", K.COMIC),
        ("Video > Other", "video"),
        # 1337x, nyaa, bitmagnet content types
        ("Documentaries", "video"),
        ("Apps", K.SOFTWARE),
        ("Anime - English-translated", K.ANIME),
        ("Software - Games", K.GAME),
        ("Literature - Raw", K.EBOOK),
        ("Live Action - Raw", "video"),
        ("tv_show", K.TV),
        ("audiobook", K.AUDIOBOOK),
        # no kind named
        ("Other", None),
        ("All", None),
        ("", None),
    ],
)
def test_kind_of_label(label: str, kind: object) -> None:
    assert kind_of_label(label) == kind


def parsed(**fields: object) -> ParsedTitle:
    return ParsedTitle(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "parse", "hints", "expected"),
    [
        (K.MOVIE, parsed(resolution="1080p", flags=("3D",)), None, 2060),
        (K.MOVIE, parsed(resolution="2160p", flags=("Remux",), media_source="BluRay"), None, 2045),
        (K.MOVIE, parsed(media_source="UHD BluRay"), None, 2045),
        (K.MOVIE, parsed(resolution="1080p", flags=("Remux",), media_source="BluRay"), None, 2050),
        (K.MOVIE, parsed(media_source="BluRay"), CategoryHints(bluray_disc=True), 2050),
        (K.MOVIE, parsed(media_source="DVD"), CategoryHints(dvd_disc=True), 2070),
        (K.MOVIE, parsed(resolution="720p"), None, 2040),
        (K.MOVIE, parsed(resolution="480p"), None, 2030),
        (K.MOVIE, parsed(media_source="DVDRip"), None, 2030),
        (K.MOVIE, parsed(video_codec="Xvid"), None, 2030),
        (K.MOVIE, parsed(media_source="WEBRip"), None, 2080),
        (K.MOVIE, parsed(), None, 2000),
        (K.TV, parsed(resolution="1080p", flags=("3D",)), None, 5040),
        (K.TV, parsed(resolution="2160p"), None, 5045),
        (K.TV, parsed(resolution="1080p", flags=("Remux",), media_source="BluRay"), None, 5040),
        (K.TV, parsed(media_source="HDTV"), None, 5000),
        (K.TV, parsed(media_source="SDTV"), None, 5030),
        (K.TV, parsed(media_source="WEB-DL"), None, 5010),
        (K.ANIME, parsed(resolution="1080p"), None, 5070),
        (K.MUSIC, parsed(), CategoryHints(lossless=True, lossy=True), 3040),
        (K.MUSIC, parsed(), CategoryHints(lossy=True), 3010),
        (K.MUSIC, parsed(), CategoryHints(music_video=True, lossless=True), 3020),
        (K.MUSIC, parsed(), None, 3000),
        (K.AUDIOBOOK, parsed(), None, 3030),
        (K.EBOOK, parsed(), None, 7020),
        (K.COMIC, parsed(), None, 7030),
        (K.SOFTWARE, parsed(), None, 4000),
        (K.SOFTWARE, parsed(), CategoryHints(platform="mac"), 4030),
        (K.SOFTWARE, parsed(), CategoryHints(platform="android"), 4070),
        (K.SOFTWARE, parsed(), CategoryHints(platform="ios"), 4060),
        (K.SOFTWARE, parsed(), CategoryHints(platform="console"), 4000),
        (K.GAME, parsed(), None, 4050),
        (K.GAME, parsed(), CategoryHints(platform="console"), 1000),
        (K.GAME, parsed(), CategoryHints(platform="mac"), 4050),
        (K.XXX, parsed(resolution="2160p"), None, 6000),
        (K.OTHER, parsed(), None, 8000),
    ],
)
def test_category_for(
    kind: ContentKind, parse: ParsedTitle, hints: CategoryHints | None, expected: int
) -> None:
    assert category_for(kind, parse, hints) == expected


def test_every_kind_has_a_known_category() -> None:
    for kind in ContentKind:
        assert is_known(category_for(kind, ParsedTitle()))
