"""Golden XML for caps and for each Torznab function, over a fixed, classified dataset.

Why golden files: the other Torznab tests check the fields clients need one by
one; these pin the whole document, byte for byte, so any change to what Minato
sends (an attribute renamed or dropped, a category moved, escaping, the pubDate
format, the enclosure type) shows up as a diff a reviewer reads, and is accepted
only by regenerating the goldens on purpose.

What varies per run is normalised before comparing: the loopback host and port
become `http://minato.test/` and the API key `APIKEY`. Every other value is fixed
(dates, hashes, seeders), so the documents must be identical on SQLite and
PostgreSQL, and both runs compare against the same files.

To regenerate after an intended change, run this module with MINATO_UPDATE_GOLDEN=1,
then read the changed files (and their diff) before committing them.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from lxml import etree

from engine.models import RawRecord
from engine.torrent import parse_torrent
from tests.conftest import FIXTURES
from tests.server.conftest import Api
from tests.server.torznab.conftest import TorznabFactory

GOLDEN = FIXTURES / "torznab" / "golden"
UPDATE_ENV = "MINATO_UPDATE_GOLDEN"
HOST = "http://minato.test/"
KEY = "APIKEY"
TORRENT_FILE = FIXTURES / "torrents" / "flexget_test.torrent"
"""A real .torrent (ubuntu-12.04.1-desktop-i386.iso, created 2012-08-23 22:47:27 UTC)."""
TORRENT_HASH = "14ffe5dd23188fd5cb53a1d47f1289db70abf31e"
_WRITTEN: dict[str, str] = {}
"""Documents written in this session under MINATO_UPDATE_GOLDEN=1, by golden name."""


def _hash(title: str) -> str:
    return hashlib.sha1(title.encode(), usedforsecurity=False).hexdigest()


def _at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Release:
    """One record of the dataset; everything a feed shows of it is fixed here."""

    title: str
    source: str
    published: datetime
    seeders: int
    leechers: int
    size: int
    imdb_id: str | None = None


RELEASES = (
    Release(
        "The.Matrix.1999.1080p.BluRay.x264-FGT",
        "1337x",
        _at(20, 5, 50, 48),
        120,
        3,
        8_500_000_000,
        "tt0133093",
    ),
    # Few seeders: "show name" ranks E03 (450 seeders, longer title) first by a wide margin.
    Release("Show.Name.S01E02.720p.HDTV.x264-GRP", "eztv", _at(23, 21, 15), 3, 9, 350_000_000),
    Release(
        "Show.Name.S01E03.1080p.WEB-DL.DDP5.1.H.264-GRP",
        "eztv",
        _at(24, 5, 50, 48),
        450,
        12,
        1_400_000_000,
    ),
    Release(
        "[SubsPlease] Sousou no Frieren - 12 (1080p) [6E3A9F10].mkv",
        "nyaa",
        _at(22, 16, 2, 7),
        800,
        25,
        1_450_000_000,
    ),
    Release(
        "Pink Floyd - The Dark Side of the Moon (1973) [FLAC]",
        "tpb",
        _at(18, 9, 30),
        12,
        1,
        240_000_000,
    ),
    Release("Frank Herbert - Dune (epub)", "tpb", _at(15, 0, 0, 1), 7, 0, 1_200_000),
    Release(
        'Tom & Jerry\'s "Greatest" <Chases> 1975 DVDRip XviD',
        "1337x",
        _at(10, 12, 0),
        5,
        2,
        700_000_000,
    ),
)


@dataclass(frozen=True, slots=True)
class Golden:
    """One request and the golden file its answer must equal."""

    name: str
    params: tuple[tuple[str, str], ...]
    keyed: bool = True


GOLDENS = (
    Golden("caps", (("t", "caps"),), keyed=False),
    Golden("search_q", (("t", "search"), ("q", "show name"))),
    Golden("search_all", (("t", "search"),)),
    Golden("search_escaping", (("t", "search"), ("q", "tom & jerry"))),
    Golden(
        "tvsearch_season_ep", (("t", "tvsearch"), ("q", "show name"), ("season", "1"), ("ep", "3"))
    ),
    Golden(
        "tvsearch_rss",
        (
            ("t", "tvsearch"),
            ("cat", "5030,5040"),
            ("extended", "1"),
            ("offset", "0"),
            ("limit", "100"),
        ),
    ),
    Golden("tvsearch_anime", (("t", "tvsearch"), ("cat", "5070"), ("q", "frieren"))),
    Golden("movie_imdb", (("t", "movie"), ("imdbid", "tt0133093"))),
    Golden(
        "music_artist_album", (("t", "music"), ("artist", "Pink Floyd"), ("album", "Dark Side"))
    ),
    Golden("book_author_title", (("t", "book"), ("author", "Frank Herbert"), ("title", "Dune"))),
    Golden("search_torrent_file", (("t", "search"), ("q", "ubuntu"))),
    Golden("error_bad_key", (("t", "search"), ("apikey", "wrong"))),
)


@pytest.fixture
async def torznab(serve_torznab: TorznabFactory) -> Api:
    """A live app over the fixed dataset, classified by the real classifier processes."""
    records = [
        RawRecord(
            source=r.source,
            title=r.title,
            info_hash=_hash(r.title),
            seeders=r.seeders,
            leechers=r.leechers,
            size=r.size,
            published_at=r.published,
            imdb_id=r.imdb_id,
        )
        for r in RELEASES
    ]
    return await serve_torznab(records, [(TORRENT_FILE.read_bytes(), "upload")])


def normalise(document: str, api: Api) -> str:
    """The answer with what differs per run (host:port, API key) replaced by fixed text."""
    base = str(api.client.make_url("/"))
    assert base.startswith("http://127.0.0.1:"), base
    return document.replace(base, HOST).replace(api.key, KEY)


async def answer(api: Api, golden: Golden) -> str:
    """The normalised body of the golden's request."""
    params = dict(golden.params)
    if golden.keyed and "apikey" not in params:
        params["apikey"] = api.key
    resp = await api.client.get("/torznab/all/api", params=params)
    assert resp.status == 200
    assert resp.charset == "utf-8"
    return normalise(await resp.text(), api)


