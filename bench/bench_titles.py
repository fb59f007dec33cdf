"""Benchmark release-title parsing: the fast parser, guessit, combined `parse_title`, and PTT.

    .venv/bin/python bench/bench_titles.py [--titles 3000] [--seed 7]

1. Accuracy per field against the labelled corpora of tests/engine/classify (the fast
   parser and the CRF tagger counted only where they are confident), side by side with
   guessit alone and the combined pipeline (fast, else guessit, else the tagger where
   guessit found only a title), and the share of titles the fast parser is confident on.
2. Throughput (titles/s, one core, no cache) of each on N distinct realistic titles from
   the generator of `bench/bench_search_index.py`, and the fast parser's agreement with
   guessit on the titles it is confident on.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `bench.*` and `tests.*` importable
    sys.path.insert(0, str(ROOT))

from bench.bench_search_index import Generator  # noqa: E402
from engine.classify import titles  # noqa: E402
from engine.classify.fast import fast_parse  # noqa: E402
from engine.classify.tagger import tagger_parse  # noqa: E402
from engine.classify.titles import ParsedTitle, clean_title, guessit_parse  # noqa: E402

Parser = Callable[[str], ParsedTitle | None]


def realistic_titles(count: int, seed: int = 7) -> list[str]:
    """`count` distinct release names: scene movies and TV, music, anime fansubs, ISOs."""
    generator, names = Generator(seed), dict[str, None]()
    while len(names) < count:
        names[generator.release()[0]] = None
    return list(names)


def _uncached(text: str) -> ParsedTitle:
    return titles._parse_clean.__wrapped__(text)


PARSERS: dict[str, Parser] = {
    "fast": fast_parse,
    "tagger": tagger_parse,
    "guessit": guessit_parse,
    "combined": _uncached,
}

# PTT (parsett) names codecs and sources its own way; map them to ours so fields compare.
_PTT_CODECS = {"avc": "H.264", "hevc": "H.265", "xvid": "Xvid", "divx": "DivX", "av1": "AV1"}
_PTT_RESOLUTIONS = {"4k": "2160p", "2k": "1440p"}
_PTT_UNMAPPED = frozenset({"audio", "type"})  # PTT's audio names and guesses are not mapped


def ptt_parse(text: str) -> ParsedTitle:
    """parse-torrent-title's answer as a `ParsedTitle` (the fields the corpora label)."""
    found = PTT.parse_title(text)
    seasons = tuple(found.get("seasons") or ())
    episodes = tuple(found.get("episodes") or ())
    resolution = found.get("resolution")
    codec = found.get("codec")
    return ParsedTitle(
        title=found.get("title") or "",
        year=found.get("year"),
        season=seasons[0] if seasons else None,
        seasons=seasons,
        episode=episodes[0] if episodes else None,
        episodes=episodes,
        resolution=_PTT_RESOLUTIONS.get(resolution, resolution) if resolution else None,
        video_codec=_PTT_CODECS.get(codec, codec) if codec else None,
        media_source=found.get("quality"),
        release_group=found.get("group"),
    )


try:  # a dev extra: the comparison column is left out where it is not installed
    import PTT  # type: ignore[import-untyped]

    PARSERS["ptt"] = ptt_parse
except ImportError:  # pragma: no cover
    print("parsett is not installed: no PTT column (pip install -e '.[dev]')", file=sys.stderr)


def accuracy() -> None:
    from tests.engine.classify.test_corpus import CORPORA, score

    print(f"{'corpus.field':<28}" + "".join(f"{name:>20}" for name in PARSERS))
    for corpus, (load, fields) in CORPORA.items():
        cases = load()
        parse_of = {n: (lambda name, p=p: p(clean_title(name))) for n, p in PARSERS.items()}
        for field, read in fields.items():
            cells = []
            for name, parse in parse_of.items():
                if name == "ptt" and field in _PTT_UNMAPPED:
                    cells.append("n/a")
                    continue
                result = score(cases, field, read, parse)
                cells.append(f"{result.rate:7.1%} of {result.total:4d}")
            print(f"{corpus + '.' + field:<28}" + "".join(f"{cell:>20}" for cell in cells))
        share = sum(fast_parse(clean_title(case.name)) is not None for case in cases) / len(cases)
        print(f"{corpus}: fast parser confident on {share:.1%} of {len(cases)} titles\n")


def throughput(count: int, seed: int) -> None:
    texts = [clean_title(name) for name in realistic_titles(count, seed)]
    results: dict[str, list[ParsedTitle | None]] = {}
    for name, parse in PARSERS.items():
        started = time.perf_counter()
        results[name] = [parse(text) for text in texts]
        elapsed = time.perf_counter() - started
        rate = len(texts) / elapsed
        print(f"{name:>9}: {len(texts)} distinct titles in {elapsed:6.2f} s = {rate:9,.0f}/s")
    if "ptt" in results:
        pairs_ptt = list(zip(results["ptt"], results["guessit"], strict=True))
        agree = sum(p is not None and g is not None and p.title == g.title for p, g in pairs_ptt)
        print(f"ptt title equal to guessit's on {agree}/{len(pairs_ptt)}")
    pairs = [(f, g) for f, g in zip(results["fast"], results["guessit"], strict=True) if f]
    same = sum(f == g or (f.video_codec == "AV1") for f, g in pairs)
    print(
        f"fast confident on {len(pairs) / len(texts):.1%}; equal to guessit on {same}/{len(pairs)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--titles", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    accuracy()
    throughput(args.titles, args.seed)


if __name__ == "__main__":
    main()
