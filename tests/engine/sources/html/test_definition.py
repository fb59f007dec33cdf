"""Site definitions: a good file loads; every kind of mistake is refused at load time.

A user who writes a definition in their sites/ directory must learn at start, not
on a live page, that a key is misspelt or a filter chain gives the wrong type; the
error names the file and the key, so the fix is one look away.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.errors import ConfigError
from engine.sources.html.definition import (
    BUILTIN_DEFINITIONS,
    MAX_DEFINITION_BYTES,
    SiteDefinition,
    iter_fields,
    load_definition,
    load_definitions,
)
from engine.sources.html.sites import build_site

MINIMAL: dict[str, Any] = {
    "id": "example",
    "paths": {"search": "/search/{query}/{page}/"},
    "listing": {
        "rows": "table.results tr",
        "fields": {
            "title": {"css": "a.name"},
            "magnet": {"css": "a[href^='magnet:']", "attr": "href"},
        },
    },
}


def write(directory: Path, data: Any, name: str = "example.yml") -> Path:
    path = directory / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), "utf-8")
    return path


def changed(**parts: Any) -> dict[str, Any]:
    """MINIMAL with top-level keys replaced (a value of None removes the key)."""
    data = {**MINIMAL, **parts}
    return {key: value for key, value in data.items() if value is not None}


def with_fields(**fields: Any) -> dict[str, Any]:
    """MINIMAL with listing fields added or replaced (a value of None removes the field)."""
    listing = MINIMAL["listing"]
    merged = {**listing["fields"], **fields}
    return changed(
        listing={**listing, "fields": {k: v for k, v in merged.items() if v is not None}}
    )


# -------------------------------------------------------------------- good files


def test_a_minimal_definition_loads(tmp_path: Path) -> None:
    definition = load_definition(write(tmp_path, MINIMAL))
    assert definition.id == "example"
    assert definition.name == "example"
    assert definition.search == "/search/{query}/{page}/"
    assert definition.modes() == ("search",)
    assert set(definition.listing.fields) == {"title", "magnet"}
    assert definition.detail is None
    assert definition.path == tmp_path / "example.yml"


def test_a_full_definition_loads(tmp_path: Path) -> None:
    data = changed(
        name="Example",
        paths={
            "latest": ["/recent/{page}/"],
            "search": "/search/{query}/{page}/",
            "browse": "/cat/{category}/{page}/",
        },
        listing={
            "rows": [{"css": "table.results tr"}, {"xpath": "//ul[@class='list']/li"}],
            "no_results": ["No results were returned"],
            "next_page": {"css": "a.next", "attr": "href", "then": ["absolute_url"]},
            "fields": {
                "title": {"css": "a.name", "then": ["strip"]},
                "details": {"css": "a.name", "attr": "href", "then": ["absolute_url"]},
                "size": {"css": "td.size", "then": [{"replace": ["&nbsp;", " "]}, "size"]},
                "seeders": {"xpath": "./td[3]", "then": ["int"]},
                "published": {"css": "td.date", "then": [{"date": ["%Y-%m-%d"]}], "optional": True},
                "category": {"css": "a.cat", "attr": "href", "then": [{"regex": "/cat/(\\d+)/"}]},
            },
        },
        detail={
            "fields": {
                "info_hash": {"css": "a[href^='magnet:']", "attr": "href", "then": ["info_hash"]}
            },
            "files": {
                "rows": "ul.files li",
                "path": {"css": "span.name"},
                "size": {"css": "span.size", "then": ["size"]},
            },
        },
        category_map={"Movies": 2000, "42": 2040},
        detail_refresh="12h",
    )
    definition = load_definition(write(tmp_path, data))
    assert definition.modes() == ("latest", "browse", "search")
    assert definition.category_map == {"Movies": 2000, "42": 2040}
    assert definition.detail_refresh_s == 12 * 3600
    assert [f.name for f in iter_fields(definition)][-3:] == ["info_hash", "path", "size"]


# -------------------------------------------------------------------- mistakes

MISTAKES = [
    # (what, the definition, the key the message must name, what it must say)
    ("unknown top-level key", changed(colour="red"), "colour", "unknown key"),
    ("missing id", changed(id=None), "id", "must match"),
    ("bad id", changed(id="Bad Id!"), "id", "must match"),
    ("no listing", changed(listing=None), "listing", "missing"),
    ("no paths", changed(paths={}), "paths", "give at least one of latest, search, browse"),
    (
        "unknown mode",
        changed(paths={"search": "/s/{query}/", "newest": "/n/"}),
        "paths.newest",
        "unknown mode",
    ),
    (
        "search without {query}",
        changed(paths={"search": "/search/{page}/"}),
        "paths.search",
        "no {query}",
    ),
    (
        "browse without {category}",
        changed(paths={"browse": "/cat/{page}/"}),
        "paths.browse",
        "no {category}",
    ),
    (
        "unknown placeholder",
        changed(paths={"search": "/s/{query}/{pg}/"}),
        "paths.search",
        "unknown placeholder {pg}",
    ),
    (
        "latest with {query}",
        changed(paths={"latest": ["/new/{query}/"]}),
        "paths.latest[0]",
        "may only hold {page}",
    ),
    (
        "relative path",
        changed(paths={"search": "search/{query}/"}),
        "paths.search",
        "not a path starting with /",
    ),
    (
        "unknown field",
        with_fields(rating={"css": "td.rating"}),
        "listing.fields.rating",
        "unknown field",
    ),
    (
        "unknown field key",
        with_fields(title={"css": "a", "atr": "title"}),
        "listing.fields.title.atr",
        "unknown key",
    ),
    (
        "unknown filter",
        with_fields(size={"css": "td", "then": ["sise"]}),
        "listing.fields.size.then[0]",
        "unknown filter 'sise'",
    ),
    (
        "filter missing its argument",
        with_fields(category={"css": "a", "then": ["regex"]}),
        "listing.fields.category.then[0]",
        "needs an argument",
    ),
    (
        "bad regular expression",
        with_fields(category={"css": "a", "then": [{"regex": "(\\d+"}]}),
        "listing.fields.category.then[0]",
        "bad regular expression",
    ),
    (
        "then is no list",
        with_fields(size={"css": "td", "then": "size"}),
        "listing.fields.size.then",
        "must be a list",
    ),
    (
        "seeders without int",
        with_fields(seeders={"css": "td.se"}),
        "listing.fields.seeders.then",
        "seeders must end as int, these filters give str (add int or size)",
    ),
    (
        "size ending as text",
        with_fields(size={"css": "td", "then": ["size", "lower"]}),
        "listing.fields.size.then",
        "must end as int",
    ),
    (
        "published without date",
        with_fields(published={"css": "td.date", "then": ["strip"]}),
        "listing.fields.published.then",
        "must end as datetime",
    ),
    (
        "title ending as a number",
        with_fields(title={"css": "a", "then": ["int"]}),
        "listing.fields.title.then",
        "must end as str",
    ),
    (
        "bad CSS selector",
        changed(listing={**MINIMAL["listing"], "rows": "table[class"}),
        "listing.rows",
        "bad css selector",
    ),
    (
        "bad field CSS",
        with_fields(title={"css": "a::nope(1)"}),
        "listing.fields.title.css",
        "bad css selector",
    ),
    (
        "bad XPath",
        with_fields(title={"xpath": "//a[@class="}),
        "listing.fields.title.xpath",
        "bad xpath selector",
    ),
    (
        "css and xpath",
        with_fields(title={"css": "a", "xpath": "//a"}),
        "listing.fields.title",
        "not both",
    ),
    (
        "no title",
        changed(listing={"rows": "tr", "fields": {"magnet": {"css": "a", "attr": "href"}}}),
        "listing.fields.title",
        "every row needs a title",
    ),
    (
        "no way to the torrent",
        changed(listing={"rows": "tr", "fields": {"title": "a"}}),
        "listing.fields",
        "needs details, magnet or info_hash",
    ),
    (
        "details but no detail page",
        with_fields(magnet=None, details={"css": "a", "attr": "href"}),
        "listing.fields",
        "no info_hash or magnet",
    ),
    (
        "unknown detail field",
        changed(detail={"fields": {"rating": "td"}}),
        "detail.fields.rating",
        "unknown field",
    ),
    (
        "unknown files key",
        changed(detail={"files": {"rows": "li", "name": "span"}}),
        "detail.files.name",
        "unknown key",
    ),
    (
        "file size as text",
        changed(detail={"files": {"rows": "li", "size": {"css": "span"}}}),
        "detail.files.size.then",
        "must end as int",
    ),
    (
        "not a Torznab id",
        changed(category_map={"Movies": 2000, "Weird": 99999}),
        "category_map.Weird",
        "99999 is not a standard Torznab id",
    ),
    (
        "category id as text",
        changed(category_map={"Movies": "2000"}),
        "category_map.Movies",
        "not a standard Torznab id",
    ),
    ("bad query encoding", changed(query_encoding="base64"), "query_encoding", "is not one of"),
    ("bad refresh", changed(detail_refresh="soon"), "detail_refresh", "interval"),
    (
        "bad concurrency",
        changed(detail_concurrency=0),
        "detail_concurrency",
        "whole number from 1 to 64",
    ),
    (
        "unknown default",
        changed(defaults={"mirrors": ["https://x.example"], "speed": 3}),
        "defaults.speed",
        "unknown key",
    ),
    (
        "no_results not a list",
        changed(listing={**MINIMAL["listing"], "no_results": "none"}),
        "listing.no_results",
        "list of texts",
    ),
]


@pytest.mark.parametrize(
    ("data", "key", "says"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES]
)
def test_a_mistake_is_a_config_error_naming_file_and_key(
    tmp_path: Path, data: dict[str, Any], key: str, says: str
) -> None:
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_definition(path)
    message = str(caught.value)
    assert f"{path}: {key}: " in message
    assert says in message


def test_every_mistake_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    data = with_fields(seeders={"css": "td"}, rating="td")
    data["colour"] = "red"
    with pytest.raises(ConfigError) as caught:
        load_definition(write(tmp_path, data))
    message = str(caught.value)
    for key in ("colour", "listing.fields.seeders.then", "listing.fields.rating"):
        assert f": {key}: " in message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("id: [unclosed\nlisting: {", "not valid YAML"),
        ("- id: example\n- listing: {}\n", "a site definition is a mapping"),
        ("just a string\n", "a site definition is a mapping"),
        ("", "a site definition is a mapping"),
    ],
    ids=["not YAML", "a list", "a string", "empty"],
)
def test_a_file_that_is_not_a_definition_is_refused(tmp_path: Path, text: str, says: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=says) as caught:
        load_definition(path)
    assert str(path) in str(caught.value)


def test_an_oversized_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    text = yaml.safe_dump(MINIMAL) + "#" * MAX_DEFINITION_BYTES + "\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=f"{path}: larger than 256 KiB"):
        load_definition(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "example.yml"
    path.write_bytes(b"id: caf\xe9\n")
    with pytest.raises(ConfigError, match="cannot read the site definition") as caught:
        load_definition(path)
    assert str(path) in str(caught.value)


# ------------------------------------------------------------ load_definitions


def test_definitions_load_from_several_directories(tmp_path: Path) -> None:
    builtin, user = tmp_path / "builtin", tmp_path / "user"
    builtin.mkdir()
    user.mkdir()
    write(builtin, MINIMAL)
    write(user, changed(id="other"), "other.yml")
    write(user, "not a definition, and not read", "notes.txt")
    found = load_definitions(builtin, user, tmp_path / "missing")
    assert sorted(found) == ["example", "other"]


def test_an_id_defined_twice_across_directories_is_refused(tmp_path: Path) -> None:
    builtin, user = tmp_path / "builtin", tmp_path / "user"
    builtin.mkdir()
    user.mkdir()
    first = write(builtin, MINIMAL)
    second = write(user, MINIMAL, "my-example.yml")
    with pytest.raises(ConfigError) as caught:
        load_definitions(builtin, user)
    message = str(caught.value)
    assert f"{second}: id: 'example' is already defined by {first}" in message


def test_a_bad_file_among_good_ones_stops_the_load(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL)
    bad = write(tmp_path, with_fields(seeders={"css": "td"}), "zz-bad.yml")
    with pytest.raises(ConfigError, match=str(bad)):
        load_definitions(tmp_path)


# ------------------------------------------------------------ built-in files

BUILTIN_FILES = sorted(BUILTIN_DEFINITIONS.glob("*.yml"))


def test_the_builtin_definitions_are_there() -> None:
    assert "1337x.yml" in [path.name for path in BUILTIN_FILES]


@pytest.mark.parametrize("path", BUILTIN_FILES, ids=lambda p: p.stem)
def test_every_builtin_definition_loads_and_builds(path: Path) -> None:
    definition = load_definition(path)
    assert isinstance(definition, SiteDefinition)
    assert definition.id == path.stem  # definitions/<id>.yml
    assert definition.modes()
    build_site(definition)


def test_the_builtin_definitions_load_together() -> None:
    found = load_definitions(BUILTIN_DEFINITIONS)
    assert sorted(found) == sorted(path.stem for path in BUILTIN_FILES)
