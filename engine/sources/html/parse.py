"""Reading a site's pages with its definition: listing rows, the next page, detail pages.

Pure functions of (definition, page text, page URL, time now): no I/O, so the
golden tests run them straight on saved pages, and the crawler runs them in a
thread so a large page never stalls the event loop.

A row whose required field is missing or malformed is skipped and counted. The
page as a whole is judged by `check_listing`: no rows where the site should list
some, or more bad rows than good, means the site changed its markup, and the
crawl stops with `LayoutChanged` rather than store junk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from parsel import Selector as Page
from parsel import SelectorList

from engine.errors import LayoutChanged
from engine.models import FileEntry
from engine.sources.html.definition import FieldSpec, FilesSpec, Selector, SiteDefinition
from engine.sources.html.filters import FieldError, FilterContext

MAX_ROW_ERRORS: Final = 5
"""Reasons kept per page for the log and the layout-change message."""
MAX_FILES: Final = 20_000
MAX_DESCRIPTION_CHARS: Final = 32 * 1024
_ROW_KEYS: Final = ("details", "magnet", "info_hash")
_HTML_END: Final = re.compile(r"</html\s*>", re.IGNORECASE)
_TAIL_CHARS: Final = 4096
"""How far from the end of a page its `</html>` is looked for."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One result of a listing page, as the site shows it."""

    title: str
    details_url: str | None = None
    magnet: str | None = None
    info_hash: str | None = None
    download_url: str | None = None
    size: int | None = None
    seeders: int | None = None
    leechers: int | None = None
    published: datetime | None = None
    category: str | None = None
    """The site's own category code or label (see `SiteDefinition.category_map`)."""
    uploader: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListingPage:
    """What one listing page held."""

    url: str
    rows: tuple[Row, ...]
    bad_rows: int = 0
    errors: tuple[str, ...] = ()
    """Why rows were skipped (the first few)."""
    next_url: str | None = None
    says_no_results: bool = False
    """The page shows one of the definition's `no_results` texts."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Detail:
    """What a torrent's own page adds: any listing field, a description, the files."""

    url: str
    values: Mapping[str, Any] = field(default_factory=dict)
    files: tuple[FileEntry, ...] = ()


class HtmlSite:
    """Reads one site's pages; a subclass in `engine.sources.html.sites` adds real logic.

    Subclasses override the narrowest hook they need (`parse_files`, `row_values`),
    never the page-level judgment, so every site reports layout changes alike.
    """

    def __init__(self, definition: SiteDefinition) -> None:
        self.definition = definition
        self._folded_categories = {
            code.casefold(): number for code, number in definition.category_map.items()
        }

    @property
    def id(self) -> str:
        """The site's id (its definition's), as errors and logs name it."""
        return self.definition.id

    # ----------------------------------------------------------------- listing pages

    def parse_listing(self, text: str, url: str, now: datetime) -> ListingPage:
        """Every row of a listing page; rows that fail are counted, not raised."""
        page = document(text)
        ctx = FilterContext(page_url=url, now=now)
        spec = self.definition.listing
        rows: list[Row] = []
        errors: list[str] = []
        bad = 0
        cut_short = is_cut_short(text)
        for node in select(page, spec.rows):
            if cut_short and not node.xpath("following::*[1]"):
                # The page ends inside this row: its last cells may be cut mid-value
                # ("YTSA" for "YTSAGx"), which would still parse. Not kept, counted.
                bad += 1
                if len(errors) < MAX_ROW_ERRORS:
                    errors.append("the page ends inside this row")
                continue
            try:
                rows.append(self.make_row(self.row_values(node, ctx)))
            except FieldError as exc:
                bad += 1
                if len(errors) < MAX_ROW_ERRORS:
                    errors.append(str(exc))
        next_url = None
        if spec.next_page is not None:
            try:
                next_url = extract(page, spec.next_page, ctx)
            except FieldError:
                next_url = None
        body_text = (
            " ".join(" ".join(page.xpath("//body//text()").getall()).split()) if not rows else ""
        )
        return ListingPage(
            url=url,
            rows=tuple(rows),
            bad_rows=bad,
            errors=tuple(errors),
            next_url=next_url if next_url != url else None,
            says_no_results=any(marker in body_text for marker in spec.no_results),
        )

    def row_values(self, node: Page, ctx: FilterContext) -> dict[str, Any]:
        """The definition's listing fields of one row (a hook for sites with odd rows)."""
        return extract_fields(node, self.definition.listing.fields, ctx)

    def make_row(self, values: Mapping[str, Any]) -> Row:
        """A row from its field values; one with no way to find its torrent is refused."""
        if not any(values.get(key) for key in _ROW_KEYS):
            raise FieldError("no details link, magnet or info hash")
        return Row(
            title=values["title"],
            details_url=values.get("details"),
            magnet=values.get("magnet"),
            info_hash=values.get("info_hash"),
            download_url=values.get("download"),
            size=values.get("size"),
            seeders=values.get("seeders"),
            leechers=values.get("leechers"),
            published=values.get("published"),
            category=values.get("category"),
            uploader=values.get("uploader"),
        )

    # ------------------------------------------------------------------ detail pages

    def parse_detail(self, text: str, url: str, now: datetime) -> Detail:
        """A detail page's fields and files; a field the page lacks is simply absent."""
        spec = self.definition.detail
        if spec is None:
            return Detail(url=url)
        page = document(text)
        ctx = FilterContext(page_url=url, now=now)
        values: dict[str, Any] = {}
        for name, field_spec in spec.fields.items():
            try:
                values[name] = extract(page, field_spec, ctx)
            except FieldError:
                continue
        if "description" in values:
            values["description"] = values["description"][:MAX_DESCRIPTION_CHARS]
        files = self.parse_files(page, spec.files, ctx) if spec.files is not None else ()
        return Detail(url=url, values=values, files=files[:MAX_FILES])

    def parse_files(self, page: Page, spec: FilesSpec, ctx: FilterContext) -> tuple[FileEntry, ...]:
        """One entry per file row that has a path; a size that will not parse counts as 0."""
        files: list[FileEntry] = []
        for node in select(page, spec.rows)[:MAX_FILES]:
            try:
                path = extract(node, spec.path, ctx) if spec.path else text_of(node, own=False)
            except FieldError:
                continue
            try:
                size = extract(node, spec.size, ctx) if spec.size else 0
            except FieldError:
                size = 0
            if path:
                files.append(FileEntry(path=path, size=size))
        return tuple(files)

    # -------------------------------------------------------------------- judgment

    def check_listing(self, page: ListingPage, *, first: bool) -> None:
        """Raise `LayoutChanged` when the page cannot be a real listing of this site.

        No rows is fine when the page says so (`no_results`) or past the first page
        (the listing ended); otherwise the markup changed, or the mirror served
        something else. More bad rows than good means the fields moved.
        """
        total = len(page.rows) + page.bad_rows
        if total == 0:
            if page.says_no_results or not first:
                return
            raise LayoutChanged(self.id, page.url, "no result rows found")
        if page.bad_rows * 2 > total:
            why = "; ".join(page.errors[:2])
            raise LayoutChanged(
                self.id, page.url, f"{page.bad_rows} of {total} rows did not parse ({why})"
            )

    def category_id(self, code: str | None) -> int | None:
        """The Torznab category of a site category code, when the definition maps it.

        A code the map lacks falls back to the map's entry in any letter case, then
        to its parent path ("movies/Bollywood" -> "movies" -> Movies): sites add
        sub-categories without notice, and the parent is still the right answer.
        """
        if not code:
            return None
        exact = self.definition.category_map.get(code)
        if exact is not None:
            return exact
        path = code
        while path:
            found = self._folded_categories.get(path.casefold())
            if found is not None:
                return found
            path = path.rpartition("/")[0]
        return None


