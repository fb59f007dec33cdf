"""Decide what a release is (its `ContentKind`) and its Torznab category, and say why.

Pure and table-driven (STYLE C10): the word and extension tables below are data; the
decision order is plain code in `classify`:

1. the source's own category, when it gave one we understand (a Torznab id or a label);
2. the file list, when most of its bytes are of one family (video, audio, books...);
3. the title: explicit markers first (game groups and consoles, adult markers, a
   fansub group in brackets), then the parse (season/episode or air date -> TV, year +
   video markers -> movie), then word tables (audiobook, music, comic, ebook, software
   words, version numbers), then video markers without a year -> movie, else other.

guessit finds episode numbers and sources in anything ("Windows 11 DVD" is episode 11
from a DVD), so its video facts count only with a resolution, codec or explicit S01E02;
a source alone counts only when no software, book or music word contradicts it.

The category then follows from the kind, the parse and a few hints
(`engine.classify.categories` documents the choices). Every `Classification` carries a
`reason` for the GUI's "why is this TV?".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from engine.classify import categories as cat
from engine.classify.titles import ParsedTitle, clean_title, parse_title, words
from engine.models import Classification, ContentKind, FileEntry


def _names(spaced: str, sep: str | None = None) -> frozenset[str]:
    """A set of names written as one string, to keep the tables below short."""
    return frozenset(spaced.split(sep))


# fmt: off
# File extensions, by family. Small extras (.nfo, .srt, covers) count for nothing.
VIDEO_EXTS: Final = _names(
    "mkv mp4 avi m4v mov wmv flv mpg mpeg ts m2ts mts vob webm divx ogm 3gp rmvb"
)
AUDIO_EXTS: Final = _names("mp3 flac m4a ogg opus wav ape alac aac wma wv dsf dff aiff m4b")
EBOOK_EXTS: Final = _names("epub mobi azw azw3 pdf djvu fb2 lit")
COMIC_EXTS: Final = _names("cbr cbz cb7 cbt")
SOFTWARE_EXTS: Final = _names("exe msi dmg pkg deb rpm appimage apk xapk ipa")
DISC_EXTS: Final = _names("iso img bin cue nrg mdf mds")
EXTRA_EXTS: Final = _names(
    "nfo txt sfv md5 sha1 url srt sub idx ass ssa vtt log jpg jpeg png gif bmp ico m3u"
)
FAMILIES: Final = (
    ("video", VIDEO_EXTS), ("audio", AUDIO_EXTS), ("ebook", EBOOK_EXTS), ("comic", COMIC_EXTS),
    ("software", SOFTWARE_EXTS), ("disc", DISC_EXTS),
)
MOSTLY: Final = 0.5
"""Share of the (non-extra) bytes one family needs before the files decide the kind."""
MAX_NAMED_FILES: Final = 2_000
"""Files whose names are searched for markers; DHT torrents can list 100k files."""

# Title markers. Bitmagnet's lists (classifier.core.yml) are broader; words like "sex" or
# "ass" would make "Sex Education S01E01" adult, so only unambiguous markers are here.
XXX_WORDS: Final = words(
    "xxx", "porn", "porno", "pornhub", "onlyfans", "brazzers", "bangbros", "realitykings",
    "naughtyamerica", "hentai",
)
GAME_MARKERS: Final = words(
    "fitgirl", "dodi", "skidrow", "elamigos", "tenoke", "darksiders", "razor1911", "tinyiso",
    "xatab", "r g mechanics", "kaoskrew", "steamrip", "gog", "pc game", r"multi\d{1,2}",
)
GAME_GROUPS: Final = _names(
    "codex plaza reloaded cpy empress rune flt prophet hoodlum simplex doge ali213 3dm"
)
"""Scene game groups whose names are also words ("Reloaded"): only as the release group."""
GAME_FILES_RE: Final = re.compile(
    r"steam_api(?:64)?\.dll|(?:^|[/ ])fg-(?:\d+\.bin|selective-)|setup-fitgirl"
)
SETUP_EXE_RE: Final = re.compile(r"(?:^|[/ ])setup\.exe")
REPACK_RE: Final = words("repack")
ANIME_GROUPS: Final = _names(
    "subsplease|erai-raws|horriblesubs|judas|ember|asw|commie|gjm|anime time|dkb|golumpa|"
    "tsundere-raws|kametsu|cleo|yameii|lostyears|nc-raws|ohys-raws|leopard-raws|sallysubs|"
    "coalgirls|doki|fff|utw|underwater|kawaiika-raws|moozzi2|beatrice-raws|reinforce|"
    "vcb-studio|sakurato|anime land|hatsuyuki-kaitou|zero-raws|shinbunbu-subs",
    "|",
)
BRACKET_GROUP_RE: Final = re.compile(r"^\s*\[([^\[\]]{1,40})\]")
CRC32_RE: Final = re.compile(r"[\[(][0-9a-f]{8}[\])]", re.IGNORECASE)
ABSOLUTE_EPISODE_RE: Final = re.compile(r"\s-\s\d{1,4}(?:v\d)?(?=\s|$|[\[(])")
SEASON_EPISODE_RE: Final = re.compile(r"(?<![a-z0-9])s\d{1,4}[\W_]?e\d{1,4}(?![0-9])", re.I)
"""S05E07, s05.e07: an episode however the source filed it (not "13 (2010)", a movie)."""
EXPLICIT_TV_RE: Final = words(
    r"s\d{1,4}(?:[\W_]?e\d{1,4})*", r"\d{1,2}x\d{2,3}", r"seasons?[\W_]?\d+", r"series[\W_]?\d+",
    r"episodes?[\W_]?\d+", r"ep[\W_]?\d+", r"e\d{2,4}", "complete series",
)
AUDIOBOOK_WORDS: Final = words(r"audio[\W_]?books?", "unabridged", "abridged", "narrated", "m4b")
MUSIC_WORDS: Final = words(
    "discography", "albums?", "soundtracks?", "ost", "vinyl", "lp", "greatest hits",
    "various artists", "va", "compilation", "singles?", "music videos?",
)
COMIC_WORDS: Final = words("cbr", "cbz", "cb7", "comics?", "manga", "graphic novels?")
EBOOK_WORDS: Final = words(
    "epub", "mobi", "azw3?", "e-?books?", "pdf", "djvu", "fb2", "kindle", "magazines?"
)
SOFTWARE_WORDS: Final = words(
    "x64", "x86", "x32", "amd64", "arm64", "win64", "win32", "windows", "setup", "portable",
    "keygen", "activator", "activated", "pre-activated", "crack", "cracked", "patch",
    "multilingual", "installer", "linux", "ubuntu", "debian", "fedora", "kali", "centos",
    "manjaro", "opensuse", "freebsd", "linux mint", "macos", "mac os(?: x)?", "osx", "android",
    "apk", "ipa", "adobe", "microsoft office", "autodesk",
)
VERSION_RE: Final = re.compile(
    r"(?<![a-z0-9])(?:v\d+(?:\.\d+){1,3}|build \d{3,})(?![a-z0-9])", re.IGNORECASE
)
EPISODIC_KINDS: Final = frozenset({ContentKind.TV, ContentKind.ANIME, ContentKind.XXX})
VIDEO_KINDS: Final = EPISODIC_KINDS | {ContentKind.MOVIE}

# Step 3's word rules, in order, once no video rule matched.
TITLE_WORDS: Final[tuple[tuple[re.Pattern[str], ContentKind, str], ...]] = (
    (AUDIOBOOK_WORDS, ContentKind.AUDIOBOOK, "audiobook word"),
    (MUSIC_WORDS, ContentKind.MUSIC, "music word"),
    (cat.LOSSLESS_WORDS, ContentKind.MUSIC, "audio format"),
    (cat.LOSSY_WORDS, ContentKind.MUSIC, "audio format"),
    (COMIC_WORDS, ContentKind.COMIC, "comic word"),
    (EBOOK_WORDS, ContentKind.EBOOK, "ebook word"),
    (SOFTWARE_WORDS, ContentKind.SOFTWARE, "software word"),
    (VERSION_RE, ContentKind.SOFTWARE, "version number"),
)

# Words that make a bare video source ("DVD") in a title unconvincing.
NOT_VIDEO_WORDS: Final = (
    SOFTWARE_WORDS, VERSION_RE, EBOOK_WORDS, COMIC_WORDS, AUDIOBOOK_WORDS, MUSIC_WORDS
)

# fmt: on


@dataclass(frozen=True, slots=True)
class _Files:
    """What a file list says: the dominant family and its share of the bytes, and its names."""

    family: str | None
    share: float
    exts: frozenset[str]
    names: str  # all paths, lowercased and joined, for marker searches
    largest_video: str | None = None  # its name, for a resolution the title lacks


@dataclass(frozen=True, slots=True)
class _Verdict:
    kind: ContentKind
    reason: str
    category: int | None = None  # set only when the source named a subcategory


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
    if verdict.kind in VIDEO_KINDS and parsed.resolution is None and found.largest_video:
        parsed = _fill_from(parsed, parse_title(found.largest_video))
    hints = cat.hints_for(verdict.kind, text, found.exts, source_category, found.family)
    category = verdict.category or cat.category_for(verdict.kind, parsed, hints)
    video = verdict.kind in VIDEO_KINDS
    episodic = verdict.kind in EPISODIC_KINDS
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
    if number is not None:
        kind = cat.kind_of_category(number)
        if kind is None or kind is ContentKind.OTHER:
            return None  # unknown ids, and "Other" (the source does not know either)
        if kind is ContentKind.MOVIE and SEASON_EPISODE_RE.search(text):
            # "Arrow.S05E07..." filed under HD Movies: uploaders misfile, S05E07 does not lie
            return _Verdict(ContentKind.TV, f"source category {label!r}, but S/E in the title")
        # A bare parent ("2000") is refined from the title; a subcategory is kept as given.
        keep = number if number % 1000 else None
        return _Verdict(kind, f"source category {label!r}", keep)
    label_kind = cat.kind_of_label(label)
    if label_kind == "video":
        kind, why = _video_kind(parsed, text)
        return _Verdict(kind, f"source label {label!r} (video); title: {why}")
    return None if label_kind is None else _Verdict(label_kind, f"source label {label!r}")


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
        family = next((fam for fam, members in FAMILIES if ext in members), "other")
        sizes[family] = sizes.get(family, 0) + max(entry.size, 0)
        counts[family] = counts.get(family, 0) + 1
    weights = sizes if sum(sizes.values()) > 0 else counts  # sizes unknown: count files
    total = sum(weights.values())
    names = " ".join(entry.path.lower() for entry in files[:MAX_NAMED_FILES])
    if not total:
        return _Files(None, 0.0, frozenset(exts), names)
    family = max(weights, key=lambda fam: weights[fam])
    videos = [entry for entry in files if entry.path.rsplit(".", 1)[-1].lower() in VIDEO_EXTS]
    largest = max(videos, key=lambda entry: entry.size).path if videos else None
    basename = largest.replace("\\", "/").rsplit("/", 1)[-1] if largest else None
    return _Files(family, weights[family] / total, frozenset(exts), names, basename)


def _fill_from(parsed: ParsedTitle, file_parse: ParsedTitle) -> ParsedTitle:
    """Take the video facts a season pack's title leaves out from its largest file's name."""
    return replace(
        parsed,
        resolution=file_parse.resolution,
        media_source=parsed.media_source or file_parse.media_source,
        video_codec=parsed.video_codec or file_parse.video_codec,
    )


def _by_files(found: _Files, parsed: ParsedTitle, text: str) -> _Verdict | None:
    if GAME_FILES_RE.search(found.names):
        return _Verdict(ContentKind.GAME, "files: game files (steam_api.dll, FitGirl archives)")
    if found.family in (None, "other") or found.share < MOSTLY:
        return None
    why = f"files: {found.share:.0%} {found.family}"
    if found.family == "video":
        kind, video_why = _video_kind(parsed, text, found)
        return _Verdict(kind, f"{why}; {video_why}")
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
    if _is_game(parsed, text, None):
        return _Verdict(ContentKind.GAME, "title: game release group or console markers")
    kind, why = _video_kind(parsed, text)
    if kind is not ContentKind.MOVIE:
        return _Verdict(kind, f"title: {why}")
    if parsed.year is not None and _looks_like_video(parsed, text):
        return _Verdict(ContentKind.MOVIE, "title: year + resolution/source/codec")
    for pattern, kind, what in TITLE_WORDS:
        if word := pattern.search(text):
            return _Verdict(kind, f"title: {what} ({word.group(0)!r})")
    if _looks_like_video(parsed, text):
        return _Verdict(ContentKind.MOVIE, "title: resolution/source/codec, no episode")
    return _Verdict(ContentKind.OTHER, "no rule matched")


def _video_kind(
    parsed: ParsedTitle, text: str, found: _Files | None = None
) -> tuple[ContentKind, str]:
    """Which video kind a release is if it is video, and why (movie when nothing says more)."""
    if _is_xxx(parsed, text):
        return ContentKind.XXX, "adult markers"
    if _is_anime(parsed, text):
        return ContentKind.ANIME, "fansub group in brackets"
    if _is_episodic(parsed, text):
        return ContentKind.TV, "season/episode or air date"
    if found is not None and len(EXPLICIT_TV_RE.findall(found.names)) >= 2:
        return ContentKind.TV, "episode-numbered files"
    return ContentKind.MOVIE, "no episode markers"


def _looks_like_video(parsed: ParsedTitle, text: str) -> bool:
    """Whether the parse says video: a resolution, codec or container does.

    A source alone ("DVD") counts only when no software, book or music word says
    otherwise ("Windows 7 DVD ISO").
    """
    if parsed.resolution or parsed.video_codec or parsed.container in VIDEO_EXTS:
        return True
    return parsed.media_source is not None and not any(
        pattern.search(text) for pattern in NOT_VIDEO_WORDS
    )


def _is_episodic(parsed: ParsedTitle, text: str) -> bool:
    # guessit finds "episodes" in "Windows 11" and "Mistborn 01": believe it only when the
    # name also looks like video, or says S01E02 / 1x02 / Season 2 in so many words.
    if parsed.season is not None or parsed.episode is not None:
        return _looks_like_video(parsed, text) or bool(EXPLICIT_TV_RE.search(text))
    return parsed.date is not None and _looks_like_video(parsed, text)


def _is_xxx(parsed: ParsedTitle, text: str) -> bool:
    hits = [hit.lower() for hit in XXX_WORDS.findall(text)]
    if any(hit != "xxx" for hit in hits) or "XXX" in parsed.flags:
        return True
    # "xXx (2002)" is a film: an "xxx" inside the parsed title alone does not count.
    return len(hits) > len(re.findall(r"(?<![a-z0-9])xxx(?![a-z0-9])", parsed.title.lower()))


def _is_game(parsed: ParsedTitle, text: str, found: _Files | None) -> bool:
    group = (parsed.release_group or "").lower()
    tail = text.lower().rsplit("-", 1)[-1].strip() if "-" in text else ""
    if GAME_MARKERS.search(text) or cat.CONSOLE_WORDS.search(text):
        return True
    if group in GAME_GROUPS or tail in GAME_GROUPS:
        return True
    if found is None:
        return False
    return bool(
        (SETUP_EXE_RE.search(found.names) and REPACK_RE.search(text))
        or GAME_MARKERS.search(found.names)
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
