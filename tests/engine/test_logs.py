"""Secrets never reach the log: keys in query strings and headers, URL passwords."""

from __future__ import annotations

import pytest

from engine.logs import redact


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("GET /api/search?q=x&apikey=0123abcd0123abcd HTTP/1.1", "0123abcd0123abcd"),
        (
            "HTTP Request: GET https://api.themoviedb.org/3/search/movie?api_key=k3y5ecret&q=x",
            "k3y5ecret",
        ),
        ("headers={'X-Api-Key': 'abcdef123456'}", "abcdef123456"),
        ("X-Internal-Secret: s3cr3t-value", "s3cr3t-value"),
        ("connecting to postgresql+psycopg://minato:hunter2@db.lan/minato", "hunter2"),
        ("feed:x: skipped https://tracker.example/rss?passkey=9f8e7d6c5b4a&id=1", "9f8e7d6c5b4a"),
        ("GET http://jackett:9117/dl/x?jackett_apikey=abc123def456&path=y", "abc123def456"),
        ("GET https://t.example/download.php?id=7&torrent_pass=0a1b2c3d4e5f", "0a1b2c3d4e5f"),
    ],
)
def test_secrets_are_masked(line: str, secret: str) -> None:
    masked = redact(line)
    assert secret not in masked
    assert "***" in masked


def test_plain_text_is_left_alone() -> None:
    line = "search took 4.2 ms for 'the matrix' (kind=movie)"
    assert redact(line) == line
