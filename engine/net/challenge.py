"""Recognise answers that are not the site: anti-bot challenge pages and parked domains.

A mirror behind Cloudflare's "Just a moment..." page, or a lapsed domain showing
"This domain is for sale", answers quickly and often with 200. Parsed as the site,
such a page yields zero results and looks like an empty search; the crawler must
instead report "blocked by a challenge" (`BlockedByChallenge`) and the mirror check
must mark the mirror unusable.

The cost of a false positive is high (a working mirror dropped), so single weak hints
are never enough. Real torrent-site pages load scripts from cdnjs.cloudflare.com,
Rocket Loader (`window.CloudFlare`), email obfuscation (`__cf_email__`) and, on sites
with Bot Management, `/cdn-cgi/challenge-platform/scripts/jsd/main.js`, all on
normal 200 pages; none of those count here. What counts:

* the `cf-mitigated: challenge` header, which Cloudflare documents as the way to tell
  a challenge from content (https://developers.cloudflare.com/cloudflare-challenges/
  challenge-types/challenge-pages/detect-response/);
* challenge machinery in the body (`_cf_chl_opt`, `/cdn-cgi/l/chk_jschl`, ...) on a
  status challenges use (403, 429, 503), or together with a challenge title or text;
* two challenge texts on such a status, or one with a Cloudflare/DDoS-Guard server.

Only the first `SCAN_BYTES` of the body are read: challenge and parking pages are
small, and a huge or hostile body must not cost more than that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

SCAN_BYTES = 64 * 1024
"""How much of the body is looked at; challenge and parking pages are a few KB."""

CHALLENGE_STATUSES = frozenset({403, 429, 503})
"""Statuses Cloudflare and DDoS-Guard serve their challenge and block pages with."""

BlockKind = Literal["challenge", "parked"]


@dataclass(frozen=True, slots=True)
class Block:
    """Why an answer is not the site's content."""

    kind: BlockKind
    """"challenge": an anti-bot page stands in front of the site (retrying won't help soon).
    "parked": the domain no longer hosts the site (drop the mirror)."""
    reason: str
    """What was seen, for people: "Cloudflare challenge page ('Just a moment...')"."""


@dataclass(frozen=True, slots=True)
class _Marker:
    needle: str  # lower case
    vendor: str  # "" when the text is used by more than one vendor
    label: str


# Parts of the challenge mechanism itself: a normal page has no reason to contain them.
_MACHINERY = (
    _Marker("_cf_chl_opt", "Cloudflare", "_cf_chl_opt script"),
    _Marker("/cdn-cgi/l/chk_jschl", "Cloudflare", "chk_jschl form"),
    _Marker("/cdn-cgi/l/chk_captcha", "Cloudflare", "chk_captcha form"),
    _Marker("jschl_answer", "Cloudflare", "jschl_answer field"),
    _Marker("cf-browser-verification", "Cloudflare", "cf-browser-verification"),
    _Marker("__cf_chl_", "Cloudflare", "__cf_chl_ token"),
    _Marker("/orchestrate/chl_page/", "Cloudflare", "challenge-platform script"),
    _Marker("/orchestrate/managed/", "Cloudflare", "challenge-platform script"),
    _Marker("/orchestrate/jsch/", "Cloudflare", "challenge-platform script"),
    _Marker("/orchestrate/captcha/", "Cloudflare", "challenge-platform script"),
    _Marker("check.ddos-guard.net", "DDoS-Guard", "ddos-guard check script"),
    _Marker("/.well-known/ddos-guard/", "DDoS-Guard", "ddos-guard check script"),
)

