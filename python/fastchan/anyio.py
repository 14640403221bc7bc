"""fastchan.anyio: anyio's memory object streams, for anyio (both backends),
plain asyncio and trio, and threads.

    send_stream, receive_stream = fastchan.anyio.create_memory_object_stream[int](5)

``create_memory_object_stream(max_buffer_size=0, item_type=None)`` has
anyio 4's API and semantics and returns ``(MemoryObjectSendStream,
MemoryObjectReceiveStream)``: ``send``/``receive`` (each a checkpoint, as
anyio's), ``send_nowait``/``receive_nowait`` (WouldBlock), ``clone``,
``close``/``aclose``, ``with``/``async with``, ``async for``,
``statistics()`` (anyio's MemoryObjectStreamStatistics fields) and anyio's
exceptions (anyio's own classes when anyio is installed; the streams are
then anyio.abc.ObjectSendStream/ObjectReceiveStream too).

They are fastchan's memory channel (fastchan.memory_channel) under anyio's
names: one state machine under one lock, so the tasks of several event
loops, in several threads, and plain threads may share one stream.
A thread that runs no event loop may block: ``send_blocking(item,
timeout=None)`` and ``receive_blocking(timeout=None)`` (TimeoutError,
having had no effect, when not served in time).

Where fastchan differs from anyio's own streams, it is to lose nothing: an
asyncio send whose item was already taken when its task is cancelled
returns normally (anyio's raises CancelledError although the item was
delivered); a receive's item is never dropped by a cancellation.
"""

from __future__ import annotations

import math
import operator
import warnings
from typing import TYPE_CHECKING, Any, NamedTuple, Optional, TypeVar, Union

from .memory_channel._ends import ReceiveEnd, SendEnd
from .memory_channel._state import Errors, State

__all__ = [
    "create_memory_object_stream", "MemoryObjectSendStream", "MemoryObjectReceiveStream",
    "MemoryObjectStreamStatistics", "WouldBlock", "EndOfStream", "ClosedResourceError", "BrokenResourceError",
]

T_Item = TypeVar("T_Item")
T_co = TypeVar("T_co", covariant=True)
T_contra = TypeVar("T_contra", contravariant=True)

if TYPE_CHECKING:
    from anyio import BrokenResourceError, ClosedResourceError, EndOfStream, WouldBlock
    from anyio.abc import ObjectReceiveStream as _ReceiveBase
    from anyio.abc import ObjectSendStream as _SendBase
else:
    try:
        from anyio import BrokenResourceError, ClosedResourceError, EndOfStream, WouldBlock
        from anyio.abc import ObjectReceiveStream as _ReceiveBase
        from anyio.abc import ObjectSendStream as _SendBase
    except ImportError:  # anyio's names, for users without anyio
        from typing import Generic

        from .memory_channel._state import BrokenResourceError, ClosedResourceError, WouldBlock

        class EndOfStream(Exception):
            """Raised by receive once every send stream is closed and the buffer is empty."""

        class _SendBase(Generic[T_contra]):
            __slots__ = ()

        class _ReceiveBase(Generic[T_co]):
            __slots__ = ()

_ERRORS = Errors(WouldBlock, EndOfStream, ClosedResourceError, BrokenResourceError, "this stream was closed")


class MemoryObjectStreamStatistics(NamedTuple):
    """What statistics() reports: anyio's fields."""

    current_buffer_used: int  # items in the buffer
    max_buffer_size: float  # (an int, or math.inf)
    open_send_streams: int  # unclosed clones of the send stream
    open_receive_streams: int  # unclosed clones of the receive stream
    tasks_waiting_send: int  # tasks (and threads) blocked in send
    tasks_waiting_receive: int  # tasks (and threads) blocked in receive


def _statistics(state: State) -> MemoryObjectStreamStatistics:
    s = state.snapshot()
    return MemoryObjectStreamStatistics(s.current_buffer_used, s.max_buffer_size, s.open_send,
                                        s.open_receive, s.tasks_waiting_send, s.tasks_waiting_receive)


def _warn_unclosed(stream: Union[SendEnd, ReceiveEnd]) -> None:
    # As anyio's: a stream dropped while open is a leak worth a ResourceWarning.
    if getattr(stream, "_closed", True):  # (closed, or never initialized)
        return
    try:
        warnings.warn(f"Unclosed <{type(stream).__name__} at {id(stream):x}>", ResourceWarning,
                      stacklevel=1, source=stream)
    except Exception:  # interpreter shutdown
        pass


