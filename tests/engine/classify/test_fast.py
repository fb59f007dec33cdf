"""Tests for engine.classify.fast: the fast parser alone, beside guessit and combined.

Accuracy is measured on the labelled corpora of test_corpus.py, three ways per field:

* fast: `fast_parse` alone, counted only on the titles where it is confident;
* guessit: `guessit_parse` alone (the pipeline before the fast parser);
* combined: `parse_title` as shipped (fast, else guessit).

Thresholds are the measured rates rounded down, so a regression fails; combined may not
fall more than a point under guessit on any field. Run with -s to see the table.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable

import pytest

from engine.classify import titles as titles_module
from engine.classify.fast import fast_parse
from engine.classify.titles import ParsedTitle, clean_title, guessit_parse, parse_title
from tests.engine.classify.test_corpus import CORPORA, Case, score


@functools.cache
def _cases(corpus: str) -> tuple[Case, ...]:
    return tuple(CORPORA[corpus][0]())


def _fast(name: str) -> ParsedTitle | None:
    return fast_parse(clean_title(name))


@functools.cache
def _guessit(name: str) -> ParsedTitle:
    return guessit_parse(clean_title(name))


PARSERS: dict[str, Callable[[str], ParsedTitle | None]] = {
    "fast": _fast,
    "guessit": _guessit,
    "combined": parse_title,
}

# The fast parser alone agreed with every label on the titles it was confident on (100%
# on every field of both corpora), so any miss fails; list a (corpus, field) here with a
# lower measured rate only with a reason. Its confident share, measured and rounded down:
# guessit's corpus is made of hard cases on purpose, PTN's of real torrent names.
FAST_THRESHOLDS: dict[tuple[str, str], float] = {}
CONFIDENT_SHARE = {"ptn": 0.39, "guessit": 0.09}


def _rate(corpus: str, field: str, parser: str) -> tuple[float, int]:
    result = score(list(_cases(corpus)), field, CORPORA[corpus][1][field], PARSERS[parser])
    for miss in result.misses:
        print(f"  {parser} miss -", miss)  # noqa: T201
    return result.rate, result.total


FIELDS = [(corpus, field) for corpus, (_, fields) in CORPORA.items() for field in fields]


@pytest.mark.parametrize(("corpus", "field"), FIELDS)
def test_fast_parser_accuracy(corpus: str, field: str) -> None:
    rates = {parser: _rate(corpus, field, parser) for parser in PARSERS}
    line = "  ".join(f"{p} {r:.1%} of {n}" for p, (r, n) in rates.items())
    print(f"{corpus}.{field}: {line}")  # noqa: T201
    fast_rate, fast_total = rates["fast"]
    if fast_total:
        assert fast_rate >= FAST_THRESHOLDS.get((corpus, field), 1.0)
    assert rates["combined"][0] >= rates["guessit"][0] - 0.01


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_confident_share(corpus: str) -> None:
    names = [case.name for case in _cases(corpus)]
    share = sum(_fast(name) is not None for name in names) / len(names)
    print(f"{corpus}: fast parser confident on {share:.1%} of {len(names)} titles")  # noqa: T201
    assert share >= CONFIDENT_SHARE[corpus]


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_fast_equals_guessit_where_confident(corpus: str) -> None:
    """Interchangeable: every field, not only the labelled ones, as guessit's path has it."""
    differ = []
    for case in _cases(corpus):
        fast = _fast(case.name)
        if fast is not None and fast != _guessit(case.name):
            differ.append(f"{case.name!r}: fast {fast!r} / guessit {_guessit(case.name)!r}")
    assert differ == []


# ---------------------------------------------------------------- unit tests

