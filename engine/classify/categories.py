"""The standard Newznab/Torznab category table, as data, and lookups over it.

Numbers and names follow the current Newznab numbering as Jackett and Prowlarr
publish it (https://github.com/Jackett/Jackett/wiki/Jackett-Categories): 2050 is
Movies/BluRay and 2060 Movies/3D, 7000 is Books and 8000 Other. Older caps
documents (Jackett before PR #10006, October 2020, and some Newznab servers) swap
2050/2060 and use 7000 for Other and 8000 for Books; *arr clients follow the
current numbering, so we do too.

`category_for` picks the category of a classified release. The choices:

* movie: 3D -> 2060; 2160p and up (or UHD Blu-ray with no resolution) -> 2045; a
  full Blu-ray disc or Remux below 2160p -> 2050; a full DVD (DVD5/9, VIDEO_TS) ->
  2070; 720p-1440p -> 2040; below 720p, or an SD source (DVDRip, CAM, TS, SDTV...) or
  codec (Xvid, DivX) -> 2030; WEB-DL/WEBRip with no resolution -> 2080; else 2000.
  Resolution goes first because *arr quality profiles filter on it, so a UHD Remux
  is 2045, not 2050.
* tv: the same tiers with 5045, 5040, 5030, 5010 and 5000 (TV has no 3D or disc
  subcategory, so discs fall to their resolution tier).
* anime 5070; audiobook 3030; ebook 7020; comic 7030; xxx 6000; other 8000.
* music: 3020 for music videos (source label), 3040 lossless (FLAC/ALAC/WAV, 24-bit),
  3010 lossy (MP3, AAC, kbps), else 3000.
* software: 4030 Mac (.dmg/.pkg, "macOS"), 4070 Android (.apk), 4060 iOS (.ipa), else
  4000. game: 1000 when a console is named, else 4050.

Names are the full "Parent/Sub" form that Jackett and Prowlarr send in caps and
results ("Movies/HD"). A future `t=caps` endpoint can render `TORZNAB_CATEGORIES`
directly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from engine.classify.titles import ParsedTitle, words
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

# fmt: off
TORZNAB_CATEGORIES: Final[tuple[tuple[int, str, tuple[tuple[int, str], ...]], ...]] = (
    (CONSOLE, "Console", (
        (1010, "Console/NDS"), (1020, "Console/PSP"), (1030, "Console/Wii"),
        (1040, "Console/XBox"), (1050, "Console/XBox 360"), (1060, "Console/Wiiware"),
        (1070, "Console/XBox 360 DLC"), (1080, "Console/PS3"), (1090, "Console/Other"),
        (1110, "Console/3DS"), (1120, "Console/PS Vita"), (1130, "Console/WiiU"),
        (1140, "Console/XBox One"), (1180, "Console/PS4"),
    )),
    (MOVIES, "Movies", (
        (MOVIES_FOREIGN, "Movies/Foreign"), (MOVIES_OTHER, "Movies/Other"),
        (MOVIES_SD, "Movies/SD"), (MOVIES_HD, "Movies/HD"), (MOVIES_UHD, "Movies/UHD"),
        (MOVIES_BLURAY, "Movies/BluRay"), (MOVIES_3D, "Movies/3D"), (MOVIES_DVD, "Movies/DVD"),
        (MOVIES_WEBDL, "Movies/WEB-DL"),
    )),
    (AUDIO, "Audio", (
        (AUDIO_MP3, "Audio/MP3"), (AUDIO_VIDEO, "Audio/Video"),
        (AUDIO_AUDIOBOOK, "Audio/Audiobook"), (AUDIO_LOSSLESS, "Audio/Lossless"),
        (AUDIO_OTHER, "Audio/Other"), (AUDIO_FOREIGN, "Audio/Foreign"),
    )),
    (PC, "PC", (
        (PC_0DAY, "PC/0day"), (PC_ISO, "PC/ISO"), (PC_MAC, "PC/Mac"),
        (PC_MOBILE_OTHER, "PC/Mobile-Other"), (PC_GAMES, "PC/Games"),
        (PC_MOBILE_IOS, "PC/Mobile-iOS"), (PC_MOBILE_ANDROID, "PC/Mobile-Android"),
    )),
    (TV, "TV", (
        (TV_WEBDL, "TV/WEB-DL"), (TV_FOREIGN, "TV/Foreign"), (TV_SD, "TV/SD"), (TV_HD, "TV/HD"),
        (TV_UHD, "TV/UHD"), (TV_OTHER, "TV/Other"), (TV_SPORT, "TV/Sport"),
        (TV_ANIME, "TV/Anime"), (TV_DOCUMENTARY, "TV/Documentary"),
    )),
    (XXX, "XXX", (
        (6010, "XXX/DVD"), (6020, "XXX/WMV"), (6030, "XXX/XviD"), (6040, "XXX/x264"),
        (6045, "XXX/UHD"), (6050, "XXX/Pack"), (6060, "XXX/ImageSet"), (6070, "XXX/Other"),
        (6080, "XXX/SD"), (6090, "XXX/WEB-DL"),
    )),
    (BOOKS, "Books", (
        (BOOKS_MAGS, "Books/Mags"), (BOOKS_EBOOK, "Books/EBook"), (BOOKS_COMICS, "Books/Comics"),
        (BOOKS_TECHNICAL, "Books/Technical"), (BOOKS_OTHER, "Books/Other"),
        (BOOKS_FOREIGN, "Books/Foreign"),
    )),
    (OTHER, "Other", ((OTHER_MISC, "Other/Misc"), (OTHER_HASHED, "Other/Hashed"))),
)
# fmt: on

_NAMES: Final[Mapping[int, str]] = {
    cat_id: name
    for parent_id, parent_name, subcats in TORZNAB_CATEGORIES
    for cat_id, name in ((parent_id, parent_name), *subcats)
}
# Older spellings still found in caps documents (Jackett before late 2020), by name: a
# name keeps its meaning where the old numbering differs ("Movies/3D" was 2050).
_ALIASES: Final[Mapping[str, int]] = {
    "Console/Wiiware/VC": 1060,
    "Movies/WEBDL": MOVIES_WEBDL,
    "PC/Phone-Other": PC_MOBILE_OTHER,
    "PC/Phone-IOS": PC_MOBILE_IOS,
    "PC/Phone-Android": PC_MOBILE_ANDROID,
    "XXX/Packs": 6050,
    "Books/Magazines": BOOKS_MAGS,
}
_BY_NAME: Final[Mapping[str, int]] = {
    **{name.casefold(): cat_id for cat_id, name in _NAMES.items()},
    **{name.casefold(): cat_id for name, cat_id in _ALIASES.items()},
}

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


# Sites' own category labels, in priority order: the first pattern found anywhere in the
# label wins, so "Games > Mac" is a game, "Porn > Movies" xxx, "Audio > Audio books" an
# audiobook and "Software - Games" (nyaa) a game. "video": movie, TV or anime, by title.
_MUSIC_VIDEO_LABEL: Final = words(r"music[\W_]?videos?")
# fmt: off
_LABELS: Final[tuple[tuple[re.Pattern[str], ContentKind | Literal["video"]], ...]] = (
    (words("xxx", "porn", "adult", "erotic", "hentai"), ContentKind.XXX),
    (words(r"audio[\W_]?books?", r"spoken[\W_]?words?"), ContentKind.AUDIOBOOK),
    (words("anime"), ContentKind.ANIME),
    (words("comics?", "manga", "graphic novels?"), ContentKind.COMIC),
    (_MUSIC_VIDEO_LABEL, ContentKind.MUSIC),
    (words("games?", "gaming", "consoles?", "ps[2345]", "xbox", "nintendo", "wii"),
     ContentKind.GAME),
    (words("e-?books?", "books?", "literature", "magazines?", "mags"), ContentKind.EBOOK),
    (words("applications?", "apps?", "software", "programs?", "windows", "mac", "linux",
                  "unix", "android", "ios", "handheld"), ContentKind.SOFTWARE),
    (words("tv", "television", r"tv[\W_]?shows?", "series", "episodes?"), ContentKind.TV),
    (words("movies?", "films?"), ContentKind.MOVIE),
    (words("music", "flac", "mp3", "lossless", "lossy", "albums?", "discography", "audio",
                  "sounds?"), ContentKind.MUSIC),
    (words("videos?", "documentar(?:y|ies)", "docu", "live action", "clips?"), "video"),
)
# fmt: on


def kind_of_label(label: str) -> ContentKind | Literal["video"] | None:
    """The kind a site's category label names ("Video > HD - TV shows" -> tv).

    Args:
        label: A category as a site shows it (not a Torznab id; see `category_by_name`).

    Returns:
        The kind; "video" when the label only says video (the title must tell movie,
        TV or anime apart); None when it names no kind ("Other", "All", "Misc").
    """
    return next((kind for pattern, kind in _LABELS if pattern.search(label)), None)


def is_music_video_label(label: str) -> bool:
    """Whether a site's label is for music videos (Torznab 3020, Audio/Video)."""
    return bool(_MUSIC_VIDEO_LABEL.search(label))


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


