"""A fast, conservative release-title parser that answers only when the title is plain.

guessit costs milliseconds a title; most titles on the wire are scene-shaped
("Name.2010.1080p.BluRay.x264-GRP", "Show.S01E02.720p.HDTV.x264-GRP", "[Group] Show -
12 (1080p)") and can be read with a tokenizer and a few tables in microseconds. This
module reads those and returns the same `ParsedTitle` that `from_guessit` would (same
spellings: "H.264", "WEB-DL", "DD+ 5.1", "mul"), so results are interchangeable.

It is deliberately timid: whenever the structure is unusual (no separators, non-Latin
script, unknown words among the technical tokens, numbers in the title, two years, an
empty title...) it returns None and the caller asks guessit. Being wrong costs more
than being slow, so every pattern where it disagreed with guessit on the corpora
became a reason to decline.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Final

from engine.classify.titles import ParsedTitle, _resolution


def _names(spaced: str) -> frozenset[str]:
    """A set of words written as one string, to keep the tables short."""
    return frozenset(spaced.split())


MAX_FAST_CHARS: Final = 300
"""Longer names are unusual (file lists glued to titles): leave them to guessit."""

_TOKEN_RE: Final = re.compile(r"\[[^\[\]]*\]|\([^()]*\)|[^\s._\-\[\]()]+")
_ANIME_RE: Final = re.compile(
    r"^\[([^\[\]]+)\] ?([^\[\]()]+?) - (\d{1,4})(?:v\d)? ?((?:[\[(][^\[\]()]*[\])] ?)*)$"
)
_CONTAINER_RE: Final = re.compile(r"\.(mkv|mp4|avi|m4v|wmv|mov|webm|mpg)$", re.IGNORECASE)
_TITLE_OK_RE: Final = re.compile(r"^[A-Za-z\u00c0-\u024f][\w '&!,+:-]*$")
_YEAR_RE: Final = re.compile(r"^(19\d\d|20\d\d)$")
_SXE_RE: Final = re.compile(r"^s(\d{1,2})((?:e\d{1,3})+)$")
_NXN_RE: Final = re.compile(r"^(\d{1,2})x(\d{2,3})$")
_SEASON_RE: Final = re.compile(r"^s(\d{1,2})$")
_EPISODE_RE: Final = re.compile(r"^e(\d{1,3})$")
_RES_RE: Final = re.compile(r"^(?:\d{3,4}[pi]|\d{3,4}x\d{3,4})$")
_CRC_RE: Final = re.compile(r"^[0-9a-f]{8}$")
_AUDIO_RE: Final = re.compile(r"^(ddp|dd\+|dd|eac3|ac3|aac|dts|truehd|flac|opus|mp3|atmos)(\d)?$")
_ACRONYM_RE: Final = re.compile(r"(?:^|[. ])[A-Za-z]\.[A-Za-z]\.")
_SUSPICIOUS_RE: Final = re.compile(r"\d|[A-Z][^ ]*[A-Z]")
"""A number ("UFC 179" is ambiguous) or a word of scene capitals ("CONVERT", "NFOFiX")."""
_BRACKETS_RE: Final = re.compile(r"\[[^\[\]]*\]|\([^()]*\)")
_STRONG: Final = _names("year episode date res codec source bracket")
"""Kinds of token that may end a title; "DL", "3D" or "IMAX" right after a name may not."""
_LAST: Final = _names("res codec source audio bracket")
_GROUP_AFTER: Final = _names("res codec source audio bracket")
_GROUP_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.]{0,30}$")

_AUDIO_NAMES: Final[Mapping[str, str]] = {
    "ddp": "DD+", "dd+": "DD+", "eac3": "DD+", "dd": "DD", "ac3": "DD", "aac": "AAC",
    "dts": "DTS", "truehd": "TrueHD", "flac": "FLAC", "opus": "Opus", "mp3": "MP3",
    "atmos": "Atmos",
}  # fmt: skip
_CHANNELS: Final[Mapping[str, str]] = {"2ch": "2.0", "6ch": "5.1", "8ch": "7.1"}

# One- and two-token technical words -> (field, value). Sources in guessit's scene spelling.
_KNOWN: Final[Mapping[tuple[str, ...], tuple[str, str]]] = {
    ("bluray",): ("source", "BluRay"), ("blu", "ray"): ("source", "BluRay"),
    ("uhd", "bluray"): ("source", "UHD BluRay"), ("bdrip",): ("source", "BDRip"),
    ("brrip",): ("source", "BDRip"), ("web", "dl"): ("source", "WEB-DL"),
    ("webdl",): ("source", "WEB-DL"), ("web",): ("source", "WEB-DL"),
    ("webrip",): ("source", "WEBRip"), ("web", "rip"): ("source", "WEBRip"),
    ("hdtv",): ("source", "HDTV"), ("pdtv",): ("source", "DVB"), ("dvdrip",): ("source", "DVDRip"),
("hdrip",): ("source", "HDRip"), ("cam",): ("source", "CAM"),
    ("hdcam",): ("source", "HDCAM"), ("dvdscr",): ("source", "DVDScr"),
    ("x264",): ("codec", "H.264"), ("h264",): ("codec", "H.264"), ("h", "264"): ("codec", "H.264"),
    ("avc",): ("codec", "H.264"), ("x265",): ("codec", "H.265"), ("h265",): ("codec", "H.265"),
    ("h", "265"): ("codec", "H.265"), ("hevc",): ("codec", "H.265"), ("xvid",): ("codec", "Xvid"),
    ("divx",): ("codec", "DivX"), ("av1",): ("codec", "AV1"), ("vp9",): ("codec", "VP9"),
    ("mpeg2",): ("codec", "MPEG-2"),
    ("remux",): ("flag", "Remux"), ("hdr",): ("flag", "HDR"), ("hdr10",): ("flag", "HDR"),
    ("dv",): ("flag", "DV"), ("dovi",): ("flag", "DV"), ("3d",): ("flag", "3D"),
    ("hsbs",): ("flag", "3D"), ("sbs",): ("flag", "3D"), ("half", "sbs"): ("flag", "3D"),
    ("complete",): ("flag", "Complete"),
    ("internal",): ("flag", "Internal"), ("repack",): ("flag", "REPACK"),
    ("proper",): ("flag", "PROPER"), ("extended",): ("edition", "Extended"),
    ("unrated",): ("edition", "Unrated"), ("remastered",): ("edition", "Remastered"),
    ("imax",): ("edition", "IMAX"), ("uncut",): ("edition", "Uncut"),
    ("multi",): ("lang", "mul"), ("french",): ("lang", "fr"), ("truefrench",): ("lang", "fr"),
    ("german",): ("lang", "de"), ("italian",): ("lang", "it"), ("ita",): ("lang", "it"),
    ("spanish",): ("lang", "es"), ("eng",): ("lang", "en"), ("english",): ("lang", "en"),
    ("fre",): ("lang", "fr"), ("russian",): ("lang", "ru"), ("rus",): ("lang", "ru"),
    ("dl",): ("dl", "mul"),
    ("4k",): ("res", "2160p"),
    ("10bit",): ("skip", ""), ("8bit",): ("skip", ""), ("amzn",): ("service", ""),
    ("nf",): ("service", ""), ("dsnp",): ("service", ""), ("hmax",): ("service", ""),
    ("atvp",): ("service", ""), ("hulu",): ("service", ""), ("dcu",): ("service", ""),
}  # fmt: skip
_GUESSIT_WORDS: Final = _names(
    "dc se convert stv doku theatrical edition readnfo ws uncut limited festival sub subbed"
    " dubbed custom vostfr vost final cut tvrip dsr dsrip ahdtv hdtvrip hc swesub alternate"
    " hd sd us uk season part episode complete collection dvdrip bdrip"
)


class _Decline(Exception):
    """The title is unusual: let guessit read it."""


def fast_parse(text: str) -> ParsedTitle | None:
    """Parse a cleaned title quickly, or return None when not confident.

    Args:
        text: Output of `clean_title` (non-empty, single-spaced).

    Returns:
        The same `ParsedTitle` guessit would give through `from_guessit`, or None when
        the title is unusual and guessit should decide. Never raises.
    """
    if not text or len(text) > MAX_FAST_CHARS or not text.isascii():
        return None  # non-ASCII: other scripts and accents are guessit's business
    try:
        return _parse(text)
    except Exception:  # _Decline, or a bug here, which must not stop ingest: guessit answers
        return None


def _parse(text: str) -> ParsedTitle:
    container = None
    if found := _CONTAINER_RE.search(text):
        container, text = found.group(1).lower(), text[: found.start()]
    if text.startswith("["):
        return _parse_anime(text, container)
    spans = [(m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]
    if len(spans) < 2 or (" " in text and "." in _BRACKETS_RE.sub("", text)):
        raise _Decline  # one word, or dots and spaces mixed: not a scene name
    group = _release_group(text, spans)
    if group is not None:
        spans = spans[: -group[1]]
    reader = _Reader(text, spans)
    reader.run()
    if reader.known_end != len(spans) or reader.kind not in (_GROUP_AFTER if group else _LAST):
        raise _Decline  # guessit reads "NF-GRP", "IMAX-GRP" or a trailing "NF" as the group
    if not reader.anchor:
        raise _Decline  # no year, episode or technical word: nothing to lean on
    title = _title(text[: spans[reader.anchor][1]])
    return reader.result(title, group[0] if group else None, container)


def _title(raw: str) -> str:
    if _ACRONYM_RE.search(raw):
        raise _Decline  # "S.H.I.E.L.D.": guessit keeps the dots
    title = " ".join(raw.replace(".", " ").replace("_", " ").split()).strip(" -,")
    if not title or not _TITLE_OK_RE.match(title) or "-" in title:
        raise _Decline  # "blow-how.to.be.single": a leading group, or a subtitle
    if _SUSPICIOUS_RE.search(title) or any(
        (word,) in _KNOWN or word in _GUESSIT_WORDS for word in title.lower().split()
    ):
        raise _Decline  # a technical word inside the title: guessit weighs such cases
    return title


def _suspicious(word: str) -> bool:
    """Words guessit may read as something other than title ("DC", "S013E18", "Subbed")."""
    return _SUSPICIOUS_RE.search(word) is not None or word.lower() in _GUESSIT_WORDS


def _release_group(text: str, spans: list[tuple[str, int, int]]) -> tuple[str, int] | None:
    """The group after the last '-', and how many tokens it takes; None if there is none."""
    last, start, _end = spans[-1]
    prev, _pstart, pend = spans[-2]
    if last.startswith("[") and prev.startswith(("[", "(")) and text[pend:start] in ("", " "):
        # "(2023) [1080p] [WEBRip] [YTS.MX]"; "(2010) [1080p]" is for the reader.
        return (last[1:-1], 1) if _plain_group(last[1:-1]) else None
    sep = text[spans[-3][2] : spans[-2][1]] if len(spans) > 2 else ""
    if last.startswith("[") and pend in (start, start - 1) and sep.strip() == "-":
        if not _plain_group(prev, shortest=3):  # "-SC[rartv]" -> "rartv"
            raise _Decline
        return f"{prev}{text[pend:start]}{last}", 2  # "x264-LOL [eztv]": guessit keeps tags
    if text[pend:start].strip() != "-":
        return None
    name = last[1:-1] if last.startswith("[") else last
    lowered = (prev.lower(), last.lower())
    if lowered in _KNOWN or (lowered[0] == "dts" and lowered[1] in ("hd", "x")):
        return None  # "WEB-DL" or "DTS-HD" at the end, not a group
    if not _plain_group(name):
        raise _Decline
    return name, 1


def _plain_group(name: str, shortest: int = 2) -> bool:
    """A release-group name guessit reads as such (not "02" or a known tag)."""
    return (
        len(name) >= shortest
        and bool(_GROUP_RE.match(name))
        and any(c.isalpha() for c in name)
        and not _RES_RE.match(name.lower())
        and (name.lower(),) not in _KNOWN
        and name.lower() not in _GUESSIT_WORDS
    )


class _Reader:
    """Walks the tokens once, filling fields; raises `_Decline` on anything unexpected."""

    def __init__(self, text: str, spans: list[tuple[str, int, int]]) -> None:
        self.text, self.spans = text, spans
        self.low = [s[0].lower() for s in spans]
        self.anchor: int | None = None
        self.known_end = 0
        self.kind = ""  # what the last known token was: "year", "res", "codec", "REPACK"...
        self.next_is_web = False
        self.year: int | None = None
        self.seasons: list[int] = []
        self.episodes: list[int] = []
        self.date: dt.date | None = None
        self.fields: dict[str, str] = {}
        self.flags: list[str] = []
        self.editions: list[str] = []
        self.langs: list[str] = []
        self.codecs: list[str] = []
        self.profile = False
        self.channels: str | None = None

    def sep(self, i: int) -> str:
        return self.text[self.spans[i - 1][2] : self.spans[i][1]]

    def run(self) -> None:
        low, i, episode_words, free = self.low, 0, False, False
        while i < len(low):
            before = (len(self.seasons), len(self.episodes), self.date)
            prev, step = self.kind, self.step(i)
            if step:
                if self.kind == "audio" and prev in ("year", "episode", "date"):
                    raise _Decline  # "2010.DTS", "S01E01.FLAC": guessit leaves such audio out
                if self.kind in ("lang", "dl") and (
                    free or (self.kind == "dl") != (prev == "lang")
                ):
                    raise _Decline  # "S01E01.Title.MULTi", "x264.DL": guessit reads no language
                if prev == "date" and not _RES_RE.match(low[i]):
                    raise _Decline  # "2004.12.28.4K": guessit reads no date there
                free = False
                if self.anchor is None and self.kind not in _STRONG:
                    raise _Decline  # "Title.DL-GRP": guessit keeps such words in the title
                self.anchor = i if self.anchor is None else self.anchor
                # Free words may follow an episode marker (its title), until a known word.
                episode_words = before != (len(self.seasons), len(self.episodes), self.date)
                i += step
                self.known_end = i
            elif self.anchor is not None and not (
                episode_words and low[i].isalpha() and not _suspicious(self.spans[i][0])
            ):
                raise _Decline  # an unknown word among the technical ones
            else:
                i, free = i + 1, True

    def step(self, i: int) -> int:
        low, word = self.low, self.low[i]
        nxt = low[i + 1] if i + 1 < len(low) else ""
        # The tables first: most tokens after the title are plain technical words.
        if nxt and (known := _KNOWN.get((word, nxt))) is not None:
            self.known(*known)
            return 2
        if (known := _KNOWN.get((word,))) is not None:
            self.next_is_web = nxt.startswith("web")
            self.known(*known)
            return 1
        if word[0] in "[(":
            self.kind = "bracket"
            return self.bracket(i)
        if _YEAR_RE.match(word):
            if i + 2 < len(low) and low[i + 1].isdigit() and low[i + 2].isdigit():
                if self.sep(i + 1) != "." or self.sep(i + 2) != ".":
                    raise _Decline  # guessit reads "2024 01 15" as season and episode
                self.date = dt.date(int(word), int(low[i + 1]), int(low[i + 2]))
                self.kind = "date"
                return 3
            if self.year is not None or (self.anchor is not None and self.fields):
                raise _Decline  # two years, or a year among technical words
            self.year = int(word)
            self.kind = "year"
            return 1
        self.kind = "episode"
        if m := _SXE_RE.match(word):
            self.season(int(m.group(1)))
            self.episodes.extend(int(e) for e in m.group(2)[1:].split("e"))
            if (e := _EPISODE_RE.match(nxt)) and self.sep(i + 1) == "-":
                self.episodes.extend(range(self.episodes[-1] + 1, int(e.group(1)) + 1))
                return 2
            return 1
        if m := _NXN_RE.match(word):
            self.season(int(m.group(1)))
            self.episodes.append(int(m.group(2)))
            return 1
        if m := _SEASON_RE.match(word):
            self.season(int(m.group(1)))
            if (s := _SEASON_RE.match(nxt)) and self.sep(i + 1) == "-":
                self.seasons.extend(range(self.seasons[-1] + 1, int(s.group(1)) + 1))
                return 2
            return 1
        if word == "season" and nxt.isdigit() and len(nxt) <= 2:
            self.season(int(nxt))
            return 2
        if _RES_RE.match(word):
            self.set("res", _resolution(word) or "")
            self.kind = "res"
            return 1
        self.kind = "audio"
        if m := _AUDIO_RE.match(word):
            return self.audio(i, m)
        if word in _CHANNELS or (word.isdigit() and len(word) == 1 and nxt in ("0", "1")):
            self.channels = self.channels or _CHANNELS.get(word, f"{word}.{nxt}")
            return 1 if word in _CHANNELS else 2
        return 0

    def season(self, number: int) -> None:
        if self.seasons or self.date:
            raise _Decline
        self.seasons.append(number)

    def set(self, field: str, value: str) -> None:
        if not value or self.fields.get(field, value) != value:
            raise _Decline  # two resolutions, codecs or sources: guessit picks better
        self.fields[field] = value

    def known(self, field: str, value: str) -> None:
        self.kind = value if value in ("REPACK", "PROPER") else field
        if field in ("service", "dl") and (field == "dl") == self.next_is_web:
            raise _Decline  # "NF" away from WEB, "DL" before WEB: guessit reads them otherwise
        if field in ("res", "codec", "source"):
            self.set(field, value)
        elif field == "flag":
            self.flags.append(value)
        elif field == "edition":
            self.editions.append(value)
        elif field in ("lang", "dl"):
            self.langs.append(value)

    def audio(self, i: int, m: re.Match[str]) -> int:
        low, j = self.low, i + 1
        codec = _AUDIO_NAMES[m.group(1)]
        if codec == "DTS" and low[j : j + 1] == ["hd"]:
            codec, j = "DTS-HD", j + 1
            if low[j : j + 1] == ["ma"]:
                self.profile, j = True, j + 1
        elif codec == "DTS" and low[j : j + 1] == ["x"]:
            codec, j = "DTS:X", j + 1
        self.codecs.append(codec)
        digit = m.group(2)
        if digit is None and j + 1 < len(low) and len(low[j]) == 1 and low[j].isdigit():
            digit, j = low[j], j + 1
        if digit is not None:
            if not (j < len(low) and low[j] in ("0", "1")):
                raise _Decline  # "AAC2" without ".0": leave it to guessit
            self.channels, j = self.channels or f"{digit}.{low[j]}", j + 1
        return j - i

    def bracket(self, i: int) -> int:
        inner = self.spans[i][0][1:-1].strip()
        if _YEAR_RE.match(inner):
            if self.year is not None:
                raise _Decline
            self.year = int(inner)
            return 1
        if re.fullmatch(r"\d\.\d", inner):
            self.channels = self.channels or inner  # YTS: "[5.1]"
            return 1
        for word in inner.lower().split():
            if _RES_RE.match(word):
                self.set("res", _resolution(word) or "")
            elif (word,) in _KNOWN:
                self.known(*_KNOWN[word,])
            else:
                raise _Decline  # a tag we do not read: guessit does
        return 1

    def result(self, title: str, group: str | None, container: str | None) -> ParsedTitle:
        cam_show = self.seasons and self.fields.get("source") == "CAM"
        if cam_show or (not self.seasons and (self.episodes or "Complete" in self.flags)):
            raise _Decline  # guessit calls a "COMPLETE" release an episode, or not
        flags: list[str] = [f for f in ("REPACK", "PROPER") if f in self.flags]
        flags += [f for f in self.flags if f not in ("REPACK", "PROPER")] + self.editions
        langs = self.langs
        episodic = bool(self.seasons or self.episodes or self.date)
        codecs = list(dict.fromkeys(self.codecs))
        if self.profile and codecs[0] in ("DTS-HD", "DTS"):
            codecs.insert(1, "MA")
        audio = " ".join(codecs + ([self.channels] if self.channels else [])) if codecs else None
        source = self.fields.get("source")
        if source == "BluRay" and self.fields.get("res") == "2160p":
            source = "UHD BluRay"  # guessit infers Ultra HD Blu-ray from the height
        return ParsedTitle(
            title=title,
            year=self.year,
            season=self.seasons[0] if self.seasons else None,
            seasons=tuple(dict.fromkeys(self.seasons)),
            episode=self.episodes[0] if self.episodes else None,
            episodes=tuple(dict.fromkeys(self.episodes)),
            date=self.date,
            resolution=self.fields.get("res"),
            video_codec=self.fields.get("codec"),
            audio=audio,
            media_source=source,
            release_group=group,
            languages=tuple(dict.fromkeys(langs)),
            flags=tuple(dict.fromkeys(flags)),
            guessit_type="episode" if episodic else "movie",
            container=container,
        )


def _parse_anime(text: str, container: str | None) -> ParsedTitle:
    """`[Group] Title - 12 (1080p) [CRC32]`: the fansub shape guessit reads the same way."""
    m = _ANIME_RE.match(text)
    if m is None:
        raise _Decline
    title = _title(m.group(2))
    resolution = None
    for tag in re.findall(r"[\[(]([^\[\]()]*)[\])]", m.group(4)):
        for word in re.split(r"[\s_.]+", tag.strip().lower()):
            if _RES_RE.match(word):
                resolution = resolution or _resolution(word)
            elif not (_CRC_RE.match(word) or word == "10bit"):
                raise _Decline  # a tag we do not read (source, audio...): guessit does
    episode = int(m.group(3))
    return ParsedTitle(
        title=title,
        episode=episode,
        episodes=(episode,),
        resolution=resolution,
        release_group=m.group(1).strip() or None,
        guessit_type="episode",
        container=container,
    )
