"""Release-title parsing: guessit's answer, normalized into one frozen `ParsedTitle`.

guessit is accurate but slow (a few ms a title) and loosely typed: a field may be a
scalar or a list, languages are babelfish objects, daily shows carry a `date`, and odd
input can make it raise. Everything downstream (the classifier, the store, search
filters) wants one shape, so this module turns whatever guessit says into a
`ParsedTitle` of plain, picklable values and never raises.

Seam for the fast parser: `parse_title` cleans the input and memoizes; the parsing
itself is `engine.classify.fast.fast_parse` (a tokenizer and tables, microseconds a
title) when it is confident, else `guessit_parse` (guessit + `from_guessit`, a pure
conversion). When guessit finds nothing but a title (glued words, technical words
first), the learned tagger of `engine.classify.tagger` is asked and kept if it reads a
year, an episode or a technical field. All return the same `ParsedTitle`, so callers
and tests do not change; `USE_FAST_PARSER = False` / `USE_TAGGER = False` switch the
stages off, to compare pipelines.

Normalizations (all values are plain `str`/`int`/`tuple`/`date`):

* resolution: progressive height buckets "4320p", "2160p", "1440p", "1080p",
  "720p", "576p", "480p", "360p", "240p" (interlaced "1080i" -> "1080p"; "4K" and
  "UHD" screen sizes come from guessit as "2160p").
* video_codec: the format, spelled as guessit spells it: "H.264" (x264, AVC),
  "H.265" (x265, HEVC), "Xvid", "DivX", "MPEG-2", "VC-1", "VP9", "AV1"...; the
  encoder name (x264) is not kept because it says nothing the format does not.
* audio: short scene names of the codecs, then the channels: "DTS-HD MA 7.1",
  "TrueHD Atmos 7.1", "DD+ 5.1", "DD 5.1" (Dolby Digital / AC3), "AAC 2.0", "FLAC".
* media_source: scene spellings: "BluRay", "UHD BluRay", "BDRip", "WEB-DL",
  "WEBRip", "HDTV", "DVD", "DVDRip", "HDRip", "CAM", "TS", "TC"...
* languages: ISO 639-1 codes ("en", "fr"); ISO 639-3 where there is no 639-1 code
  ("mul" for MULTi releases). Subtitle languages are not included.
* flags: "REPACK", "PROPER", "Remux", "HDR", "DV", "3D", "Complete", ... plus
  guessit's edition names ("Extended", "Director's Cut", "IMAX").
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from guessit import guessit

_log = logging.getLogger(__name__)

MAX_TITLE_CHARS: Final = 512
"""Longer input is cut: release names are under 300 chars; guessit's cost grows with length."""

CACHE_SIZE: Final = 32_768
"""Parsed titles kept per process; the same title is seen from many sources and pages."""

USE_FAST_PARSER = True
"""Try the fast parser before guessit; switch off to measure or rule it out."""

USE_TAGGER = True
"""Ask the learned tagger when guessit finds nothing but a title; switch off to compare."""

_GUESSIT_OPTIONS: Final[Mapping[str, object]] = {"name_only": True}
# name_only: a torrent title is a name, not a path: in "Show 1/2 S01E01" the slash does not
# start a file name (without it guessit's title would be "2").

_JUNK_RE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffd]+")
_SPACES_RE: Final = re.compile(r"\s+")
_REPACK_RE: Final = re.compile(r"(?<![a-z0-9])(?:repack\d*|rerip\d*)(?![a-z0-9])", re.IGNORECASE)
_PROPER_RE: Final = re.compile(r"(?<![a-z0-9])proper(?![a-z0-9])", re.IGNORECASE)
_AV1_RE: Final = re.compile(r"(?<![a-z0-9])av1(?![a-z0-9])", re.IGNORECASE)
_WXH_RE: Final = re.compile(r"^(\d{3,4})x(\d{3,4})[pi]?$")
_HEIGHT_RE: Final = re.compile(r"^(\d{3,4})[pi]$")

HEIGHTS: Final = (4320, 2160, 1440, 1080, 720, 576, 480, 360, 240)

