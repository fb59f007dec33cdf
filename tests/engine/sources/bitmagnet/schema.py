"""Bitmagnet's real GraphQL schema and its web UI's documents (tests/fixtures/bitmagnet, MIT).

`bitmagnet_schema` builds the schema from the saved `.graphqls` files, as Bitmagnet's
gqlgen server does. `web_ui_document` assembles one of the web UI's operations with
the fragments its `#import` lines name (the web UI's bundler does the same).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, build_schema

FIXTURES = Path(__file__).parents[3] / "fixtures" / "bitmagnet"
_IMPORT = re.compile(r'^#import "(?:\./|\.\./fragments/)(\w+)"$', re.MULTILINE)


def schema_sdl() -> str:
    """Every saved schema file, concatenated (gqlgen loads them as one schema)."""
    return "\n".join(p.read_text("utf-8") for p in sorted(FIXTURES.glob("schema_*.graphqls")))


@cache
def bitmagnet_schema() -> GraphQLSchema:
    """The schema Bitmagnet serves."""
    return build_schema(schema_sdl())


def web_ui_document(name: str) -> str:
    """The web UI's `queries/<name>.graphql` with every fragment it imports, transitively."""
    parts: dict[str, str] = {}

    def add(path: Path) -> None:
        if path.name in parts:
            return
        text = path.read_text("utf-8")
        parts[path.name] = text
        for fragment in _IMPORT.findall(text):
            add(FIXTURES / f"fragments_{fragment}.graphql")

    add(FIXTURES / f"queries_{name}.graphql")
    return "\n".join(parts.values())


def serialize_int64(value: Any) -> int:
    """gqlgen's `Int` is Go's 64-bit int: Bitmagnet sends sizes over 2 GiB as plain numbers.

    graphql-core keeps to the spec's 32 bits, so the local server swaps this in.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        raise TypeError(f"Int cannot represent {value!r}")
    return value
