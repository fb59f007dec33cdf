"""The mirror health worker: every enabled site's mirrors re-checked on a schedule.

Mirror domains die, move and get parked between two crawls. Checking them in the
background (at start, then every `interval_s`, 15 minutes by default) means a
crawl starts on a mirror known to answer, and the API and the window can say which
mirrors are online before anything is crawled. Each check goes through the site's
own proxy policy, so a site set to go through Tor is never probed directly.

One site's failure (a store error, a bug in a probe) is logged and never stops
the others' checks or the next round. Results live in the resolvers and the
database (`engine.store.mirrors`); the worker only keeps when it last ran.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from engine.errors import NoProxyAvailable
from engine.net.clients import ClientPool
from engine.net.mirrors import MirrorResolver, Probe, ProbeResult, http_probe
from engine.net.proxies import ProxyManager, ProxyPolicy

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 900.0
"""Fifteen minutes: mirrors change by the day; a site is asked for a light page 96 times a day."""

SkipReason = Callable[[str], str | None]
"""Why a site cannot be checked now (e.g. its proxies are all cooling down), or None."""


def site_probe(
    pool: ClientPool,
    proxies: ProxyManager,
    policy: ProxyPolicy,
    *,
    path: str = "/",
    user_agent: str | None = None,
) -> Probe:
    """A probe for one site: each mirror asked for `path` through a proxy of `policy`.

    The proxy is chosen per probe (round robin over the ones the policy allows), with
    the pool's client for it, so the check sees a mirror the way a crawl will. When
    no proxy is healthy the probe reports the mirror as not reached rather than
    going direct.
    """

    async def probe(base_url: str) -> ProbeResult:
        try:
            proxy = proxies.choose(policy)
        except NoProxyAvailable as exc:
            return ProbeResult(online=False, error=exc.user_message)
        headers = {"User-Agent": user_agent} if user_agent else None
        return await http_probe(pool.client_for(proxy), path=path, headers=headers)(base_url)

    return probe


def proxy_skip_reason(proxies: ProxyManager, policies: dict[str, ProxyPolicy]) -> SkipReason:
    """A `SkipReason` that holds back sites whose policy has no healthy proxy right now.

    Without it, a dead proxy pool would mark every mirror of those sites offline,
    which says nothing about the mirrors and throws away what the last check learnt.
    """

    def reason(site: str) -> str | None:
        policy = policies.get(site)
        if policy is None or policy.strategy == "none":
            return None
        allowed = set(policy.names) if policy.names is not None else None
        usable = [
            p for p in proxies.status() if p.healthy and (allowed is None or p.name in allowed)
        ]
        if usable:
            return None
        return f"no healthy proxy for proxy policy {policy.describe()}"

    return reason


class MirrorHealthWorker:
    """Checks every resolver's mirrors now and then every `interval_s`, until cancelled."""

    def __init__(
        self,
        resolvers: Sequence[MirrorResolver],
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        skip_reason: SkipReason | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, not {interval_s}")
        self.resolvers = tuple(resolvers)
        self.interval_s = interval_s
        self._skip_reason = skip_reason
        self.last_round_at: datetime | None = None
        """When the last round of checks finished (UTC); None before the first."""

    async def run(self) -> None:
        """Check at once, then every `interval_s`; only cancellation ends it."""
        if not self.resolvers:
            return
        while True:
            await self.check_all()
            await asyncio.sleep(self.interval_s)

    async def check_all(self) -> dict[str, bool]:
        """One round: every site's mirrors at the same time.

        Returns:
            For each site, True when it was checked, False when it was skipped or
            its check failed (the reason is logged).
        """
        results: dict[str, bool] = {}
        async with asyncio.TaskGroup() as group:
            for resolver in self.resolvers:
                group.create_task(self._check_site(resolver, results))
        self.last_round_at = datetime.now(UTC)
        return results

    async def _check_site(self, resolver: MirrorResolver, results: dict[str, bool]) -> None:
        site = resolver.site
        results[site] = False
        skip = self._skip_reason(site) if self._skip_reason is not None else None
        if skip is not None:
            log.warning("%s: mirror check skipped: %s", site, skip)
            return
        try:
            await resolver.check_all()
        except Exception:  # one site's failure must not end the others' checks
            log.exception("%s: mirror check failed", site)
            return
        results[site] = True
