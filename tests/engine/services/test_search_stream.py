"""The search service going live, step by step, over a real engine and local sites.

`SearchService.search_stream` is what the window shows rows from as sites answer:
the local answer at once, then a page after each site's answer, then a last `done`
step. `search` is the same, answered once. The sites are real HTTP servers on
127.0.0.1 serving saved pages (LimeTorrents, TorrentDownloads, The Pirate Bay); a
slow site is one whose search page waits for the test to open a gate, so the order
of the steps is proved without timing.

Sonarr's search by TVDB id alone is answered by the id's matches first, then the
matches of the show's name (found by a resolver, here a fake) whose own ids do not
say they are another show.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from engine.core import Core
from engine.enrich.names import KnownTitle
from engine.models import ContentKind, LiveMode, LiveStatus, RawRecord, SearchQuery
from engine.services.search import SearchService, SearchUpdate
from tests.conftest import SettingsFactory
from tests.crawl_support import only_sites
from tests.engine.services.live_support import SiteEnv
from tests.site_server import SAVED_SITES, GatedSite, SavedSite

SINTEL = SearchQuery(text="sintel 2010", limit=100)
"""Both saved sintel pages answer it."""
ARROW_TVDB = 257655
MINE = "1" * 40
OTHER_SHOW = "2" * 40


class Env(SiteEnv):
    """Started sites and opened engines, all closed after the test."""

    def core(self, *sites: SavedSite, classify: bool = False) -> Core:
        """An engine whose only sources are `sites`; deadlines long enough for any gate."""
        mirrors = {s.pages.site: {"mirrors": [s.url], "min_interval_s": 0} for s in sites}
        pipeline: dict[str, Any] = (
            {"pipeline.classify_workers": 1} if classify else {"pipeline.classify": False}
        )
        values = {
            **only_sites(mirrors),
            **pipeline,
            "live.source_deadline_s": 60.0,
            "live.global_deadline_s": 60.0,
        }
        core = Core.open(self.make_settings(self.database_url, **values))
        self.cores.append(core)
        return core


@pytest.fixture
async def env(make_settings: SettingsFactory, database_url: str) -> AsyncIterator[Env]:
    opened = Env(make_settings, database_url)
    yield opened
    await opened.close()


def asked_search(site: SavedSite) -> int:
    return site.paths.count(site.pages.search_path)


def hashes(update: SearchUpdate) -> set[str]:
    return {hit.info_hash for hit in update.page.hits}


async def ingest(core: Core, *records: RawRecord) -> None:
    report = await core.pipeline.submit(list(enumerate(records)))
    assert (report.created, report.rejected) == (len(records), ())
    core.drainer.drain_all()


# ------------------------------------------------------------------ step by step


async def test_the_stream_shows_each_sites_rows_as_it_answers_then_ends(env: Env) -> None:
    lime, slow = await env.saved("limetorrents"), await env.saved("torrentdownloads", gated=True)
    assert isinstance(slow, GatedSite)
    service = env.core(lime, slow).services.search

    updates: list[SearchUpdate] = []
    async for update in service.search_stream(SINTEL, live=LiveMode.AUTO):
        updates.append(update)
        if update.outcome is not None and update.outcome.source == "limetorrents":
            assert not slow.answered  # the fast site's rows are shown before the slow one's
            slow.gate.set()

    local, fast, late, last = updates  # the local answer, one per site, the end
    assert (local.page.total, local.page.hits, local.outcome, local.done) == (0, (), None, False)
    assert local.page.live == ()

    assert fast.outcome is not None
    assert (fast.outcome.source, fast.outcome.status, fast.outcome.results) == (
        "limetorrents", LiveStatus.ANSWERED, 14,
    )  # fmt: skip
    assert not fast.done
    assert fast.page.hits, "the fast site's torrents are shown at once"
    assert all("limetorrents" in hit.sources for hit in fast.page.hits)
    assert all("sintel" in hit.title.lower() for hit in fast.page.hits)
    assert fast.page.live == (fast.outcome,)

    assert late.outcome is not None
    assert (late.outcome.source, late.outcome.status, late.outcome.results) == (
        "torrentdownloads", LiveStatus.ANSWERED, 38,
    )  # fmt: skip
    assert not late.done
    assert late.page.total > fast.page.total  # the page grows as results arrive
    assert hashes(late) > hashes(fast)
    assert any("torrentdownloads" in hit.sources for hit in late.page.hits)
    assert late.page.live == (fast.outcome, late.outcome)

    assert (last.outcome, last.done) == (None, True)
    assert last.page.live == (fast.outcome, late.outcome)
    assert hashes(last) == hashes(late)
    assert {u.page.live_text for u in updates} == {"sintel 2010"}
    assert (asked_search(lime), asked_search(slow)) == (1, 1)


async def test_the_local_answer_comes_first_while_the_sites_are_still_asked(env: Env) -> None:
    slow = await env.saved("torrentdownloads", gated=True)
    assert isinstance(slow, GatedSite)
    core = env.core(slow)
    await ingest(core, RawRecord(source="api", title="Sintel 2010 local copy", info_hash=MINE))

    stream = core.services.search.search_stream(SINTEL, live=LiveMode.AUTO)
    first = await anext(stream)

    assert [hit.info_hash for hit in first.page.hits] == [MINE]
    assert (first.outcome, first.done, first.page.live_text) == (None, False, "sintel 2010")
    assert not slow.answered
    slow.gate.set()
    rest = [update async for update in stream]
    assert [u.done for u in rest] == [False, True]
    assert MINE in hashes(rest[-1])
    assert len(rest[-1].page.hits) > 1  # the local torrent, then the site's


async def test_a_search_that_does_not_go_live_is_one_step_and_asks_no_site(env: Env) -> None:
    lime = await env.saved("limetorrents")
    core = env.core(lime)
    await ingest(core, RawRecord(source="api", title="Sintel 2010 local copy", info_hash=MINE))

    updates = [u async for u in core.services.search.search_stream(SINTEL, live=LiveMode.OFF)]

    assert len(updates) == 1
    (only,) = updates
    assert (only.outcome, only.done, only.page.live, only.page.live_text) == (None, True, (), None)
    assert [hit.info_hash for hit in only.page.hits] == [MINE]
    assert lime.paths == []


# ------------------------------------------------------------------ once, again, always


async def test_the_same_search_again_is_answered_by_the_index_unless_always(env: Env) -> None:
    lime = await env.saved("limetorrents")
    service = env.core(lime).services.search

    first = await service.search(SINTEL, live=LiveMode.AUTO)

    assert first.total > 0
    assert [(o.source, o.status) for o in first.live] == [("limetorrents", LiveStatus.ANSWERED)]
    assert first.live_text == "sintel 2010"
    assert asked_search(lime) == 1
    asked_so_far = len(lime.paths)

    again = await service.search(
        SearchQuery(text="  Sintel   2010 ", limit=100), live=LiveMode.AUTO
    )  # the same query, spelled otherwise

    assert len(lime.paths) == asked_so_far  # asked just now: no site is asked
    assert (again.live, again.live_text) == ((), None)
    assert {h.info_hash for h in again.hits} == {h.info_hash for h in first.hits}

    always = await service.search(SINTEL, live=LiveMode.ALWAYS)

    assert asked_search(lime) == 2
    assert [o.source for o in always.live] == ["limetorrents"]
    assert always.total == first.total  # nothing new, nothing twice


async def test_a_later_page_never_goes_live(env: Env) -> None:
    lime = await env.saved("limetorrents")
    service = env.core(lime).services.search
    later = SearchQuery(text="sintel 2010", offset=10, limit=10)

    page = await service.search(later, live=LiveMode.ALWAYS)
    updates = [u async for u in service.search_stream(later, live=LiveMode.ALWAYS)]

    assert (page.total, page.live, page.live_text) == (0, (), None)
    assert [(u.outcome, u.done) for u in updates] == [(None, True)]
    assert lime.paths == []


# ------------------------------------------------------------------ an id search


@dataclass
class FakeNames:
    """A name resolver that knows one show, recording what it is asked."""

    known: dict[int, KnownTitle]
    calls: list[tuple[ContentKind, int | None]] = field(default_factory=list)

    async def resolve(
        self,
        *,
        kind: ContentKind,
        imdb_id: str | None = None,
        tmdb_id: int | None = None,
        tvdb_id: int | None = None,
    ) -> KnownTitle | None:
        self.calls.append((kind, tvdb_id))
        return self.known.get(tvdb_id) if kind is ContentKind.TV and tvdb_id else None


def arrow_episode(*, offset: int = 0, limit: int = 100) -> SearchQuery:
    """Sonarr's search for Arrow S05E07 by TVDB id alone."""
    return SearchQuery(
        tvdb_id=ARROW_TVDB, season=5, episode=7, categories=(5000,), offset=offset, limit=limit
    )