SD_SOURCES: Final = frozenset(
    {"DVDRip", "DVDScr", "SCR", "CAM", "HDCAM", "TS", "HDTS", "TC", "HDTC", "WP", "SDTV", "VHS"}
    | {"VHSRip", "DVB", "SAT", "LD", "LDRip"}
)
SD_CODECS: Final = frozenset({"Xvid", "DivX", "MPEG-2"})
WEB_SOURCES: Final = frozenset({"WEB-DL", "WEBRip"})


# Words and extensions that pick a subcategory once the kind is known.
# fmt: off
LOSSLESS_WORDS: Final = words(
    "flac", "alac", "ape", "wav", "lossless", r"24[\W_]?bit", r"16[\W_]?bit", "hi-?res", "dsd",
    "sacd",
)
LOSSY_WORDS: Final = words("mp3", r"\d{2,3}[\W_]?kbps", "v0", "aac", "ogg", "vorbis", "opus", "m4a")
LOSSLESS_EXTS: Final = frozenset({"flac", "ape", "alac", "wav", "wv", "dsf", "dff", "aiff"})
CONSOLE_WORDS: Final = words(
    "nsw", "nsp", "xci", "nintendo switch", "ps[345]", "psp", "ps vita", "psvita", "xbox",
    r"xbox[\W_]?360", "xbox one", "wii", "wiiu", "3ds", "nds",
)
_PLATFORM_WORDS: Final = (
    ("mac", words("macos", "mac os(?: x)?", "osx", "os x", "mac", "dmg"), {"dmg", "pkg"}),
    ("android", words("android", "apk"), {"apk", "xapk"}),
    ("ios", words("ios", "ipa", "iphone", "ipad"), {"ipa"}),
)
_BLURAY_DISC_WORDS: Final = words(
    "bdmv", "bd25", "bd50", "bd66", "bd100", "complete bluray", r"bd[\W_]?iso"
)
_DVD_DISC_WORDS: Final = words("dvdr", "dvd-r", "dvd[59]", "video_ts", "dvd iso", "ntsc", "pal")
# fmt: on


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryHints:
    """Facts beyond the title parse that pick a subcategory (the classifier finds them)."""

    bluray_disc: bool = False  # Remux is read from the parse; this is BDMV/BD50/.m2ts
    dvd_disc: bool = False  # DVD5/DVD9/VIDEO_TS/.vob
    lossless: bool = False
    lossy: bool = False
    music_video: bool = False
    platform: str | None = None  # "mac", "android", "ios" for software; "console" for games


