"""MirrorResolver against real HTTP servers on several loopback ports, on SQLite and PostgreSQL.

What users depend on: the fastest mirror that answers as the site is used; a Cloudflare
challenge or parked page is never mistaken for a live mirror; a mirror that dies during
a crawl costs one failed request, not the crawl; when every mirror is down the error
names them all; and what was learnt survives a restart.

The servers add their delay before answering (0 / 300 / 600 ms), far apart enough
that a busy 2-core machine cannot reorder them; nothing asserts how fast *we* are.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from engine.errors import AllMirrorsDown, BlockedByChallenge, ConfigError
from engine.net.challenge import detect_block
from engine.net.mirrors import (
    MirrorResolver,
    ProbeResult,
    describe_error,
    host_of,
    http_probe,
    validate_mirrors,
)
from engine.store.database import Database, open_database
from engine.store.mirrors import MirrorStore
from engine.store.writer import Writer

CHALLENGE_PAGE = (
    Path(__file__).resolve().parents[2]
    / "fixtures"
    / "html-other"
    / "torrentz2_cloudflare_503_challenge.html"
).read_bytes()
PARKED_PAGE = b"<html><body><h1>1337x.example</h1><p>This domain is for sale!</p></body></html>"
FAST, MEDIUM, SLOW = 0.0, 0.3, 0.6
SITE = "1337x"


@dataclass
class Mirror:
    """One fake site mirror: a name, a delay, what it answers, and what it was asked."""

    name: str
    delay_s: float = 0.0
    mode: str = "site"  # site | challenge | parked | error | endless
    paths: list[str] = field(default_factory=list)
    server: TestServer | None = None
    url: str = ""

    async def stop(self) -> None:
        assert self.server is not None
        await self.server.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.paths.append(request.path)
        await asyncio.sleep(self.delay_s)
        if self.mode == "challenge":
            return web.Response(
                status=503,
                body=CHALLENGE_PAGE,
                content_type="text/html",
                headers={"Server": "cloudflare", "CF-RAY": "8f1e2d3c4b5a6978-FRA"},
            )
        if self.mode == "parked":
            return web.Response(body=PARKED_PAGE, content_type="text/html")
        if self.mode == "error":
            return web.Response(status=500, text="upstream error")
        if self.mode == "endless":
            return await self._endless(request)
        return web.Response(text=f"{self.name} {request.path}", content_type="text/html")

    async def _endless(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        chunk = b"<p>" + b"x" * 16_000 + b"</p>"
        try:
            while True:
                await response.write(chunk)
        except (ConnectionError, RuntimeError):
            pass  # the client stopped reading, as it should
        return response


MirrorFactory = Callable[..., Awaitable[Mirror]]


@pytest.fixture
async def start_mirror() -> Any:
    """Starts `Mirror`s on their own 127.0.0.1 ports; all are stopped after the test."""
    started: list[Mirror] = []

    async def start(name: str, delay_s: float = 0.0, mode: str = "site") -> Mirror:
        mirror = Mirror(name, delay_s, mode)
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", mirror.handle)
        mirror.server = TestServer(app, host="127.0.0.1")
        await mirror.server.start_server()
        mirror.url = str(mirror.server.make_url("")).rstrip("/")
        started.append(mirror)
        return mirror

    yield start
    for mirror in started:
        assert mirror.server is not None
        await mirror.server.close()


def closed_url() -> str:
    """A loopback base URL nothing listens on: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
async def client() -> Any:
    async with httpx.AsyncClient() as c:
        yield c


@pytest.fixture
def store(database: Database, writer: Writer) -> MirrorStore:
    return MirrorStore(database.reader, writer)


async def resolver_for(
    urls: list[str], store: MirrorStore, client: httpx.AsyncClient, **kwargs: Any
) -> MirrorResolver:
    return await MirrorResolver.open(
        SITE, urls, probe=http_probe(client, timeout_s=5.0), store=store, **kwargs
    )


