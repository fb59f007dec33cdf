"""Tests for engine.classify.tagger: the CRF token tagger and its decoding.

The model is the shipped resources/title_tagger.crfsuite. Held-out accuracy is measured
on the corpus names `train_tagger.held_out` keeps out of training (one in five, by a hash
of the name), with test_corpus.py's normalizers; the floors are the measured rates minus
a margin, so a broken or badly retrained model fails while a retrain that moves a name
or two does not. Run with -s to see the table and the throughput.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.classify import tagger as tagger_module
from engine.classify.tagger import (
    LABELS,
    MIN_CONFIDENCE,
    MODEL_ENV,
    TitleTagger,
    decode,
    default_model_path,
    default_tagger,
    tagger_parse,
    tokenize,
)
from engine.classify.titles import ParsedTitle, clean_title
from engine.classify.train_tagger import FIELDS, held_out
from tests.engine.classify.test_corpus import CORPORA, Case, score


@pytest.fixture(scope="module")
def model() -> TitleTagger:
    return TitleTagger.load(default_model_path())


@pytest.fixture
def fresh_default() -> Iterator[None]:
    """Forget the process's loaded tagger before and after (the env var changes it)."""
    default_tagger.cache_clear()
    yield
    default_tagger.cache_clear()


def test_model_ships_small_and_loads(model: TitleTagger) -> None:
    path = default_model_path()
    assert path.name == "title_tagger.crfsuite"
    assert path.stat().st_size < 2 * 2**20
    tokens, labels, confidence = model.tag("The.Matrix.1999.1080p.BluRay.x264-GRP")
    assert len(tokens) == len(labels) > 0
    assert set(labels) <= set(LABELS)
    assert 0.0 <= confidence <= 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "The.Matrix.1999.1080p.BluRay.x264-GRP",
            ParsedTitle(title="The Matrix", year=1999, resolution="1080p", video_codec="H.264",
                        media_source="BluRay", release_group="GRP", guessit_type="movie"),
            id="scene-movie",
        ),
        pytest.param(
            "Show.Name.S01E02.720p.HDTV.x264-LOL",
            ParsedTitle(title="Show Name", season=1, seasons=(1,), episode=2, episodes=(2,),
                        resolution="720p", video_codec="H.264", media_source="HDTV",
                        release_group="LOL", guessit_type="episode"),
            id="tv-sxxeyy",
        ),
        pytest.param(
            "[SubsPlease] Kimetsu no Yaiba - 12 [1080p]",
            ParsedTitle(title="Kimetsu no Yaiba", episode=12, episodes=(12,), resolution="1080p",
                        release_group="SubsPlease", guessit_type="episode"),
            id="bracketed-anime",
        ),
        pytest.param(
            "TheLastKingdom2019720pBluRayx264-GRP",
            ParsedTitle(title="The Last Kingdom", year=2019, resolution="720p",
                        video_codec="H.264", media_source="BluRay", release_group="GRP",
                        guessit_type="movie"),
            id="no-separators",
        ),
        pytest.param(
            "1080p.x264.Show.Name.2019",
            ParsedTitle(title="Show Name", year=2019, resolution="1080p", video_codec="H.264",
                        guessit_type="movie"),
            id="reversed-order",
        ),
        pytest.param(
            "Игра.престолов.S01E01.1080p.WEB-DL.x264-GRP",
            ParsedTitle(title="Игра престолов", season=1, seasons=(1,), episode=1,
                        episodes=(1,), resolution="1080p", video_codec="H.264",
                        media_source="WEB-DL", release_group="GRP", guessit_type="episode"),
            id="cyrillic",
        ),
        pytest.param(
            "[Erai-raws] 進撃の巨人 - 05 [1080p]",
            ParsedTitle(title="進撃の巨人", episode=5, episodes=(5,), resolution="1080p",
                        release_group="Erai-raws", guessit_type="episode"),
            id="cjk-anime",
        ),
    ],
)  # fmt: skip
def test_known_shapes(model: TitleTagger, text: str, expected: ParsedTitle) -> None:
    parsed, confidence = model.parse(text)
    tokens, labels, _ = model.tag(text)
    tagged = " ".join(f"{t.text}/{lab}" for t, lab in zip(tokens, labels, strict=True))
    print(f"{confidence:.2f} {tagged}")  # noqa: T201
    assert parsed == expected
    assert tagger_parse(text) == expected  # confident on all of these