# ---------------------------------------------------------------- field extraction


def document(text: str) -> Page:
    """A page to select from, whatever the body held (empty, binary, lone surrogates, JSON).

    The type is fixed to HTML: left to guess, parsel takes a body that is valid JSON
    (a mirror's `{"error": ...}`) for JSON, and every XPath on it then raises.
    """
    try:
        return Page(text=text or "<html></html>", type="html")
    except UnicodeEncodeError:  # lone surrogates from a lenient decode
        return Page(text=text.encode("utf-8", "replace").decode("utf-8"), type="html")


def is_cut_short(text: str) -> bool:
    """Whether the page ends before its `</html>`: the body was cut off in transit."""
    return _HTML_END.search(text[-_TAIL_CHARS:]) is None


def select(node: Page, selector: Selector) -> SelectorList[Page]:
    """The nodes of the first alternative that finds any."""
    for xpath in selector.xpaths:
        found = node.xpath(xpath)
        if found:
            return found
    return SelectorList([])


def text_of(node: Page, *, own: bool) -> str:
    """A node's text with whitespace collapsed (only its own text nodes when `own`)."""
    parts = node.xpath("./text()" if own else ".//text()").getall()
    return " ".join(" ".join(parts).split())


def lines_of(node: Page) -> str:
    """A node's text as lines (a description keeps its line breaks, not its indentation)."""
    for br in node.root.iter("br") if hasattr(node.root, "iter") else ():
        br.tail = "\n" + (br.tail or "")
    text = "".join(node.xpath(".//text()").getall())
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def extract(node: Page, spec: FieldSpec, ctx: FilterContext) -> Any:
    """One field's value from `node`, through its filters.

    Raises:
        FieldError: the node or attribute is missing, empty, or a filter refused it.
    """
    target = node
    if spec.selector is not None:
        found = select(node, spec.selector)
        if not found:
            raise FieldError(f"{spec.name}: nothing at {spec.selector.source}")
        target = found[0]
    if spec.attr is not None:
        raw = target.attrib.get(spec.attr)
        value: Any = raw.strip() if raw else ""  # inner spaces can be part of a link
    elif spec.name == "description":
        value = lines_of(target)
    else:
        value = text_of(target, own=spec.own_text)
    if value == "":
        raise FieldError(f"{spec.name}: empty")
    try:
        for step in spec.steps:
            value = step(value, ctx)
    except FieldError as exc:
        raise FieldError(f"{spec.name}: {exc}") from None
    return value


def extract_fields(
    node: Page, fields: Mapping[str, FieldSpec], ctx: FilterContext
) -> dict[str, Any]:
    """Every field of `fields`; an optional one that fails is left out.

    Raises:
        FieldError: a required field failed.
    """
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        try:
            values[name] = extract(node, spec, ctx)
        except FieldError:
            if not spec.optional:
                raise
    return values
