"""Torrent feeds (RSS, Atom, Torznab, Newznab) -> raw records: the feed poller's parser.

One function, `parse_feed`, turns the bytes a feed URL answered with into one
`FeedItem` per item that names a torrent, and a count per reason of the items
that do not. It never fetches anything: the poller downloads the feed (and,
later, the .torrent files of items that only link one) under its own limits.

Where the values come from, first found wins:

* info hash: the Torznab/Newznab `infohash` attr, then any `…infoHash` element
  (`torrent:`, `nyaa:`, ezRSS's default namespace, `showrss:info_hash`), then a
  magnet (`magneturl` attr, `…magnetURI` element, link, enclosures, guid,
  comments). A magnet is kept only if it agrees with an explicit hash, because
  normalization refuses a record whose magnet and hash differ. Without any hash,
  an http(s) .torrent enclosure (or a link ending in .torrent) becomes
  `FeedItem.torrent_url`;
* size: the `size` attr, a `<size>`/`…:size`/`…contentLength` element, the
  enclosure length, then "Size: 1.2 GB" in the description;
* seeders/leechers: attrs (`peers` counts both, as in Torznab), then
  `…seeders`/`…seeds`/`…leechers`/`…peers` elements, then "Seeders: 3" in the
  description.

feedparser reads the feed: it copes with the malformed XML real trackers serve
and parses every date format they use. It keeps only the last of repeated
elements, so the Torznab/Newznab `attr` lists are read in a second pass with
lxml (no entities, no network, no DTD). Namespaced elements are found by the
end of feedparser's key, because feedparser names them after the prefix the
document happens to use (`torrent_infohash`, `nyaa_infohash`, or plain
`infohash` when the namespace is the default one).
"""

from __future__ import annotations

import codecs
import hashlib
import html
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

import feedparser  # type: ignore[import-untyped]
from lxml import etree

from engine.errors import InvalidRecord
from engine.models import RawRecord
from engine.normalize import plausible_date
from engine.records import MAX_TITLE_CHARS, MAX_URL_CHARS
from engine.sources.units import SIZE_UNITS
from engine.torrent import normalize_info_hash, parse_magnet

MAX_FEED_BYTES: Final = 10 * 1024 * 1024
"""A body larger than this is refused: real feeds of a few hundred items weigh well under 1 MiB."""
MAX_ITEMS: Final = 5000
"""Items read from one body; the rest are counted as skipped."""
MAX_MARKUP: Final = 250_000
"""Most "<" a body may hold (about one per element tag). feedparser spends tens of µs
per element, twice over when it falls back to its loose parser: this bounds the CPU a
hostile feed can cost, while 5,000 Torznab items (~170,000) still fit."""
MAX_DEPTH: Final = 256
"""Feeds nest 5 or 6 elements deep; lxml (without `huge_tree`) stops at 256, and deeper
bodies are refused, not handed to feedparser, which would walk every level."""
MIN_ENCLOSURE_LENGTH: Final = 1024 * 1024
"""Smaller enclosure lengths are ignored as sizes: RSS defines the length as the enclosed
file's, so below this it is far more likely the .torrent file's own size than the content's."""

SKIP_NO_TITLE: Final = "no title"
SKIP_TITLE_TOO_LONG: Final = "title too long"
SKIP_NO_HASH: Final = "no info hash"
SKIP_NZB: Final = "usenet nzb, not a torrent"
SKIP_PAST_LIMIT: Final = f"past the {MAX_ITEMS} item limit"

