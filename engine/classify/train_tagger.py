"""Train the title tagger's CRF (engine/classify/tagger.py) and report held-out accuracy.

    .venv/bin/python -m engine.classify.train_tagger [--out resources/title_tagger.crfsuite]
        [--seed 7] [--synthetic 8000] [--generated 3000]

Run from the repository root: the corpora reader (tests/engine/classify/test_corpus.py)
and the name generator (bench/bench_search_index.py) are imported from there, so the
training data is the data the tests and benchmarks use. Sources of labelled names:

* the labelled corpora (tests/fixtures/titles): each name is labelled by aligning
  guessit's matches (which carry character spans) to tokens, then corrected by the
  corpus's own title and year where guessit disagrees with them;
* names from `bench.bench_search_index.Generator`, labelled by guessit the same way;
* synthetic names built part by part (so labelled exactly) from the generator's
  vocabulary, in the shapes the rules miss: no separators, technical words first,
  bracketed fansub names, non-Latin and mixed-script titles, YTS-style brackets.

Every source is split by a stable hash of the name (CRC-32 mod 5 == 0 is held out, never
trained on). The script prints per-field agreement on the held-out names for the tagger
(alone, and only where confident), guessit, the fast parser and the pipeline with the
tagger wired between them, then a confidence/coverage table to choose `MIN_CONFIDENCE`.
Deterministic for a given seed (L-BFGS over a fixed data order).
"""

# ruff: noqa: T201 - a command-line tool: the report on stdout is its output

from __future__ import annotations

import argparse
import logging
import random
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pycrfsuite  # type: ignore[import-untyped]
from guessit import guessit

from engine.classify.fast import fast_parse
from engine.classify.tagger import (
    LABELS,
    MIN_CONFIDENCE,
    TitleTagger,
    Token,
    default_model_path,
    features,
    tokenize,
)
from engine.classify.titles import ParsedTitle, clean_title, guessit_parse

if TYPE_CHECKING:
    from bench.bench_search_index import Generator

_log = logging.getLogger(__name__)

HOLDOUT_MOD: Final = 5
"""One name in five (by CRC-32 of the name) is held out of training."""

CRF_PARAMS: Final[dict[str, object]] = {
    "c1": 0.05,  # L1: prunes rare attributes, which keeps the model file small
    "c2": 0.01,
    "max_iterations": 200,
    "feature.minfreq": 2,
    "feature.possible_transitions": True,
}

# guessit property -> token label; properties not listed are NOISE.
_PROPERTY_LABELS: Final = {
    "title": "TITLE", "alternative_title": "EPTITLE", "episode_title": "EPTITLE",
    "film_title": "EPTITLE", "bonus_title": "EPTITLE", "year": "YEAR", "season": "SEASON",
    "episode": "EPISODE", "absolute_episode": "EPISODE", "date": "DATE",
    "screen_size": "RESOLUTION", "video_codec": "VCODEC", "audio_codec": "ACODEC",
    "audio_channels": "ACODEC", "audio_profile": "ACODEC", "source": "SOURCE",
    "other": "FLAG", "edition": "FLAG", "streaming_service": "FLAG", "color_depth": "FLAG",
    "video_profile": "FLAG", "episode_details": "FLAG", "proper_count": "FLAG",
    "subtitle_language": "FLAG", "language": "LANG", "release_group": "GROUP",
    "container": "CONTAINER",
}  # fmt: skip
# Where matches overlap ("Br" is both source and other), the earlier label wins.
_PRIORITY: Final = (
    "SEASON", "EPISODE", "DATE", "YEAR", "RESOLUTION", "VCODEC", "ACODEC", "SOURCE",
    "CONTAINER", "LANG", "GROUP", "TITLE", "EPTITLE", "FLAG", "NOISE",
)  # fmt: skip

# The fields the brief compares, and their names in each corpus's labels.
FIELDS: Final = {
    "title": ("title", "title"),
    "year": ("year", "year"),
    "season": ("season", "season"),
    "episode": ("episode", "episode"),
    "resolution": ("resolution", "screen_size"),
    "video_codec": ("codec", "video_codec"),
    "media_source": ("quality", "source"),
    "release_group": ("group", "release_group"),
}


@dataclass(frozen=True, slots=True)
class Example:
    """A labelled name: the text, its label per character (None: separator), gold fields."""

    source: str
    text: str
    chars: tuple[str | None, ...]
    expected: dict[str, object] = field(default_factory=dict)

    def sequence(self) -> tuple[list[Token], list[str]]:
        """Tokens and their labels (a token takes its first character's label)."""
        tokens = tokenize(self.text)
        return tokens, [self.chars[t.start] or "NOISE" for t in tokens]