_AUDIO_CODECS: Final[Mapping[str, str]] = {
    "Dolby Digital": "DD",
    "Dolby Digital Plus": "DD+",
    "Dolby TrueHD": "TrueHD",
    "Dolby Atmos": "Atmos",
    "DTS": "DTS",
    "DTS-HD": "DTS-HD",
    "DTS:X": "DTS:X",
    "AAC": "AAC",
    "FLAC": "FLAC",
    "MP3": "MP3",
    "MP2": "MP2",
    "Opus": "Opus",
    "Vorbis": "Vorbis",
    "PCM": "PCM",
    "LPCM": "LPCM",
}
_AUDIO_PROFILES: Final[Mapping[str, str]] = {"Master Audio": "MA", "High Resolution Audio": "HRA"}

# guessit `source` -> (plain spelling, spelling when guessit also says "Rip").
_SOURCES: Final[Mapping[str, tuple[str, str]]] = {
    "Blu-ray": ("BluRay", "BDRip"),
    "Ultra HD Blu-ray": ("UHD BluRay", "BDRip"),
    "HD-DVD": ("HD-DVD", "HD-DVDRip"),
    "DVD": ("DVD", "DVDRip"),
    "Web": ("WEB-DL", "WEBRip"),
    "HDTV": ("HDTV", "HDTV"),
    "Analog HDTV": ("HDTV", "HDTV"),
    "Ultra HDTV": ("UHDTV", "UHDTV"),
    "TV": ("SDTV", "SDTV"),
    "Digital TV": ("DVB", "DVB"),
    "Satellite": ("SAT", "SAT"),
    "Video on Demand": ("VOD", "VOD"),
    "Pay-per-view": ("PPV", "PPV"),
    "Camera": ("CAM", "CAM"),
    "HD Camera": ("HDCAM", "HDCAM"),
    "Telesync": ("TS", "TS"),
    "HD Telesync": ("HDTS", "HDTS"),
    "Telecine": ("TC", "TC"),
    "HD Telecine": ("HDTC", "HDTC"),
    "Workprint": ("WP", "WP"),
    "VHS": ("VHS", "VHSRip"),
    "Laserdisc": ("LD", "LDRip"),
    "Digital Master": ("DM", "DM"),
}

# guessit `other` values worth keeping, in our spelling; the rest are noise for search.
_OTHER_FLAGS: Final[Mapping[str, str]] = {
    "Remux": "Remux",
    "HDR10": "HDR",
    "Dolby Vision": "DV",
    "3D": "3D",
    "Side By Side": "3D",
    "Half Side By Side": "3D",
    "Over Under": "3D",
    "Half Over Under": "3D",
    "Complete": "Complete",
    "Dual Audio": "Dual Audio",
    "Hardcoded Subtitles": "Hardsub",
    "Screener": "Screener",
    "Internal": "Internal",
    "Upscaled": "Upscaled",
    "Documentary": "Documentary",
    "XXX": "XXX",
    "Original Video": "OVA",
    "Original Animated Video": "OVA",
    "Original Net Animation": "ONA",
    "Original Animation DVD": "OAD",
}


