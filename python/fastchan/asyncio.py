"""Drop-in replacements for asyncio's queues, on fastchan's native channel.

``fastchan.asyncio.Queue``, ``LifoQueue`` and ``PriorityQueue`` keep
``asyncio.Queue``'s interface and Python 3.13's semantics (``shutdown()``,
``QueueShutDown``) on every supported Python. They can be created with no
running loop, used from any number of event loops at once, and shared with
threads: ``fastchan.Queue(n).async_q`` and ``fastchan.asyncio.Queue(n).sync_q``
are two views of one native queue.

``get()``, ``put()`` and ``join()`` are native awaitables: a task that must
wait registers on the queue like a thread would and parks on a future of its
own loop, which the asyncio adapter (_loops/asyncio.py) wakes. A cancelled waiter
never loses an item: it passes a wake-up it was given on to the next waiter.

This module does not import asyncio: a queue's coroutines only run in a
task, when asyncio is imported already.
"""

from __future__ import annotations

import array as _array

from . import _core, _views
from ._base import TYPECODES as _TYPECODES, QueueBase, check_as_array as _check_as_array
from ._errors import Empty as QueueEmpty, Full as QueueFull, ShutDown as QueueShutDown, add_note as _add_note
from ._typing import TYPE_CHECKING, T

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from . import queue as thread_queues

__all__ = ["Queue", "LifoQueue", "PriorityQueue", "QueueEmpty", "QueueFull", "QueueShutDown"]


class Queue(QueueBase[T]):
    """A FIFO queue for asyncio tasks (and threads, through ``sync_q``).

    If maxsize is less than or equal to zero, the queue size is infinite.
    Unlike asyncio.Queue it is not bound to a loop: any task of any loop may
    use it.
    """

    _kind = _core.FIFO

    # get(), put() and join() are native awaitables (_core._add_async_fast_methods,
    # below): each tries its operation and, if it must wait, registers on the
    # queue and parks on a future of the task's loop, all natively.
    if TYPE_CHECKING:
        async def put(self, item: T) -> None:  # type: ignore[override]  # (the native one blocks a thread)
            """Put an item into the queue; wait for a free slot if it is full.
            Raises QueueShutDown if the queue has been shut down."""

        async def get(self) -> T:  # type: ignore[override]  # (as put)
            """Remove and return an item; wait until one is available."""

        async def join(self) -> None:  # type: ignore[override]  # (as put)
            """Block until every item put has been gotten and marked done."""

        def put_nowait(self, item: T) -> None: ...
        def get_nowait(self) -> T: ...

    async def put_many(self, items: Iterable[T]) -> None:  # type: ignore[override]  # (as put)
        """Put every item of `items`, in order, waiting for room as put() does.

        Raises QueueShutDown if the queue is shut down (the items before it
        were put). A cancellation or a shutdown says in a note (from Python
        3.11) how many items were put. A typed queue checks the whole batch
        first: a bad item raises TypeError/OverflowError before any is put."""
        import asyncio

        put = 0
        try:
            for item in _core._QueueCore._check_batch(self, items):
                await self.put(item)
                put += 1
        except (asyncio.CancelledError, QueueShutDown) as error:
            _add_note(error, f"put_many: {put} items were put")
            raise

    async def get_many(self, max_items: int, as_array: bool = False) -> list[T] | _array.array[Any]:  # type: ignore[override]  # (as put)
        """Wait for an item, then take whatever else is ready at once: a list
        of 1 to max_items items, in order. as_array=True (dtype int64 or
        float64) returns an array.array instead."""
        max_items = _core._max_items(max_items)
        if as_array:
            _check_as_array(self)
        first = await self.get()
        items: list[T] | _array.array[Any] = (
            _array.array(_TYPECODES[self.dtype or ""], [first]) if as_array else [first])
        if max_items > 1:
            try:
                items += _core._QueueCore.get_many(self, max_items - 1, False, None, as_array)
            except Exception:  # Empty, ShutDown, a comparison: the next call sees it
                pass
        return items

    def _format(self) -> str:  # asyncio's fields, each shown only when it says something
        size = self.qsize()
        return "".join([f"maxsize={self.maxsize!r}",
                        "" if self.dtype is None else f" dtype={self.dtype}",
                        f" qsize={size}" if size else "",
                        f" tasks={self.unfinished_tasks}" if self.unfinished_tasks else "",
                        " shutdown" if self.is_shutdown else ""])

    # asyncio's shape: the class name first, "at 0x..." in repr() only.
    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {id(self):#x} {self._format()}>"

    def __str__(self) -> str:
        return f"<{type(self).__name__} {self._format()}>"

    @property
    def sync_q(self) -> thread_queues.Queue[T]:
        """The queue.Queue interface (blocking put/get) of this same queue."""
        return _views.paired(self, "sync")  # type: ignore[arg-type, return-value]  # (of the same T)

    @property
    def async_q(self) -> Queue[T]:
        """This queue: it is the asyncio interface already."""
        return self


_core._add_async_fast_methods(Queue)


class LifoQueue(Queue[T]):
    """A LIFO queue for asyncio tasks: most recently added entries first."""

    _kind = _core.LIFO


class PriorityQueue(Queue[T]):
    """A priority queue for asyncio tasks: lowest entries first (heapq order)."""

    _kind = _core.PRIORITY


KIND_CLASSES = {_core.FIFO: Queue, _core.LIFO: LifoQueue, _core.PRIORITY: PriorityQueue}
_views.register("async", KIND_CLASSES)  # type: ignore[arg-type]