T = ParsedTitle
UNIT_CASES: list[tuple[str, dict[str, object]]] = [
    ("The.Walking.Dead.S05E03.720p.HDTV.x264-ASAP",
     {"title": "The Walking Dead", "season": 5, "episode": 3, "resolution": "720p",
      "video_codec": "H.264", "media_source": "HDTV", "release_group": "ASAP",
      "guessit_type": "episode"}),
    ("Show.S01E01E02.720p.HDTV.x264-GRP", {"episodes": (1, 2), "season": 1}),
    ("Show.S01E01-E03.720p.HDTV.x264-GRP", {"episodes": (1, 2, 3)}),
    ("Show.S01E01E02E03.FRENCH.1080p.WEB.H264-GRP", {"episodes": (1, 2, 3), "languages": ("fr",)}),
    ("Downton.Abbey.5x06.HDTV.x264-FoV", {"title": "Downton Abbey", "season": 5, "episode": 6}),
    ("Show.2024.01.15.720p.WEB.h264-GRP",
     {"title": "Show", "date": dt.date(2024, 1, 15), "year": None, "guessit_type": "episode"}),
    ("Show.2019.03.12.Guest.Name.720p.WEB.h264-GRP", {"date": dt.date(2019, 3, 12)}),
    ("[SubsPlease] Frieren - 12 (1080p) [F00DCAFE].mkv",
     {"title": "Frieren", "episode": 12, "release_group": "SubsPlease", "container": "mkv",
      "resolution": "1080p"}),
    ("[Erai-raws] Spy Family - 05 [1080p][ABCD1234].mkv",
     {"title": "Spy Family", "episode": 5, "release_group": "Erai-raws"}),
    ("Game.of.Thrones.S01-S08.1080p.BluRay.x265-GRP", {"seasons": tuple(range(1, 9))}),
    ("Show.S02.1080p.WEB-DL.DDP5.1.H.264-GRP",
     {"season": 2, "episode": None, "media_source": "WEB-DL", "audio": "DD+ 5.1"}),
    ("Show.Season.2.1080p.WEB.x264-GRP", {"season": 2, "media_source": "WEB-DL"}),
    ("Inception.2010.1080p.BluRay.x264-SPARKS",
     {"title": "Inception", "year": 2010, "media_source": "BluRay", "guessit_type": "movie"}),
    ("Movie (2010) [1080p]", {"title": "Movie", "year": 2010, "resolution": "1080p"}),
    ("Hercules (2014) 1080p BrRip H264 - YIFY",
     {"title": "Hercules", "media_source": "BDRip", "release_group": "YIFY"}),
    ("Movie.2010.720p.BDRip.x264-GRP", {"media_source": "BDRip"}),
    ("Movie.2010.1080p.WEBRip.x264-GRP", {"media_source": "WEBRip"}),
    ("Movie.2010.DVDRip.XviD-GRP.avi",
     {"media_source": "DVDRip", "video_codec": "Xvid", "container": "avi"}),
    ("Movie.2010.HDRip.XviD-GRP", {"media_source": "HDRip"}),
    ("Movie.2010.CAM.XviD-GRP", {"media_source": "CAM"}),
    ("Movie.2010.1080p.BluRay.HEVC-GRP", {"video_codec": "H.265"}),
    ("Movie.2010.1080p.BluRay.10bit.x265-GRP", {"video_codec": "H.265"}),
    ("Movie.2021.1080p.WEB.AV1.Opus-GRP", {"video_codec": "AV1", "audio": "Opus"}),
    ("Movie.2019.1080p.BluRay.DTS-HD.MA.7.1.x264-GRP", {"audio": "DTS-HD MA 7.1"}),
    ("Oppenheimer.2023.2160p.UHD.BluRay.REMUX.HDR.DV.TrueHD.Atmos.7.1-FGT",
     {"audio": "TrueHD Atmos 7.1", "media_source": "UHD BluRay", "resolution": "2160p",
      "flags": ("Remux", "HDR", "DV"), "release_group": "FGT"}),
    ("Le.Film.2010.1080p.WEB-DL.AAC2.0.H.264-GRP", {"audio": "AAC 2.0", "video_codec": "H.264"}),
    ("Movie.2010.MULTi.1080p.BluRay.FLAC.x264-GRP", {"audio": "FLAC", "languages": ("mul",)}),
    ("Movie.2011.German.DL.1080p.BluRay.x264-GRP", {"languages": ("de", "mul")}),
    ("Movie.2010.REPACK.1080p.BluRay.x264-GRP", {"flags": ("REPACK",)}),
    ("Movie.2010.PROPER.1080p.BluRay.x264-GRP", {"flags": ("PROPER",)}),
    ("Movie.2014.EXTENDED.1080p.BluRay.x264-GRP", {"flags": ("Extended",)}),
    ("Avatar.2009.3D.HSBS.1080p.BluRay.x264-GRP", {"flags": ("3D",)}),
    ("Movie.2019.4K.WEB-DL.x265-GRP", {"resolution": "2160p"}),
    ("Movie.2010.1080p.BluRay.x264.AAC5.1-[YTS.MX]", {"release_group": "YTS.MX"}),
    ("Show S08E06 HDTV XviD-LOL [eztv]", {"release_group": "LOL [eztv]"}),
    ("Movie (2023) [1080p] [WEBRip] [5.1] [YTS.MX]",
     {"year": 2023, "media_source": "WEBRip", "release_group": "YTS.MX"}),
    ("The Heartbreak Kid (1993) UNCUT 720p WEBRip x264", {"flags": ("Uncut",)}),
    ("Movie.2023.2160p.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX",
     {"audio": "DD+ Atmos 5.1", "flags": ("DV", "HDR"), "video_codec": "H.265"}),
]  # fmt: skip

