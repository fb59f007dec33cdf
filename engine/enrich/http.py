"""The enrichment services' HTTP layer: one httpx client factory and one error translation.

Every request to TMDb, AniList and MusicBrainz goes through an `httpx.Client` made
here (tmdbsimple's included: it is handed this client as its session). The client
has timeouts, Minato's User-Agent, and a transport that refuses bodies over a size
limit, counted after decompression so a small gzip bomb cannot fill memory.
`guarded_call` turns everything that can go wrong on the wire into the
`EnrichmentError` tree, so callers see three situations: wait (RateLimited), pause
(ServiceUnavailable), fix the settings (ServiceNotConfigured).
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from typing import NoReturn, TypeVar

import httpx

import engine
from engine.enrich.ratelimit import RateLimiter, parse_retry_after
from engine.errors import (
    RateLimited,
    ServiceNotConfigured,
    ServiceUnavailable,
    UnexpectedResponse,
)

DEFAULT_TIMEOUT_S = 15.0
MAX_BODY_BYTES = 5 * 1024 * 1024
"""No answer we need is near this (a TMDb search page is ~15 kB, MusicBrainz ~100 kB)."""

DEFAULT_RETRY_AFTER_S = 60.0
"""How long to wait after a rate limit without a usable Retry-After."""

_CHUNK = 64 * 1024

T = TypeVar("T")


class BodyTooLarge(httpx.DecodingError):
    """A response body over the client's limit; enrichment reports it as UnexpectedResponse."""


def user_agent(contact: str = "") -> str:
    """Minato's User-Agent, "Minato/<version> ( <contact> )", as MusicBrainz asks of clients.

    https://musicbrainz.org/doc/MusicBrainz_API/Rate_Limiting#Provide_meaningful_User-Agent_strings
    """
    contact = " ".join(contact.split())
    return (
        f"Minato/{engine.__version__} ( {contact} )" if contact else f"Minato/{engine.__version__}"
    )