@pytest.mark.parametrize("golden", GOLDENS, ids=[g.name for g in GOLDENS])
async def test_answer_matches_golden(torznab: Api, golden: Golden) -> None:
    """The whole normalised document equals its golden file, on SQLite and PostgreSQL alike."""
    document = await answer(torznab, golden)
    etree.fromstring(document.encode())  # well-formed, whatever the golden says
    path = GOLDEN / f"{golden.name}.xml"
    if os.environ.get(UPDATE_ENV) == "1":
        # Both databases must produce the same document: the second one written in this
        # session is compared with the first instead of silently replacing it.
        first = _WRITTEN.setdefault(golden.name, document)
        assert document == first, f"{golden.name}: SQLite and PostgreSQL answers differ"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document, "utf-8", newline="\n")
    assert path.is_file(), f"no golden {path}: run with {UPDATE_ENV}=1 to write it"
    expected = path.read_text("utf-8")
    if document != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                document.splitlines(keepends=True),
                f"golden/{path.name}",
                "answer",
            )
        )
        pytest.fail(f"answer differs from {path.name} ({UPDATE_ENV}=1 rewrites it):\n{diff}")


def test_every_golden_file_is_requested() -> None:
    """A golden left behind by a renamed request would never be compared again."""
    on_disk = {p.stem for p in GOLDEN.glob("*.xml")}
    assert on_disk == {g.name for g in GOLDENS}


async def test_torrent_file_enclosure_downloads_that_torrent(torznab: Api) -> None:
    """The golden enclosure of the ingested .torrent is a working link to the same file."""
    url = f"/torznab/all/download/{TORRENT_HASH}.torrent"
    resp = await torznab.client.get(url, params={"apikey": torznab.key})
    assert resp.status == 200
    assert resp.content_type == "application/x-bittorrent"
    served = parse_torrent(await resp.read(), max_bytes=10_000_000)
    assert served.info_hash == TORRENT_HASH
    assert served.name == "ubuntu-12.04.1-desktop-i386.iso"
