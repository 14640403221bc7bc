"""The slow path of fastchan.Queue subclasses that override queue.Queue's
hooks (_init, _qsize, _put, _get), as users build deduplicating or keyed
queues on queue.Queue.

Such a class gets _HookedQueue inserted in its MRO just before fastchan's
own class (see QueueType.mro), so its instances run queue.Queue's algorithm
in Python over the hooks: ``self.queue`` is what ``_init(maxsize)`` made,
``self.mutex`` guards everything (``with q.mutex:`` excludes the queue's own
operations) and ``not_empty``/``not_full``/``all_tasks_done`` are its
conditions, as in the stdlib. The native queue is not used (not even
created): ``sync_q``/``async_q`` views are refused; put_many/get_many work,
item by item. A hook that raises leaves the queue as it was before the call.
"""

from __future__ import annotations

import threading
from time import monotonic as _now

from . import _checks, _core
from ._base import check_as_array
from ._errors import Empty, Full, ShutDown, add_note
from ._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, NoReturn

HOOKS = ("_init", "_qsize", "_put", "_get")


def _check_maxsize(value: Any) -> Any:
    """An int, or a real number kept as given (compared as the stdlib does)."""
    if isinstance(value, bool) or not hasattr(type(value), "__index__") and not hasattr(type(value), "__float__"):
        raise TypeError(f"maxsize must be a number, not {type(value).__name__} {value!r}")
    return value.__index__() if hasattr(type(value), "__index__") else value


