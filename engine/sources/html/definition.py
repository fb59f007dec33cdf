"""Site definitions: an HTML torrent site described as data, loaded and checked once.

A definition file (`definitions/<id>.yml`, or the user's `sites/` directory) says
where a site's listings are, how to find rows and fields in them, how to reach the
next page, what its detail page adds, and how its categories map to Torznab ones.
Everything is checked when the file is loaded: an unknown key or filter, a CSS or
XPath selector that does not compile, a field whose filters give the wrong type
or a category that is not a Torznab id is a `ConfigError` naming the file and the
key, so a mistake never reaches a crawl.

Shape (every key but `id`, `listing` and one mode is optional):

    id: examplesite
    name: Example
    class: examplesite            # Python hooks from engine.sources.html.sites, if any
    defaults: {mirrors: [...], every: 30m, depth: 3}   # for sites not in sites.toml
    paths:
      latest: [/recent/{page}/]    # {page}: the page number, from first_page
      search: /search/{query}/{page}/
      browse: /cat/{category}/{page}/
    first_page: 1
    query_encoding: plus           # plus ("a+b"), percent ("a%20b") or dash ("a-b")
    browse_categories: [Movies, TV]
    listing:
      rows: table.results tr       # CSS, {css: ...}, {xpath: ...}, or a list of either
      no_results: ["No results"]  # text that makes an empty page legitimate
      next_page: {css: a.next, attr: href, then: [absolute_url]}
      fields: {title: {css: a.name}, size: {css: td.size, then: [size]}, ...}
    detail:
      fields: {info_hash: {css: "a[href^='magnet:']", attr: href, then: [info_hash]}}
      files: {rows: ul.files li, path: {...}, size: {...}}
    category_map: {Movies: 2000, "42": 2040}
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import yaml
from lxml import etree
from parsel.csstranslator import css2xpath

from engine.classify.categories import is_known
from engine.errors import ConfigError
from engine.site_config import parse_every
from engine.sources.html.filters import Step, make_step

BUILTIN_DEFINITIONS: Final = Path(__file__).resolve().parent / "definitions"
MAX_DEFINITION_BYTES: Final = 256 * 1024
MODES: Final = ("latest", "browse", "search")
QUERY_ENCODINGS: Final = frozenset({"plus", "percent", "dash"})
_ID: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")

LISTING_FIELDS: Final[Mapping[str, type]] = MappingProxyType(
    {
        "title": str,
        "details": str,
        "magnet": str,
        "info_hash": str,
        "download": str,
        "size": int,
        "seeders": int,
        "leechers": int,
        "published": datetime,
        "category": str,
        "uploader": str,
    }
)
"""Fields a listing row may have, and the type each must end as."""
DETAIL_FIELDS: Final[Mapping[str, type]] = MappingProxyType({**LISTING_FIELDS, "description": str})
_SITE_KEYS: Final = frozenset(
    {
        "id",
        "name",
        "class",
        "defaults",
        "paths",
        "first_page",
        "query_encoding",
        "browse_categories",
        "listing",
        "detail",
        "category_map",
        "detail_concurrency",
        "detail_refresh",
    }
)
_FIELD_KEYS: Final = frozenset({"css", "xpath", "attr", "own_text", "then", "optional"})
_DEFAULT_KEYS: Final = frozenset(
    {"enabled", "mirrors", "proxy", "min_interval_s", "depth", "every", "user_agent"}
    | {"health_path", "search_depth"}
)


@dataclass(frozen=True, slots=True)
class Selector:
    """Where a value is: XPath expressions tried in order, the first that finds a node wins."""

    xpaths: tuple[str, ...]
    source: str
    """As written in the definition (for messages)."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field: where it is, which part of the node (attribute or text), then its filters."""

    name: str
    selector: Selector | None
    """None: the row (or page) node itself."""
    attr: str | None = None
    own_text: bool = False
    """Only the node's own text, not its children's ("1.9 GB<span>15105</span>")."""
    steps: tuple[Step, ...] = ()
    optional: bool = False


@dataclass(frozen=True, slots=True)
class FilesSpec:
    """A detail page's file list: one row per file, with its path and size."""

    rows: Selector
    path: FieldSpec | None
    size: FieldSpec | None


