"""fastchan.open_memory_channel: trio's memory channel on fastchan's channel.

    send_channel, receive_channel = fastchan.open_memory_channel(0)

The pair has trio's names and semantics: ``send``/``receive`` (always a
checkpoint), ``send_nowait``/``receive_nowait`` (WouldBlock), ``clone``,
``close``/``aclose``, ``async with``, ``async for`` and ``statistics()``.
When every send clone is closed, receivers drain the buffer and then get
EndOfChannel; when every receive clone is closed, senders get
BrokenResourceError (and the buffer is dropped); a closed clone raises
ClosedResourceError. With trio installed these are trio's own exceptions.

It works under ``trio.run`` and under asyncio (through select_async), and
any thread may use the same channel. Under trio, ``send()``/``receive()``
return native awaitables (cpp/src/trio_ops.cpp) that speak to trio's
scheduler with its own trap messages; where those are missing (CPython 3.9,
or a trio without them) coroutines on trio.lowlevel's public API serve.
Either way a waiting task is rescheduled by its run's LoopWaker, drained by
a system task, so other threads can wake it, GIL-free.
"""

import asyncio
import math
import operator
import threading

from . import _core
from ._base import Initialized
from ._errors import ChannelClosed
from ._select import CLOSED, _wait, recv, send
from .channel import Channel

try:
    import outcome as _outcome
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

__all__ = [
    "open_memory_channel", "MemorySendChannel", "MemoryReceiveChannel", "MemoryChannelStatistics",
    "WouldBlock", "EndOfChannel", "ClosedResourceError", "BrokenResourceError",
]


class MemoryChannelStatistics:
    """What statistics() reports, with trio's field names."""

    __slots__ = ("current_buffer_used", "max_buffer_size", "open_send_channels",
                 "open_receive_channels", "tasks_waiting_send", "tasks_waiting_receive")

    def __init__(self, **fields):
        for name in self.__slots__:
            setattr(self, name, fields[name])

    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"MemoryChannelStatistics({fields})"


def open_memory_channel(max_buffer_size):
    """A (send_channel, receive_channel) pair, like trio.open_memory_channel."""
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
            raise ValueError(f"max_buffer_size must be >= 0, not {max_buffer_size!r}")
    state = _State(max_buffer_size)
    return MemorySendChannel._open(state), MemoryReceiveChannel._open(state)


class _State:
    """What the clones of one channel share."""

    def __init__(self, max_buffer_size):
        self.channel = Channel(None if max_buffer_size == math.inf else max_buffer_size)
        self.max_buffer_size = max_buffer_size
        self.lock = threading.Lock()
        self.open_send_channels = 0
        self.open_receive_channels = 0
        # The blocked operations, each with .handle and .interrupt(error).
        self.send_waits = set()
        self.receive_waits = set()

    def statistics(self):
        return MemoryChannelStatistics(
            current_buffer_used=len(self.channel), max_buffer_size=self.max_buffer_size,
            open_send_channels=self.open_send_channels,
            open_receive_channels=self.open_receive_channels,
            tasks_waiting_send=len(self.send_waits), tasks_waiting_receive=len(self.receive_waits))


async def _wait_for(case, in_trio, handle, waits):
    """Waits for one select case, in whichever async library runs us. While
    it waits, an entry for it is in the set `waits` (see _Clone.close)."""
    call = _core._AsyncSelect((case,), in_trio)  # (asyncio: see _select._wait)
    if in_trio:
        return await _wait_trio(call, handle, waits)
    fired = call.try_fire()
    return fired if fired is not None else await _wait(call, _AsyncioWaits(handle, waits))


class _AsyncioWaits:
    """Files the futures _select._wait waits on in `waits` as _AsyncioWait
    entries of `handle`."""

    __slots__ = ("handle", "waits", "entry")

    def __init__(self, handle, waits):
        self.handle = handle
        self.waits = waits
        self.entry = None

    def add(self, future):
        self.entry = _AsyncioWait(self.handle, future)
        self.waits.add(self.entry)
        if self.handle._closed:  # closed since the caller looked (from another thread)
            _fail(future, ClosedResourceError("this channel object was closed"))

    def discard(self, future):
        self.waits.discard(self.entry)


class _AsyncioWait:
    """An asyncio task's blocked operation."""

    __slots__ = ("handle", "future")

    def __init__(self, handle, future):
        self.handle = handle
        self.future = future

    def interrupt(self, error):
        """From any thread: fail the wait's future with `error`."""
        self.future.get_loop().call_soon_threadsafe(_fail, self.future, error)


def _fail(future, error):
    if not future.done():
        future.set_exception(error)


def _running_trio():
    if _trio is None:
        return False
    if _sniffio is not None:
        try:
            return _sniffio.current_async_library() == "trio"
        except _sniffio.AsyncLibraryNotFoundError:
            return False
    try:
        _trio.lowlevel.current_task()
        return True
    except RuntimeError:
        return False


