"""fastchan.open_memory_channel: trio's memory channel, for trio, asyncio and threads.

    send_channel, receive_channel = fastchan.open_memory_channel(0)
    send_channel, receive_channel = fastchan.open_memory_channel[int](0)  # trio's typed form

The pair has trio's names and semantics: ``send``/``receive`` (always a
checkpoint under trio), ``send_nowait``/``receive_nowait`` (WouldBlock),
``clone``, ``close``/``aclose``, ``async with``, ``async for`` and
``statistics()``. When every send clone is closed, receivers drain the
buffer and then get EndOfChannel; when every receive clone is closed,
senders get BrokenResourceError (and the buffer is dropped). Closing one
clone makes the tasks blocked in that clone's send()/receive() raise
ClosedResourceError, and nothing goes through it any more. With trio
installed these are trio's own exceptions.

Waiting tasks come first, as in trio: an item sent while a task waits in
receive() is handed to that task (the first to wait), so no receive_nowait()
can take it; a receive that frees a slot while a task waits in send() moves
that task's item into the buffer at once, so no send_nowait() can overtake
it. This needs each waiting task to be known by the channel and served in
order, which a lock-free channel's wake-up-and-retry waits cannot promise
(the woken task retries later, and anyone may get there first), so the
channel's state is a buffer and two queues of waiting tasks under one lock,
as trio's is; any thread may call every method.

Cancellation never loses or duplicates an item. Under trio, a task whose
exchange happened cannot be cancelled any more (its abort fails) and takes
its result. Under asyncio a task can be cancelled after its exchange
happened and before it runs: a receive then gives its item back (to the
next waiting receiver, or to the front of the buffer) and raises
CancelledError, having had no effect; a send whose item was taken cannot be
undone (it may have been received already), so it returns normally and that
cancellation is suppressed (task.uncancel() on 3.11+).
"""

import asyncio
import collections
import dataclasses
import math
import operator
import threading
import types
from typing import Union

try:
    import trio as _trio
    from trio import BrokenResourceError, ClosedResourceError, EndOfChannel, WouldBlock
except ImportError:  # trio's exception names, for asyncio-only users
    _trio = None

    class WouldBlock(Exception):
        """Raised by send_nowait/receive_nowait when the operation would wait."""

    class EndOfChannel(Exception):
        """Raised by receive once every send channel is closed and the buffer is empty."""

    class ClosedResourceError(Exception):
        """Raised on use of a channel object that was closed."""

    class BrokenResourceError(Exception):
        """Raised by send once every receive channel is closed."""

try:
    import sniffio as _sniffio
except ImportError:
    _sniffio = None

from ._base import Initialized

__all__ = [
    "open_memory_channel", "MemorySendChannel", "MemoryReceiveChannel", "MemoryChannelStatistics",
    "WouldBlock", "EndOfChannel", "ClosedResourceError", "BrokenResourceError",
]


@dataclasses.dataclass(frozen=True)
class MemoryChannelStatistics:
    """What statistics() reports: trio's record, compared by value."""

    current_buffer_used: int
    max_buffer_size: Union[int, float]
    open_send_channels: int
    open_receive_channels: int
    tasks_waiting_send: int
    tasks_waiting_receive: int
    peak_buffer_used: int  # the most items buffered at once so far


class _OpenMemoryChannel:
    """open_memory_channel(max_buffer_size) -> (send_channel, receive_channel),
    like trio.open_memory_channel; ``open_memory_channel[T](n)`` (trio's
    typed form) is the same call."""

    __slots__ = ()

    def __call__(self, max_buffer_size):
        if max_buffer_size != math.inf:
            if isinstance(max_buffer_size, bool):
                raise TypeError("max_buffer_size must be an integer or math.inf, not bool")
            try:
                max_buffer_size = operator.index(max_buffer_size)
            except TypeError:
                raise TypeError(
                    f"max_buffer_size must be an integer or math.inf, not {type(max_buffer_size).__name__} "
                    f"{max_buffer_size!r}"
                ) from None
            if max_buffer_size < 0:
                raise ValueError("max_buffer_size must be >= 0")  # trio's words (its tests match them)
        state = _State(max_buffer_size)
        return MemorySendChannel._open(state), MemoryReceiveChannel._open(state)

    def __getitem__(self, item_type):
        return self  # the item type is for type checkers only

    def __repr__(self):
        return "<function fastchan.open_memory_channel>"

    def __reduce__(self):
        return "open_memory_channel"  # pickles by name, as a function would