async def test_the_fastest_live_mirror_is_chosen(
    start_mirror: MirrorFactory, store: MirrorStore, client: httpx.AsyncClient
) -> None:
    slow = await start_mirror("slow", SLOW)
    medium = await start_mirror("medium", MEDIUM)
    fast = await start_mirror("fast", FAST)
    refused = closed_url()
    resolver = await resolver_for([refused, slow.url, medium.url, fast.url], store, client)
    assert resolver.current() == refused  # before any check: the first configured

    states = {s.url: s for s in await resolver.check_all()}

    assert resolver.current() == fast.url
    assert [s.url for s in resolver.states() if s.chosen] == [fast.url]
    assert states[refused].online is False
    assert "ConnectError" in (states[refused].last_error or "")
    assert states[refused].consecutive_failures == 1
    for mirror in (slow, medium, fast):
        assert states[mirror.url].usable
        assert states[mirror.url].latency_ms is not None
        assert mirror.paths == ["/"]
    latency = {url: s.latency_ms or 0.0 for url, s in states.items()}
    assert latency[fast.url] < latency[medium.url] < latency[slow.url]
    assert latency[slow.url] >= SLOW * 1000 * 0.9  # the delay is really measured
    assert len(await store.history(SITE, fast.url)) == 1


async def test_probes_run_at_the_same_time(
    start_mirror: MirrorFactory, store: MirrorStore, client: httpx.AsyncClient
) -> None:
    mirrors = [await start_mirror(f"m{i}", SLOW) for i in range(4)]
    resolver = await resolver_for([m.url for m in mirrors], store, client)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await resolver.check_all()
    # One after another would take 4 x 0.6 s; together they take about one delay.
    assert loop.time() - started < 4 * SLOW * 0.9


async def test_a_challenge_page_is_flagged_and_never_chosen(
    start_mirror: MirrorFactory, store: MirrorStore, client: httpx.AsyncClient
) -> None:
    challenge = await start_mirror("challenge", FAST, mode="challenge")
    parked = await start_mirror("parked", FAST, mode="parked")
    slow = await start_mirror("slow", SLOW)
    resolver = await resolver_for([challenge.url, parked.url, slow.url], store, client)

    states = {s.url: s for s in await resolver.check_all()}

    assert resolver.current() == slow.url  # slower, but the only one that is the site
    blocked = states[challenge.url]
    assert blocked.online is True  # it answered ...
    assert (blocked.blocked or "").startswith("challenge: Cloudflare challenge page")
    assert not blocked.usable  # ... but not as the site
    assert blocked.consecutive_failures == 1
    assert (states[parked.url].blocked or "").startswith("parked: parked domain page")
    [row] = await store.history(SITE, challenge.url)
    assert (row.status, row.online) == (503, True)
    assert row.blocked == blocked.blocked

    await slow.stop()  # the only real mirror goes: the challenge is still not an option
    with pytest.raises(AllMirrorsDown) as caught:
        await resolver.failover(slow.url, "connection refused")
    message = str(caught.value)
    assert f"{host_of(challenge.url)}: challenge: Cloudflare challenge page" in message
    assert f"{host_of(parked.url)}: parked" in message


