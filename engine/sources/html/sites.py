"""The Python side of site definitions: hooks for the sites data cannot describe, and the registry.

Most sites are pure data (`definitions/*.yml`) read by `HtmlSite`. A definition
names a class here with `class:` only when the site needs real logic; the table
`SITE_CLASSES` is the whole list (explicit, no import-time registration).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from parsel import Selector as Page

from engine.errors import ConfigError
from engine.models import FileEntry
from engine.sources.html.definition import FilesSpec, SiteDefinition
from engine.sources.html.filters import FieldError, FilterContext, make_step
from engine.sources.html.parse import MAX_FILES, HtmlSite, ListingPage, select

_SIZE: Final = make_step("size")
_SIZE_SEPARATOR: Final = re.compile(r"\s+-\s*$")


class _TreeLine(NamedTuple):
    """One entry of LimeTorrents' file tree, as printed."""

    indent: int
    """Leading non-breaking spaces."""
    name: str
    folder: bool
    size_text: str


class LimeTorrents(HtmlSite):
    """LimeTorrents prints its file list as one indented tree, not as paths.

    Each `div.fileline` holds entries separated by `<br>`: an icon span
    (`csprite_doc_dir` for a folder), the name, and for a file " - " and a
    `div.filelinesize`. Depth shows only as leading non-breaking spaces, and a
    folder opened on one line holds the following lines, across `div`s; so the
    paths are rebuilt with a stack of open folders.

    The indentation is not a fixed width per level: in the saved Sintel page the
    subfolder VIDEO_TS is indented 3, its files 9, and the files beside it (in the
    root folder) 4. What holds is that a child is indented well past its folder
    while a file sits one space past a folder at its own depth; so a folder is a
    line's parent only when it is indented at least two spaces less.
    """

    def parse_files(self, page: Page, spec: FilesSpec, ctx: FilterContext) -> tuple[FileEntry, ...]:
        """Every file of the tree with its full path (folders are not entries of their own)."""
        open_folders: list[tuple[int, str]] = []
        files: list[FileEntry] = []
        for node in select(page, spec.rows):
            for line in _tree_lines(node.root):
                if not line.name:
                    continue
                while open_folders and open_folders[-1][0] >= line.indent - 1:
                    open_folders.pop()
                if line.folder:
                    open_folders.append((line.indent, line.name))
                    continue
                path = "/".join([*(name for _, name in open_folders), line.name])
                files.append(FileEntry(path=path, size=_size_or_zero(line.size_text, ctx)))
                if len(files) >= MAX_FILES:
                    return tuple(files)
        return tuple(files)


def _tree_lines(node: Any) -> list[_TreeLine]:
    """The `<br>`-separated entries of one `div.fileline` (an lxml element)."""
    lines: list[_TreeLine] = []
    text: list[str] = [node.text or ""]
    folder, size_text = False, ""
    for child in node:
        if isinstance(child.tag, str):  # comments and processing instructions have no name
            classes = (child.get("class") or "").split()
            if child.tag == "br":
                lines.append(_tree_line("".join(text), folder, size_text))
                text, folder, size_text = [], False, ""
            elif "filelinesize" in classes:
                size_text = " ".join(child.text_content().split())
            elif "csprite_doc_dir" in classes:
                folder = True
            elif not any(name.startswith("csprite_") for name in classes):
                text.append(child.text_content())
        text.append(child.tail or "")
    lines.append(_tree_line("".join(text), folder, size_text))
    return lines


def _tree_line(text: str, folder: bool, size_text: str) -> _TreeLine:
    lead = text[: len(text) - len(text.lstrip())]
    name = text.strip()
    if size_text:
        name = _SIZE_SEPARATOR.sub("", name)
    return _TreeLine(indent=lead.count("\u00a0"), name=name, folder=folder, size_text=size_text)


def _size_or_zero(text: str, ctx: FilterContext) -> int:
    """A file's size in bytes; 0 when the page shows none or one that will not parse."""
    if not text:
        return 0
    try:
        size: int = _SIZE(text, ctx)
    except FieldError:
        return 0
    return size


class TorrentDownloads(HtmlSite):
    """TorrentDownloads tells an empty search only by its count: "(total 0 torrents found)".

    The number is an element of its own (`<span class="num">0</span>`), so no single
    text of the page says "no results"; a page without rows whose heading counts 0
    results is an empty search, not a changed layout.
    """

    def parse_listing(self, text: str, url: str, now: datetime) -> ListingPage:
        """The plain reading, plus `says_no_results` when an empty page counts 0 results."""
        page = super().parse_listing(text, url, now)
        if page.rows or page.bad_rows or page.says_no_results:
            return page
        count = Page(text=text or "<html></html>").css("h1 span.num::text").get()
        if count is not None and count.strip() == "0":
            return dataclasses.replace(page, says_no_results=True)
        return page


SITE_CLASSES: Final[Mapping[str, type[HtmlSite]]] = MappingProxyType(
    {"limetorrents": LimeTorrents, "torrentdownloads": TorrentDownloads}
)
"""`class:` name in a definition -> the class that reads that site."""


def build_site(definition: SiteDefinition) -> HtmlSite:
    """The reader for a definition: its `class:` if it names one, else the plain `HtmlSite`.

    Raises:
        ConfigError: `class:` names no class of `SITE_CLASSES`.
    """
    if definition.hooks is None:
        return HtmlSite(definition)
    cls = SITE_CLASSES.get(definition.hooks)
    if cls is None:
        known = ", ".join(sorted(SITE_CLASSES))
        raise ConfigError(
            f"{definition.path}: class: unknown site class {definition.hooks!r} (known: {known})"
        )
    return cls(definition)
