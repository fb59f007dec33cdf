"""Tests for engine.classify.fast: the fast parser alone, beside guessit and combined.

Accuracy is measured on the labelled corpora of test_corpus.py, three ways per field:

* fast: `fast_parse` alone, counted only on the titles where it is confident;
* guessit: `guessit_parse` alone (the pipeline before the fast parser);
* combined: `parse_title` as shipped (fast, else guessit).

Thresholds are the measured rates rounded down, so a regression fails; combined may not
fall more than a point under guessit on any field. Run with -s to see the table.

The golden cases below hold one name per shape the parser reads (each also compared
with guessit's answer, field by field), and one per shape it declines on purpose.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable
from dataclasses import fields

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
# lower measured rate only with a reason.
FAST_THRESHOLDS: dict[tuple[str, str], float] = {}

# Confident share and agreement with guessit, measured (PTN 52/76 = 68.4%, guessit's
# corpora 131/542 = 24.2%, both 100% equal to guessit) and rounded down. guessit's
# corpora are made of hard cases on purpose, PTN's of real torrent names.
CONFIDENT_SHARE = {"ptn": 0.68, "guessit": 0.24}
AGREEMENT = {"ptn": 1.0, "guessit": 1.0}


def _rate(corpus: str, field: str, parser: str) -> tuple[float, int]:
    result = score(list(_cases(corpus)), field, CORPORA[corpus][1][field], PARSERS[parser])
    for miss in result.misses:
        print(f"  {parser} miss -", miss)  # noqa: T201
    return result.rate, result.total


FIELDS = [(corpus, field) for corpus, (_, fields_) in CORPORA.items() for field in fields_]


@pytest.mark.parametrize(("corpus", "field"), FIELDS)
def test_fast_parser_accuracy(corpus: str, field: str) -> None:
    rates = {parser: _rate(corpus, field, parser) for parser in PARSERS}
    line = "  ".join(f"{p} {r:.1%} of {n}" for p, (r, n) in rates.items())
    print(f"{corpus}.{field}: {line}")  # noqa: T201
    fast_rate, fast_total = rates["fast"]
    if fast_total:
        assert fast_rate >= FAST_THRESHOLDS.get((corpus, field), 1.0)
    assert rates["combined"][0] >= rates["guessit"][0] - 0.01


def _differences(fast: ParsedTitle, other: ParsedTitle) -> dict[str, tuple[object, object]]:
    return {
        f.name: (getattr(fast, f.name), getattr(other, f.name))
        for f in fields(ParsedTitle)
        if getattr(fast, f.name) != getattr(other, f.name)
    }


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_confident_share_and_agreement(corpus: str) -> None:
    """How much the fast parser answers, and that it answers as guessit on every field."""
    names = [case.name for case in _cases(corpus)]
    answered = [(name, parsed) for name in names if (parsed := _fast(name)) is not None]
    equal = sum(parsed == _guessit(name) for name, parsed in answered)
    share, agreement = len(answered) / len(names), equal / max(1, len(answered))
    print(  # noqa: T201
        f"{corpus}: fast parser confident on {len(answered)}/{len(names)} = {share:.1%}, "
        f"equal to guessit on {equal}/{len(answered)} = {agreement:.1%}"
    )
    assert share >= CONFIDENT_SHARE[corpus]
    assert agreement >= AGREEMENT[corpus]


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_fast_equals_guessit_where_confident(corpus: str) -> None:
    """Interchangeable: every field, not only the labelled ones, as guessit's path has it."""
    differ = []
    for case in _cases(corpus):
        fast = _fast(case.name)
        if fast is not None and fast != _guessit(case.name):
            differ.append(f"{case.name!r}: {_differences(fast, _guessit(case.name))}")
    assert differ == []


# ---------------------------------------------------------------- golden cases