async def test_a_mirror_going_down_mid_crawl_fails_over_and_the_crawl_completes(
    start_mirror: MirrorFactory, store: MirrorStore, client: httpx.AsyncClient
) -> None:
    fast = await start_mirror("fast", FAST)
    slow = await start_mirror("slow", SLOW)
    medium = await start_mirror("medium", MEDIUM)
    resolver = await resolver_for([fast.url, slow.url, medium.url], store, client)
    await resolver.check_all()
    assert resolver.current() == fast.url

    pages: dict[int, str] = {}
    failovers = 0
    for n in range(1, 11):
        if n == 5:
            await fast.stop()
        for _attempt in range(3):
            base = resolver.current()
            try:
                response = await client.get(f"{base}/page/{n}", timeout=5.0)
                response.raise_for_status()
            except httpx.TransportError as exc:
                failovers += 1
                await resolver.failover(f"{base}/page/{n}", describe_error(exc))
                continue
            pages[n] = response.text
            break

    assert pages == {
        n: f"{'fast' if n < 5 else 'medium'} /page/{n}" for n in range(1, 11)
    }  # the next fastest took over, not the next in the list
    assert failovers == 1
    assert resolver.current() == medium.url
    states = {s.url: s for s in resolver.states()}
    assert states[fast.url].online is False
    assert states[fast.url].known_bad
    assert states[medium.url].chosen
    assert slow.paths == ["/"]  # only the health check
    newest = (await store.history(SITE, fast.url))[0]
    assert (newest.online, newest.latency_ms) == (False, None)
    assert "Error" in (newest.error or "")


async def test_call_tries_each_mirror_once_and_skips_challenges(
    start_mirror: MirrorFactory, store: MirrorStore, client: httpx.AsyncClient
) -> None:
    """Without a health check: the order of the list, past refusals and challenge pages."""
    challenge = await start_mirror("challenge", FAST, mode="challenge")
    good = await start_mirror("good", FAST)
    refused = closed_url()
    resolver = await resolver_for([refused, challenge.url, good.url], store, client)

    async def fetch(base: str) -> str:
        response = await client.get(f"{base}/page/1", timeout=5.0)
        block = detect_block(response.status_code, response.headers, response.content)
        if block is not None:
            raise BlockedByChallenge(SITE, f"{host_of(base)}: {block.reason}")
        return response.text

    assert await resolver.call(fetch) == "good /page/1"
    assert resolver.current() == good.url
    states = {s.url: s for s in resolver.states()}
    assert "ConnectError" in (states[refused].last_error or "")
    challenged = states[challenge.url]  # recorded as a health check records it: blocked
    assert (challenged.online, challenged.last_error) == (True, None)
    assert (challenged.blocked or "").startswith("challenge: ")
    assert challenged.known_bad
    assert states[good.url].online is None  # used, but never checked
    assert await resolver.call(fetch) == "good /page/1"  # the next call starts there
    assert challenge.paths == ["/page/1"]


async def test_every_mirror_down_names_every_host(
    store: MirrorStore, client: httpx.AsyncClient
) -> None:
    urls = [closed_url(), closed_url(), closed_url()]
    resolver = await resolver_for(urls, store, client)
    states = await resolver.check_all()
    assert [s.online for s in states] == [False, False, False]
    assert resolver.current() == urls[0]  # nothing better is known

    with pytest.raises(AllMirrorsDown) as caught:
        await resolver.failover(urls[0], "ConnectError: refused")
    assert caught.value.site == SITE
    assert caught.value.error_type == "all_mirrors_down"
    for url in urls:
        assert host_of(url) in caught.value.user_message
    assert "[sites.1337x] mirrors" in caught.value.user_message

    async def fetch(base: str) -> str:
        response = await client.get(base, timeout=5.0)
        return response.text

    with pytest.raises(AllMirrorsDown, match=r"127\.0\.0\.1:\d+"):
        await resolver.call(fetch)


async def test_call_gives_up_after_trying_each_mirror_once(
    start_mirror: MirrorFactory, store: MirrorStore, client: httpx.AsyncClient
) -> None:
    """Health checks that keep saying "usable" cannot make one call loop forever."""
    a = await start_mirror("a")
    b = await start_mirror("b")
    resolver = await resolver_for([a.url, b.url], store, client)
    await resolver.check_all()
    calls: list[str] = []

    async def always_refused(base: str) -> str:
        calls.append(base)
        await resolver.check_all()  # the mirrors look fine to the health check again
        raise httpx.ConnectError("refused")

    with pytest.raises(AllMirrorsDown, match="tried"):
        await resolver.call(always_refused)
    assert sorted(calls) == sorted([a.url, b.url])  # each once, whichever was faster first


