"""How the engine's values read in the window: kinds, crawler states, times from now.

The engine names things as identifiers ("backing_off", "movie", a Torznab 2040);
people read words ("backing off", "Movie", "Movies/HD"). Every view takes its wording
from here, so a kind or a state reads the same in the results, the filters, the
details, the monitor and the crawler tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from engine.models import ContentKind
from engine.services import SearchService
from engine.services.crawlers import CrawlerState, CrawlerStatus

_KINDS: Final = {ContentKind.TV: "TV", ContentKind.XXX: "XXX", ContentKind.EBOOK: "E-book"}
_STATES: Final = {
    CrawlerState.IDLE: "idle",
    CrawlerState.RUNNING: "running",
    CrawlerState.BACKING_OFF: "backing off",
    CrawlerState.BLOCKED: "blocked",
    CrawlerState.DISABLED: "off",
    CrawlerState.ERROR: "error",
}
_CATEGORIES: Final = {
    category: name
    for parent, parent_name, subcategories in SearchService.categories()
    for category, name in ((parent, parent_name), *subcategories)
}


def kind_label(kind: ContentKind | str) -> str:
    """A kind as people write it: "Movie", "TV"; a name that is no kind stays as it is."""
    try:
        known = ContentKind(kind)
    except ValueError:
        return str(kind).capitalize()  # "unclassified" (the monitor's torrents of no kind)
    return _KINDS.get(known, known.value.capitalize())


def category_label(category: int) -> str:
    """A Torznab category by its name ("Movies/HD"), or its number when it has none."""
    return _CATEGORIES.get(category, str(category))


def crawler_state(status: CrawlerStatus) -> str:
    """A source's state in words, with the engine's note: "blocked (retrying in 60 s)".

    A source that is off says only why ("disabled in the settings", "off until
    started", "stopped"): "off (disabled in the settings)" would say it twice.
    """
    if status.state is CrawlerState.DISABLED:
        return status.message or _STATES[status.state]
    label = _STATES.get(status.state, str(status.state))
    return f"{label} ({status.message})" if status.message else label


def age(when: datetime | None, now: datetime) -> str:
    """How long ago, in the largest unit that fits: 5 min, 3 h, 12 d, 2 y ("" if unknown)."""
    if when is None:
        return ""
    seconds = max(0.0, (now - when).total_seconds())
    return _span(seconds) or "now"


def ago(when: datetime | None, now: datetime) -> str:
    """When it happened, for people: just now, 5 min ago, 3 d ago ("" if it never did)."""
    since = age(when, now)
    if not since:
        return ""
    return "just now" if since == "now" else f"{since} ago"


def until(when: datetime | None, now: datetime) -> str:
    """When it is due, for people: in 5 min, in 3 h, now (also when overdue); "" if never."""
    if when is None:
        return ""
    span = _span((when - now).total_seconds())
    return f"in {span}" if span else "now"


def _span(seconds: float) -> str:
    for unit, length in (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= length:
            return f"{int(seconds // length)} {unit}"
    return ""
