"""FlareSolverr: an optional helper service that passes Cloudflare challenges for us.

Some mirrors answer every client with a JavaScript challenge. A user who runs
FlareSolverr (a headless browser behind a small HTTP API) can name its URL in the
settings; when a challenge page comes back, `SiteClient` asks FlareSolverr to load
the page and uses the HTML it got. Without it the challenge is reported as
"blocked by a challenge" and the mirror resolver moves on.

API: `POST {url}/v1` with `{"cmd": "request.get", "url": ..., "maxTimeout": ms}`;
the answer is `{"status": "ok", "solution": {"url", "status", "headers",
"response"}}` or `{"status": "error", "message": ...}`.
"""

from __future__ import annotations

import time
from typing import Any, Final

import httpx

from engine.errors import BlockedByChallenge
from engine.net.clients import FetchedResponse
from engine.net.proxies import redact_url

MAX_ANSWER_BYTES: Final = 16 * 1024 * 1024
"""FlareSolverr returns the page inside JSON; a bigger answer is refused."""


class FlareSolverr:
    """A client of one FlareSolverr instance."""

    def __init__(self, url: str, *, client: httpx.AsyncClient, max_timeout_s: float = 60.0) -> None:
        self._endpoint = url.rstrip("/") + "/v1"
        self._client = client
        self._max_timeout_s = max_timeout_s

    async def solve(self, url: str, *, site: str) -> FetchedResponse:
        """Load `url` through FlareSolverr's browser and return the page it saw.

        Raises:
            BlockedByChallenge: FlareSolverr could not pass the challenge, answered
                something unusable, or cannot be reached (the message says which).
        """
        started = time.perf_counter()
        command = {"cmd": "request.get", "url": url, "maxTimeout": int(self._max_timeout_s * 1000)}
        where = redact_url(self._endpoint)
        try:
            response = await self._client.post(
                self._endpoint, json=command, timeout=self._max_timeout_s + 10
            )
        except httpx.HTTPError as exc:
            raise BlockedByChallenge(site, f"FlareSolverr at {where} unreachable: {exc}") from exc
        if len(response.content) > MAX_ANSWER_BYTES:
            raise BlockedByChallenge(
                site, f"FlareSolverr's answer is over {MAX_ANSWER_BYTES} bytes"
            )
        solution = _solution(response, site, where)
        page = solution.get("response")
        status = solution.get("status")
        if not isinstance(page, str) or not isinstance(status, int):
            raise BlockedByChallenge(site, f"FlareSolverr at {where} gave no page")
        headers = solution.get("headers")
        return FetchedResponse(
            status=status,
            headers=httpx.Headers(
                {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
            ),
            url=str(solution.get("url") or url),
            body=page.encode("utf-8"),
            encoding="utf-8",
            elapsed_s=time.perf_counter() - started,
        )


def _solution(response: httpx.Response, site: str, where: str) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError as exc:
        raise BlockedByChallenge(site, f"FlareSolverr at {where} did not answer JSON") from exc
    if not isinstance(answer, dict):
        raise BlockedByChallenge(site, f"FlareSolverr at {where} answered {type(answer).__name__}")
    if answer.get("status") != "ok" or not isinstance(answer.get("solution"), dict):
        message = str(answer.get("message") or answer.get("status") or "no solution")[:300]
        raise BlockedByChallenge(site, f"FlareSolverr could not pass the challenge: {message}")
    solution: dict[str, Any] = answer["solution"]
    return solution
