"""The Python hooks of site definitions, on small pages built like the sites' own markup."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.sources.html.definition import BUILTIN_DEFINITIONS, load_definition
from engine.sources.html.parse import HtmlSite
from engine.sources.html.sites import SITE_CLASSES, LimeTorrents, TorrentDownloads, build_site

NOW = datetime(2017, 7, 27, tzinfo=UTC)
NBSP = "&nbsp;"


def _dir(indent: int, name: str) -> str:
    return f'{NBSP * indent}<span class="csprite_doc_dir"></span> {name}<br />'


def _file(indent: int, name: str, size: str) -> str:
    return (
        f'{NBSP * indent}<span class="csprite_doc_video"></span> {name} -  '
        f'<div class="filelinesize">{size}</div><br />'
    )


def _lime_files(*lines: str) -> list[tuple[str, int]]:
    """The files LimeTorrents' hook reads from `div.fileline`s holding `lines`."""
    site = build_site(load_definition(BUILTIN_DEFINITIONS / "limetorrents.yml"))
    body = "".join(f'<div class="fileline">{line}</div>' for line in lines)
    detail = site.parse_detail(f"<html><body>{body}</body></html>", "https://lime.test/x.html", NOW)
    return [(entry.path, entry.size) for entry in detail.files]


def test_single_file_torrent_is_its_name() -> None:
    assert _lime_files(_file(0, "Movie.2017.1080p.mkv", "1.5 GB")) == [
        ("Movie.2017.1080p.mkv", int(1.5 * 1024**3))
    ]


def test_sibling_folders_do_not_nest() -> None:
    files = _lime_files(
        _dir(0, "Show S01") + _dir(3, "Season 1") + _file(9, "e01.mkv", "700 MB"),
        _file(9, "e02.mkv", "701 MB"),
        _dir(3, "Extras") + _file(9, "making-of.mkv", "100 MB"),
        _file(4, "readme.txt", "2 KB"),
    )
    assert [path for path, _ in files] == [
        "Show S01/Season 1/e01.mkv",
        "Show S01/Season 1/e02.mkv",
        "Show S01/Extras/making-of.mkv",
        "Show S01/readme.txt",
    ]


def test_names_keep_their_own_dashes_and_spaces() -> None:
    files = _lime_files(_dir(0, "VA - Hits") + _file(4, "01 - Artist  - Song.mp3", "5 MB"))
    assert files == [("VA - Hits/01 - Artist  - Song.mp3", 5 * 1024**2)]


def test_unreadable_size_counts_as_zero() -> None:
    assert _lime_files(_file(0, "a.bin", "unknown")) == [("a.bin", 0)]


@pytest.mark.parametrize(
    ("site_id", "expected"),
    [
        ("thepiratebay", HtmlSite),
        ("limetorrents", LimeTorrents),
        ("torrentdownloads", TorrentDownloads),
    ],
)
def test_definition_builds_its_reader(site_id: str, expected: type[HtmlSite]) -> None:
    definition = load_definition(BUILTIN_DEFINITIONS / f"{site_id}.yml")
    site = build_site(definition)
    assert definition.id == site_id  # the id resources/sites.toml configures
    assert type(site) is expected
    if definition.hooks is not None:
        assert SITE_CLASSES[definition.hooks] is expected


def test_unknown_class_is_refused_at_start() -> None:
    definition = load_definition(BUILTIN_DEFINITIONS / "limetorrents.yml")
    with pytest.raises(ConfigError, match="unknown site class 'limetorent'"):
        build_site(replace(definition, hooks="limetorent", path=Path("sites/lime.yml")))