@dataclass(frozen=True, slots=True)
class ListingSpec:
    """How to read a page of results."""

    rows: Selector
    fields: Mapping[str, FieldSpec]
    next_page: FieldSpec | None = None
    no_results: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DetailSpec:
    """What a torrent's own page adds to its listing row."""

    fields: Mapping[str, FieldSpec]
    files: FilesSpec | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteDefinition:
    """A whole site, as loaded from its file."""

    id: str
    name: str
    path: Path
    hooks: str | None = None
    """The Python class (engine.sources.html.sites) that adds logic, if the site needs some."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Site settings (mirrors, every...) for a site that resources/sites.toml does not list."""
    latest: tuple[str, ...] = ()
    search: str | None = None
    browse: str | None = None
    first_page: int = 1
    query_encoding: str = "plus"
    browse_categories: tuple[str, ...] = ()
    listing: ListingSpec
    detail: DetailSpec | None = None
    category_map: Mapping[str, int] = field(default_factory=dict)
    detail_concurrency: int = 4
    detail_refresh_s: float = 7 * 86_400.0
    """A detail page read this long ago is read again (seeders change, descriptions get fixed)."""

    def modes(self) -> tuple[str, ...]:
        """The crawl modes this site has paths for."""
        have = {
            "latest": bool(self.latest),
            "search": bool(self.search),
            "browse": bool(self.browse),
        }
        return tuple(mode for mode in MODES if have[mode])


