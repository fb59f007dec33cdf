"""A learned token tagger (linear-chain CRF) for release names the rule parser declines.

The fast parser (engine/classify/fast.py) reads plain scene names and gives up on
anything unusual; guessit reads the rest at a few milliseconds a title. Between them,
this module labels each token of the name with a field (TITLE, YEAR, SEASON,
RESOLUTION...) using a CRF trained by `engine.classify.train_tagger`, then decodes the
labelled spans into the same `ParsedTitle` (same spellings, through fast.py's tables).
It reads shapes regular patterns miss: names without separators, mixed scripts,
bracketed fansub names, technical words before the title.

The tokenizer keeps character spans and splits glued words at letter/digit and
camel-case boundaries ("TheMatrix1999720pBluRay" -> The Matrix 1999 720 p Blu Ray), so
one scheme serves separated and glued names; each token also sees the separator-bounded
word it came from, which keeps "x264" or "S01E02" recognisable.

`tagger_parse` answers only when the model is confident (the smallest per-token marginal
probability of the decoded labels is at least `MIN_CONFIDENCE`) and returns None
otherwise, or when the model file is missing: the caller then asks guessit.

The features read fast.py's tables (`_KNOWN`, `RISKY`...): after changing them, retrain
(`python -m engine.classify.train_tagger`), or the model sees attributes it was not
trained with; tests/engine/classify/test_tagger.py's held-out floors catch a large drift.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, NamedTuple

import pycrfsuite  # type: ignore[import-untyped]

from engine.classify.fast import (
    _AUDIO_NAMES,
    _AUDIO_RE,
    _CHANNELS,
    _CRC_RE,
    _EPISODE_RE,
    _KNOWN,
    _NXN_RE,
    _RES_RE,
    _SEASON_RE,
    _SXE_RE,
    _YEAR_RE,
)
from engine.classify.fast import _TOKEN_RE as _FAST_TOKEN_RE
from engine.classify.fast_tables import RISKY
from engine.classify.titles import (
    _SOURCES,
    MAX_TITLE_CHARS,
    ParsedTitle,
    _release_group,
    _resolution,
)

_log = logging.getLogger(__name__)

MODEL_ENV: Final = "MINATO_TAGGER_MODEL"
"""Environment variable naming another model file (tests, experiments)."""

MIN_CONFIDENCE: Final = 0.80
"""Smallest per-token marginal probability accepted. The knee of the held-out curve that
train_tagger prints: on corpus names the fast parser declines, the share with every field
right rises from 69% (answering all) to 79% at 0.80 and no further above it, while the
share answered keeps falling; guessit is still right more often (98%) on those names."""

MAX_TOKENS: Final = 96
"""Longer names (file lists glued to titles) are cut: decoding cost grows with length."""

LABELS: Final = (
    "TITLE", "EPTITLE", "YEAR", "SEASON", "EPISODE", "DATE", "RESOLUTION", "VCODEC",
    "ACODEC", "SOURCE", "FLAG", "LANG", "GROUP", "CONTAINER", "NOISE",
)  # fmt: skip
"""Token labels. EPTITLE: episode or alternative titles; NOISE: sites, CRCs, sizes."""

_STOP: Final = r"(?![xXhH]26[45]|[aA][vV]1)"  # a codec glued after a word starts a token
TOKEN_RE: Final = re.compile(
    r"(?:19|20)\d\d(?=\d{3,4}[pPiI]|4[kK](?![a-z]))"  # "1999720p", "20144K": year, then res
    r"|(?<=[eE])\d\d(?=\d{3,4}[pPiI]|4[kK](?![a-z]))"  # "S01E02720p": episode, then res
    r"|4[kK](?![a-z])"
    r"|\d+"
    r"|[xXhH](?=26[45])|[aA][vV](?=1)"  # "BluRayx264", "WEBDLAV1": the codec's letters
    rf"|(?:{_STOP}[A-Z])+(?=[A-Z]{_STOP}[^\W\d_A-Z])"  # "WEBRip" -> "WEB", "Rip"
    rf"|[A-Z]?(?:{_STOP}[^\W\d_A-Z])+(?:['\u2019][^\W\d_]+)?"  # "Word", "word"
    rf"|(?:{_STOP}[A-Z])+(?:['\u2019][A-Z]+)?"
)
"""Tokens: digit runs and letter runs split at camel-case humps; the rest separates."""

_NON_WORD_RE: Final = re.compile(r"[\W_]+")
_CONTAINERS: Final = frozenset(("mkv", "mp4", "avi", "m4v", "wmv", "mov", "webm", "mpg", "ts"))
_SEASON_WORDS: Final = frozenset(("s", "season", "seasons", "saison", "temporada", "staffel"))
_EPISODE_WORDS: Final = frozenset(("e", "ep", "episode", "episodes", "x"))
# Compact spellings of fast.py's table ("webdl", "bluray"), so glued words match too.
_COMPACT: Final = {"".join(k): v for k, v in _KNOWN.items()}
# Sources fast.py does not read (it leaves them to guessit), in the same scene spellings.
_MORE_SOURCES: Final = {
    "dvd": "DVD", "dvd5": "DVD", "dvd9": "DVD", "dvdr": "DVD", "hddvd": "HD-DVD",
    "bd": "BluRay", "bdremux": "BluRay", "uhd": "UHD BluRay", "ts": "TS", "telesync": "TS",
    "hdts": "HDTS", "tc": "TC", "telecine": "TC", "hdtc": "HDTC", "ppv": "PPV",
    "sdtv": "SDTV", "dvb": "DVB", "uhdtv": "UHDTV", "vhs": "VHS", "scr": "SCR",
    "screener": "SCR", "tvrip": "SDTV", "hdtvrip": "HDTV", "dsr": "SAT", "dsrip": "SAT",
    "satrip": "SAT", "vodrip": "VOD", "camrip": "CAM", "webdlrip": "WEBRip",
}  # fmt: skip
_GLUE_WORDS: Final = frozenset(
    key for key in (*_COMPACT, *_MORE_SOURCES, *_AUDIO_NAMES) if len(key) > 1 and key.isalpha()
)
"""Words a capital run may be split into (see `_split_caps`)."""
_RIPPED: Final = dict(_SOURCES.values())
"""Plain scene spelling -> ripped spelling ("BluRay" -> "BDRip"), from titles.py's table."""
_MORE_LANGS: Final = {
    "japanese": "ja", "jap": "ja", "jpn": "ja", "korean": "ko", "kor": "ko", "chinese": "zh",
    "chi": "zh", "hindi": "hi", "portuguese": "pt", "por": "pt", "dutch": "nl", "polish": "pl",
    "pol": "pl", "swedish": "sv", "ukrainian": "uk", "ukr": "uk", "vf": "fr", "vff": "fr",
    "vfq": "fr", "ger": "de", "deu": "de", "spa": "es", "esp": "es", "castellano": "es",
    "latino": "es", "dual": "mul",
}  # fmt: skip
_MORE_FLAGS: Final = {
    "dualaudio": "Dual Audio", "hc": "Hardsub", "hardsub": "Hardsub", "ova": "OVA",
    "ona": "ONA", "oad": "OAD", "hdr10plus": "HDR", "dolbyvision": "DV", "screener": "Screener",
    "dc": "Director's Cut", "directorscut": "Director's Cut", "theatrical": "Theatrical",
}  # fmt: skip


