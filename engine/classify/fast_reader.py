"""The technical part of a scene name, read token by token after the title's anchor.

`Reader` walks "2010.1080p.BluRay.DTS-HD.MA.7.1.x264" once and fills the fields of a
`ParsedTitle` in guessit's spellings. Each rule that declines (raises `Decline`) is an
order of tokens guessit reads differently from one token at a time, found by comparing
with guessit on the corpora and on generated variants: those are left to guessit.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from engine.classify.fast_common import (
    CHANNEL_DIGITS,
    CHANNELS,
    RES_RE,
    YEAR_RE,
    Decline,
    TitleParts,
    valid_year,
)
from engine.classify.fast_markers import NXN_RE, read_marker
from engine.classify.fast_tables import (
    _AUDIO_NAMES,
    _AUDIO_RE,
    _CHANNELS,
    _KNOWN,
    _KNOWN_PAIRS,
    RISKY,
)
from engine.classify.titles import ParsedTitle, _resolution

STRONG: Final = frozenset(("year", "episode", "date", "res", "codec", "source", "bracket"))
"""Kinds of token that may end a title; "DL", "3D" or "IMAX" right after a name may not."""
WEAK_ANCHORS: Final = frozenset(("lang", "flag", "edition", "skip"))
"""Tags that may end a title when another tag follows ("Movie.FRENCH.720p")."""
SCENE: Final = frozenset(
    ("res", "codec", "source", "audio", "bracket", "flag", "REPACK", "PROPER", "lang", "dl")
) | {"skip", "container"}
"""Kinds after which guessit reads a last bare word as the release group."""

_SIZE_RE: Final = re.compile(r"^\d{2,5}(?:mb|gb)$")
_GLUED_AUDIO_RE: Final = re.compile(r"^(ddp|dd|ac3|aac|dts|eac3)([257])([01])$")
"""Audio with glued channels ("DD51", "AAC20"): guessit reads them before a separator."""
_AUDIO_WORDS: Final = {
    "dtses": ("DTS", ""), "dtsma": ("DTS-HD", "MA"), "dtshd": ("DTS-HD", ""),
    "ddex": ("DD", ""), "ac3d": ("DD", ""),
}  # fmt: skip
"""Glued audio spellings guessit reads, as (codec, DTS-HD profile)."""
_DETAILS: Final = frozenset(("pilot", "final", "unaired"))
"""Episode details to guessit: read (and dropped) right after an episode marker only."""
_AFTER_HD: Final = frozenset(("TS", "TC", "CAM", "DVD", "SDTV"))
"""Sources guessit glues to a preceding "HD" ("TrueHD.TS" is HDTS to it)."""
_GLUE_HD: Final = ("web", "rip", "ts", "tv", "cam", "tc")
"""Sources guessit may glue to a following "HD..." word ("WEB.HDR" reads as WEB-HD)."""
_BRACKET_FIELDS: Final = frozenset(("source", "codec", "res", "depth"))
_NUMBERED: Final = frozenset(("ep", "eps", "episode", "part", "pt", "vol", "volume", "chapter"))
"""Words guessit reads only with a number after them: plain words in an episode title."""
_BITRATES: Final = frozenset(("128", "192", "256", "320", "v0"))
"""MP3 bit rates in music tags ("[MP3 320]"): guessit reads nothing from them."""
NO_FIELD: Final = ("", "")
_RESOLUTIONS: dict[str, str] = {}


def resolution(word: str) -> str:
    """The `titles._resolution` of a token, memoized: a few spellings make up most names."""
    found = _RESOLUTIONS.get(word)
    if found is None:
        found = _resolution(word) or ""
        if len(_RESOLUTIONS) < 512:  # bounded: "1234x5678" spellings are unlimited
            _RESOLUTIONS[word] = found
    return found


class Reader:
    """Walks the tokens after the title once, filling fields; raises `Decline` on surprises.

    Slotted, with tuples grown only when a field is found: a parse allocates little, so
    the garbage collector rarely runs while thousands of names are read in a row.
    """

    __slots__ = (
        "channels", "codecs", "dash_group", "date", "editions", "episodes", "fields",
        "flags", "free_end", "gaps", "kind", "known_end", "langs", "low", "profile",
        "seasons", "start", "stop", "words", "year",
    )  # fmt: skip

    def __init__(
        self, words: list[str], low: list[str], gaps: list[str], stop: int, dash_group: bool
    ) -> None:
        self.words, self.gaps, self.stop, self.dash_group = words, gaps, stop, dash_group
        self.low = low[:stop]
        self.known_end = self.start = self.free_end = 0
        self.kind = ""  # what the last known token was: "year", "res", "codec", "REPACK"...
        self.year: int | None = None
        self.seasons: tuple[int, ...] = ()
        self.episodes: tuple[int, ...] = ()
        self.date: dt.date | None = None
        self.fields: dict[str, str] = {}
        self.flags: tuple[str, ...] = ()
        self.editions: tuple[str, ...] = ()
        self.langs: tuple[str, ...] = ()
        self.codecs: tuple[str, ...] = ()
        self.profile = ""  # "MA" or "HRA" after DTS-HD
        self.channels: str | None = None

    def run(self, start: int) -> None:
        """Read tokens from the anchor; free words may follow an episode marker only."""
        low, i, episode_words, free = self.low, start, False, False
        self.known_end = self.start = start
        while i < len(low):
            prev, step = self.kind, self.step(i)
            if step:
                self.check_order(prev, free, i)
                free = False
                # Free words may follow an episode marker (its title), until a known word.
                episode_words = self.kind in ("episode", "date")
                i += step
                self.known_end = i
            elif episode_words and self.free_word(i, free):
                self.kind = prev  # step() tried several kinds on the way
                i, free = i + 1, True
                self.free_end = i
            else:
                self.kind = prev
                return  # an unknown word: the caller decides (a bare group, or decline)

    def check_order(self, prev: str, free: bool, i: int) -> None:
        """Orders of tokens guessit reads differently from one at a time."""
        kind = self.kind
        if i == self.start and kind not in STRONG and kind not in WEAK_ANCHORS:
            raise Decline  # "Title.DL-GRP": guessit keeps such words in the title
        if kind in ("audio", "channels") and prev in ("year", "episode", "date"):
            raise Decline  # "2010.DTS", "S01E01.FLAC": guessit leaves such audio out
        if free and kind not in STRONG:
            raise Decline  # "S01E01.Title.MULTi", "S11.E14.A.DC": guessit reads no tag there
        if kind == "dl" and prev != "lang":
            raise Decline  # "x264.DL": guessit reads no language
        if prev == "date" and not RES_RE.match(self.low[i]):
            raise Decline  # "2004.12.28.4K": guessit reads no date there

    def free_word(self, i: int, free: bool) -> bool:
        """A word of an episode title: plain, after a plain separator (or " - " first)."""
        word = self.words[i]
        gap = self.gaps[i]
        return (
            word.isalpha()
            and (self.low[i] not in RISKY or self.low[i] in _NUMBERED)
            and (len(gap) == 1 or (gap == " - " and not free))
        )

    def step(self, i: int) -> int:
        """Read the token(s) at `i`; return how many were read (0: not a known token)."""
        low, word = self.low, self.low[i]
        nxt = low[i + 1] if i + 1 < len(low) else ""
        if word in _KNOWN_PAIRS and nxt and len(self.gaps[i + 1]) == 1:
            third = low[i + 2] if i + 2 < len(low) and len(self.gaps[i + 2]) == 1 else ""
            if third and (known := _KNOWN.get((word, nxt, third))) is not None:
                self.known(*known, nxt="")
                return 3
            if (known := _KNOWN.get((word, nxt))) is not None:
                self.known(*known, nxt=third)
                return 2
        if (known := _KNOWN.get((word,))) is not None:
            return self.single(i, known, nxt)
        first = word[0]
        if first in "[(":
            self.kind = "bracket"
            return self.bracket(i)
        if first.isdecimal():
            return self.numeric(i, word, nxt)
        if first in "es" and (step := self.episode(i)):
            return step  # markers start with "s" (S01E02, Season) or "e" (E05, Ep05)
        return self.other(i, word, nxt)

    def single(self, i: int, known: tuple[str, str], nxt: str) -> int:
        """A one-token table word, with the neighbours that change how guessit reads it."""
        word = self.low[i]
        if (word == "avc" and RES_RE.match(nxt)) or (
            word.endswith(_GLUE_HD) and nxt[:2] in ("hd", "uh")
        ):
            raise Decline  # "AVC.1080p": a profile to guessit; "WEB.HDR", "HDTS.HDR": "-HD"
        if known[0] == "container":
            rest = self.low[i + 1 : self.stop]
            if rest and (len(rest) > 1 or _KNOWN.get((rest[0],), NO_FIELD)[0] != "codec"):
                raise Decline  # "MP4 DVD 576p": guessit reads the rest otherwise
        self.known(*known, nxt=nxt)
        return 1

    def numeric(self, i: int, word: str, nxt: str) -> int:
        """Tokens starting with a digit: year, date, marker, resolution, channels, size."""
        if YEAR_RE.match(word):
            return self.year_or_date(i)
        if RES_RE.match(word):
            self.set("res", resolution(word))
            self.kind = "res"
            return 1
        if step := self.episode(i):
            return step
        prev = self.kind
        if word in _CHANNELS:
            self.kind = "channels"  # alone, not "audio": "HDDVD.5.1-GRP" is no group to guessit
            self.channels = self.channels or _CHANNELS[word]
            return 1
        if word in CHANNEL_DIGITS and f"{word}.{nxt}" in CHANNELS:
            if self.low[i + 2 : i + 3] and self.low[i + 2][:1].isdecimal():
                raise Decline  # "5.1.10-bit": guessit reads a date
            self.kind = "channels"
            self.channels = self.channels or CHANNELS[f"{word}.{nxt}"]
            return 2
        if _SIZE_RE.match(word) and prev in SCENE and not self.low[i - 1].isdecimal():
            self.kind = "size"
            return 1
        return 0

    def other(self, i: int, word: str, nxt: str) -> int:
        """Letter tokens outside the tables: audio codecs, episode details."""
        prev = self.kind
        if (m := _AUDIO_RE.match(word)) or word in _AUDIO_WORDS:
            if prev == "lang" and word == "ac3":
                raise Decline  # "JAPANESE.AC3-GRP": guessit reads "AC3-GRP" as the group
            self.kind = "audio"
            return self.audio(i, m)
        if (m := _GLUED_AUDIO_RE.match(word)) and nxt:
            self.kind = "audio"
            self.codecs += (_AUDIO_NAMES[m.group(1)],)
            self.channels = self.channels or CHANNELS[f"{m.group(2)}.{m.group(3)}"]
            return 1
        if word in _DETAILS and prev in ("episode", "detail"):
            self.kind = "detail"
            return 1
        return 0

    def year_or_date(self, i: int) -> int:
        """A year, or a date "2019.05.21" / "2019-05-21" (a daily show)."""
        low, word = self.low, self.low[i]
        if i + 2 < len(low) and low[i + 1].isdecimal() and low[i + 2].isdecimal():
            if self.gaps[i + 1] != self.gaps[i + 2] or self.gaps[i + 1] not in (".", "-"):
                raise Decline  # guessit reads "2024 01 15" as season and episode
            self.date = dt.date(int(word), int(low[i + 1]), int(low[i + 2]))
            if not valid_year(self.date.year) or self.seasons or self.episodes:
                raise Decline
            self.kind = "date"
            return 3
        if self.year is not None or self.fields or self.seasons or self.episodes:
            raise Decline  # two years, or a year among technical words or after an episode
        if not valid_year(int(word)):
            raise Decline
        self.year = int(word)
        self.kind = "year"
        return 1

    def episode(self, i: int) -> int:
        """A season/episode marker (see `fast_markers`); its numbers go to the fields."""
        marker = read_marker(self.low, self.gaps, i)
        if marker is None:
            return 0
        if self.seasons or self.episodes or self.date or self.fields:
            raise Decline  # a second marker, or one among technical words
        if self.year is not None and (NXN_RE.match(self.low[i]) or not marker.seasons):
            raise Decline  # "Road 2007 1x04", "Show 2010 E05": guessit reads season 2007
        after = self.low[i + marker.size] if i + marker.size < len(self.low) else ""
        last = self.low[i + marker.size - 1]
        if last[0] == "e" and _KNOWN.get((after,), NO_FIELD)[0] == "source":
            raise Decline  # "Show.Ep20.CAM-GRP", "S06.E24.DVD": guessit loses the source
        self.seasons, self.episodes = tuple(marker.seasons), tuple(marker.episodes)
        self.kind = "episode"
        return marker.size

    def set(self, field: str, value: str) -> None:
        """Set a one-value field; a second, different value makes the parser decline."""
        if not value or self.fields.get(field, value) != value:
            raise Decline  # two resolutions, codecs or sources: guessit picks better
        self.fields[field] = value

    def known(self, field: str, value: str, nxt: str) -> None:
        """Record a table word (see `fast_tables._KNOWN` for the fields)."""
        if field == "hole" and not (
            self.kind in ("year", "episode")
            or (self.dash_group and self.kind not in ("skip", "lang", "dl", "sub"))
        ):
            raise Decline  # guessit reads the last unread word after a tag as the group
        before = self.low[self.known_end - 1]
        if field == "source" and (
            (value in _AFTER_HD and before.endswith("hd")) or before.endswith("rip")
        ):
            raise Decline  # "TrueHD.TS", "RERIP.SDTV": guessit glues them into one source
        if field in ("service", "dl") and (field == "dl") == nxt.startswith("web"):
            raise Decline  # "NF" away from WEB, "DL" before WEB: guessit reads them otherwise
        if (field == "sub" and self.kind in ("lang", "dl", "sub")) or (
            self.kind == "sub" and field in ("lang", "dl")
        ):
            raise Decline  # "FRENCH.SUBBED": French subtitles, no audio language, to guessit
        self.kind = value if value in ("REPACK", "PROPER") else field
        if field in ("res", "codec", "source", "container"):
            self.set(field, value)
            if value == "DVDScr":
                self.flags += ("Screener",)
        elif field == "flag":
            self.flags += (value,)
        elif field == "edition":
            self.editions += (value,)
        elif field in ("lang", "dl"):
            self.langs += (value,)
        elif field == "service":
            self.fields["service"] = ""

    def audio(self, i: int, m: re.Match[str] | None) -> int:
        """An audio codec, its profile and channels: "DTS-HD.MA.7.1", "DDP5.1", "AAC.2.0"."""
        low, j = self.low, i + 1
        codec, profile = _AUDIO_WORDS[low[i]] if m is None else (_AUDIO_NAMES[m.group(1)], "")
        nxt = low[j] if j < len(low) else ""
        if codec == "DTS" and nxt[:2] == "hd":
            if nxt != "hd":
                raise Decline  # "DTS.HDCAM": guessit reads DTS-HD, then "CAM"
            codec, j = "DTS-HD", j + 1
        elif codec == "DTS" and nxt in ("x", "es"):
            if self.gaps[j + 1 : j + 2] == ["-"]:
                raise Decline  # "DTS-ES-SD": guessit reads "ES" as Spanish
            codec, j = ("DTS:X" if nxt == "x" else "DTS"), j + 1
        elif codec == "DD" and nxt == "ex" and self.gaps[j] == "-":
            j += 1  # "DD-EX": guessit keeps the codec, drops the profile
        if codec == "DTS-HD" and not profile and low[j : j + 1] in (["ma"], ["hra"]):
            profile, j = low[j].upper(), j + 1
        if profile:
            if self.profile:
                raise Decline  # two profiles: guessit lists both
            self.profile = profile
        self.codecs += (codec,)
        if codec == "AAC" and low[j : j + 1] == ["lc"] and self.gaps[j] == "-":
            j += 1  # "AAC-LC": guessit keeps the codec, drops the profile
        digit = m.group(2) if m is not None else None
        if digit is None and j + 1 < len(low) and low[j] in CHANNEL_DIGITS:
            digit, j = low[j], j + 1
        if digit is not None:
            if not (j < len(low) and f"{digit}.{low[j]}" in CHANNELS):
                raise Decline  # "AAC2" without ".0": leave it to guessit
            self.channels, j = self.channels or CHANNELS[f"{digit}.{low[j]}"], j + 1
            if j < len(low) and low[j][:1].isdecimal():
                raise Decline  # "DD.5.1.10-bit": guessit reads "5.1.10" as a date
        return j - i

    def bracket(self, i: int) -> int:
        """Bracketed tags ("(2010)", "[1080p]", "[WEBRip]", "[5.1]", "[FLAC]")."""
        if not self.gaps[i] and self.words[i - 1][0] not in "[(":
            raise Decline  # "E03[x265]": guessit reads a glued tag otherwise
        inner = self.words[i][1:-1].strip()
        if YEAR_RE.match(inner) and valid_year(int(inner)):
            if self.year is not None or self.fields or self.seasons:
                raise Decline
            self.year = int(inner)
            self.kind = "year"  # "(1950).GRP", "(2009)-GRP": guessit reads no group there
            return 1
        if inner in CHANNELS:
            self.channels = self.channels or CHANNELS[inner]  # YTS: "[5.1]"
            return 1
        for word in inner.lower().split():
            if RES_RE.match(word):
                self.set("res", resolution(word))
            elif _KNOWN.get((word,), NO_FIELD)[0] in _BRACKET_FIELDS:
                self.known(*_KNOWN[word,], nxt="")
            elif (m := _AUDIO_RE.match(word)) and not m.group(2) and not self.codecs:
                self.codecs += (_AUDIO_NAMES[m.group(1)],)  # music: "[FLAC]", "[MP3 320]"
            elif word in _BITRATES and self.codecs == ("MP3",):
                continue
            else:
                raise Decline  # a tag we do not read: guessit does
        self.kind = "bracket"
        return 1

    def result(self, parts: TitleParts, group: str | None, container: str | None) -> ParsedTitle:
        """The `ParsedTitle` guessit would give, or `Decline` where it reads the whole otherwise."""
        if "container" in self.fields:
            if container is not None:
                raise Decline  # "MKV" as a word and ".mkv" too: guessit keeps one of them
            container = self.fields["container"]
        cam_show = self.seasons and self.fields.get("source") == "CAM"
        if cam_show or (not self.seasons and "Complete" in self.flags):
            raise Decline  # guessit calls a "COMPLETE" release an episode, or not
        if parts.numbers and self.date:
            raise Decline  # "Show.12.2009.02.22": guessit reads the number as an episode
        flags: list[str] = []
        if self.flags or self.editions:
            flags = [f for f in ("REPACK", "PROPER") if f in self.flags]
            flags += [f for f in self.flags if f not in ("REPACK", "PROPER")]
            flags += self.editions
        audio = None
        if self.codecs:
            codecs = list(dict.fromkeys(self.codecs))
            if self.profile and codecs[0] in ("DTS-HD", "DTS"):
                codecs.insert(1, self.profile)
            audio = " ".join([*codecs, self.channels] if self.channels else codecs)
        fields = self.fields
        source = fields.get("source")
        if source == "BluRay" and fields.get("res") == "2160p":
            source = "UHD BluRay"  # guessit infers Ultra HD Blu-ray from the height
        return ParsedTitle(
            title=parts.title,
            year=self.year,
            season=self.seasons[0] if self.seasons else None,
            seasons=self.seasons,
            episode=self.episodes[0] if self.episodes else None,
            episodes=self.episodes,
            date=self.date,
            resolution=fields.get("res"),
            video_codec=fields.get("codec"),
            audio=audio,
            media_source=source,
            release_group=group,
            languages=tuple(dict.fromkeys(self.langs)) if self.langs else (),
            flags=tuple(dict.fromkeys(flags)) if flags else (),
            guessit_type="episode" if self.seasons or self.episodes or self.date else "movie",
            container=container,
        )