UNIT_CASES: list[tuple[str, dict[str, object]]] = [
    # Scene movies and episodes.
    ("The.Walking.Dead.S05E03.720p.HDTV.x264-ASAP",
     {"title": "The Walking Dead", "season": 5, "episode": 3, "resolution": "720p",
      "video_codec": "H.264", "media_source": "HDTV", "release_group": "ASAP",
      "guessit_type": "episode"}),
    ("Inception.2010.1080p.BluRay.x264-SPARKS",
     {"title": "Inception", "year": 2010, "media_source": "BluRay", "guessit_type": "movie"}),
    ("Movie (2010) [1080p]", {"title": "Movie", "year": 2010, "resolution": "1080p"}),
    ("Hercules (2014) 1080p BrRip H264 - YIFY",
     {"title": "Hercules", "media_source": "BDRip", "release_group": "YIFY"}),
    # Accented, Cyrillic and CJK titles: one script, plain structure around it.
    ("Café.2010.1080p.BluRay.x264-GRP", {"title": "Café", "year": 2010}),
    ("Le.Fabuleux.Destin.d'Amélie.Poulain.2001.1080p.BluRay.x264-GRP",
     {"title": "Le Fabuleux Destin d'Amélie Poulain"}),
    ("Игра.престолов.S01E01.1080p.WEB-DL.x264-GRP", {"title": "Игра престолов", "season": 1}),
    ("千と千尋の神隠し.2001.1080p.BluRay.x264-GRP", {"title": "千と千尋の神隠し", "year": 2001}),
    ("映画.2020.1080p.BluRay", {"title": "映画", "release_group": None}),
    # Numbers and dashes in titles, where guessit keeps them.
    ("Blade.Runner.2049.2017.1080p.BluRay.x264-GRP",
     {"title": "Blade Runner 2049", "year": 2017}),
    ("9-1-1.S01E01.720p.HDTV.x264-GRP", {"title": "9-1-1", "episode": 1}),
    ("The.100.S01E01.720p.HDTV.x264-GRP", {"title": "The 100", "season": 1}),
    ("22 Jump Street (2014) 720p BrRip x264 - YIFY", {"title": "22 Jump Street", "year": 2014}),
    ("Movie.2.2014.1080p.BluRay.x264-GRP", {"title": "Movie 2", "year": 2014}),
    ("X-Men.2000.1080p.BluRay.x264-GRP", {"title": "X-Men"}),
    ("2012.2009.1080p.BluRay.x264-GRP", {"title": "2012", "year": 2009}),
    ("24.S05E07.FRENCH.DVDRip.XviD-FiXi0N.avi", {"title": "24", "languages": ("fr",)}),
    # DVD sources; NTSC/PAL are read and dropped, as guessit's "other" values.
    ("Movie.2010.DVD5.x264-GRP", {"media_source": "DVD"}),
    ("Movie.2010.PAL.DVDR-GRP", {"media_source": "DVD", "flags": ()}),
    ("Movie.2010.NTSC.DVD9-GRP", {"media_source": "DVD"}),
    ("Movie.2010.DVDRip.XviD-GRP.avi",
     {"media_source": "DVDRip", "video_codec": "Xvid", "container": "avi"}),
    ("Movie.2010.DVDScr.XviD-GRP", {"media_source": "DVDScr", "flags": ("Screener",)}),
    ("Show S01E06 DVD-Rip x264-GRP", {"media_source": "DVDRip"}),
    # Other sources.
    ("Movie.2010.1080p.BDRip.x264-GRP", {"media_source": "BDRip"}),
    ("Movie.2010.1080p.WEBRip.x264-GRP", {"media_source": "WEBRip"}),
    ("Movie.2010.720p.WEB.DL.x264-GRP", {"media_source": "WEB-DL"}),
    ("Movie.2010.HDRip.XviD-GRP", {"media_source": "HDRip"}),
    ("Movie.2010.CAM.XviD-GRP", {"media_source": "CAM"}),
    ("Movie.2010.TELESYNC.XviD-GRP", {"media_source": "TS"}),
    ("Show.S01E03.1080p.DM.AAC2.0.x264-GRP", {"media_source": "DM"}),
    ("Movie.2019.4K.WEB-DL.x265-GRP", {"resolution": "2160p"}),
    # Anime / fansub shapes.
    ("[SubsPlease] Frieren - 12 (1080p) [F00DCAFE].mkv",
     {"title": "Frieren", "episode": 12, "release_group": "SubsPlease", "container": "mkv",
      "resolution": "1080p"}),
    ("[Erai-raws] Spy Family - 05 [1080p][ABCD1234].mkv",
     {"title": "Spy Family", "episode": 5, "release_group": "Erai-raws"}),
    ("[Group] Show S2 - 05 [1080p]", {"season": 2, "episode": 5}),
    ("[Group] Show - 05v2 [1080p]", {"episode": 5}),
    ("[Group] Show - 05-08 [1080p]", {"episodes": (5, 6, 7, 8)}),
    ("[Group] Show - 1071 (1080p)", {"episode": 1071}),
    ("[Group]_Show_Name_-_12_[720p][5DDC1352].mkv", {"title": "Show Name", "episode": 12}),
    ("[Group] Show Name 12 [720p]", {"title": "Show Name", "episode": 12}),
    ("Show Name - 12 [720p]", {"title": "Show Name", "episode": 12, "release_group": None}),
    ("[Group] Show - 05 [BD 1080p FLAC]", {"media_source": "BluRay", "audio": "FLAC"}),
    ("[Group] Show - 05 (1920x1080 HEVC AAC)", {"video_codec": "H.265", "audio": "AAC"}),
    ("[Group] Show - 05 (1080p) [Multiple Subtitle]", {"languages": ()}),
    # Multi-episode, ranges and other markers.
    ("Show.S01E01E02.720p.HDTV.x264-GRP", {"episodes": (1, 2), "season": 1}),
    ("Show.S01E01-E03.720p.HDTV.x264-GRP", {"episodes": (1, 2, 3)}),
    ("Show.S01E01-02.720p.HDTV", {"episodes": (1, 2)}),
    ("Show.S01E01.E02.720p.HDTV.x264-GRP", {"episodes": (1, 2)}),
    ("Show.S01E02.S01E03.720p.HDTV.x264-GRP", {"episodes": (2, 3)}),
    ("Show.S01E01E02E03.FRENCH.1080p.WEB.H264-GRP", {"episodes": (1, 2, 3), "languages": ("fr",)}),
    ("Downton.Abbey.5x06.HDTV.x264-FoV", {"title": "Downton Abbey", "season": 5, "episode": 6}),
    ("Show.1x02x03.720p.HDTV.x264-GRP", {"episodes": (2, 3)}),
    ("Show.S6.Ep5.720p.HDTV.x264-GRP", {"season": 6, "episode": 5}),
    ("Show.E05.720p.HDTV.x264-GRP", {"season": None, "episode": 5}),
    ("Show.S01E03.Some.Title.720p.HDTV.x264-GRP", {"title": "Show", "episode": 3}),
    ("Sons of Anarchy - S01E03 - Some Title", {"title": "Sons of Anarchy", "episode": 3}),
    ("Show.S01E01.Pilot.720p.HDTV.x264-GRP", {"episode": 1}),
    ("Doctor.Who.2005.S08E11.720p.HDTV.x264-FoV", {"year": 2005, "season": 8}),
    # Season packs.
    ("Game.of.Thrones.S01-S08.1080p.BluRay.x265-GRP", {"seasons": tuple(range(1, 9))}),
    ("Show.S01-03.720p.HDTV.x264-GRP", {"seasons": (1, 2, 3)}),
    ("Show.S02.1080p.WEB-DL.DDP5.1.H.264-GRP",
     {"season": 2, "episode": None, "media_source": "WEB-DL", "audio": "DD+ 5.1"}),
    ("Show.Season.2.1080p.WEB.x264-GRP", {"season": 2, "media_source": "WEB-DL"}),
    ("Show.Season.1-3.720p.HDTV.x264-GRP", {"seasons": (1, 2, 3)}),
    ("Show.S01.COMPLETE.720p.BluRay.x264-GRP", {"season": 1, "flags": ("Complete",)}),
    # Daily shows.
    ("Show.2024.01.15.720p.WEB.h264-GRP",
     {"title": "Show", "date": dt.date(2024, 1, 15), "year": None, "guessit_type": "episode"}),
    ("Show.2019-05-21.720p.WEB.h264-GRP", {"date": dt.date(2019, 5, 21)}),
    ("Show.2019.03.12.Guest.Name.720p.WEB.h264-GRP", {"date": dt.date(2019, 3, 12)}),
    # Video codecs.
    ("Movie.2010.1080p.BluRay.HEVC-GRP", {"video_codec": "H.265"}),
    ("Movie.2010.1080p.BluRay.10bit.x265-GRP", {"video_codec": "H.265"}),
    ("Movie.2021.1080p.WEB.AV1.Opus-GRP", {"video_codec": "AV1", "audio": "Opus"}),
    # Audio.
    ("Movie.2019.1080p.BluRay.DTS-HD.MA.7.1.x264-GRP", {"audio": "DTS-HD MA 7.1"}),
    ("Movie.2010.1080p.BluRay.DTS-HD.HRA.7.1.x264-GRP", {"audio": "DTS-HD HRA 7.1"}),
    ("Movie.2010.1080p.BluRay.DTS-ES.x264-GRP", {"audio": "DTS"}),
    ("Oppenheimer.2023.2160p.UHD.BluRay.REMUX.HDR.DV.TrueHD.Atmos.7.1-FGT",
     {"audio": "TrueHD Atmos 7.1", "media_source": "UHD BluRay", "resolution": "2160p",
      "flags": ("Remux", "HDR", "DV"), "release_group": "FGT"}),
    ("Le.Film.2010.1080p.WEB-DL.AAC2.0.H.264-GRP", {"audio": "AAC 2.0", "video_codec": "H.264"}),
    ("Movie.2014.1080p.WEB-DL.DD51.H264-RARBG", {"audio": "DD 5.1"}),
    ("Movie.2010.1080p.WEB-DL.AAC-LC.x264-GRP", {"audio": "AAC"}),
    ("Movie.2023.2160p.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX",
     {"audio": "DD+ Atmos 5.1", "flags": ("DV", "HDR"), "video_codec": "H.265"}),
    ("Movie.2010.MULTi.1080p.BluRay.FLAC.x264-GRP", {"audio": "FLAC", "languages": ("mul",)}),
    # Languages, as guessit spells them.
    ("Movie.2011.German.DL.1080p.BluRay.x264-GRP", {"languages": ("de", "mul")}),
    ("Movie.2010.MULTi.VFF.1080p.BluRay.x264-GRP", {"languages": ("mul", "fr")}),
    ("Movie.2010.ITA.ENG.1080p.BluRay.x264-GRP", {"languages": ("it", "en")}),
    ("Movie.FRENCH.720p.BluRay.x264-GRP", {"title": "Movie", "languages": ("fr",)}),
    ("Show.S01E01.Subbed.720p.WEB-DL.x264-GRP", {"languages": ()}),
    # Editions and flags.
    ("Movie.2010.REPACK.1080p.BluRay.x264-GRP", {"flags": ("REPACK",)}),
    ("Movie.2010.PROPER.1080p.BluRay.x264-GRP", {"flags": ("PROPER",)}),
    ("Movie.2010.iNTERNAL.REPACK.1080p.BluRay.x264-GRP", {"flags": ("REPACK", "Internal")}),
    ("Movie.2014.EXTENDED.1080p.BluRay.x264-GRP", {"flags": ("Extended",)}),
    ("Movie.2010.Extended.Cut.1080p.BluRay.x264-GRP", {"flags": ("Extended",)}),
    ("Movie.2010.Directors.Cut.1080p.BluRay.x264-GRP", {"flags": ("Director's Cut",)}),
    ("Movie.2010.IMAX.1080p.BluRay.x264-GRP", {"flags": ("IMAX",)}),
    ("Movie.2010.UNRATED.1080p.BluRay.x264-GRP", {"flags": ("Unrated",)}),
    ("Movie.2010.4K.Remastered.1080p.BluRay.x264-GRP",
     {"flags": ("Remastered",), "resolution": "1080p"}),
    ("The Heartbreak Kid (1993) UNCUT 720p WEBRip x264", {"flags": ("Uncut",)}),
    ("Avatar.2009.3D.HSBS.1080p.BluRay.x264-GRP", {"flags": ("3D",)}),
    ("Movie.2010.2160p.WEB-DL.HDR.DV.H.265-GRP", {"flags": ("HDR", "DV")}),
    ("Movie (2014) Dual Audio WEB-DL 720p MKV x264",
     {"flags": ("Dual Audio",), "container": "mkv"}),
    # Release groups.
    ("Movie.2010.1080p.BluRay.x264.AAC5.1-[YTS.MX]", {"release_group": "YTS.MX"}),
    ("Show S08E06 HDTV XviD-LOL [eztv]", {"release_group": "LOL [eztv]"}),
    ("Movie (2023) [1080p] [WEBRip] [5.1] [YTS.MX]",
     {"year": 2023, "media_source": "WEBRip", "release_group": "YTS.MX"}),
    ("Movie 2010 1080p BluRay x264 GRP", {"release_group": "GRP"}),
    ("Movie.2010.TS.XviD.AC3.MrSeeN-SiMPLE", {"release_group": "MrSeeN-SiMPLE"}),
    ("War Dogs (2016) HDTS 600MB - NBY", {"release_group": "NBY", "media_source": "HDTS"}),
    # Containers, music, bare names.
    ("Movie.2010.1080p.BluRay.x264-GRP.nfo", {"container": "nfo"}),
    ("Show.S01E01.HEVC.TS", {"container": "ts", "media_source": None}),
    ("Dark Knight - Blue Moon River (1999) [FLAC]",
     {"title": "Dark Knight", "year": 1999, "audio": "FLAC"}),
    ("Dark Knight - Blue Moon River (1999) [MP3 320]", {"audio": "MP3"}),
    ("The_Big_Lebowski.mkv", {"title": "The Big Lebowski", "container": "mkv"}),
]  # fmt: skip

