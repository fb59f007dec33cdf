"""The crawler scheduler: every enabled source on its schedule, each in its own task.

One source failing, hanging or raising never cancels another: each runs in its own
loop that catches everything but cancellation, and a crawl runs as a child task so
`stop` can cancel it without ending the loop. A source that keeps failing is backed
off (1 min doubling up to 24 h, or longer when a breaker says so); one that meets a
challenge page is shown as blocked. Every change of state is kept in a
`CrawlerStatus` (heartbeat, items seen/new, duration, last error, next run) that the
JSON API, the CLI and the window read, and that a `StatusStore` persists so a
restart keeps totals and the user's start/stop choice.

`pause` holds all background crawling at once (the tray's "Pause indexing"): crawls
under way are cancelled, none starts, and every source's start/stop choice is left
as it was, so `resume` puts back exactly what ran. A pause lasts for this run of the
program only: it is never saved, and the next start crawls as the choices say.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from engine.errors import (
    AllMirrorsDown,
    BlockedByChallenge,
    CircuitOpen,
    LayoutChanged,
    NetworkError,
    NotFound,
)

log = logging.getLogger(__name__)

MIN_BACKOFF_S = 60.0
MAX_BACKOFF_S = 86_400.0
CONTINUOUS_PAUSE_S = 5.0
"""A continuous source (the DHT) whose run returned is started again after this pause."""
HEARTBEAT_SAVE_S = 5.0
"""Heartbeats are kept in memory at once but persisted at most this often per source."""
PAUSE_WAIT_S = 15.0
"""How long `pause` waits for cancelled crawls to end (a DHT node closing) before answering."""
PAUSED = "paused"
"""The message of every source that would run but for the pause."""
_ERROR_CHARS = 500


class CrawlerState(StrEnum):
    """What a source is doing now, as people and the API see it."""

    IDLE = "idle"  # waiting for its next run
    RUNNING = "running"
    BACKING_OFF = "backing_off"  # failed; waiting longer than its schedule
    BLOCKED = "blocked"  # a challenge page answered instead of the site
    DISABLED = "disabled"  # off in the settings, or stopped by the user
    ERROR = "error"  # a bug in the source: its run raised something unexpected


@dataclass(frozen=True, slots=True, kw_only=True)
class CrawlerStatus:
    """One source's state and figures; `items_*` of the last run, `items_total` of all."""

    source: str
    state: CrawlerState = CrawlerState.IDLE
    enabled: bool = True
    message: str | None = None
    last_heartbeat: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    last_duration_s: float | None = None
    items_seen: int = 0
    items_new: int = 0
    items_total: int = 0
    runs: int = 0
    consecutive_failures: int = 0
    next_run_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one crawl found: records seen, and how many were new to the index."""

    items_seen: int = 0
    items_new: int = 0


class CrawlContext:
    """Handed to a crawl: its identity (for sticky proxies) and a way to report progress."""

    def __init__(self, source: str, crawl_id: str, report: Callable[[int, int], None]) -> None:
        self.source = source
        self.crawl_id = crawl_id
        self._report = report

    def heartbeat(self, *, items_seen: int = 0, items_new: int = 0) -> None:
        """Say "still alive", with the running totals of this crawl so far."""
        self._report(items_seen, items_new)


Job = Callable[[CrawlContext], Coroutine[Any, Any, RunResult]]


@dataclass(frozen=True, slots=True)
class ScheduledSource:
    """A source as the scheduler runs it: `every_s` None means continuously."""

    id: str
    every_s: float | None
    run: Job
    enabled: bool = True
    """Allowed to run at all (the settings); False shows it as disabled, and `start` refuses."""
    on_by_default: bool = True
    """Whether it runs before the user has ever started or stopped it (the DHT: off)."""


class StatusStore(Protocol):
    """Where statuses survive a restart (the database, through the single writer)."""

    def load(self) -> Mapping[str, CrawlerStatus]:
        """Statuses saved by an earlier run, by source."""
        ...

    async def save(self, status: CrawlerStatus) -> None:
        """Keep `status` (called on every change of state, heartbeats throttled)."""
        ...


class Scheduler:
    """Runs sources on their schedules; `start`/`stop` control them while it runs.

    `gate`, when given, is awaited before every crawl: a worker passes its
    submitter's `wait_until_accepting`, so crawling pauses while the central
    server cannot take what would be found.
    """

    def __init__(
        self,
        sources: Iterable[ScheduledSource],
        *,
        store: StatusStore | None = None,
        gate: Callable[[], Awaitable[None]] | None = None,
        min_backoff_s: float = MIN_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
        continuous_pause_s: float = CONTINUOUS_PAUSE_S,
    ) -> None:
        self._sources = {source.id: source for source in sources}
        self._store = store
        self._gate = gate
        self._min_backoff = min_backoff_s
        self._max_backoff = max_backoff_s
        self._continuous_pause = continuous_pause_s
        self._saved = dict(store.load()) if store is not None else {}
        self._status: dict[str, CrawlerStatus] = {}
        for source in self._sources.values():
            self._status[source.id] = self._initial_status(source)
        self._wake = {sid: asyncio.Event() for sid in self._sources}
        self._crawls: dict[str, asyncio.Task[RunResult]] = {}
        self._settled: dict[str, asyncio.Event] = {}
        """Set once a crawl's outcome is recorded (its figures counted): `pause` waits on it."""
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._group: asyncio.TaskGroup | None = None
        self._saved_at: dict[str, float] = {}
        self._crawl_counter = 0
        self._paused = False

    def _initial_status(self, source: ScheduledSource) -> CrawlerStatus:
        """A source's status at start: its saved totals and the user's start/stop choice."""
        old = self._saved.get(source.id)
        chosen = old.enabled if old is not None else source.on_by_default
        enabled = source.enabled and chosen
        message = None
        if not source.enabled:
            message = "disabled in the settings"
        elif not enabled:
            message = "stopped" if old is not None else "off until started"
        return CrawlerStatus(
            source=source.id,
            state=CrawlerState.IDLE if enabled else CrawlerState.DISABLED,
            enabled=enabled,
            message=message,
            items_total=old.items_total if old else 0,
            runs=old.runs if old else 0,
            last_error=old.last_error if old else None,
            finished_at=old.finished_at if old else None,
            last_duration_s=old.last_duration_s if old else None,
        )

    # --- what the API and the CLI call ------------------------------------------------------

    def statuses(self) -> list[CrawlerStatus]:
        """Every source's status, by id."""
        return [self._status[sid] for sid in sorted(self._status)]

    def status(self, source: str) -> CrawlerStatus:
        """One source's status.

        Raises:
            NotFound: no such source.
        """
        try:
            return self._status[source]
        except KeyError:
            raise NotFound(f"no crawler named {source!r}") from None

    @property
    def paused(self) -> bool:
        """True between `pause` and `resume`: no background crawl runs."""
        return self._paused

    async def start(self, source: str) -> CrawlerStatus:
        """Enable a source and run it now (a running crawl is left alone).

        While paused the choice is kept and the run waits for `resume`, which
        runs it at once.

        Raises:
            NotFound: no such source.
        """
        current = self.status(source)
        if not self._sources[source].enabled:
            return current  # off in the settings: the settings decide, not a click
        if current.state is not CrawlerState.RUNNING:
            message = "started: runs when indexing is resumed" if self._paused else "started"
            await self._set(
                source, enabled=True, state=CrawlerState.IDLE, message=message, next_run_at=None
            )
        self._wake[source].set()
        return self._status[source]

    async def stop(self, source: str) -> CrawlerStatus:
        """Disable a source, cancelling its crawl if one is running (paused or not).

        Raises:
            NotFound: no such source.
        """
        self.status(source)
        await self._set(
            source, enabled=False, state=CrawlerState.DISABLED, message="stopped", next_run_at=None
        )
        crawl = self._crawls.get(source)
        if crawl is not None:
            crawl.cancel()
        self._wake[source].set()
        return self._status[source]

    async def pause(self, wait_s: float = PAUSE_WAIT_S) -> list[CrawlerStatus]:
        """Hold all background crawling: cancel the crawls under way, start none until `resume`.

        The sources' start/stop choices are untouched: a source that would run shows
        "paused" (idle, or still blocked/backing off if that is how its last run
        ended). Waits up to `wait_s` for the cancelled crawls to end, so that what
        they found is counted and a DHT node has closed when this returns. Pausing
        again changes nothing.
        """
        if self._paused:
            return self.statuses()
        self._paused = True
        log.info("indexing paused: %d crawls cancelled", len(self._crawls))
        for sid, status in self._status.items():
            if status.enabled:  # memory first, so a crawl ending now keeps these states
                state = CrawlerState.IDLE if status.state is CrawlerState.RUNNING else status.state
                self._status[sid] = replace(status, state=state, message=PAUSED)
        settled = [self._settled[sid] for sid in self._crawls]
        for crawl in self._crawls.values():
            crawl.cancel()
        for wake in self._wake.values():
            wake.set()  # loops sleeping until their next run look again, and wait instead
        for sid in list(self._status):
            if self._status[sid].message == PAUSED:
                self._save_soon(sid)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                for event in settled:
                    await event.wait()
        return self.statuses()

    async def resume(self) -> list[CrawlerStatus]:
        """Let crawling go on: sources whose next run passed run now, others keep their schedule.

        A crawl cancelled by the pause runs again at once; a source started while
        paused runs now; a source stopped while paused stays stopped. Resuming when
        not paused changes nothing.
        """
        if not self._paused:
            return self.statuses()
        self._paused = False
        log.info("indexing resumed")
        for sid, status in self._status.items():
            if status.enabled:
                self._status[sid] = replace(status, message=_resumed_message(status))
                self._save_soon(sid)
            self._wake[sid].set()
        return self.statuses()

    # --- running ----------------------------------------------------------------------------

    def add(self, source: ScheduledSource) -> CrawlerStatus:
        """Schedule a new source (a feed added through the API); it runs at once if enabled.

        Raises:
            ValueError: a source with this id exists.
        """
        if source.id in self._sources:
            raise ValueError(f"a crawler named {source.id!r} exists")
        self._sources[source.id] = source
        status = self._initial_status(source)
        if self._paused and status.enabled:
            status = replace(status, message=PAUSED)
        self._status[source.id] = status
        self._wake[source.id] = asyncio.Event()
        if self._group is not None:
            self._loops[source.id] = self._group.create_task(
                self._loop(source), name=f"crawler:{source.id}"
            )
        return self._status[source.id]

    def remove(self, source: str) -> None:
        """Unschedule a source (a feed removed), cancelling its crawl if one runs.

        Raises:
            NotFound: no such source.
        """
        self.status(source)
        for task in (self._crawls.pop(source, None), self._loops.pop(source, None)):
            if task is not None:
                task.cancel()
        del self._sources[source], self._status[source], self._wake[source]
        self._settled.pop(source, None)

    async def run(self) -> None:
        """Run every source until cancelled; one source's failure never stops the others."""
        async with asyncio.TaskGroup() as group:
            self._group = group
            try:
                for source in self._sources.values():
                    self._loops[source.id] = group.create_task(
                        self._loop(source), name=f"crawler:{source.id}"
                    )
                await asyncio.Event().wait()  # the group lives until the run is cancelled
            finally:
                self._group = None

    async def _loop(self, source: ScheduledSource) -> None:
        while True:
            status = self._status[source.id]
            if not status.enabled or self._paused:
                await self._wait(source.id, None)  # until start, stop, pause or resume
                continue
            delay = self._seconds_until(status.next_run_at)
            if delay > 0 and not await self._wait(source.id, delay):
                continue  # woken by start/stop/pause/resume: look again
            if self._gate is not None:
                await self._gate()  # a worker whose central server is down waits here
            if not self._status[source.id].enabled or self._paused:
                continue
            await self._crawl_once(source)

    async def _wait(self, source: str, seconds: float | None) -> bool:
        """Sleep `seconds` (forever when None); False when woken early (start, stop, pause)."""
        wake = self._wake[source]
        wake.clear()
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for loses a cancellation that
            # arrives as the event is set (start/stop during shutdown), and the loop hangs
            async with asyncio.timeout(seconds):
                await wake.wait()
        except TimeoutError:
            return True
        return False

    async def _crawl_once(self, source: ScheduledSource) -> None:
        self._crawl_counter += 1
        crawl_id = f"{source.id}#{self._crawl_counter}"
        started = datetime.now(UTC)
        began = time.monotonic()
        progress = [0, 0]

        def report(seen: int, new: int) -> None:
            progress[:] = [seen, new]
            self._heartbeat(source.id, seen, new)

        await self._set(
            source.id,
            state=CrawlerState.RUNNING,
            message=None,
            started_at=started,
            last_heartbeat=started,
            items_seen=0,
            items_new=0,
            next_run_at=None,
        )
        if self._paused or not self._status[source.id].enabled:
            return  # paused or stopped while "running" was being saved: they set the state
        settled = self._settled[source.id] = asyncio.Event()
        crawl = asyncio.create_task(source.run(CrawlContext(source.id, crawl_id, report)))
        self._crawls[source.id] = crawl
        try:
            result = await crawl
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                crawl.cancel()
                raise  # the scheduler itself is shutting down
            # only the crawl was cancelled: `stop` or `pause` did it and set the state
            await self._finished(source.id, began, RunResult(*progress), state=None)
            return
        except (NetworkError, LayoutChanged) as exc:
            log.warning("crawler %s: %s", source.id, exc)
            await self._failed(source.id, began, progress, exc, _failure_state(exc))
            return
        except Exception as exc:
            log.exception("crawler %s failed", source.id)
            await self._failed(source.id, began, progress, exc, CrawlerState.ERROR)
            return
        finally:
            self._crawls.pop(source.id, None)
            settled.set()  # after the outcome above was recorded
        every = source.every_s if source.every_s is not None else self._continuous_pause
        await self._finished(  # one update: nobody sees the run counted without its next one
            source.id,
            began,
            result,
            state=CrawlerState.IDLE,
            next_run_at=datetime.now(UTC) + timedelta(seconds=every),
        )

    async def _finished(
        self,
        source: str,
        began: float,
        result: RunResult,
        *,
        state: CrawlerState | None,
        next_run_at: datetime | None = None,
    ) -> None:
        status = self._status[source]
        await self._set(
            source,
            next_run_at=next_run_at if next_run_at is not None else status.next_run_at,
            state=state or status.state,
            finished_at=datetime.now(UTC),
            last_heartbeat=datetime.now(UTC),
            last_duration_s=time.monotonic() - began,
            items_seen=result.items_seen,
            items_new=result.items_new,
            items_total=status.items_total + result.items_new,
            runs=status.runs + 1,
            consecutive_failures=0 if state is CrawlerState.IDLE else status.consecutive_failures,
        )

    async def _failed(
        self, source: str, began: float, progress: list[int], exc: Exception, state: CrawlerState
    ) -> None:
        status = self._status[source]
        failures = status.consecutive_failures + 1
        delay = min(self._max_backoff, self._min_backoff * 2 ** (failures - 1))
        if isinstance(exc, CircuitOpen):
            delay = max(delay, exc.retry_after)
        error = f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]
        now = datetime.now(UTC)
        await self._set(
            source,
            state=state,
            message=PAUSED if self._paused else f"retrying in {_human(delay)}",
            finished_at=now,
            last_heartbeat=now,
            last_duration_s=time.monotonic() - began,
            items_seen=progress[0],
            items_new=progress[1],
            items_total=status.items_total + progress[1],
            runs=status.runs + 1,
            consecutive_failures=failures,
            last_error=error,
            next_run_at=now + timedelta(seconds=delay),
        )
        log.warning("crawler %s: %s; next try in %s", source, error, _human(delay))

    def _heartbeat(self, source: str, seen: int, new: int) -> None:
        now = datetime.now(UTC)
        self._status[source] = replace(
            self._status[source], last_heartbeat=now, items_seen=seen, items_new=new
        )
        if time.monotonic() - self._saved_at.get(source, 0.0) >= HEARTBEAT_SAVE_S:
            self._save_soon(source)

    def _save_soon(self, source: str) -> None:
        if self._store is None:
            return
        self._saved_at[source] = time.monotonic()
        task = asyncio.get_running_loop().create_task(self._save_latest(source))
        task.add_done_callback(_log_save_failure)

    async def _save_latest(self, source: str) -> None:
        """Save the status as it is when the task runs, never an older copy over a newer one."""
        if self._store is not None:
            await self._store.save(self._status[source])

    async def _set(self, source: str, **changes: object) -> None:
        self._status[source] = replace(self._status[source], **changes)  # type: ignore[arg-type]
        if self._store is not None:
            self._saved_at[source] = time.monotonic()
            try:
                await self._store.save(self._status[source])
            except Exception:
                log.exception("could not save the status of crawler %s", source)

    @staticmethod
    def _seconds_until(when: datetime | None) -> float:
        return 0.0 if when is None else (when - datetime.now(UTC)).total_seconds()


