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
