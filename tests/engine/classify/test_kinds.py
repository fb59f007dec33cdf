"""Tests for engine.classify.kinds: the decision order, every rule, and odd input.

The table holds realistic release names (scene, P2P, fansub, site-tagged), with files
or a source category where the rule under test needs them, and the kind and Torznab
category we expect. Each row names the rule it exercises.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from engine.classify import classify, parse_title
from engine.classify import titles as titles_module
from engine.models import Classification, ContentKind, FileEntry

K = ContentKind
MB = 1 << 20
GB = 1 << 30


def files(*pairs: tuple[str, int]) -> tuple[FileEntry, ...]:
    return tuple(FileEntry(path=path, size=size) for path, size in pairs)


@dataclass(frozen=True)
class Row:
    rule: str
    title: str
    kind: ContentKind
    category: int
    files: tuple[FileEntry, ...] = ()
    source: str | None = None


SEASON_PACK = files(*((f"Show/Show.S01E{n:02}.720p.mkv", 700 * MB) for n in range(1, 9)))
ALBUM_FLAC = files(*((f"Album/{n:02} - Track.flac", 30 * MB) for n in range(1, 11)))
ALBUM_MP3 = files(*((f"Album/{n:02} - Track.mp3", 9 * MB) for n in range(1, 11)))

ROWS = [
    # 1. source category: a Torznab id, a Torznab name, or a site's label
    Row("source id", "Anything At All", K.MOVIE, 2040, source="2040"),
    Row("source parent id refined", "Film.2019.2160p.WEB-DL.x265", K.MOVIE, 2045, source="2000"),
    Row("source id anime", "Whatever - 01", K.ANIME, 5070, source="5070"),
    Row("source id audiobook", "Some Book", K.AUDIOBOOK, 3030, source="3030"),
    Row("source name", "X", K.TV, 5045, source="TV/UHD"),
    Row("label tv", "Show.S01E01.720p.HDTV.x264-GRP", K.TV, 5040, source="TV"),
    Row("label nested", "Show S02E05 1080p", K.TV, 5040, source="Video > HD - TV shows"),
    Row("label anime", "Frieren - 12 [1080p]", K.ANIME, 5070, source="Anime - English-translated"),
    Row("label music", "Artist - Album (2020)", K.MUSIC, 3000, source="Music"),
    Row("label lossless", "Artist - Album", K.MUSIC, 3040, source="Audio > FLAC"),
    Row("label music video", "Artist - Live 2019", K.MUSIC, 3020, source="Video > Music videos"),
    Row("label games", "Some Game", K.GAME, 4050, source="Games > Mac"),
    Row("label apps", "Some Tool 2.0", K.SOFTWARE, 4000, source="Applications"),
    Row("label ebook", "Some Book", K.EBOOK, 7020, source="Other > E-books"),
    Row("label comics", "Some Comic #1", K.COMIC, 7030, source="Comics"),
    Row("label xxx", "Scene 2020 1080p", K.XXX, 6000, source="Porn > Movies"),
    Row("label audiobooks", "Narrator - Book", K.AUDIOBOOK, 3030, source="Audiobooks"),
    Row("label video", "Documentary.2020.1080p.WEB.h264", K.MOVIE, 2040, source="Video"),
    Row("label other ignored", "Show.S03E04.1080p.WEB.h264-GRP", K.TV, 5040, source="Other"),
    Row("unknown id ignored", "Movie.2015.720p.BluRay.x264", K.MOVIE, 2040, source="207"),
    # 2. files
    Row("files video movie", "Sintel", K.MOVIE, 2000, files(("Sintel/sintel.mkv", 2 * GB))),
    Row("files video tv", "Show Season 1", K.TV, 5040, SEASON_PACK),
    Row(
        "files bluray disc",
        "Movie.2012.1080p.BluRay.AVC",
        K.MOVIE,
        2050,
        files(("BDMV/STREAM/00001.m2ts", 30 * GB)),
    ),
    Row(
        "files dvd disc",
        "Movie.1999.DVD",
        K.MOVIE,
        2070,
        files(("VIDEO_TS/VTS_01_1.VOB", GB), ("VIDEO_TS/VTS_01_0.IFO", 20_000)),
    ),
    Row("files flac", "Artist - Album", K.MUSIC, 3040, ALBUM_FLAC),
    Row("files mp3", "Artist - Album", K.MUSIC, 3010, ALBUM_MP3),
    Row("files m4b", "The Stand", K.AUDIOBOOK, 3030, files(("The Stand.m4b", 900 * MB))),
    Row(
        "files audio + word",
        "Dune (Unabridged)",
        K.AUDIOBOOK,
        3030,
        files(("Dune/01.mp3", 50 * MB), ("Dune/02.mp3", 50 * MB)),
    ),
    Row("files ebook", "Collected Works", K.EBOOK, 7020, files(("a.epub", MB), ("b.mobi", MB))),
    Row("files comic", "Saga Vol 1", K.COMIC, 7030, files(("Saga 001.cbz", 60 * MB))),
    Row("files exe", "SomeTool", K.SOFTWARE, 4000, files(("SomeTool/setup.exe", 80 * MB))),
    Row("files dmg", "SomeTool", K.SOFTWARE, 4030, files(("SomeTool.dmg", 80 * MB))),
    Row("files apk", "SomeApp", K.SOFTWARE, 4070, files(("someapp.apk", 40 * MB))),
    Row(
        "files iso + software word",
        "debian-12.2.0-amd64-DVD-1",
        K.SOFTWARE,
        4000,
        files(("debian-12.2.0-amd64-DVD-1.iso", 4 * GB)),
    ),
    Row(
        "files fitgirl",
        "Elden Ring",
        K.GAME,
        4050,
        files(("ER/setup.exe", 5 * MB), ("ER/fg-01.bin", 4 * GB), ("ER/fg-02.bin", 4 * GB)),
    ),
    Row(
        "files setup.exe + repack",
        "Some Game Repack",
        K.GAME,
        4050,
        files(("Some Game/setup.exe", 3 * GB)),
    ),
    Row(
        "files steam_api",
        "Big Game",
        K.GAME,
        4050,
        files(("Big/Game.exe", 50 * MB), ("Big/steam_api64.dll", MB), ("Big/data.pak", 40 * GB)),
    ),
    # 3. title
    Row("tv SxxEyy", "The.Bear.S02E01.720p.WEB.h264-GRP", K.TV, 5040),
    Row("tv uhd", "Show.S01E01.2160p.WEB-DL.DDP5.1.HDR.H.265-GRP", K.TV, 5045),
    Row("tv sd", "Friends.S01.DVDRip.XviD-GRP", K.TV, 5030),
    Row("tv season words", "Stranger Things Season 4 Complete", K.TV, 5000),
    Row("tv daily", "The.Daily.Show.2024.01.15.720p.WEB.h264-EDITH", K.TV, 5040),
    Row("tv site tag", "[ www.Torrenting.com ] - The.Bear.S02E01.720p.WEB.h264-GRP", K.TV, 5040),
    Row("anime group", "[SubsPlease] Frieren - 12 (1080p) [F00DCAFE].mkv", K.ANIME, 5070),
    Row("anime raws", "[Zero-Raws] One Piece - 1071 (CX 1280x720 x264 AAC)", K.ANIME, 5070),
    Row("anime unknown group", "[Foo] Some Show - 05 [720p][ABCD1234]", K.ANIME, 5070),
    Row("movie year+res", "Sintel (2010) 1080p", K.MOVIE, 2040),
    Row("movie site tag", "[YTS.MX] Dune Part Two (2024) [1080p] [WEBRip] [5.1]", K.MOVIE, 2040),
    Row("movie uhd", "Dune.2021.2160p.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX", K.MOVIE, 2045),
    Row("movie uhd remux", "Oppenheimer.2023.2160p.UHD.BluRay.REMUX.HDR.TrueHD-FGT", K.MOVIE, 2045),
    Row("movie remux", "Oppenheimer.2023.1080p.BluRay.REMUX.AVC.DTS-HD.MA.5.1-FGT", K.MOVIE, 2050),
    Row("movie bd50", "Movie.1999.BD50.AVC.DTS-HD.MA-GRP", K.MOVIE, 2050),
    Row("movie 3d", "Avatar.2009.3D.HSBS.1080p.BluRay.x264-GRP", K.MOVIE, 2060),
    Row("movie dvdr", "Movie.2015.DVDR-NTSC-GRP", K.MOVIE, 2070),
    Row("movie sd", "Movie.2009.DVDRip.XviD-GRP", K.MOVIE, 2030),
    Row("movie cam", "Movie.2023.HDCAM.x264-GRP", K.MOVIE, 2030),
    Row("movie web no res", "Movie.2016.WEB-DL.x264-GRP", K.MOVIE, 2080),
    Row("movie no year", "Inception 1080p BluRay x264", K.MOVIE, 2040),
    Row("movie xXx is a film", "xXx.2002.1080p.BluRay.x264-GRP", K.MOVIE, 2040),
    Row("movie reloaded is a film", "The Matrix Reloaded 2003 1080p BluRay x264", K.MOVIE, 2040),
    Row("music flac", "Pink Floyd - Discography 1967-2014 (FLAC)", K.MUSIC, 3040),
    Row("music mp3", "Metallica - Master of Puppets (1986) [MP3 320kbps]", K.MUSIC, 3010),
    Row("music album word", "Adele - 30 (2021) Album", K.MUSIC, 3000),
    Row("audiobook word", "Stephen King - The Stand (Unabridged) [Audiobook]", K.AUDIOBOOK, 3030),
    Row("ebook word", "Brandon Sanderson - Mistborn 01 - The Final Empire (epub)", K.EBOOK, 7020),
    Row("comic word", "Batman - The Long Halloween 01-13 (1996) (Digital) cbr", K.COMIC, 7030),
    Row("software version", "Adobe Photoshop 2024 v25.0.0.37 x64 Portable", K.SOFTWARE, 4000),
    Row("software windows", "Windows 11 23H2 Build 22631.2428 x64 ISO", K.SOFTWARE, 4000),
    Row("software distro", "ubuntu-22.04.3-desktop-amd64.iso", K.SOFTWARE, 4000),
    Row("software mac", "Final Cut Pro 10.6.5 macOS", K.SOFTWARE, 4030),
    Row("software android", "WhatsApp Messenger v2.23.1 MOD APK", K.SOFTWARE, 4070),
    Row("game group", "Hogwarts.Legacy-EMPRESS", K.GAME, 4050),
    Row("game repacker", "Elden Ring [FitGirl Repack]", K.GAME, 4050),
    Row("game gog", "Cyberpunk.2077.v2.1-GOG", K.GAME, 4050),
    Row("game console", "Zelda Tears of the Kingdom NSW XCI", K.GAME, 1000),
    Row("xxx marker", "Brazzers.20.01.15.Jane.Doe.XXX.1080p.MP4-KTR", K.XXX, 6000),
    Row("other", "Big Buck Bunny", K.OTHER, 8000),
    Row("other ambiguous iso", "Mystery Disc", K.OTHER, 8000, files(("disc.iso", 4 * GB))),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.rule for row in ROWS])
def test_table(row: Row) -> None:
    result = classify(row.title, row.files, row.source)
    assert (result.kind, result.category) == (row.kind, row.category), result.reason
    assert result.reason


def test_table_covers_every_kind() -> None:
    assert {row.kind for row in ROWS} == set(ContentKind)


@pytest.mark.parametrize(
    ("title", "files_", "source", "reason"),
    [
        ("X", (), "2040", "source category '2040'"),
        ("X", (), "Video > HD - Movies", "source label 'Video > HD - Movies'"),
        ("Sintel", files(("s.mkv", GB)), None, "files: 100% video; no episode markers"),
        ("Show.S01E01.720p.HDTV", (), None, "title: season/episode or air date"),
        ("Artist - Title [FLAC]", (), None, "title: audio format ('FLAC')"),
        ("Artist - Album", (), None, "title: music word ('Album')"),
        ("Big Buck Bunny", (), None, "no rule matched"),
    ],
)
def test_reasons(
    title: str, files_: tuple[FileEntry, ...], source: str | None, reason: str
) -> None:
    assert classify(title, files_, source).reason == reason


def test_source_category_beats_files_and_files_beat_title() -> None:
    album = classify("Show.S01E01.720p.HDTV.x264", ALBUM_FLAC)
    assert album.kind is K.MUSIC
    assert classify("Show.S01E01.720p.HDTV.x264", ALBUM_FLAC, "5000").kind is K.TV


def test_an_episode_filed_under_movies_is_tv_and_a_numbered_movie_stays_a_movie() -> None:
    misfiled = classify("Arrow.S05E07.720p.WEB-DL.2CH.x265.HEVC-PSA", (), "2040")
    assert (misfiled.kind, misfiled.season, misfiled.episode) == (K.TV, 5, 7)
    assert misfiled.category == 5040  # TV/HD: the 720p of the parse
    assert classify("13 (2010) [720p] [BluRay] [YTS]", (), "2040").kind is K.MOVIE
    assert classify("Se7en.1995.1080p.BluRay.x264", (), "2000").kind is K.MOVIE


def test_files_without_sizes_are_counted() -> None:
    unsized = files(("a.epub", 0), ("b.epub", 0), ("c.jpg", 0))
    assert classify("Collection", unsized).kind is K.EBOOK


def test_mixed_files_fall_back_to_the_title() -> None:
    mixed = files(("a.mkv", GB), ("b.flac", GB), ("c.epub", GB))
    assert classify("Show.S01E01.720p.HDTV.x264", mixed).kind is K.TV


def test_fields_come_from_the_parse() -> None:
    result = classify("The.Bear.S02E01.FRENCH.720p.WEB.h264-GRP")
    assert result == Classification(
        kind=K.TV,
        category=5040,
        reason="title: season/episode or air date",
        season=2,
        episode=1,
        resolution="720p",
        video_codec="H.264",
        media_source="WEB-DL",
        release_group="GRP",
        languages=("fr",),
    )


def test_daily_show_year_comes_from_its_date() -> None:
    result = classify("The.Daily.Show.2024.01.15.720p.WEB.h264-EDITH")
    assert (result.year, result.season, result.episode) == (2024, None, None)


def test_video_fields_are_dropped_for_other_kinds() -> None:
    # guessit reads "episodes" and sources in software names; they are not kept.
    result = classify("Windows 10 Pro 21H2 x64 DVD ISO")
    assert result.kind is K.SOFTWARE
    assert (result.season, result.episode, result.media_source, result.resolution) == (None,) * 4


def test_a_given_parse_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = parse_title("Movie.2010.1080p.BluRay.x264-GRP")

    def no_parsing(_text: str) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(titles_module, "guessit_parse", no_parsing)
    titles_module._parse_clean.cache_clear()
    assert classify("Movie.2010.1080p.BluRay.x264-GRP", parsed=parsed).category == 2040


def test_pure_same_input_same_output() -> None:
    args = ("Show.S01E01.720p.HDTV.x264-GRP", SEASON_PACK, "Video > TV")
    assert classify(*args) == classify(*args)


ODD = [
    "",
    " ",
    "\x00\x01\xff\ud800",
    "x" * 10_000,
    "S01E01 " * 3_000,
    "映画 (2020) [1080p]",
    "🎬" * 500,
]


@pytest.mark.parametrize("title", ODD)
def test_odd_titles_never_raise(title: str) -> None:
    odd_files = files(("", -1), ("\x00/\\..", 0), ("a" * 5000, 10**15), ("noext", 5))
    for source in (None, "", "  ", "99999999999", "-1", "\x00", "💥", "Movies" * 1000):
        for entries in ((), odd_files):
            result = classify(title, entries, source)
            assert isinstance(result, Classification)
            assert result.reason
