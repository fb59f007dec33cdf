r"""The fixed vocabulary of value filters a site definition may name under `then:`.

A definition never carries code or a template language (STYLE.md C4): each step of
a field's `then:` list is one of these names, alone (`size`) or with one argument
(`{regex: "/cat/(\\w+)/"}`). An unknown name or a bad argument is refused when the
definition is loaded, so a typo fails at start, not at 3 a.m. on a live page.

A filter takes the value so far and returns the next one, or raises `FieldError`
when the page does not hold what the site promised (the row is then skipped and
counted; many such rows mean the layout changed).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import unquote, urljoin, urlsplit

from dateutil import parser as date_parser

from engine.sources.units import SIZE_UNITS


class FieldError(ValueError):
    """A value on the page is missing or is not what the field expects."""


MAX_VALUE_CHARS: Final = 512
"""Longest text `size` and `date` read: a table cell holds far less, and a hostile page
could otherwise make the pattern matching and date parsing take seconds per value."""


def _cell_text(value: Any, what: str) -> str:
    """`value` as text, each non-breaking space made a plain one.

    Both the character and a literal `&nbsp;` (left by pages that escape twice).

    Raises:
        FieldError: the text is too long to be one `what`.
    """
    text = str(value)
    if len(text) > MAX_VALUE_CHARS:
        raise FieldError(f"too long to be {what} ({len(text)} characters): {text[:40]!r}")
    return text.replace("&nbsp;", " ").replace("\u00a0", " ")


@dataclass(frozen=True, slots=True)
class FilterContext:
    """What filters may read beyond the value: where the page came from and the time now."""

    page_url: str
    now: datetime


FilterFn = Callable[[Any, Any, FilterContext], Any]


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """One filter of the vocabulary: its function, whether it takes an argument, its output."""

    fn: FilterFn
    output: type
    """What it returns (`str`, `int` or `datetime`): a field's last filter must give its type."""
    check_arg: Callable[[Any], Any] | None = None
    """Validates and prepares the argument at load time; None: the filter takes none."""


@dataclass(frozen=True, slots=True)
class Step:
    """A filter as a definition uses it: the spec and its prepared argument."""

    name: str
    spec: FilterSpec
    arg: Any = None

    def __call__(self, value: Any, ctx: FilterContext) -> Any:
        """The next value (raises `FieldError` when `value` is not what the filter reads)."""
        return self.spec.fn(value, self.arg, ctx)


# ---------------------------------------------------------------------------- numbers


_MAX_COUNT_DIGITS: Final = 12


def _to_int(value: Any, _arg: Any, _ctx: FilterContext) -> int:
    """A count as sites print it: "15105", "1,234", "1 234"; never negative or fractional."""
    text = str(value)
    digits = text.replace("&nbsp;", "").replace(",", "").replace("\u00a0", "").replace(" ", "")
    digits = digits.strip()
    if not digits.isdecimal():
        raise FieldError(f"not a count: {text[:40]!r}")
    if len(digits) > _MAX_COUNT_DIGITS:
        raise FieldError(f"count out of range: {text[:40]!r}")
    return int(digits)


_EXACT_BYTES: Final = re.compile(r"\(\s*([\d,]+)\s*bytes\s*\)", re.IGNORECASE)
_SIZE: Final = re.compile(
    # The look-behind starts a number only at its first digit: "1.2.3 GB" is no size,
    # and a long run of digits costs one pass, not one per digit.
    r"(?<![\d.,])(\d[\d,]*(?:\.\d+)?)\s*(pib|tib|gib|mib|kib|pb|tb|gb|mb|kb|bytes|byte|[bkmgtp])\b",
    re.IGNORECASE,
)
_MAX_SIZE: Final = 2**63 - 1


def _to_size(value: Any, _arg: Any, _ctx: FilterContext) -> int:
    """Bytes from "1.9 GB", "615.68 MiB", "1.07 GiB (1147614030 Bytes)" (the exact count wins).

    Units are binary (1 MB = 1024² bytes), as the sites and the *arr clients count
    them; fractions of a byte are dropped.
    """
    text = _cell_text(value, "a size")
    exact = _EXACT_BYTES.search(text)
    if exact:
        size = int(exact.group(1).replace(",", ""))
    else:
        match = _SIZE.search(text)
        if match is None:
            raise FieldError(f"not a size: {text[:40]!r}")
        number = float(match.group(1).replace(",", "")) * SIZE_UNITS[match.group(2).lower()]
        if not number <= _MAX_SIZE:  # also infinity, from a number too long for a float
            raise FieldError(f"size out of range: {text[:40]!r}")
        size = int(number)
    if not 0 <= size <= _MAX_SIZE:
        raise FieldError(f"size out of range: {text[:40]!r}")
    return size


# ------------------------------------------------------------------------------ dates

