"""The asyncio loop adapter: one LoopWaker per running loop.

Every fastchan awaitable that must wait (a queue's get/put/join, a select, a
to_thread() result) registers a native carrier on what it waits for and
parks on a future of its own loop; whoever completes it (a task, a thread,
any loop) wakes it through that loop's LoopWaker: one eventfd write per
burst, no GIL needed by the waker. This module makes the waker of a loop and
watches its descriptor; it does not import asyncio.
"""

from __future__ import annotations

import weakref

from . import _core
from ._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asyncio import AbstractEventLoop

_wakers: weakref.WeakKeyDictionary[AbstractEventLoop, _core.LoopWaker] = weakref.WeakKeyDictionary()


def waker_for(loop: AbstractEventLoop) -> _core.LoopWaker:
    """The running loop's LoopWaker, created and watched on first use."""
    waker = _wakers.get(loop)
    if waker is None:
        waker = _core.LoopWaker()
        loop.add_reader(waker.fileno(), waker.drain)
        _wakers[loop] = waker
        _abandon_on_close(loop, waker)
    return waker


def _abandon_on_close(loop: AbstractEventLoop, waker: _core.LoopWaker) -> None:
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
