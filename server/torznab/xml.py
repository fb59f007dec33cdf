"""Torznab XML: caps, result feeds and errors, always well-formed whatever the titles hold.

Written as text with one escaping function rather than through an XML library:
the documents are small and flat, and the one thing that must never go wrong is
escaping. `text()` escapes markup and quotes and also drops the characters XML 1.0
forbids (control characters, lone surrogates, U+FFFE/U+FFFF), which a parser would
refuse: one torrent with a stray control character in its title must not break a
client's whole feed.

Shapes follow what the *arr clients read (see issue 4): `pubDate` in RFC 822 with a
numeric zone, integer `size`, `torznab:attr` name/value pairs, `<error code
description>` for errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Final

TORZNAB_NS: Final = "http://torznab.com/schemas/2015/feed"
ATOM_NS: Final = "http://www.w3.org/2005/Atom"
MAGNET_TYPE: Final = "application/x-bittorrent;x-scheme-handler/magnet"
TORRENT_TYPE: Final = "application/x-bittorrent"

_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPES: Final = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
_ESCAPE_RE: Final = re.compile("[&<>\"']")
_NEEDS_WORK: Final = re.compile("[&<>\"'\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HEADER: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'


def text(value: object) -> str:
    """`value` as XML character data or attribute value: escaped, forbidden characters gone.

    Called thousands of times per feed, and most values need nothing: one scan
    decides, so the common case costs a single regex search.
    """
    if isinstance(value, int):
        return str(value)
    raw = str(value)
    if _NEEDS_WORK.search(raw) is None:
        return raw
    cleaned = _NOT_XML.sub("", raw)
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], cleaned)


def rfc822(when: datetime) -> str:
    """`Tue, 24 Nov 2026 05:50:48 +0000`: RFC 822 with a numeric zone, as clients parse it."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return format_datetime(when.astimezone(UTC))


@dataclass(frozen=True, slots=True)
class Category:
    """A Torznab category and its subcategories, for caps."""

    id: int
    name: str
    subcats: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class SearchMode:
    """One `<searching>` child: its name, whether it works and the parameters it takes."""

    name: str
    available: bool
    params: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Caps:
    """Everything `t=caps` says."""

    title: str
    version: str
    default_limit: int
    max_limit: int
    modes: tuple[SearchMode, ...]
    categories: tuple[Category, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedItem:
    """One result as a client sees it; `attrs` become `torznab:attr` elements, in order."""

    title: str
    guid: str
    published: datetime
    size: int
    link: str
    comments: str
    enclosure_url: str
    enclosure_type: str
    categories: tuple[int, ...]
    attrs: tuple[tuple[str, str | int], ...] = field(default=())
    description: str = ""


def caps_xml(caps: Caps) -> str:
    """The `t=caps` document."""
    lines = [
        _HEADER + "<caps>",
        f'  <server version="{text(caps.version)}" title="{text(caps.title)}" />',
        f'  <limits default="{int(caps.default_limit)}" max="{int(caps.max_limit)}" />',
        "  <searching>",
    ]
    for mode in caps.modes:
        available = "yes" if mode.available else "no"
        params = ",".join(mode.params)
        lines.append(
            f'    <{mode.name} available="{available}" supportedParams="{text(params)}" />'
        )
    lines.append("  </searching>")
    lines.append("  <categories>")
    for category in caps.categories:
        lines.append(f'    <category id="{int(category.id)}" name="{text(category.name)}">')
        lines.extend(
            f'      <subcat id="{int(sub_id)}" name="{text(sub_name)}" />'
            for sub_id, sub_name in category.subcats
        )
        lines.append("    </category>")
    lines.append("  </categories>")
    lines.append("</caps>")
    return "\n".join(lines) + "\n"


def feed_xml(items: Sequence[FeedItem], *, title: str, link: str, offset: int, total: int) -> str:
    """A result feed: RSS 2.0 with the torznab namespace and the offset and total of the page."""
    lines = [
        _HEADER + f'<rss version="2.0" xmlns:atom="{ATOM_NS}" xmlns:torznab="{TORZNAB_NS}">',
        "  <channel>",
        f'    <atom:link href="{text(link)}" rel="self" type="application/rss+xml" />',
        f"    <title>{text(title)}</title>",
        f"    <description>{text(title)}</description>",
        f"    <link>{text(link)}</link>",
        f'    <torznab:response offset="{int(offset)}" total="{int(total)}" />',
    ]
    for item in items:
        lines.extend(_item_lines(item))
    lines.append("  </channel>")
    lines.append("</rss>")
    return "\n".join(lines) + "\n"


def _item_lines(item: FeedItem) -> Iterable[str]:
    yield "    <item>"
    yield f"      <title>{text(item.title)}</title>"
    yield f'      <guid isPermaLink="false">{text(item.guid)}</guid>'
    yield f"      <pubDate>{rfc822(item.published)}</pubDate>"
    yield f"      <size>{int(item.size)}</size>"
    yield f"      <link>{text(item.link)}</link>"
    yield f"      <comments>{text(item.comments)}</comments>"
    if item.description:
        yield f"      <description>{text(item.description)}</description>"
    for category in item.categories:
        yield f"      <category>{int(category)}</category>"
    yield (
        f'      <enclosure url="{text(item.enclosure_url)}" length="{int(item.size)}"'
        f' type="{text(item.enclosure_type)}" />'
    )
    for name, value in item.attrs:
        yield f'      <torznab:attr name="{text(name)}" value="{text(value)}" />'
    yield "    </item>"


def error_xml(code: int, description: str) -> str:
    """`<error code description>`: how Newznab/Torznab report a failed request."""
    return _HEADER + f'<error code="{int(code)}" description="{text(description)}" />\n'