_MAX_GUID_CHARS: Final = 1024  # longer guids are replaced by their hash
_MAX_CATEGORY_CHARS: Final = 64
_MAX_COUNT: Final = 10**9
_MAX_SIZE: Final = 2**63 - 1
_MAX_DESCRIPTION_SCAN: Final = 64 * 1024  # description characters searched for sizes and swarms
_FEED_ROOTS: Final = frozenset({"rss", "feed", "rdf"})
_ITEM_NAMESPACES: Final = frozenset(
    {
        None,
        "http://purl.org/rss/1.0/",
        "http://my.netscape.com/rdf/simple/0.9/",
        "http://www.w3.org/2005/Atom",
        "http://purl.org/atom/ns#",
    }
)
_CREDENTIAL_PARAMS: Final = frozenset(
    {
        "passkey",
        "torrent_pass",
        "authkey",
        "apikey",
        "api_key",
        "jackett_apikey",
        "rsskey",
        "secret_key",
        "pk",
    }
)
"""Query parameters of personal download links: such a URL must never become a source_url."""

_DOCTYPE: Final = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_ENTITY: Final = re.compile(r"<!ENTITY", re.IGNORECASE)
_HTML: Final = re.compile(r"<!DOCTYPE\s+html|<html[\s>]", re.IGNORECASE)
_TAG: Final = re.compile(r"<[^>]{0,2000}>")
_NUMBER: Final = r"(?<![\d.,])(\d[\d,]{0,20}(?:\.\d{1,6})?)"
_SIZE_TEXT: Final = re.compile(
    _NUMBER + r"\s*(pib|tib|gib|mib|kib|pb|tb|gb|mb|kb|bytes|b|[kmgtp])\b", re.IGNORECASE
)
_LABELLED_SIZE: Final = re.compile(
    r"\bsize\s*:?\s*" + _NUMBER + r"\s*(pib|tib|gib|mib|kib|pb|tb|gb|mb|kb|bytes|b|[kmgtp])\b",
    re.IGNORECASE,
)
_BARE_SIZE: Final = re.compile(
    _NUMBER + r"\s*(pib|tib|gib|mib|kib|pb|tb|gb|mb|kb)\b", re.IGNORECASE
)
_DESC_SEEDERS: Final = re.compile(r"\b(?:seeders?|seeds)\s*:\s*(\d{1,10})\b", re.IGNORECASE)
_DESC_LEECHERS: Final = re.compile(r"\bleechers?\s*:\s*(\d{1,10})\b", re.IGNORECASE)
_DESC_PEERS: Final = re.compile(r"\bpeers\s*:\s*(\d{1,10})\b", re.IGNORECASE)
_ENTITY_REF: Final = re.compile(
    r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
)
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_IMDB: Final = re.compile(r"(?:tt)?(\d{1,10})", re.IGNORECASE)


class FeedError(ValueError):
    """The body is no feed of items (an error document, caps, HTML, JSON, too big...).

    The message says what it is instead, fit to show in the source's status;
    `code` carries a Torznab/Newznab `<error code>` (e.g. "100": bad API key).
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedItem:
    """One feed item that names a torrent.

    `record.info_hash` (40 lowercase hex) is set when the item gives a hash or a
    magnet; otherwise `torrent_url` is, and the poller must download that
    .torrent to learn the hash. `guid` identifies the item across polls.
    """

    guid: str
    record: RawRecord
    torrent_url: str | None = None
    categories: tuple[int, ...] = ()
    """Every Torznab/Newznab category id of the item (custom ones, 100000+, included)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedPage:
    """What one feed body gave: its items, and how many items were skipped for each reason."""

    title: str | None
    items: tuple[FeedItem, ...]
    skipped: Mapping[str, int]


class _Skip(Exception):
    """An item that cannot become a record; the argument is the counted reason."""