DECLINED = [
    "",
    "Title",
    "NoSeparatorsAtAll2010",
    "UFC.179.PPV.HDTV.x264-Ebi",  # a number in the title
    "2012.2009.1080p.BluRay.x264-GRP",  # a year as the title
    "Movie.2010.2011.1080p.BluRay.x264-GRP",  # two years
    "Marvels.Agents.of.S.H.I.E.L.D.S01E06.720p.HDTV.X264-DIMENSION",  # acronym dots
    "Movie.CONVERT.2010.720p.HDTV.x264-GRP",  # a scene tag in the title
    "Movie.2010.1080p.Some.Unknown.Words.x264-GRP",  # free words among technical ones
    "X-Men.2000.1080p.BluRay.x264-GRP",  # a dash in the title
    "Café.2010.1080p.BluRay.x264-GRP",  # not ASCII
    "映画.2020.1080p.BluRay",
    "[Group] Show S2 - 05 [1080p]",
    "[Group] Show - 05 [BD 1080p FLAC]",  # a tag we do not read
    "Show.S01E01-02.720p.HDTV",  # an ambiguous range
]


@pytest.mark.parametrize(("title", "expected"), UNIT_CASES)
def test_fast_parse_fields(title: str, expected: dict[str, object]) -> None:
    parsed = fast_parse(clean_title(title))
    assert parsed is not None
    for field, value in expected.items():
        assert getattr(parsed, field) == value, field
    # Interchangeable: the same ParsedTitle guessit's path gives (guessit ignores AV1).
    if parsed.video_codec != "AV1":
        assert parsed == _guessit(title)


@pytest.mark.parametrize("title", DECLINED)
def test_fast_parse_declines_unusual_titles(title: str) -> None:
    assert fast_parse(clean_title(title)) is None


@pytest.mark.parametrize(
    "junk",
    ["", " ", "a" * 10_000, "S01E01 " * 2_000, "1" * 5_000, "[[[((" * 300, "🎬 2020 2160p",
     "-" * 50, "Movie.9999.1080p", "S999999E999999", "Show.2019.13.45.720p", "x264-", "-GRP",
     "[] - 01", "Movie..2010..1080p", "Show.S01E05-E02.720p", "a.b", "(2010)", "[GRP]"],
)  # fmt: skip
def test_fast_parse_never_raises(junk: str) -> None:
    parsed = fast_parse(junk)
    assert parsed is None or isinstance(parsed, ParsedTitle)
    parsed = fast_parse(clean_title(junk))
    assert parsed is None or isinstance(parsed, ParsedTitle)


def test_switch_sends_everything_to_guessit(monkeypatch: pytest.MonkeyPatch) -> None:
    title = "Inception.2010.1080p.BluRay.x264-SPARKS"
    monkeypatch.setattr(titles_module, "USE_FAST_PARSER", False)
    titles_module._parse_clean.cache_clear()
    assert parse_title(title) == _guessit(title)
    titles_module._parse_clean.cache_clear()


def _distinct_titles() -> list[str]:
    from bench.bench_titles import realistic_titles

    return [clean_title(name) for name in realistic_titles(1_500)]


def test_print_throughput() -> None:
    """Not an assertion on speed: titles/s of the fast parser and of uncached parse_title."""
    texts = _distinct_titles()
    started = time.perf_counter()
    confident = sum(fast_parse(text) is not None for text in texts)
    fast_rate = len(texts) / (time.perf_counter() - started)
    titles_module._parse_clean.cache_clear()
    started = time.perf_counter()
    for text in texts:
        parse_title(text)
    combined_rate = len(texts) / (time.perf_counter() - started)
    titles_module._parse_clean.cache_clear()
    print(  # noqa: T201
        f"{len(texts)} distinct titles: fast_parse {fast_rate:,.0f}/s "
        f"(confident on {confident / len(texts):.1%}), parse_title {combined_rate:,.0f}/s"
    )
    assert len(texts) >= 1_000