_AGO: Final = re.compile(
    r"(\d+|an?|one)\s*\+?\s*(sec|second|min|minute|hour|hr|day|week|wk|month|mon|year|yr)s?\b"
    r"(?:\s*\+)?(?:\s*ago)?",
    re.IGNORECASE,
)
_AGO_UNITS: Final = {
    "sec": timedelta(seconds=1),
    "second": timedelta(seconds=1),
    "min": timedelta(minutes=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "hr": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "wk": timedelta(weeks=1),
    "month": timedelta(days=30),
    "mon": timedelta(days=30),
    "year": timedelta(days=365),
    "yr": timedelta(days=365),
}
_TODAY: Final = re.compile(r"^(today|yesterday|y-day)\b[\s,]*(.*)$", re.IGNORECASE)
_ORDINAL: Final = re.compile(r"(\d)(st|nd|rd|th)\b", re.IGNORECASE)
_SHORT_YEAR: Final = re.compile(r"'(\d{2})\b")
_MONTH_DOT: Final = re.compile(r"\b([A-Za-z]{3,9})\.")
_YEAR: Final = re.compile(r"\b(?:19|20)\d{2}\b")
_TIME_ONLY: Final = re.compile(r"^\d{1,2}(:\d{2})?\s*(am|pm)?$", re.IGNORECASE)


def _clock(text: str, day: datetime) -> datetime:
    """`day` at the clock time in `text` ("14:32", "6pm"); midnight when there is none."""
    text = text.strip()
    if not text:
        return day.replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        parsed = date_parser.parse(text, default=day.replace(tzinfo=None))
    except (ValueError, OverflowError) as exc:
        raise FieldError(f"not a time: {text[:40]!r}") from exc
    return parsed.replace(tzinfo=UTC)


def _to_date(value: Any, formats: tuple[str, ...] | None, ctx: FilterContext) -> datetime:
    """A UTC time from what sites print.

    "5 hours ago", "1 Year+", "Y-day 11:22", "12-18 2016", "6pm Oct. 11th",
    "May. 10th '22", "2016-08-02 16:49:45 GMT".

    `formats` (strptime patterns) are tried first. A date without a year is taken
    in the current year, or the one before when that would put it in the future.
    No date read without a year is ever after `now` (see `_not_future`).
    """
    text = " ".join(_cell_text(value, "a date").split())
    if not text:
        raise FieldError("empty date")
    now = ctx.now if ctx.now.tzinfo else ctx.now.replace(tzinfo=UTC)
    for fmt in formats or ():
        try:
            parsed = datetime.strptime(text, fmt)  # noqa: DTZ007 (made UTC below)
        except ValueError:
            continue
        parsed = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if "%Y" in fmt or "%y" in fmt:
            return parsed
        return _not_future(parsed.replace(year=now.year), now)
    if text.lower() in ("just now", "now"):
        return now
    ago = _AGO.fullmatch(text) or (_AGO.search(text) if "ago" in text.lower() else None)
    if ago is not None:
        count = 1 if ago.group(1).lower() in ("a", "an", "one") else int(ago.group(1))
        try:
            return now - count * _AGO_UNITS[ago.group(2).lower()]
        except (OverflowError, ValueError):  # "9999 years ago" is before year 1
            raise FieldError(f"date out of range: {text[:40]!r}") from None
    today = _TODAY.match(text)
    if today is not None:
        day = now if today.group(1).lower() == "today" else now - timedelta(days=1)
        return _not_future(_clock(today.group(2), day), now)
    if _TIME_ONLY.match(text):
        return _not_future(_clock(text, now), now)
    cleaned = _MONTH_DOT.sub(r"\1", _ORDINAL.sub(r"\1", text))
    cleaned = _SHORT_YEAR.sub(r"20\1", cleaned)
    default = now.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0, month=1, day=1)
    try:
        parsed = date_parser.parse(cleaned, default=default)
    except (ValueError, OverflowError) as exc:
        raise FieldError(f"not a date: {text[:40]!r}") from exc
    parsed = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return parsed if _YEAR.search(cleaned) else _not_future(parsed, now)


def _not_future(when: datetime, now: datetime) -> datetime:
    """A yearless date, never after `now`.

    More than a day ahead, it was last year's; less, it is today's date on a site
    whose clock runs ahead of UTC, so it is now. A listing never shows an upload
    from the future, and a published time in the future would sort the row above
    everything really new.
    """
    if when <= now:
        return when
    if when - now <= timedelta(days=1):
        return now
    try:
        return when.replace(year=when.year - 1)
    except ValueError:  # 29 February
        return when - timedelta(days=365)


def _date_formats(arg: Any) -> tuple[str, ...]:
    formats = (arg,) if isinstance(arg, str) else arg
    if not isinstance(formats, list | tuple) or not formats:
        raise ValueError("give a strptime format or a list of them")
    for fmt in formats:
        if not isinstance(fmt, str) or "%" not in fmt:
            raise ValueError(f"{fmt!r} is not a strptime format")
    return tuple(formats)


# ------------------------------------------------------------------------------- text


