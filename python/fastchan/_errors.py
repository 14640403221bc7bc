"""Exceptions raised by fastchan's queues.

Each one inherits from the stdlib classes of both worlds, so existing
``except queue.Empty:`` and ``except asyncio.QueueEmpty:`` clauses keep
working when fastchan's queues replace the stdlib's.
"""

import asyncio
import queue

__all__ = ["Empty", "Full", "ShutDown", "ChannelClosed"]


class Empty(queue.Empty, asyncio.QueueEmpty):
    """Raised by a non-blocking or timed get() when no item was available."""


class Full(queue.Full, asyncio.QueueFull):
    """Raised by a non-blocking or timed put() when no slot was free."""


_shutdown_bases = tuple(
    base
    for base in (getattr(queue, "ShutDown", None), getattr(asyncio, "QueueShutDown", None))
    if base is not None
) or (Exception,)


class ShutDown(*_shutdown_bases):
    """Raised by put() after shutdown(), and by get() once shut down and empty."""


class ChannelClosed(Exception):
    """Raised by a send on a closed fastchan.Channel, and by a receive once
    the channel is closed and drained."""
