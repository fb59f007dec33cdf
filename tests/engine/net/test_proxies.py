"""ProxyManager: policies, cool-downs and redaction on a fake clock, then real proxies.

The second half runs pproxy SOCKS5 and HTTP proxies on 127.0.0.1 (tests/engine/net/
proxy_servers.py) in front of a local origin, and checks from each proxy's own log
that requests really went through it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Iterator

import httpx
import pytest
from aiohttp.test_utils import TestServer

from engine.config import ProxySettings
from engine.errors import ConfigError, NoProxyAvailable, RequestFailed
from engine.net.clients import ClientPool, FetchedResponse, fetch
from engine.net.proxies import (
    Proxy,
    ProxyManager,
    ProxyPolicy,
    describe_failure,
    is_proxy_failure,
    parse_policy,
    redact_url,
)
from tests.engine.net.proxy_servers import (
    SEEN,
    ProxyFarm,
    free_port,
    refusing_socks5_server,
    silent_server,
)

SECRET = "s3cr3t-Pa55"  # noqa: S105 (the test proxies' password, looked for in logs)
MAX_BYTES = 1024 * 1024


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def manager_of(*names: str, clock: FakeClock | None = None, **kwargs: float) -> ProxyManager:
    proxies = [Proxy(n, f"socks5h://user:{SECRET}@{n}.example:1080") for n in names]
    return ProxyManager(proxies, clock=clock or FakeClock(), **kwargs)


# --- redaction and validation ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("socks5h://user:pw@host:1080", "socks5h://user:***@host:1080"),
        ("http://user:p@ss@host:3128/", "http://user:***@host:3128/"),
        ("http://user:a:b@host", "http://user:***@host"),
        ("socks5://:pw@host:1080", "socks5://:***@host:1080"),
        ("socks5://user@host:1080", "socks5://user@host:1080"),
        ("http://host:3128", "http://host:3128"),
        (
            "via http://a:one@h1:1/x and SOCKS5H://b:two@h2:2 failed",
            "via http://a:***@h1:1/x and SOCKS5H://b:***@h2:2 failed",
        ),
    ],
)
def test_redact_url_masks_only_the_password(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_a_proxy_shows_its_credentials_to_httpx_only() -> None:
    proxy = Proxy("tor", f"socks5h://user:{SECRET}@127.0.0.1:9050")

    assert proxy.url == f"socks5h://user:{SECRET}@127.0.0.1:9050"
    assert proxy.safe_url == "socks5h://user:***@127.0.0.1:9050"
    assert SECRET not in repr(proxy)
    assert SECRET not in str(proxy)
    assert Proxy.from_settings(ProxySettings(name="tor", url=proxy.url)) == proxy


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        (f"ftp://user:{SECRET}@host:21", "scheme 'ftp'"),
        (f"user:{SECRET}@host:1080", "scheme"),
        (f"socks5://user:{SECRET}@:1080", "no host"),
        (f"http://user:{SECRET}@host:notaport", "not a valid URL"),
        (f"http://user:{SECRET}@host:99999", "not a valid URL"),
        (f"socks5://user:{SECRET}/x@host:1080", "not a valid URL"),
        (f"http:/user:{SECRET}@host:1080", "no host"),
    ],
)
def test_invalid_proxy_urls_are_refused_by_name_without_the_password(
    url: str, complaint: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        ProxyManager([ProxySettings(name="office", url=url)])

    message = str(caught.value)
    assert "'office'" in message
    assert complaint in message
    assert SECRET not in message
    assert caught.value.__cause__ is None  # a ValueError quoting the netloc stays out


def test_two_proxies_with_one_name_are_refused() -> None:
    with pytest.raises(ConfigError, match="two proxies are named 'a'"):
        ProxyManager([Proxy("a", "http://h1:1"), Proxy("a", "http://h2:2")])


def test_every_supported_scheme_is_accepted() -> None:
    manager = ProxyManager([Proxy(s, f"{s}://h:1") for s in ("http", "https", "socks5", "socks5h")])
    assert manager.names == ("http", "https", "socks5", "socks5h")


# --- policies --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("none", ProxyPolicy("1337x", "none")),
        ("None", ProxyPolicy("1337x", "none")),
        ("pool", ProxyPolicy("1337x", "round_robin")),
        ("sticky", ProxyPolicy("1337x", "sticky")),
        (["b", "a", "b"], ProxyPolicy("1337x", "round_robin", ("b", "a"))),
        ("a", ProxyPolicy("1337x", "round_robin", ("a",))),
    ],
)
def test_parse_policy(value: str | list[str], expected: ProxyPolicy) -> None:
    assert parse_policy(value, ["a", "b"], site="1337x") == expected


@pytest.mark.parametrize(
    ("value", "known", "complaint"),
    [
        (["a", "tor"], ["a", "b"], "sites.eztv.proxy: unknown proxy 'tor' (known proxies: a, b)"),
        ("rotate", ["a"], 'use "none", "pool", "sticky" or a list of proxy names'),
        ([], ["a"], "list at least one proxy name"),
        ("pool", [], "no proxy is configured"),
        ("sticky", [], "no proxy is configured"),
        (["a"], [], "known proxies: none configured"),
    ],
)
def test_bad_policies_name_the_site_and_the_known_proxies(
    value: str | list[str], known: list[str], complaint: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_policy(value, known, site="eztv")
    assert complaint in str(caught.value)
    assert "sites.eztv.proxy" in str(caught.value)


def test_policy_describes_itself_as_the_user_wrote_it() -> None:
    assert ProxyPolicy("x", "round_robin").describe() == "pool"
    assert ProxyPolicy("x", "sticky").describe() == "sticky"
    assert ProxyPolicy("x", "round_robin", ("a", "b")).describe() == "['a', 'b']"


def test_none_means_direct() -> None:
    manager = manager_of("a")
    assert manager.choose(manager.policy("none"), crawl_id="c") is None


def test_a_policy_from_other_settings_is_refused() -> None:
    manager = manager_of("a")
    with pytest.raises(ConfigError, match="unknown proxy 'gone'"):
        manager.choose(ProxyPolicy("yts", "round_robin", ("gone",)))


# --- choice and health on a fake clock -------------------------------------------------


def names(proxies: list[Proxy | None]) -> list[str]:
    return [p.name if p else "-" for p in proxies]


def test_round_robin_takes_the_next_proxy_per_request() -> None:
    manager = manager_of("a", "b", "c")
    pool = manager.policy("pool")
    assert names([manager.choose(pool) for _ in range(7)]) == ["a", "b", "c", "a", "b", "c", "a"]


def test_a_named_subset_rotates_within_itself() -> None:
    manager = manager_of("a", "b", "c")
    subset = manager.policy(["c", "a"])
    assert names([manager.choose(subset) for _ in range(4)]) == ["c", "a", "c", "a"]


def test_round_robin_skips_a_proxy_that_is_cooling_down() -> None:
    clock = FakeClock()
    manager = manager_of("a", "b", "c", clock=clock)
    pool = manager.policy("pool")
    manager.report_failure(manager.proxies[1], "ConnectError")

    assert names([manager.choose(pool) for _ in range(4)]) == ["a", "c", "a", "c"]
    clock.advance(30)
    assert "b" in names([manager.choose(pool) for _ in range(3)])


def test_sticky_keeps_one_proxy_per_crawl_until_it_ends() -> None:
    manager = manager_of("a", "b", "c")
    sticky = manager.policy("sticky")

    first = names([manager.choose(sticky, crawl_id="crawl-1") for _ in range(4)])
    other = names([manager.choose(sticky, crawl_id="crawl-2") for _ in range(2)])
    manager.end_crawl("crawl-1")
    next_crawl = names([manager.choose(sticky, crawl_id="crawl-1") for _ in range(2)])

    assert first == ["a"] * 4
    assert other == ["b"] * 2
    assert next_crawl == ["c"] * 2


def test_sticky_moves_a_crawl_to_another_proxy_when_its_proxy_fails() -> None:
    clock = FakeClock()
    manager = manager_of("a", "b", clock=clock)
    sticky = manager.policy("sticky")
    held = manager.choose(sticky, crawl_id="c")
    assert held is not None

    manager.report_failure(held, "ConnectError")
    after = [manager.choose(sticky, crawl_id="c") for _ in range(3)]
    clock.advance(3600)  # the failed one is healthy again: the crawl stays where it went

    assert names(after) == ["b"] * 3
    assert names([manager.choose(sticky, crawl_id="c")]) == ["b"]


def test_sticky_without_a_crawl_id_rotates() -> None:
    manager = manager_of("a", "b")
    sticky = manager.policy("sticky")
    assert names([manager.choose(sticky) for _ in range(3)]) == ["a", "b", "a"]


def test_cool_down_doubles_with_each_failure_up_to_the_cap() -> None:
    clock = FakeClock()
    manager = manager_of("a", clock=clock, base_cooldown_s=30.0, max_cooldown_s=200.0)
    proxy = manager.proxies[0]
    cooldowns = []
    for _ in range(6):
        cooldowns.append(manager.report_failure(proxy, "ConnectTimeout"))
        clock.advance(cooldowns[-1])  # the proxy is tried again... and fails again

    assert cooldowns == [30.0, 60.0, 120.0, 200.0, 200.0, 200.0]
    assert manager.status()[0].consecutive_failures == 6


def test_many_failures_do_not_overflow() -> None:
    clock = FakeClock()
    manager = manager_of("a", clock=clock)
    proxy = manager.proxies[0]
    for _ in range(2000):
        manager.report_failure(proxy, "down")
        clock.advance(3600)
    assert manager.report_failure(proxy, "down") == 1800.0


def test_failures_from_requests_sent_before_the_cool_down_do_not_lengthen_it() -> None:
    clock = FakeClock()
    manager = manager_of("a", clock=clock)
    proxy = manager.proxies[0]

    assert manager.report_failure(proxy, "first") == 30.0
    clock.advance(10)
    assert manager.report_failure(proxy, "second, sent concurrently") == 20.0

    status = manager.status()[0]
    assert status.consecutive_failures == 1
    assert status.last_error == "second, sent concurrently"


def test_success_resets_the_backoff() -> None:
    clock = FakeClock()
    manager = manager_of("a", clock=clock)
    proxy = manager.proxies[0]
    manager.report_failure(proxy, "x")
    clock.advance(30)
    manager.report_failure(proxy, "x")
    manager.report_success(proxy)

    assert manager.status()[0].healthy
    assert manager.report_failure(proxy, "x") == 30.0


def test_status_reports_health_without_credentials() -> None:
    clock = FakeClock()
    manager = manager_of("a", "b", clock=clock)
    manager.choose(manager.policy("pool"))
    manager.report_failure(
        manager.proxies[1], httpx.ProxyError(f"refused by socks5://user:{SECRET}@b.example:1080")
    )
    clock.advance(12.5)

    a, b = manager.status()
    assert (a.name, a.healthy, a.cooling_s, a.consecutive_failures, a.chosen) == (
        "a",
        True,
        0.0,
        0,
        1,
    )
    assert (b.healthy, b.cooling_s, b.consecutive_failures) == (False, 17.5, 1)
    assert b.safe_url == "socks5h://user:***@b.example:1080"
    assert b.last_error == "ProxyError: refused by socks5://user:***@b.example:1080"
    assert SECRET not in repr(manager.status())


def test_all_proxies_cooling_down_raises_at_once_saying_when_one_is_back() -> None:
    clock = FakeClock()
    manager = manager_of("a", "b", clock=clock)
    manager.report_failure(manager.proxies[0], "x")
    clock.advance(5)
    manager.report_failure(manager.proxies[1], "x")

    with pytest.raises(NoProxyAvailable) as caught:
        manager.choose(manager.policy("pool", site="1337x"))

    assert str(caught.value) == (
        "1337x: all 2 proxies of proxy policy pool are cooling down after failures;"
        " the first is back in 25 s"
    )
    assert caught.value.site == "1337x"


def test_the_only_proxy_of_a_subset_cooling_down_raises() -> None:
    manager = manager_of("a", "b")
    manager.report_failure(manager.proxies[0], "x")
    with pytest.raises(NoProxyAvailable, match=r"the only proxy of proxy policy \['a'\] is"):
        manager.choose(manager.policy(["a"], site="yts"), crawl_id="c")


def test_a_stranger_proxy_is_refused() -> None:
    manager = manager_of("a")
    with pytest.raises(ValueError, match="not a proxy of this manager"):
        manager.report_failure(Proxy("a", "http://elsewhere:1"), "x")


def test_bad_cooldowns_are_refused() -> None:
    with pytest.raises(ValueError, match="base_cooldown_s"):
        ProxyManager([], base_cooldown_s=60, max_cooldown_s=30)


# --- classification --------------------------------------------------------------------


def _caused(cause: BaseException) -> RequestFailed:
    failed = RequestFailed("eztv", "gave up")
    failed.__cause__ = cause  # as `raise ... from cause` leaves it
    return failed


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (407, True),
        (httpx.Response(407), True),
        (200, False),
        (502, False),
        (httpx.ProxyError("Invalid username/password"), True),
        (httpx.ProxyError("407 Proxy Authentication Required"), True),
        (httpx.ProxyError("Proxy Server could not connect: General SOCKS server failure."), True),
        (httpx.ProxyError("Proxy Server could not connect: Host unreachable."), False),
        (httpx.ProxyError("Proxy Server could not connect: Connection refused."), False),
        (httpx.ProxyError("502 Bad Gateway"), False),
        (httpx.ConnectError("All connection attempts failed"), True),
        (httpx.ConnectTimeout("timed out"), True),
        (httpx.ReadTimeout("timed out"), False),
        (httpx.RemoteProtocolError("Server disconnected"), False),
        (_caused(httpx.ConnectError("refused")), True),
        (_caused(httpx.ReadError("reset")), False),
        (ValueError("nope"), False),
    ],
)
def test_is_proxy_failure(failure: BaseException | httpx.Response | int, expected: bool) -> None:
    assert is_proxy_failure(failure) is expected


def test_describe_failure_names_the_type_and_hides_passwords() -> None:
    assert describe_failure(httpx.ConnectError("")) == "ConnectError"
    assert describe_failure(f"http://u:{SECRET}@h:1 said no") == "http://u:***@h:1 said no"


# --- through real proxies --------------------------------------------------------------


# httpcore leaves the TCP stream to a SOCKS5 proxy open when the handshake fails
# (httpcore/_async/socks_proxy.py: its `except` re-raises without closing `stream`);
# the garbage collector closes it later with a ResourceWarning. Tests that make
# handshakes fail collect it before they end, so the warning is theirs, not a later
# test's, and ignore it.
handshake_leak = pytest.mark.filterwarnings(
    "ignore:Exception ignored in:pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture
def collect_garbage() -> Iterator[None]:
    yield
    gc.collect()


def seen(origin: TestServer) -> list[str]:
    """The paths the origin served, in order."""
    assert origin.app is not None
    return origin.app[SEEN]


def target(origin: TestServer) -> str:
    return f"{origin.host}:{origin.port}"


async def crawl_get(
    manager: ProxyManager,
    clients: ClientPool,
    policy: ProxyPolicy,
    url: str,
    *,
    crawl_id: str | None = None,
    attempts: int = 5,
) -> tuple[Proxy | None, FetchedResponse]:
    """What a crawler does: choose, fetch, and on a proxy failure cool it and try another."""
    for _ in range(attempts):
        proxy = manager.choose(policy, crawl_id=crawl_id)
        try:
            response = await fetch(clients.client_for(proxy), "GET", url, max_bytes=MAX_BYTES)
        except httpx.HTTPError as exc:
            if proxy is not None and is_proxy_failure(exc):
                manager.report_failure(proxy, exc)
                continue
            raise
        if proxy is not None and is_proxy_failure(response.status):
            manager.report_failure(proxy, f"HTTP {response.status} from the proxy")
            continue
        if proxy is not None:
            manager.report_success(proxy)
        return proxy, response
    raise AssertionError(f"no answer after {attempts} attempts")


@pytest.mark.parametrize("with_auth", [False, True], ids=["anonymous", "credentials"])
@pytest.mark.parametrize(
    ("kind", "scheme"), [("socks5", "socks5"), ("socks5", "socks5h"), ("http", "http")]
)
async def test_requests_really_go_through_the_proxy(
    farm: ProxyFarm,
    origin: TestServer,
    clients: ClientPool,
    kind: str,
    scheme: str,
    with_auth: bool,
) -> None:
    user, password = ("alice", SECRET) if with_auth else (None, None)
    (server,) = farm.start(kind=kind, user=user, password=password)
    manager = ProxyManager([Proxy("p", server.url(scheme))])

    proxy, response = await crawl_get(
        manager, clients, manager.policy("pool"), str(origin.make_url("/page/7"))
    )

    assert proxy == manager.proxies[0]
    assert response.status == 200
    assert response.body.startswith(b"page 7")
    assert seen(origin) == ["/page/7"]
    assert server.connections_to(target(origin)) == 1  # pproxy carried it
    server.stop()  # and without the proxy the same request cannot get through
    with pytest.raises(httpx.ConnectError):
        await fetch(clients.client_for(proxy), "GET", str(origin.make_url("/page/8")), max_bytes=1)


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
async def test_socks5_sends_the_host_name_for_the_proxy_to_resolve(
    farm: ProxyFarm, origin: TestServer, clients: ClientPool, scheme: str
) -> None:
    # httpx resolves neither socks5:// nor socks5h:// locally: both hand the proxy the name.
    (server,) = farm.start()
    manager = ProxyManager([Proxy("p", server.url(scheme))])
    url = f"http://localhost:{origin.port}/page/1"

    _, response = await crawl_get(manager, clients, manager.policy("pool"), url)

    assert response.status == 200
    assert server.connections_to(f"localhost:{origin.port}") == 1


@handshake_leak
@pytest.mark.usefixtures("collect_garbage")
@pytest.mark.parametrize(
    ("kind", "userinfo"),
    [("socks5", "alice:wrong"), ("socks5", None), ("http", "alice:wrong"), ("http", None)],
    ids=["socks5-wrong-password", "socks5-no-credentials", "http-wrong-password", "http-none"],
)
async def test_refused_credentials_are_a_proxy_failure_that_cools_it(
    farm: ProxyFarm, origin: TestServer, clients: ClientPool, kind: str, userinfo: str | None
) -> None:
    (server,) = farm.start(kind=kind, user="alice", password=SECRET)
    manager = ProxyManager([Proxy("p", server.url_with(userinfo))], clock=FakeClock())
    proxy = manager.choose(manager.policy("pool"))
    assert proxy is not None

    failure: BaseException | int
    try:
        response = await fetch(
            clients.client_for(proxy), "GET", str(origin.make_url("/page/1")), max_bytes=MAX_BYTES
        )
    except httpx.HTTPError as exc:
        failure = exc  # SOCKS5: ProxyError (a raw socksio error without credentials, wrapped)
    else:
        failure = response.status  # an HTTP proxy answers a plain-http request with a 407

    if kind == "socks5":
        assert isinstance(failure, httpx.ProxyError)
    else:
        assert failure == 407
    assert is_proxy_failure(failure)
    manager.report_failure(
        proxy, describe_failure(failure) if isinstance(failure, BaseException) else "HTTP 407"
    )
    assert not manager.status()[0].healthy
    assert seen(origin) == []  # nothing reached the site
    with pytest.raises(NoProxyAvailable):
        manager.choose(manager.policy("pool"))


async def test_round_robin_spreads_requests_over_the_proxies(
    farm: ProxyFarm, origin: TestServer, clients: ClientPool
) -> None:
    servers = farm.start(3)
    manager = ProxyManager([Proxy(f"p{i}", s.url()) for i, s in enumerate(servers)])
    pool = manager.policy("pool")

    used = [
        (await crawl_get(manager, clients, pool, str(origin.make_url(f"/page/{n}"))))[0]
        for n in range(6)
    ]

    assert names(used) == ["p0", "p1", "p2", "p0", "p1", "p2"]
    assert [s.connections_to(target(origin)) for s in servers] == [2, 2, 2]


async def test_sticky_keeps_one_real_proxy_per_crawl(
    farm: ProxyFarm, origin: TestServer, clients: ClientPool
) -> None:
    servers = farm.start(2, kind="http")
    manager = ProxyManager([Proxy(f"p{i}", s.url()) for i, s in enumerate(servers)])
    sticky = manager.policy("sticky")

    for n in range(3):
        await crawl_get(manager, clients, sticky, str(origin.make_url(f"/page/{n}")), crawl_id="a")
    first = [s.connections_to(target(origin)) for s in servers]
    manager.end_crawl("a")
    for n in range(2):
        await crawl_get(manager, clients, sticky, str(origin.make_url(f"/page/{n}")), crawl_id="a")

    assert first == [3, 0]
    assert [s.connections_to(target(origin)) for s in servers] == [3, 2]


async def test_a_proxy_killed_mid_crawl_cools_down_and_the_crawl_completes(
    farm: ProxyFarm, origin: TestServer, clients: ClientPool
) -> None:
    servers = farm.start(2)
    manager = ProxyManager([Proxy(f"p{i}", s.url()) for i, s in enumerate(servers)])
    sticky = manager.policy("sticky", site="1337x")

    used = []
    for n in range(6):
        if n == 2:
            servers[0].stop()  # the crawl's proxy dies
        proxy, response = await crawl_get(
            manager, clients, sticky, str(origin.make_url(f"/page/{n}")), crawl_id="crawl"
        )
        assert response.status == 200
        used.append(proxy)

    assert names(used) == ["p0", "p0", "p1", "p1", "p1", "p1"]
    assert seen(origin) == [f"/page/{n}" for n in range(6)]
    assert [s.connections_to(target(origin)) for s in servers] == [2, 4]
    dead, alive = manager.status()
    assert (dead.healthy, dead.consecutive_failures) == (False, 1)
    assert (dead.last_error or "").startswith("ConnectError")
    assert alive.healthy


async def test_all_proxies_down_gives_no_proxy_available_quickly(
    farm: ProxyFarm, origin: TestServer, clients: ClientPool
) -> None:
    servers = farm.start(2)
    for server in servers:
        server.stop()
    dead_port = free_port()
    manager = ProxyManager(
        [Proxy(f"p{i}", s.url()) for i, s in enumerate(servers)]
        + [Proxy("never", f"http://127.0.0.1:{dead_port}")]
    )
    started = time.monotonic()

    with pytest.raises(NoProxyAvailable) as caught:
        await asyncio.wait_for(  # only a guard against a hang; it should raise in milliseconds
            crawl_get(
                manager,
                clients,
                manager.policy("pool", site="tpb"),
                str(origin.make_url("/page/1")),
            ),
            timeout=20,
        )

    assert time.monotonic() - started < 5
    assert "tpb: all 3 proxies of proxy policy pool are cooling down" in str(caught.value)
    assert seen(origin) == []


@handshake_leak
@pytest.mark.usefixtures("collect_garbage")
@pytest.mark.parametrize(
    ("deadline_s", "said"), [(0.5, "0.5 s"), (None, "0.4 s")], ids=["given", "from-timeouts"]
)
async def test_a_silent_proxy_times_out_instead_of_hanging(
    deadline_s: float | None, said: str
) -> None:
    # httpcore reads the SOCKS5 handshake without a timeout; fetch's deadline bounds it,
    # by default the client's four timeouts added up.
    async with ClientPool(user_agent="x", timeout=httpx.Timeout(0.1)) as pool:
        with silent_server() as port:
            proxy = Proxy("silent", f"socks5://127.0.0.1:{port}")
            started = time.monotonic()
            with pytest.raises(
                httpx.ConnectTimeout, match=f"no response head within {said}"
            ) as caught:
                await asyncio.wait_for(  # a hang guard only
                    fetch(
                        pool.client_for(proxy),
                        "GET",
                        "http://127.0.0.1:9/",
                        max_bytes=1,
                        deadline_s=deadline_s,
                    ),
                    timeout=20,
                )
    assert time.monotonic() - started < 3
    assert is_proxy_failure(caught.value)


@handshake_leak
@pytest.mark.usefixtures("collect_garbage")
@pytest.mark.parametrize(
    ("reply_code", "proxy_failure"),
    [(1, True), (2, True), (4, False), (5, False)],
    ids=["general-failure", "not-allowed", "host-unreachable", "connection-refused"],
)
async def test_a_socks5_reply_that_the_site_is_unreachable_is_the_sites_failure(
    clients: ClientPool, reply_code: int, proxy_failure: bool
) -> None:
    async with refusing_socks5_server(reply_code) as port:
        proxy = Proxy("p", f"socks5h://127.0.0.1:{port}")
        with pytest.raises(httpx.ProxyError) as caught:
            await fetch(clients.client_for(proxy), "GET", "http://site.invalid/", max_bytes=1)
    assert is_proxy_failure(caught.value) is proxy_failure


@handshake_leak
@pytest.mark.usefixtures("collect_garbage")
async def test_credentials_never_reach_logs_errors_or_status(
    farm: ProxyFarm,
    origin: TestServer,
    clients: ClientPool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # httpcore's trace included: it logs the SOCKS5 credentials
    (socks,) = farm.start(user="alice", password=SECRET)
    (http,) = farm.start(kind="http", user="alice", password=SECRET)
    wrong = f"alice:{SECRET}-wrong"
    manager = ProxyManager(
        [
            Proxy("socks", socks.url("socks5h")),
            Proxy("http", http.url()),
            Proxy("socks-wrong", socks.url_with(wrong)),
            Proxy("http-wrong", http.url_with(wrong)),
        ]
    )
    errors: list[BaseException] = []
    url = str(origin.make_url("/page/1"))

    for name in ("socks", "http"):
        await crawl_get(manager, clients, manager.policy([name]), url)
    for name in ("socks-wrong", "http-wrong"):
        with pytest.raises(NoProxyAvailable) as caught:
            await crawl_get(manager, clients, manager.policy([name], site="eztv"), url)
        errors.append(caught.value)
    with pytest.raises(ConfigError) as bad:
        Proxy("bad", f"ftp://alice:{SECRET}@127.0.0.1:1")
    errors.append(bad.value)

    assert "setup_socks5_connection" in caplog.text  # the trace that carried them did run
    assert "proxy socks-wrong (socks5://alice:***@127.0.0.1" in caplog.text
    for text in [
        caplog.text,
        *(r.getMessage() for r in caplog.records),
        *(str(e) for e in errors),
        repr(manager.status()),
        repr(manager.proxies),
    ]:
        assert SECRET not in text