open_memory_channel = _OpenMemoryChannel()


class _State:
    """What the clones of one channel share; every field under `lock`."""

    __slots__ = ("lock", "data", "max_buffer_size", "peak_buffer_used", "open_send_channels",
                 "open_receive_channels", "send_waiters", "receive_waiters", "__weakref__")

    def __init__(self, max_buffer_size):
        self.lock = threading.Lock()
        self.data = collections.deque()
        self.max_buffer_size = max_buffer_size
        self.peak_buffer_used = 0
        self.open_send_channels = 0
        self.open_receive_channels = 0
        # Waiting operations, first come first served: waiter -> item to send (or None).
        self.send_waiters = collections.OrderedDict()
        self.receive_waiters = collections.OrderedDict()

    def statistics(self):
        with self.lock:
            return MemoryChannelStatistics(
                current_buffer_used=len(self.data), max_buffer_size=self.max_buffer_size,
                open_send_channels=self.open_send_channels,
                open_receive_channels=self.open_receive_channels,
                tasks_waiting_send=len(self.send_waiters),
                tasks_waiting_receive=len(self.receive_waiters),
                peak_buffer_used=self.peak_buffer_used)

    def buffer(self, value):
        self.data.append(value)
        if len(self.data) > self.peak_buffer_used:
            self.peak_buffer_used = len(self.data)

    def hand_to_receiver(self, value):
        """Gives `value` to the first waiting receiver that can still take
        it; False if there is none. Under the lock."""
        while self.receive_waiters:
            waiter, _ = self.receive_waiters.popitem(last=False)
            waiter.handle._waiters.discard(waiter)
            if waiter.complete(value, None):
                return True
        return False

    def give_back(self, value):
        """A receive that took `value` was cancelled: the next waiting
        receiver gets it, or it goes back to the front of the buffer (it
        was sent before anything buffered now). Under the lock."""
        if not self.hand_to_receiver(value):
            self.data.appendleft(value)

    def fail_all(self, waiters, error_type):
        """Ends every wait in `waiters` with error_type(). Under the lock."""
        while waiters:
            waiter, _ = waiters.popitem(last=False)
            waiter.handle._waiters.discard(waiter)
            waiter.complete(None, error_type())


# -- Waiting tasks ------------------------------------------------------------
#
# A waiter is one blocked send() or receive(). Whoever serves it (under the
# state's lock) takes it off its queue and calls complete(value, error): from
# then on the exchange has happened and the waiter's task must get its
# result. complete() returns False if the task can never run again (its run
# or loop is gone): the exchange did not happen, and the caller moves on.


class _Waiter:
    __slots__ = ("handle", "done", "value", "error")

    def __init__(self, handle):
        self.handle = handle
        self.done = False
        self.value = None
        self.error = None

    def complete(self, value, error):
        self.done = True
        self.value = value
        self.error = error
        if self.wake():
            return True
        self.done = False
        self.value = self.error = None
        return False

    def result(self):
        if self.error is not None:
            raise self.error
        return self.value


class _TrioWaiter(_Waiter):
    __slots__ = ("task", "token", "thread")

    def __init__(self, handle):
        super().__init__(handle)
        self.task = _trio.lowlevel.current_task()
        self.token = _trio.lowlevel.current_trio_token()
        self.thread = threading.get_ident()

    def wake(self):
        if self.thread == threading.get_ident() and _current_trio_token() is self.token:
            _trio.lowlevel.reschedule(self.task)  # another task of the same run: the task is parked
            return True
        try:  # another thread (or a guest run's host): reschedule on the task's run
            self.token.run_sync_soon(_trio.lowlevel.reschedule, self.task)
        except _trio.RunFinishedError:
            return False
        return True