def parse_feed(body: bytes, *, source: str, feed_url: str, now: datetime) -> FeedPage:
    """Read the torrents of one feed body.

    Args:
        body: The bytes the feed URL answered with (never a URL: nothing is fetched).
        source: The source id every record carries.
        feed_url: Where the body came from; relative links are resolved against it.
        now: The poll time; publication dates after it (plus a day) are dropped.

    Returns:
        The items that name a torrent and the skipped counts. A feed without items
        is an empty page, not an error.

    Raises:
        FeedError: the body is not a feed of items, or is too large or unsafe to
            parse; the message says which.
    """
    text = _check_body(body)
    root = _xml_root(body)
    root_name = _tag(root)[1] if root is not None else None
    _refuse_documents(root, root_name, text)
    parsed = _feedparse(body)
    entries: list[Any] = list(parsed.get("entries") or [])
    title = _feed_title(parsed)
    if not entries:
        if root_name in _FEED_ROOTS or parsed.get("version"):
            return FeedPage(title=title, items=(), skipped=MappingProxyType({}))
        raise FeedError(_not_a_feed(root_name, text, parsed))
    attr_lists = _attr_lists(root, len(entries))
    items: list[FeedItem] = []
    skipped: Counter[str] = Counter()
    if len(entries) > MAX_ITEMS:
        skipped[SKIP_PAST_LIMIT] = len(entries) - MAX_ITEMS
        entries = entries[:MAX_ITEMS]
    for index, entry in enumerate(entries):
        attrs = attr_lists[index] if attr_lists is not None else ()
        try:
            items.append(_read_item(entry, attrs, source=source, feed_url=feed_url, now=now))
        except _Skip as skip:
            skipped[str(skip)] += 1
    return FeedPage(title=title, items=tuple(items), skipped=MappingProxyType(dict(skipped)))


# ------------------------------------------------------------------------ the body


def _check_body(body: bytes) -> str:
    """The body as text for the checks below, after refusing what must not be parsed.

    The text is only sniffed (never parsed): bytes that are not UTF-16/32 are read
    as Latin-1 so every markup character keeps its place whatever the encoding.
    """
    if len(body) > MAX_FEED_BYTES:
        raise FeedError(
            f"the body is {len(body)} bytes, more than the {MAX_FEED_BYTES} a feed may have"
        )
    text = body.decode(_wide_encoding(body) or "latin-1", errors="replace")
    text = text.lstrip("\ufeff\xef\xbb\xbf \t\r\n")
    if not text:
        raise FeedError("the body is empty, not a feed")
    if text[0] in "{[":
        raise FeedError("the body is JSON, not a feed")
    if text.count("<") > MAX_MARKUP:
        raise FeedError(f"the body has more than {MAX_MARKUP} tags, too many for a feed")
    doctype = _DOCTYPE.search(text)
    if doctype is not None and _ENTITY.search(text, doctype.start()):
        # Entity expansion is how billion-laughs bombs work; no feed needs its own entities.
        raise FeedError("the feed declares XML entities (<!ENTITY> in its DOCTYPE); refused")
    return text


def _wide_encoding(body: bytes) -> str | None:
    """UTF-32 or UTF-16 when the first bytes say so (BOM or "<" padded with zeros)."""
    head = body[:4]
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) == 4:
        if head[0] and not any(head[1:]):
            return "utf-32-le"
        if not any(head[:3]) and head[3]:
            return "utf-32-be"
        if head[0] and head[2] and not head[1] and not head[3]:
            return "utf-16-le"
        if head[1] and head[3] and not head[0] and not head[2]:
            return "utf-16-be"
    return None


def _xml_root(body: bytes) -> Any:
    """The document element as lxml reads it (recovering from errors), or None.

    No entity is expanded, no DTD loaded, nothing fetched. A parser per call:
    lxml parsers must not be shared between threads.
    """
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        recover=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log):
        raise FeedError(f"the body nests elements more than {MAX_DEPTH} deep; refused")
    return root


def _tag(element: Any) -> tuple[str | None, str]:
    """(namespace, lowercased local name) of an element; ("", "") for comments and the like.

    Split by hand: lxml's QName refuses the odd names its recover mode lets
    through ("torznab:" with an unbound prefix).
    """
    tag = element.tag
    if not isinstance(tag, str):
        return "", ""
    namespace = None
    if tag.startswith("{") and "}" in tag:
        namespace, tag = tag[1:].split("}", 1)
    return namespace, tag.rsplit(":", 1)[-1].lower()


