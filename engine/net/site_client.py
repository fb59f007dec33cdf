"""`SiteClient`: every request a source makes to its site, with all the rules applied.

A source asks for a path; this picks the mirror (failing over to the next live one),
a proxy by the site's policy (another one when a proxy fails), waits for the host's
rate-limit slot, fetches within the size limit, retries 429/5xx with Retry-After or
exponential backoff with jitter, recognises challenge pages, and keeps the site's
circuit breaker. Sources see either a usable response or one `NetworkError`: they
never write retry loops of their own.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urljoin

import httpx

from engine.errors import BlockedByChallenge, CircuitOpen, NoProxyAvailable, RequestFailed
from engine.net.breaker import CircuitBreaker
from engine.net.challenge import detect_block
from engine.net.clients import ClientPool, FetchedResponse, fetch
from engine.net.flaresolverr import FlareSolverr
from engine.net.mirrors import MirrorResolver, host_of
from engine.net.politeness import (
    HostRateLimiter,
    backoff_delay,
    parse_retry_after,
    should_retry,
)
from engine.net.proxies import (
    Proxy,
    ProxyManager,
    describe_failure,
    is_proxy_failure,
    redact_url,
)
from engine.site_config import SiteConfig

log = logging.getLogger(__name__)

MAX_BODY_BYTES: Final = 8 * 1024 * 1024
"""No listing page, API answer or .torrent is near this; a bigger body is an error."""
MAX_ATTEMPTS: Final = 4
"""Tries of one URL on one mirror before it counts as failed (429/5xx/timeouts)."""
MAX_PROXY_SWITCHES: Final = 8
"""Proxies tried for one request before giving up (each failed one is cooled down)."""
MAX_WAIT_S: Final = 120.0
"""A Retry-After longer than this is not waited out inside a request: the site is paused."""


class SiteClient:
    """Requests to one site through its mirrors, proxies, rate limit and breaker."""

    def __init__(
        self,
        config: SiteConfig,
        *,
        pool: ClientPool,
        proxies: ProxyManager,
        limiter: HostRateLimiter,
        breaker: CircuitBreaker,
        mirrors: MirrorResolver,
        max_bytes: int = MAX_BODY_BYTES,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 30.0,
        rng: random.Random | None = None,
        solver: FlareSolverr | None = None,
    ) -> None:
        self.config = config
        self._pool = pool
        self._proxies = proxies
        self._policy = proxies.policy(config.proxy, site=config.id)
        self._limiter = limiter
        self.breaker = breaker
        self.mirrors = mirrors
        self._max_bytes = max_bytes
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base_s
        self._backoff_cap = backoff_cap_s
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._headers = {"User-Agent": config.user_agent}
        self._solver = solver

    async def get(
        self,
        path: str,
        *,
        crawl_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FetchedResponse:
        """GET `path` (relative to the current mirror) and return a usable answer.

        4xx other than 429 are returned for the caller to read (a 404 is an answer);
        everything else that goes wrong raises.

        Raises:
            CircuitOpen: the site failed too often; nothing was sent.
            NoProxyAvailable: the site's policy needs a proxy and none is healthy.
            AllMirrorsDown: every mirror failed for this request.
            RequestFailed / BlockedByChallenge / ResponseTooLarge: from the last mirror.
        """
        return await self.request("GET", path, crawl_id=crawl_id, headers=headers)

    async def post_json(
        self, path: str, body: Any, *, crawl_id: str | None = None
    ) -> FetchedResponse:
        """POST `body` as JSON to `path` (an API that searches by POST, such as Knaben's).

        Raises:
            The same as `get`.
        """
        content = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        return await self.request("POST", path, crawl_id=crawl_id, headers=headers, content=content)

    async def request(
        self,
        method: str,
        path: str,
        *,
        crawl_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> FetchedResponse:
        """Send `method` to `path` on the current mirror, with every rule applied (see `get`)."""
        self.breaker.before_request()
        extra = {**self._headers, **(headers or {})}
        try:
            response = await self.mirrors.call(
                lambda base: self._on_mirror(
                    urljoin(base + "/", path.lstrip("/")), crawl_id, extra, method, content
                )
            )
        except (NoProxyAvailable, CircuitOpen):
            raise  # not the site's fault: the breaker stays as it is
        except Exception as exc:
            self.breaker.record_failure(describe_failure(exc))
            raise
        self.breaker.record_success()
        return response

    def end_crawl(self, crawl_id: str) -> None:
        """The crawl is over: its sticky proxy is released for the next one."""
        self._proxies.end_crawl(crawl_id)

    async def _on_mirror(
        self,
        url: str,
        crawl_id: str | None,
        headers: Mapping[str, str],
        method: str = "GET",
        content: bytes | None = None,
    ) -> FetchedResponse:
        host = host_of(url)
        attempt = 0
        switches = 0
        while True:
            proxy = self._proxies.choose(self._policy, crawl_id=crawl_id)
            client = self._pool.client_for(proxy)
            await self._limiter.acquire(host, self.config.min_interval_s)
            try:
                response = await fetch(
                    client, method, url, max_bytes=self._max_bytes, headers=headers,
                    site=self.config.id, content=content,
                )  # fmt: skip
            except httpx.HTTPError as exc:
                if proxy is not None and is_proxy_failure(exc):
                    switches = self._proxy_failed(proxy, exc, host, switches)
                    continue  # the same request through another proxy
                attempt += 1
                if attempt >= self._max_attempts or not isinstance(exc, httpx.TimeoutException):
                    raise RequestFailed(self.config.id, f"{host}: {describe_failure(exc)}") from exc
                self._limiter.defer(host, self._backoff(attempt))
                continue
            if proxy is not None:
                if is_proxy_failure(response.status):  # 407: the proxy refused us
                    switches = self._proxy_failed(proxy, f"HTTP {response.status}", host, switches)
                    continue
                self._proxies.report_success(proxy)
            block = detect_block(response.status, response.headers, response.body)
            if block is not None and block.kind == "challenge" and self._solver is not None:
                response = await self._solver.solve(url, site=self.config.id)
                block = detect_block(response.status, response.headers, response.body)
            if block is not None:
                raise BlockedByChallenge(self.config.id, f"{host}: {block.reason}")
            if not should_retry(response.status) and response.status < 500:
                return response
            attempt += 1
            wait = self._wait_for(response, attempt)
            if wait > MAX_WAIT_S:
                self._limiter.defer(host, wait)
                raise CircuitOpen(self.config.id, wait)
            if attempt >= self._max_attempts:
                raise RequestFailed(
                    self.config.id,
                    f"{redact_url(url)}: HTTP {response.status} after {attempt} attempts",
                )
            log.info("%s: HTTP %d from %s; retrying in %.1f s", self.config.id,
                     response.status, host, wait)  # fmt: skip
            self._limiter.defer(host, wait)

    def _proxy_failed(
        self, proxy: Proxy, reason: BaseException | str, host: str, switches: int
    ) -> int:
        """Cool `proxy` down and count the switch; past `MAX_PROXY_SWITCHES` give up.

        Raises:
            RequestFailed: this request already failed through too many proxies.
        """
        self._proxies.report_failure(proxy, reason)
        switches += 1
        if switches >= MAX_PROXY_SWITCHES:
            raise RequestFailed(self.config.id, f"{host}: {switches} proxies failed in a row")
        return switches

    def _wait_for(self, response: FetchedResponse, attempt: int) -> float:
        """Retry-After when the site gave one (429/503), else backoff with full jitter."""
        asked = parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
        return asked if asked is not None else self._backoff(attempt)

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, base=self._backoff_base, cap=self._backoff_cap, rng=self._rng)
