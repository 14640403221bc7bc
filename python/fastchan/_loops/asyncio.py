"""Waiting in an asyncio event loop (any loop, in any thread; uvloop too)."""

from __future__ import annotations

import asyncio
import collections
import types
from typing import Any, Generator

from ..memory_channel._state import Waiter as _Waiter

NAME = "asyncio"
_get_running_loop = asyncio._get_running_loop  # the C accessor: no RuntimeError, no warning


running = _get_running_loop  # (the running loop is truthy; None outside one)


class Waiter(_Waiter):
    __slots__ = ("loop", "future")

    def __init__(self, handle: Any) -> None:
        super().__init__(handle)
        loop = _get_running_loop()
        assert loop is not None
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()

    def wake(self) -> bool:
        if self.future.done():
            # Its task was cancelled while it waited: serve the next waiter
            # instead (as anyio skips a receiver with a pending cancellation).
            return False
        if _get_running_loop() is self.loop:
            self.future.set_result(None)
            return True
        try:
            self.loop.call_soon_threadsafe(_settle, self.future)
        except RuntimeError:  # its loop is closed
            return False
        return True


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():  # (cancelled meanwhile: park() settles it)
        future.set_result(None)


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