def _refuse_documents(root: Any, root_name: str | None, text: str) -> None:
    """Raise FeedError for the documents that are known not to be feeds."""
    if root_name == "error":
        code = (root.get("code") or "").strip()[:20]
        description = " ".join((root.get("description") or "").split())[:300]
        detail = ": ".join(part for part in (code and f"error {code}", description) if part)
        raise FeedError(
            f"the indexer answered with an error ({detail or 'no detail'})", code=code or None
        )
    if root_name == "caps":
        raise FeedError("a caps document, not a feed")
    if root_name == "indexers":
        raise FeedError("a list of indexers (Jackett t=indexers), not a feed")
    if root_name == "html" or (root_name not in _FEED_ROOTS and _HTML.search(text[:4096])):
        raise FeedError("an HTML page, not a feed")


def _not_a_feed(root_name: str | None, text: str, parsed: Any) -> str:
    if root_name:
        return f"an XML document whose root is <{root_name[:40]}>, not a feed"
    problem = parsed.get("bozo_exception")
    return f"neither a feed nor XML ({problem})" if problem else "neither a feed nor XML"


def _feedparse(body: bytes) -> Any:
    """Run feedparser on the bytes, wrapped in a stream.

    A bare `bytes` argument would be tried as a file name first (and a `str` as a
    URL); a stream is only ever read.
    """
    try:
        return feedparser.parse(io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False)
    except Exception as exc:  # a third-party parser on hostile input: whatever it raises
        raise FeedError(f"the feed could not be read ({type(exc).__name__}: {exc})") from exc


def _feed_title(parsed: Any) -> str | None:
    feed = parsed.get("feed") or {}
    value = feed.get("title")
    if not isinstance(value, str):
        return None
    return _unescape(value).strip()[:MAX_TITLE_CHARS] or None


def _attr_lists(root: Any, expected: int) -> list[tuple[tuple[str, str], ...]] | None:
    """The Torznab/Newznab `attr` (name, value) pairs of each item, in document order.

    None when lxml does not see as many items as feedparser does (a feed broken
    in a way the two parsers recover from differently): pairing them by position
    would then give one item another's hash.
    """
    if root is None:
        return None
    lists: list[tuple[tuple[str, str], ...]] = []
    for element in root.iter():
        namespace, name = _tag(element)
        if name in ("item", "entry") and namespace in _ITEM_NAMESPACES:
            lists.append(tuple(_attrs_of(element)))
    return lists if len(lists) == expected else None


def _attrs_of(item: Any) -> Iterator[tuple[str, str]]:
    for element in item.iter():
        if _tag(element)[1] != "attr":
            continue
        name, value = element.get("name"), element.get("value")
        if name and value is not None:
            yield name.strip().lower(), value.strip()


# ------------------------------------------------------------------------ one item


def _read_item(
    entry: Any,
    attrs: tuple[tuple[str, str], ...],
    *,
    source: str,
    feed_url: str,
    now: datetime,
) -> FeedItem:
    title = _title(entry)
    enclosures = _enclosures(entry)
    links = [*(e.href for e in enclosures), _text(entry.get("link"))]
    info_hash, magnet = _identity(entry, attrs, links)
    torrent_url = None if info_hash else _torrent_url(entry, enclosures, feed_url)
    if info_hash is None and torrent_url is None:
        raise _Skip(SKIP_NZB if _is_nzb(entry, enclosures) else SKIP_NO_HASH)
    description = _description(entry)
    seeders, leechers = _swarm(entry, attrs, description)
    categories = _categories(entry, attrs)
    record = RawRecord(
        source=source,
        title=title,
        info_hash=info_hash,
        magnet=magnet,
        size=_size(entry, attrs, enclosures, description),
        seeders=seeders,
        leechers=leechers,
        source_url=_source_url(entry, enclosures, feed_url),
        category=_category_text(entry, categories),
        published_at=_published(entry, now),
        imdb_id=_imdb(attrs),
        tmdb_id=_positive_id(_attr(attrs, "tmdbid")),
        tvdb_id=_positive_id(_attr(attrs, "tvdbid")),
    )
    guid = _guid(entry, title, enclosures)
    return FeedItem(guid=guid, record=record, torrent_url=torrent_url, categories=categories)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _unescape(text: str) -> str:
    """Decode HTML entities written with their ";" (indexers often escape "&" twice).

    `html.unescape` alone would also read "Me&notes" as "Me¬es" (HTML's legacy
    entities need no ";"); release names are full of bare "&".
    """
    return _ENTITY_REF.sub(lambda match: html.unescape(match.group(0)), text)


