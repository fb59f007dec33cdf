"""Benchmark TantivyIndex: build N synthetic releases, then time typical searches.

    .venv/bin/python bench/bench_search_index.py [--docs 1000000] [--runs 200] [--seed 7]

Titles mimic what crawlers see: scene/p2p movies and TV (years, resolutions, codecs,
groups), music albums, anime fansubs, Linux ISOs; words follow a Zipf law over a
pseudo-word vocabulary (so some are common, many rare); seeders are Pareto-distributed.
The index is built through `TantivyIndex.upsert` (delete-by-hash + add, one commit per
batch), the path the real outbox uses, then closed (merges finish) and reopened read-only.
Latency covers `search()` including the total count and reading the page's 50 stored
info hashes. Every cell cycles through its queries for `--runs` timed runs.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from engine.models import ContentKind, IndexDocument, SearchQuery, SortOrder
from engine.search.tantivy_index import TantivyIndex, query_words

REAL_WORDS = [
    "the",
    "matrix",
    "dragon",
    "ring",
    "lord",
    "king",
    "star",
    "war",
    "night",
    "dark",
    "knight",
    "love",
    "life",
    "dead",
    "city",
    "house",
    "black",
    "white",
    "red",
    "blue",
    "girl",
    "boy",
    "man",
    "woman",
    "world",
    "last",
    "first",
    "road",
    "fall",
    "signal",
    "fire",
    "ice",
    "blood",
    "moon",
    "sun",
    "river",
    "mountain",
    "secret",
    "hidden",
    "lost",
    "found",
    "return",
    "rise",
    "empire",
    "shadow",
    "ghost",
]
SYLLABLES = [
    "ka",
    "ri",
    "zen",
    "phy",
    "ne",
    "mo",
    "ta",
    "lu",
    "vor",
    "sa",
    "el",
    "an",
    "dra",
    "qui",
    "bel",
    "tor",
    "mi",
    "sha",
    "ro",
    "ne",
    "ix",
    "ul",
    "ba",
]
RESOLUTIONS = ["2160p", "1080p", "1080p", "1080p", "720p", "720p", "480p"]
MEDIA = ["BluRay", "WEB-DL", "WEBRip", "HDTV", "DVDRip", "REMUX", "NF.WEB-DL", "AMZN.WEB-DL"]
CODECS = ["x264", "x264", "x265", "H.264", "HEVC", "AV1"]
AUDIO = ["", "", "DDP5.1", "AAC2.0", "DTS-HD.MA.5.1", "TrueHD.7.1.Atmos"]
TAGS = ["", "", "", "", "GERMAN", "FRENCH", "MULTi", "PROPER", "REPACK", "EXTENDED"]
FANSUBS = ["SubsPlease", "Erai-raws", "HorribleSubs", "EMBER", "Judas", "ASW"]
DISTROS = ["ubuntu", "kubuntu", "debian", "fedora", "archlinux", "linuxmint", "opensuse"]
FLAVORS = ["desktop", "live-server", "netinst", "workstation", "dvd", "cinnamon"]


class Generator:
    """Deterministic release-name factory (seeded RNG, Zipf words, Pareto seeders)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        made_up = {
            "".join(self.rng.choices(SYLLABLES, k=self.rng.randint(2, 4))) for _ in range(30_000)
        }
        self.vocab = REAL_WORDS + sorted(made_up - set(REAL_WORDS))
        self.rng.shuffle(self.vocab)
        for word in ("matrix", "dragon"):  # keep the query words mid-frequency
            self.vocab.remove(word)
            self.vocab.insert(40, word)
        self.cum = list(itertools.accumulate(1 / (r + 1) ** 1.05 for r in range(len(self.vocab))))
        self.groups = [w.upper()[:8] for w in self.vocab[500:700]]
        self.shows = [self.words(self.rng.randint(1, 3)) for _ in range(4000)]
        self.artists = [self.words(self.rng.randint(1, 2), " ") for _ in range(3000)]
        self.epoch = (datetime(2005, 1, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))

    def words(self, count: int, sep: str = ".") -> str:
        picked = self.rng.choices(self.vocab, cum_weights=self.cum, k=count)
        return sep.join(w.capitalize() for w in picked)

    def release(self) -> tuple[str, str, ContentKind, int, dict[str, int | str]]:
        """Title, file list, kind, Torznab category and parsed fields of one release."""
        r, roll = self.rng, self.rng.random()
        res = r.choice(RESOLUTIONS)
        tail = ".".join(x for x in (r.choice(AUDIO), r.choice(CODECS)) if x)
        group = r.choice(self.groups)
        if roll < 0.45:
            year = r.randint(1950, 2026)
            tag = r.choice(TAGS)
            name = f"{self.words(r.randint(1, 4))}.{year}{'.' + tag if tag else ''}"
            title = f"{name}.{res}.{r.choice(MEDIA)}.{tail}-{group}"
            cat = 2045 if res == "2160p" else 2040 if res in ("1080p", "720p") else 2030
            return title, f"{title}.mkv", ContentKind.MOVIE, cat, {"year": year, "res": res}
        if roll < 0.80:
            season, episode = r.randint(1, 12), r.randint(1, 24)
            title = f"{r.choice(self.shows)}.S{season:02d}E{episode:02d}.{res}.{r.choice(MEDIA)}"
            title += f".{tail}-{group}"
            fields: dict[str, int | str] = {"season": season, "episode": episode, "res": res}
            return title, f"{title}.mkv", ContentKind.TV, 5040, fields
        if roll < 0.88:
            year = r.randint(1965, 2026)
            album = f"{r.choice(self.artists)} - {self.words(r.randint(1, 3), ' ')} ({year})"
            title = f"{album} [{r.choice(['FLAC', 'MP3 320', 'FLAC 24-96'])}]"
            tracks = " ".join(f"{n:02d} - {self.words(2, ' ')}.flac" for n in range(1, 6))
            return title, tracks, ContentKind.MUSIC, 3040, {"year": year}
        if roll < 0.95:
            episode = r.randint(1, 26)
            crc = f"{r.getrandbits(32):08X}"
            show = r.choice(self.shows).replace(".", " ")
            title = f"[{r.choice(FANSUBS)}] {show} - {episode:02d} ({res}) [{crc}].mkv"
            return title, title, ContentKind.ANIME, 5070, {"episode": episode, "res": res}
        distro = r.choice(DISTROS)
        version = f"{r.randint(8, 40)}.{r.randint(1, 12):02d}"
        title = f"{distro}-{version}-{r.choice(FLAVORS)}-{r.choice(['amd64', 'arm64'])}.iso"
        return title, title, ContentKind.SOFTWARE, 4020, {}

    def documents(self, n: int) -> Iterator[IndexDocument]:
        start, end = (t.timestamp() for t in self.epoch)
        for _ in range(n):
            title, files, kind, category, fields = self.release()
            published = datetime.fromtimestamp(self.rng.uniform(start, end), tz=UTC)
            yield IndexDocument(
                info_hash=f"{self.rng.getrandbits(160):040x}",
                title=title,
                files_text=files,
                kind=kind,
                category=category,
                year=fields.get("year"),  # type: ignore[arg-type]
                season=fields.get("season"),  # type: ignore[arg-type]
                episode=fields.get("episode"),  # type: ignore[arg-type]
                resolution=fields.get("res"),  # type: ignore[arg-type]
                sources=("bench",),
                seeders=min(int(self.rng.paretovariate(1.1)) - 1, 200_000),
                size=int(self.rng.lognormvariate(21, 1.2)),
                published_at=published,
            )


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200, help="timed runs per row (>= 200)")
    parser.add_argument("--batch", type=int, default=50_000, help="documents per upsert")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    gen = Generator(args.seed)
    with tempfile.TemporaryDirectory(prefix="minato-bench-") as tmp:
        index = TantivyIndex(Path(tmp) / "index")
        docs, build, cpu, seen = gen.documents(args.docs), 0.0, 0.0, []
        while batch := list(itertools.islice(docs, args.batch)):
            seen += [d.title for d in gen.rng.sample(batch, min(len(batch), 20))]
            began, began_cpu = time.perf_counter(), time.process_time()
            index.upsert(batch)
            build += time.perf_counter() - began
            cpu += time.process_time() - began_cpu
        index.close()  # let background merges finish: time the settled index
        index = TantivyIndex(Path(tmp) / "index", read_only=True)
        size = sum(p.stat().st_size for p in (Path(tmp) / "index").iterdir())
        print(f"indexed {index.stats().documents:,} docs in {build:.1f} s (CPU {cpu:.1f} s) ")
        print(
            f"({args.docs / build:,.0f} docs/s, batches of {args.batch:,}); {size / 2**20:.0f} MiB"
        )

        # Rare words: vocabulary tail words that some titles actually contain.
        rare = [w.lower() for w in gen.vocab[8_000:8_400]]
        rare = [w for w in rare if 0 < index.search(SearchQuery(text=w, limit=1)).total < 400]
        # Words of indexed titles: multi-word queries that do match, as users type them.
        sample = [w for w in (query_words(t) for t in seen) if len(w) > 3][:200]
        rows = [
            ("one word, common", ["1080p", "x264", "bluray"]),
            ("one word, rare", rare[:40]),
            ("two words", ["dragon 1080p", "matrix x265", "night 720p", "ubuntu desktop"]),
            ("two words from titles", [" ".join(w[:2]) for w in sample if len(w) > 1]),
            ("prefix", ["ubun", "matr", "drag", "linuxm"]),
            ("prefix, 1-2 letters", ["u", "ub", "m", "ma"]),
            ("3 words + prefix, titles", [f"{' '.join(w[:3])} {w[3][:3]}" for w in sample]),
            ("no text (newest first)", [""]),
        ]
        print(f"\nlimit 50; {args.runs} runs per cell; latency in ms (p50 / p95)")
        print(f"| {'query':<24} | {'avg matches':>11} | {'relevance':>15} | {'seeders':>15} |")
        print(f"|{'-' * 26}|{'-' * 13}|{'-' * 17}|{'-' * 17}|")
        for label, texts in rows:
            cells, totals = [], []
            for sort in (SortOrder.RELEVANCE, SortOrder.SEEDERS):
                samples = []
                for text in itertools.islice(itertools.cycle(texts), max(200, args.runs)):
                    began = time.perf_counter()
                    page = index.search(SearchQuery(text=text, sort=sort, limit=50))
                    samples.append((time.perf_counter() - began) * 1000)
                    totals.append(page.total)
                p50, p95 = statistics.median(samples), percentile(samples, 0.95)
                cells.append(f"{p50:6.2f} / {p95:6.2f}")
            print(f"| {label:<24} | {statistics.mean(totals):>11,.0f} | {cells[0]} | {cells[1]} |")
        index.close()


if __name__ == "__main__":
    main()
