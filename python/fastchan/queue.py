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

from __future__ import annotations

import heapq
import types
from collections import deque

from . import _core, _views
from ._base import QueueBase
from ._errors import Empty, Full, ShutDown
from ._hooked import _HookedQueue, insert_hooked
from ._typing import TYPE_CHECKING, Generic, T

if TYPE_CHECKING:
    from array import array
    from collections.abc import Iterable
    from typing import Any

    from . import asyncio as async_queues

__all__ = ["Queue", "LifoQueue", "PriorityQueue", "SimpleQueue", "Empty", "Full", "ShutDown"]

_OWN_CLASSES: set[type] = set()  # Queue, LifoQueue, PriorityQueue: their hooks are native


class _QueueType(type(_core._QueueCore)):  # type: ignore[misc]  # (pybind11's metaclass)
    """Metaclass of fastchan's thread queues: a subclass that overrides a hook
    gets _HookedQueue in its MRO, before fastchan's class (so the subclass's
    own put() may still call super().put())."""

    def mro(cls) -> list[type]:
        return insert_hooked(super().mro(), _OWN_CLASSES)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if issubclass(cls, _HookedQueue):  # no native queue: skip pybind11's check that one was made
            self = cls.__new__(cls, *args, **kwargs)
            if isinstance(self, cls):
                self.__init__(*args, **kwargs)  # type: ignore[misc]  # (what type.__call__ does)
            return self
        return super().__call__(*args, **kwargs)


class Queue(QueueBase[T], metaclass=_QueueType):
    """Create a FIFO queue with a given maximum size.

    If maxsize is <= 0, the queue size is infinite. maxsize may be assigned
    later: a larger bound wakes blocked putters, a smaller one makes puts
    wait until qsize() is below it.
    """

    _kind = _core.FIFO

    def __init__(self, maxsize: int = 0, dtype: str | None = None) -> None:
        if isinstance(self, _HookedQueue):
            self._setup(maxsize, dtype)
        else:
            super().__init__(maxsize, dtype)

    if TYPE_CHECKING:  # the native methods, typed by the item type
        def put(self, item: T, block: bool = True, timeout: float | None = None) -> None: ...
        def get(self, block: bool = True, timeout: float | None = None) -> T: ...
        def put_nowait(self, item: T) -> None: ...
        def get_nowait(self) -> T: ...
        def put_many(self, items: Iterable[T], block: bool = True, timeout: float | None = None) -> None: ...
        def get_many(self, max_items: int, block: bool = True, timeout: float | None = None,
                     as_array: bool = False) -> list[T] | array[Any]: ...

    # queue.Queue's hooks. The native path does not call them; a subclass
    # that overrides one runs on them all (see _hooked.py), and may call
    # these (e.g. Queue._put(self, item)). `self.queue` is a deque.
    def _init(self, maxsize: int) -> None:
        self.queue: Any = deque()

    def _qsize(self) -> int:
        return len(self.queue)

    def _put(self, item: T) -> None:
        self.queue.append(item)

    def _get(self) -> T:
        return self.queue.popleft()  # type: ignore[no-any-return]

    @property
    def sync_q(self) -> Queue[T]:
        """This queue: it is the queue.Queue interface already."""
        return self

    @property
    def async_q(self) -> async_queues.Queue[T]:
        """The asyncio.Queue interface (awaitable put/get) of this same queue."""
        return _views.paired(self, "async")  # type: ignore[arg-type, return-value]  # (of the same T)


class LifoQueue(Queue[T]):
    """Variant of Queue that retrieves most recently added entries first."""

    _kind = _core.LIFO

    def _init(self, maxsize: int) -> None:
        self.queue = []

    def _put(self, item: T) -> None:
        self.queue.append(item)

    def _get(self) -> T:
        return self.queue.pop()  # type: ignore[no-any-return]


class PriorityQueue(Queue[T]):
    """Variant of Queue that retrieves open entries in priority order (lowest first).

    Entries are typically tuples of the form: (priority number, data). Items
    are ordered with ``<`` exactly as ``heapq`` orders them. A comparison that
    raises leaves the queue unchanged.
    """

    _kind = _core.PRIORITY

    def _init(self, maxsize: int) -> None:
        self.queue = []

    def _put(self, item: T) -> None:
        heapq.heappush(self.queue, item)

    def _get(self) -> T:
        return heapq.heappop(self.queue)  # type: ignore[no-any-return]


KIND_CLASSES = {_core.FIFO: Queue, _core.LIFO: LifoQueue, _core.PRIORITY: PriorityQueue}
_OWN_CLASSES.update(KIND_CLASSES.values())
_views.register("sync", KIND_CLASSES)  # type: ignore[arg-type]


class SimpleQueue(_core._SimpleQueueCore, Generic[T]):
    """Simple, unbounded, reentrant FIFO queue."""

    if TYPE_CHECKING:  # the native methods, typed by the item type
        def put(self, item: T, block: bool = True, timeout: float | None = None) -> None: ...
        def get(self, block: bool = True, timeout: float | None = None) -> T: ...
        def put_nowait(self, item: T) -> None: ...
        def get_nowait(self) -> T: ...
        def put_many(self, items: Iterable[T], block: bool = True, timeout: float | None = None) -> None: ...
        def get_many(self, max_items: int, block: bool = True, timeout: float | None = None,
                     as_array: bool = False) -> list[T] | array[Any]: ...

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__qualname__} qsize={self.qsize()}>"

    def __class_getitem__(cls, item: Any) -> types.GenericAlias:
        return types.GenericAlias(cls, item)
