"""detect_block on real saved pages (a Cloudflare challenge, and torrent-site pages that
load Cloudflare scripts but are the real thing), on challenge and parking page shapes,
and on hostile input it must survive."""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest

from engine.net.challenge import SCAN_BYTES, Block, detect_block

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CHALLENGE_PAGE = FIXTURES / "html-other" / "torrentz2_cloudflare_503_challenge.html"

# Real pages that must pass: they load Rocket Loader (`window.CloudFlare`,
# ajax.cloudflare.com) or scripts from cloudflare CDNs, and list torrents whose
# names say "challenge".
REAL_SITE_PAGES = [
    "html-other/magnetissimo_limetorrents_search_sintel.html",
    "html-1337x/magnetissimo_1337x_list_xxx_2016-08.html",
    "html-tpb/tpb_search_arrow_s05e07_2019.html",
]

CLOUDFLARE = {"Server": "cloudflare", "CF-RAY": "4a9a54d86c2fc4d3-FRA"}


# -- the real Cloudflare challenge -------------------------------------------------------


def test_real_cloudflare_challenge_as_served() -> None:
    block = detect_block(503, CLOUDFLARE, CHALLENGE_PAGE.read_bytes())
    assert block == Block("challenge", "Cloudflare challenge page ('Just a moment...')")


@pytest.mark.parametrize("status", [200, 403, 503])
@pytest.mark.parametrize("headers", [{}, CLOUDFLARE], ids=["no-headers", "cloudflare"])
def test_real_challenge_is_seen_from_its_body_alone(status: int, headers: dict[str, str]) -> None:
    # A proxy may rewrite the status or strip headers; the page itself is unmistakable.
    page = CHALLENGE_PAGE.read_bytes()
    for body in (page, page.decode("utf-8")):
        block = detect_block(status, headers, body)
        assert block is not None
        assert block.kind == "challenge"
        assert "Cloudflare" in block.reason


@pytest.mark.parametrize("page", REAL_SITE_PAGES)
@pytest.mark.parametrize(
    ("status", "headers"),
    [(200, {}), (200, CLOUDFLARE), (403, {}), (503, CLOUDFLARE)],
    ids=["200", "200-cloudflare", "403", "503-cloudflare"],
)
def test_real_site_pages_are_not_blocks(page: str, status: int, headers: dict[str, str]) -> None:
    body = (FIXTURES / page).read_bytes()
    assert detect_block(status, headers, body) is None
    assert detect_block(status, headers, body.decode("utf-8", "replace")) is None


# -- challenge shapes --------------------------------------------------------------------


def test_cf_mitigated_header_is_enough() -> None:
    headers = httpx.Headers({"CF-Mitigated": "challenge", "Server": "cloudflare"})
    assert detect_block(403, headers, b"") == Block(
        "challenge", "Cloudflare challenge page (cf-mitigated: challenge)"
    )
    assert detect_block(200, {"cf-mitigated": "Challenge"}, "") is not None


