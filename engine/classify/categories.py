"""The standard Newznab/Torznab category table, as data, and lookups over it.

Numbers and names follow the current Newznab numbering as Jackett and Prowlarr
publish it (https://github.com/Jackett/Jackett/wiki/Jackett-Categories): 2050 is
Movies/BluRay and 2060 Movies/3D, 7000 is Books and 8000 Other. Older caps
documents (Jackett before PR #10006, October 2020, and some Newznab servers) swap
2050/2060 and use 7000 for Other and 8000 for Books; *arr clients follow the
current numbering, so we do too.

Names are the full "Parent/Sub" form that Jackett and Prowlarr send in caps and
results ("Movies/HD"). A future `t=caps` endpoint can render `TORZNAB_CATEGORIES`
directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from engine.models import ContentKind

CONSOLE: Final = 1000
MOVIES: Final = 2000
MOVIES_FOREIGN: Final = 2010
MOVIES_OTHER: Final = 2020
MOVIES_SD: Final = 2030
MOVIES_HD: Final = 2040
MOVIES_UHD: Final = 2045
MOVIES_BLURAY: Final = 2050
MOVIES_3D: Final = 2060
MOVIES_DVD: Final = 2070
MOVIES_WEBDL: Final = 2080
AUDIO: Final = 3000
AUDIO_MP3: Final = 3010
AUDIO_VIDEO: Final = 3020
AUDIO_AUDIOBOOK: Final = 3030
AUDIO_LOSSLESS: Final = 3040
AUDIO_OTHER: Final = 3050
AUDIO_FOREIGN: Final = 3060
PC: Final = 4000
PC_0DAY: Final = 4010
PC_ISO: Final = 4020
PC_MAC: Final = 4030
PC_MOBILE_OTHER: Final = 4040
PC_GAMES: Final = 4050
PC_MOBILE_IOS: Final = 4060
PC_MOBILE_ANDROID: Final = 4070
TV: Final = 5000
TV_WEBDL: Final = 5010
TV_FOREIGN: Final = 5020
TV_SD: Final = 5030
TV_HD: Final = 5040
TV_UHD: Final = 5045
TV_OTHER: Final = 5050
TV_SPORT: Final = 5060
TV_ANIME: Final = 5070
TV_DOCUMENTARY: Final = 5080
XXX: Final = 6000
BOOKS: Final = 7000
BOOKS_MAGS: Final = 7010
BOOKS_EBOOK: Final = 7020
BOOKS_COMICS: Final = 7030
BOOKS_TECHNICAL: Final = 7040
BOOKS_OTHER: Final = 7050
BOOKS_FOREIGN: Final = 7060
OTHER: Final = 8000
OTHER_MISC: Final = 8010
OTHER_HASHED: Final = 8020

TORZNAB_CATEGORIES: Final[tuple[tuple[int, str, tuple[tuple[int, str], ...]], ...]] = (
    (
        CONSOLE,
        "Console",
        (
            (1010, "Console/NDS"),
            (1020, "Console/PSP"),
            (1030, "Console/Wii"),
            (1040, "Console/XBox"),
            (1050, "Console/XBox 360"),
            (1060, "Console/Wiiware"),
            (1070, "Console/XBox 360 DLC"),
            (1080, "Console/PS3"),
            (1090, "Console/Other"),
            (1110, "Console/3DS"),
            (1120, "Console/PS Vita"),
            (1130, "Console/WiiU"),
            (1140, "Console/XBox One"),
            (1180, "Console/PS4"),
        ),
    ),
    (
        MOVIES,
        "Movies",
        (
            (MOVIES_FOREIGN, "Movies/Foreign"),
            (MOVIES_OTHER, "Movies/Other"),
            (MOVIES_SD, "Movies/SD"),
            (MOVIES_HD, "Movies/HD"),
            (MOVIES_UHD, "Movies/UHD"),
            (MOVIES_BLURAY, "Movies/BluRay"),
            (MOVIES_3D, "Movies/3D"),
            (MOVIES_DVD, "Movies/DVD"),
            (MOVIES_WEBDL, "Movies/WEB-DL"),
        ),
    ),
    (
        AUDIO,
        "Audio",
        (
            (AUDIO_MP3, "Audio/MP3"),
            (AUDIO_VIDEO, "Audio/Video"),
            (AUDIO_AUDIOBOOK, "Audio/Audiobook"),
            (AUDIO_LOSSLESS, "Audio/Lossless"),
            (AUDIO_OTHER, "Audio/Other"),
            (AUDIO_FOREIGN, "Audio/Foreign"),
        ),
    ),
    (
        PC,
        "PC",
        (
            (PC_0DAY, "PC/0day"),
            (PC_ISO, "PC/ISO"),
            (PC_MAC, "PC/Mac"),
            (PC_MOBILE_OTHER, "PC/Mobile-Other"),
            (PC_GAMES, "PC/Games"),
            (PC_MOBILE_IOS, "PC/Mobile-iOS"),
            (PC_MOBILE_ANDROID, "PC/Mobile-Android"),
        ),
    ),
    (
        TV,
        "TV",
        (
            (TV_WEBDL, "TV/WEB-DL"),
            (TV_FOREIGN, "TV/Foreign"),
            (TV_SD, "TV/SD"),
            (TV_HD, "TV/HD"),
            (TV_UHD, "TV/UHD"),
            (TV_OTHER, "TV/Other"),
            (TV_SPORT, "TV/Sport"),
            (TV_ANIME, "TV/Anime"),
            (TV_DOCUMENTARY, "TV/Documentary"),
        ),
    ),
    (
        XXX,
        "XXX",
        (
            (6010, "XXX/DVD"),
            (6020, "XXX/WMV"),
            (6030, "XXX/XviD"),
            (6040, "XXX/x264"),
            (6045, "XXX/UHD"),
            (6050, "XXX/Pack"),
            (6060, "XXX/ImageSet"),
            (6070, "XXX/Other"),
            (6080, "XXX/SD"),
            (6090, "XXX/WEB-DL"),
        ),
    ),
    (
        BOOKS,
        "Books",
        (
            (BOOKS_MAGS, "Books/Mags"),
            (BOOKS_EBOOK, "Books/EBook"),
            (BOOKS_COMICS, "Books/Comics"),
            (BOOKS_TECHNICAL, "Books/Technical"),
            (BOOKS_OTHER, "Books/Other"),
            (BOOKS_FOREIGN, "Books/Foreign"),
        ),
    ),
    (
        OTHER,
        "Other",
        (
            (OTHER_MISC, "Other/Misc"),
            (OTHER_HASHED, "Other/Hashed"),
        ),
    ),
)

_NAMES: Final[Mapping[int, str]] = {
    cat_id: name
    for parent_id, parent_name, subcats in TORZNAB_CATEGORIES
    for cat_id, name in ((parent_id, parent_name), *subcats)
}
_BY_NAME: Final[Mapping[str, int]] = {name.casefold(): cat_id for cat_id, name in _NAMES.items()}

# Kind of a whole range, then the subcategories whose kind differs from their parent's.
_RANGE_KINDS: Final[Mapping[int, ContentKind]] = {
    CONSOLE: ContentKind.GAME,
    MOVIES: ContentKind.MOVIE,
    AUDIO: ContentKind.MUSIC,
    PC: ContentKind.SOFTWARE,
    TV: ContentKind.TV,
    XXX: ContentKind.XXX,
    BOOKS: ContentKind.EBOOK,
    OTHER: ContentKind.OTHER,
}
_SUBCAT_KINDS: Final[Mapping[int, ContentKind]] = {
    AUDIO_AUDIOBOOK: ContentKind.AUDIOBOOK,
    PC_GAMES: ContentKind.GAME,
    TV_ANIME: ContentKind.ANIME,
    BOOKS_COMICS: ContentKind.COMIC,
}


def is_known(category_id: int) -> bool:
    """Whether `category_id` is a standard category (site-specific ids above 100000 are not)."""
    return category_id in _NAMES


def category_name(category_id: int) -> str | None:
    """The standard name ("Movies/HD") of a category id, or None when it is not standard."""
    return _NAMES.get(category_id)


def parent_of(category_id: int) -> int | None:
    """The top-level category of a standard id (2040 -> 2000; 2000 -> 2000); None if unknown."""
    if category_id not in _NAMES:
        return None
    return category_id - category_id % 1000


def category_by_name(name: str) -> int | None:
    """The id of a standard category name, case-insensitively ("movies/hd" -> 2040)."""
    return _BY_NAME.get(name.strip().casefold())


def kind_of_category(category_id: int) -> ContentKind | None:
    """The content kind a standard category holds (5070 -> anime, 2040 -> movie); None if unknown.

    Audio/Video (3020, music videos) counts as music, and every Books subcategory but
    Comics as ebook, because those are what people filter them as.
    """
    parent = parent_of(category_id)
    if parent is None:
        return None
    return _SUBCAT_KINDS.get(category_id, _RANGE_KINDS[parent])
