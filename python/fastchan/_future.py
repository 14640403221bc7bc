"""fastchan.Future: the concurrent.futures.Future a fastchan.ThreadPool returns.

It is a ``concurrent.futures.Future`` in every respect, so
``concurrent.futures.wait``, ``as_completed``, ``asyncio.wrap_future`` and
``loop.run_in_executor`` accept it. It is cheaper for a pool whose workers
complete it natively:

- All fastchan Futures share one Condition. A future's lock only guards a
  few field updates, so sharing it costs nothing measurable, while making a
  Condition per future costs more than the rest of a submit. Nobody waits on
  the shared Condition: ``result()`` and ``exception()`` wait on a waiter of
  their own in ``_waiters``, as ``concurrent.futures.wait`` does, so a
  completion wakes only the threads waiting for that future.
- ``result()``, ``done()``, ``cancel()`` and ``add_done_callback()`` on a
  future already in a final state read that state without the lock: a
  future never leaves RUNNING or FINISHED except for FINISHED.
"""

from __future__ import annotations

import threading
from concurrent.futures import _base

from ._base import Initialized
from ._typing import TYPE_CHECKING, T

if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["Future"]

_PENDING = _base.PENDING
_RUNNING = _base.RUNNING
_FINISHED = _base.FINISHED
_CANCELLED_STATES = (_base.CANCELLED, _base.CANCELLED_AND_NOTIFIED)
_DONE_STATES = (_base.CANCELLED, _base.CANCELLED_AND_NOTIFIED, _base.FINISHED)


class _DoneWaiter:
    """Put in a future's _waiters by result()/exception(): set on completion."""

    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()

    def add_result(self, future: Future[Any]) -> None:
        self.event.set()

    add_exception = add_cancelled = add_result


class Future(Initialized, _base.Future[T]):
    """The result of a call submitted to a fastchan.ThreadPool."""

    _INIT_MARK = "_state"

    _condition = threading.Condition(threading.RLock())

    def __init__(self) -> None:
        self._state = _PENDING
        self._result: T | None = None
        self._exception: BaseException | None = None
        self._waiters: list[Any] = []
        self._done_callbacks: list[Callable[[_base.Future[T]], object]] = []

    def _wait_finished(self, timeout: float | None) -> None:
        """Block until the future is done or `timeout` seconds have passed;
        raise CancelledError or TimeoutError unless it then has an outcome."""
        with self._condition:
            if self._state in _DONE_STATES:
                waiter = None
            else:
                waiter = _DoneWaiter()
                self._waiters.append(waiter)
        if waiter is not None:
            try:
                waiter.event.wait(timeout)
            finally:
                with self._condition:
                    self._waiters.remove(waiter)
        if self._state in _CANCELLED_STATES:
            raise _base.CancelledError()
        if self._state is not _FINISHED:
            raise _base.TimeoutError()

    def result(self, timeout: float | None = None) -> T:
        if self._state is not _FINISHED:
            self._wait_finished(timeout)
        if self._exception is not None:
            try:
                raise self._exception
            finally:
                self = None  # type: ignore[assignment]  # no cycle through the traceback's frame
        return self._result  # type: ignore[return-value]  # (set when finished without an exception)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        if self._state is not _FINISHED:
            self._wait_finished(timeout)
        return self._exception

    def cancel(self) -> bool:
        state = self._state
        if state is _RUNNING or state is _FINISHED:
            return False
        return super().cancel()

    def cancelled(self) -> bool:
        return self._state in _CANCELLED_STATES

    def running(self) -> bool:
        return self._state is _RUNNING

    def done(self) -> bool:
        return self._state in _DONE_STATES

    def add_done_callback(self, fn: Callable[[_base.Future[T]], object]) -> None:
        if self._state in _DONE_STATES:
            try:
                fn(self)
            except Exception:
                _base.LOGGER.exception("exception calling callback for %r", self)
            return
        super().add_done_callback(fn)


for _name in ("cancel", "cancelled", "running", "done", "result", "exception", "add_done_callback"):
    getattr(Future, _name).__doc__ = getattr(_base.Future, _name).__doc__
del _name


def _after_fork_in_child() -> None:
    # Another thread may have held the shared lock at fork().
    Future._condition = threading.Condition(threading.RLock())
