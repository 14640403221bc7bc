"""Drop-in replacements for the stdlib ``queue`` module's classes.

The classes keep ``queue.Queue``'s interface and Python 3.13's semantics
(including ``shutdown()``) on every supported Python. Items live in a native
channel; ``put()`` and ``get()`` hold the GIL on the fast path and release it
only while they wait.
"""

import types

from . import _core, _views
from ._base import QueueBase
from ._errors import Empty, Full, ShutDown

__all__ = ["Queue", "LifoQueue", "PriorityQueue", "SimpleQueue", "Empty", "Full", "ShutDown"]


class Queue(QueueBase):
    """Create a FIFO queue with a given maximum size.

    If maxsize is <= 0, the queue size is infinite.
    """

    _kind = _core.FIFO

    @property
    def sync_q(self):
        """This queue: it is the queue.Queue interface already."""
        return self

    @property
    def async_q(self):
        """The asyncio.Queue interface (awaitable put/get) of this same queue."""
        from . import asyncio as async_queues

        return _views.paired(self, "async", async_queues.KIND_CLASSES[self._kind])


class LifoQueue(Queue):
    """Variant of Queue that retrieves most recently added entries first."""

    _kind = _core.LIFO


class PriorityQueue(Queue):
    """Variant of Queue that retrieves open entries in priority order (lowest first).

    Entries are typically tuples of the form: (priority number, data). Items
    are ordered with ``<`` exactly as ``heapq`` orders them. A comparison that
    raises leaves the queue unchanged.
    """

    _kind = _core.PRIORITY


KIND_CLASSES = {_core.FIFO: Queue, _core.LIFO: LifoQueue, _core.PRIORITY: PriorityQueue}


class SimpleQueue(_core._SimpleQueueCore):
    """Simple, unbounded, reentrant FIFO queue."""

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__qualname__} qsize={self.qsize()}>"

    __class_getitem__ = classmethod(types.GenericAlias)