def _title(entry: Any) -> str:
    """The title with HTML entities decoded."""
    title = _unescape(_text(entry.get("title"))).strip()
    if not _CONTROL.sub("", title).strip():
        raise _Skip(SKIP_NO_TITLE)
    if len(title) > MAX_TITLE_CHARS:
        raise _Skip(SKIP_TITLE_TOO_LONG)
    return title


@dataclass(frozen=True, slots=True)
class _Enclosure:
    href: str
    type: str
    length: str


def _enclosures(entry: Any) -> list[_Enclosure]:
    found = []
    for link in entry.get("links") or ():
        if isinstance(link, dict) and link.get("rel") == "enclosure":
            href = _text(link.get("href"))
            if href:
                found.append(
                    _Enclosure(href, _text(link.get("type")).lower(), _text(link.get("length")))
                )
    return found


def _extension(entry: Any, *endings: str) -> list[str]:
    """Values of the namespaced elements whose name ends with one of `endings`.

    feedparser names `<nyaa:infoHash>` "nyaa_infohash" after the document's own
    prefix, so the prefix is ignored: "infohash" finds it under any prefix.
    """
    found = []
    for key, value in entry.items():
        if isinstance(value, str) and key.replace("_", "").endswith(endings) and value.strip():
            found.append(value.strip())
    return found


def _attr(attrs: tuple[tuple[str, str], ...], name: str) -> str | None:
    return next((value for key, value in attrs if key == name and value), None)


def _identity(
    entry: Any, attrs: tuple[tuple[str, str], ...], links: list[str]
) -> tuple[str | None, str | None]:
    """(info hash as 40 hex, a magnet that agrees with it), or (None, None)."""
    explicit = _first_hash([_attr(attrs, "infohash"), *_extension(entry, "infohash")])
    magnets = [
        _attr(attrs, "magneturl"),
        *_extension(entry, "magneturi", "magneturl"),
        *links,
        _text(entry.get("id")),
        _text(entry.get("comments")),
    ]
    for candidate in magnets:
        if not candidate or candidate[:8].lower() != "magnet:?":
            continue
        try:
            magnet_hash = parse_magnet(candidate).info_hash
        except InvalidRecord:
            continue
        if explicit is None or magnet_hash == explicit:
            return magnet_hash, candidate.strip()
    return explicit, None


def _first_hash(candidates: Iterable[str | None]) -> str | None:
    for candidate in candidates:
        if candidate:
            try:
                return normalize_info_hash(candidate)
            except InvalidRecord:
                continue
    return None


def _http_url(value: str, feed_url: str) -> str | None:
    """`value` made absolute against the feed URL, if that gives an http(s) URL."""
    if not value or len(value) > MAX_URL_CHARS or any(c in value for c in "\x00\r\n\t "):
        return None
    try:
        url = urljoin(feed_url, value)
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def _path_ends(url: str, *suffixes: str) -> bool:
    try:
        return urlsplit(url).path.lower().endswith(suffixes)
    except ValueError:
        return False


def _torrent_url(entry: Any, enclosures: list[_Enclosure], feed_url: str) -> str | None:
    """The .torrent to download: a bittorrent enclosure, else a link whose path ends in .torrent."""
    for enclosure in enclosures:
        url = _http_url(enclosure.href, feed_url)
        if url and ("bittorrent" in enclosure.type or _path_ends(url, ".torrent")):
            return url
    link = _http_url(_text(entry.get("link")), feed_url)
    if link and _path_ends(link, ".torrent"):
        return link
    return None