def _log_save_failure(task: asyncio.Task[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        if (exc := task.exception()) is not None:
            log.error("could not save a crawler heartbeat: %s", exc)


def _human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _resumed_message(status: CrawlerStatus) -> str | None:
    """What a source says once the pause ends: when a failed one tries again, else nothing."""
    if status.state in (CrawlerState.IDLE, CrawlerState.RUNNING) or status.next_run_at is None:
        return None
    left = (status.next_run_at - datetime.now(UTC)).total_seconds()
    return f"retrying in {_human(left)}" if left > 0 else None


def _failure_state(exc: NetworkError | LayoutChanged) -> CrawlerState:
    """How a failure shows: blocked by a challenge, broken by a layout change, or backing off.

    A challenge on the only mirror (or on every mirror) arrives as `AllMirrorsDown`
    caused by `BlockedByChallenge`: it is still "blocked", which tells the user to
    set up FlareSolverr or a proxy rather than wait.
    """
    if isinstance(exc, LayoutChanged):
        return CrawlerState.ERROR
    why = exc.__cause__ or exc.__context__
    if isinstance(exc, BlockedByChallenge) or (
        isinstance(exc, AllMirrorsDown) and isinstance(why, BlockedByChallenge)
    ):
        return CrawlerState.BLOCKED
    return CrawlerState.BACKING_OFF
