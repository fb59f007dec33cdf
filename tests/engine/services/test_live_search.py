"""Live search end to end: local sites as sources, a real engine, the query log in the database.

The sites are real HTTP servers on 127.0.0.1 serving saved pages (1337x, LimeTorrents,
TorrentDownloads); the engine crawls them through its own network layer, stores what
it finds through the pipeline, and the live search logs each source's outcome. A slow
site is a saved site whose search page waits for the test to open a gate, so no
assertion depends on timing beyond "returned before the slow site answered".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from engine.core import Core
from engine.services import parse_search_params
from engine.services.live import LiveSearch, LiveSources, SourceOutcome, Status, searchable_sites
from engine.sources.report import CrawlRequestError
from engine.store.database import Database, migrate_to_head
from engine.store.live_searches import (
    MAX_QUERY_CHARS,
    LiveSearchRow,
    LiveSearchStore,
    latest_searches,
    normalize_query,
)
from engine.store.writer import Writer
from tests.conftest import SettingsFactory
from tests.crawl_support import closed_url, only_sites
from tests.engine.services.live_support import SiteEnv
from tests.engine.store.migration_support import downgrade_to, migration_engine, upgrade_to
from tests.site_server import (
    GatedSite,
    challenge_override,
)

QUERY = "sintel  2010"
"""Both saved sintel pages answer it; 1337x answers any search with its saved listing."""
ROWS = {"1337x": 20, "limetorrents": 14, "torrentdownloads": 38}
T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Env(SiteEnv):
    """Started sites, opened engines and live searches, all closed after the test."""

    def __init__(self, make_settings: SettingsFactory, database_url: str) -> None:
        super().__init__(make_settings, database_url)
        self.lives: list[LiveSearch] = []
        self.clock = Clock()

    def live(self, mirrors: dict[str, str], **options: Any) -> tuple[Core, LiveSearch]:
        sites = {sid: {"mirrors": [url], "min_interval_s": 0} for sid, url in mirrors.items()}
        values = only_sites(sites)
        core = Core.open(
            self.make_settings(self.database_url, **values, **{"pipeline.classify": False})
        )
        self.cores.append(core)
        assert core.crawling is not None
        sources: LiveSources = core.crawling  # the engine's crawl side is the real one
        live = LiveSearch(
            sources,
            LiveSearchStore(core.database.reader, core.writer),
            breakers=core.crawling.deps.breakers,
            clock=self.clock,
            **options,
        )
        self.lives.append(live)
        return core, live

    async def close(self) -> None:
        for live in self.lives:
            await live.close()
        await super().close()


@pytest.fixture
async def env(make_settings: SettingsFactory, database_url: str) -> AsyncIterator[Env]:
    opened = Env(make_settings, database_url)
    yield opened
    await opened.close()


def found(core: Core, text: str) -> set[str]:
    core.services.status.drain_index()
    params = parse_search_params({"q": text, "limit": "100"})
    return {hit.info_hash for hit in core.services.search.search_sync(params).hits}


async def logged(live_core: Core, query: str = QUERY) -> dict[str, LiveSearchRow]:
    rows = await LiveSearchStore(live_core.database.reader, live_core.writer).latest(query=query)
    return {row.source: row for row in reversed(rows)}  # each source's newest row


# ------------------------------------------------------------------ the fan-out, end to end


async def test_an_empty_index_gets_results_from_every_site_stored_searchable_and_logged(
    env: Env,
) -> None:
    leetx, lime, td = (
        await env.leetx(),
        await env.saved("limetorrents"),
        await env.saved("torrentdownloads"),
    )
    core, live = env.live(
        {"1337x": leetx.url, "limetorrents": lime.url, "torrentdownloads": td.url}
    )
    assert await live.needs_live(QUERY, local_results=0)

    answer = await live.run(QUERY)

    by_source = answer.by_source()
    assert sorted(by_source) == sorted(ROWS)
    for source, rows in ROWS.items():
        outcome = by_source[source]
        assert (outcome.status, outcome.results, outcome.new, outcome.error) == (
            Status.ANSWERED, rows, rows, None,
        )  # fmt: skip
    assert answer.results == answer.new == sum(ROWS.values())
    assert leetx.listing_paths() == ["/search/sintel+2010/1/"]
    assert len(found(core, "sintel")) == ROWS["limetorrents"] + ROWS["torrentdownloads"]
    assert len(found(core, "lion king")) >= 1  # 1337x's rows
    log_rows = await logged(core)
    assert {s: (r.results, r.new, r.error, r.late) for s, r in log_rows.items()} == {
        s: (n, n, None, False) for s, n in ROWS.items()
    }
    assert all(r.query == "sintel 2010" and r.searched_at == T0 for r in log_rows.values())


async def test_needs_live_after_the_ttl_or_the_thin_retry(env: Env) -> None:
    lime = await env.saved("limetorrents")
    _core, live = env.live({"limetorrents": lime.url}, ttl=timedelta(hours=6), min_results=5)
    assert await live.needs_live(QUERY, local_results=100)  # never asked live
    await live.run(QUERY)
    assert not await live.needs_live("sintel 2010", local_results=14)
    assert not await live.needs_live("  SINTEL 2010 ", local_results=14)  # the same query
    assert not await live.needs_live(QUERY, local_results=4)  # thin, but asked just now
    env.clock.now = T0 + timedelta(minutes=29)
    assert not await live.needs_live(QUERY, local_results=4)
    env.clock.now = T0 + timedelta(minutes=30)
    assert await live.needs_live(QUERY, local_results=4)  # thin: asked again after 30 min
    assert not await live.needs_live(QUERY, local_results=5)
    env.clock.now = T0 + timedelta(hours=5, minutes=59)
    assert not await live.needs_live(QUERY, local_results=14)
    env.clock.now = T0 + timedelta(hours=6)
    assert await live.needs_live(QUERY, local_results=14)
    assert not await live.needs_live("   ", local_results=0)  # no query: never fans out


async def test_a_slow_site_does_not_hold_the_answer_and_its_late_results_are_stored(
    env: Env,
) -> None:
    lime, slow = await env.saved("limetorrents"), await env.saved("torrentdownloads", gated=True)
    assert isinstance(slow, GatedSite)
    core, live = env.live(
        {"limetorrents": lime.url, "torrentdownloads": slow.url},
        source_deadline_s=4.0,
        global_deadline_s=5.0,
    )
    answer = await live.run(QUERY)

    assert not slow.answered  # the answer went out before the slow site answered
    assert slow.asked  # it was asked, and is still thinking
    by_source = answer.by_source()
    assert by_source["limetorrents"].status is Status.ANSWERED
    assert by_source["torrentdownloads"].status is Status.TIMED_OUT
    assert by_source["torrentdownloads"].results == 0
    assert live.running >= 1
    timed_out = (await logged(core))["torrentdownloads"]  # shown as such while it runs on
    assert (timed_out.late, timed_out.results) == (False, 0)
    assert "deadline" in (timed_out.error or "")

    slow.gate.set()
    await live.wait_idle()
    late = (await logged(core))["torrentdownloads"]
    assert (late.late, late.error, late.results, late.new) == (True, None, 38, 38)
    assert not (await logged(core))["limetorrents"].late
    assert len(found(core, "sintel")) == ROWS["limetorrents"] + ROWS["torrentdownloads"]


async def test_outcomes_arrive_as_each_site_answers(env: Env) -> None:
    lime, slow = await env.saved("limetorrents"), await env.saved("torrentdownloads", gated=True)
    assert isinstance(slow, GatedSite)
    _core, live = env.live(
        {"limetorrents": lime.url, "torrentdownloads": slow.url},
        source_deadline_s=60.0,
        global_deadline_s=60.0,
    )
    seen: list[SourceOutcome] = []
    async for outcome in live.stream(QUERY):
        seen.append(outcome)
        if outcome.source == "limetorrents":
            assert not slow.answered  # the fast site's rows come first
            slow.gate.set()
    assert [(o.source, o.status) for o in seen] == [
        ("limetorrents", Status.ANSWERED),
        ("torrentdownloads", Status.ANSWERED),
    ]
    assert seen[1].results == 38


async def test_failing_sites_are_logged_with_their_error_while_the_others_answer(
    env: Env,
) -> None:
    blocked, lime = await env.leetx(), await env.saved("limetorrents")
    blocked.override_all = challenge_override()
    core, live = env.live(
        {"1337x": blocked.url, "limetorrents": lime.url, "torrentdownloads": closed_url()}
    )
    answer = await live.run(QUERY)

    by_source = answer.by_source()
    assert by_source["limetorrents"].status is Status.ANSWERED
    assert by_source["limetorrents"].results == ROWS["limetorrents"]
    assert by_source["1337x"].status is Status.FAILED
    assert by_source["torrentdownloads"].status is Status.FAILED
    log_rows = await logged(core)
    assert log_rows["limetorrents"].error is None
    assert "challenge" in (log_rows["1337x"].error or "").lower()
    assert log_rows["torrentdownloads"].error
    assert log_rows["torrentdownloads"].results == 0
    assert len(found(core, "sintel")) == ROWS["limetorrents"]


async def test_a_site_whose_breaker_is_open_is_skipped_without_a_request(env: Env) -> None:
    leetx, lime = await env.leetx(), await env.saved("limetorrents")
    core, live = env.live({"1337x": leetx.url, "limetorrents": lime.url})
    assert core.crawling is not None
    breaker = core.crawling.deps.breakers.get("1337x")
    for _ in range(5):
        breaker.record_failure("HTTP 500")
    assert breaker.retry_after() > 0

    seen = [outcome async for outcome in live.stream(QUERY)]

    assert [(o.source, o.status) for o in seen] == [
        ("1337x", Status.SKIPPED),
        ("limetorrents", Status.ANSWERED),
    ]
    assert leetx.paths == []
    assert "paused" in ((await logged(core))["1337x"].error or "")


async def test_a_query_sites_cannot_take_is_refused_before_any_request(env: Env) -> None:
    lime = await env.saved("limetorrents")
    _core, live = env.live({"limetorrents": lime.url})
    with pytest.raises(CrawlRequestError, match="needs a query"):
        await live.run("   ")
    assert lime.paths == []


async def test_close_cancels_crawls_still_running(env: Env) -> None:
    slow = await env.saved("torrentdownloads", gated=True)
    _core, live = env.live(
        {"torrentdownloads": slow.url}, source_deadline_s=0.2, global_deadline_s=0.2
    )
    answer = await live.run(QUERY)
    assert answer.by_source()["torrentdownloads"].status is Status.TIMED_OUT
    assert live.running == 1
    await live.close()
    assert live.running == 0
    with pytest.raises(RuntimeError, match="closed"):
        await live.run(QUERY)


# ------------------------------------------------------------------ searchable sites


def test_only_enabled_sites_with_mirrors_and_a_search_mode_are_searchable(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    values = only_sites({"limetorrents": {"mirrors": ["http://127.0.0.1:9"]}})
    core = Core.open(make_settings("", **values, **{"pipeline.classify": False}))
    try:
        assert core.crawling is not None
        c = core.crawling
        assert searchable_sites(c.sites, c.html_sites, c.api_sources) == ["limetorrents"]
    finally:
        core.close()


# ------------------------------------------------------------------ the query log


@pytest.fixture
def store(database: Database, writer: Writer) -> LiveSearchStore:
    return LiveSearchStore(database.reader, writer, keep=3)


def row(
    source: str = "1337x", *, query: str = "dune", at: datetime = T0, **fields: Any
) -> LiveSearchRow:
    values: dict[str, Any] = {"results": 5, "new": 2, "duration_s": 0.5}
    return LiveSearchRow(query=query, source=source, searched_at=at, **(values | fields))


def test_queries_are_normalized_and_bounded() -> None:
    assert normalize_query("  The\tMatrix \n 1999 ") == "the matrix 1999"
    assert len(normalize_query("x" * 1000)) == MAX_QUERY_CHARS


async def test_last_searched_counts_answers_only_per_query_and_source(
    store: LiveSearchStore,
) -> None:
    assert await store.last_searched("dune") is None
    await store.record(row("1337x", at=T0))
    await store.record(row("limetorrents", at=T0 + timedelta(minutes=5), error="HTTP 503"))
    await store.record(row("yts", query="DUNE  ", at=T0 + timedelta(minutes=1)))
    assert await store.last_searched("Dune") == T0 + timedelta(minutes=1)
    assert await store.last_searched("dune", "1337x") == T0
    assert await store.last_searched("dune", "limetorrents") is None  # it failed
    assert await store.last_searched("dune 2021") is None


async def test_the_log_keeps_the_newest_rows_and_lists_them_newest_first(
    store: LiveSearchStore, database: Database
) -> None:
    for minute in range(5):
        await store.record(
            row(f"site{minute}", at=T0 + timedelta(minutes=minute), late=minute == 4)
        )
    latest = await store.latest(10)
    assert [r.source for r in latest] == ["site4", "site3", "site2"]  # pruned to keep=3
    assert latest[0].late
    assert not latest[1].late
    assert latest[0].searched_at == T0 + timedelta(minutes=4)
    assert [r.source for r in await store.latest(1)] == ["site4"]
    with database.reader.connect() as conn:
        assert [r.source for r in latest_searches(conn, 10, query="other")] == []


def test_revision_0009_upgrades_and_downgrades(database_url: str) -> None:
    with migration_engine(database_url) as engine:
        upgrade_to(engine, "0008")
        assert "live_searches" not in inspect(engine).get_table_names()
        migrate_to_head(engine)
        indexes = {
            i["name"]: i["column_names"] for i in inspect(engine).get_indexes("live_searches")
        }
        assert indexes == {
            "ix_live_searches_query_source_searched_at": ["query", "source", "searched_at"],
            "ix_live_searches_searched_at": ["searched_at"],
        }
        downgrade_to(engine, "0008")
        assert "live_searches" not in inspect(engine).get_table_names()


def test_the_outcome_statuses_are_stable_strings() -> None:
    assert {s.value for s in Status} == {"answered", "failed", "skipped", "timed_out"}
