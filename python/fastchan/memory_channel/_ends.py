"""The two ends of a memory channel, whatever their front's names: clone
counting, closing, and send/receive for any event loop (fastchan._loops) or
a plain thread. trio's front (fastchan.memory_channel) and anyio's
(fastchan.anyio) subclass these, adding their names, records and exceptions.
"""

from __future__ import annotations

import collections
from typing import Any, ClassVar, Optional, TypeVar

from .. import _loops
from .._loops import threads
from .._base import Initialized
from ._state import State, Waiter

__all__ = ["Clone", "SendEnd", "ReceiveEnd"]

_C = TypeVar("_C", bound="Clone")
_W = TypeVar("_W", bound=Waiter)


class Clone(Initialized):
    """What both ends share: open/closed bookkeeping and the context managers."""

    __slots__ = ("_state", "_closed", "_waiters")
    _INIT_MARK = "_state"
    # anyio's checkpoint-then-act on every loop, or trio's check-act-yield
    # (under trio only: its channels always are checkpoints)? See _loops.
    _FULL_CHECKPOINTS: ClassVar[bool] = False

    _state: State
    _closed: bool
    _waiters: set[Waiter]

    @classmethod
    def _open(cls: type[_C], state: State) -> _C:
        self = object.__new__(cls)
        self._state = state
        self._closed = False
        self._waiters = set()  # this handle's waiting operations (under state.lock)
        with state.lock:
            cls._count(state, +1)
        return self

    @staticmethod
    def _count(state: State, delta: int) -> int:
        raise NotImplementedError

    @staticmethod
    def _queue(state: State) -> collections.OrderedDict[Waiter, Any]:
        raise NotImplementedError

    def _last_closed(self, state: State) -> None:
        raise NotImplementedError

    def _closed_error(self) -> Exception:
        errors = self._state.errors
        return errors.closed(errors.closed_message)

    def _check_open(self) -> None:
        if self._closed:
            raise self._closed_error()

    def clone(self: _C) -> _C:
        """Another handle on the same channel, closed independently."""
        self._check_open()
        return type(self)._open(self._state)

    def close(self) -> None:
        """Close this handle (idempotent): its own blocked tasks raise
        ClosedResourceError; closing the last one of an end ends the other's waits."""
        state = self._state
        with state.lock:
            if self._closed:
                return
            self._closed = True
            queue = self._queue(state)
            for waiter in list(self._waiters):
                del queue[waiter]
                waiter.complete(None, self._closed_error())
            self._waiters.clear()
            if type(self)._count(state, -1) == 0:
                self._last_closed(state)

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self: _C) -> _C:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def _park_thread(self, queue: collections.OrderedDict[Waiter, Any], item: Any, receiving: bool,
                     timeout: Optional[float]) -> Waiter:
        """Parks the calling thread (the lock held by the caller, released
        here); returns the waiter once served. TimeoutError if not served in time."""
        waiter = self._enqueue(threads.Waiter, queue, item)
        threads.park(waiter, queue, receiving, timeout)
        return waiter

    def _enqueue(self, waiter_type: type[_W], queue: collections.OrderedDict[Waiter, Any], item: Any) -> _W:
        """Queues a new waiter of this handle; releases the lock the caller holds."""
        try:
            waiter = waiter_type(self)
            queue[waiter] = item
            self._waiters.add(waiter)
        finally:
            self._state.lock.release()
        return waiter


def _check_blocking_call(operation: str, timeout: Optional[float]) -> None:
    if timeout is not None:
        try:
            valid = timeout >= 0  # (False for NaN)
        except TypeError:
            raise TypeError(f"timeout must be a number or None, not {type(timeout).__name__} {timeout!r}") from None
        if not valid:
            raise ValueError(f"timeout must be a non-negative number or None, not {timeout!r}")
    loop = _loops.running()
    if loop is not None:
        raise RuntimeError(f"{operation} would block the {loop.NAME} event loop running in this thread; "
                           "await the async method instead")