async def test_history_grows_with_each_check(
    start_mirror: MirrorFactory, store: MirrorStore, client: httpx.AsyncClient
) -> None:
    a = await start_mirror("a")
    resolver = await resolver_for([a.url, closed_url()], store, client)
    for _ in range(3):
        await resolver.check_all()
    assert len(await store.history(SITE, a.url)) == 3
    states = resolver.states()
    assert states[0].consecutive_failures == 0
    assert states[1].consecutive_failures == 3


@pytest.mark.parametrize("restart_config", ["same", "reordered"])
async def test_the_choice_and_health_survive_a_restart(
    database_url: str,
    start_mirror: MirrorFactory,
    client: httpx.AsyncClient,
    restart_config: str,
) -> None:
    slow = await start_mirror("slow", SLOW)
    fast = await start_mirror("fast", FAST)
    challenge = await start_mirror("challenge", FAST, mode="challenge")
    urls = [slow.url, challenge.url, fast.url]
    with opened(database_url) as (database, writer):
        first = await resolver_for(urls, MirrorStore(database.reader, writer), client)
        before = await first.check_all()
        assert first.current() == fast.url

    async def no_probe(url: str) -> ProbeResult:
        raise AssertionError("a restart must not need a health check")

    if restart_config == "reordered":
        urls = [fast.url, challenge.url, slow.url]
    with opened(database_url) as (database, writer):
        second = await MirrorResolver.open(
            SITE, urls, probe=no_probe, store=MirrorStore(database.reader, writer)
        )
        assert second.current() == fast.url
        after = {s.url: s for s in second.states()}
        for state in before:
            kept = after[state.url]
            assert (kept.online, kept.latency_ms, kept.blocked, kept.chosen, kept.checked_at) == (
                state.online,
                state.latency_ms,
                state.blocked,
                state.chosen,
                state.checked_at,
            )
        assert [s.position for s in second.states()] == [0, 1, 2]
        assert len(await MirrorStore(database.reader, writer).history(SITE, fast.url)) == 1


async def test_a_dropped_mirror_is_forgotten_on_restart(
    database_url: str, start_mirror: MirrorFactory, client: httpx.AsyncClient
) -> None:
    fast = await start_mirror("fast", FAST)
    slow = await start_mirror("slow", SLOW)
    with opened(database_url) as (database, writer):
        await (
            await resolver_for([slow.url, fast.url], MirrorStore(database.reader, writer), client)
        ).check_all()
    with opened(database_url) as (database, writer):
        store = MirrorStore(database.reader, writer)
        resolver = await resolver_for([slow.url], store, client)  # the chosen one was removed
        assert resolver.current() == slow.url
        assert resolver.states()[0].latency_ms is not None  # its health was kept
        assert [s.url for s in await store.states(SITE)] == [slow.url]
        assert await store.history(SITE, fast.url) == []


@contextmanager
def opened(url: str) -> Iterator[tuple[Database, Writer]]:
    """Open the database and a writer as a process start does; close both as a stop does."""
    database = open_database(url)
    writer = Writer(database.writer)
    writer.start()
    try:
        yield database, writer
    finally:
        writer.stop()
        database.dispose()


# Logic with a scripted probe: no servers, exact latencies.


class ScriptedProbe:
    """Answers each base URL with the result it was given; counts the calls."""

    def __init__(self, results: dict[str, ProbeResult | Exception | None]) -> None:
        self.results = results
        self.calls: list[str] = []

    async def __call__(self, url: str) -> ProbeResult:
        self.calls.append(url)
        result = self.results[url]
        if result is None:
            await asyncio.Event().wait()  # never answers
        if isinstance(result, Exception):
            raise result
        assert isinstance(result, ProbeResult)
        return result


def up(latency_ms: float) -> ProbeResult:
    return ProbeResult(online=True, latency_ms=latency_ms, status=200)


DOWN = ProbeResult(online=False, error="ConnectError: refused")
M = [f"https://mirror{i}.example" for i in range(5)]