def held_out(name: str) -> bool:
    """Whether a name belongs to the held-out split (stable across runs and platforms)."""
    return zlib.crc32(name.encode("utf-8", "surrogatepass")) % HOLDOUT_MOD == 0


# ---------------------------------------------------------------- labelling by guessit


def guessit_labels(text: str) -> list[str | None] | None:
    """Character labels from guessit's matches, with marker words and "Rip" fixed up.

    Returns:
        One label per character (None between matches), or None when guessit fails.
    """
    chars: list[str | None] = [None] * len(text)
    try:
        result = guessit(text, {"name_only": True})
    except Exception:  # guessit fails on a few odd names: they are left out
        return None
    # rebulk's MatchesDict keeps the Match objects, with their character spans, beside
    # the values: {property: [Match(span=(start, end), value=...)]}.
    matches: Mapping[str, Sequence[Any]] = getattr(result, "matches", {})
    painted = []
    for prop, found_all in matches.items():
        for found in found_all:
            label = _PROPERTY_LABELS.get(prop, "NOISE")
            if label == "FLAG" and found.value == "Rip":
                label = "SOURCE"  # "DVDRip": guessit splits the rip off the source
            if found.span and found.span[1] > found.span[0]:
                painted.append((_PRIORITY.index(label), found.span, label))
    for _rank, (start, end), label in sorted(painted, key=lambda p: -p[0]):
        chars[start:end] = [label] * (end - start)
    for prop, label in (("season", "SEASON"), ("episode", "EPISODE"), ("year", "YEAR")):
        _fill_number(text, chars, result.get(prop), label)
    return _fix_markers(text, chars)


def _fill_number(text: str, chars: list[str | None], value: object, label: str) -> None:
    """Label a number guessit (or a corpus) reports but no span covers ("- 06.[720.Hi10p]")."""
    value = value[0] if isinstance(value, list) and value else value
    if not isinstance(value, int) or label in chars:
        return
    for token in tokenize(text):
        if (
            token.text.isdigit()
            and int(token.text) == value
            and chars[token.start]
            in (
                None,
                "NOISE",
            )
        ):
            chars[token.start : token.end] = [label] * (token.end - token.start)
            return


def _fix_markers(text: str, chars: list[str | None]) -> list[str | None]:
    """Give "S", "E", "x", "Season" the label of the number they introduce."""
    tokens = tokenize(text)
    for i, token in enumerate(tokens[:-1]):
        low, nxt = token.text.lower(), tokens[i + 1]
        if low == "av" and nxt.text == "1" and nxt.start == token.end:
            chars[token.start : nxt.end] = ["VCODEC"] * 3  # guessit does not know AV1
        glued_rip = nxt.text.lower() == "rip" and nxt.start == token.end
        if glued_rip and chars[token.start] == "FLAG" and chars[nxt.start] == "SOURCE":
            chars[token.start : token.end] = ["SOURCE"] * (token.end - token.start)  # "HDRip"
        label = chars[token.start]
        following = chars[nxt.start]
        if label in ("SEASON", "EPISODE") or following not in ("SEASON", "EPISODE"):
            continue
        if nxt.start - token.end > 2 or not nxt.text.isdigit():
            continue
        if (low in ("s", "season", "saison") and following == "SEASON") or (
            low in ("e", "ep", "episode", "x") and following == "EPISODE"
        ):
            chars[token.start : token.end] = [following] * (token.end - token.start)
    return chars


def _correct(text: str, chars: list[str | None], expected: dict[str, object]) -> None:
    """Overwrite guessit's title and year where the corpus label says otherwise."""
    tokens = tokenize(text)
    title = expected.get("title")
    if isinstance(title, str) and (run := _find_run(tokens, title)):
        for i, token in enumerate(tokens):
            inside = run[0] <= i < run[1]
            if inside or chars[token.start] == "TITLE":
                label = "TITLE" if inside else "EPTITLE"
                chars[token.start : token.end] = [label] * (token.end - token.start)
    for prop, label in (("season", "SEASON"), ("episode", "EPISODE"), ("year", "YEAR")):
        _fill_number(text, chars, expected.get(prop), label)


def _find_run(tokens: Sequence[Token], title: str) -> tuple[int, int] | None:
    target = "".join(c for c in title.casefold() if c.isalnum())
    for i in range(len(tokens)):
        acc = ""
        for j in range(i, len(tokens)):
            acc += "".join(c for c in tokens[j].text.casefold() if c.isalnum())
            if acc == target:
                return i, j + 1
            if not target.startswith(acc):
                break
    return None


