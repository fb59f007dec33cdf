"""Golden files for the HTML parsers: what every row and detail page of a saved page must give.

A golden file is JSON under tests/fixtures/html-golden/. It was written once from
the parser's output and then checked by hand against the saved page, value by
value; a change in any value fails the test. To rewrite the files after a
deliberate change of the parser, run the tests with MINATO_UPDATE_GOLDEN=1 and
review the diff before committing.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.sources.html.parse import Detail, ListingPage

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
GOLDEN = FIXTURES / "html-golden"


def fixture_text(relative: str) -> str:
    """A saved page from tests/fixtures (relative path, e.g. "html-1337x/x.html")."""
    return (FIXTURES / relative).read_text("utf-8", errors="replace")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def listing_dict(page: ListingPage) -> dict[str, Any]:
    """A listing page as the golden file holds it."""
    return {
        "rows": [_plain(asdict(row)) for row in page.rows],
        "bad_rows": page.bad_rows,
        "next_url": page.next_url,
        "says_no_results": page.says_no_results,
    }


def detail_dict(detail: Detail) -> dict[str, Any]:
    """A detail page as the golden file holds it."""
    return {
        "values": _plain(dict(sorted(detail.values.items()))),
        "files": [{"path": f.path, "size": f.size} for f in detail.files],
    }


def assert_golden(name: str, actual: dict[str, Any]) -> None:
    """Compare `actual` with GOLDEN/name.json (rewrite it when MINATO_UPDATE_GOLDEN=1)."""
    path = GOLDEN / f"{name}.json"
    text = json.dumps(actual, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    if os.environ.get("MINATO_UPDATE_GOLDEN") == "1":
        path.write_text(text, "utf-8")
        return
    expected = json.loads(path.read_text("utf-8"))
    assert actual == expected, f"{name}: parse differs from {path}"
