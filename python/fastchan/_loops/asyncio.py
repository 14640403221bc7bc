"""The asyncio adapter: waiting in an asyncio event loop (any loop, in any
thread; uvloop too).

Every fastchan awaitable wakes an asyncio task the same way: through its
loop's LoopWaker (cpp/src/loops/loop_waker.hpp), from any thread, with no
GIL needed by the native wakers, and one eventfd write per burst. The
native awaitables (a queue's get/put/join, select, to_thread) register a
native carrier; a memory channel's waiter (below) asks the waker to set its
future. waker_for(loop) makes a loop's waker and watches its descriptor.

A loop without add_reader (asyncio's ProactorEventLoop, the default on
Windows; some custom loops) gets a daemon thread instead (_Watch): it waits,
GIL released, until the waker is armed, then queues the drain with
loop.call_soon_threadsafe, once per burst. It holds the loop weakly and
ends when the loop is closed or collected.

Imported once asyncio is (by fastchan._loops, the native awaitables' first
wait, select_async or to_thread), never by `import fastchan`.
"""

from __future__ import annotations

import asyncio
import collections
import os
import threading
import types
import weakref
from typing import Any, ClassVar, Generator

from .. import _core
from ..memory_channel._state import Waiter as _Waiter

NAME = "asyncio"
_get_running_loop = asyncio._get_running_loop  # the C accessor: no RuntimeError, no warning


running = _get_running_loop  # (the running loop is truthy; None outside one)

_wakers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _core.LoopWaker] = weakref.WeakKeyDictionary()


def waker_for(loop: asyncio.AbstractEventLoop) -> _core.LoopWaker:
    """The loop's LoopWaker, created and watched on first use (call it on
    the loop's thread)."""
    waker = _wakers.get(loop)
    if waker is None:
        waker = _core.LoopWaker()
        try:
            loop.add_reader(waker.fileno(), waker.drain)
        except (NotImplementedError, AttributeError):  # (ProactorEventLoop, custom loops)
            _Watch(loop, waker)
        _wakers[loop] = waker
        _abandon_on_close(loop, waker)
    return waker


def _abandon_on_close(loop: asyncio.AbstractEventLoop, waker: _core.LoopWaker) -> None:
    """When the loop closes, its tasks' wake-ups go to other waiters at once.
    (A loop whose close() cannot be wrapped, like uvloop's, releases them when
    its abandoned tasks are collected.)"""
    close = loop.close

    def close_and_abandon() -> None:
        if not loop.is_closed():
            waker.abandon()
        close()

    try:
        loop.close = close_and_abandon  # type: ignore[method-assign]
    except (AttributeError, TypeError):
        pass


class _Watch:
    """The waker of a loop without add_reader, watched by a daemon thread.
    The thread holds the waker, the loop only weakly: wait_armed() returns
    False once the waker is abandoned (the loop's close(), or its
    collection here), and the thread ends."""

    __slots__ = ("waker", "loop")
    active: ClassVar[set[_Watch]] = set()  # (their weakrefs' callbacks must live as long as their loops)

    def __init__(self, loop: asyncio.AbstractEventLoop, waker: _core.LoopWaker) -> None:
        self.waker = waker
        self.loop = weakref.ref(loop, self._collected)
        waker.watch_in_thread()
        _Watch.active.add(self)
        self.start()

    def _collected(self, _: object) -> None:
        # The loop is gone unclosed: its waiters' wake-ups go on, the thread ends.
        self.waker.abandon()

    def start(self) -> None:
        threading.Thread(target=self._run, name="fastchan-loop-waker", daemon=True).start()

    def _run(self) -> None:
        waker = self.waker
        drain = waker.drain_watched
        try:
            while waker.wait_armed():  # (GIL released while it waits)
                loop = self.loop()
                if loop is None:
                    return
                try:
                    loop.call_soon_threadsafe(drain)
                except RuntimeError:  # closed, by a close() that could not be wrapped
                    waker.abandon()
                    return
                del loop
        finally:
            _Watch.active.discard(self)

    @staticmethod
    def after_fork_in_child() -> None:
        # The threads did not survive the fork: the open loops get new ones.
        for watch in list(_Watch.active):
            loop = watch.loop()
            if loop is None or loop.is_closed():
                _Watch.active.discard(watch)
                continue
            watch.waker._after_fork_in_child()
            watch.start()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_Watch.after_fork_in_child)


class Waiter(_Waiter):
    __slots__ = ("loop", "waker", "future")

    def __init__(self, handle: Any) -> None:
        super().__init__(handle)
        loop = _get_running_loop()
        assert loop is not None
        self.loop = loop
        self.waker = waker_for(loop)
        self.future: asyncio.Future[None] = loop.create_future()

    def wake(self) -> bool:
        if self.future.done():
            # Its task was cancelled while it waited: serve the next waiter
            # instead (as anyio skips a receiver with a pending cancellation).
            return False
        if _get_running_loop() is self.loop:
            self.future.set_result(None)
            return True
        # Another thread: the loop sets the result unless the future is
        # done by then (cancelled meanwhile: park() settles that); False if
        # the loop is closed.
        return self.waker.wake(self.future)


@types.coroutine
def _yield() -> Generator[None, None, None]:
    yield  # what asyncio.sleep(0) does: a task step ends, and a pending cancel lands here


FULL = (_yield, None)  # anyio yields first: a cancelled scope's cancel lands there
LIGHT = (None, None)  # (trio's front under asyncio acts at once)


async def park(waiter: Waiter, queue: collections.OrderedDict[Any, Any], receiving: bool) -> None:
    try:
        await waiter.future
    except asyncio.CancelledError:
        state = waiter.handle._state
        if state.withdraw(waiter, queue) or not state.stands_after_interrupt(waiter, receiving):
            raise
        # The send happened and cannot be undone: it returns, and the
        # cancellation is suppressed, as asyncio asks of code that does (3.11+).
        task = asyncio.current_task()
        if task is not None and hasattr(task, "uncancel"):
            task.uncancel()
