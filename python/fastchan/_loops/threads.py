"""Blocking a plain thread (send_blocking/receive_blocking): not an event
loop, so it has no enter/leave/running; the thread sleeps on a lock that
whoever serves it releases."""

from __future__ import annotations

import collections
import threading
from typing import Any, Optional

from ..memory_channel._state import Waiter as _Waiter

NAME = "threads"


class Waiter(_Waiter):
    __slots__ = ("wakeup",)

    def __init__(self, handle: Any) -> None:
        super().__init__(handle)
        self.wakeup = threading.Lock()
        self.wakeup.acquire()

    def wake(self) -> bool:
        self.wakeup.release()  # (a plain Lock may be released by any thread)
        return True


def park(waiter: Waiter, queue: collections.OrderedDict[Any, Any], receiving: bool,
         timeout: Optional[float]) -> None:
    """Blocks until `waiter` is served; TimeoutError (having had no effect)
    if it is not served within `timeout` seconds."""
    state = waiter.handle._state
    try:
        served = waiter.wakeup.acquire(timeout=-1 if timeout is None else min(timeout, threading.TIMEOUT_MAX))
    except BaseException:  # a signal handler's exception (KeyboardInterrupt)
        # Withdrawn, or served: a receive gives its item back; a send that
        # happened stays done, and the interrupt still propagates.
        if not state.withdraw(waiter, queue):
            state.stands_after_interrupt(waiter, receiving)
        raise
    if not served and state.withdraw(waiter, queue):
        raise TimeoutError(f"not served within {timeout} seconds")