# Shapes declined on purpose: guessit reads each of them some other way.
DECLINED = [
    "",
    "Title",
    "NoSeparatorsAtAll2010",
    "UFC.179.PPV.HDTV.x264-Ebi",  # a number read as an episode (S1E79)
    "1917.1080p.BluRay.x264-GRP",  # a year as the whole title: guessit reads the year
    "Movie.2010.2011.1080p.BluRay.x264-GRP",  # two years: guessit keeps the first in the title
    "Blade.Runner.2049.1080p.BluRay.x264-GRP",  # 2049 is no year: guessit reads S20E49
    "Avatar 21 Things (1953) [576p] [YTS.MX]",  # a number before bracketed tags
    "Show.Name.July.30.2021.1080p.WEB-DL.x264-GRP",  # a month name: a date to guessit
    "Marvels.Agents.of.S.H.I.E.L.D.S01E06.720p.HDTV.X264-DIMENSION",  # acronym dots
    "Movie.CONVERT.2010.720p.HDTV.x264-GRP",  # a scene tag in the title
    "The.Movie.Proper.2010.1080p.BluRay.x264-GRP",  # "Proper" in the title is a flag
    "Movie.2010.1080p.Some.Unknown.Words.x264-GRP",  # free words among technical ones
    "超能警探 Memorist S01E01 1080p WEB-DL x264-GRP",  # original script before romanized
    "Hercules (2014) WEBDL DVDRip XviD-MAX",  # two sources
    "Movie.2010.1080p.WEB-DL.JAPANESE.AC3-GRP",  # guessit reads "AC3-GRP" as the group
    "Movie.2010.1080p.BluRay.IMAX-GRP",  # an edition right before the group
    "Movie.2010.HDTS-HDCLUB",  # "HDTS-HD..." glued by guessit
    "Movie.2010.WEB.HDR10.H.265-GRP",  # "WEB.HD..." glued by guessit
    "Movie.2010.DVD-RARBG",  # "DVD-R..." glued by guessit
    "Road 2007 1x04 XviD AAC 2 0-TEPES",  # a year before "1x04": read as the season
    "Show.2010.E05.720p.HDTV.x264-GRP",  # a year before a lone episode: the season
    "Show.Sun.2017.05.04.720p.HDTV.x264-GRP",  # a weekday before a date
    "Lord.Swedish.1964.ENG.540p.WEB.H264-FoV",  # a language in the title before the year
    "[Group] Show - 8 [1080p]",  # one-digit absolute episode: none to guessit
    "[Group] Show - 125",  # three digits and no tag: read as S1E25
    "[Group] Show S2 - 05v2 [1080p]",  # a version after a season: the episode is lost
    "[Group] Show - 05 [Dual Audio]",  # a tag we do not read
    "[Group] Show - 99-102 [1080p]",  # a range across digit counts: two episodes to guessit
    "Movie.2010.HDDVD.5.1-GRP",  # channels alone before the group: "5.1-GRP" is the group
    "Show.S06.E24.DVD.576p.GRP",  # a split marker before a source: guessit loses both
]