class _TrioWakeup:
    """Stands in for an asyncio future: the run's LoopWaker "sets" it, which
    reschedules the waiting trio task (on the run's thread)."""

    __slots__ = ("task", "dead", "__weakref__")

    def __init__(self, task):
        self.task = task
        self.dead = False

    def done(self):
        return self.dead

    def set_result(self, _):
        if not self.dead:
            self.dead = True
            _trio.lowlevel.reschedule(self.task)


class _TrioWait:
    """A trio task waiting on a call. abort() (a cancellation) and
    interrupt() (a close of its handle) end the wait, unless the exchange
    already happened: then the task is rescheduled to take its result."""

    __slots__ = ("call", "handle", "wakeup", "token", "completed")

    def __init__(self, call, handle, wakeup):
        self.call = call
        self.handle = handle
        self.wakeup = wakeup
        self.token = _trio.lowlevel.current_trio_token()
        self.completed = []

    def abort(self, raise_cancel):
        if self._give_up():
            return _trio.lowlevel.Abort.SUCCEEDED
        return _trio.lowlevel.Abort.FAILED

    def _give_up(self):
        """True if the wait ended with nothing exchanged (the caller
        reschedules the task); else the task was, or is now, rescheduled."""
        wakeup = self.wakeup
        if wakeup.dead:  # woken already, or given up before
            return False
        wakeup.dead = True  # first: cancel() may resolve this very wake-up
        fired = self.call.cancel()
        if fired is None:
            return True
        # The exchange happened: it cannot be undone; the task takes its result.
        self.completed.append(fired)
        _trio.lowlevel.reschedule(wakeup.task)
        return False

    def interrupt(self, error):
        """From any thread: end the wait with `error` (run on the task's run)."""
        self.token.run_sync_soon(self._interrupt, error)

    def _interrupt(self, error):
        if self._give_up():
            _trio.lowlevel.reschedule(self.wakeup.task, _outcome.Error(error))


async def _wait_trio(call, handle, waits):
    waker = _trio_waker()
    task = _trio.lowlevel.current_task()
    while True:
        wakeup = _TrioWakeup(task)
        if call.enlist(waker, wakeup):
            wait = _TrioWait(call, handle, wakeup)
            waits.add(wait)
            if handle._closed:  # closed since the caller looked (from another thread)
                waits.discard(wait)
                wakeup.dead = True
                fired = call.cancel()
                if fired is not None:
                    return fired
                raise ClosedResourceError("this channel object was closed")
            try:
                await _trio.lowlevel.wait_task_rescheduled(wait.abort)
            finally:
                waits.discard(wait)
            if wait.completed:
                return wait.completed[0]
        fired = call.finish()
        if fired is None:
            fired = call.try_fire()
        if fired is not None:
            return fired


if _trio is not None:
    _RUN_WAKER = _trio.lowlevel.RunVar("fastchan_waker")


def _trio_waker():
    """This trio run's LoopWaker, watched by a system task."""
    try:
        return _RUN_WAKER.get()
    except LookupError:
        waker = _core.LoopWaker()
        _RUN_WAKER.set(waker)
        _trio.lowlevel.spawn_system_task(_drain_forever, waker, name="fastchan waker")
        return waker


async def _drain_forever(waker):
    try:
        while True:
            await _trio.lowlevel.wait_readable(waker.fileno())
            waker.drain()
    finally:
        waker.abandon()  # the run ends: pending wake-ups go to other waiters


class _Clone(Initialized):
    """What both ends share: open/closed bookkeeping and the context managers."""

    __slots__ = ("_state", "_closed", "_channel", "_blocked")
    _INIT_MARK = "_state"

    @classmethod
    def _open(cls, state):
        self = object.__new__(cls)
        self._state = state
        self._closed = False
        self._channel = state.channel
        self._blocked = cls._waits(state)  # this end's blocked operations
        with state.lock:
            cls._count(state, +1)
        return self

    def clone(self):
        """Another handle on the same channel, closed independently."""
        if self._closed:
            raise ClosedResourceError("this channel object was closed")
        return type(self)._open(self._state)

    def close(self):
        """Close this handle (idempotent). See the module doc for the effect
        of closing the last send or receive handle."""
        if self._closed:
            return
        self._closed = True
        state = self._state
        with state.lock:
            last = type(self)._count(state, -1) == 0
        # As trio: this handle's own blocked tasks get ClosedResourceError.
        for wait in list(self._blocked):
            if wait.handle is self:
                wait.interrupt(ClosedResourceError("this channel object was closed"))
        if last:
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
        return self._state.statistics()

    def _check_open(self):
        if self._closed:
            raise ClosedResourceError("this channel object was closed")


