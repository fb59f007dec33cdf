"""Errors, authentication and request logging, for every route.

Errors: every failure becomes a JSON `{"error": {"type", "message"[, "field"]}}`
with a meaningful status; unexpected ones are logged as BUG with a request id
and answered 500 without details. Auth: an API key (`X-Api-Key` or `?apikey=`)
on every route but health; the ingest routes also take `X-Internal-Secret`.
Logs never carry query strings (they hold API keys).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from engine.errors import InvalidRecord, MinatoError, Unauthorized
from engine.services import Services

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SERVICES = web.AppKey("services", Services)
MAX_BODY = web.AppKey("max_body_bytes", int)

PUBLIC_ROUTES = frozenset({"health", "torznab", "torznab_download"})
"""Torznab routes check keys themselves: `apikey` in any case, answers in Newznab XML."""
WORKER_ROUTES = frozenset({"ingest", "ingest_bulk", "ingest_file"})
CLI_ROUTES = frozenset({"dht", "dht_start", "dht_stop"})
"""What `minato dht` asks a running server: the CLI reads the internal secret from the data dir."""
SECRET_ROUTES = WORKER_ROUTES | CLI_ROUTES
"""Routes that take the internal secret as well as an API key."""


def error_response(status: int, kind: str, message: str, field: str | None = None) -> web.Response:
    """The one shape of every error answer."""
    error: dict[str, str] = {"type": kind, "message": message}
    if field is not None:
        error["field"] = field
    return web.json_response({"error": error}, status=status)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every exception into a JSON error answer; the server stays up."""
    started = time.perf_counter()
    try:
        response = await handler(request)
    except InvalidRecord as exc:
        response = error_response(exc.http_status, exc.error_type, str(exc), exc.field)
    except MinatoError as exc:
        response = error_response(exc.http_status, exc.error_type, exc.user_message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        kind = exc.reason.lower().replace(" ", "_")
        response = error_response(exc.status, kind, _http_message(exc))
    except Exception:
        request_id = secrets.token_hex(6)
        log.exception("BUG handling %s %s (request %s)", request.method, request.path, request_id)
        response = error_response(500, "internal", f"internal error (request id {request_id})")
    log.info(
        "%s %s -> %d in %.1f ms",
        request.method,
        request.path,
        response.status,
        (time.perf_counter() - started) * 1000,
    )
    return response


def _http_message(exc: web.HTTPException) -> str:
    if exc.status == 413:
        return f"request body too large ({exc.text or 'over the limit'})"
    if exc.status == 405:
        return f"method not allowed; use {', '.join(sorted(getattr(exc, 'allowed_methods', ())))}"
    return exc.reason


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require an API key (or, on ingest routes, the internal secret)."""
    route = request.match_info.route.name
    if route in PUBLIC_ROUTES or route is None:
        return await handler(request)
    keys = request.app[SERVICES].keys
    if route in SECRET_ROUTES and keys.verify_internal(request.headers.get("X-Internal-Secret")):
        return await handler(request)
    supplied = request.headers.get("X-Api-Key") or request.query.get("apikey")
    if not await keys.verify(supplied):
        what = "missing" if not supplied else "invalid"
        raise Unauthorized(f"API key {what}: send it as X-Api-Key or ?apikey=")
    return await handler(request)