def _absolute_url(value: Any, _arg: Any, ctx: FilterContext) -> str:
    """A link resolved against the page it is on; only http(s) and magnet links pass."""
    text = str(value).strip()
    if not text:
        raise FieldError("empty link")  # it would resolve to the page itself
    if text.lower().startswith("magnet:"):
        return text
    try:
        url = urljoin(ctx.page_url, text)
        scheme = urlsplit(url).scheme
    except ValueError as exc:  # "http://[::1": urllib refuses a malformed host
        raise FieldError(f"not a web link: {text[:60]!r} ({exc})") from None
    if scheme not in ("http", "https"):
        raise FieldError(f"not a web link: {text[:60]!r}")
    return url


def _regex(value: Any, pattern: re.Pattern[str], _ctx: FilterContext) -> str:
    match = pattern.search(str(value))
    if match is None:
        raise FieldError(f"{pattern.pattern!r} does not match {str(value)[:60]!r}")
    return match.group(1) if pattern.groups else match.group(0)


def _compile(arg: Any) -> re.Pattern[str]:
    if not isinstance(arg, str) or not arg:
        raise ValueError("give a regular expression")
    try:
        pattern = re.compile(arg)
    except re.error as exc:
        raise ValueError(f"bad regular expression: {exc}") from None
    if pattern.groups > 1:
        raise ValueError("use at most one capturing group (its text is the value)")
    return pattern


_BTIH_HEX: Final = re.compile(r"btih:([0-9a-fA-F]{40})(?![0-9a-fA-F])", re.IGNORECASE)
_HEX_HASH: Final = re.compile(r"(?<![0-9a-fA-F])([0-9a-fA-F]{40})(?![0-9a-fA-F])")
_B32_HASH: Final = re.compile(r"btih:([A-Za-z2-7]{32})\b")


def _info_hash(value: Any, _arg: Any, _ctx: FilterContext) -> str:
    """The info hash in a magnet link, a .torrent URL or a page's text, as 40 lowercase hex.

    A magnet's `btih:` wins over any other 40-hex run (a name in `dn=` may hold one).
    """
    text = unquote(str(value))
    found = _BTIH_HEX.search(text) or _HEX_HASH.search(text)
    if found is not None:
        return found.group(1).lower()
    b32 = _B32_HASH.search(text)
    if b32 is not None:
        return base64.b32decode(b32.group(1).upper()).hex()
    raise FieldError(f"no info hash in {text[:60]!r}")


def _replace(value: Any, arg: tuple[str, str], _ctx: FilterContext) -> str:
    return str(value).replace(arg[0], arg[1])


def _pair(arg: Any) -> tuple[str, str]:
    if not (isinstance(arg, list) and len(arg) == 2 and all(isinstance(a, str) for a in arg)):
        raise ValueError("give [old, new]")
    if not arg[0]:
        raise ValueError("the text to replace is empty")
    return arg[0], arg[1]


def _strip(value: Any, _arg: Any, _ctx: FilterContext) -> str:
    text = " ".join(str(value).split())
    if not text:
        raise FieldError("empty text")
    return text


def _strip_suffix(value: Any, arg: str, _ctx: FilterContext) -> str:
    text = str(value).strip()
    return text[: -len(arg)].rstrip() if text.endswith(arg) else text


def _text_arg(arg: Any) -> str:
    if not isinstance(arg, str) or not arg:
        raise ValueError("give a non-empty text")
    return arg


def _lower(value: Any, _arg: Any, _ctx: FilterContext) -> str:
    return str(value).lower()


FILTERS: Final[Mapping[str, FilterSpec]] = {
    "int": FilterSpec(_to_int, int),
    "size": FilterSpec(_to_size, int),
    "date": FilterSpec(_to_date, datetime, check_arg=_date_formats),
    "absolute_url": FilterSpec(_absolute_url, str),
    "regex": FilterSpec(_regex, str, check_arg=_compile),
    "info_hash": FilterSpec(_info_hash, str),
    "replace": FilterSpec(_replace, str, check_arg=_pair),
    "strip": FilterSpec(_strip, str),
    "strip_suffix": FilterSpec(_strip_suffix, str, check_arg=_text_arg),
    "lower": FilterSpec(_lower, str),
}
"""Every filter a definition may name. `date` takes optional strptime formats."""
_OPTIONAL_ARG: Final = frozenset({"date"})


def make_step(item: Any) -> Step:
    """A `then:` entry (`"size"` or `{"regex": "..."}`) as a step.

    Raises:
        ValueError: an unknown name, a missing or bad argument (the message says which).
    """
    if isinstance(item, str):
        name, arg, given = item, None, False
    elif isinstance(item, dict) and len(item) == 1:
        ((name, arg),) = item.items()
        given = True
    else:
        raise ValueError(f"{item!r} is not a filter (write a name, or {{name: argument}})")
    spec = FILTERS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ValueError(f"unknown filter {name!r} (known: {', '.join(sorted(FILTERS))})")
    if spec.check_arg is None:
        if given:
            raise ValueError(f"filter {name!r} takes no argument")
        return Step(name, spec)
    if not given:
        if name in _OPTIONAL_ARG:
            return Step(name, spec)
        raise ValueError(f"filter {name!r} needs an argument")
    return Step(name, spec, spec.check_arg(arg))
