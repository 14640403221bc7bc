"""One memory channel's state, shared by its fronts (trio's names in
fastchan.memory_channel, anyio's in fastchan.anyio): a buffer and two
first-come-first-served queues of waiting operations under one lock, the
open-clone counts, and the operations on them. Every method here runs with
the lock held unless it says otherwise.

Why a lock and explicit queues rather than the native lock-free channel: a
waiting task must be served first and in order (an item sent while a task
waits in receive() is that task's, a slot freed while a task waits in send()
takes that task's item), which a wake-up-and-retry wait cannot promise.
"""

from __future__ import annotations

import collections
import threading
from typing import TYPE_CHECKING, Any, NamedTuple, Optional, Union

if TYPE_CHECKING:
    from ._ends import Clone

__all__ = ["Errors", "Waiter", "State", "Snapshot", "WouldBlock", "ClosedResourceError", "BrokenResourceError"]


# The exceptions' names, for when neither trio nor anyio is installed.
class WouldBlock(Exception):
    """Raised by send_nowait/receive_nowait when the operation would wait."""


class ClosedResourceError(Exception):
    """Raised on use of a channel (stream) object that was closed."""


class BrokenResourceError(Exception):
    """Raised by send once every receiving clone is closed."""


class Errors(NamedTuple):
    """The exception classes a front raises."""

    would_block: type[Exception]
    end: type[Exception]  # every sender closed and the buffer empty
    closed: type[Exception]
    broken: type[Exception]
    closed_message: str


class Snapshot(NamedTuple):
    current_buffer_used: int
    max_buffer_size: Union[int, float]
    open_send: int
    open_receive: int
    tasks_waiting_send: int
    tasks_waiting_receive: int
    peak_buffer_used: int


# A waiter is one blocked send() or receive(). Whoever serves it (under the
# lock) takes it off its queue and calls complete(value, error): from then on
# the exchange has happened and the waiter's task must get its result.
# complete() returns False if the task will never take it (its run or loop is
# gone, or it was cancelled already): the exchange did not happen, and the
# caller moves on to the next waiter.
class Waiter:
    __slots__ = ("handle", "done", "value", "error")

    def __init__(self, handle: Clone) -> None:
        self.handle = handle
        self.done = False
        self.value: Any = None
        self.error: Optional[BaseException] = None

    def wake(self) -> bool:
        """Resume the waiting task (from any thread); False if it cannot take a result."""
        raise NotImplementedError

    def complete(self, value: Any, error: Optional[BaseException]) -> bool:
        self.done = True
        self.value = value
        self.error = error
        if self.wake():
            return True
        self.done = False
        self.value = self.error = None
        return False

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class State:
    """What the clones of one channel share; every field under `lock`."""

    __slots__ = ("lock", "data", "max_buffer_size", "peak_buffer_used", "open_send_channels",
                 "open_receive_channels", "send_waiters", "receive_waiters", "errors", "__weakref__")

    def __init__(self, max_buffer_size: Union[int, float], errors: Errors) -> None:
        self.lock = threading.Lock()
        self.data: collections.deque[Any] = collections.deque()
        self.max_buffer_size = max_buffer_size
        self.peak_buffer_used = 0
        self.open_send_channels = 0
        self.open_receive_channels = 0
        self.errors = errors
        # Waiting operations, first come first served: waiter -> item to send (or None).
        self.send_waiters: collections.OrderedDict[Waiter, Any] = collections.OrderedDict()
        self.receive_waiters: collections.OrderedDict[Waiter, Any] = collections.OrderedDict()

    def snapshot(self) -> Snapshot:
        """The counts statistics() reports (takes the lock)."""
        with self.lock:
            return Snapshot(len(self.data), self.max_buffer_size, self.open_send_channels,
                            self.open_receive_channels, len(self.send_waiters),
                            len(self.receive_waiters), self.peak_buffer_used)

    def buffer(self, value: Any) -> None:
        self.data.append(value)
        if len(self.data) > self.peak_buffer_used:
            self.peak_buffer_used = len(self.data)

    def hand_to_receiver(self, value: Any) -> bool:
        """Gives `value` to the first waiting receiver that can still take
        it; False if there is none."""
        while self.receive_waiters:
            waiter, _ = self.receive_waiters.popitem(last=False)
            waiter.handle._waiters.discard(waiter)
            if waiter.complete(value, None):
                return True
        return False

    def take_from_sender(self) -> None:
        """The first waiting sender that can still be served puts its item
        in the buffer (it came before anything sent from now on)."""
        while self.send_waiters:
            waiter, item = self.send_waiters.popitem(last=False)
            waiter.handle._waiters.discard(waiter)
            if waiter.complete(None, None):
                self.data.append(item)
                return

    def try_send(self, value: Any) -> bool:
        """True if sent (to a waiting receiver, or into the buffer), False
        if it would wait. The caller checked that its clone is open."""
        if self.open_receive_channels == 0:
            raise self.errors.broken("every receiving end is closed")
        if self.receive_waiters and self.hand_to_receiver(value):
            return True
        if len(self.data) < self.max_buffer_size:
            self.buffer(value)
            return True
        return False

    def try_receive(self) -> tuple[bool, Any]:
        """(True, item), or (False, None) if it would wait. The caller
        checked that its clone is open."""
        if self.send_waiters:
            self.take_from_sender()
        if self.data:
            return True, self.data.popleft()
        if self.open_send_channels == 0:
            raise self.errors.end
        return False, None

    def give_back(self, value: Any) -> None:
        """A receive that took `value` was cancelled: the next waiting
        receiver gets it, or it goes back to the front of the buffer (it
        was sent before anything buffered now)."""
        if not self.hand_to_receiver(value):
            self.data.appendleft(value)

    def fail_all(self, waiters: collections.OrderedDict[Waiter, Any], error_type: type[Exception]) -> None:
        """Ends every wait in `waiters` with error_type()."""
        while waiters:
            waiter, _ = waiters.popitem(last=False)
            waiter.handle._waiters.discard(waiter)
            waiter.complete(None, error_type())

    # -- For the loops' park(): called without the lock ------------------------

    def withdraw(self, waiter: Waiter, queue: collections.OrderedDict[Waiter, Any]) -> bool:
        """The waiter's task gives up (cancelled, timed out, interrupted):
        True if it was withdrawn, False if it was served already."""
        with self.lock:
            if waiter.done:
                return False
            queue.pop(waiter, None)  # (gone already if it could not be served)
            waiter.handle._waiters.discard(waiter)
            return True

    def stands_after_interrupt(self, waiter: Waiter, receiving: bool) -> bool:
        """A served waiter's task was interrupted before it took its result.
        A receive is undone (its item goes back, in order) and False is
        returned; a send whose item was taken cannot be undone (it may have
        been received already): True, the send happened."""
        if waiter.error is not None:
            return False  # nothing was exchanged
        if receiving:
            with self.lock:
                self.give_back(waiter.value)
            return False
        return True