async def arrow_service(env: Env) -> tuple[SavedSite, FakeNames, SearchService]:
    """A local The Pirate Bay, two Arrow S05E07 torrents carrying ids, a service naming the id."""
    tpb = await env.saved("thepiratebay")
    core = env.core(tpb, classify=True)
    await ingest(
        core,
        RawRecord(
            source="api",
            title="Arrow.S05E07.1080p.WEB.h264-MINE",
            info_hash=MINE,
            tvdb_id=ARROW_TVDB,
        ),
        RawRecord(
            source="api",
            title="Arrow.S05E07.720p.HDTV.x264-OTHER",
            info_hash=OTHER_SHOW,
            tvdb_id=1,  # its own id says it is another show named alike
        ),
    )
    arrow = KnownTitle(title="Arrow", year=2012, kind=ContentKind.TV, origin="tmdb")
    names = FakeNames({ARROW_TVDB: arrow})
    service = SearchService(
        core.index,
        core.database.reader,
        live=core.services.live,
        catch_up=core.drainer.drain_all,
        names=names,
    )
    return tpb, names, service


async def test_a_tvdb_id_search_gets_its_own_matches_first_then_the_names_but_not_other_shows(
    env: Env,
) -> None:
    tpb, names, service = await arrow_service(env)

    page = await service.search(arrow_episode(), live=LiveMode.AUTO)

    assert tpb.paths[0] == SAVED_SITES["thepiratebay"].search_path  # "Arrow S05E07"
    assert names.calls == [(ContentKind.TV, ARROW_TVDB)]
    assert page.live_text == "Arrow S05E07"
    assert [(o.source, o.status) for o in page.live] == [("thepiratebay", LiveStatus.ANSWERED)]
    found = [hit.info_hash for hit in page.hits]
    assert found[0] == MINE  # the id's own match comes first
    assert OTHER_SHOW not in found
    assert len(found) == 25  # and the site's 24 releases of the episode, found by name
    assert page.total == len(found)
    for hit in page.hits[1:]:
        assert "thepiratebay" in hit.sources
        assert hit.title.lower().startswith("arrow")
        assert (hit.season, hit.episode) == (5, 7)

    again = await service.search(arrow_episode(), live=LiveMode.AUTO)  # Sonarr retries

    assert [hit.info_hash for hit in again.hits] == found
    assert again.live == ()
    assert asked_search(tpb) == 1


async def test_a_later_page_of_an_id_search_never_goes_live(env: Env) -> None:
    tpb, _names, service = await arrow_service(env)

    page = await service.search(arrow_episode(offset=20, limit=10), live=LiveMode.ALWAYS)
    updates = [
        u async for u in service.search_stream(arrow_episode(offset=20), live=LiveMode.ALWAYS)
    ]

    assert (page.live, page.live_text) == ((), None)
    assert [(u.outcome, u.done) for u in updates] == [(None, True)]
    assert tpb.paths == []  # the name is looked up (page 2 merges it too), no site is asked


async def test_a_later_page_of_an_id_search_continues_the_first(env: Env) -> None:
    _tpb, _names, service = await arrow_service(env)
    every = [h.info_hash for h in (await service.search(arrow_episode(), live=LiveMode.AUTO)).hits]
    assert len(every) == 25

    first = await service.search(arrow_episode(limit=20), live=LiveMode.AUTO)
    second = await service.search(arrow_episode(offset=20, limit=20), live=LiveMode.AUTO)

    assert [h.info_hash for h in first.hits] == every[:20]
    assert [h.info_hash for h in second.hits] == every[20:]
