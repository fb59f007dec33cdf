"""The words the window shows for the engine's values: kinds, categories, states, times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.desktop.labels import ago, category_label, crawler_state, kind_label, until
from engine.models import ContentKind
from engine.services.crawlers import CrawlerState, CrawlerStatus

NOW = datetime.now(UTC)


def test_kinds_and_categories_read_as_words() -> None:
    assert kind_label(ContentKind.MOVIE) == "Movie"
    assert kind_label(ContentKind.TV) == "TV"
    assert kind_label("anime") == "Anime"  # the monitor's totals name kinds as strings
    assert kind_label("unclassified") == "Unclassified"  # no kind at all
    assert category_label(2040) == "Movies/HD"
    assert category_label(5000) == "TV"
    assert category_label(123456) == "123456"  # a site's own id: its number, not nothing


@pytest.mark.parametrize(
    ("state", "message", "shown"),
    [
        (CrawlerState.IDLE, None, "idle"),
        (CrawlerState.BACKING_OFF, "retrying in 5 min", "backing off (retrying in 5 min)"),
        (CrawlerState.BLOCKED, "retrying in 60 s", "blocked (retrying in 60 s)"),
        (CrawlerState.DISABLED, "disabled in the settings", "disabled in the settings"),
        (CrawlerState.DISABLED, "off until started", "off until started"),
        (CrawlerState.DISABLED, None, "off"),
    ],
)
def test_crawler_states_never_show_an_identifier(
    state: CrawlerState, message: str | None, shown: str
) -> None:
    assert crawler_state(CrawlerStatus(source="yts", state=state, message=message)) == shown


def test_times_read_from_now() -> None:
    assert ago(NOW - timedelta(seconds=20), NOW) == "just now"
    assert ago(NOW - timedelta(minutes=5, seconds=3), NOW) == "5 min ago"
    assert ago(NOW - timedelta(days=3), NOW) == "3 d ago"
    assert ago(None, NOW) == ""
    assert until(NOW + timedelta(minutes=29, seconds=59), NOW) == "in 29 min"
    assert until(NOW + timedelta(hours=2), NOW) == "in 2 h"
    assert until(NOW - timedelta(seconds=5), NOW) == "now"  # due, or late
    assert until(None, NOW) == ""
