"""fastchan.ProcessQueue: a drop-in for multiprocessing.Queue on shared memory.

    q = fastchan.ProcessQueue(maxsize=0)            # bounded by nbytes only
    q = fastchan.ProcessQueue(1000, nbytes=1 << 24)  # at most 1000 items in 16 MiB
    multiprocessing.Process(target=work, args=(q,)).start()

Items are pickled (protocol 5) into a ring of byte records in a shared
memory segment (``/dev/shm/fastchan-<pid>-<random>``); any process the queue
reaches (fork, spawn, forkserver: the queue pickles to a handle that
re-attaches) puts and gets there directly. There is no feeder thread: ``put``
returns once the item is in the ring, and raises the pickling error of an
unpicklable item at once. An item whose pickle is larger than the ring
(``max_item_bytes``) is refused with ValueError naming both sizes: pass a
larger ``nbytes``.

``dtype="int64" | "float64" | "bytes"`` makes a typed queue: items are stored
as C values with no pickling (an 8-byte value each, or the raw bytes), a
wrong item is a TypeError naming it and the dtype (nothing goes in),
``put_many`` copies an array.array / memoryview of the dtype's format in
one go and ``get_many(n, as_array=True)`` returns an array.array. A C++
program reaches the same queue by its ``name`` (fastchan/shm/queue.hpp).

A process killed (even with SIGKILL) at any point leaves the queue usable to
the others: no deadlock, never a torn item. ``stats()`` says what happened:
``items_lost`` counts puts whose process died before the item was in. The
segment is removed when the last process lets go (``close()`` and exit, or
garbage collection), including when every other user was killed.
docs/process_queue.md has the design.
"""

from __future__ import annotations

import atexit
import pickle
import types
import weakref
from typing import overload

from . import _checks, _core
from ._base import check_as_array
from ._typing import TYPE_CHECKING, Generic, T

if TYPE_CHECKING:
    import array
    from collections.abc import Iterable
    from typing import Any, Literal

    from ._process_async import AsyncProcessQueue

__all__ = ["ProcessQueue", "DEFAULT_NBYTES"]

# The ring's default size: 4 MiB (the pages are RAM once touched).
DEFAULT_NBYTES = 4 << 20

_PROTOCOL = 5
_dumps = pickle.dumps
_loads = pickle.loads

# Every queue object of this process, to let go of at exit (a queue that
# lives in a module global may never be collected). Detaching leaves the
# mapping: a daemon thread still blocked in a get stays safe.
_live: weakref.WeakSet[ProcessQueue[Any]] = weakref.WeakSet()


@atexit.register
def _detach_all() -> None:
    for q in list(_live):
        try:
            q.detach()
        except (OSError, TypeError):
            pass


def _not_supported() -> NotImplementedError:
    return NotImplementedError(
        "fastchan.ProcessQueue needs Linux (shared memory with futexes and robust process-shared "
        "mutexes); this build of fastchan has none (FASTCHAN_PORTABLE, or another system)")


if TYPE_CHECKING or hasattr(_core, "_ProcessRing"):
    _Ring = _core._ProcessRing
else:  # a build without the shared ring: the class exists, its constructor refuses
    class _Ring:
        def __init__(self, *args: object) -> None:
            raise _not_supported()

        def __getattr__(self, name: str) -> Any:
            # Only an instance made without __init__ (which always raises
            # here) gets this far: the same TypeError as the native class.
            raise TypeError(f"{type(self).__name__} object is not initialized (__init__ was not called)")


_ANY = "any"


def _attach(name: str, dtype: str | None = _ANY) -> ProcessQueue[Any]:
    """Unpickling (and ProcessQueue.attach): a ProcessQueue on the segment
    `name`; ValueError if its dtype is not `dtype` (unless "any")."""
    q: ProcessQueue[Any] = ProcessQueue.__new__(ProcessQueue)
    _Ring.__init__(q, name)
    if dtype != _ANY and q.dtype != dtype:
        q.detach()
        raise ValueError(f"the queue {name} holds dtype {q.dtype!r} items, not {dtype!r}")
    _live.add(q)
    return q