# (3D, UHD, Blu-ray disc, DVD disc, HD, SD, WEB, unknown); None where the range has no such tier.
_VIDEO_TIERS: Final[Mapping[ContentKind, tuple[int | None, ...]]] = {
    ContentKind.MOVIE: (
        MOVIES_3D, MOVIES_UHD, MOVIES_BLURAY, MOVIES_DVD,
        MOVIES_HD, MOVIES_SD, MOVIES_WEBDL, MOVIES,
    ),
    ContentKind.TV: (None, TV_UHD, None, None, TV_HD, TV_SD, TV_WEBDL, TV),
}  # fmt: skip
_PLATFORMS: Final[Mapping[str | None, int]] = {
    "mac": PC_MAC,
    "android": PC_MOBILE_ANDROID,
    "ios": PC_MOBILE_IOS,
    "console": CONSOLE,
}
_FIXED: Final[Mapping[ContentKind, int]] = {
    ContentKind.ANIME: TV_ANIME,
    ContentKind.AUDIOBOOK: AUDIO_AUDIOBOOK,
    ContentKind.EBOOK: BOOKS_EBOOK,
    ContentKind.COMIC: BOOKS_COMICS,
    ContentKind.XXX: XXX,
    ContentKind.OTHER: OTHER,
    ContentKind.SOFTWARE: PC,
    ContentKind.GAME: PC_GAMES,
}


