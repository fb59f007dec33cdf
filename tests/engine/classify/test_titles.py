"""Tests for engine.classify.titles: normalization of guessit's answers, and robustness."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest
from babelfish import Language  # type: ignore[import-untyped]

from engine.classify import titles
from engine.classify.titles import (
    MAX_TITLE_CHARS,
    ParsedTitle,
    clean_title,
    from_guessit,
    parse_title,
)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "The Walking Dead S05E03 720p HDTV x264-ASAP[ettv]",
            ParsedTitle(
                title="The Walking Dead", season=5, seasons=(5,), episode=3, episodes=(3,),
                resolution="720p", video_codec="H.264", media_source="HDTV",
                release_group="ASAP[ettv]", guessit_type="episode",
            ),
        ),
        (
            "Oppenheimer.2023.2160p.UHD.BluRay.REMUX.HDR.DV.TrueHD.Atmos.7.1-FGT",
            ParsedTitle(
                title="Oppenheimer", year=2023, resolution="2160p", audio="TrueHD Atmos 7.1",
                media_source="UHD BluRay", release_group="FGT", flags=("Remux", "HDR", "DV"),
                guessit_type="movie",
            ),
        ),
        (
            "Game.of.Thrones.S01-S08.COMPLETE.1080p.BluRay.x265.10bit.6CH-MeGusta",
            ParsedTitle(
                title="Game of Thrones", season=1, seasons=(1, 2, 3, 4, 5, 6, 7, 8),
                resolution="1080p", video_codec="H.265", audio=None, media_source="BluRay",
                release_group="MeGusta", flags=("Complete",), guessit_type="episode",
            ),
        ),
        (
            "[SubsPlease] Frieren - 12 (1080p) [F00DCAFE].mkv",
            ParsedTitle(
                title="Frieren", episode=12, episodes=(12,), resolution="1080p",
                release_group="SubsPlease", guessit_type="episode", container="mkv",
            ),
        ),
    ],
)  # fmt: skip
def test_whole_parses(title: str, expected: ParsedTitle) -> None:
    assert parse_title(title) == expected


@pytest.mark.parametrize(
    ("title", "field", "value"),
    [
        ("Movie.2010.1080p.BluRay.x264-GRP", "media_source", "BluRay"),
        ("Movie.2010.1080p.BDRip.x264-GRP", "media_source", "BDRip"),
        ("Movie.2010.720p.BRRip.x264-GRP", "media_source", "BDRip"),
        ("Movie.2010.1080p.WEB-DL.DD5.1.H264-GRP", "media_source", "WEB-DL"),
        ("Movie.2010.1080p.WEBRip.x264-GRP", "media_source", "WEBRip"),
        ("Movie.2010.DVDRip.XviD-GRP", "media_source", "DVDRip"),
        ("Movie.2010.HDRip.XviD-GRP", "media_source", "HDRip"),
        ("Movie.2010.HDCAM.x264", "media_source", "HDCAM"),
        ("Show.S01E01.720p.HDTV.x264-GRP", "media_source", "HDTV"),
        ("Movie.2010.1080p.WEB-DL.DD5.1.H264-GRP", "audio", "DD 5.1"),
        ("Movie 2010 1080p AMZN WEB-DL DDP5.1 H.264-NTb", "audio", "DD+ 5.1"),
        ("Movie.2010.1080p.BluRay.AVC.DTS-HD.MA.5.1-GRP", "audio", "DTS-HD MA 5.1"),
        ("Le.Film.2010.1080p.WEB-DL.AAC2.0.H.264-GRP", "audio", "AAC 2.0"),
        ("Movie.2010.1080p.BluRay.x264-GRP", "video_codec", "H.264"),
        ("Movie.2010.1080p.BluRay.HEVC-GRP", "video_codec", "H.265"),
        ("Movie.2010.DVDRip.XviD-GRP", "video_codec", "Xvid"),
        ("Movie.2021.1080p.WEB.AV1.Opus-GRP", "video_codec", "AV1"),
        ("Movie (1998) 1920x1080", "resolution", "1080p"),
        ("Movie 2010 720x480 DVD", "resolution", "480p"),
        ("Show.S01E01.1080i.HDTV.MPEG2-GRP", "resolution", "1080p"),
        ("Movie.2019.4K.WEB-DL", "resolution", "2160p"),
        ("Movie.2010.REPACK.1080p.BluRay.x264-GRP", "flags", ("REPACK",)),
        ("Movie.2010.PROPER.1080p.BluRay.x264-GRP", "flags", ("PROPER",)),
        ("Avatar.2009.3D.HSBS.1080p.BluRay.x264-GRP", "flags", ("3D",)),
        ("Movie.2014.EXTENDED.1080p.BluRay.x264-GRP", "flags", ("Extended",)),
        ("Movie.2011.German.DL.1080p.BluRay.x264-GRP", "languages", ("de", "mul")),
        ("Movie.2010.ENG.ITA.FRE.1080p", "languages", ("en", "it", "fr")),
        ("Movie.2010.1080p.BluRay.x264.AAC5.1-[YTS.MX]", "release_group", "YTS.MX"),
        ("Show.S01E01E02E03.FRENCH.1080p.WEB.H264-GRP", "episodes", (1, 2, 3)),
        ("Show.S01E01E02E03.FRENCH.1080p.WEB.H264-GRP", "episode", 1),
        ("Show.2019.03.12.Guest.720p.WEB.h264-GRP", "date", dt.date(2019, 3, 12)),
        ("Show 1/2 S01E01 720p", "title", "Show 1"),  # a name, not a path: no folder "Show 1"
    ],
)
def test_normalized_fields(title: str, field: str, value: object) -> None:
    assert getattr(parse_title(title), field) == value


ODD_INPUTS = [
    "",
    "   ",
    "\x00\x01\x02\xff",
    "\ud800\udfff lone surrogates",
    "\ufeffBOM.Movie.2010.1080p",
    "a" * 10_000,
    "S01E01 " * 2_000,
    "1" * 5_000,
    "[[[[[[(((((((" * 300,
    "映画 2020 1080p BluRay",
    "🎬🍿 2020 2160p 🎞",
    "فيلم.2019.720p.WEB-DL",
    "../../etc/passwd",
    "C:\\Windows\\System32\\cmd.exe",
    "-" * 50,
    "Movie.9999.1080p",
    "S999999E999999",
]


@pytest.mark.parametrize("title", ODD_INPUTS)
def test_odd_input_never_raises(title: str) -> None:
    parsed = parse_title(title)
    assert isinstance(parsed, ParsedTitle)
    assert len(parsed.title) <= MAX_TITLE_CHARS
    assert pickle.loads(pickle.dumps(parsed)) == parsed  # noqa: S301 (our own object)


def test_random_junk_never_raises() -> None:
    import random

    rng = random.Random(20240601)
    alphabet = "abcXYZ0123456789 .-_[](){}/\\'\"&+,!?#\x00\x1f\x7f\u00e9\u4e2d\U0001f600"
    for _ in range(200):
        junk = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        assert isinstance(parse_title(junk), ParsedTitle)


def test_clean_title_caps_length_and_strips_control_characters() -> None:
    assert clean_title("  a\x00b\tc\n  ") == "a b c"
    assert clean_title("x" * 10_000) == "x" * MAX_TITLE_CHARS
    assert clean_title("\ud800") == ""


def test_guessit_failure_falls_back_to_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_args: object) -> dict[str, object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(titles, "guessit", explode)
    assert titles.guessit_parse("Some.Title.2010") == ParsedTitle(title="Some.Title.2010")


def test_from_guessit_tolerates_odd_types() -> None:
    odd: dict[str, object] = {
        "title": ["First", "Second"],
        "year": ["1999", 2001, "x"],
        "season": [1, "2", None, True, -4],
        "episode": 3.5,
        "date": dt.datetime(2020, 1, 2, 3, 4, tzinfo=dt.UTC),
        "screen_size": ["bogus", "720p"],
        "video_codec": 264,
        "audio_codec": ["Dolby Digital", "Dolby Digital"],
        "audio_channels": ["5.1"],
        "source": "Something New",
        "other": ["Rip", "Proper", 7],
        "edition": ["Extended", None],
        "language": [Language("por", "BR"), Language("mul"), "xx", "toolong", object()],
        "release_group": "[GRP]",
        "type": ["movie"],
        "container": ".MKV",
    }
    parsed = from_guessit(odd, "whatever")
    assert parsed.title == "First"
    assert parsed.year == 1999
    assert parsed.seasons == (1, 2)
    assert parsed.episodes == ()
    assert parsed.date == dt.date(2020, 1, 2)
    assert parsed.resolution == "720p"
    assert parsed.video_codec is None
    assert parsed.audio == "DD 5.1"
    assert parsed.media_source == "Something New"
    assert parsed.flags == ("PROPER", "Extended")
    assert parsed.languages == ("pt", "mul", "xx")
    assert parsed.release_group == "GRP"
    assert parsed.guessit_type == "movie"
    assert parsed.container == ".mkv"


def test_from_guessit_of_nothing_is_empty() -> None:
    assert from_guessit({}, "") == ParsedTitle()


def test_results_are_cached_and_the_cache_is_bounded() -> None:
    title = "Cache.Test.2011.720p.HDTV.x264-GRP"
    assert parse_title(title) is parse_title(title)
    assert parse_title(f"  {title}\x00") is parse_title(title)  # cached by cleaned text
    assert titles._parse_clean.cache_info().maxsize == titles.CACHE_SIZE


def test_usable_from_a_process_pool() -> None:
    names = ["Movie.2010.1080p.BluRay.x264-GRP", "Show.S02E03.720p.WEB.h264-GRP", ""]
    spawn = multiprocessing.get_context("spawn")  # nothing inherited: all crosses by pickle
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        remote = list(pool.map(parse_title, names))
    assert remote == [parse_title(name) for name in names]


def test_the_tagger_reads_glued_names_guessit_leaves_whole() -> None:
    """guessit reads "TheMatrix1999720pBluRayx264" as one title; the tagger splits it."""
    name = "TheMatrix1999720pBluRayx264"
    assert titles.guessit_parse(name).year is None
    parsed = titles._parse_clean.__wrapped__(name)
    assert (parsed.title, parsed.year, parsed.resolution, parsed.media_source) == (
        "The Matrix",
        1999,
        "720p",
        "BluRay",
    )
    assert parsed.video_codec == "H.264"


def test_guessit_stays_when_it_found_structure(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tagger is asked only when guessit found nothing beyond a title."""
    asked: list[str] = []
    monkeypatch.setattr(titles, "USE_FAST_PARSER", False)  # straight to guessit
    monkeypatch.setattr("engine.classify.tagger.tagger_parse", lambda text: asked.append(text))
    assert titles._parse_clean.__wrapped__("The.Matrix.1999.1080p.BluRay.x264-FGT").year == 1999
    assert asked == []
    titles._parse_clean.__wrapped__("TheMatrix1999720pBluRayx264")
    assert asked == ["TheMatrix1999720pBluRayx264"]
