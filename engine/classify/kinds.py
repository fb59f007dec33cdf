"""Decide what a release is (its `ContentKind`) and its Torznab category, and say why.

Pure and table-driven (STYLE C10): the word and extension tables below are data; the
decision order is plain code in `classify`:

1. the source's own category, when it gave one we understand (a Torznab id or a label);
2. the file list, when most of its bytes are of one family (video, audio, books...);
3. the title: explicit markers first (XXX, game groups, fansub brackets), then the
   parse (season/episode -> TV, year + video markers -> movie), then word tables
   (audio, book, software words), then bare video markers -> movie, else other.

The category then follows from the kind and the parse (`engine.classify.categories`
documents the choices). Every `Classification` carries a `reason` for the GUI's
"why is this TV?".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from engine.classify import categories as cat
from engine.classify.titles import ParsedTitle, clean_title, parse_title
from engine.models import Classification, ContentKind, FileEntry

# File extensions, by family. Small extras (.nfo, .srt, covers) count for nothing.
VIDEO_EXTS: Final = frozenset(
    "mkv mp4 avi m4v mov wmv flv mpg mpeg ts m2ts mts vob webm divx ogm 3gp rmvb".split()
)
AUDIO_EXTS: Final = frozenset("mp3 flac m4a ogg opus wav ape alac aac wma wv dsf dff aiff".split())
AUDIOBOOK_EXTS: Final = frozenset({"m4b"})
LOSSLESS_EXTS: Final = frozenset("flac ape alac wav wv dsf dff aiff".split())
EBOOK_EXTS: Final = frozenset("epub mobi azw azw3 pdf djvu fb2 lit".split())
COMIC_EXTS: Final = frozenset("cbr cbz cb7 cbt".split())
SOFTWARE_EXTS: Final = frozenset("exe msi dmg pkg deb rpm appimage apk xapk ipa".split())
DISC_EXTS: Final = frozenset("iso img bin cue nrg mdf mds".split())
EXTRA_EXTS: Final = frozenset(
    "nfo txt sfv md5 sha1 url srt sub idx ass ssa vtt log jpg jpeg png gif bmp ico m3u".split()
)
_FAMILIES: Final = (
    ("video", VIDEO_EXTS),
    ("audio", AUDIO_EXTS | AUDIOBOOK_EXTS),
    ("ebook", EBOOK_EXTS),
    ("comic", COMIC_EXTS),
    ("software", SOFTWARE_EXTS),
    ("disc", DISC_EXTS),
)
MOSTLY: Final = 0.5
"""Share of the (non-extra) bytes one family needs before the files decide the kind."""


def _words(*alternatives: str) -> re.Pattern[str]:
    """A case-insensitive regex matching any alternative as a whole word."""
    joined = "|".join(alternatives)
    return re.compile(rf"(?<![a-z0-9])(?:{joined})(?![a-z0-9])", re.IGNORECASE)


XXX_WORDS: Final = _words(
    "xxx", "porn", "porno", "pornhub", "onlyfans", "brazzers", "bangbros", "realitykings",
    "naughtyamerica", "hentai",
)  # fmt: skip
GAME_GROUPS_ANYWHERE: Final = _words(
    "fitgirl", "dodi", "skidrow", "elamigos", "tenoke", "darksiders", "razor1911", "tinyiso",
    "xatab", "r g mechanics", "kaoskrew", "steamrip", "gog", "pc game", r"multi\d{1,2}",
)  # fmt: skip
GAME_GROUPS_AS_GROUP: Final = frozenset(
    "codex plaza reloaded cpy empress rune flt prophet hoodlum simplex doge ali213 3dm".split()
)
CONSOLE_WORDS: Final = _words(
    "nsw", "nsp", "xci", "nintendo switch", "ps[345]", "psp", "ps vita", "psvita", "xbox",
    "xbox ?360", "xbox one", "wii", "wiiu", "3ds", "nds",
)  # fmt: skip
ANIME_GROUPS: Final = frozenset(
    "subsplease erai-raws horriblesubs judas ember asw commie gjm anime time dkb golumpa "
    "tsundere-raws kametsu cleo yameii lostyears nc-raws ohys-raws leopard-raws sallysubs "
    "coalgirls doki fff utw underwater kawaiika-raws moozzi2 beatrice-raws reinforce "
    "vcb-studio sakurato anime land hatsuyuki-kaitou zero-raws shinbunbu-subs".split(" ")
)
AUDIOBOOK_WORDS: Final = _words("audiobooks?", "audio ?books?", "unabridged", "abridged", "narrated", "m4b")
LOSSLESS_WORDS: Final = _words(
    "flac", "alac", "ape", "wav", "lossless", r"24 ?bit", r"16 ?bit", "hi-?res", "dsd", "sacd"
)
LOSSY_WORDS: Final = _words("mp3", r"\d{2,3} ?kbps", "v0", "aac", "ogg", "vorbis", "opus", "m4a")
MUSIC_WORDS: Final = _words(
    "discography", "albums?", "soundtracks?", "ost", "vinyl", "lp", "greatest hits",
    "various artists", "va", "compilation", "singles?", "music videos?",
)  # fmt: skip
COMIC_WORDS: Final = _words("cbr", "cbz", "cb7", "comics?", "manga", "graphic novels?")
EBOOK_WORDS: Final = _words(
    "epub", "mobi", "azw3?", "e-?books?", "pdf", "djvu", "fb2", "kindle", "magazines?"
)
SOFTWARE_WORDS: Final = _words(
    "x64", "x86", "x32", "amd64", "arm64", "win64", "win32", "windows", "setup", "portable",
    "keygen", "activator", "activated", "pre-activated", "crack", "cracked", "patch",
    "multilingual", "installer", "linux", "ubuntu", "debian", "fedora", "kali", "centos",
    "manjaro", "opensuse", "freebsd", "linux mint", "macos", "mac os x?", "osx", "android",
    "apk", "ipa", "adobe", "microsoft office", "autodesk",
)  # fmt: skip
MAC_WORDS: Final = _words("macos", "mac os x?", "osx", "os x", "mac", "dmg")
ANDROID_WORDS: Final = _words("android", "apk")
IOS_WORDS: Final = _words("ios", "ipa", "iphone", "ipad")
VERSION_RE: Final = re.compile(r"(?<![a-z0-9])(?:v\d+(?:\.\d+){1,3}|build \d{3,})(?![a-z0-9])", re.I)
EXPLICIT_TV_RE: Final = _words(
    r"s\d{1,4}(?:[ ._-]?e\d{1,4})*", r"\d{1,2}x\d{2,3}", r"seasons?[ ._-]?\d+", r"series[ ._-]?\d+",
    r"episodes?[ ._-]?\d+", r"ep[ ._-]?\d+", r"e\d{2,4}", "complete series",
)  # fmt: skip
BRACKET_GROUP_RE: Final = re.compile(r"^\s*\[([^\[\]]{1,40})\]")
CRC32_RE: Final = re.compile(r"[\[(][0-9a-f]{8}[\])]", re.IGNORECASE)
ABSOLUTE_EPISODE_RE: Final = re.compile(r"\s-\s\d{1,4}(?:v\d)?(?=\s|$|[\[(])")
BLURAY_DISC_WORDS: Final = _words("bdmv", "bd25", "bd50", "bd66", "bd100", "complete bluray", "bd-?iso")
DVD_DISC_WORDS: Final = _words("dvdr", "dvd-r", "dvd5", "dvd9", "video_ts", "dvd iso", "ntsc", "pal")
SD_SOURCES: Final = frozenset(
    "DVDRip DVDScr SCR CAM HDCAM TS HDTS TC HDTC WP SDTV VHS VHSRip DVB SAT LD LDRip".split()
)
SD_CODECS: Final = frozenset({"Xvid", "DivX", "MPEG-2"})
WEB_SOURCES: Final = frozenset({"WEB-DL", "WEBRip"})
VIDEO_KINDS: Final = frozenset({ContentKind.MOVIE, ContentKind.TV, ContentKind.ANIME, ContentKind.XXX})

# Source labels, in priority order: the first pattern found anywhere in the label wins,
# so "Games > Mac" is a game, "Porn > Movies" xxx and "Audio > Audio books" an audiobook.
# None means "some video": movie, TV or anime, decided by the title.
LABELS: Final[tuple[tuple[re.Pattern[str], ContentKind | None], ...]] = (
    (_words("xxx", "porn", "adult", "erotic", "hentai"), ContentKind.XXX),
    (_words("audio ?books?", "audiobooks?", "spoken ?word"), ContentKind.AUDIOBOOK),
    (_words("anime"), ContentKind.ANIME),
    (_words("comics?", "manga", "graphic novels?"), ContentKind.COMIC),
    (_words("music ?videos?"), ContentKind.MUSIC),
    (_words("games?", "gaming", "consoles?", "ps[2345]", "xbox", "nintendo", "wii"), ContentKind.GAME),
    (_words("e-?books?", "books?", "literature", "magazines?", "mags"), ContentKind.EBOOK),
    (
        _words("applications?", "apps?", "software", "programs?", "windows", "mac", "linux",
               "unix", "android", "ios", "handheld"),
        ContentKind.SOFTWARE,
    ),  # fmt: skip
    (_words("tv", "television", "tv ?shows?", "tv_show", "series", "episodes?"), ContentKind.TV),
    (_words("movies?", "films?"), ContentKind.MOVIE),
    (_words("music", "flac", "mp3", "lossless", "lossy", "albums?", "discography"), ContentKind.MUSIC),
    (_words("audio", "sounds?"), ContentKind.MUSIC),
    (_words("videos?", "documentar(?:y|ies)", "docu", "live action", "clips?"), None),
)


@dataclass(frozen=True, slots=True)
class _Files:
    """What a file list says: the dominant family and its share of the bytes, and its names."""

    family: str | None
    share: float
    exts: frozenset[str]
    names: str  # all paths, lowercased and joined, for marker searches


@dataclass(frozen=True, slots=True)
class _Verdict:
    kind: ContentKind
    reason: str
    category: int | None = None  # set when the source named one, or a rule knows better


def classify(
    title: str,
    files: Sequence[FileEntry] = (),
    source_category: str | None = None,
    *,
    parsed: ParsedTitle | None = None,
) -> Classification:
    """Decide a release's kind and Torznab category. Pure: no I/O, no clock.

    Args:
        title: The release name.
        files: Its files, when known (DHT metadata, .torrent uploads).
        source_category: The category the source gave: a Torznab id as text ("2040") or
            a label ("Movies", "Video > HD - TV shows").
        parsed: `parse_title(title)` when the caller already has it (parsed in a worker
            process, say); parsed here otherwise.

    Returns:
        The classification, with the parse's fields and a `reason`.
    """
    parsed = parsed if parsed is not None else parse_title(title)
    text = clean_title(title)
    found = _files(files)
    verdict = (
        _by_source(source_category, parsed, text)
        or _by_files(found, parsed, text)
        or _by_title(parsed, text)
    )
    category = verdict.category or _category(verdict.kind, parsed, text, found, source_category)
    video = verdict.kind in VIDEO_KINDS
    episodic = verdict.kind in (ContentKind.TV, ContentKind.ANIME, ContentKind.XXX)
    year = parsed.year
    if year is None and episodic and parsed.date is not None:
        year = parsed.date.year
    return Classification(
        kind=verdict.kind,
        category=category,
        reason=verdict.reason,
        year=year,
        season=parsed.season if episodic else None,
        episode=parsed.episode if episodic else None,
        resolution=parsed.resolution if video else None,
        video_codec=parsed.video_codec if video else None,
        audio=parsed.audio,
        media_source=parsed.media_source if video else None,
        release_group=parsed.release_group,
        languages=parsed.languages,
    )


def _by_source(label: str | None, parsed: ParsedTitle, text: str) -> _Verdict | None:
    label = (label or "").strip()
    if not label:
        return None
    number = int(label) if label.isdecimal() and len(label) <= 6 else None
    if number is None:
        number = cat.category_by_name(label)
    if number is not None and (kind := cat.kind_of_category(number)) is not None:
        # A bare parent ("2000") is refined from the title; a subcategory is kept as given.
        keep = number if number % 1000 else None
        return _Verdict(kind, f"source category {label!r}", keep)
    for pattern, label_kind in LABELS:
        if pattern.search(label):
            kind = label_kind or _video_kind(parsed, text)
            music_video = label_kind is ContentKind.MUSIC and _words("videos?").search(label)
            return _Verdict(kind, f"source label {label!r}", cat.AUDIO_VIDEO if music_video else None)
    return None


def _files(files: Sequence[FileEntry]) -> _Files:
    sizes: dict[str, int] = {}
    counts: dict[str, int] = {}
    exts: set[str] = set()
    for entry in files:
        name = entry.path.replace("\\", "/").rsplit("/", 1)[-1].lower()
        ext = name.rsplit(".", 1)[-1] if "." in name else ""
        exts.add(ext)
        if ext in EXTRA_EXTS:
            continue
        family = next((fam for fam, members in _FAMILIES if ext in members), "other")
        sizes[family] = sizes.get(family, 0) + max(entry.size, 0)
        counts[family] = counts.get(family, 0) + 1
    weights = sizes if sum(sizes.values()) > 0 else counts  # sizes unknown: count files
    total = sum(weights.values())
    names = " ".join(entry.path.lower() for entry in files)
    if not total:
        return _Files(None, 0.0, frozenset(exts), names)
    family = max(weights, key=lambda fam: weights[fam])
    return _Files(family, weights[family] / total, frozenset(exts), names)


def _by_files(found: _Files, parsed: ParsedTitle, text: str) -> _Verdict | None:
    if found.family in (None, "other") or found.share < MOSTLY:
        return None
    why = f"files: {found.share:.0%} {found.family}"
    if found.family == "video":
        return _Verdict(_video_kind(parsed, text, found), why)
    if found.family == "audio":
        book = "m4b" in found.exts or AUDIOBOOK_WORDS.search(text)
        return _Verdict(ContentKind.AUDIOBOOK if book else ContentKind.MUSIC, why)
    if found.family == "ebook":
        return _Verdict(ContentKind.EBOOK, why)
    if found.family == "comic":
        return _Verdict(ContentKind.COMIC, why)
    if _is_game(parsed, text, found):
        return _Verdict(ContentKind.GAME, f"{why} + game markers")
    if found.family == "software":
        return _Verdict(ContentKind.SOFTWARE, why)
    if SOFTWARE_WORDS.search(text) or VERSION_RE.search(text):  # a disc image of software
        return _Verdict(ContentKind.SOFTWARE, f"{why} + software words in title")
    return None  # a disc image of who knows what: let the title decide


def _by_title(parsed: ParsedTitle, text: str) -> _Verdict:
    if _is_xxx(parsed, text):
        return _Verdict(ContentKind.XXX, "title: adult markers")
    if _is_game(parsed, text, None):
        return _Verdict(ContentKind.GAME, "title: game release group or console markers")
    if _is_anime(parsed, text):
        return _Verdict(ContentKind.ANIME, "title: fansub group in brackets")
    if _is_episodic(parsed, text):
        return _Verdict(ContentKind.TV, "title: season/episode or air date")
    if parsed.year is not None and _has_video_markers(parsed):
        return _Verdict(ContentKind.MOVIE, "title: year + resolution/source/codec")
    if AUDIOBOOK_WORDS.search(text):
        return _Verdict(ContentKind.AUDIOBOOK, "title: audiobook words")
    if MUSIC_WORDS.search(text) or LOSSLESS_WORDS.search(text) or LOSSY_WORDS.search(text):
        return _Verdict(ContentKind.MUSIC, "title: audio words")
    if COMIC_WORDS.search(text):
        return _Verdict(ContentKind.COMIC, "title: comic words")
    if EBOOK_WORDS.search(text):
        return _Verdict(ContentKind.EBOOK, "title: ebook words")
    if SOFTWARE_WORDS.search(text) or VERSION_RE.search(text):
        return _Verdict(ContentKind.SOFTWARE, "title: software words")
    if _has_video_markers(parsed):
        return _Verdict(ContentKind.MOVIE, "title: resolution/source/codec, no episode")
    return _Verdict(ContentKind.OTHER, "no rule matched")


def _video_kind(parsed: ParsedTitle, text: str, found: _Files | None = None) -> ContentKind:
    """Which video kind a release is, once we know it is video."""
    if _is_xxx(parsed, text):
        return ContentKind.XXX
    if _is_anime(parsed, text):
        return ContentKind.ANIME
    if _is_episodic(parsed, text) or (found is not None and _episode_files(found)):
        return ContentKind.TV
    return ContentKind.MOVIE


def _has_video_markers(parsed: ParsedTitle) -> bool:
    return bool(parsed.resolution or parsed.media_source or parsed.video_codec) or (
        parsed.container in VIDEO_EXTS
    )


def _is_episodic(parsed: ParsedTitle, text: str) -> bool:
    # guessit finds "episodes" in "Windows 11" and "Mistborn 01": believe it only when the
    # name also looks like video, or says S01E02 / 1x02 / Season 2 in so many words.
    if parsed.season is not None or parsed.episode is not None:
        return _has_video_markers(parsed) or bool(EXPLICIT_TV_RE.search(text))
    return parsed.date is not None and _has_video_markers(parsed)


def _episode_files(found: _Files) -> bool:
    return len(EXPLICIT_TV_RE.findall(found.names)) >= 2


def _is_xxx(parsed: ParsedTitle, text: str) -> bool:
    hits = [hit.lower() for hit in XXX_WORDS.findall(text)]
    if any(hit != "xxx" for hit in hits) or "XXX" in parsed.flags:
        return True
    # "xXx (2002)" is a film: an "xxx" inside the parsed title alone does not count.
    return len(hits) > len(re.findall(r"(?<![a-z0-9])xxx(?![a-z0-9])", parsed.title.lower()))


def _is_game(parsed: ParsedTitle, text: str, found: _Files | None) -> bool:
    group = (parsed.release_group or "").lower()
    tail = text.lower().rsplit("-", 1)[-1].strip() if "-" in text else ""
    if GAME_GROUPS_ANYWHERE.search(text) or CONSOLE_WORDS.search(text):
        return True
    if group in GAME_GROUPS_AS_GROUP or tail in GAME_GROUPS_AS_GROUP:
        return True
    if found is None:
        return False
    return bool(
        re.search(r"steam_api(?:64)?\.dll|(?:^|[/ ])fg-\d+\.bin|setup-fitgirl", found.names)
        or (re.search(r"(?:^|[/ ])setup\.exe", found.names) and re.search(r"repack", text, re.I))
        or GAME_GROUPS_ANYWHERE.search(found.names)
    )


def _is_anime(parsed: ParsedTitle, text: str) -> bool:
    if {"OVA", "ONA", "OAD"} & set(parsed.flags):
        return True
    bracket = BRACKET_GROUP_RE.match(text)
    if bracket is None:
        return False
    group = bracket.group(1).strip().lower()
    if "." in group or "www" in group or "torrent" in group:
        return False  # "[YTS.MX]", "[ www.Torrenting.com ]": a site tag, not a fansub group
    if group in ANIME_GROUPS or group.endswith(("subs", "raws", "fansub")):
        return True
    numbered = parsed.episode is not None or bool(ABSOLUTE_EPISODE_RE.search(text))
    return numbered and (bool(CRC32_RE.search(text)) or parsed.season is None)


def _category(
    kind: ContentKind, parsed: ParsedTitle, text: str, found: _Files, label: str | None
) -> int:
    """The Torznab category for a kind, refined by resolution, source and format."""
    if kind is ContentKind.MOVIE:
        return _video_category(parsed, text, found, _MOVIE_CATS)
    if kind is ContentKind.TV:
        return _video_category(parsed, text, found, _TV_CATS)
    if kind is ContentKind.MUSIC:
        hints = f"{text} {label or ''}"
        if LOSSLESS_WORDS.search(hints) or _ext_share(found, LOSSLESS_EXTS):
            return cat.AUDIO_LOSSLESS
        if LOSSY_WORDS.search(hints) or found.family == "audio":
            return cat.AUDIO_MP3
        return cat.AUDIO
    if kind is ContentKind.SOFTWARE:
        if MAC_WORDS.search(text) or {"dmg", "pkg"} & found.exts:
            return cat.PC_MAC
        if ANDROID_WORDS.search(text) or {"apk", "xapk"} & found.exts:
            return cat.PC_MOBILE_ANDROID
        if IOS_WORDS.search(text) or "ipa" in found.exts:
            return cat.PC_MOBILE_IOS
        return cat.PC
    if kind is ContentKind.GAME:
        return cat.CONSOLE if CONSOLE_WORDS.search(text) else cat.PC_GAMES
    return _FIXED_CATS[kind]


# (3D, UHD, BluRay disc, DVD disc, HD, SD, WEB-DL, unknown) per video kind.
_MOVIE_CATS: Final = (
    cat.MOVIES_3D, cat.MOVIES_UHD, cat.MOVIES_BLURAY, cat.MOVIES_DVD, cat.MOVIES_HD,
    cat.MOVIES_SD, cat.MOVIES_WEBDL, cat.MOVIES,
)  # fmt: skip
_TV_CATS: Final = (cat.TV, cat.TV_UHD, cat.TV_HD, cat.TV_SD, cat.TV_HD, cat.TV_SD, cat.TV_WEBDL, cat.TV)
_FIXED_CATS: Final = {
    ContentKind.ANIME: cat.TV_ANIME,
    ContentKind.AUDIOBOOK: cat.AUDIO_AUDIOBOOK,
    ContentKind.EBOOK: cat.BOOKS_EBOOK,
    ContentKind.COMIC: cat.BOOKS_COMICS,
    ContentKind.XXX: cat.XXX,
    ContentKind.OTHER: cat.OTHER,
}


def _video_category(parsed: ParsedTitle, text: str, found: _Files, cats: tuple[int, ...]) -> int:
    # Order: 3D, then resolution tiers (what *arr quality profiles filter on), with full
    # Blu-ray discs/remuxes and DVD discs below UHD but above the plain HD/SD tiers.
    three_d, uhd, bluray, dvd, hd, sd, web, unknown = cats
    height = int(parsed.resolution[:-1]) if parsed.resolution else None
    source = parsed.media_source
    if "3D" in parsed.flags:
        return three_d
    if (height and height >= 2160) or (height is None and source in ("UHD BluRay", "UHDTV")):
        return uhd
    bluray_disc = "Remux" in parsed.flags or BLURAY_DISC_WORDS.search(text) or "m2ts" in found.exts
    if source in ("BluRay", "UHD BluRay") and bluray_disc:
        return bluray
    if source == "DVD" and (DVD_DISC_WORDS.search(text) or {"vob", "ifo"} & found.exts):
        return dvd
    if height and height >= 720:
        return hd
    if (height and height < 720) or source in SD_SOURCES or parsed.video_codec in SD_CODECS:
        return sd
    return web if source in WEB_SOURCES else unknown


def _ext_share(found: _Files, exts: frozenset[str]) -> bool:
    return found.family == "audio" and bool(exts & found.exts) and not (found.exts & {"mp3"})
