"""The engine's asyncio loop on a thread of its own.

The Torznab server, the crawlers and the index drainer keep running while the GUI
thread sits in a modal dialog or paints a big table: they never share its loop.
Work from the GUI goes in with `submit` (a `concurrent.futures.Future` comes back);
`stop` cancels the engine's main task and waits for its cleanup (it closes the HTTP
clients and the server), so quitting loses nothing acknowledged.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

STOP_TIMEOUT_S = 30.0
"""How long `stop` waits for the engine's cleanup before giving up on it."""


class EngineThread:
    """One asyncio loop on a daemon thread, running the engine's main coroutine."""

    def __init__(self, name: str = "minato-engine") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._main: concurrent.futures.Future[None] | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The engine's loop (for `call_soon_threadsafe`; never run it from elsewhere)."""
        return self._loop

    def start(self, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Start the thread and run `main()` on it until `stop` (or until it ends by itself).

        Raises:
            RuntimeError: already started.
        """
        if self._thread.is_alive() or self._main is not None:
            raise RuntimeError("the engine thread is already started")
        self._thread.start()
        self._main = asyncio.run_coroutine_threadsafe(main(), self._loop)
        self._main.add_done_callback(_log_end)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run `coro` on the engine's loop; cancel the returned future to cancel it.

        Raises:
            RuntimeError: the thread is not running (not started, or stopped).
        """
        if not self._thread.is_alive():
            coro.close()
            raise RuntimeError("the engine is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    @property
    def running(self) -> bool:
        """True while the thread runs and the main coroutine has not ended."""
        return self._thread.is_alive() and self._main is not None and not self._main.done()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Cancel the main coroutine, wait for its cleanup, then stop the loop and the thread."""
        if self._main is not None and not self._main.done():
            self._main.cancel()  # cancels the task; its `finally` blocks run on the loop
            with contextlib.suppress(concurrent.futures.CancelledError, TimeoutError, Exception):
                self._main.result(timeout=timeout_s)
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout_s)
        if not self._thread.is_alive() and not self._loop.is_closed():
            self._loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            _cancel_leftovers(self._loop)


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel and drain what is still scheduled, so no task is destroyed while pending."""
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    # Work sent to threads (`asyncio.to_thread`: database reads, index searches) outlives
    # its cancelled task; wait for it, or the caller closes the database and the index
    # under a thread still using them (a crash in SQLite or tantivy at exit).
    loop.run_until_complete(loop.shutdown_default_executor())


def _log_end(future: concurrent.futures.Future[None]) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None:
        log.error("the engine stopped: %s", exc, exc_info=exc)
