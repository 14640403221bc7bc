"""How an asyncio task waits on fastchan's native queues and channels
(moved out of asyncio.py so that _select.py need not import it).

A task that must wait registers on the queue like a thread would and awaits a
future of its own loop; whoever changes the queue (a task, a thread, any
loop) wakes it through that loop's LoopWaker: one eventfd write per burst,
no GIL needed by the waker. A cancelled waiter never loses an item: it passes
a wake-up it was given on to the next waiter.

asyncio itself is imported by the functions that wait: they only run in a
task, when it is imported already.
"""

from __future__ import annotations

import weakref

from . import _core
from ._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asyncio import AbstractEventLoop
    from typing import Any, Callable

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


async def wait(register: Callable[..., tuple[Any, Any]], queue: _core._QueueCore, *args: Any) -> tuple[bool, Any]:
    """Registers this task on `queue` with `register` (which re-checks the
    operation) and waits for a wake-up. Returns (True, result) if the re-check
    completed the operation, else (False, None) after the wake-up: the caller
    then retries."""
    import asyncio

    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    handle, result = register(queue, waker_for(loop), fut, *args)
    if handle is None:
        return True, result
    try:
        await fut
    except BaseException:
        handle.cancel()  # passes on a wake-up it may have been given
        raise
    handle.finish()
    return False, None