MANAGED_CHALLENGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta name="robots" content="noindex,nofollow"></head><body class="no-js">
<noscript><span id="challenge-error-text">Enable JavaScript and cookies to continue</span>
</noscript><script>(function(){window._cf_chl_opt={cvId: '3',cType: 'managed'};
var cpo=document.createElement('script');
cpo.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=8a1b';}());</script>
</body></html>"""

CAPTCHA_PAGE = """<html><head><title>Attention Required! | Cloudflare</title></head><body>
<form class="challenge-form" id="challenge-form" action="/cdn-cgi/l/chk_captcha" method="get">
</form><span>Performance &amp; security by Cloudflare</span></body></html>"""

ACCESS_DENIED = """<html><head>
<title>Access denied | 1337x.to used Cloudflare to restrict access</title>
</head><body><h1>Error 1020</h1></body></html>"""

DDOS_GUARD = """<!DOCTYPE html><html><head><title>DDoS-Guard</title></head><body>
<script src="/.well-known/ddos-guard/check?context=free_splash"></script>
<h1>Checking your browser before accessing example.org</h1></body></html>"""


@pytest.mark.parametrize(
    ("status", "headers", "body", "reason"),
    [
        (403, CLOUDFLARE, MANAGED_CHALLENGE, "Cloudflare challenge page ('Just a moment...')"),
        (200, {}, MANAGED_CHALLENGE, "Cloudflare challenge page ('Just a moment...')"),
        (403, {}, CAPTCHA_PAGE, "Cloudflare challenge page ('Attention Required!')"),
        (
            403,
            CLOUDFLARE,
            ACCESS_DENIED,
            "Cloudflare challenge page ('Access denied' (error 1020))",
        ),
        (403, {"server": "ddos-guard"}, DDOS_GUARD, "DDoS-Guard challenge page ('DDoS-Guard')"),
        (
            503,
            {"server": "ddos-guard"},
            "<h1>Checking your browser before accessing x.org</h1>",
            "DDoS-Guard challenge page ('Checking your browser')",
        ),
    ],
)
def test_challenge_shapes(status: int, headers: dict[str, str], body: str, reason: str) -> None:
    assert detect_block(status, headers, body) == Block("challenge", reason)


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        # A normal 200 page on a Cloudflare site: Bot Management's script, email
        # obfuscation, a CDN stylesheet and a footer.
        (
            200,
            CLOUDFLARE,
            """<html><head><title>1337x | Free Movies</title>
            <link href="https://cdnjs.cloudflare.com/ajax/libs/select2/4.0.3/css/select2.min.css">
            </head><body><a href="/cdn-cgi/l/email-protection" class="__cf_email__">[email]</a>
            <script>window.__CF$cv$params={r:'8a1b',t:'MTcx'};a.src=
            '/cdn-cgi/challenge-platform/h/b/scripts/jsd/e0c90b6a3ed1/main.js';</script>
            <footer>Protected by Cloudflare. DDoS protection by Cloudflare.</footer>
            </body></html>""",
        ),
        # The origin's own 503 behind Cloudflare is an outage, not a challenge.
        (503, CLOUDFLARE, "<html><title>503 Service Unavailable</title><h1>nginx</h1></html>"),
        # A torrent named after the challenge text, on a 200 page.
        (200, {}, "<td>Checking Your Browser Before Accessing (2019) 1080p</td>"),
        # One weak hint on a challenge status, no vendor: not enough.
        (403, {}, "<p>Enable JavaScript and cookies to continue</p>"),
        # Machinery quoted on a normal 200 page, without any challenge text.
        (200, CLOUDFLARE, "<a href='/search?q=x&__cf_chl_tk=abc'>next page</a>"),
    ],
    ids=["cloudflare-footer", "origin-503", "torrent-name", "one-weak-hint", "token-in-link"],
)
def test_pages_that_only_mention_cloudflare_pass(
    status: int, headers: dict[str, str], body: str
) -> None:
    assert detect_block(status, headers, body) is None


# -- parked domains ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "seen"),
    [
        ("<h1>This domain is for sale!</h1><a href='https://dan.com/buy-domain/x.to'>", "is for"),
        ("<h1>This domain may be for sale!</h1>", "domain may be for sale"),
        ("<p>The domain name tpb.party is for sale.</p>", "domain name tpb.party is for sale"),
        ("<p>The domain 1337x.st may be for sale. Inquire now.</p>", "may be for sale"),
        ("<script src='//www.sedoparking.com/frmpark/x.js'></script>", "sedoparking"),
        ("<script>window.park = 'parkingcrew';</script>", "parkingcrew"),
        ("<a href='https://www.hugedomains.com/domain_profile.cfm?d=tpb'>Buy</a>", "hugedomains"),
        ("<a href='https://bodis.com'>Bodis</a>", "bodis.com"),
        ("<button>Buy this domain</button>", "buy this domain"),
        ("This Web page is parked FREE, courtesy of GoDaddy.", "is parked free"),
    ],
)
def test_parked_pages(body: str, seen: str) -> None:
    block = detect_block(200, {}, body)
    assert block is not None
    assert block.kind == "parked"
    assert seen in block.reason


@pytest.mark.parametrize(
    "body",
    [
        # A torrent index with an ad for a domain shop is still a torrent index.
        "<a href='magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567'>x</a>"
        "<div class='ad'>Buy this domain at hugedomains</div>",
        "<a href='https://jordan.com/'>Jordan</a> <p>bodisattva</p>",
        "<p>The sale of this domain name was reported in the news.</p>",
    ],
)
def test_not_parked(body: str) -> None:
    assert detect_block(200, {}, body) is None


# -- hostile and odd input ---------------------------------------------------------------


def test_only_the_first_scan_bytes_are_read() -> None:
    challenge = CHALLENGE_PAGE.read_bytes()
    assert detect_block(503, {}, b" " * SCAN_BYTES + challenge) is None
    assert detect_block(503, {}, " " * SCAN_BYTES + challenge.decode()) is None
    assert detect_block(200, {}, b"x" * SCAN_BYTES + b"This domain is for sale") is None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        "",
        b"\x00" * 10_000_000,
        random.Random(7).randbytes(1_000_000),
        b"\xff\xfe" + "<title>Just a moment...</title>".encode("utf-16-le"),
        "\udcff\ud800 lone surrogates \x00",
        b"\x1f\x8b\x08\x00" + bytes(range(256)) * 100,  # gzip magic, as if never decoded
        "<" * 200_000,
    ],
    ids=["empty-bytes", "empty-str", "nul-10mb", "random", "utf16", "surrogates", "gzip", "angles"],
)
@pytest.mark.parametrize("status", [-1, 0, 200, 403, 503, 999])
def test_odd_bodies_never_raise(body: bytes | str, status: int) -> None:
    assert detect_block(status, {"server": "cloudflare", "x": "\udcff"}, body) is None


def test_memoryview_like_bytes_are_accepted() -> None:
    page = bytearray(CHALLENGE_PAGE.read_bytes())
    assert detect_block(503, {}, bytes(page)) is not None
    assert detect_block(503, {}, page) is not None  # type: ignore[arg-type]
