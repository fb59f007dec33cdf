"""Golden tests: `parse_title` against labelled release-name corpora.

Corpora (tests/fixtures/titles, provenance in tests/fixtures/MANIFEST.tsv):

* parse-torrent-name's 76 real torrent names with expected fields (ptn_*.json);
* guessit's own movie and episode test cases (guessit_*.yml). Entries that are file
  paths (contain "/" or "\\"), that need guessit options, or that are negative cases
  ("-name") are left out: a torrent title is a name parsed with default options.

Each field is compared after normalizing both sides to the same spelling (the
normalizers are here, independent of engine/classify/titles.py). The thresholds are
the measured agreement rounded down, so a regression fails; disagreements are printed
(run with -rP or -s to see them on success).

The corpora measure `parse_title` as shipped: the fast parser (engine/classify/fast.py)
where it is confident, guessit elsewhere. tests/engine/classify/test_fast.py measures
the fast parser alone and guessit alone beside it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.classify import titles as titles_module
from engine.classify.titles import ParsedTitle, parse_title

TITLES = Path(__file__).resolve().parents[2] / "fixtures" / "titles"


@dataclass(frozen=True)
class Case:
    name: str
    expected: dict[str, object]


# ---------------------------------------------------------------- corpus loading


def ptn_cases() -> list[Case]:
    inputs = json.loads((TITLES / "ptn_input.json").read_text("utf-8"))
    outputs = json.loads((TITLES / "ptn_output.json").read_text("utf-8"))
    assert len(inputs) == len(outputs) == 76
    return [Case(name, expected) for name, expected in zip(inputs, outputs, strict=True)]


def _scalar(text: str) -> object:
    text = text.strip()
    if text[:1] not in ("'", '"'):
        text = text.split(" #", 1)[0].strip()  # an inline comment
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(part) for part in text[1:-1].split(",") if part.strip()]
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return json.loads(text)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def read_guessit_yml(path: Path) -> list[tuple[str, dict[str, object]]]:
    """(name, expected fields) from guessit's test YAML (the subset of YAML it uses).

    PyYAML is not a dependency; guessit's files only use `? key` / `: field: value`
    blocks, indented `field: value` lines, inline `[a, b]` lists and `- item` lists.
    As in guessit's own runner, keys with no block share the next key's block.
    """
    entries: list[tuple[str, dict[str, object] | None]] = []
    fields: dict[str, object] | None = None
    last: str | None = None
    for raw in path.read_text("utf-8").splitlines():
        line = raw.rstrip()
        if not line or line.lstrip().startswith("#"):
            continue
        if line.startswith("? "):
            fields, last = None, None
            entries.append((str(_scalar(line[2:])), None))
            continue
        if fields is None:
            fields = {}
            entries[-1] = (entries[-1][0], fields)
        body = line[2:] if line.startswith(": ") else line
        stripped = body.strip()
        if stripped.startswith("- ") and last is not None:
            current = fields.get(last)
            items = current if isinstance(current, list) else []
            items.append(_scalar(stripped[2:]))
            fields[last] = items
            continue
        key, sep, value = stripped.partition(":")
        if sep and re.fullmatch(r"[a-z_0-9]+", key):
            last = key
            fields[key] = _scalar(value) if value.strip() else []
    shared: dict[str, object] = {}
    result = []
    for name, block in reversed(entries):
        shared = block if block is not None else shared
        result.append((name, shared))
    return result[::-1]


def guessit_cases(filename: str) -> list[Case]:
    entries = dict(read_guessit_yml(TITLES / filename))
    default = entries.pop("__default__", {})
    cases = []
    for name, fields in entries.items():
        if name.startswith("-") or "/" in name or "\\" in name or "options" in fields:
            continue
        cases.append(Case(name, {**default, **fields}))
    return cases


# ---------------------------------------------------------------- normalizers


def _first(value: object) -> object:
    return value[0] if isinstance(value, list) and value else value


def _int(value: object) -> int:
    return int(str(value))


def _norm_text(value: object) -> str:
    return re.sub(r"[\W_]+", " ", str(value)).strip().casefold()


def _height(value: object) -> int | None:
    match = re.search(r"(\d{3,4})[pi]$|x(\d{3,4})$", str(value).strip().lower())
    if match is None:
        return 2160 if str(value).lower() in ("4k", "uhd") else None
    height = int(match.group(1) or match.group(2))
    return next((step for step in (2160, 1440, 1080, 720, 576, 480, 360) if height >= step), 0)


_CODECS = {"x264": "H.264", "h264": "H.264", "avc": "H.264", "x265": "H.265", "h265": "H.265"}
_CODECS |= {"hevc": "H.265", "xvid": "Xvid", "divx": "DivX"}


def _codec(value: object) -> str:
    text = str(_first(value)).lower().replace(".", "").replace("-", "")
    return _CODECS.get(text, str(_first(value)))


_FAMILIES = (
    ("bluray", r"blu-?ray|br-?rip|bd-?rip|bdremux|^bd"),
    ("web", r"web"),
    ("tv", r"hdtv|pdtv|sdtv|dvb|ppv|^tv$|digital tv|satellite|^sat$"),
    ("dvd", r"dvd"),
    ("hdrip", r"hd-?rip"),
    ("cam", r"cam"),
    ("ts", r"^(?:hd)?ts$|telesync"),
)


def _families(value: object) -> frozenset[str]:
    parts = value if isinstance(value, list) else re.split(r"[\s.]+", str(value))
    return frozenset(
        family
        for part in parts
        for family, pattern in _FAMILIES
        if re.search(pattern, str(part).lower())
    )


def _audio_codec(value: object) -> str | None:
    text = str(value).lower()
    for pattern, codec in (("dd|ac3", "DD"), ("aac", "AAC"), ("dts", "DTS"), ("mp3", "MP3")):
        if re.match(pattern, text):
            return codec
    return None


# Each field: how to read the expected label, how to read our parse, both normalized.
Getter = Callable[[ParsedTitle], object]
PTN_FIELDS: dict[str, tuple[Callable[[object], object], Getter]] = {
    "year": (_int, lambda p: p.year),
    "season": (_int, lambda p: p.season),
    "episode": (_int, lambda p: p.episode),
    "resolution": (_height, lambda p: _height(p.resolution or "")),
    "codec": (_codec, lambda p: p.video_codec),
    "quality": (_families, lambda p: _families(p.media_source or "")),
    "audio": (_audio_codec, lambda p: _audio_codec(p.audio or "")),
    "group": (_norm_text, lambda p: _norm_text(p.release_group or "")),
    "title": (_norm_text, lambda p: _norm_text(p.title)),
}
GUESSIT_FIELDS: dict[str, tuple[Callable[[object], object], Getter]] = {
    "title": (_norm_text, lambda p: _norm_text(p.title)),
    "type": (str, lambda p: p.guessit_type),
    "year": (_first, lambda p: p.year),
    "season": (_first, lambda p: p.season),
    "episode": (_first, lambda p: p.episode),
    "screen_size": (_height, lambda p: _height(p.resolution or "")),
    "video_codec": (_first, lambda p: p.video_codec),
    "source": (_families, lambda p: _families(p.media_source or "")),
    "release_group": (_norm_text, lambda p: _norm_text(p.release_group or "")),
}

# Measured agreement with guessit 4.4.0 (see the module docstring), rounded down to the
# percent. Keys: (corpus, field). Known misses, printed by the test: PTN labels a year on
# daily shows ("WWE Raw 2014 11 10"), which we keep as a date; PTN keeps numbers in titles
# ("UFC 179"); guessit reads "Kampen Om Tungtvannet ... COMPLETE" as an episode.
THRESHOLDS = {
    ("ptn", "year"): 0.95,
    ("ptn", "season"): 1.00,
    ("ptn", "episode"): 1.00,
    ("ptn", "resolution"): 1.00,
    ("ptn", "codec"): 1.00,
    ("ptn", "quality"): 1.00,
    ("ptn", "audio"): 1.00,
    ("ptn", "group"): 1.00,
    ("ptn", "title"): 0.96,
    ("guessit", "title"): 1.00,
    ("guessit", "type"): 0.99,
    ("guessit", "year"): 1.00,
    ("guessit", "season"): 1.00,
    ("guessit", "episode"): 1.00,
    ("guessit", "screen_size"): 1.00,
    ("guessit", "video_codec"): 1.00,
    ("guessit", "source"): 1.00,
    ("guessit", "release_group"): 1.00,
}


@dataclass(frozen=True)
class Score:
    agreed: int
    total: int
    misses: tuple[str, ...]

    @property
    def rate(self) -> float:
        return self.agreed / self.total if self.total else 1.0


def score(
    cases: list[Case],
    field: str,
    read: tuple[Callable[[object], object], Getter],
    parse: Callable[[str], ParsedTitle | None] = parse_title,
) -> Score:
    """Agreement of `parse` with the labels; a case `parse` declines (None) is not counted."""
    expect_of, ours_of = read
    agreed, misses = 0, []
    # A label our normalizer cannot read ("Dual-Audio" as audio, "WBBRip") is not counted.
    labelled = [
        (case, expect_of(case.expected[field]))
        for case in cases
        if field in case.expected and expect_of(case.expected[field]) not in (None, frozenset())
    ]
    for case, expected in labelled:
        parsed = parse(case.name)
        if parsed is None:
            continue
        ours = ours_of(parsed)
        if expected == ours or (isinstance(expected, frozenset) and expected & ours):  # type: ignore[operator]
            agreed += 1
        else:
            misses.append(f"{case.name!r}: expected {expected!r}, got {ours!r}")
    return Score(agreed, agreed + len(misses), tuple(misses))


CORPORA = {
    "ptn": (ptn_cases, PTN_FIELDS),
    "guessit": (
        lambda: guessit_cases("guessit_movies.yml") + guessit_cases("guessit_episodes.yml"),
        GUESSIT_FIELDS,
    ),
}


@pytest.mark.parametrize(("corpus", "field"), sorted(THRESHOLDS))
def test_field_agreement(corpus: str, field: str) -> None:
    load, fields = CORPORA[corpus]
    result = score(load(), field, fields[field])
    # The disagreements are printed beside the rate (pytest -rP shows them).
    print(f"{corpus}.{field}: {result.agreed}/{result.total} = {result.rate:.1%}")  # noqa: T201
    for miss in result.misses:
        print("  -", miss)  # noqa: T201
    assert result.total > 0
    assert result.rate >= THRESHOLDS[corpus, field], "\n".join(result.misses)


def test_corpus_reader_finds_the_cases() -> None:
    movies = guessit_cases("guessit_movies.yml")
    episodes = guessit_cases("guessit_episodes.yml")
    assert len(movies) == 152
    assert len(episodes) == 390
    walking = next(case for case in episodes if case.name.startswith("Wheels.S03E01E02.720p"))
    assert walking.expected["episode"] == [1, 2]
    assert walking.expected["type"] == "episode"


def test_print_throughput() -> None:
    """Not an assertion: titles/s of uncached parse_title over the corpus names."""
    names = list(
        dict.fromkeys(
            [case.name for case in ptn_cases()]
            + [case.name for case in guessit_cases("guessit_movies.yml")]
            + [case.name for case in guessit_cases("guessit_episodes.yml")]
        )
    )
    titles_module._parse_clean.cache_clear()
    started = time.perf_counter()
    for name in names:
        parse_title(name)
    elapsed = time.perf_counter() - started
    rate = len(names) / elapsed
    print(f"parse_title: {len(names)} distinct titles, {elapsed:.2f} s, {rate:.0f}/s")  # noqa: T201