class _Problems:
    """Collects every problem of one file, so one start shows them all."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[str] = []

    def add(self, key: str, text: str) -> None:
        self.found.append(f"{self.path}: {key}: {text}")

    def raise_if_any(self) -> None:
        if self.found:
            raise ConfigError("invalid site definition:\n  " + "\n  ".join(self.found))


def load_definition(path: Path) -> SiteDefinition:
    """Read and check one definition file.

    Raises:
        ConfigError: naming the file and the key of every problem found.
    """
    problems = _Problems(path)
    try:
        if path.stat().st_size > MAX_DEFINITION_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_DEFINITION_BYTES // 1024} KiB")
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the site definition: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a site definition is a mapping (id:, paths:, listing:...)")
    definition = _definition(data, path, problems)
    problems.raise_if_any()
    if definition is None:  # cannot happen: no problems means every part was built
        raise ConfigError(f"{path}: invalid site definition")
    return definition


def load_definitions(*directories: Path) -> dict[str, SiteDefinition]:
    """Every `*.yml` of `directories` in order; a later file may not reuse an earlier id.

    Raises:
        ConfigError: a bad file, or an id defined twice.
    """
    found: dict[str, SiteDefinition] = {}
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.yml")):
            definition = load_definition(path)
            earlier = found.get(definition.id)
            if earlier is not None:
                raise ConfigError(
                    f"{path}: id: {definition.id!r} is already defined by {earlier.path}"
                )
            found[definition.id] = definition
    return found


def _definition(data: dict[str, Any], path: Path, problems: _Problems) -> SiteDefinition | None:
    for key in sorted(set(data) - _SITE_KEYS, key=str):
        problems.add(str(key), f"unknown key (known: {', '.join(sorted(_SITE_KEYS))})")
    site_id = data.get("id")
    if not isinstance(site_id, str) or not _ID.match(site_id):
        problems.add("id", f"{site_id!r} must match {_ID.pattern}")
        site_id = "?"
    paths = _mapping(data.get("paths", {}), "paths", problems)
    for key in sorted(set(paths) - set(MODES), key=str):
        problems.add(f"paths.{key}", f"unknown mode (known: {', '.join(MODES)})")
    latest = _path_list(paths.get("latest"), "paths.latest", problems)
    search = _path(paths.get("search"), "paths.search", problems, needs="{query}")
    browse = _path(paths.get("browse"), "paths.browse", problems, needs="{category}")
    if not (latest or search or browse):
        problems.add("paths", "give at least one of latest, search, browse")
    encoding = data.get("query_encoding", "plus")
    if encoding not in QUERY_ENCODINGS:
        problems.add("query_encoding", f"{encoding!r} is not one of {sorted(QUERY_ENCODINGS)}")
    listing = _listing(data.get("listing"), problems)
    detail = _detail(data.get("detail"), problems) if "detail" in data else None
    if (
        listing is not None
        and detail is None
        and not ({"info_hash", "magnet"} & set(listing.fields))
    ):
        problems.add("listing.fields", "no info_hash or magnet, and no detail page to find it")
    category_map = _categories(data.get("category_map", {}), problems)
    refresh = _every(data.get("detail_refresh", "7d"), problems)
    defaults = _mapping(data.get("defaults", {}), "defaults", problems)
    for key in sorted(set(defaults) - _DEFAULT_KEYS, key=str):
        problems.add(f"defaults.{key}", f"unknown key (known: {', '.join(sorted(_DEFAULT_KEYS))})")
    hooks = data.get("class")
    if hooks is not None and not isinstance(hooks, str):
        problems.add("class", "give the name of a class in engine.sources.html.sites")
    if listing is None or problems.found:
        return None
    return SiteDefinition(
        id=site_id,
        name=str(data.get("name") or site_id),
        path=path,
        hooks=hooks,
        defaults=MappingProxyType(dict(defaults)),
        latest=latest,
        search=search,
        browse=browse,
        first_page=_int(data.get("first_page", 1), "first_page", problems, 0, 1),
        query_encoding=str(encoding),
        browse_categories=tuple(str(c) for c in data.get("browse_categories") or ()),
        listing=listing,
        detail=detail,
        category_map=category_map,
        detail_concurrency=_int(data.get("detail_concurrency", 4), "detail_concurrency", problems),
        detail_refresh_s=refresh,
    )


def _mapping(value: Any, key: str, problems: _Problems) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    problems.add(key, "must be a mapping")
    return {}


def _int(value: Any, key: str, problems: _Problems, low: int = 1, high: int = 64) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.add(key, f"{value!r} must be a whole number from {low} to {high}")
        return low
    return value


def _every(value: Any, problems: _Problems) -> float:
    try:
        seconds = parse_every(str(value))
    except ValueError as exc:
        problems.add("detail_refresh", f"{exc} (write an interval such as 7d or 12h)")
        return 7 * 86_400.0
    if seconds is None:
        problems.add("detail_refresh", "must be an interval, not continuous")
        return 7 * 86_400.0
    return seconds


def _path(value: Any, key: str, problems: _Problems, *, needs: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("/") or not value.isprintable():
        problems.add(key, f"{value!r} is not a path starting with /")
        return None
    if needs not in value:
        problems.add(key, f"{value!r} has no {needs} placeholder")
        return None
    for name in re.findall(r"\{([^}]*)\}", value):
        if name not in ("query", "page", "category"):
            problems.add(key, f"unknown placeholder {{{name}}} (known: query, page, category)")
    return value


def _path_list(value: Any, key: str, problems: _Problems) -> tuple[str, ...]:
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list):
        problems.add(key, "give a path or a list of paths")
        return ()
    paths = []
    for i, item in enumerate(values):
        if not isinstance(item, str) or not item.startswith("/") or not item.isprintable():
            problems.add(f"{key}[{i}]", f"{item!r} is not a path starting with /")
        elif set(re.findall(r"\{([^}]*)\}", item)) - {"page"}:
            problems.add(f"{key}[{i}]", "a latest path may only hold {page}")
        else:
            paths.append(item)
    return tuple(paths)


def _selector(value: Any, key: str, problems: _Problems) -> Selector | None:
    """`"css"`, `{css: ...}`, `{xpath: ...}`, or a list of those (alternatives in order)."""
    items = value if isinstance(value, list) else [value]
    xpaths: list[str] = []
    for item in items:
        kind, text = ("css", item) if isinstance(item, str) else _one_selector(item)
        if text is None:
            problems.add(key, f"{item!r} is not a selector (a CSS string, {{css:}} or {{xpath:}})")
            return None
        try:
            xpath = css2xpath(text) if kind == "css" else text
            etree.XPath(xpath)
        except Exception as exc:  # cssselect and lxml raise several unrelated types
            problems.add(key, f"bad {kind} selector {text!r}: {exc}")
            return None
        xpaths.append(xpath)
    if not xpaths:
        problems.add(key, "empty selector list")
        return None
    return Selector(tuple(xpaths), str(value))


def _one_selector(item: Any) -> tuple[str, str | None]:
    if isinstance(item, dict) and len(item) == 1:
        ((kind, text),) = item.items()
        if kind in ("css", "xpath") and isinstance(text, str) and text.strip():
            return kind, text
    return "css", None


def _field(
    name: str, value: Any, key: str, problems: _Problems, expected: type
) -> FieldSpec | None:
    if isinstance(value, str):
        value = {"css": value}
    if not isinstance(value, dict):
        problems.add(key, "a field is a mapping (css or xpath, attr, then, optional)")
        return None
    for extra in sorted(set(value) - _FIELD_KEYS, key=str):
        problems.add(f"{key}.{extra}", f"unknown key (known: {', '.join(sorted(_FIELD_KEYS))})")
    if "css" in value and "xpath" in value:
        problems.add(key, "give css or xpath, not both")
        return None
    selector = None
    for kind in ("css", "xpath"):
        if kind in value:
            raw = value[kind]
            alternatives = raw if isinstance(raw, list) else [raw]
            selector = _selector([{kind: alt} for alt in alternatives], f"{key}.{kind}", problems)
    steps: list[Step] = []
    then = value.get("then", [])
    if not isinstance(then, list):
        problems.add(f"{key}.then", "must be a list of filters")
        then = []
    for i, item in enumerate(then):
        try:
            steps.append(make_step(item))
        except ValueError as exc:
            problems.add(f"{key}.then[{i}]", str(exc))
            return None
    output = steps[-1].spec.output if steps else str
    if output is not expected:
        problems.add(
            f"{key}.then",
            f"{name} must end as {expected.__name__}, these filters give {output.__name__}"
            f" (add {_HINT.get(expected, 'a filter')})",
        )
        return None
    attr = value.get("attr")
    if attr is not None and (not isinstance(attr, str) or not attr.strip()):
        problems.add(f"{key}.attr", "must be an attribute name")
        return None
    return FieldSpec(
        name=name,
        selector=selector,
        attr=attr,
        own_text=bool(value.get("own_text", False)),
        steps=tuple(steps),
        optional=bool(value.get("optional", False)),
    )


_HINT: Final[Mapping[type, str]] = {int: "int or size", datetime: "date"}


def _fields(
    value: Any, key: str, problems: _Problems, allowed: Mapping[str, type]
) -> dict[str, FieldSpec]:
    found: dict[str, FieldSpec] = {}
    for name, spec in _mapping(value, key, problems).items():
        expected = allowed.get(name)
        if expected is None:
            problems.add(f"{key}.{name}", f"unknown field (known: {', '.join(allowed)})")
            continue
        made = _field(name, spec, f"{key}.{name}", problems, expected)
        if made is not None:
            found[name] = made
    return found


def _listing(value: Any, problems: _Problems) -> ListingSpec | None:
    if not isinstance(value, dict):
        problems.add("listing", "missing: give rows: and fields:")
        return None
    for extra in sorted(set(value) - {"rows", "fields", "next_page", "no_results"}, key=str):
        problems.add(f"listing.{extra}", "unknown key (known: rows, fields, next_page, no_results)")
    rows = _selector(value.get("rows"), "listing.rows", problems)
    fields = _fields(value.get("fields"), "listing.fields", problems, LISTING_FIELDS)
    if "title" not in fields:
        problems.add("listing.fields.title", "missing: every row needs a title")
    if not {"details", "magnet", "info_hash"} & set(fields):
        problems.add("listing.fields", "needs details, magnet or info_hash")
    next_page = None
    if "next_page" in value:
        next_page = _field("next_page", value["next_page"], "listing.next_page", problems, str)
    markers = value.get("no_results", [])
    if not isinstance(markers, list) or not all(isinstance(m, str) and m for m in markers):
        problems.add("listing.no_results", "must be a list of texts")
        markers = []
    if rows is None:
        return None
    return ListingSpec(
        rows=rows,
        fields=MappingProxyType(fields),
        next_page=next_page,
        no_results=tuple(markers),
    )


def _detail(value: Any, problems: _Problems) -> DetailSpec | None:
    if not isinstance(value, dict):
        problems.add("detail", "must be a mapping (fields:, files:)")
        return None
    for extra in sorted(set(value) - {"fields", "files"}, key=str):
        problems.add(f"detail.{extra}", "unknown key (known: fields, files)")
    fields = _fields(value.get("fields", {}), "detail.fields", problems, DETAIL_FIELDS)
    files = None
    if "files" in value:
        raw = _mapping(value["files"], "detail.files", problems)
        for extra in sorted(set(raw) - {"rows", "path", "size"}, key=str):
            problems.add(f"detail.files.{extra}", "unknown key (known: rows, path, size)")
        rows = _selector(raw.get("rows"), "detail.files.rows", problems)
        path = (
            _field("path", raw["path"], "detail.files.path", problems, str)
            if "path" in raw
            else None
        )
        size = (
            _field("size", raw["size"], "detail.files.size", problems, int)
            if "size" in raw
            else None
        )
        if rows is not None:
            files = FilesSpec(rows=rows, path=path, size=size)
    return DetailSpec(fields=MappingProxyType(fields), files=files)


def _categories(value: Any, problems: _Problems) -> Mapping[str, int]:
    found: dict[str, int] = {}
    for code, number in _mapping(value, "category_map", problems).items():
        if isinstance(number, bool) or not isinstance(number, int) or not is_known(number):
            problems.add(f"category_map.{code}", f"{number!r} is not a standard Torznab id")
            continue
        found[str(code)] = number
    return MappingProxyType(found)


def iter_fields(definition: SiteDefinition) -> Iterator[FieldSpec]:
    """Every field of a definition (listing, next page, detail, files), for tools and tests."""
    yield from definition.listing.fields.values()
    if definition.listing.next_page is not None:
        yield definition.listing.next_page
    if definition.detail is not None:
        yield from definition.detail.fields.values()
        files = definition.detail.files
        if files is not None:
            yield from (spec for spec in (files.path, files.size) if spec is not None)