def corpus_examples() -> list[Example]:
    """The labelled corpora, aligned through guessit and corrected by their labels."""
    from tests.engine.classify.test_corpus import CORPORA

    examples = []
    for corpus, (load, _fields) in CORPORA.items():
        for case in load():
            text = clean_title(case.name)
            if not text:
                continue
            chars = guessit_labels(text)
            if chars is None:
                continue
            _correct(text, chars, case.expected)
            examples.append(Example(corpus, text, tuple(chars), dict(case.expected)))
    return examples


def generated_examples(generator: Generator, count: int) -> list[Example]:
    """Names from the benchmark generator, labelled by guessit."""
    names = dict.fromkeys(clean_title(generator.release()[0]) for _ in range(count))
    labelled = ((name, guessit_labels(name)) for name in names if name)
    return [Example("generated", name, tuple(chars)) for name, chars in labelled if chars]


# ---------------------------------------------------------------- synthetic names

# (as written in names, normalized) pairs: the expected values of synthetic names.
_RES: Final = (
    ("1080p", "1080p"), ("1080p", "1080p"), ("720p", "720p"), ("720p", "720p"),
    ("2160p", "2160p"), ("4K", "2160p"), ("480p", "480p"), ("1920x1080", "1080p"),
    ("576p", "576p"), ("1080i", "1080p"), ("720P", "720p"),
)  # fmt: skip
_CODECS: Final = (
    ("x264", "H.264"), ("x264", "H.264"), ("x265", "H.265"), ("H.264", "H.264"),
    ("H264", "H.264"), ("h264", "H.264"), ("AVC", "H.264"), ("HEVC", "H.265"),
    ("H.265", "H.265"), ("XviD", "Xvid"), ("XVID", "Xvid"), ("DivX", "DivX"), ("AV1", "AV1"),
)  # fmt: skip
_SOURCES: Final = (
    ("BluRay", "BluRay"), ("BluRay", "BluRay"), ("Blu-ray", "BluRay"), ("BDRip", "BDRip"),
    ("BRRip", "BDRip"), ("WEB-DL", "WEB-DL"), ("WEB-DL", "WEB-DL"), ("WEBDL", "WEB-DL"),
    ("WEB", "WEB-DL"), ("WEBRip", "WEBRip"), ("WEB-Rip", "WEBRip"), ("HDTV", "HDTV"),
    ("HDTV", "HDTV"), ("DVDRip", "DVDRip"), ("DVD", "DVD"), ("HDRip", "HDRip"),
    ("HDCAM", "HDCAM"), ("CAM", "CAM"), ("TS", "TS"), ("BD", "BluRay"),
)  # fmt: skip
_AUDIO: Final = (
    "DD5.1", "DDP5.1", "DD+5.1", "AAC2.0", "AAC", "AC3", "DTS", "DTS-HD.MA.5.1",
    "TrueHD.7.1.Atmos", "FLAC", "EAC3", "Opus", "MP3", "AAC5.1", "DDP.5.1", "5.1",
)  # fmt: skip
_TAGS: Final = (
    ("PROPER", "FLAG"), ("REPACK", "FLAG"), ("EXTENDED", "FLAG"), ("REMASTERED", "FLAG"),
    ("UNRATED", "FLAG"), ("iNTERNAL", "FLAG"), ("INTERNAL", "FLAG"), ("HDR", "FLAG"),
    ("HDR10", "FLAG"), ("DV", "FLAG"), ("3D", "FLAG"), ("IMAX", "FLAG"), ("REMUX", "FLAG"),
    ("10bit", "FLAG"), ("LIMITED", "FLAG"), ("Directors.Cut", "FLAG"), ("MULTi", "LANG"),
    ("FRENCH", "LANG"), ("GERMAN", "LANG"), ("iTA", "LANG"), ("SPANISH", "LANG"),
    ("RUSSIAN", "LANG"), ("ENG", "LANG"), ("TRUEFRENCH", "LANG"), ("JAPANESE", "LANG"),
    ("VOSTFR", "FLAG"), ("SUBBED", "FLAG"), ("Dual Audio", "FLAG"),
)  # fmt: skip
_SERVICES: Final = ("AMZN", "NF", "DSNP", "HMAX", "ATVP", "HULU", "iP")
_FILLERS: Final = ("the", "of", "and", "a", "in", "to", "my", "no")
_CYRILLIC: Final = dict(
    zip("abcdefghijklmnopqrstuvwxyz", "абцдефгхийклмнопкрстуввкыз", strict=True)
)
_SCRIPTS: Final = {  # first code point, span: letters are drawn from these blocks
    "cjk": (0x4E00, 3000), "kana": (0x30A1, 86), "hangul": (0xAC00, 2000),
    "greek": (0x3B1, 24), "arabic": (0x627, 26), "thai": (0xE01, 40),
}  # fmt: skip


