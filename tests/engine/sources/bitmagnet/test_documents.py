"""The bridge's GraphQL documents against Bitmagnet's real schema (graphql-core).

The schema is the saved `.graphqls` files (tests/fixtures/bitmagnet, MANIFEST.tsv).
The web UI's own documents validate first, so a test that passes proves the schema
loaded whole; then each document the bridge sends, with the variables it sends;
then documents that must fail, so these checks can fail at all.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import NoUnusedFragmentsRule, OperationDefinitionNode, parse, specified_rules, validate
from graphql.execution.values import get_variable_values

from engine.sources.bitmagnet_map import (
    FILES_DOCUMENT,
    SEARCH_DOCUMENT,
    files_body,
    search_body,
)
from tests.engine.sources.bitmagnet.schema import bitmagnet_schema, web_ui_document


def errors_of(source: str) -> list[str]:
    return [error.message for error in validate(bitmagnet_schema(), parse(source))]


WEB_UI_RULES = [rule for rule in specified_rules if rule is not NoUnusedFragmentsRule]
"""The web UI's Torrent fragment `#import`s TorrentFile without spreading it; its code
generator sends only the fragments used, so that one rule does not apply to the files."""


def variable_errors(body: dict[str, Any]) -> list[str]:
    """Errors of coercing a request body's variables to its document's variable types."""
    (operation,) = [
        d for d in parse(body["query"]).definitions if isinstance(d, OperationDefinitionNode)
    ]
    assert operation.name is not None
    assert operation.name.value == body["operationName"]
    coerced = get_variable_values(
        bitmagnet_schema(), operation.variable_definitions, body["variables"]
    )
    return [e.message for e in coerced] if isinstance(coerced, list) else []


def test_the_schema_has_the_types_the_bridge_reads() -> None:
    schema = bitmagnet_schema()
    content_types = schema.get_type("ContentType")
    assert content_types is not None
    assert set(content_types.values) == {  # type: ignore[attr-defined]
        "movie",
        "tv_show",
        "music",
        "ebook",
        "comic",
        "audiobook",
        "game",
        "software",
        "xxx",
    }
    order = schema.get_type("TorrentContentOrderByField")
    assert {"published_at", "info_hash"} <= set(order.values)  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["TorrentContentSearch", "TorrentFiles", "Version"])
def test_the_web_uis_documents_validate(name: str) -> None:
    document = web_ui_document(name)
    assert f"query {name}" in document
    assert validate(bitmagnet_schema(), parse(document), WEB_UI_RULES) == []


@pytest.mark.parametrize("document", [SEARCH_DOCUMENT, FILES_DOCUMENT], ids=["search", "files"])
def test_the_bridges_documents_validate(document: str) -> None:
    assert errors_of(document) == []


@pytest.mark.parametrize(
    "body",
    [
        search_body(0),
        search_body(300, limit=50),
        search_body(0, query="dune part two"),
        files_body(["a" * 40, "b" * 40], 2_000, 2_000),
    ],
    ids=["latest", "latest-later-page", "search", "files"],
)
def test_the_variables_the_bridge_sends_fit_the_schema(body: dict[str, Any]) -> None:
    assert variable_errors(body) == []


def test_a_wrong_variable_fails_coercion() -> None:
    body = search_body(0)
    body["variables"]["input"]["orderBy"][0]["field"] = "publishedAt"  # the field, not the enum
    assert variable_errors(body) != []


@pytest.mark.parametrize(
    ("document", "culprit"),
    [
        (SEARCH_DOCUMENT.replace("publishedAt", "published_at"), "published_at"),
        (SEARCH_DOCUMENT.replace("filesCount", "fileCount"), "fileCount"),
        (SEARCH_DOCUMENT.replace("search(input: $input)", "search"), "input"),
        (FILES_DOCUMENT.replace("index path", "index name"), "name"),
        (
            web_ui_document("TorrentFiles").replace("on TorrentFile {", "on Torrent {"),
            "TorrentFile",
        ),
    ],
    ids=["snake-case-field", "misspelt-field", "missing-argument", "wrong-type-field", "fragment"],
)
def test_a_wrong_document_fails_validation(document: str, culprit: str) -> None:
    errors = errors_of(document)
    assert errors
    assert any(culprit in message for message in errors), errors