class Token(NamedTuple):
    """One token of a name and where it sits in the text (end is exclusive)."""

    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Split a name into tokens with their character spans (at most `MAX_TOKENS`).

    Args:
        text: A cleaned release name.

    Returns:
        The tokens, left to right; separators and punctuation are not tokens.
    """
    tokens: list[Token] = []
    for match in TOKEN_RE.finditer(text):
        word, start = match.group(), match.start()
        pieces = _split_caps(word) if len(word) > 3 and word.isupper() and word.isascii() else ()
        for piece in pieces or (word,):
            tokens.append(Token(piece, start, start + len(piece)))
            start += len(piece)
        if len(tokens) >= MAX_TOKENS:
            return tokens[:MAX_TOKENS]
    return tokens


@functools.lru_cache(maxsize=16_384)
def _split_caps(word: str) -> tuple[str, ...]:
    """Split a capital run made only of technical words ("AMZNWEBDL"); () if it is not one.

    Camel case cannot split such runs; requiring every piece to be a known word keeps
    titles in capitals ("CAMERON", "TSUNAMI") whole.
    """
    low = word.lower()
    if low in _GLUE_WORDS:
        return ()
    ends: dict[int, int] = {0: 0}  # end of a segmentation -> start of its last piece
    for i in range(len(low)):
        if i in ends:
            for j in range(i + 2, len(low) + 1):
                if low[i:j] in _GLUE_WORDS:
                    ends.setdefault(j, i)
    if len(low) not in ends:
        return ()
    pieces, end = [], len(word)
    while end:
        start = ends[end]
        pieces.append(word[start:end])
        end = start
    return tuple(reversed(pieces))


@functools.lru_cache(maxsize=65_536)
def _kind(word: str) -> str:
    """What a lowercase word looks like to the tables and patterns ("" if nothing)."""
    if not word:
        return ""
    known = _COMPACT.get(word)
    if known is not None:
        return known[0]
    if _YEAR_RE.match(word):
        return "year"
    if _RES_RE.match(word) or word in ("4k", "uhd", "2k"):
        return "res"
    if _SXE_RE.match(word) or _NXN_RE.match(word):
        return "sxe"
    if _SEASON_RE.match(word) or word in _SEASON_WORDS:
        return "season"
    if _EPISODE_RE.match(word) or word in _EPISODE_WORDS:
        return "ep"
    if _AUDIO_RE.match(word) or word in _CHANNELS:
        return "audio"
    if word in _MORE_SOURCES:
        return "source"
    if word in _MORE_LANGS:
        return "lang"
    if word in _CONTAINERS:
        return "ext"
    if _CRC_RE.match(word) and not word.isdigit():
        return "crc"
    if word in _MORE_FLAGS or word in RISKY:
        return "risky"  # words guessit does not leave in a title ("DC", "Subbed")
    return ""


@functools.lru_cache(maxsize=65_536)
def _shape(token: str) -> str:
    """A coarse spelling class: "d4" (four digits), "Xx", "X", "x", "xX", or a script."""
    if token.isdigit():
        return f"d{min(len(token), 5)}"
    if not token.isascii():
        char = ord(token[0])
        script = "cyr" if 0x400 <= char < 0x530 else "cjk" if 0x2E80 <= char < 0xD7B0 else "oth"
        return f"{script}{'X' if token[0].isupper() else ''}"
    if token.isupper():
        return "X" if len(token) == 1 else "XX"
    if token.islower():
        return "x"
    return "Xx" if token[0].isupper() and token[1:].islower() else "xX"


@functools.lru_cache(maxsize=1_024)
def _sep_class(sep: str) -> str:
    """A separator as a short ASCII attribute (CRFsuite cannot encode lone surrogates)."""
    if not sep:
        return "g"
    return sep[:4].encode("ascii", "replace").decode("ascii").replace(" ", "s")


_ANCHORS: Final = frozenset({"year", "res", "sxe", "source", "codec", "audio"})


def features(text: str, tokens: Sequence[Token]) -> list[list[str]]:
    """CRF attributes of each token: itself, its word, neighbours, separators, brackets.

    Args:
        text: The text the tokens come from.
        tokens: Output of `tokenize(text)`.

    Returns:
        One list of attribute strings per token.
    """
    count = len(tokens)
    if not count:
        return []
    lows = [t.text.lower()[:20] for t in tokens]
    seps = [text[tokens[i - 1].end if i else 0 : tokens[i].start] for i in range(count)]
    seps.append(text[tokens[-1].end :])
    kinds = [_kind(low) for low in lows]
    shapes = [_shape(t.text) for t in tokens]
    # Words: runs of tokens glued together ("x264", "S01E02", "TheMatrix"), each token
    # told its word, the word's kind, its place in it, and how many words follow.
    word_feats: list[tuple[str, ...]] = []
    word_of: list[int] = []
    anchor = [k in _ANCHORS for k in kinds]
    i = words = 0
    while i < count:
        j = i + 1
        while j < count and not seps[j]:
            j += 1
        if j - i == 1:
            word_feats.append(("wp=S",))
        else:
            word = text[tokens[i].start : tokens[j - 1].end].lower()
            wkind = _kind(_compact(word)) if len(word) < 24 else ""
            anchor[i:j] = [a or wkind in _ANCHORS for a in anchor[i:j]]
            shared = (f"W={word[:24]}", f"K={wkind}")
            for k in range(i, j):
                place = "wp=B" if k == i else "wp=E" if k == j - 1 else "wp=I"
                word_feats.append((*shared, place, f"ks={kinds[k]}|{wkind}"))
        word_of += [words] * (j - i)
        i, words = j, words + 1
    # A group usually follows the last dash: "x264-GRP", "H.264-SC-SDH", "DTS-X-NOGROUP".
    last_dash = max((i for i in range(count) if "-" in seps[i]), default=count)
    brackets = _brackets(seps)
    sep_classes = [_sep_class(sep) for sep in seps]
    anchors_left = sum(anchor)
    seen_anchor = 0
    out: list[list[str]] = []
    for i in range(count):
        anchors_left -= anchor[i]
        feats = [
            "b",
            "w=" + lows[i],
            "s=" + shapes[i],
            "k=" + kinds[i],
            "<" + sep_classes[i],
            ">" + sep_classes[i + 1],
            _POSITIONS[min(i, 4)],
            _FROM_END[min(count - 1 - i, 4)],
            _RELATIVE[5 * i // count],
            _WORDS_LEFT[min(words - 1 - word_of[i], 3)],
            "d>" if i > last_dash else "d=" if i == last_dash else "d<",
            "br=" + brackets[i],
            _ANCHOR_SEEN[seen_anchor][anchors_left > 0],
            "x3=" + lows[i][-3:],
            *word_feats[i],
        ]
        if i:
            feats += ("w-=" + lows[i - 1], "k-=" + kinds[i - 1], "s-=" + shapes[i - 1])
            if i > 1:
                feats.append("k--=" + kinds[i - 2])
        else:
            feats.append("BOS")
        if i + 1 < count:
            feats += ("w+=" + lows[i + 1], "k+=" + kinds[i + 1], "s+=" + shapes[i + 1])
            if i + 2 < count:
                feats.append("k++=" + kinds[i + 2])
        else:
            feats.append("EOS")
        seen_anchor = seen_anchor or anchor[i]
        out.append(feats)
    return out


_POSITIONS: Final = tuple(f"p={i}" for i in range(5))
_FROM_END: Final = tuple(f"q={i}" for i in range(5))
_RELATIVE: Final = tuple(f"r={i}" for i in range(5))
_WORDS_LEFT: Final = tuple(f"qw={i}" for i in range(4))
_ANCHOR_SEEN: Final = (("a=00", "a=01"), ("a=10", "a=11"))


@functools.lru_cache(maxsize=16_384)
def _compact(word: str) -> str:
    return _NON_WORD_RE.sub("", word)


def _brackets(seps: Sequence[str]) -> list[str]:
    """Per token: the enclosing bracket, whether it opens or closes it, and which group."""
    stack: list[str] = []
    groups = 0
    result = []
    for i in range(len(seps) - 1):
        opened = False
        for char in seps[i]:
            if char in "[(【{":
                stack.append(char)
                groups += 1
                opened = True
            elif char in "])】}" and stack:
                stack.pop()
        if not stack:
            result.append("-")
            continue
        closes = any(c in "])】}" for c in seps[i + 1])
        edge = "o" if opened and closes else "f" if opened else "l" if closes else "i"
        result.append(f"{stack[-1]}{edge}{min(groups, 3)}")
    return result


class TitleTagger:
    """A loaded CRF model: tags tokens and decodes them into a `ParsedTitle`.

    Not shareable across processes (the CRF handle is native); `tagger_parse` loads one
    per process. A lock serialises use, since the handle keeps the last sequence.
    """

    def __init__(self, tagger: object) -> None:
        self._tagger = tagger
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path) -> TitleTagger:
        """Open a model file written by `engine.classify.train_tagger`.

        Args:
            path: The `.crfsuite` file.

        Returns:
            The tagger.

        Raises:
            OSError: The file is missing or not a model.
        """
        if not path.is_file():
            raise OSError(f"no model file at {path}")
        tagger = pycrfsuite.Tagger()
        try:
            # open(), not open_inmemory(): the latter keeps a pointer to the caller's bytes.
            tagger.open(str(path))
        except ValueError as exc:
            raise OSError(f"not a CRFsuite model: {path}") from exc
        return cls(tagger)

    def tag(self, text: str) -> tuple[list[Token], list[str], float]:
        """Label the tokens of a name.

        Args:
            text: A cleaned release name.

        Returns:
            The tokens, one label each, and the confidence: the smallest marginal
            probability of a chosen label (1.0 for a name without tokens).
        """
        tokens = tokenize(text)
        if not tokens:
            return tokens, [], 1.0
        xseq = features(text, tokens)
        with self._lock:
            self._tagger.set(xseq)  # type: ignore[attr-defined]
            labels: list[str] = list(self._tagger.tag())  # type: ignore[attr-defined]
            marginal = self._tagger.marginal  # type: ignore[attr-defined]
            confidence = min(float(marginal(label, i)) for i, label in enumerate(labels))
        return tokens, labels, confidence

    def parse(self, text: str) -> tuple[ParsedTitle, float]:
        """Tag and decode a name, whatever the confidence.

        Args:
            text: A cleaned release name.

        Returns:
            The parse and the confidence (see `tag`).
        """
        tokens, labels, confidence = self.tag(text)
        return decode(text, tokens, labels), confidence


def default_model_path() -> Path:
    """The shipped model, or the file `MINATO_TAGGER_MODEL` names."""
    override = os.environ.get(MODEL_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "resources" / "title_tagger.crfsuite"


@functools.cache
def default_tagger() -> TitleTagger | None:
    """The process's tagger, loaded on first use; None (logged once) if it cannot load."""
    path = default_model_path()
    try:
        return TitleTagger.load(path)
    except Exception:  # a missing or damaged model must not stop ingest: guessit answers
        _log.warning("title tagger model unavailable at %s; using guessit", path, exc_info=True)
        return None