class MemorySendChannel(_Clone):
    """The sending end of fastchan.open_memory_channel()."""

    __slots__ = ()

    def __init__(self, *args, **kwargs):
        raise TypeError("use fastchan.open_memory_channel() to make memory channels")

    @staticmethod
    def _count(state, delta):
        state.open_send_channels += delta
        return state.open_send_channels

    @staticmethod
    def _last_closed(state):
        state.channel.close()  # receivers drain the buffer, then see EndOfChannel

    def _offer(self, value):
        """0 sent, 1 would wait; raises if closed or broken."""
        self._check_open()
        outcome = self._state.channel._offer(value)
        if outcome == 2:
            raise BrokenResourceError("every receive channel is closed")
        return outcome

    def send_nowait(self, value):
        """Send without waiting, or raise WouldBlock."""
        if self._offer(value):
            raise WouldBlock

    def send(self, value):
        """Send, waiting for room (or, unbuffered, for a receiver). Always a
        checkpoint, as trio's. (Returns an awaitable: under trio.run a
        native one, see trio_ops.cpp.)"""
        if _native_trio and _get_running_loop() is None:
            return _trio_op(self, self._channel, self._blocked, _send_slow, value)
        return _send_slow(self, value)

    @staticmethod
    def _waits(state):
        return state.send_waits

    def __repr__(self):
        return f"<fastchan.MemorySendChannel{' closed' if self._closed else ''}>"


class MemoryReceiveChannel(_Clone):
    """The receiving end of fastchan.open_memory_channel()."""

    __slots__ = ()

    def __init__(self, *args, **kwargs):
        raise TypeError("use fastchan.open_memory_channel() to make memory channels")

    @staticmethod
    def _count(state, delta):
        state.open_receive_channels += delta
        return state.open_receive_channels

    @staticmethod
    def _last_closed(state):
        state.channel.close()  # senders see BrokenResourceError
        for _ in state.channel:  # trio drops what was buffered
            pass

    def _poll(self):
        """The next value, or _core.EMPTY; raises once the stream ended."""
        self._check_open()
        value = self._state.channel._poll(CLOSED)
        if value is CLOSED:
            raise EndOfChannel
        return value

    def receive_nowait(self):
        """Receive without waiting, or raise WouldBlock (EndOfChannel once
        every sender is closed and the buffer is empty)."""
        value = self._poll()
        if value is _core.EMPTY:
            raise WouldBlock
        return value

    def receive(self):
        """Receive, waiting for a value. Always a checkpoint, as trio's.
        (Returns an awaitable: under trio.run a native one.)"""
        if _native_trio and _get_running_loop() is None:
            return _trio_op(self, self._channel, self._blocked, _receive_slow)
        return _receive_slow(self)

    @staticmethod
    def _waits(state):
        return state.receive_waits

    def __aiter__(self):
        return self

    def __anext__(self):
        if _native_trio and _get_running_loop() is None:
            return _trio_op(self, self._channel, self._blocked, _anext_slow)
        return _anext_slow(self)

    def __repr__(self):
        return f"<fastchan.MemoryReceiveChannel{' closed' if self._closed else ''}>"


# The coroutine paths of send/receive: under asyncio, under trio without
# the native ops, and for what the native ops hand over (closed handles).

async def _send_slow(handle, value):
    in_trio = _running_trio()
    if in_trio:
        await _trio.lowlevel.checkpoint_if_cancelled()
    if handle._offer(value) == 0:
        if in_trio:
            await _trio.lowlevel.cancel_shielded_checkpoint()
        return
    state = handle._state
    try:
        await _wait_for(send(state.channel, value), in_trio, handle, state.send_waits)
    except ChannelClosed:
        handle._check_open()
        raise BrokenResourceError("every receive channel is closed") from None


async def _receive_slow(handle):
    in_trio = _running_trio()
    if in_trio:
        await _trio.lowlevel.checkpoint_if_cancelled()
    value = handle._poll()
    if value is not _core.EMPTY:
        if in_trio:
            await _trio.lowlevel.cancel_shielded_checkpoint()
        return value
    state = handle._state
    _, value = await _wait_for(recv(state.channel), in_trio, handle, state.receive_waits)
    if value is CLOSED:
        handle._check_open()
        raise EndOfChannel
    return value


async def _anext_slow(handle):
    try:
        return await _receive_slow(handle)
    except EndOfChannel:
        raise StopAsyncIteration from None


def _use_native_trio():
    """Hands trio's scheduler objects to the native ops, if this trio has
    the trap messages they yield (trio 0.22 to 0.35 do); else False, and
    the coroutine path serves."""
    if _trio is None or not hasattr(_core, "_trio_setup"):
        return False
    try:
        from trio._core import _traps
        shielded, wait_message = _traps.CancelShieldedCheckpoint, _traps.WaitTaskRescheduled
    except (ImportError, AttributeError):
        return False
    lowlevel = _trio.lowlevel
    _core._trio_setup(
        lowlevel.checkpoint_if_cancelled, lowlevel.current_task, lowlevel.reschedule, shielded,
        wait_message, lowlevel.Abort.SUCCEEDED, lowlevel.Abort.FAILED, _outcome.Error,
        _outcome.Value(None), _trio_run_context)
    return True


def _trio_run_context():
    """(LoopWaker, TrioToken) of this trio run."""
    try:
        return _RUN_CONTEXT.get()
    except LookupError:
        context = (_trio_waker(), _trio.lowlevel.current_trio_token())
        _RUN_CONTEXT.set(context)
        return context


if _trio is not None:
    _RUN_CONTEXT = _trio.lowlevel.RunVar("fastchan_run_context")

_get_running_loop = asyncio._get_running_loop
_trio_op = getattr(_core, "_trio_op", None)
_native_trio = _use_native_trio()