async def scripted(
    store: MirrorStore, results: dict[str, ProbeResult | Exception | None], **kwargs: Any
) -> MirrorResolver:
    return await MirrorResolver.open(
        SITE, list(results), probe=ScriptedProbe(results), store=store, **kwargs
    )


async def test_equal_latencies_go_to_the_config_order(store: MirrorStore) -> None:
    resolver = await scripted(store, {M[0]: up(200), M[1]: up(100), M[2]: up(100)})
    await resolver.check_all()
    assert resolver.current() == M[1]


async def test_failover_takes_the_next_fastest_then_the_unchecked_in_order(
    store: MirrorStore,
) -> None:
    resolver = await scripted(store, {M[0]: up(50), M[1]: up(300), M[2]: DOWN, M[3]: up(120)})
    await resolver.check_all()
    assert resolver.current() == M[0]
    assert await resolver.failover(M[0], "timeout") == M[3]
    assert await resolver.failover(M[3], "timeout") == M[1]
    with pytest.raises(AllMirrorsDown):
        await resolver.failover(M[1], "timeout")
    assert resolver.current() == M[1]  # the last choice stays, for the next check to revise

    fresh = await MirrorResolver.open(
        "other", M[:4], probe=ScriptedProbe({}), store=store
    )  # never checked: the list order, skipping what failed
    assert await fresh.failover(M[0], "refused") == M[1]
    assert await fresh.failover(M[1], "refused") == M[2]


async def test_concurrent_failures_of_one_mirror_move_on_only_once(store: MirrorStore) -> None:
    resolver = await scripted(store, {M[0]: up(10), M[1]: up(20), M[2]: up(30)})
    await resolver.check_all()
    got = await asyncio.gather(*(resolver.failover(f"{M[0]}/page/{i}", "reset") for i in range(4)))
    assert got == [M[1]] * 4
    assert resolver.current() == M[1]


async def test_a_failed_url_must_belong_to_a_mirror(store: MirrorStore) -> None:
    resolver = await scripted(store, {M[0]: up(10), M[1]: up(20)})
    with pytest.raises(ValueError, match="not one of the site's mirrors"):
        await resolver.failover("https://elsewhere.example/page/1", "refused")
    with pytest.raises(ValueError):
        await resolver.failover(f"{M[0]}evil.example", "refused")  # a prefix is not a mirror


async def test_a_probe_that_raises_or_hangs_counts_as_offline(store: MirrorStore) -> None:
    resolver = await scripted(
        store,
        {M[0]: RuntimeError("probe bug"), M[1]: None, M[2]: up(500)},
        probe_timeout_s=0.2,
    )
    states = await resolver.check_all()
    assert [s.online for s in states] == [False, False, True]
    assert states[0].last_error == "RuntimeError: probe bug"
    assert states[1].last_error == "no answer within 0.2 s"
    assert resolver.current() == M[2]


async def test_a_check_with_nothing_usable_keeps_the_last_choice(store: MirrorStore) -> None:
    results: dict[str, ProbeResult | Exception | None] = {M[0]: up(10), M[1]: up(20)}
    resolver = await scripted(store, results)
    await resolver.check_all()
    results[M[0]] = results[M[1]] = DOWN
    await resolver.check_all()
    assert resolver.current() == M[0]
    assert all(s.known_bad for s in resolver.states())


# The default probe, on its own.


async def test_http_probe_reports_status_errors_and_timeouts(
    start_mirror: MirrorFactory, client: httpx.AsyncClient
) -> None:
    broken = await start_mirror("broken", mode="error")
    hanging = await start_mirror("hanging", delay_s=5.0)
    ok = await start_mirror("ok")

    failed = await http_probe(client)(broken.url)
    assert (failed.online, failed.status, failed.error, failed.blocked) == (
        False,
        500,
        "HTTP 500",
        None,
    )
    assert failed.latency_ms is not None  # it did answer
    timed_out = await http_probe(client, timeout_s=0.3)(hanging.url)
    assert (timed_out.online, timed_out.error) == (False, "no answer within 0.3 s")
    result = await http_probe(client, path="health/ping")(ok.url + "/")
    assert (result.online, result.status, result.blocked, result.error) == (True, 200, None, None)
    assert ok.paths == ["/health/ping"]


