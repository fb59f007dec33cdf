"""The window's only door into the engine: coroutines out, Qt signals back.

Slots never await and never block: `call` runs a service coroutine on the engine's
thread and delivers its result (or its `MinatoError`) to a callback on the GUI
thread; `stream` does the same for each item of an async iterator (the progressive
search). Each returns a `Ticket`: cancelling it cancels the engine-side work and
drops whatever was already on its way, so a result typed-over by the user never
paints; nothing is delivered to a view deleted meanwhile (the owner of `on_error`).
An unexpected exception is re-raised on the GUI thread (Qt prints it; a crash dialog
with the log path is still to come).
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Signal

from app.desktop.engine_thread import EngineThread
from engine.errors import MinatoError
from engine.services import Services

T = TypeVar("T")

OnError = Callable[[MinatoError], None]


class Ticket:
    """One piece of work sent to the engine; `cancel` stops it and silences its callbacks.

    A ticket is also silenced once its owner (the widget whose method handles its
    errors) is deleted: a view closed while its answer was on its way is not called.
    """

    def __init__(self, owner: QObject | None = None) -> None:
        self._cancelled = threading.Event()
        self._future: concurrent.futures.Future[Any] | None = None
        self._owner = owner

    @property
    def cancelled(self) -> bool:
        """True once `cancel` was called, or once the owner is gone."""
        return self._cancelled.is_set() or (
            self._owner is not None and not shiboken6.isValid(self._owner)
        )

    @property
    def done(self) -> bool:
        """True once the engine-side work ended (or was cancelled)."""
        return self._future is not None and self._future.done()

    def cancel(self) -> None:
        """Stop the work on the engine's loop; nothing more is delivered for it."""
        self._cancelled.set()
        if self._future is not None:
            self._future.cancel()

    def _attach(self, future: concurrent.futures.Future[Any]) -> None:
        self._future = future
        if self.cancelled:
            future.cancel()


class CoreBridge(QObject):
    """Lives on the GUI thread; runs service calls on the engine thread; answers by signals."""

    _finished = Signal(object, object, object)  # (ticket, callbacks, future)
    _item = Signal(object, object, object)  # (ticket, on_item, item)

    def __init__(self, services: Services, engine: EngineThread) -> None:
        super().__init__()
        self._services = services
        self._engine = engine
        # Emitted from the engine's thread: Qt queues them to this object's (the GUI) thread.
        self._finished.connect(self._deliver)
        self._item.connect(self._deliver_item)

    def call(
        self,
        work: Callable[[Services], Coroutine[Any, Any, T]],
        on_ok: Callable[[T], None],
        on_error: OnError,
    ) -> Ticket:
        """Run `work(services)` on the engine; `on_ok(result)` or `on_error(exc)` on the GUI."""
        return self._run(Ticket(_owner_of(on_error)), work(self._services), on_ok, on_error)

    def stream(
        self,
        work: Callable[[Services], AsyncIterator[T]],
        on_item: Callable[[T], None],
        on_done: Callable[[], None],
        on_error: OnError,
    ) -> Ticket:
        """Each item of `work(services)` to `on_item` as it comes, then `on_done` (GUI thread)."""
        ticket = Ticket(_owner_of(on_error))

        async def pump() -> None:
            items = work(self._services)
            try:
                async for item in items:
                    if ticket.cancelled:
                        break
                    self._item.emit(ticket, on_item, item)
            finally:
                close = getattr(items, "aclose", None)
                if close is not None:  # a generator: run its cleanup now, not when collected
                    await close()

        def done(result: None) -> None:
            on_done()

        return self._run(ticket, pump(), done, on_error)

    def _run(
        self,
        ticket: Ticket,
        coro: Coroutine[Any, Any, T],
        on_ok: Callable[[T], None],
        on_error: OnError,
    ) -> Ticket:
        try:
            future = self._engine.submit(coro)
        except RuntimeError as exc:  # the engine has stopped (quitting)
            on_error(MinatoError(f"the engine is not running: {exc}"))
            return ticket
        ticket._attach(future)
        future.add_done_callback(lambda f: self._finished.emit(ticket, (on_ok, on_error), f))
        return ticket

    def _deliver(
        self,
        ticket: Ticket,
        callbacks: tuple[Callable[[Any], None], OnError],
        future: concurrent.futures.Future[Any],
    ) -> None:
        if ticket.cancelled or future.cancelled():
            return  # cancelled, superseded, or its view is gone
        on_ok, on_error = callbacks
        exc = future.exception()
        if exc is None:
            on_ok(future.result())
        elif isinstance(exc, MinatoError):
            on_error(exc)
        else:
            raise exc  # a bug: sys.excepthook shows it with the log path

    def _deliver_item(self, ticket: Ticket, on_item: Callable[[Any], None], item: Any) -> None:
        if not ticket.cancelled:
            on_item(item)


def _owner_of(on_error: OnError) -> QObject | None:
    """The widget a callback belongs to (`self` of a bound method), if it is a Qt object."""
    owner = getattr(on_error, "__self__", None)
    return owner if isinstance(owner, QObject) else None