class _HookedQueue:
    """queue.Queue's algorithm over the subclass's hooks (not a public class).
    It is only ever a base of a fastchan.Queue subclass, whose hooks
    (_init, _qsize, _put, _get) it calls."""

    # Plain attributes, as in the stdlib (they shadow the native properties).
    unfinished_tasks = 0
    is_shutdown = False
    dtype = None

    if TYPE_CHECKING:  # what the fastchan.Queue subclass it serves provides
        def _init(self, maxsize: int) -> None: ...
        def _qsize(self) -> int: ...
        def _put(self, item: Any) -> None: ...
        def _get(self) -> Any: ...

    def _setup(self, maxsize: int, dtype: str | None) -> None:
        if dtype is not None:
            raise TypeError(f"{type(self).__name__} overrides queue hooks: dtype must be None, not {dtype!r}")
        self.maxsize = maxsize
        self._init(self.maxsize)
        # Reentrant, so that maxsize may be assigned from inside a hook (the
        # setter takes the lock to wake putters).
        self.mutex = threading.RLock()
        self.not_empty = threading.Condition(self.mutex)
        self.not_full = threading.Condition(self.mutex)
        self.all_tasks_done = threading.Condition(self.mutex)

    @property
    def maxsize(self) -> float:
        """The bound; assignable. A larger one wakes blocked putters."""
        maxsize: float = self.__dict__.get("maxsize", 0)
        return maxsize

    @maxsize.setter
    def maxsize(self, value: float) -> None:
        value = _check_maxsize(value)
        cond = self.__dict__.get("not_full")
        if cond is None:  # (during _setup)
            self.__dict__["maxsize"] = value
            return
        with cond:
            self.__dict__["maxsize"] = value
            cond.notify_all()

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """Put an item into the queue (see fastchan.Queue.put)."""
        with self.not_full:
            if self.is_shutdown:
                raise ShutDown
            if self.maxsize > 0:
                if not block:
                    if self._qsize() >= self.maxsize:
                        raise Full
                else:
                    timeout = _checks.timeout(timeout)
                    deadline = None if timeout is None else _now() + timeout
                    while self._qsize() >= self.maxsize:
                        left = None if deadline is None else deadline - _now()
                        if left is not None and left <= 0:
                            raise Full
                        self.not_full.wait(left)
                        if self.is_shutdown:
                            raise ShutDown
            self._put(item)  # (if it raises, nothing was counted)
            self.unfinished_tasks += 1
            self.not_empty.notify()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """Remove and return an item (see fastchan.Queue.get)."""
        with self.not_empty:
            if self.is_shutdown and not self._qsize():
                raise ShutDown
            if not block:
                if not self._qsize():
                    raise Empty
            else:
                timeout = _checks.timeout(timeout)
                deadline = None if timeout is None else _now() + timeout
                while not self._qsize():
                    left = None if deadline is None else deadline - _now()
                    if left is not None and left <= 0:
                        raise Empty
                    self.not_empty.wait(left)
                    if self.is_shutdown and not self._qsize():
                        raise ShutDown
            item = self._get()
            self.not_full.notify()
            return item

    def put_nowait(self, item: Any) -> None:
        return self.put(item, block=False)

    def get_nowait(self) -> Any:
        return self.get(block=False)

    def put_many(self, items: Iterable[Any], block: bool = True, timeout: float | None = None) -> None:
        """put() of each item in order; the timeout bounds the whole batch."""
        timeout = _checks.timeout(timeout)
        deadline = None if timeout is None else _now() + timeout
        done = 0
        try:
            for item in items:
                self.put(item, block, None if deadline is None else max(0.0, deadline - _now()))
                done += 1
        except (Full, ShutDown) as error:
            add_note(error, f"put_many: {done} items were put")
            raise

    def get_many(self, max_items: int, block: bool = True, timeout: float | None = None,
                 as_array: bool = False) -> list[Any]:
        """get() of the first item, then whatever else is there: a list of 1 to max_items."""
        max_items = _core._max_items(max_items)
        if as_array:
            check_as_array(self)
        with self.mutex:  # (reentrant: get() takes it again)
            items = [self.get(block, timeout)]
            while len(items) < max_items and self._qsize():
                items.append(self._get())
                self.not_full.notify()
        return items

    def qsize(self) -> int:
        with self.mutex:
            return self._qsize()

    def empty(self) -> bool:
        with self.mutex:
            return not self._qsize()

    def full(self) -> bool:
        with self.mutex:
            return 0 < self.maxsize <= self._qsize()

    def task_done(self) -> None:
        """Indicate that a formerly enqueued task is complete."""
        with self.all_tasks_done:
            if self.unfinished_tasks <= 0:
                raise ValueError("task_done() called too many times")
            self.unfinished_tasks -= 1
            if self.unfinished_tasks == 0:
                self.all_tasks_done.notify_all()

    def join(self) -> None:
        """Block until every item put has been gotten and marked done."""
        with self.all_tasks_done:
            while self.unfinished_tasks:
                self.all_tasks_done.wait()

    def shutdown(self, immediate: bool = False) -> None:
        """Shut down the queue (see fastchan.Queue.shutdown)."""
        with self.mutex:
            self.is_shutdown = True
            if immediate:
                while self._qsize():
                    self._get()
                    if self.unfinished_tasks > 0:
                        self.unfinished_tasks -= 1
                self.all_tasks_done.notify_all()
            self.not_empty.notify_all()
            self.not_full.notify_all()

    @property
    def sync_q(self) -> _HookedQueue:
        return self

    @property
    def async_q(self) -> NoReturn:
        raise TypeError(f"{type(self).__name__} overrides queue hooks ({', '.join(HOOKS)}): it runs in Python "
                        "and has no asyncio view; use fastchan.Queue without overridden hooks for sync_q/async_q")


def insert_hooked(order: list[type], own_classes: set[type]) -> list[type]:
    """`order` (a default MRO) with _HookedQueue inserted before the first of
    `own_classes` (fastchan's Queue, LifoQueue, PriorityQueue) if a class
    before it defines one of HOOKS; `order` unchanged otherwise."""
    for i, cls in enumerate(order):
        if cls in own_classes or cls is _HookedQueue:
            break
    else:
        return order
    if cls is _HookedQueue or not any(name in vars(c) for c in order[:i] for name in HOOKS):
        return order
    return [*order[:i], _HookedQueue, *order[i:]]
