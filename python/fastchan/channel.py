"""fastchan.Channel: Go's channel for Python threads, on fastchan's native core.

    ch = fastchan.Channel()        # capacity 0: a rendezvous
    ch = fastchan.Channel(16)      # 16 buffered items
    ch = fastchan.Channel(None)    # unbounded (math.inf works too, as in trio)

``send`` returns once a receiver has the item (rendezvous) or it is
buffered; ``recv`` returns the next item. Both release the GIL while they
wait and take an optional timeout (TimeoutError). ``await asend(item)`` and
``await arecv()`` (and ``async for``) are the same for asyncio tasks; threads
and event loops can use one channel at once. ``close()`` ends the
stream: sends raise ChannelClosed at once, receivers drain what is buffered
and then raise it, and ``for item in ch`` stops there, like Go's ``range``.
"""

import asyncio
import math
import operator

from . import _core
from ._errors import ChannelClosed
from ._select import CLOSED, recv, select_async, send

__all__ = ["Channel", "ChannelClosed"]


def _parse_capacity(capacity):
    if capacity is None or capacity == math.inf:
        return None
    if isinstance(capacity, bool):
        raise TypeError(f"capacity must be an integer, None or math.inf, not bool {capacity!r}")
    try:
        capacity = operator.index(capacity)
    except TypeError:
        raise TypeError(
            f"capacity must be an integer, None or math.inf, not {type(capacity).__name__} {capacity!r}"
        ) from None
    if capacity < 0:
        raise ValueError(f"capacity must be >= 0, not {capacity!r}")
    return capacity


class Channel(_core._ChannelCore):
    """A multi-producer, multi-consumer channel with Go's semantics."""

    def __init__(self, capacity=0):
        super().__init__(_parse_capacity(capacity))

    def __iter__(self):
        """Receive until the channel is closed and drained (Go's range)."""
        while True:
            try:
                yield self.recv()
            except ChannelClosed:
                return

    async def asend(self, item, timeout=None):
        """send() for an asyncio task: suspends until a receiver has the item
        (or a slot is free). ChannelClosed, TimeoutError as send()."""
        outcome = self._offer(item)  # no exception on the way to waiting
        if outcome == 0:
            return
        if outcome == 2:
            raise ChannelClosed("send on a closed channel")
        await select_async([send(self, item)], timeout)

    async def arecv(self, timeout=None):
        """recv() for an asyncio task: suspends until an item arrives.
        ChannelClosed once closed and drained; TimeoutError as recv()."""
        value = self._poll(CLOSED)
        if value is _core.EMPTY:
            _, value = await select_async([recv(self)], timeout)
        if value is CLOSED:
            raise ChannelClosed("recv on a closed channel")
        return value

    async def aput_many(self, items, timeout=None):
        """put_many() for an asyncio task: asend() each item in order; the
        timeout bounds the whole batch. ChannelClosed or TimeoutError say
        how many items were sent before."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        sent = 0
        try:
            for item in items:
                await self.asend(item, None if deadline is None else max(0.0, deadline - loop.time()))
                sent += 1
        except (ChannelClosed, TimeoutError) as error:
            raise type(error)(f"aput_many: {error} ({sent} items were sent)") from None

    async def aget_many(self, max_items, timeout=None):
        """get_many() for an asyncio task: waits for one item, then takes
        whatever else is ready at once (1 to max_items items, in order)."""
        max_items = _core._max_items(max_items)
        items = [await self.arecv(timeout)]
        if max_items > 1:
            try:
                items += self.get_many(max_items - 1, timeout=0)
            except Exception:  # nothing more ready, or closed: the next call sees it
                pass
        return items

    def __aiter__(self):
        return self

    async def __anext__(self):
        """Receive until the channel is closed and drained (async for)."""
        try:
            return await self.arecv()
        except ChannelClosed:
            raise StopAsyncIteration from None

    def __repr__(self):
        capacity = "unbounded" if self.capacity is None else f"capacity={self.capacity}"
        state = " closed" if self.closed else ""
        return f"<fastchan.Channel {capacity} buffered={len(self)}{state}>"
