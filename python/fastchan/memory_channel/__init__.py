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
installed these are trio's own exceptions (trio is imported by the first
open_memory_channel() call, or the first look-up of one of those names).

Waiting tasks come first, as in trio: an item sent while a task waits in
receive() is handed to that task (the first to wait), so no receive_nowait()
can take it; a receive that frees a slot while a task waits in send() moves
that task's item into the buffer at once, so no send_nowait() can overtake
it. The state is a buffer and two queues of waiting tasks under one lock
(._state), shared with fastchan.anyio's streams; any thread may call every
method, and the tasks of any trio run or asyncio loop, in any thread, may
wait on one channel (fastchan._loops).

Cancellation never loses or duplicates an item. Under trio, a task whose
exchange happened cannot be cancelled any more (its abort fails) and takes
its result. Under asyncio a task can be cancelled after its exchange
happened and before it runs: a receive then gives its item back (to the
next waiting receiver, or to the front of the buffer) and raises
CancelledError, having had no effect; a send whose item was taken cannot be
undone (it may have been received already), so it returns normally and that
cancellation is suppressed (task.uncancel() on 3.11+). A task cancelled
while it waits is not served at all: the item goes to the next waiter.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import sys
from typing import TYPE_CHECKING, Any, Callable, Generic, Optional, TypeVar, Union

from .. import _loops
from . import _state
from ._ends import ReceiveEnd, SendEnd
from ._state import Errors, State

__all__ = [
    "open_memory_channel", "MemorySendChannel", "MemoryReceiveChannel", "MemoryChannelStatistics",
    "WouldBlock", "EndOfChannel", "ClosedResourceError", "BrokenResourceError",
]

_T = TypeVar("_T")
_State = State  # (the name tests/python/traced_runner.py counts channels by)

if TYPE_CHECKING:
    WouldBlock: type[Exception]
    EndOfChannel: type[Exception]
    ClosedResourceError: type[Exception]
    BrokenResourceError: type[Exception]


class _EndOfChannel(Exception):
    """Raised by receive once every send channel is closed and the buffer is empty."""


_EndOfChannel.__name__ = _EndOfChannel.__qualname__ = "EndOfChannel"
_EXCEPTION_NAMES = {"WouldBlock": "would_block", "EndOfChannel": "end",
                    "ClosedResourceError": "closed", "BrokenResourceError": "broken"}
_errors: Optional[Errors] = None


def _trio_errors() -> Errors:
    """trio's exceptions if trio is installed, else look-alikes; fixed at first use."""
    global _errors
    if _errors is None:
        message = "this channel object was closed"
        try:
            import trio
        except ImportError:
            _errors = Errors(_state.WouldBlock, _EndOfChannel, _state.ClosedResourceError,
                             _state.BrokenResourceError, message)
        else:
            _errors = Errors(trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError,
                             trio.BrokenResourceError, message)
    return _errors


def __getattr__(name: str) -> Any:
    if name in _EXCEPTION_NAMES:
        return getattr(_trio_errors(), _EXCEPTION_NAMES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXCEPTION_NAMES])


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


def _statistics(state: State) -> MemoryChannelStatistics:
    s = state.snapshot()
    return MemoryChannelStatistics(
        current_buffer_used=s.current_buffer_used, max_buffer_size=s.max_buffer_size,
        open_send_channels=s.open_send, open_receive_channels=s.open_receive,
        tasks_waiting_send=s.tasks_waiting_send, tasks_waiting_receive=s.tasks_waiting_receive,
        peak_buffer_used=s.peak_buffer_used)


async def _aclose(end: Union[SendEnd, ReceiveEnd]) -> None:
    end.close()
    loop = _loops.running()
    if loop is not None and loop.NAME == "trio":  # trio's aclose is a checkpoint
        await sys.modules["trio"].lowlevel.checkpoint()


class MemorySendChannel(SendEnd, Generic[_T]):
    """The sending end of fastchan.open_memory_channel()."""

    __slots__ = ()

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("use fastchan.open_memory_channel() to make memory channels")

    if TYPE_CHECKING:
        def send_nowait(self, value: _T) -> None: ...
        async def send(self, value: _T) -> None: ...

    async def aclose(self) -> None:
        await _aclose(self)

    def statistics(self) -> MemoryChannelStatistics:
        """A MemoryChannelStatistics of the channel (the same for every handle)."""
        return _statistics(self._state)

    def __repr__(self) -> str:
        return f"<fastchan.MemorySendChannel{' closed' if self._closed else ''}>"


class MemoryReceiveChannel(ReceiveEnd, Generic[_T]):
    """The receiving end of fastchan.open_memory_channel()."""

    __slots__ = ()

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("use fastchan.open_memory_channel() to make memory channels")

    if TYPE_CHECKING:
        def receive_nowait(self) -> _T: ...
        async def receive(self) -> _T: ...
        def __aiter__(self) -> MemoryReceiveChannel[_T]: ...
        async def __anext__(self) -> _T: ...

    async def aclose(self) -> None:
        await _aclose(self)

    def statistics(self) -> MemoryChannelStatistics:
        """A MemoryChannelStatistics of the channel (the same for every handle)."""
        return _statistics(self._state)

    def __repr__(self) -> str:
        return f"<fastchan.MemoryReceiveChannel{' closed' if self._closed else ''}>"


def check_max_buffer_size(max_buffer_size: Union[int, float]) -> Union[int, float]:
    """trio's rule: an integer >= 0 or math.inf; TypeError/ValueError naming the value."""
    if max_buffer_size == math.inf:
        return max_buffer_size
    if isinstance(max_buffer_size, bool):
        raise TypeError("max_buffer_size must be an integer or math.inf, not bool")
    try:
        size = operator.index(max_buffer_size)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"max_buffer_size must be an integer or math.inf, not {type(max_buffer_size).__name__} "
            f"{max_buffer_size!r}"
        ) from None
    if size < 0:
        raise ValueError("max_buffer_size must be >= 0")  # trio's words (its tests match them)
    return size


class _OpenMemoryChannel:
    """open_memory_channel(max_buffer_size) -> (send_channel, receive_channel),
    like trio.open_memory_channel; ``open_memory_channel[T](n)`` (trio's
    typed form) is the same call."""

    __slots__ = ()

    def __call__(self, max_buffer_size: Union[int, float]) -> tuple[MemorySendChannel[Any], MemoryReceiveChannel[Any]]:
        state = State(check_max_buffer_size(max_buffer_size), _trio_errors())
        return MemorySendChannel._open(state), MemoryReceiveChannel._open(state)

    def __getitem__(
        self, item_type: object
    ) -> Callable[[Union[int, float]], tuple[MemorySendChannel[Any], MemoryReceiveChannel[Any]]]:
        return self  # the item type is for type checkers only

    def __repr__(self) -> str:
        return "<function fastchan.open_memory_channel>"

    def __reduce__(self) -> str:
        return "open_memory_channel"  # pickles by name, as a function would


open_memory_channel = _OpenMemoryChannel()