class _Name:
    """A synthetic name built part by part: its text, each character's label, its fields."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, str | None]] = []
        self.expected: dict[str, object] = {}

    def add(self, text: str, label: str | None = None) -> _Name:
        self.parts.append((text, label))
        return self

    def words(self, words: Sequence[str], sep: str, label: str) -> _Name:
        for i, word in enumerate(words):
            if i:
                self.add(sep)
            self.add(word, label)
        return self

    def example(self) -> Example | None:
        text = "".join(text for text, _ in self.parts)
        chars = tuple(label for text, label in self.parts for _ in text)
        return (
            Example("synthetic", text, chars, self.expected) if clean_title(text) == text else None
        )


@dataclass
class _Maker:
    """Draws the parts of synthetic names from the benchmark generator's vocabulary."""

    gen: Generator
    rng: random.Random

    def sep(self) -> str:
        return self.rng.choices((".", " ", "_"), (50, 42, 8))[0]

    def title(self, *, glued: bool = False) -> list[str]:
        words = self.gen.words(self.rng.choice((1, 1, 2, 2, 2, 3, 3, 4)), " ").split()
        if len(words) > 1 and self.rng.random() < 0.3:
            words.insert(self.rng.randrange(1, len(words)), self.rng.choice(_FILLERS))
        if self.rng.random() < 0.15 and not glued:
            words.insert(0, "The")
        roll = self.rng.random()
        if glued:
            return [w[:1].upper() + w[1:] for w in words]
        if roll < 0.1:
            return [w.lower() for w in words]
        return [w.upper() for w in words] if roll < 0.15 else words

    def foreign(self) -> list[str]:
        """A title in another script, from pseudo-words (letters mapped or drawn)."""
        words = self.gen.words(self.rng.choice((1, 2, 2, 3)), " ").lower().split()
        script = self.rng.choice(("cyr", "cyr", "cyr", "cjk", "cjk", "kana", "hangul", "greek",
                                  "arabic", "thai"))  # fmt: skip
        if script == "cyr":
            return ["".join(_CYRILLIC[c] for c in w).capitalize() for w in words]
        first, span = _SCRIPTS[script]
        made = ["".join(chr(first + self.rng.randrange(span)) for _ in w[: len(w) // 2 + 1])
                for w in words]  # fmt: skip
        return ["".join(made)] if script in ("cjk", "kana", "thai") else made

    def group(self) -> str:
        group = self.rng.choice(self.gen.groups)
        roll = self.rng.random()
        if roll < 0.3:
            return group.capitalize()
        if roll < 0.45:
            return "".join(c.lower() if self.rng.random() < 0.3 else c for c in group)
        return (
            self.rng.choice(("NTb", "FGT", "YIFY", "RARBG", "SPARKS", "EVO", "ION10"))
            if (roll > 0.9)
            else group
        )

    def tech(self, name: _Name, sep: str, *, parts: str = "trsac", glued: bool = False) -> None:
        """Technical words after the title: tags, res, source, audio, codec (some left out)."""
        chosen: list[tuple[str, str]] = []
        rng = self.rng
        if "t" in parts and rng.random() < 0.3:
            chosen += rng.sample(_TAGS, rng.choice((1, 1, 2)))
        if "r" in parts and rng.random() < 0.9:
            raw, value = rng.choice(_RES[:7] if glued else _RES)
            chosen.append((raw, "RESOLUTION"))
            name.expected["screen_size"] = value
        if "s" in parts and rng.random() < 0.85:
            raw, value = rng.choice(_SOURCES)
            if raw.startswith("WEB") and rng.random() < 0.3:
                chosen.append((rng.choice(_SERVICES), "FLAG"))
            chosen.append((raw, "SOURCE"))
            name.expected["source"] = value
        audio = rng.random() < 0.45 and "a" in parts
        if "c" in parts and rng.random() < 0.85:
            raw, value = rng.choice(_CODECS)
            chosen.append((raw, "VCODEC"))
            name.expected["video_codec"] = value
        if audio:
            position = len(chosen) - (rng.random() < 0.7 and "video_codec" in name.expected)
            chosen.insert(position, (rng.choice(_AUDIO), "ACODEC"))
        if len(chosen) > 2 and rng.random() < 0.15:
            chosen[0], chosen[1] = chosen[1], chosen[0]
        for raw, label in chosen:
            if glued:
                raw = raw.replace(".", "").replace(" ", "").replace("-", "")
            name.add("" if glued else sep).add(raw.replace(" ", sep) if not glued else raw, label)

    def end(self, name: _Name, sep: str, *, chance: float = 0.85) -> None:
        """The group after a dash, sometimes a tracker tag or a container extension."""
        if self.rng.random() < chance:
            group = self.group()
            name.add("-").add(group, "GROUP")
            name.expected["release_group"] = group
            if self.rng.random() < 0.05:
                tag = self.rng.choice(("[rartv]", "[ettv]", "[eztv]"))
                name.add(tag, "GROUP")
                name.expected["release_group"] = group + tag
        if self.rng.random() < 0.08:
            name.add(".").add(self.rng.choice(("mkv", "mp4", "avi")), "CONTAINER")

    def episode(self, name: _Name, sep: str) -> None:
        """A season/episode marker in one of the usual spellings."""
        rng = self.rng
        season, episode = rng.randint(1, 15), rng.randint(1, 26)
        roll = rng.random()
        name.expected["season"] = season
        if roll < 0.55:
            s, e = ("S", "E") if rng.random() < 0.85 else ("s", "e")
            name.add(f"{s}{season:02d}", "SEASON").add(f"{e}{episode:02d}", "EPISODE")
            if rng.random() < 0.08:
                name.add(rng.choice(("", "-"))).add(f"{e}{episode + 1:02d}", "EPISODE")
            name.expected["episode"] = episode
        elif roll < 0.65:
            name.add(str(season), "SEASON").add(f"x{episode:02d}", "EPISODE")
            name.expected["episode"] = episode
        elif roll < 0.8:
            name.add(f"S{season:02d}", "SEASON")
            if rng.random() < 0.3:
                name.add("-").add(f"S{season + rng.randint(1, 4):02d}", "SEASON")
        else:
            if rng.random() < 0.4:
                name.add("Complete", "FLAG").add(sep)
            name.add("Season", "SEASON").add(sep).add(str(season), "SEASON")


def _scene(m: _Maker, shape: str) -> _Name:
    """Scene/p2p names: movie (year), tv (SxxEyy), daily (date); dots, spaces or underscores."""
    name, rng, sep = _Name(), m.rng, m.sep()
    if rng.random() < 0.04:
        name.add(f"www.{m.gen.words(1).lower()}.{rng.choice(('com', 'org', 'to'))}", "NOISE")
        name.add(rng.choice((" - ", "_-_", ".")))
    title = m.title()
    name.words(title, sep, "TITLE").add(sep)
    name.expected["title"] = " ".join(title)
    if shape == "movie":
        year = rng.randint(1930, 2026)
        name.add(*((f"({year})", None) if sep == " " and rng.random() < 0.3 else (str(year),)))
        if name.parts[-1][1] is None:  # "(2019)": the year inside the brackets
            name.parts[-1:] = [("(", None), (str(year), "YEAR"), (")", None)]
        else:
            name.parts[-1] = (str(year), "YEAR")
        name.expected["year"] = year
    elif shape == "tv":
        m.episode(name, sep)
        if rng.random() < 0.2:
            name.add(sep).words(m.title(), sep, "EPTITLE")
    else:
        day = (rng.randint(2000, 2025), rng.randint(1, 12), rng.randint(1, 28))
        dash = "." if sep != "." and rng.random() < 0.5 else "-" if sep != "." else "."
        name.add(f"{day[0]}{dash}{day[1]:02d}{dash}{day[2]:02d}", "DATE")
    m.tech(name, sep)
    m.end(name, sep)
    return name


def _anime(m: _Maker, *, foreign: bool = False) -> _Name:
    """Fansub names: "[Group] Title - 12 (1080p) [CRC32].mkv" and its variants."""
    name, rng = _Name(), m.rng
    sep = "_" if rng.random() < 0.1 else " "
    group = rng.choice((*m.gen.groups[:20], "SubsPlease", "Erai-raws", "HorribleSubs", "ASW"))
    name.add("[").add(group, "GROUP").add("]" + ("" if rng.random() < 0.2 else sep))
    title = m.foreign() if foreign else m.title()
    name.words(title, sep, "TITLE")
    name.expected |= {"title": " ".join(title), "release_group": group}
    if rng.random() < 0.15:
        season = rng.randint(2, 4)
        name.add(sep).add(f"S{season}", "SEASON")
        name.expected["season"] = season
    episode = rng.randint(1, 1100 if rng.random() < 0.1 else 26)
    name.add(f"{sep}-{sep}").add(f"{episode:02d}", "EPISODE")
    name.expected["episode"] = episode
    if rng.random() < 0.1:
        name.add("v2", "NOISE")
    res_raw, res = rng.choice(_RES[:6])
    name.expected["screen_size"] = res
    roll = rng.random()
    if roll < 0.5:
        opening = rng.choice("[(")
        name.add(f"{sep}{opening}").add(res_raw, "RESOLUTION").add("])"["[(".index(opening)])
    elif roll < 0.8:
        opening = rng.choice("[(")
        name.add(f"{sep}{opening}")
        words = [(rng.choice(("BD", "WEB", "BDRip", "WEBRip")), "SOURCE"), (res_raw, "RESOLUTION")]
        words += [(rng.choice(("HEVC", "x264", "x265", "AV1")), "VCODEC")]
        words += [(rng.choice(("FLAC", "AAC", "Opus", "EAC3")), "ACODEC")] * (rng.random() < 0.6)
        for i, (raw, label) in enumerate(words):
            name.add(" " if i else "").add(raw, label)
        name.add("])"["[(".index(opening)])
    else:
        name.add(sep + "[").add(res_raw, "RESOLUTION").add("][")
        name.add(rng.choice(("HEVC", "x264")), "VCODEC").add("][").add("AAC", "ACODEC").add("]")
    if rng.random() < 0.6:
        name.add(sep + "[").add(f"{rng.getrandbits(32):08X}", "NOISE").add("]")
    if rng.random() < 0.4:
        name.add(".").add("mkv", "CONTAINER")
    return name


def _yts(m: _Maker) -> _Name:
    """YTS and YIFY: "Title (2019) [1080p] [BluRay] [5.1] [YTS.MX]", "... BrRip x264 - YIFY"."""
    name, rng = _Name(), m.rng
    title, year = m.title(), rng.randint(1950, 2026)
    name.words(title, " ", "TITLE").add(" (").add(str(year), "YEAR").add(")")
    res_raw, res = rng.choice(_RES[:7])
    name.expected |= {"title": " ".join(title), "year": year, "screen_size": res}
    if rng.random() < 0.6:
        name.add(" [").add(res_raw, "RESOLUTION").add("] [")
        source = rng.choice(("BluRay", "WEBRip", "WEB"))
        name.add(source, "SOURCE").add("]")
        name.expected["source"] = {"BluRay": "BluRay", "WEBRip": "WEBRip"}.get(source, "WEB-DL")
        if rng.random() < 0.5:
            name.add(" [").add(rng.choice(("5.1", "7.1", "2.0")), "ACODEC").add("]")
        group = rng.choice(("YTS.MX", "YTS.AM", "YTS.LT", "YTS"))
        name.add(" [").add(group, "GROUP").add("]")
    else:
        name.add(" ").add(res_raw, "RESOLUTION").add(" ").add("BrRip", "SOURCE").add(" ")
        name.add("x264", "VCODEC").add(" - ").add(group := rng.choice(("YIFY", "mSD")), "GROUP")
        name.expected |= {"source": "BDRip", "video_codec": "H.264"}
    name.expected["release_group"] = group
    return name


def _reversed(m: _Maker) -> _Name:
    """Technical words first: "1080p.x264.Title.2019", "[1080p][HEVC] Title - 05"."""
    name, rng, sep = _Name(), m.rng, m.sep()
    if rng.random() < 0.3:
        res_raw, res = rng.choice(_RES[:6])
        codec_raw, codec = rng.choice(_CODECS[:9])
        name.add("[").add(res_raw, "RESOLUTION").add("][").add(codec_raw, "VCODEC").add("] ")
        name.expected |= {"screen_size": res, "video_codec": codec}
        sep = " "
    else:
        m.tech(name, sep, parts="rsc")
        name.parts = name.parts[1:]  # the first separator
    title = m.title()
    name.add(sep).words(title, sep, "TITLE")
    name.expected["title"] = " ".join(title)
    roll = rng.random()
    if roll < 0.5:
        year = rng.randint(1950, 2026)
        name.add(sep).add(str(year), "YEAR")
        name.expected["year"] = year
    elif roll < 0.8:
        name.add(sep)
        m.episode(name, sep)
    m.end(name, sep, chance=0.4)
    return name


def _glued(m: _Maker) -> _Name:
    """No separators: "TheLastKingdom2019720pBluRayx264-GRP", "ShowS01E02720pHDTV"."""
    name, rng = _Name(), m.rng
    title = m.title(glued=True)
    title_sep = "" if rng.random() < 0.7 else rng.choice(". ")
    name.words(title, title_sep, "TITLE").add(title_sep)
    name.expected["title"] = " ".join(title)
    if rng.random() < 0.6:
        year = rng.randint(1950, 2026)
        name.add(str(year), "YEAR")
        name.expected["year"] = year
    else:
        season, episode = rng.randint(1, 15), rng.randint(1, 26)
        name.add(f"S{season:02d}", "SEASON").add(f"E{episode:02d}", "EPISODE")
        name.expected |= {"season": season, "episode": episode}
    m.tech(name, "", parts="rsc", glued=True)
    m.end(name, "", chance=0.5)
    return name


def _mixed(m: _Maker) -> _Name:
    """Other scripts: "Мастер / Master (2005) BDRip 1080p", "Название.S01E02.1080p.WEB-DL"."""
    rng = m.rng
    if rng.random() < 0.3:
        return _anime(m, foreign=True)
    name, foreign = _Name(), m.foreign()
    if rng.random() < 0.5:
        sep = m.sep() if len(foreign) > 1 or rng.random() < 0.5 else "."
        name.words(foreign, sep, "TITLE").add(sep)
        name.expected["title"] = " ".join(foreign)
        m.episode(name, sep) if rng.random() < 0.5 else name.add(
            str(y := rng.randint(1950, 2026)), "YEAR"
        )
        if name.parts[-1][1] == "YEAR":
            name.expected["year"] = y
        m.tech(name, sep)
        m.end(name, sep)
        return name
    latin = m.title()
    first, second = (foreign, latin) if rng.random() < 0.7 else (latin, foreign)
    name.words(first, " ", "TITLE").add(" / ").words(second, " ", "EPTITLE")
    year = rng.randint(1950, 2026)
    name.add(" (").add(str(year), "YEAR").add(")")
    name.expected |= {"title": " ".join(first), "year": year}
    m.tech(name, " ", parts="rsac")
    return name


def _bracketed(m: _Maker) -> _Name:
    """Technical words in brackets: "Title (2019) [1080p x265 10bit AAC 5.1 GRP]"."""
    name, rng = _Name(), m.rng
    title, year = m.title(), rng.randint(1950, 2026)
    name.words(title, " ", "TITLE").add(" (").add(str(year), "YEAR").add(") ")
    name.expected |= {"title": " ".join(title), "year": year}
    opening = rng.choice("[(")
    name.add(opening)
    inner = _Name()
    m.tech(inner, " ", parts="trsac")
    name.parts += inner.parts[1:]
    name.expected |= inner.expected
    if rng.random() < 0.5:
        group = m.group()
        name.add(" ").add(group, "GROUP")
        name.expected["release_group"] = group
    name.add("])"["[(".index(opening)])
    return name


_SHAPES: Final[tuple[tuple[Callable[[_Maker], _Name], int], ...]] = (
    (lambda m: _scene(m, "movie"), 24),
    (lambda m: _scene(m, "tv"), 22),
    (lambda m: _scene(m, "daily"), 3),
    (_anime, 12),
    (_yts, 6),
    (_reversed, 9),
    (_glued, 10),
    (_mixed, 9),
    (_bracketed, 5),
)


def synthetic_examples(generator: Generator, rng: random.Random, count: int) -> list[Example]:
    """`count` distinct exactly-labelled names in the shapes listed in the module docstring."""
    maker = _Maker(generator, rng)
    makers, weights = zip(*_SHAPES, strict=True)
    found: dict[str, Example] = {}
    while len(found) < count:
        example = rng.choices(makers, weights)[0](maker).example()
        if example is not None:
            found.setdefault(example.text, example)
    return list(found.values())


# ---------------------------------------------------------------- training and scoring


def train(examples: Iterable[Example], out: Path, params: dict[str, object]) -> None:
    """Fit the CRF on `examples` and write the model to `out`."""
    trainer = pycrfsuite.Trainer(verbose=False)
    for example in examples:
        tokens, labels = example.sequence()
        if tokens:
            trainer.append(features(example.text, tokens), labels)
    trainer.set_params(params)
    out.parent.mkdir(parents=True, exist_ok=True)
    trainer.train(str(out))


Parse = Callable[[str], ParsedTitle | None]


def parsers(tagger: TitleTagger, threshold: float) -> dict[str, Parse]:
    """The parsers compared, each taking cleaned text."""
    cache: dict[str, ParsedTitle] = {}

    def guessed(text: str) -> ParsedTitle:
        if text not in cache:
            cache[text] = guessit_parse(text)
        return cache[text]

    def confident(text: str) -> ParsedTitle | None:
        parsed, confidence = tagger.parse(text)
        return parsed if confidence >= threshold and parsed.title else None

    return {
        "tagger": lambda text: tagger.parse(text)[0],
        "tagger@thr": confident,
        "guessit": guessed,
        "fast": fast_parse,
        "fast+tagger+guessit": lambda t: fast_parse(t) or confident(t) or guessed(t),
    }


def report(held: Sequence[Example], tagger: TitleTagger, threshold: float) -> None:
    """Print per-field held-out agreement of each parser, per source and all together."""
    from tests.engine.classify.test_corpus import CORPORA, Case, score

    compared = parsers(tagger, threshold)
    fields_of = {"ptn": CORPORA["ptn"][1], "guessit": CORPORA["guessit"][1]}
    for source in ("ptn", "guessit", "synthetic"):
        items = [e for e in held if e.source == source]
        spec = fields_of.get(source, fields_of["guessit"])
        column = 0 if source == "ptn" else 1
        cases = [Case(e.text, e.expected) for e in items]
        print(f"\nheld-out {source}: {len(items)} names (agreed/labelled; fast and @thr: "
              "only where they answer)")  # fmt: skip
        print(f"{'field':<15}" + "".join(f"{name:>22}" for name in compared))
        for name, columns in FIELDS.items():
            label_field = columns[column]
            cells = []
            for parse in compared.values():
                result = score(cases, label_field, spec[label_field], parse)
                cells.append(f"{result.rate:6.1%} {result.agreed:4d}/{result.total:<4d}")
            print(f"{name:<15}" + "".join(f"{cell:>22}" for cell in cells))
        answered = sum(compared["tagger@thr"](c.name) is not None for c in cases)
        fast_answered = sum(fast_parse(c.name) is not None for c in cases)
        print(f"answers: tagger@thr {answered}/{len(cases)}, fast {fast_answered}/{len(cases)}")


def calibrate(held: Sequence[Example], tagger: TitleTagger) -> None:
    """Confidence vs answers and accuracy, on held-out corpus names the fast parser declines.

    A name counts as right when every compared field (`FIELDS`) agrees with its labels;
    guessit's rate on the same names is beside it, since the tagger answers in its place.
    """
    from tests.engine.classify.test_corpus import CORPORA

    rows = []
    for example in held:
        if example.source not in ("ptn", "guessit") or fast_parse(example.text) is not None:
            continue
        spec = CORPORA[example.source][1]
        column = 0 if example.source == "ptn" else 1
        parsed, confidence = tagger.parse(example.text)
        guessed = guessit_parse(example.text)
        right = [True, True]
        for columns in FIELDS.values():
            name = columns[column]
            if name not in example.expected:
                continue
            expected = spec[name][0](example.expected[name])
            if expected in (None, frozenset()):
                continue
            for i, candidate in enumerate((parsed, guessed)):
                got = spec[name][1](candidate)
                agreed = expected == got or (
                    isinstance(expected, frozenset)
                    and isinstance(got, frozenset)
                    and expected & got
                )
                right[i] = right[i] and bool(agreed)
        rows.append((confidence, *right))
    print(f"\nconfidence on {len(rows)} held-out corpus names the fast parser declines")
    print(f"{'threshold':>9} {'answered':>9} {'tagger all right':>17} {'guessit all right':>18}")
    for threshold in (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95):
        kept = [row for row in rows if row[0] >= threshold]
        if kept:
            tagger_ok = sum(row[1] for row in kept) / len(kept)
            guessit_ok = sum(row[2] for row in kept) / len(kept)
            print(f"{threshold:>9.2f} {len(kept):>9d} {tagger_ok:>17.1%} {guessit_ok:>18.1%}")


def main(argv: Sequence[str] | None = None) -> int:
    """Build the data, train, write the model, print the held-out report."""
    from bench.bench_search_index import Generator

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=default_model_path())
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--synthetic", type=int, default=8_000)
    parser.add_argument("--generated", type=int, default=3_000)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rng = random.Random(args.seed)  # noqa: S311 - reproducible data, not secrets
    generator = Generator(args.seed)
    examples = corpus_examples()
    examples += generated_examples(generator, args.generated)
    examples += synthetic_examples(generator, rng, args.synthetic)
    train_set = [e for e in examples if not held_out(e.text)]
    held = [e for e in examples if held_out(e.text)]
    # The corpora are few and real: weigh them up against the generated names.
    weighted = [e for e in train_set for _ in range(3 if e.source in ("ptn", "guessit") else 1)]
    labelled_s = time.perf_counter() - started
    train(weighted, args.out, CRF_PARAMS)
    trained_s = time.perf_counter() - started - labelled_s
    size = args.out.stat().st_size
    print(
        f"examples: {len(train_set)} trained ({len(weighted)} with weights), {len(held)} held out"
    )
    print(f"labelling {labelled_s:.1f} s, training {trained_s:.1f} s; model {size / 1024:.0f} KiB")
    print(f"labels: {', '.join(LABELS)}")
    tagger = TitleTagger.load(args.out)
    report(held, tagger, MIN_CONFIDENCE)
    calibrate(held, tagger)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