class SendEnd(Clone):
    __slots__ = ()

    @staticmethod
    def _count(state: State, delta: int) -> int:
        state.open_send_channels += delta
        return state.open_send_channels

    @staticmethod
    def _queue(state: State) -> collections.OrderedDict[Waiter, Any]:
        return state.send_waiters

    def _last_closed(self, state: State) -> None:
        state.fail_all(state.receive_waiters, state.errors.end)  # nothing more will come

    def send_nowait(self, value: Any) -> None:
        """Send without waiting, or raise WouldBlock."""
        state = self._state
        state.lock.acquire()  # (acquire/release: half the cost of `with` on a lock)
        try:
            if self._closed:
                raise self._closed_error()
            sent = state.try_send(value)
        finally:
            state.lock.release()
        if not sent:
            raise state.errors.would_block

    async def send(self, value: Any) -> None:
        """Send, waiting for room (or, unbuffered, for a receiver)."""
        loop = _loops.running() or _loops.none_running("send()")
        before, after = loop.FULL if self._FULL_CHECKPOINTS else loop.LIGHT
        if before is not None:
            await before()
        state = self._state
        state.lock.acquire()
        try:
            if self._closed:
                raise self._closed_error()
            sent = state.try_send(value)
        except BaseException:
            state.lock.release()
            raise
        if sent:
            state.lock.release()
            if after is not None:
                await after()
            return
        waiter = self._enqueue(loop.Waiter, state.send_waiters, value)
        await loop.park(waiter, state.send_waiters, False)
        waiter.result()

    def _send_blocking(self, value: Any, timeout: Optional[float]) -> None:
        _check_blocking_call("send_blocking()", timeout)
        state = self._state
        state.lock.acquire()
        try:
            if self._closed:
                raise self._closed_error()
            sent = state.try_send(value)
        except BaseException:
            state.lock.release()
            raise
        if sent:
            state.lock.release()
            return
        self._park_thread(state.send_waiters, value, False, timeout).result()


class ReceiveEnd(Clone):
    __slots__ = ()
    # trio drops what was buffered once every receiver is closed; anyio keeps it.
    _KEEPS_BUFFER_WHEN_BROKEN: ClassVar[bool] = False

    @staticmethod
    def _count(state: State, delta: int) -> int:
        state.open_receive_channels += delta
        return state.open_receive_channels

    @staticmethod
    def _queue(state: State) -> collections.OrderedDict[Waiter, Any]:
        return state.receive_waiters

    def _last_closed(self, state: State) -> None:
        state.fail_all(state.send_waiters, state.errors.broken)
        if not self._KEEPS_BUFFER_WHEN_BROKEN:
            state.data.clear()  # nobody can receive what was buffered

    def receive_nowait(self) -> Any:
        """Receive without waiting, or raise WouldBlock (or the end-of-stream
        error once every sender is closed and the buffer is empty)."""
        state = self._state
        state.lock.acquire()
        try:
            if self._closed:
                raise self._closed_error()
            received, value = state.try_receive()
        finally:
            state.lock.release()
        if not received:
            raise state.errors.would_block
        return value

    async def receive(self) -> Any:
        """Receive, waiting for an item."""
        loop = _loops.running() or _loops.none_running("receive()")
        before, after = loop.FULL if self._FULL_CHECKPOINTS else loop.LIGHT
        if before is not None:
            await before()
        state = self._state
        state.lock.acquire()
        try:
            if self._closed:
                raise self._closed_error()
            received, value = state.try_receive()
        except BaseException:
            state.lock.release()
            raise
        if received:
            state.lock.release()
            if after is not None:
                await after()
            return value
        waiter = self._enqueue(loop.Waiter, state.receive_waiters, None)
        await loop.park(waiter, state.receive_waiters, True)
        return waiter.result()

    def _receive_blocking(self, timeout: Optional[float]) -> Any:
        _check_blocking_call("receive_blocking()", timeout)
        state = self._state
        state.lock.acquire()
        try:
            if self._closed:
                raise self._closed_error()
            received, value = state.try_receive()
        except BaseException:
            state.lock.release()
            raise
        if received:
            state.lock.release()
            return value
        return self._park_thread(state.receive_waiters, None, True, timeout).result()

    def __aiter__(self: _C) -> _C:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except self._state.errors.end:
            raise StopAsyncIteration from None