async def test_http_probe_reads_only_the_head_of_an_endless_page(
    start_mirror: MirrorFactory, client: httpx.AsyncClient
) -> None:
    endless = await start_mirror("endless", mode="endless")
    result = await asyncio.wait_for(http_probe(client, max_bytes=64 * 1024)(endless.url), 10)
    assert (result.online, result.status, result.blocked) == (True, 200, None)


# Configuration mistakes.


def test_no_mirror_is_a_config_error_naming_the_site() -> None:
    for urls in ([], ["  "], ["/"]):
        with pytest.raises(ConfigError, match=r"\[sites\.1337x\] mirrors"):
            validate_mirrors(SITE, urls)
    with pytest.raises(ConfigError, match="no mirror configured"):
        MirrorResolver(SITE, [], probe=ScriptedProbe({}), store=None)  # type: ignore[arg-type]


def test_duplicate_mirrors_are_one_mirror_in_first_place() -> None:
    assert validate_mirrors(
        SITE, ["https://a.example/", "https://b.example", " https://a.example"]
    ) == (
        "https://a.example",
        "https://b.example",
    )


@pytest.mark.parametrize(
    "bad",
    [
        "1337x.to",
        "ftp://1337x.to",
        "https://",
        "https://1337x.to/?q=1",
        "https://1337x.to/#top",
        "http://1337x.to:99999",
        "http://[::1",
        "https://" + "a" * 600 + ".example",
    ],
)
def test_an_invalid_mirror_is_a_config_error_naming_site_and_url(bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_mirrors(SITE, ["https://1337x.st", bad])
    message = caught.value.user_message
    assert "[sites.1337x] mirrors" in message
    assert bad.strip().rstrip("/")[:40] in message


def test_a_mirror_with_credentials_is_refused_without_echoing_them() -> None:
    for bad in ("https://user:s3cret@1337x.to", "http://user:s3cret@[::1"):
        with pytest.raises(ConfigError) as caught:
            validate_mirrors(SITE, [bad])
        assert "s3cret" not in caught.value.user_message
        assert "[sites.1337x] mirrors" in caught.value.user_message


def test_a_mirror_that_is_not_text_or_a_site_without_a_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="42 is not a URL"):
        validate_mirrors(SITE, ["https://1337x.to", 42])
    with pytest.raises(ConfigError, match="site"):
        validate_mirrors("", ["https://1337x.to"])


def test_errors_are_described_without_credentials() -> None:
    exc = httpx.ProxyError("cannot reach socks5://bob:hunter2@10.0.0.1:1080")
    assert describe_error(exc) == "ProxyError: cannot reach socks5://***@10.0.0.1:1080"
    assert describe_error(httpx.ReadTimeout("")) == "ReadTimeout"


async def test_stored_reasons_never_carry_credentials(store: MirrorStore) -> None:
    leaky = ProbeResult(online=False, error="ProxyError: socks5://bob:hunter2@10.0.0.1 refused")
    resolver = await scripted(store, {M[0]: leaky, M[1]: up(10)})
    await resolver.check_all()
    with pytest.raises(AllMirrorsDown) as caught:
        await resolver.failover(M[1], "via http://alice:pw123@proxy.example:3128: reset")
    assert "hunter2" not in str(caught.value)
    assert "pw123" not in str(caught.value)
    texts = [s.last_error or "" for s in await store.states(SITE)]
    texts += [c.error or "" for url in M[:2] for c in await store.history(SITE, url)]
    assert not any("hunter2" in t or "pw123" in t for t in texts)
    assert "socks5://***@10.0.0.1" in texts[0]