def _current_trio_token():
    try:
        return _trio.lowlevel.current_trio_token()
    except RuntimeError:
        return None


class _AsyncioWaiter(_Waiter):
    __slots__ = ("loop", "future")

    def __init__(self, handle, loop):
        super().__init__(handle)
        self.loop = loop
        self.future = loop.create_future()

    def wake(self):
        if asyncio._get_running_loop() is self.loop:
            _settle(self.future)
            return True
        try:
            self.loop.call_soon_threadsafe(_settle, self.future)
        except RuntimeError:  # its loop is closed
            return False
        return True


def _settle(future):
    if not future.done():
        future.set_result(None)


def _running_trio():
    if _trio is None:
        return False
    if _sniffio is not None:
        try:
            return _sniffio.current_async_library() == "trio"
        except _sniffio.AsyncLibraryNotFoundError:
            return False
    return _current_trio_token() is not None


async def _wait(handle, queue, item):
    """Parks the calling task in `queue` (a send's `item`, or None), the
    state's lock held by the caller and released here before the task
    sleeps. Returns the waiter once it was served."""
    state = handle._state
    try:
        in_trio = _running_trio()
        waiter = _TrioWaiter(handle) if in_trio else _AsyncioWaiter(handle, asyncio.get_running_loop())
        queue[waiter] = item
        handle._waiters.add(waiter)
    finally:
        state.lock.release()
    if in_trio:
        def abort(raise_cancel):
            with state.lock:
                if waiter.done:  # served already: its wake-up is on its way
                    return _trio.lowlevel.Abort.FAILED
                del queue[waiter]
                handle._waiters.discard(waiter)
            return _trio.lowlevel.Abort.SUCCEEDED

        await _trio.lowlevel.wait_task_rescheduled(abort)
        return waiter
    try:
        await waiter.future
    except asyncio.CancelledError:
        with state.lock:
            if not waiter.done:
                del queue[waiter]
                handle._waiters.discard(waiter)
                raise
        return _served_then_cancelled(waiter, queue is state.receive_waiters)
    return waiter


def _served_then_cancelled(waiter, receiving):
    """An asyncio task was cancelled after its wait was served."""
    if waiter.error is not None:
        raise asyncio.CancelledError  # nothing was exchanged
    if receiving:  # undo the receive: the item goes back, in order
        state = waiter.handle._state
        with state.lock:
            state.give_back(waiter.value)
        raise asyncio.CancelledError
    # The item was taken (maybe received already): the send happened and
    # cannot be undone, so it returns and the cancellation is suppressed.
    task = asyncio.current_task()
    if hasattr(task, "uncancel"):  # 3.11+: as asyncio asks of code that suppresses one
        task.uncancel()
    return waiter


class _Clone(Initialized):
    """What both ends share: open/closed bookkeeping and the context managers."""

    __slots__ = ("_state", "_closed", "_waiters")
    _INIT_MARK = "_state"

    @classmethod
    def _open(cls, state):
        self = object.__new__(cls)
        self._state = state
        self._closed = False
        self._waiters = set()  # this handle's waiting operations (under state.lock)
        with state.lock:
            cls._count(state, +1)
        return self

    def clone(self):
        """Another handle on the same channel, closed independently."""
        if self._closed:
            raise ClosedResourceError("this channel object was closed")
        return type(self)._open(self._state)

    def close(self):
        """Close this handle (idempotent): its own blocked tasks raise
        ClosedResourceError. See the module doc for closing the last one."""
        state = self._state
        with state.lock:
            if self._closed:
                return
            self._closed = True
            queue = self._queue(state)
            for waiter in list(self._waiters):
                del queue[waiter]
                waiter.complete(None, ClosedResourceError("this channel object was closed"))
            self._waiters.clear()
            if type(self)._count(state, -1) == 0:
                self._last_closed(state)

    async def aclose(self):
        self.close()
        if _running_trio():
            await _trio.lowlevel.checkpoint()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.close()

    def statistics(self):
        """A MemoryChannelStatistics of the channel (the same for every handle)."""
        return self._state.statistics()

    def _check_open(self):
        if self._closed:
            raise ClosedResourceError("this channel object was closed")