class ProcessQueue(_Ring, Generic[T]):
    """A multi-producer, multi-consumer queue shared by processes.

    put, get, put_nowait and get_nowait are native (they pickle in C++);
    qsize, empty, full, shutdown, close, stats, name, maxsize, nbytes and
    max_item_bytes too."""

    def __init__(self, maxsize: int = 0, *, dtype: str | None = None, nbytes: int = DEFAULT_NBYTES,
                 ctx: object = None) -> None:
        # ctx: multiprocessing.Queue's; accepted and unused (any start method works).
        maxsize = _checks.count("maxsize", maxsize, minimum=-(2**63))
        nbytes = _checks.count("nbytes", nbytes, minimum=16)
        # (a maxsize beyond what the ring could ever hold is no limit: clamped)
        super().__init__(min(max(maxsize, 0), 2**63 - 1), nbytes, dtype)
        _live.add(self)

    @staticmethod
    def attach(name: str, *, dtype: str | None = _ANY) -> ProcessQueue[Any]:
        """The queue whose segment is `name` (its ``name``, e.g. made by a C++
        program). ValueError if given a dtype the queue does not have;
        OSError (ENOENT) if there is no such queue."""
        return _attach(name, dtype)

    if TYPE_CHECKING:  # the native methods, typed by the item type
        def put(self, obj: T, block: bool = True, timeout: float | None = None) -> None: ...
        def get(self, block: bool = True, timeout: float | None = None) -> T: ...
        def put_nowait(self, obj: T) -> None: ...
        def get_nowait(self) -> T: ...

    def __class_getitem__(cls, item: Any) -> types.GenericAlias:
        return types.GenericAlias(cls, item)

    def join_thread(self) -> None:
        """For multiprocessing.Queue's interface: there is no feeder thread,
        so nothing to wait for (a put has already happened when it returns)."""
        if not self._closed:
            raise ValueError(f"Queue {self!r} is not closed: join_thread() comes after close()")

    def cancel_join_thread(self) -> None:
        """For multiprocessing.Queue's interface: nothing to cancel."""
        self._closed  # (TypeError if not initialized)

    def put_many(self, items: Iterable[T], block: bool = True, timeout: float | None = None) -> None:
        """Put every item, in order. All are pickled (or, typed, converted)
        first: an unpicklable or wrong one means none went in. A typed queue
        copies a buffer of its dtype's format (array.array, memoryview) in
        one go. A batch stopped by Full or ShutDown says in its note how many
        went in."""
        if self.dtype is not None:
            self._put_many_typed(items, block, timeout)
            return
        if self._closed:
            raise ValueError(f"Queue {self!r} is closed")
        self._put_many_bytes([_dumps(item, _PROTOCOL) for item in items], block, timeout)

    @overload
    def get_many(self, max_items: int, block: bool = True, timeout: float | None = None, *,
                 as_array: Literal[False] = False) -> list[T]: ...
    @overload
    def get_many(self, max_items: int, block: bool = True, timeout: float | None = None, *,
                 as_array: bool) -> list[T] | array.array[Any]: ...

    def get_many(self, max_items: int, block: bool = True, timeout: float | None = None, *,
                 as_array: bool = False) -> list[T] | array.array[Any]:
        """Wait for one item as get() does, then take what else is there: 1 to
        `max_items` items, as a list, or with as_array (dtype int64/float64)
        as an array.array filled in one copy."""
        if self.dtype is not None:
            return self._get_many_typed(max_items, as_array, block, timeout)  # type: ignore[no-any-return]
        if as_array:
            check_as_array(self)
        return [_loads(data) for data in self._get_many_bytes(max_items, block, timeout)]

    @property
    def async_q(self) -> AsyncProcessQueue[T]:
        """The asyncio interface of this queue: ``await q.async_q.get()``,
        ``put``, ``get_many``, ``put_many``; no thread per waiting task
        (fastchan/_process_async.py). A new light view at each access."""
        from ._process_async import AsyncProcessQueue

        return AsyncProcessQueue(self)

    def __reduce__(self) -> tuple[Any, tuple[str, str | None]]:
        # (the dtype travels along: the child checks that the segment agrees)
        return (_attach, (self.name, self.dtype))

    def __repr__(self) -> str:
        dtype = "" if self.dtype is None else f" dtype={self.dtype}"
        return f"<fastchan.ProcessQueue {self.name} maxsize={self.maxsize}{dtype} nbytes={self.nbytes}>"
