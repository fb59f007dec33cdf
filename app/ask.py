"""Asking a running Minato server from the CLI, authenticated by the data dir's internal secret.

Whoever can read the data dir owns this Minato, so commands such as `minato dht`
and `minato search --live` reach the server running on it (`minato serve` or the
window) without an API key. No server answering is a normal outcome (None): the
command then works on the data dir itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

ASK_TIMEOUT_S = 5.0
_ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 - reached through loopback


def ask(
    host: str,
    port: int,
    secret: str,
    method: str,
    path: str,
    *,
    params: Mapping[str, str] | None = None,
    timeout_s: float = ASK_TIMEOUT_S,
) -> tuple[int, dict[str, Any]] | None:
    """(HTTP status, JSON body) of `method path` at the server, or None when none answers.

    Args:
        host: the server's listen address (an any-address is reached on loopback).
        port: its port.
        secret: the internal secret from the data dir.
        method: "GET" or "POST".
        path: the API path, e.g. "/api/dht".
        params: query parameters.
        timeout_s: how long to wait for the answer (a live search waits on the sites).
    """
    host = "127.0.0.1" if host in _ANY_ADDRESS else host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    url = f"http://{host}:{port}{path}"
    headers = {"X-Internal-Secret": secret}
    try:
        with httpx.Client(timeout=timeout_s, trust_env=False) as client:
            response = client.request(method, url, headers=headers, params=params)
    except (httpx.ConnectError, httpx.ConnectTimeout):
        return None
    except httpx.HTTPError as exc:  # something listens there but does not answer as Minato
        return 502, {"error": {"message": f"no usable answer from {url}: {exc}"}}
    try:
        body = response.json()
    except ValueError:
        return 502, {"error": {"message": f"not a Minato server answered at {url}"}}
    return response.status_code, body if isinstance(body, dict) else {}