# What the challenge shows a person: strong in a title, but text can be quoted anywhere.
_TEXTS = (
    _Marker("<title>just a moment...</title>", "Cloudflare", "'Just a moment...'"),
    _Marker(
        "<title>attention required! | cloudflare</title>", "Cloudflare", "'Attention Required!'"
    ),
    _Marker("<title>please wait... | cloudflare</title>", "Cloudflare", "'Please Wait...'"),
    _Marker("used cloudflare to restrict access", "Cloudflare", "'Access denied' (error 1020)"),
    _Marker("<title>ddos-guard</title>", "DDoS-Guard", "'DDoS-Guard'"),
    _Marker("checking your browser before accessing", "", "'Checking your browser'"),
    _Marker("enable javascript and cookies to continue", "", "'Enable JavaScript and cookies'"),
)

# Domain marketplaces and parking services; phrases the parking pages show.
_PARKED = re.compile(
    r"\bdomain(?: name)?(?: [a-z0-9.-]{1,253})? (?:is|may be) for sale|buy this domain"
    r"|is parked free|\bparkingcrew\b|\bsedoparking\b|\bbodis\.com\b|\bhugedomains\b"
    r"|\bdan\.com/|\bafternic\.com/"
)

_PARKED_HINTS = (
    "for sale", "buy this domain", "is parked", "parkingcrew", "sedoparking", "bodis.com",
    "hugedomains", "dan.com/", "afternic.com/",
)  # fmt: skip
"""Plain substrings one of which every `_PARKED` match contains: tested first, because the
regex costs ~10 ms on a 64 KiB page and substring tests ~50 µs (bench/bench_net.py)."""

_MAGNET = "magnet:?xt="  # a page that lists magnets is a torrent site, whatever its ads say


def detect_block(status: int, headers: Mapping[str, str], body: bytes | str) -> Block | None:
    """The reason this answer is a challenge or parking page, or None if it may be the site.

    Never raises on odd input: empty, binary, huge or hostile bodies and headers give
    None unless they carry the markers.

    Args:
        status: The HTTP status of the answer.
        headers: Its headers (any case; an `httpx.Headers` or a plain dict).
        body: The body, decoded (str) or not (bytes); only the first `SCAN_BYTES` count.
    """
    lowered = {str(k).lower(): str(v).lower() for k, v in headers.items()}
    text = _scan_text(body)
    challenge = _challenge(status, lowered, text)
    if challenge is not None:
        return challenge
    return _parked(text)


def _scan_text(body: bytes | str) -> str:
    if isinstance(body, str):
        return body[:SCAN_BYTES].lower()
    # Latin-1 maps every byte to one character, so ASCII markers are found in any
    # ASCII-compatible encoding (UTF-8, cp1251, ...) and decoding cannot fail.
    return bytes(body[:SCAN_BYTES]).decode("latin-1").lower()


def _challenge(status: int, headers: Mapping[str, str], text: str) -> Block | None:
    server = headers.get("server", "")
    if "cloudflare" in server or "cf-ray" in headers:
        server_vendor = "Cloudflare"
    elif "ddos-guard" in server:
        server_vendor = "DDoS-Guard"
    else:
        server_vendor = ""
    machinery = [m for m in _MACHINERY if m.needle in text]
    texts = [m for m in _TEXTS if m.needle in text]
    if headers.get("cf-mitigated", "").strip() == "challenge":
        label = texts[0].label if texts else "cf-mitigated: challenge"
        return Block("challenge", f"Cloudflare challenge page ({label})")
    challenge_status = status in CHALLENGE_STATUSES
    if machinery and (challenge_status or texts):
        blocked = True
    elif challenge_status and texts:
        blocked = bool(server_vendor) or len(texts) >= 2
    else:
        blocked = False
    if not blocked:
        return None
    shown = (texts or machinery)[0]
    vendor = shown.vendor or next(
        (m.vendor for m in (*machinery, *texts) if m.vendor), server_vendor or "anti-bot"
    )
    return Block("challenge", f"{vendor} challenge page ({shown.label})")


def _parked(text: str) -> Block | None:
    if _MAGNET in text or not any(hint in text for hint in _PARKED_HINTS):
        return None
    found = _PARKED.search(text)
    if found is None:
        return None
    return Block("parked", f"parked domain page ('{found.group(0)}')")
