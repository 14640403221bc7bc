"""Drop-in replacements for the stdlib ``queue`` module's classes.

The classes keep ``queue.Queue``'s interface and Python 3.13's semantics
(including ``shutdown()``) on every supported Python. Items live in a native
channel; ``put()`` and ``get()`` hold the GIL on the fast path and release it
only while they wait.

``maxsize`` may be assigned on a live queue, as in the stdlib. A subclass
that overrides the hooks ``_init``, ``_qsize``, ``_put`` or ``_get`` runs
``queue.Queue``'s algorithm over them in Python instead (see _hooked.py);
classes that do not keep the native path.
"""

import heapq
import types
from collections import deque

from . import _core, _views
from ._base import QueueBase
from ._errors import Empty, Full, ShutDown
from ._hooked import _HookedQueue, insert_hooked

__all__ = ["Queue", "LifoQueue", "PriorityQueue", "SimpleQueue", "Empty", "Full", "ShutDown"]

_OWN_CLASSES = set()  # Queue, LifoQueue, PriorityQueue: their hooks are native


class _QueueType(type(_core._QueueCore)):
    """Metaclass of fastchan's thread queues: a subclass that overrides a hook
    gets _HookedQueue in its MRO, before fastchan's class (so the subclass's
    own put() may still call super().put())."""

    def mro(cls):
        return insert_hooked(super().mro(), _OWN_CLASSES)

    def __call__(cls, *args, **kwargs):
        if issubclass(cls, _HookedQueue):  # no native queue: skip pybind11's check that one was made
            self = cls.__new__(cls, *args, **kwargs)
            if isinstance(self, cls):
                self.__init__(*args, **kwargs)
            return self
        return super().__call__(*args, **kwargs)


class Queue(QueueBase, metaclass=_QueueType):
    """Create a FIFO queue with a given maximum size.

    If maxsize is <= 0, the queue size is infinite. maxsize may be assigned
    later: a larger bound wakes blocked putters, a smaller one makes puts
    wait until qsize() is below it.
    """

    _kind = _core.FIFO

    def __init__(self, maxsize=0, dtype=None):
        if isinstance(self, _HookedQueue):
            self._setup(maxsize, dtype)
        else:
            super().__init__(maxsize, dtype)

    # queue.Queue's hooks. The native path does not call them; a subclass
    # that overrides one runs on them all (see _hooked.py), and may call
    # these (e.g. Queue._put(self, item)). `self.queue` is a deque.
    def _init(self, maxsize):
        self.queue = deque()

    def _qsize(self):
        return len(self.queue)

    def _put(self, item):
        self.queue.append(item)

    def _get(self):
        return self.queue.popleft()

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

    def _init(self, maxsize):
        self.queue = []

    def _put(self, item):
        self.queue.append(item)

    def _get(self):
        return self.queue.pop()


class PriorityQueue(Queue):
    """Variant of Queue that retrieves open entries in priority order (lowest first).

    Entries are typically tuples of the form: (priority number, data). Items
    are ordered with ``<`` exactly as ``heapq`` orders them. A comparison that
    raises leaves the queue unchanged.
    """

    _kind = _core.PRIORITY

    def _init(self, maxsize):
        self.queue = []

    def _put(self, item):
        heapq.heappush(self.queue, item)

    def _get(self):
        return heapq.heappop(self.queue)


KIND_CLASSES = {_core.FIFO: Queue, _core.LIFO: LifoQueue, _core.PRIORITY: PriorityQueue}
_OWN_CLASSES.update(KIND_CLASSES.values())


class SimpleQueue(_core._SimpleQueueCore):
    """Simple, unbounded, reentrant FIFO queue."""

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__qualname__} qsize={self.qsize()}>"

    __class_getitem__ = classmethod(types.GenericAlias)