def test_mixed_scripts_keep_the_first_title(model: TitleTagger) -> None:
    parsed, _ = model.parse("Мастер и Маргарита / Master i Margarita (2005) DVDRip")
    assert parsed.title == "Мастер и Маргарита"
    assert parsed.year == 2005
    assert parsed.media_source == "DVDRip"


def _held_out_cases(corpus: str) -> list[Case]:
    return [case for case in CORPORA[corpus][0]() if held_out(clean_title(case.name))]


# Measured with the shipped model on the held-out names of both corpora (agreed/labelled,
# every name answered, whatever the confidence), minus a margin of about five points.
HELD_OUT_FLOORS = {
    "title": 0.86,  # measured 91.6% (109/119)
    "year": 0.88,  # 94.4% (34/36)
    "season": 0.88,  # 93.7% (59/63)
    "episode": 0.85,  # 90.3% (56/62)
    "resolution": 0.95,  # 100% (64/64)
    "video_codec": 0.92,  # 97.3% (73/75)
    "media_source": 0.93,  # 98.8% (82/83)
    "release_group": 0.78,  # 84.5% (60/71)
}


@pytest.mark.parametrize("field", list(FIELDS))
def test_held_out_accuracy(model: TitleTagger, field: str) -> None:
    agreed = total = 0
    for column, corpus in enumerate(("ptn", "guessit")):
        label = FIELDS[field][column]
        result = score(
            _held_out_cases(corpus),
            label,
            CORPORA[corpus][1][label],
            lambda name: model.parse(clean_title(name))[0],
        )
        agreed, total = agreed + result.agreed, total + result.total
        for miss in result.misses:
            print("  -", miss)  # noqa: T201
    rate = agreed / total
    print(f"held-out {field}: {agreed}/{total} = {rate:.1%}")  # noqa: T201
    assert total > 0
    assert rate >= HELD_OUT_FLOORS[field]


def test_held_out_split_is_stable() -> None:
    names = [case.name for case in CORPORA["guessit"][0]()]
    held = [name for name in names if held_out(clean_title(name))]
    assert 0.1 < len(held) / len(names) < 0.3
    assert held_out("The.Matrix.1999.1080p.BluRay.x264-GRP") == held_out(
        "The.Matrix.1999.1080p.BluRay.x264-GRP"
    )


def test_tokens_keep_their_spans() -> None:
    text = "[Grp] TheLastKingdom2019720pBluRayx264 - S01E02 (1080p) DD+5.1 Ü-Titel"
    tokens = tokenize(text)
    assert [t.text for t in tokens][:10] == [
        "Grp", "The", "Last", "Kingdom", "2019", "720", "p", "Blu", "Ray", "x",
    ]  # fmt: skip
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert [t.text for t in tokenize("HMAXWEBDL CAMERON")] == ["HMAX", "WEBDL", "CAMERON"]


def _labelled(text: str, labels: str) -> ParsedTitle:
    tokens = tokenize(text)
    names = labels.split()
    assert len(names) == len(tokens), [t.text for t in tokens]
    return decode(text, tokens, names)