def words(*alternatives: str) -> re.Pattern[str]:
    r"""A case-insensitive regex matching any alternative as a whole word of a title.

    A space in an alternative matches any run of separators, so "pc game" also finds
    "PC.Game" and "PC_Game"; write an optional separator as `[\W_]?`.
    """
    joined = "|".join(alt.replace(" ", r"[\W_]+") for alt in alternatives)
    return re.compile(rf"(?<![a-z0-9])(?:{joined})(?![a-z0-9])", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedTitle:
    """What a release name says about its content, normalized (see the module docstring).

    Plain values only, so results can cross process boundaries (ProcessPoolExecutor)
    and be compared in tests. Fields guessit did not find are None or empty.
    """

    title: str = ""
    year: int | None = None
    season: int | None = None  # the first of `seasons`
    seasons: tuple[int, ...] = ()  # every season of a pack ("S01-S08")
    episode: int | None = None  # the first of `episodes`
    episodes: tuple[int, ...] = ()  # every episode of a multi-episode release
    date: dt.date | None = None  # air date of a daily show
    resolution: str | None = None
    video_codec: str | None = None
    audio: str | None = None
    media_source: str | None = None
    release_group: str | None = None
    languages: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # REPACK, PROPER, Remux, HDR, DV, 3D, editions...
    guessit_type: str | None = None  # "movie" or "episode": guessit's guess, often wrong
    container: str | None = None  # file extension named in the title ("mkv")


EMPTY: Final = ParsedTitle()


def parse_title(title: str) -> ParsedTitle:
    """Parse a release name; never raises, whatever the string holds.

    The input is cleaned (control characters and lone surrogates removed, whitespace
    collapsed) and cut to `MAX_TITLE_CHARS` before parsing, and results are cached
    per cleaned text, because the same release is reported by many sources.

    Args:
        title: A torrent or release name as a source reported it.

    Returns:
        The normalized parse; `ParsedTitle()` fields stay empty when nothing is found.
    """
    return _parse_clean(clean_title(title))


def clean_title(title: str) -> str:
    """Make a title safe and cheap to parse: printable, single-spaced, bounded length.

    Args:
        title: Any string.

    Returns:
        The cleaned text (NFC-normalized, at most `MAX_TITLE_CHARS` characters).
    """
    text = _JUNK_RE.sub(" ", title[: MAX_TITLE_CHARS * 4])
    text = unicodedata.normalize("NFC", text)
    return _SPACES_RE.sub(" ", text).strip()[:MAX_TITLE_CHARS].strip()


@functools.lru_cache(maxsize=CACHE_SIZE)
def _parse_clean(text: str) -> ParsedTitle:
    if not text:
        return EMPTY
    if USE_FAST_PARSER:
        # Imported here: fast.py builds on this module's ParsedTitle (a cycle at import).
        from engine.classify.fast import fast_parse

        fast = fast_parse(text)
        if fast is not None:
            return fast
    parsed = guessit_parse(text)
    if USE_TAGGER and not _has_structure(parsed):
        # guessit saw only a title: the shapes it misses (glued words, technical words
        # first, other scripts) are where the learned tagger reads more.
        from engine.classify.tagger import tagger_parse

        tagged = tagger_parse(text)
        if tagged is not None and _has_structure(tagged):
            return tagged
    return parsed


def _has_structure(parsed: ParsedTitle) -> bool:
    """Whether a parse found anything beyond a title: a year, episode or technical field."""
    return bool(
        parsed.year
        or parsed.seasons
        or parsed.episodes
        or parsed.date
        or parsed.resolution
        or parsed.video_codec
        or parsed.media_source
    )


def guessit_parse(text: str) -> ParsedTitle:
    """Parse already-cleaned text with guessit; on any guessit failure, return the text as title.

    Args:
        text: Output of `clean_title`.

    Returns:
        The normalized parse.
    """
    try:
        match = guessit(text, dict(_GUESSIT_OPTIONS))
    except Exception:  # guessit wraps every internal error; none of them may stop ingest
        _log.debug("guessit failed on %r", text, exc_info=True)
        return ParsedTitle(title=text)
    return from_guessit(match, text)


def from_guessit(match: Mapping[str, object], text: str) -> ParsedTitle:
    """Convert one guessit result to a `ParsedTitle`. Pure; tolerant of any value types.

    Args:
        match: guessit's result dictionary.
        text: The text guessit parsed (REPACK/PROPER and AV1 are read from it, since
            guessit folds REPACK into "Proper" and does not know AV1).

    Returns:
        The normalized parse.
    """
    seasons = _ints(match.get("season"), upper=9_999)
    episodes = _ints(match.get("episode"), upper=99_999)
    years = _ints(match.get("year"), lower=1_870, upper=2_200)
    guessit_type = _first_str(match.get("type"))
    return ParsedTitle(
        title=_first_str(match.get("title")) or "",
        year=years[0] if years else None,
        season=seasons[0] if seasons else None,
        seasons=seasons,
        episode=episodes[0] if episodes else None,
        episodes=episodes,
        date=_date(match.get("date")),
        resolution=_resolution(match.get("screen_size")),
        video_codec=_first_str(match.get("video_codec"))
        or ("AV1" if _AV1_RE.search(text) else None),
        audio=_audio(match),
        media_source=_media_source(match),
        release_group=_release_group(match.get("release_group")),
        languages=_languages(match.get("language")),
        flags=_flags(match, text),
        guessit_type=guessit_type if guessit_type in ("movie", "episode") else None,
        container=(_first_str(match.get("container")) or "").lower() or None,
    )


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    return [value]


def _strs(value: object) -> list[str]:
    return [item.strip() for item in _as_list(value) if isinstance(item, str) and item.strip()]


def _first_str(value: object) -> str | None:
    items = _strs(value)
    return items[0] if items else None


def _ints(value: object, *, lower: int = 0, upper: int) -> tuple[int, ...]:
    found: list[int] = []
    for item in _as_list(value):
        number = item if isinstance(item, int) and not isinstance(item, bool) else None
        if isinstance(item, str) and item.isdecimal() and len(item) < 8:
            number = int(item)
        if number is not None and lower <= number <= upper and number not in found:
            found.append(number)
    return tuple(found)


def _date(value: object) -> dt.date | None:
    for item in _as_list(value):
        if isinstance(item, dt.datetime):
            return item.date()
        if isinstance(item, dt.date):
            return item
    return None


def _resolution(value: object) -> str | None:
    for item in _strs(value):
        text = item.lower()
        if height_match := _HEIGHT_RE.match(text):
            return _bucket(int(height_match.group(1)))
        if size_match := _WXH_RE.match(text):
            width, height = int(size_match.group(1)), int(size_match.group(2))
            # Width decides for cropped cinema frames: 1920x800 is a 1080p release.
            by_width = next((h for h in HEIGHTS if width >= h * 16 // 9 - 32), 0)
            return _bucket(max(height, by_width))
    return None


def _bucket(height: int) -> str | None:
    if height < 100:
        return None
    return f"{next((h for h in HEIGHTS if height >= h), height)}p"


def _audio(match: Mapping[str, object]) -> str | None:
    codecs = [_AUDIO_CODECS.get(name, name) for name in _strs(match.get("audio_codec"))]
    if not codecs:
        return None
    profiles = [
        _AUDIO_PROFILES[p] for p in _strs(match.get("audio_profile")) if p in _AUDIO_PROFILES
    ]
    channels = _first_str(match.get("audio_channels"))
    parts = list(dict.fromkeys(codecs))
    if profiles and parts[0] in ("DTS-HD", "DTS"):
        parts = [parts[0], *profiles, *parts[1:]]
    if channels:
        parts.append(channels)
    return " ".join(parts)


def _media_source(match: Mapping[str, object]) -> str | None:
    others = set(_strs(match.get("other")))
    source = _first_str(match.get("source"))
    if source is None:
        if {"HD", "Rip"} <= others:
            return "HDRip"
        return "SCR" if "Screener" in others else None
    plain, ripped = _SOURCES.get(source, (source, source))
    if "Screener" in others and source == "DVD":
        return "DVDScr"
    return ripped if "Rip" in others else plain


_FORMAT_WORDS: Final = frozenset(
    ("epub", "pdf", "mobi", "azw3", "djvu", "cbr", "cbz", "m4b", "mp3", "flac", "aac", "ogg")
)
"""guessit reads a trailing "(epub)" as the release group; a file format is never one."""


def _release_group(value: object) -> str | None:
    group = (_first_str(value) or "").strip(" -_.")
    if group[:1] in ("[", "(") and group[-1:] in ("]", ")") and group.count(group[0]) == 1:
        group = group[1:-1].strip(" -_.")  # "[YTS.MX]" -> "YTS.MX"; "ASAP[ettv]" stays
    return None if group.lower() in _FORMAT_WORDS else group or None


def _languages(value: object) -> tuple[str, ...]:
    codes: list[str] = []
    for item in _as_list(value):
        code: str | None = None
        if isinstance(item, str):
            code = item.lower() if len(item) in (2, 3) and item.isalpha() else None
        else:
            try:
                code = str(item.alpha2)  # type: ignore[attr-defined]
            except Exception:  # babelfish raises when a language has no 639-1 code ("mul")
                code = str(getattr(item, "alpha3", "")) or None
        if code and code not in codes:
            codes.append(code)
    return tuple(codes)


def _flags(match: Mapping[str, object], text: str) -> tuple[str, ...]:
    flags: list[str] = []
    others = _strs(match.get("other"))
    if _REPACK_RE.search(text):
        flags.append("REPACK")
    if _PROPER_RE.search(text) or ("Proper" in others and not flags):
        flags.append("PROPER")
    flags.extend(_OTHER_FLAGS[other] for other in others if other in _OTHER_FLAGS)
    flags.extend(_strs(match.get("edition")))
    return tuple(dict.fromkeys(flags))
