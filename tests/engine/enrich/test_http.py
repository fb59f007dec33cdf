"""The enrichment HTTP client: User-Agent, body limits (after decompression), error translation."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Callable

import httpx
import pytest

import engine
from engine.enrich.http import (
    BodyTooLarge,
    decode_json,
    guarded_call,
    make_client,
    user_agent,
)
from engine.enrich.ratelimit import RateLimiter
from engine.errors import (
    RateLimited,
    ServiceNotConfigured,
    ServiceUnavailable,
    UnexpectedResponse,
)
from tests.engine.enrich.conftest import FakeClock, FakeService, Reply

LIMIT = 1000


def test_user_agent_is_the_musicbrainz_format() -> None:
    version = engine.__version__
    assert user_agent("https://example.org/minato") == (
        f"Minato/{version} ( https://example.org/minato )"
    )
    assert user_agent("  me@example.org \n") == f"Minato/{version} ( me@example.org )"
    assert user_agent() == f"Minato/{version}"


def fetch(service: FakeService, reply: Reply, **client_args: object) -> httpx.Response:
    service.route("GET", "/x", reply)
    with make_client(max_body_bytes=LIMIT, **client_args) as client:  # type: ignore[arg-type]
        return client.get(f"{service.base_url}/x")


def test_the_client_sends_our_headers(service: FakeService) -> None:
    fetch(service, Reply(200, b"{}"), contact="ops@example.org")
    headers = service.seen[0].headers
    assert headers["user-agent"] == user_agent("ops@example.org")
    assert headers["accept"] == "application/json"
    assert headers["accept-encoding"] == "gzip"


@pytest.mark.parametrize("declared", [True, False])
def test_a_body_over_the_limit_is_refused(service: FakeService, declared: bool) -> None:
    with pytest.raises(BodyTooLarge, match="limit"):
        fetch(service, Reply(200, b"x" * (LIMIT + 1), content_length=declared))


def test_a_body_at_the_limit_is_read(service: FakeService) -> None:
    assert fetch(service, Reply(200, b"x" * LIMIT)).content == b"x" * LIMIT


def test_gzip_is_decoded_and_counted_after_decompression(service: FakeService) -> None:
    small = fetch(service, Reply(200, b'{"ok": true}', gzip=True))
    assert small.json() == {"ok": True}
    assert "content-encoding" not in small.headers
    bomb = Reply(200, b"\0" * 10_000_000, gzip=True)  # ~10 kB on the wire
    assert len(bomb.payload()) < 20_000
    with pytest.raises(BodyTooLarge):
        fetch(service, bomb)


def test_broken_gzip_and_unasked_codings_are_decoding_errors(service: FakeService) -> None:
    with pytest.raises(httpx.DecodingError, match="gzip"):
        fetch(
            service,
            Reply(
                200, gzip.compress(b"{}")[:5] + b"junk" * 10, headers={"Content-Encoding": "gzip"}
            ),
        )
    with pytest.raises(httpx.DecodingError, match="br"):
        fetch(service, Reply(200, b"\x0b\x02\x80{}\x03", headers={"Content-Encoding": "br"}))


def call_with(service: FakeService, reply: Reply, clock: FakeClock) -> Callable[[], object]:
    service.route("GET", "/x", reply)
    limiter = RateLimiter(1.0, clock=clock, sleep=clock.sleep)

    def run() -> object:
        with make_client(max_body_bytes=LIMIT) as client:
            response = guarded_call(
                "svc", limiter, lambda: client.get(f"{service.base_url}/x").raise_for_status()
            )
            return decode_json("svc", response)

    return run


def test_guarded_call_returns_the_answer(service: FakeService, clock: FakeClock) -> None:
    assert call_with(service, Reply(200, {"a": [1]}), clock)() == {"a": [1]}


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(429, b"", headers={"Retry-After": "5"}), RateLimited),
        (Reply(401, b""), ServiceNotConfigured),
        (Reply(403, b""), ServiceNotConfigured),
        (Reply(500, b""), ServiceUnavailable),
        (Reply(503, b""), ServiceUnavailable),
        (Reply(302, b"", headers={"Location": "http://portal.example/"}), ServiceUnavailable),
        (Reply(404, b""), UnexpectedResponse),
        (Reply(200, b"x" * (LIMIT + 1)), UnexpectedResponse),
        (Reply(200, b"<html>"), ServiceUnavailable),
    ],
)
def test_guarded_call_translates(
    service: FakeService, clock: FakeClock, reply: Reply, error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        call_with(service, reply, clock)()
    assert type(caught.value) is error
    assert caught.value.service == "svc"  # type: ignore[attr-defined]


def test_a_url_without_http_is_a_configuration_error(clock: FakeClock) -> None:
    limiter = RateLimiter(1.0, clock=clock, sleep=clock.sleep)
    with make_client() as client, pytest.raises(ServiceNotConfigured, match="base URL"):
        guarded_call("svc", limiter, lambda: client.get("ftp://127.0.0.1/x"))


def test_a_refused_connection_is_unavailable(clock: FakeClock, closed_port: int) -> None:
    limiter = RateLimiter(1.0, clock=clock, sleep=clock.sleep)
    with make_client() as client, pytest.raises(ServiceUnavailable, match="ConnectError"):
        guarded_call("svc", limiter, lambda: client.get(f"http://127.0.0.1:{closed_port}/"))


def test_other_exceptions_pass_through(clock: FakeClock) -> None:
    limiter = RateLimiter(1.0, clock=clock, sleep=clock.sleep)

    def bug() -> None:
        raise KeyError("a bug is not a service failure")

    with pytest.raises(KeyError):
        guarded_call("svc", limiter, bug)


def test_httpx_log_lines_hide_api_key(
    service: FakeService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    service.route("GET", "/x", Reply(200, b"{}"))
    with make_client() as client:
        client.get(f"{service.base_url}/x", params={"query": "q", "api_key": "s3cr3t"})
    assert "api_key=***" in caplog.text
    assert "s3cr3t" not in caplog.text