def hints_for(
    kind: ContentKind,
    text: str,
    exts: frozenset[str] = frozenset(),
    label: str | None = None,
    file_family: str | None = None,
) -> CategoryHints:
    """Find the facts beyond the parse that pick a subcategory.

    Args:
        kind: What the classifier decided.
        text: The (cleaned) release name.
        exts: Lowercased extensions of its files.
        label: The source's category label, if any ("Audio > FLAC").
        file_family: The family most of the file bytes belong to ("audio", "video"...).

    Returns:
        The hints for `category_for`.
    """
    platform = None
    if kind is ContentKind.SOFTWARE:
        found = (name for name, says, ext in _PLATFORM_WORDS if says.search(text) or ext & exts)
        platform = next(found, None)
    elif kind is ContentKind.GAME and CONSOLE_WORDS.search(text):
        platform = "console"
    audio_text = f"{text} {label or ''}"
    audio_files = file_family == "audio"
    return CategoryHints(
        bluray_disc=bool(_BLURAY_DISC_WORDS.search(text)) or "m2ts" in exts,
        dvd_disc=bool(_DVD_DISC_WORDS.search(text)) or bool({"vob", "ifo"} & exts),
        lossless=bool(LOSSLESS_WORDS.search(audio_text))
        or (audio_files and bool(LOSSLESS_EXTS & exts) and "mp3" not in exts),
        lossy=bool(LOSSY_WORDS.search(audio_text)) or audio_files,
        music_video=is_music_video_label(label or ""),
        platform=platform,
    )


def category_for(kind: ContentKind, parsed: ParsedTitle, hints: CategoryHints | None = None) -> int:
    """The Torznab category of a classified release (the choices are in the module docstring).

    Args:
        kind: What the classifier decided.
        parsed: The title parse (resolution, source, codec, flags).
        hints: What the files and words add; none by default.

    Returns:
        A standard category id.
    """
    hints = hints or CategoryHints()
    if kind in _VIDEO_TIERS:
        return _video_tier(_VIDEO_TIERS[kind], parsed, hints)
    if kind is ContentKind.MUSIC:
        if hints.music_video:
            return AUDIO_VIDEO
        if hints.lossless:
            return AUDIO_LOSSLESS
        return AUDIO_MP3 if hints.lossy else AUDIO
    if kind in (ContentKind.SOFTWARE, ContentKind.GAME) and hints.platform in _PLATFORMS:
        platform = _PLATFORMS[hints.platform]
        if (platform == CONSOLE) == (kind is ContentKind.GAME):
            return platform
    return _FIXED[kind]


def _video_tier(tiers: tuple[int | None, ...], parsed: ParsedTitle, hints: CategoryHints) -> int:
    three_d, uhd, bluray, dvd, hd, sd, web, unknown = tiers
    height = int(parsed.resolution[:-1]) if parsed.resolution else None
    source = parsed.media_source
    checks = (
        (three_d, "3D" in parsed.flags),
        (uhd, (height or 0) >= 2160 or (height is None and source in ("UHD BluRay", "UHDTV"))),
        (
            bluray,
            source in ("BluRay", "UHD BluRay") and ("Remux" in parsed.flags or hints.bluray_disc),
        ),
        (dvd, source == "DVD" and hints.dvd_disc),
        (hd, (height or 0) >= 720),
        (sd, height is not None or source in SD_SOURCES or parsed.video_codec in SD_CODECS),
        (web, source in WEB_SOURCES),
    )
    tier = next((tier for tier, applies in checks if applies and tier is not None), unknown)
    return tier if tier is not None else OTHER
