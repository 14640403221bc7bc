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
import weakref

from . import _checks, _core
from ._typing import TYPE_CHECKING, Generic, T

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

__all__ = ["ProcessQueue", "DEFAULT_NBYTES"]

# The ring's default size: 4 MiB (the pages are RAM once touched).
DEFAULT_NBYTES = 4 << 20

_PROTOCOL = 5
_dumps = pickle.dumps
_loads = pickle.loads

# Every ring of this process, to let go of at exit (a queue that lives in a
# module global may never be collected). Detaching leaves the mapping: a
# daemon thread still blocked in a get stays safe.
_live: weakref.WeakSet[_core._ProcessRing] = weakref.WeakSet()


@atexit.register
def _detach_all() -> None:
    for ring in list(_live):
        try:
            ring.detach()
        except OSError:
            pass


def _not_supported() -> NotImplementedError:
    return NotImplementedError(
        "fastchan.ProcessQueue needs Linux (shared memory with futexes and robust process-shared "
        "mutexes); this build of fastchan has none (FASTCHAN_PORTABLE, or another system)")


def _attach(name: str) -> ProcessQueue[Any]:
    """Unpickling: a ProcessQueue on the segment `name`."""
    q: ProcessQueue[Any] = ProcessQueue.__new__(ProcessQueue)
    if not hasattr(_core, "_ProcessRing"):
        raise _not_supported()
    q._setup(_core._ProcessRing(name))
    return q


class ProcessQueue(Generic[T]):
    """A multi-producer, multi-consumer queue shared by processes."""

    def __init__(self, maxsize: int = 0, *, nbytes: int = DEFAULT_NBYTES, ctx: object = None) -> None:
        # ctx: multiprocessing.Queue's; accepted and unused (any start method works).
        maxsize = _checks.count("maxsize", maxsize, minimum=-(2**63))
        nbytes = _checks.count("nbytes", nbytes, minimum=16)
        if not hasattr(_core, "_ProcessRing"):
            raise _not_supported()
        # (a maxsize beyond what the ring could ever hold is no limit: clamped)
        self._setup(_core._ProcessRing(min(max(maxsize, 0), 2**63 - 1), nbytes))

    def _setup(self, ring: _core._ProcessRing) -> None:
        self._ring = ring
        self._closed = False
        _live.add(ring)

    def _open_ring(self) -> _core._ProcessRing:
        try:
            ring = self._ring
        except AttributeError:
            raise TypeError(f"{type(self).__name__} object is not initialized (__init__ was not called)") from None
        if self._closed:
            raise ValueError(f"Queue {self!r} is closed")
        return ring

    def _ring_of(self) -> _core._ProcessRing:  # (also after close)
        try:
            return self._ring
        except AttributeError:
            raise TypeError(f"{type(self).__name__} object is not initialized (__init__ was not called)") from None

    # ---- multiprocessing.Queue's interface ----

    def put(self, obj: T, block: bool = True, timeout: float | None = None) -> None:
        """Put `obj` (pickled now: a pickling error is raised here), waiting
        for room if `block` (at most `timeout` seconds, then Full)."""
        ring = self._open_ring()
        ring.put(_dumps(obj, _PROTOCOL), block, timeout)

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        """Remove and return an item, waiting for one if `block` (at most
        `timeout` seconds, then Empty). ShutDown once shut down and drained."""
        data = self._open_ring().get(block, timeout)
        return _loads(data)  # type: ignore[no-any-return]

    def put_nowait(self, obj: T) -> None:
        self._open_ring().put(_dumps(obj, _PROTOCOL), False)

    def get_nowait(self) -> T:
        return _loads(self._open_ring().get(False))  # type: ignore[no-any-return]

    def qsize(self) -> int:
        """The number of items now (another process may change it at once)."""
        return self._ring_of().qsize()

    def empty(self) -> bool:
        return self._ring_of().empty()

    def full(self) -> bool:
        return self._ring_of().full()

    def close(self) -> None:
        """No more puts or gets through this object in this process (ValueError
        then). The segment goes when its last user lets go: this process's
        attachment ends when the object is collected, or at exit."""
        self._ring_of()
        self._closed = True

    def join_thread(self) -> None:
        """For multiprocessing.Queue's interface: there is no feeder thread,
        so nothing to wait for (a put has already happened when it returns)."""
        self._ring_of()
        if not self._closed:
            raise ValueError(f"Queue {self!r} is not closed: join_thread() comes after close()")

    def cancel_join_thread(self) -> None:
        """For multiprocessing.Queue's interface: nothing to cancel."""
        self._ring_of()

    # ---- fastchan's additions ----

    def put_many(self, items: Iterable[T], block: bool = True, timeout: float | None = None) -> None:
        """Put every item, in order. All are pickled first: an unpicklable one
        means none went in. A batch stopped by Full or ShutDown says in its
        note how many went in."""
        ring = self._open_ring()
        ring.put_many([_dumps(item, _PROTOCOL) for item in items], block, timeout)

    def get_many(self, max_items: int, block: bool = True, timeout: float | None = None) -> list[T]:
        """Wait for one item as get() does, then take what else is there: 1 to
        `max_items` items."""
        return [_loads(data) for data in self._open_ring().get_many(max_items, block, timeout)]

    def shutdown(self, immediate: bool = False) -> None:
        """As queue.Queue.shutdown (3.13), for every process: puts raise
        ShutDown; gets drain what is there, then raise ShutDown; immediate:
        the items are dropped too. Every waiter wakes."""
        self._ring_of().shutdown(bool(immediate))

    @property
    def is_shutdown(self) -> bool:
        return self._ring_of().is_shutdown

    @property
    def maxsize(self) -> int:
        """Most items at once; 0: bounded by nbytes only."""
        return self._ring_of().maxsize

    @property
    def nbytes(self) -> int:
        """The ring's size in bytes."""
        return self._ring_of().nbytes

    @property
    def max_item_bytes(self) -> int:
        """The largest pickled item the ring takes."""
        return self._ring_of().max_item_bytes

    @property
    def name(self) -> str:
        """The shared memory segment's name (under /dev/shm)."""
        return self._ring_of().name

    def stats(self) -> dict[str, int]:
        """What happened to the queue's users, for every process:
        items_lost (puts whose process died before the item was in),
        owner_deaths (processes killed while they held the ring's lock),
        dead_attachments (processes that ended without letting go, whose
        places were reclaimed) and attached (live attachments now)."""
        return self._ring_of().stats()

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (_attach, (self._ring_of().name,))

    def __repr__(self) -> str:
        ring = self._ring_of()
        return f"<fastchan.ProcessQueue {ring.name} maxsize={ring.maxsize} nbytes={ring.nbytes}>"