class MemorySendChannel(_Clone):
    """The sending end of fastchan.open_memory_channel()."""

    __slots__ = ()

    def __init__(self, *args, **kwargs):
        raise TypeError("use fastchan.open_memory_channel() to make memory channels")

    __class_getitem__ = classmethod(types.GenericAlias)

    @staticmethod
    def _count(state, delta):
        state.open_send_channels += delta
        return state.open_send_channels

    @staticmethod
    def _queue(state):
        return state.send_waiters

    @staticmethod
    def _last_closed(state):
        state.fail_all(state.receive_waiters, EndOfChannel)  # nothing more will come

    def _try_send(self, value):
        """True if sent (to a waiting receiver, or into the buffer), False if
        it would wait. Under the lock."""
        self._check_open()
        state = self._state
        if state.open_receive_channels == 0:
            raise BrokenResourceError("every receive channel is closed")
        if state.hand_to_receiver(value):
            return True
        if len(state.data) < state.max_buffer_size:
            state.buffer(value)
            return True
        return False

    def send_nowait(self, value):
        """Send without waiting, or raise WouldBlock."""
        with self._state.lock:
            if not self._try_send(value):
                raise WouldBlock

    async def send(self, value):
        """Send, waiting for room (or, unbuffered, for a receiver). Always a
        checkpoint under trio, as trio's."""
        in_trio = _running_trio()
        if in_trio:
            await _trio.lowlevel.checkpoint_if_cancelled()
        state = self._state
        state.lock.acquire()
        try:
            sent = self._try_send(value)
        except BaseException:
            state.lock.release()
            raise
        if sent:
            state.lock.release()
            if in_trio:
                await _trio.lowlevel.cancel_shielded_checkpoint()
            return
        (await _wait(self, state.send_waiters, value)).result()

    def __repr__(self):
        return f"<fastchan.MemorySendChannel{' closed' if self._closed else ''}>"


class MemoryReceiveChannel(_Clone):
    """The receiving end of fastchan.open_memory_channel()."""

    __slots__ = ()

    def __init__(self, *args, **kwargs):
        raise TypeError("use fastchan.open_memory_channel() to make memory channels")

    __class_getitem__ = classmethod(types.GenericAlias)

    @staticmethod
    def _count(state, delta):
        state.open_receive_channels += delta
        return state.open_receive_channels

    @staticmethod
    def _queue(state):
        return state.receive_waiters

    @staticmethod
    def _last_closed(state):
        state.fail_all(state.send_waiters, BrokenResourceError)
        state.data.clear()  # as trio: nobody can receive what was buffered

    def _try_receive(self):
        """(True, item), or (False, None) if it would wait. Under the lock."""
        self._check_open()
        state = self._state
        while state.send_waiters:  # the first waiting sender's item joins the buffer now
            waiter, item = state.send_waiters.popitem(last=False)
            waiter.handle._waiters.discard(waiter)
            if waiter.complete(None, None):
                state.data.append(item)
                break
        if state.data:
            return True, state.data.popleft()
        if state.open_send_channels == 0:
            raise EndOfChannel
        return False, None

    def receive_nowait(self):
        """Receive without waiting, or raise WouldBlock (EndOfChannel once
        every sender is closed and the buffer is empty)."""
        with self._state.lock:
            received, value = self._try_receive()
        if not received:
            raise WouldBlock
        return value

    async def receive(self):
        """Receive, waiting for an item. Always a checkpoint under trio, as trio's."""
        in_trio = _running_trio()
        if in_trio:
            await _trio.lowlevel.checkpoint_if_cancelled()
        state = self._state
        state.lock.acquire()
        try:
            received, value = self._try_receive()
        except BaseException:
            state.lock.release()
            raise
        if received:
            state.lock.release()
            if in_trio:
                await _trio.lowlevel.cancel_shielded_checkpoint()
            return value
        return (await _wait(self, state.receive_waiters, None)).result()

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.receive()
        except EndOfChannel:
            raise StopAsyncIteration from None

    def __repr__(self):
        return f"<fastchan.MemoryReceiveChannel{' closed' if self._closed else ''}>"