def _is_nzb(entry: Any, enclosures: list[_Enclosure]) -> bool:
    """A Newznab (usenet) item: worth its own reason, since no torrent can ever come of it."""
    if any("nzb" in e.type or _path_ends(e.href, ".nzb") for e in enclosures):
        return True
    return _path_ends(_text(entry.get("link")), ".nzb")


def _description(entry: Any) -> str:
    """The description as plain text (tags dropped, entities decoded), bounded."""
    value = _text(entry.get("summary"))[:_MAX_DESCRIPTION_SCAN]
    return html.unescape(_TAG.sub(" ", value))


def _count(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    if not text.isdecimal() or len(text) > 10:
        return None
    number = int(text)
    return number if number <= _MAX_COUNT else None


def _first_count(values: Iterable[str | None]) -> int | None:
    return next((n for n in (_count(v) for v in values) if n is not None), None)


def _swarm(
    entry: Any, attrs: tuple[tuple[str, str], ...], description: str
) -> tuple[int | None, int | None]:
    """(seeders, leechers): Torznab attrs, then extension elements, then the description.

    `peers` is seeders and leechers together (Torznab's and ezRSS's meaning), so
    leechers are peers minus seeders when no leecher count is given.
    """

    def described(pattern: re.Pattern[str]) -> int | None:
        match = pattern.search(description)
        return _count(match.group(1)) if match else None

    layers = (
        (
            _count(_attr(attrs, "seeders")),
            _count(_attr(attrs, "leechers")),
            _count(_attr(attrs, "peers")),
        ),
        (
            _first_count(_extension(entry, "seeders", "seeds")),
            _first_count(_extension(entry, "leechers", "leechs")),
            _first_count(_extension(entry, "peers")),
        ),
        (described(_DESC_SEEDERS), described(_DESC_LEECHERS), described(_DESC_PEERS)),
    )
    for seeders, leechers, peers in layers:
        if seeders is None and leechers is None:
            continue
        if leechers is None and seeders is not None and peers is not None and peers >= seeders:
            leechers = peers - seeders
        return seeders, leechers
    return None, None


def _size_text(value: str) -> int | None:
    """Bytes from "880496711" or "609.6 MiB" (binary units, as the *arr clients count them)."""
    text = value.strip()
    if text.isdecimal():
        return _positive_size(int(text)) if len(text) <= 19 else None
    match = _SIZE_TEXT.fullmatch(text)
    return _unit_size(match) if match else None


def _unit_size(match: re.Match[str]) -> int | None:
    number = float(match.group(1).replace(",", "")) * SIZE_UNITS[match.group(2).lower()]
    return _positive_size(int(number)) if number <= _MAX_SIZE else None


def _positive_size(size: int) -> int | None:
    return size if 0 < size <= _MAX_SIZE else None


def _size(
    entry: Any,
    attrs: tuple[tuple[str, str], ...],
    enclosures: list[_Enclosure],
    description: str,
) -> int | None:
    candidates = [
        _attr(attrs, "size"),
        *_extension(entry, "size", "contentlength"),
    ]
    for candidate in candidates:
        size = _size_text(candidate) if candidate else None
        if size is not None:
            return size
    for enclosure in enclosures:
        length = _size_text(enclosure.length) if enclosure.length.isdecimal() else None
        if length is not None and length >= MIN_ENCLOSURE_LENGTH:
            return length
    return _described_size(description)


def _described_size(description: str) -> int | None:
    """A labelled "Size: 1.37 GB", else the description's only "556 MB"-like number."""
    labelled = _LABELLED_SIZE.search(description)
    if labelled:
        return _unit_size(labelled)
    bare = _BARE_SIZE.findall(description)
    if len(bare) == 1:
        match = _BARE_SIZE.search(description)
        return _unit_size(match) if match else None
    return None


def _categories(entry: Any, attrs: tuple[tuple[str, str], ...]) -> tuple[int, ...]:
    """Torznab/Newznab ids from the `category` attrs, else from numeric <category> elements."""
    ids = [_count(value) for key, value in attrs if key == "category"]
    if not any(i is not None for i in ids):
        ids = [_count(label) for label in _labels(entry)]
    return tuple(dict.fromkeys(i for i in ids if i is not None))


def _labels(entry: Any) -> list[str]:
    labels = []
    for tag in entry.get("tags") or ():
        term = tag.get("term") if isinstance(tag, dict) else None
        if isinstance(term, str) and term.strip():
            labels.append(_unescape(term).strip())
    return labels


def _category_text(entry: Any, categories: tuple[int, ...]) -> str | None:
    """The most precise standard Torznab id as text, else the site's own label.

    Standard ids are 1000-9999 (custom ones, 100000+, mean nothing elsewhere). A
    subcategory ("5040", TV/HD) is preferred to its parent ("5000"): the
    classifier keeps a source's subcategory but re-derives a bare parent.
    """
    standard = [c for c in categories if 1000 <= c < 10000]
    if standard:
        return str(next((c for c in standard if c % 1000), standard[0]))
    labels = _labels(entry) or _extension(entry, "category")
    return labels[0][:_MAX_CATEGORY_CHARS] if labels else None


def _published(entry: Any, now: datetime) -> datetime | None:
    # dict.get: feedparser's own get() maps a missing updated_parsed to published_parsed
    # with a DeprecationWarning.
    parsed = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    if parsed is None:
        return None
    try:
        year, month, day, hour, minute, second = parsed[:6]
        value = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
    return plausible_date(value, now)


def _imdb(attrs: tuple[tuple[str, str], ...]) -> str | None:
    for value in (_attr(attrs, "imdbid"), _attr(attrs, "imdb")):
        match = _IMDB.fullmatch(value or "")
        if match and int(match.group(1)):
            return f"tt{int(match.group(1)):07d}"
    return None


def _positive_id(value: str | None) -> int | None:
    number = _count(value)
    return number if number and number <= 2**31 - 1 else None


def _source_url(entry: Any, enclosures: list[_Enclosure], feed_url: str) -> str | None:
    """The item's page on the site: its permalink guid, comments or link, never a download.

    A guid counts only when it is an absolute URL: many are opaque ids
    ("9bf12f5e…") that would otherwise resolve against the feed URL. Downloads are
    recognised by being an enclosure, ending in .torrent/.nzb, or carrying a
    personal key (a passkey must not end up shown to people).
    """
    downloads = {_http_url(e.href, feed_url) for e in enclosures}
    guid = _text(entry.get("id"))
    link = _text(entry.get("link"))
    candidates = (
        _http_url(guid, "") if _scheme(guid) else None,
        _http_url(_text(entry.get("comments")), feed_url),
        # feedparser copies a guid into a missing link: that is no link of its own.
        _http_url(link, feed_url) if link != guid else None,
    )
    for url in candidates:
        if url is None or url in downloads or _path_ends(url, ".torrent", ".nzb"):
            continue
        if _has_credentials(url):
            continue
        return urldefrag(url).url
    return None


def _scheme(value: str) -> str:
    """The URL's scheme ("" for a relative reference or something that is no URL)."""
    try:
        return urlsplit(value).scheme
    except ValueError:
        return ""


def _has_credentials(url: str) -> bool:
    try:
        params = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    except ValueError:
        return True
    return any(key.lower() in _CREDENTIAL_PARAMS for key, _ in params)


def _guid(entry: Any, title: str, enclosures: list[_Enclosure]) -> str:
    """The item's guid, else its link, else a hash of its title and first enclosure."""
    guid = _text(entry.get("id")) or _text(entry.get("link"))
    if not guid:
        enclosure = enclosures[0].href if enclosures else ""
        guid = f"{title}\n{enclosure}"
    elif len(guid) <= _MAX_GUID_CHARS:
        return guid
    return "sha256:" + hashlib.sha256(guid.encode("utf-8", "replace")).hexdigest()