def make_client(
    *,
    contact: str = "",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_body_bytes: int = MAX_BODY_BYTES,
    proxy: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An httpx client for the enrichment services; the caller closes it.

    Args:
        contact: a URL or e-mail for the User-Agent (MusicBrainz blocks anonymous clients).
        timeout_s: connect, read, write and pool timeout, each.
        max_body_bytes: larger bodies (after decompression) raise `BodyTooLarge`.
        proxy: an optional proxy URL (http, https, socks5).
        transport: the transport to wrap (tests, or a shared connection pool).
    """
    inner = transport or httpx.HTTPTransport(proxy=proxy, retries=0)
    guard_httpx_log()
    return httpx.Client(
        transport=_LimitedTransport(inner, max_body_bytes),
        timeout=httpx.Timeout(timeout_s),
        headers={
            "User-Agent": user_agent(contact),
            "Accept": "application/json",
            "Accept-Encoding": "gzip",  # the only coding _LimitedTransport decodes
        },
        follow_redirects=False,  # the APIs do not redirect; a redirect is a portal or a proxy
    )


def guarded_call(
    service: str,
    limiter: RateLimiter,
    call: Callable[[], T],
    *,
    rate_limit_statuses: frozenset[int] = frozenset({429}),
    auth_fix: str = "",
) -> T:
    """Wait for the limiter, run `call` (one request), and translate whatever it raises.

    A rate limit also defers the limiter by its Retry-After, so the next request
    from any thread waits for it. A function, not a context manager: an error raised
    in a `with` block's exit always carries the original as its context, and the
    original's message (httpx quotes the URL) would carry TMDb's api_key with it.

    Args:
        service: the service's name, for messages and `EnrichmentError.service`.
        limiter: the service's limiter.
        call: sends the request and returns what the caller needs from the response.
        rate_limit_statuses: statuses that mean "slow down" (MusicBrainz also uses 503).
        auth_fix: what to tell the user on a 401/403 ("check [enrich] tmdb_api_key").
    """
    limiter.acquire()
    try:
        return call()
    except httpx.HTTPStatusError as exc:
        # Raised below, outside this block, so it neither chains to nor keeps httpx's
        # error as context. Everything else that error says (status, reason) is in it.
        refused = status_error(service, exc.response, rate_limit_statuses, auth_fix)
    except RateLimited as exc:
        limiter.defer(exc.retry_after)
        raise
    except BodyTooLarge as exc:
        raise UnexpectedResponse(service, str(exc)) from exc
    except httpx.TimeoutException as exc:
        raise ServiceUnavailable(
            service, f"timed out ({type(exc).__name__}); is the network up?"
        ) from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise ServiceNotConfigured(
            service, "the service URL is not http(s); check the configured base URL"
        ) from exc
    except (httpx.TransportError, httpx.DecodingError, httpx.TooManyRedirects) as exc:
        raise ServiceUnavailable(
            service, f"cannot reach the service ({type(exc).__name__}: {exc})"
        ) from exc
    if isinstance(refused, RateLimited):
        limiter.defer(refused.retry_after)
    raise refused


def check_status(
    service: str,
    response: httpx.Response,
    *,
    limiter: RateLimiter,
    rate_limit_statuses: frozenset[int] = frozenset({429}),
    auth_fix: str = "",
) -> None:
    """Raise the matching EnrichmentError unless the response is a 2xx.

    For callers that read the status themselves (tmdbsimple's `raise_for_status`
    goes through `guarded_call`); a rate limit defers `limiter` here too.
    """
    if response.is_success:
        return
    error = status_error(service, response, rate_limit_statuses, auth_fix)
    if isinstance(error, RateLimited):
        limiter.defer(error.retry_after)
    raise error


def status_error(
    service: str,
    response: httpx.Response,
    rate_limit_statuses: frozenset[int] = frozenset({429}),
    auth_fix: str = "",
) -> RateLimited | ServiceUnavailable | ServiceNotConfigured | UnexpectedResponse:
    """The error for a non-2xx answer; never quotes the URL (it may carry a key)."""
    status = response.status_code
    said = f"HTTP {status} {response.reason_phrase}".rstrip()
    if status in rate_limit_statuses:
        retry_after = parse_retry_after(
            response.headers.get("Retry-After"), default_s=DEFAULT_RETRY_AFTER_S
        )
        return RateLimited(
            service, retry_after, f"{said}: rate limited; retry in {retry_after:.0f} s"
        )
    if status in (401, 403):
        fix = f"; {auth_fix}" if auth_fix else ""
        return ServiceNotConfigured(service, f"{said}: the service refused our credentials{fix}")
    if status >= 500:
        return ServiceUnavailable(service, f"{said}: the service failed on its side")
    if 300 <= status < 400:
        return ServiceUnavailable(
            service, f"{said}: redirected (a captive portal or proxy?); not followed"
        )
    return UnexpectedResponse(service, f"{said}: the service refused the request")


def decode_json(service: str, response: httpx.Response) -> object:
    """The body as JSON; a body that is not JSON means a portal, proxy or outage page."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise not_json(service, response, exc) from exc


def not_json(service: str, response: httpx.Response, exc: Exception) -> ServiceUnavailable:
    """The error for a 2xx body that does not parse as JSON."""
    kind = response.headers.get("Content-Type", "no content type")
    return ServiceUnavailable(
        service, f"answered with something that is not JSON ({kind}): {type(exc).__name__}"
    )


def fail_shape(service: str, where: str) -> NoReturn:
    """Raise UnexpectedResponse for a JSON answer of the wrong shape, naming the spot."""
    raise UnexpectedResponse(service, f"answer of an unexpected shape at {where}")


class _LimitedTransport(httpx.BaseTransport):
    """Wraps a transport; bodies over `max_bytes` (decoded) raise `BodyTooLarge`.

    It decodes gzip itself (the only coding the client asks for) so the limit counts
    what lands in memory, and refuses any coding it did not ask for.
    """

    def __init__(self, inner: httpx.BaseTransport, max_bytes: int) -> None:
        self._inner = inner
        self._max = max_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max:
            response.close()
            raise BodyTooLarge(f"answer of {declared} bytes is over the {self._max}-byte limit")
        coding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if coding not in ("identity", "gzip", "x-gzip", ""):
            response.close()
            raise httpx.DecodingError(
                f"answer in content coding {coding!r}, which we did not ask for"
            )
        headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length")
        ]
        if not isinstance(response.stream, httpx.SyncByteStream):  # a sync transport's always is
            raise TypeError(f"{type(self._inner).__name__} returned an async stream")
        stream = _LimitedStream(response.stream, self._max, gzipped=coding in ("gzip", "x-gzip"))
        return httpx.Response(
            response.status_code,
            headers=headers,
            stream=stream,
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


class _LimitedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, max_bytes: int, *, gzipped: bool) -> None:
        self._inner = inner
        self._max = max_bytes
        # wbits 16 + MAX_WBITS: a gzip header and trailer around deflate data.
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None

    def __iter__(self) -> Iterator[bytes]:
        total = 0
        for chunk in self._inner:
            for part in self._decode(chunk):
                total += len(part)
                if total > self._max:
                    raise BodyTooLarge(f"answer over the {self._max}-byte limit")
                yield part
        if self._inflate is not None:
            tail = self._inflate.flush()
            if total + len(tail) > self._max:
                raise BodyTooLarge(f"answer over the {self._max}-byte limit")
            yield tail

    def _decode(self, chunk: bytes) -> Iterator[bytes]:
        if self._inflate is None:
            yield chunk
            return
        data = chunk
        try:
            while data:
                # Bounded output per call: a bomb is cut off at the limit, not inflated first.
                yield self._inflate.decompress(data, _CHUNK)
                data = self._inflate.unconsumed_tail
        except zlib.error as exc:
            raise httpx.DecodingError(f"bad gzip data: {exc}") from exc

    def close(self) -> None:
        self._inner.close()


_API_KEY = re.compile(r"(?i)(api_key=)[^&\s\"']+")


class _RedactApiKey(logging.Filter):
    """Masks `api_key=` in httpx's request log lines (TMDb's key travels in the query).

    engine.logs masks `apikey=` on the handler; this covers TMDb's spelling wherever
    httpx's records end up, including handlers that do not redact.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "api_key=" in message.lower():
            record.msg, record.args = _API_KEY.sub(r"\1***", message), None
        return True


def guard_httpx_log() -> None:
    """Install `_RedactApiKey` on httpx's logger, once."""
    httpx_log = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactApiKey) for f in httpx_log.filters):
        httpx_log.addFilter(_RedactApiKey())