class MemoryObjectSendStream(SendEnd, _SendBase[T_contra]):
    """The sending end of fastchan.anyio.create_memory_object_stream()."""

    __slots__ = ()
    _FULL_CHECKPOINTS = True  # anyio's send always yields first (a cancelled scope cancels it there)

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("use fastchan.anyio.create_memory_object_stream() to make memory object streams")

    # anyio names the parameter `item` (trio's channels, sharing SendEnd, `value`).
    def send_nowait(self, item: T_contra) -> None:
        """Send at once: WouldBlock if no receiver waits and the buffer is
        full; BrokenResourceError if every receive stream is closed."""
        SendEnd.send_nowait(self, item)

    async def send(self, item: T_contra) -> None:
        """Send, waiting for room in the buffer (or, unbuffered, a receiver)."""
        await SendEnd.send(self, item)

    if TYPE_CHECKING:
        def clone(self) -> MemoryObjectSendStream[T_contra]: ...
        def __enter__(self) -> MemoryObjectSendStream[T_contra]: ...
        async def __aenter__(self) -> MemoryObjectSendStream[T_contra]: ...

    def send_blocking(self, item: T_contra, timeout: Optional[float] = None) -> None:
        """Send from a thread that runs no event loop, blocking until there
        is room (or, unbuffered, a receiver); TimeoutError after `timeout`
        seconds, the item not sent."""
        self._send_blocking(item, timeout)

    async def aclose(self) -> None:
        self.close()

    def statistics(self) -> MemoryObjectStreamStatistics:
        """anyio's statistics of the stream (the same for every clone)."""
        return _statistics(self._state)

    def __repr__(self) -> str:
        return f"<fastchan.anyio.MemoryObjectSendStream at {id(self):x}{' closed' if self._closed else ''}>"

    def __del__(self) -> None:
        _warn_unclosed(self)


class MemoryObjectReceiveStream(ReceiveEnd, _ReceiveBase[T_co]):
    """The receiving end of fastchan.anyio.create_memory_object_stream()."""

    __slots__ = ()
    _FULL_CHECKPOINTS = True
    _KEEPS_BUFFER_WHEN_BROKEN = True  # as anyio's (trio's drop it)

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("use fastchan.anyio.create_memory_object_stream() to make memory object streams")

    if TYPE_CHECKING:
        def receive_nowait(self) -> T_co: ...
        async def receive(self) -> T_co: ...
        def clone(self) -> MemoryObjectReceiveStream[T_co]: ...
        def __enter__(self) -> MemoryObjectReceiveStream[T_co]: ...
        async def __aenter__(self) -> MemoryObjectReceiveStream[T_co]: ...
        def __aiter__(self) -> MemoryObjectReceiveStream[T_co]: ...
        async def __anext__(self) -> T_co: ...

    def receive_blocking(self, timeout: Optional[float] = None) -> T_co:
        """Receive from a thread that runs no event loop, blocking until an
        item comes; TimeoutError after `timeout` seconds, nothing taken."""
        value: T_co = self._receive_blocking(timeout)
        return value

    async def aclose(self) -> None:
        self.close()

    def statistics(self) -> MemoryObjectStreamStatistics:
        """anyio's statistics of the stream (the same for every clone)."""
        return _statistics(self._state)

    def __repr__(self) -> str:
        return f"<fastchan.anyio.MemoryObjectReceiveStream at {id(self):x}{' closed' if self._closed else ''}>"

    def __del__(self) -> None:
        _warn_unclosed(self)


def _check_max_buffer_size(max_buffer_size: object) -> Union[int, float]:
    """anyio's rule and its ValueErrors: an integer >= 0, or math.inf."""
    if max_buffer_size == math.inf:
        return math.inf
    try:
        size = operator.index(max_buffer_size)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"max_buffer_size must be either an integer or math.inf, "
                         f"not {type(max_buffer_size).__name__} {max_buffer_size!r}") from None
    if size < 0:
        raise ValueError(f"max_buffer_size cannot be negative (got {size})")
    return size


class create_memory_object_stream(tuple[MemoryObjectSendStream[T_Item], MemoryObjectReceiveStream[T_Item]]):
    """create_memory_object_stream(max_buffer_size=0, item_type=None) ->
    (send_stream, receive_stream), as anyio's; ``create_memory_object_stream[T](n)``
    gives the streams' item type to type checkers. `item_type` is deprecated
    (DeprecationWarning), as in anyio 4. A class only so that it can be
    subscripted like anyio's: calling it returns a plain tuple."""

    def __new__(  # type: ignore[misc]
        cls, max_buffer_size: float = 0, item_type: object = None
    ) -> tuple[MemoryObjectSendStream[T_Item], MemoryObjectReceiveStream[T_Item]]:
        size = _check_max_buffer_size(max_buffer_size)
        if item_type is not None:
            warnings.warn("The item_type argument has been deprecated in AnyIO 4.0. "
                          "Use create_memory_object_stream[YourItemType](...) instead.",
                          DeprecationWarning, stacklevel=2)
        state = State(size, _ERRORS)
        return MemoryObjectSendStream._open(state), MemoryObjectReceiveStream._open(state)