def test_decode_normalizes_like_titles_py() -> None:
    parsed = _labelled(
        "Movie.2010.1080p.BluRay.DTS-HD.MA.5.1.AVC.REPACK-GRP.mkv",
        "TITLE YEAR RESOLUTION RESOLUTION SOURCE SOURCE ACODEC ACODEC ACODEC ACODEC ACODEC "
        "VCODEC FLAG GROUP CONTAINER",
    )
    assert parsed == ParsedTitle(
        title="Movie", year=2010, resolution="1080p", video_codec="H.264",
        audio="DTS-HD MA 5.1", media_source="BluRay", release_group="GRP",
        flags=("REPACK",), guessit_type="movie", container="mkv",
    )  # fmt: skip
    assert _labelled("Show 2160p DDP5.1 BluRay", "TITLE RESOLUTION RESOLUTION ACODEC ACODEC "
                     "ACODEC SOURCE SOURCE").media_source == "UHD BluRay"  # fmt: skip
    assert _labelled("X DD+5.1", "TITLE ACODEC ACODEC ACODEC").audio == "DD+ 5.1"


def test_decode_numbers_ranges_and_dates() -> None:
    pack = _labelled("Show S01-S03 x", "TITLE SEASON SEASON SEASON SEASON NOISE")
    assert pack.seasons == (1, 2, 3)
    multi = _labelled("Show S01E01-E03", "TITLE SEASON SEASON EPISODE EPISODE EPISODE EPISODE")
    assert multi.episodes == (1, 2, 3)
    assert multi.guessit_type == "episode"
    split = _labelled("Show.Name.102.HDTV", "TITLE TITLE SEASON SOURCE")
    assert (split.season, split.episode) == (1, 2)
    daily = _labelled("Show.2014.11.10.HDTV", "TITLE DATE DATE DATE SOURCE")
    assert daily.date == dt.date(2014, 11, 10)
    group = _labelled("Show S05E03 x264-ASAP[ettv]", "TITLE SEASON SEASON EPISODE EPISODE "
                      "VCODEC VCODEC GROUP GROUP")  # fmt: skip
    assert group.release_group == "ASAP[ettv]"


def test_missing_model_answers_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_default: None
) -> None:
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "missing.crfsuite"))
    assert default_tagger() is None
    assert tagger_parse("The.Matrix.1999.1080p.BluRay.x264-GRP") is None


def test_damaged_model_answers_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_default: None
) -> None:
    damaged = tmp_path / "damaged.crfsuite"
    damaged.write_bytes(b"not a model" * 100)
    monkeypatch.setenv(MODEL_ENV, str(damaged))
    assert tagger_parse("The.Matrix.1999.1080p.BluRay.x264-GRP") is None


def test_model_is_loaded_once(fresh_default: None) -> None:
    assert tagger_parse("Show.Name.S01E02.720p.HDTV.x264-LOL") is not None
    assert default_tagger() is default_tagger()


HOSTILE = [
    "",
    " ",
    "x" * 10_000,
    "word " * 3_000,
    "\x00\x01\x02\x1b[31m\x7f\u200b\ufeff",
    "\ud800\udfff lone surrogates",
    "....----____[[[[]]]]((((()))))",
    "-[",
    "][)(",
    "S01E999999999999999999999",
    "9" * 400,
    "【】「」・…‥",
    "\u202e\u202dRTL override 2019 1080p",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_never_raises(model: TitleTagger, text: str) -> None:
    for candidate in (text, clean_title(text)):
        result = tagger_parse(candidate)
        assert result is None or isinstance(result, ParsedTitle)
        tokens, labels, confidence = model.tag(candidate)
        assert len(tokens) == len(labels) <= tagger_module.MAX_TOKENS
        assert 0.0 <= confidence <= 1.0


def test_print_throughput(model: TitleTagger) -> None:
    """Not an assertion: titles/s of the tagger on generated names, one core."""
    from bench.bench_search_index import Generator

    generator = Generator(11)
    texts = list(dict.fromkeys(clean_title(generator.release()[0]) for _ in range(3_000)))
    started = time.perf_counter()
    answered = sum(tagger_parse(text) is not None for text in texts)
    elapsed = time.perf_counter() - started
    print(  # noqa: T201
        f"tagger_parse: {len(texts)} titles in {elapsed:.2f} s = {len(texts) / elapsed:,.0f}/s; "
        f"confident (>= {MIN_CONFIDENCE}) on {answered / len(texts):.1%}"
    )