@pytest.mark.parametrize(("title", "expected"), UNIT_CASES)
def test_fast_parse_fields(title: str, expected: dict[str, object]) -> None:
    parsed = fast_parse(clean_title(title))
    assert parsed is not None
    for field, value in expected.items():
        assert getattr(parsed, field) == value, field
    # Interchangeable: the same ParsedTitle guessit's path gives (guessit ignores AV1).
    if parsed.video_codec != "AV1":
        assert _differences(parsed, _guessit(title)) == {}


@pytest.mark.parametrize("title", DECLINED)
def test_fast_parse_declines_unusual_titles(title: str) -> None:
    assert fast_parse(clean_title(title)) is None


@pytest.mark.parametrize(
    "junk",
    ["", " ", "a" * 10_000, "S01E01 " * 2_000, "1" * 5_000, "[[[((" * 300, "🎬 2020 2160p",
     "-" * 50, "Movie.9999.1080p", "S999999E999999", "Show.2019.13.45.720p", "x264-", "-GRP",
     "[] - 01", "Movie..2010..1080p", "Show.S01E05-E02.720p", "a.b", "(2010)", "[GRP]",
     "Show.S01E01-E999.720p", "Show.S01-S99999", "[G] T - 99999999", "A - 01 [", "x.mkv",
     ".mkv", "Show S01 E", "Movie 2010 [", "[a]_-_01", "Title.2010.DTS.HD.MA", "T.S01.E",
     "Show.2019-02-30.720p", "[G] S1 - ", "Ω.2010", "ა.2010.1080p"],
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