def tagger_parse(text: str) -> ParsedTitle | None:
    """Parse a cleaned name with the CRF, or return None when unsure or unavailable.

    Args:
        text: Output of `clean_title`.

    Returns:
        The parse when the confidence is at least `MIN_CONFIDENCE`, else None. Never raises.
    """
    tagger = default_tagger()
    if tagger is None:
        return None
    text = text[:MAX_TITLE_CHARS]
    try:
        tokens, labels, confidence = tagger.tag(text)
        parsed = decode(text, tokens, labels) if confidence >= MIN_CONFIDENCE else None
    except Exception:  # a bug here must not stop ingest: guessit answers
        _log.debug("tagger failed on %r", text, exc_info=True)
        return None
    return parsed if parsed is not None and parsed.title else None


# ---------------------------------------------------------------- decoding


def _all_runs(labels: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
    """Every label's [start, end) ranges of consecutive tokens, in one pass."""
    runs: dict[str, list[tuple[int, int]]] = {}
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            runs.setdefault(labels[start], []).append((start, i))
            start = i
    return runs


def _words(text: str, tokens: Sequence[Token], runs: Sequence[tuple[int, int]]) -> list[str]:
    """Lowercase words (fast.py's tokenization) of the given token runs, in order."""
    words: list[str] = []
    for start, end in runs:
        chunk = text[tokens[start].start : tokens[end - 1].end]
        words.extend(m.group().strip("[]()").lower() for m in _FAST_TOKEN_RE.finditer(chunk))
    return [w for w in words if w]


def decode(text: str, tokens: Sequence[Token], labels: Sequence[str]) -> ParsedTitle:
    """Turn labelled tokens into a `ParsedTitle` with titles.py's spellings.

    Args:
        text: The text the tokens come from.
        tokens: Its tokens.
        labels: One label per token.

    Returns:
        The parse; fields with no (readable) labelled tokens stay empty.
    """
    runs = _all_runs(labels)
    seasons = _numbers(text, tokens, labels, "SEASON", 9_999)
    episodes = _numbers(text, tokens, labels, "EPISODE", 99_999)
    if not episodes:
        seasons, episodes = _split_numbers(tokens, runs.get("SEASON", ()), seasons)
    years = [
        int(t.text)
        for t, label in zip(tokens, labels, strict=True)
        if label == "YEAR" and t.text.isdigit() and 1870 <= int(t.text) <= 2200
    ]
    # guessit reads a season that is a year ("S2014E18", "1940x01") as the year too.
    years = years or [season for season in seasons if 1900 <= season <= 2100]
    date = _date(tokens, labels)
    resolution = _first(_res_of, _words(text, tokens, runs.get("RESOLUTION", ())))
    codec = _first(_codec_of, _words(text, tokens, runs.get("VCODEC", ())))
    source = _source(_words(text, tokens, runs.get("SOURCE", ())))
    if source == "BluRay" and resolution == "2160p":
        source = "UHD BluRay"  # as guessit: Ultra HD Blu-ray from the height
    container = next(
        (w for w in _words(text, tokens, runs.get("CONTAINER", ())) if w in _CONTAINERS), None
    )
    return ParsedTitle(
        title=_title(text, tokens, runs),
        year=years[0] if years else None,
        season=seasons[0] if seasons else None,
        seasons=seasons,
        episode=episodes[0] if episodes else None,
        episodes=episodes,
        date=date,
        resolution=resolution,
        video_codec=codec,
        audio=_audio(_words(text, tokens, runs.get("ACODEC", ()))),
        media_source=source,
        release_group=_group(text, tokens, runs.get("GROUP", ())),
        languages=_languages(_words(text, tokens, runs.get("LANG", ()))),
        flags=_flags(_words(text, tokens, runs.get("FLAG", ()))),
        guessit_type="episode" if seasons or episodes or date else "movie",
        container=container,
    )


def _title(text: str, tokens: Sequence[Token], runs: dict[str, list[tuple[int, int]]]) -> str:
    # No TITLE at all ("www.site.to - Name (1982)"): an alternative title is the best guess.
    found = runs.get("TITLE") or runs.get("EPTITLE")
    if not found:
        return ""
    start, end = found[0]
    glued = all(tokens[i].start == tokens[i - 1].end for i in range(start + 1, end))
    parts = [tokens[start].text]
    for i in range(start + 1, end):
        sep = text[tokens[i - 1].end : tokens[i].start]
        if not sep:
            # A name with no separators at all ("TheLastKingdom"): humps are word breaks.
            sep = " " if glued and end - start > 1 else ""
        elif sep == "." and len(tokens[i].text) == len(tokens[i - 1].text) == 1:
            sep = "."  # "S.H.I.E.L.D": guessit keeps the dots of an acronym
        elif sep.strip(" ._") == "":
            sep = " "
        else:
            sep = " ".join(sep.replace(".", " ").replace("_", " ").split())
            sep = sep if sep == "-" else f" {sep} " if sep[0] not in ",:'!?" else f"{sep} "
        parts += [sep, tokens[i].text]
    return " ".join("".join(parts).split()).strip(" -,:")


def _group(text: str, tokens: Sequence[Token], runs: Sequence[tuple[int, int]]) -> str | None:
    if not runs:
        return None
    start, end = runs[0]
    raw = text[tokens[start].start : tokens[end - 1].end]
    rest = text[tokens[end - 1].end :]
    for opening, closing in ("[]", "()"):
        if raw.count(opening) > raw.count(closing) and rest.startswith(closing):
            raw += closing  # "ASAP[ettv": the closing bracket is not a token
    return _release_group(raw)


def _numbers(
    text: str, tokens: Sequence[Token], labels: Sequence[str], wanted: str, upper: int
) -> tuple[int, ...]:
    """Numbers of the tokens labelled `wanted`, with "-" ranges expanded ("S01-S03")."""
    found: list[int] = []
    dash = False
    for i, (token, label) in enumerate(zip(tokens, labels, strict=True)):
        if label != wanted:
            dash = False
            continue
        sep = text[tokens[i - 1].end : token.start] if i else ""
        dash = dash or (i > 0 and labels[i - 1] == wanted and "-" in sep)
        if not token.text.isdigit() or len(token.text) > 5:
            continue
        number = int(token.text)
        if number > upper:
            continue
        if dash and found and found[-1] < number <= found[-1] + 50:
            found.extend(range(found[-1] + 1, number + 1))
        elif number not in found:
            found.append(number)
        dash = False
    return tuple(dict.fromkeys(found))


def _split_numbers(
    tokens: Sequence[Token], runs: Sequence[tuple[int, int]], seasons: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Read "Show.102", "Cap.1503" as guessit does: season 1, episode 2; season 15, episode 3.

    Alignment labels such a number SEASON (by its first digit); years stay seasons.
    """
    whole: list[int] = []
    split_seasons: list[int] = []
    episodes: list[int] = []
    for start, end in runs:
        for token in tokens[start:end]:
            digits = token.text
            if digits.isdigit() and len(digits) in (3, 4) and not 1900 <= int(digits) <= 2100:
                whole.append(int(digits))
                split_seasons.append(int(digits[:-2]))
                episodes.append(int(digits[-2:]))
    if not episodes:
        return seasons, ()
    kept = [season for season in seasons if season not in whole]
    return tuple(dict.fromkeys(kept + split_seasons)), tuple(dict.fromkeys(episodes))


def _date(tokens: Sequence[Token], labels: Sequence[str]) -> dt.date | None:
    digits = [t.text for t, label in zip(tokens, labels, strict=True) if label == "DATE"]
    digits = [d for d in digits if d.isdigit()]
    try:
        if len(digits) == 1 and len(digits[0]) == 8:
            value = digits[0]
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        if len(digits) == 3 and len(digits[0]) == 4:
            return dt.date(int(digits[0]), int(digits[1]), int(digits[2]))
        if len(digits) == 3 and len(digits[2]) == 4:
            first, second = int(digits[0]), int(digits[1])
            day, month = (first, second) if first > 12 else (second, first)
            return dt.date(int(digits[2]), month, day)
    except ValueError:
        return None
    return None


def _first(read: Callable[[str], str | None], words: Sequence[str]) -> str | None:
    """The first value `read` finds in one, two or three consecutive words."""
    for i in range(len(words)):
        for width in (3, 2, 1):
            if i + width <= len(words) and (value := read("".join(words[i : i + width]))):
                return value
    return None


def _res_of(word: str) -> str | None:
    if word in ("4k", "uhd"):
        return "2160p"
    return _resolution(word) if _RES_RE.match(word) else None


def _codec_of(word: str) -> str | None:
    known = _COMPACT.get(word.replace("-", ""))
    if known is not None and known[0] == "codec":
        return known[1]
    return {"mpeg2": "MPEG-2", "vc1": "VC-1", "h263": "H.263", "mpeg4": "MPEG-4"}.get(word)


def _source_of(word: str) -> str | None:
    known = _COMPACT.get(word)
    if known is not None and known[0] == "source":
        return known[1]
    return _MORE_SOURCES.get(word)


def _source(words: Sequence[str]) -> str | None:
    source = _first(_source_of, words)
    if source is not None and any(w.endswith("rip") for w in words):
        source = _RIPPED.get(source, source)  # "BD Rip", "Web Rip" as two words
    return source


def _audio(words: Sequence[str]) -> str | None:
    """Audio words ("dts", "hd", "ma", "5", "1") in titles.py's spelling ("DTS-HD MA 5.1")."""
    codecs: list[str] = []
    channels: str | None = None
    profile = False
    i = 0
    while i < len(words):
        word, nxt = words[i], words[i + 1] if i + 1 < len(words) else ""
        if m := _AUDIO_RE.match(word):
            codec = _AUDIO_NAMES[m.group(1)]
            if codec == "DTS" and nxt in ("hd", "x"):
                codec, i = ("DTS-HD" if nxt == "hd" else "DTS:X"), i + 1
            codecs.append(codec)
            if m.group(2) and i + 1 < len(words) and words[i + 1] in ("0", "1"):
                channels, i = channels or f"{m.group(2)}.{words[i + 1]}", i + 1
        elif word == "ma":
            profile = True
        elif word in _CHANNELS:
            channels = channels or _CHANNELS[word]
        elif len(word) == 1 and word.isdigit() and nxt in ("0", "1"):
            channels, i = channels or f"{word}.{nxt}", i + 1
        i += 1
    codecs = list(dict.fromkeys(codecs))
    if not codecs:
        return None
    if profile and codecs[0] in ("DTS-HD", "DTS"):
        codecs.insert(1, "MA")
    return " ".join(codecs + ([channels] if channels else []))


def _languages(words: Sequence[str]) -> tuple[str, ...]:
    codes = []
    for word in words:
        known = _KNOWN.get((word,))
        code = known[1] if known and known[0] in ("lang", "dl") else _MORE_LANGS.get(word)
        if code:
            codes.append(code)
    return tuple(dict.fromkeys(codes))


def _flags(words: Sequence[str]) -> tuple[str, ...]:
    found: list[str] = []
    editions: list[str] = []
    i = 0
    while i < len(words):
        step = 1
        for width in (2, 1):
            key = "".join(words[i : i + width])
            known = _COMPACT.get(key) if i + width <= len(words) else None
            if known is not None and known[0] in ("flag", "edition"):
                (editions if known[0] == "edition" else found).append(known[1])
            elif i + width <= len(words) and key in _MORE_FLAGS:
                found.append(_MORE_FLAGS[key])
            else:
                continue
            step = width
            break
        i += step
    first = [f for f in ("REPACK", "PROPER") if f in found]
    return tuple(dict.fromkeys(first + found + editions))
