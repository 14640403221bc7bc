"""fastchan.Channel: Go's channel for Python threads, on fastchan's native core.

    ch = fastchan.Channel()        # capacity 0: a rendezvous
    ch = fastchan.Channel(16)      # 16 buffered items
    ch = fastchan.Channel(None)    # unbounded (math.inf works too, as in trio)
    ch = fastchan.Channel(1024, dtype="int64")   # items stored natively

A typed channel (dtype "int64", "float64" or "bytes") stores its items as
C values, converted only when they cross into or out of Python: a wrong
type raises TypeError, an int out of range OverflowError, and the channel
is left as it was. Its ``get_many(..., as_array=True)`` returns an
``array.array``, and native code can reach the channel itself through the
capsule API (``fastchan/python.hpp``).

``send`` returns once a receiver has the item (rendezvous) or it is
buffered; ``recv`` returns the next item. Both release the GIL while they
wait and take an optional timeout (TimeoutError). ``await asend(item)`` and
``await arecv()`` (and ``async for``) are the same for asyncio tasks; threads
and event loops can use one channel at once. ``close()`` ends the
stream: sends raise ChannelClosed at once, receivers drain what is buffered
and then raise it, and ``for item in ch`` stops there, like Go's ``range``.
"""

from __future__ import annotations

import array
import math
import sys
import types

from . import _checks, _core
from ._base import TYPECODES as _TYPECODES, check_as_array as _check_as_array
from ._errors import ChannelClosed, add_note, closed_channel
from ._select import CLOSED, recv, select_async, send
from ._typing import TYPE_CHECKING, Generic, T

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any

__all__ = ["Channel", "ChannelClosed"]


def _parse_capacity(capacity: float | None) -> int | None:
    if capacity is None or capacity == math.inf:
        return None
    capacity = _checks.count("capacity", capacity, accepted="an integer, None or math.inf")
    if capacity > sys.maxsize:
        raise OverflowError(f"capacity {capacity!r} is too large (at most {sys.maxsize}); "
                            "None (or math.inf) makes an unbounded channel")
    return capacity


class Channel(_core._ChannelCore, Generic[T]):
    """A multi-producer, multi-consumer channel with Go's semantics."""

    def __init__(self, capacity: float | None = 0, dtype: str | None = None) -> None:
        super().__init__(_parse_capacity(capacity), dtype)

    if TYPE_CHECKING:  # the native methods, typed by the item type
        def send(self, item: T, timeout: float | None = None) -> None: ...
        def recv(self, timeout: float | None = None) -> T: ...
        def try_send(self, item: T) -> None: ...
        def try_recv(self) -> T: ...
        def put_many(self, items: Iterable[T], timeout: float | None = None) -> None: ...
        def get_many(self, max_items: int, timeout: float | None = None,
                     as_array: bool = False) -> list[T] | array.array[Any]: ...

    def __class_getitem__(cls, item: Any) -> types.GenericAlias:
        return types.GenericAlias(cls, item)  # (Channel[int], as the stub long promised)

    def __iter__(self) -> Iterator[T]:
        """Receive until the channel is closed and drained (Go's range)."""
        while True:
            try:
                yield self.recv()
            except ChannelClosed:
                return

    async def asend(self, item: T, timeout: float | None = None) -> None:
        """send() for an asyncio task: suspends until a receiver has the item
        (or a slot is free). ChannelClosed, TimeoutError as send()."""
        outcome = self._offer(item)  # no exception on the way to waiting
        if outcome == 0:
            return
        if outcome == 2:
            raise closed_channel("send")
        await select_async([send(self, item)], timeout)

    async def arecv(self, timeout: float | None = None) -> T:
        """recv() for an asyncio task: suspends until an item arrives.
        ChannelClosed once closed and drained; TimeoutError as recv()."""
        value = self._poll(CLOSED)
        if value is _core.EMPTY:
            _, value = await select_async([recv(self)], timeout)
        if value is CLOSED:
            raise closed_channel("recv")
        return value  # type: ignore[no-any-return]

    async def aput_many(self, items: Iterable[T], timeout: float | None = None) -> None:
        """put_many() for an asyncio task: asend() each item in order; the
        timeout bounds the whole batch. ChannelClosed or TimeoutError say
        how many items were sent before (a cancellation says it in a note,
        from Python 3.11). A typed channel checks the whole batch first: a
        bad item raises before any is sent."""
        import asyncio

        items = self._check_batch(items)
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        sent = 0
        try:
            for item in items:
                await self.asend(item, None if deadline is None else max(0.0, deadline - loop.time()))
                sent += 1
        except (ChannelClosed, TimeoutError) as error:
            raise type(error)(f"aput_many: {error} ({sent} items were sent)") from None
        except asyncio.CancelledError as error:
            add_note(error, f"aput_many: {sent} items were sent")
            raise

    async def aget_many(self, max_items: int, timeout: float | None = None,
                        as_array: bool = False) -> list[T] | array.array[Any]:
        """get_many() for an asyncio task: waits for one item, then takes
        whatever else is ready at once (1 to max_items items, in order).
        as_array=True (dtype int64 or float64) returns an array.array."""
        max_items = _core._max_items(max_items)
        if as_array:
            _check_as_array(self)
        first = await self.arecv(timeout)
        items: list[T] | array.array[Any] = (
            array.array(_TYPECODES[self.dtype or ""], [first]) if as_array else [first])
        if max_items > 1:
            try:
                items += self.get_many(max_items - 1, timeout=0, as_array=as_array)  # type: ignore[operator]  # (both arrays or both lists)
            except Exception:  # nothing more ready, closed...: the next call sees it
                pass
        return items

    def __aiter__(self) -> Channel[T]:
        return self

    async def __anext__(self) -> T:
        """Receive until the channel is closed and drained (async for)."""
        try:
            return await self.arecv()
        except ChannelClosed:
            raise StopAsyncIteration from None

    def __repr__(self) -> str:
        capacity = "unbounded" if self.capacity is None else f"capacity={self.capacity}"
        dtype = "" if self.dtype is None else f" dtype={self.dtype}"
        state = " closed" if self.closed else ""
        return f"<fastchan.Channel {capacity}{dtype} buffered={len(self)}{state}>"

