"""Waiting in a trio run (any run, in any thread; guest runs too)."""

from __future__ import annotations

import collections
import threading
from typing import Any, Callable, Optional

import trio

from ..memory_channel._state import Waiter as _Waiter

NAME = "trio"
_lowlevel = trio.lowlevel


try:
    from sniffio import thread_local as _sniffio_local  # (a dependency of trio)
except ImportError:
    running: Callable[[], bool] = _lowlevel.in_trio_task
else:
    def running() -> bool:
        # trio names itself here for the length of a run (or of a guest
        # run's tick): one attribute read, where in_trio_task() raises and
        # catches an AttributeError in every thread that is not in a task.
        return _sniffio_local.name == "trio"


def _current_token() -> Optional[trio.lowlevel.TrioToken]:
    try:
        return _lowlevel.current_trio_token()
    except RuntimeError:
        return None


class Waiter(_Waiter):
    __slots__ = ("task", "token", "thread")

    def __init__(self, handle: Any) -> None:
        super().__init__(handle)
        self.task = _lowlevel.current_task()
        self.token = _lowlevel.current_trio_token()
        self.thread = threading.get_ident()

    def wake(self) -> bool:
        if self.thread == threading.get_ident() and _current_token() is self.token:
            _lowlevel.reschedule(self.task)  # another task of the same run: the task is parked
            return True
        try:  # another thread (or a guest run's host): reschedule on the task's run
            self.token.run_sync_soon(_lowlevel.reschedule, self.task)
        except trio.RunFinishedError:
            return False
        return True


# trio's own channels check for cancellation, act, then yield shielded;
# anyio's checkpoint (yield, cancellable), then act. Either way an operation
# that did not wait is a full checkpoint.
LIGHT = (_lowlevel.checkpoint_if_cancelled, _lowlevel.cancel_shielded_checkpoint)
FULL = (_lowlevel.checkpoint, None)


async def park(waiter: Waiter, queue: collections.OrderedDict[Any, Any], receiving: bool) -> None:
    state = waiter.handle._state

    def abort(raise_cancel: Any) -> trio.lowlevel.Abort:
        # A served task cannot be cancelled any more: its wake-up is on its way.
        return _lowlevel.Abort.SUCCEEDED if state.withdraw(waiter, queue) else _lowlevel.Abort.FAILED

    await _lowlevel.wait_task_rescheduled(abort)
