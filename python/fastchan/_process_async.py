"""ProcessQueue.async_q: a fastchan.ProcessQueue awaited by asyncio tasks.

    item = await q.async_q.get()
    await q.async_q.put(item)

in any process the queue reaches, any number of tasks and loops, with no
thread per waiting task:

- A task tries the non-blocking operation (get_nowait, a put of the pickled
  item without waiting) and returns if it went through.
- If it would block, it reads the side's sequence word (``_seq``: every put
  moves the items word, every get the space word, shutdown both), tries
  again, and if that would block too registers a future of its loop with its
  process's watcher of the ring, and awaits it.
- The watcher is one daemon thread per ring and process, started by the
  first task that waits and ended when no task has waited for _LINGER
  seconds; a forked child starts its own (the parent's is not its). It parks
  in ``_watch`` (cpp/src/process/ring_watch.hpp): GIL released, counted in the
  ring's waiters as a blocking get or put is, so every commit in any process
  wakes it. When the word moves it wakes, through each loop's LoopWaker (one
  write per loop and burst), as many of the tasks waiting on it as can go
  on: as many gets as there are items, as many puts as maxsize leaves room
  for (one when only the bytes bound the ring), everybody after shutdown.
- A woken task tries again, in its loop's thread. An item is taken only by
  the operation that returns it, so a cancelled task (asyncio.wait_for's or
  asyncio.timeout's timeout, task.cancel()) loses and duplicates nothing. No
  wake-up is lost either: a task woken but cancelled before it tried again,
  and a woken task that went through and sees more to do, wake the next
  task waiting on that side.

Shutdown wakes every waiting task: gets drain, then raise ShutDown; puts
raise ShutDown, as the blocking calls do. A task waiting on both sides of
one ring at once, in one process, is rare (an item that does not fit a ring
that has items in it, while another task waits for items): the watcher
then parks on each word in turn, _MIXED_SLICE at a time.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import pickle
import threading
from collections import OrderedDict

from ._errors import Empty, Full, ShutDown, add_note
from ._loops.asyncio import waker_for
from ._typing import TYPE_CHECKING, Generic, T

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, Optional

    from ._core import LoopWaker
    from .process_queue import ProcessQueue

__all__ = ["AsyncProcessQueue"]

ITEMS, SPACE = False, True  # the sides (the native methods' `space` argument)

# How long a watcher whose last task left waits for another before its
# thread ends (a task that waits for every item would otherwise start a
# thread per item).
_LINGER = 0.25
# The longest a watcher parks without looking again on its own: only a kick
# that came in the instant before its park (ring_watch.hpp) needs it.
_BACKSTOP = 1.0
# Its park on one word while tasks wait on both sides.
_MIXED_SLICE = 0.005

_PROTOCOL = 5
_dumps = pickle.dumps
_loads = pickle.loads
_get_running_loop = asyncio.get_running_loop


class _Entry:
    """One waiting task's registration: woken (under the lock) once the
    watcher or a peer chose it; its future is then completed by its loop."""

    __slots__ = ("future", "waker", "woken")

    def __init__(self, future: asyncio.Future[None], waker: LoopWaker) -> None:
        self.future = future
        self.waker = waker
        self.woken = False


class _Watcher:
    """The tasks of this process waiting on one ring (by segment name), and
    the thread that waits for them. Guarded by _State.lock."""

    __slots__ = ("name", "waiting", "woken", "synced", "ring", "thread", "parked", "idle", "turn")

    def __init__(self, name: str, lock: threading.Lock) -> None:
        self.name = name
        # Per side (ITEMS, SPACE): the waiting entries, in arrival order (a
        # woken task that has to wait again goes first).
        self.waiting: tuple[OrderedDict[_Entry, None], OrderedDict[_Entry, None]] = (OrderedDict(), OrderedDict())
        # Per side: tasks woken that have not tried again yet (a move wakes
        # as many more as can go on besides them).
        self.woken = [0, 0]
        # Per side: the word's value its waiting entries wait to move from.
        self.synced = [0, 0]
        self.ring: Optional[ProcessQueue[Any]] = None  # what the thread parks through (its kicks are that object's)
        self.thread: Optional[threading.Thread] = None
        self.parked: Optional[bool] = None  # the side the thread is parked on
        self.idle = threading.Condition(lock)  # the thread lingers on it
        self.turn = ITEMS  # which word a mixed park takes next

    def take(self, side: bool, n: int) -> list[_Entry]:
        """The first n waiting entries of `side`, chosen (lock held)."""
        waiting = self.waiting[side]
        chosen: list[_Entry] = []
        for entry in waiting:
            if len(chosen) == n:
                break
            entry.woken = True
            chosen.append(entry)
        for entry in chosen:
            del waiting[entry]
        self.woken[side] += len(chosen)
        return chosen

    def let_go(self) -> None:
        """Nobody waits any more: the park ends now, the thread lingers (lock held)."""
        if self.parked is not None and self.ring is not None:
            self.ring._kick(self.parked)
        self.idle.notify()

    def budget(self, ring: ProcessQueue[Any], side: bool) -> int:
        """How many waiting tasks of `side` to wake after a move: as many as
        can go on besides those woken already, at least one (lock held)."""
        waiting = len(self.waiting[side])
        if ring.is_shutdown:
            return waiting
        if side is ITEMS:
            n = ring.qsize()
        else:
            maxsize = ring.maxsize
            n = maxsize - ring.qsize() if maxsize else 1
        return min(waiting, max(1, n - self.woken[side]))


class _State:
    """This process's watchers. A forked child makes its own: the parent's
    threads did not come along, and the lock may have been held."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.watchers: dict[str, _Watcher] = {}
        self.exiting = False


_state = _State()


def _current() -> _State:
    global _state
    if _state.pid != os.getpid():  # (forked without the at-fork hook: os.fork always runs it)
        _state = _State()
    return _state


def _after_fork_in_child() -> None:
    global _state
    _state = _State()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _stop_watchers() -> None:
    """At exit, before the queues let go of their segments (atexit runs this
    first): parked watchers leave the ring's waiter counts."""
    state = _state
    with state.lock:
        state.exiting = True
        threads = []
        for watcher in state.watchers.values():
            watcher.let_go()
            watcher.idle.notify_all()
            if watcher.thread is not None:
                threads.append(watcher.thread)
    for thread in threads:
        thread.join(0.1)


def _wake(state: _State, watcher: _Watcher, side: bool, entries: list[_Entry]) -> None:
    """Completes the chosen entries' futures through their loops' wakers
    (no lock held). An entry whose loop is closed will never try again: its
    wake-up goes to the next waiting task of its side."""
    while entries:
        lost = 0
        for entry in entries:
            if not entry.waker.wake(entry.future):
                lost += 1
        if not lost:
            return
        with state.lock:
            watcher.woken[side] -= lost
            entries = watcher.take(side, lost)


def _run(state: _State, watcher: _Watcher, ring: ProcessQueue[Any]) -> None:
    """The watcher's thread."""
    lock = state.lock
    while True:
        woken: list[tuple[bool, list[_Entry]]] = []
        park: Optional[bool] = None
        with lock:
            if state.exiting:
                watcher.thread = watcher.ring = None
                return
            for side in (ITEMS, SPACE):
                if watcher.waiting[side]:
                    now = ring._seq(side)
                    if now != watcher.synced[side]:
                        watcher.synced[side] = now
                        woken.append((side, watcher.take(side, watcher.budget(ring, side))))
            sides = [side for side in (ITEMS, SPACE) if watcher.waiting[side]]
            if not sides and not woken:
                watcher.idle.wait(_LINGER)  # (a task that registers notifies it)
                if not watcher.waiting[ITEMS] and not watcher.waiting[SPACE]:
                    watcher.thread = watcher.ring = None
                    if state.watchers.get(watcher.name) is watcher:
                        del state.watchers[watcher.name]
                    return
                continue
            if sides:
                if len(sides) == 1:
                    park, timeout = sides[0], _BACKSTOP
                else:
                    park, timeout = watcher.turn, _MIXED_SLICE
                    watcher.turn = not watcher.turn
                seen, kicks = watcher.synced[park], ring._kicks()
                watcher.parked = park
        for side, entries in woken:
            _wake(state, watcher, side, entries)
        if park is not None:
            try:
                ring._watch(park, seen, kicks, timeout)  # (GIL released)
            except BaseException:  # (an OSError: the tasks see it again when they try)
                _abandon(state, watcher)
                return
            with lock:
                watcher.parked = None


def _abandon(state: _State, watcher: _Watcher) -> None:
    """The thread cannot wait: it ends, and wakes every waiting task, which
    tries again (and starts another thread if it must wait)."""
    with state.lock:
        watcher.parked = None
        watcher.thread = watcher.ring = None
        if state.watchers.get(watcher.name) is watcher:
            del state.watchers[watcher.name]
        woken = [(side, watcher.take(side, len(watcher.waiting[side]))) for side in (ITEMS, SPACE)]
    for side, entries in woken:
        _wake(state, watcher, side, entries)


def _start(state: _State, watcher: _Watcher, ring: ProcessQueue[Any]) -> None:
    """Starts the watcher's thread (lock held)."""
    watcher.ring = ring
    thread = threading.Thread(target=_run, args=(state, watcher, ring),
                              name=f"fastchan-process-watch {watcher.name}", daemon=True)
    watcher.thread = thread
    try:
        thread.start()
    except BaseException:
        watcher.thread = watcher.ring = None
        raise


async def _wait(q: ProcessQueue[Any], side: bool, seen: int, again: bool = False) -> Optional[_Watcher]:
    """Waits until the side's word may have moved from `seen` (read before
    the attempt that would have blocked). Returns the watcher if it woke
    this task, which must then tell it how its next attempt went (_tried).
    again: the task was woken and must wait again; it goes first."""
    loop = _get_running_loop()
    entry = _Entry(loop.create_future(), waker_for(loop))
    state = _current()
    with state.lock:
        if q._seq(side) != seen:
            watcher = None  # moved since the attempt: try again
        else:
            watcher = state.watchers.get(q.name)
            if watcher is None:
                watcher = state.watchers[q.name] = _Watcher(q.name, state.lock)
            _register(state, watcher, q, side, seen, entry, again)
    if watcher is None:
        await asyncio.sleep(0)  # (a word that keeps moving must not starve the loop)
        return None
    try:
        await entry.future
    except BaseException:  # cancelled (a timeout), or the coroutine closed
        with state.lock:
            if entry.woken:  # the wake-up it was given goes on
                watcher.woken[side] -= 1
                handed = watcher.take(side, 1)
            else:
                handed = []
                watcher.waiting[side].pop(entry, None)
                if not watcher.waiting[ITEMS] and not watcher.waiting[SPACE]:
                    watcher.let_go()
        if handed:
            _wake(state, watcher, side, handed)
        raise
    return watcher


def _register(state: _State, watcher: _Watcher, q: ProcessQueue[Any], side: bool, seen: int, entry: _Entry,
              again: bool) -> None:
    """Lock held: `entry` waits for the side's word to move from `seen` (its
    value now); the thread starts, or looks, if it must."""
    waiting = watcher.waiting[side]
    if not waiting:
        watcher.synced[side] = seen
    waiting[entry] = None
    if again:
        waiting.move_to_end(entry, last=False)
    if watcher.thread is None:
        try:
            _start(state, watcher, q)
        except BaseException:
            del waiting[entry]
            raise
        return
    if watcher.parked is not None and watcher.parked is not side and watcher.ring is not None:
        watcher.ring._kick(watcher.parked)  # (parked on the other word: it looks again, then parks on both in turn)
    watcher.idle.notify()  # (if it lingers)


def _tried(watcher: Optional[_Watcher], side: bool, more: bool) -> None:
    """A woken task tried again. more: its attempt went through and others
    of its side may go on too, or it failed otherwise than by would-block
    (ShutDown...): the next waiting task of the side is woken."""
    if watcher is None:
        return
    state = _current()
    with state.lock:
        watcher.woken[side] -= 1
        handed = watcher.take(side, 1) if more else []
    if handed:
        _wake(state, watcher, side, handed)


class AsyncProcessQueue(Generic[T]):
    """The asyncio interface of a fastchan.ProcessQueue (``q.async_q``): the
    same queue, with awaitable get/put/get_many/put_many. The other methods
    are the queue's."""

    __slots__ = ("_q",)

    def __init__(self, queue: ProcessQueue[T]) -> None:
        self._q = queue

    @property
    def sync_q(self) -> ProcessQueue[T]:
        """The queue itself (its blocking interface)."""
        return self._q

    @property
    def maxsize(self) -> int:
        return self._q.maxsize

    def qsize(self) -> int:
        return self._q.qsize()

    def empty(self) -> bool:
        return self._q.empty()

    def full(self) -> bool:
        return self._q.full()

    @property
    def is_shutdown(self) -> bool:
        return self._q.is_shutdown

    def shutdown(self, immediate: bool = False) -> int:
        """As ProcessQueue.shutdown: waiting tasks and threads, in every
        process, wake; gets drain, then raise ShutDown."""
        return self._q.shutdown(immediate)

    def get_nowait(self) -> T:
        return self._q.get_nowait()

    def put_nowait(self, item: T) -> None:
        self._q.put_nowait(item)

    async def get(self) -> T:
        """Remove and return an item, waiting for one (no thread blocks).
        ShutDown once shut down and drained."""
        q = self._q
        try:
            return q.get_nowait()
        except Empty:
            pass
        woken = None
        while True:
            seen = q._seq(ITEMS)
            try:
                item: T = q.get_nowait()
            except Empty:
                _tried(woken, ITEMS, False)
                woken = await _wait(q, ITEMS, seen, woken is not None)
                continue
            except BaseException:
                _tried(woken, ITEMS, True)
                raise
            if woken is not None:
                _tried(woken, ITEMS, not q.empty())
            return item

    async def put(self, item: T) -> None:
        """Pickle `item` (now: a pickling error is raised here; a typed
        queue's conversion error at the first try) and put it, waiting for
        room (no thread blocks). ShutDown after shutdown()."""
        q = self._q
        if q.dtype is None:
            data = _dumps(item, _PROTOCOL)
            def attempt() -> None:
                q._put_bytes(data, False)
        else:  # (a typed ring takes C values: the native put converts them)
            def attempt() -> None:
                q.put_nowait(item)
        try:
            attempt()
            return
        except Full:
            pass
        woken = None
        while True:
            seen = q._seq(SPACE)
            try:
                attempt()
            except Full:
                _tried(woken, SPACE, False)
                woken = await _wait(q, SPACE, seen, woken is not None)
                continue
            except BaseException:
                _tried(woken, SPACE, True)
                raise
            if woken is not None:
                _tried(woken, SPACE, not q.full())
            return

    async def get_many(self, max_items: int) -> list[T]:
        """Wait for an item as get() does, then take what else is there: 1 to
        max_items items, in order."""
        q = self._q
        woken = None
        seen = None
        while True:
            try:
                if q.dtype is None:
                    items: list[T] = [_loads(data) for data in q._get_many_bytes(max_items, False)]
                else:
                    items = q._get_many_typed(max_items, False, False)
            except Empty:
                _tried(woken, ITEMS, False)
                if seen is None:
                    seen = q._seq(ITEMS)
                    woken = None
                    continue  # (read before an attempt)
                woken = await _wait(q, ITEMS, seen, woken is not None)
                seen = q._seq(ITEMS)
                continue
            except BaseException:
                _tried(woken, ITEMS, True)
                raise
            if woken is not None:
                _tried(woken, ITEMS, not q.empty())
            return items

    async def put_many(self, items: Iterable[T]) -> None:
        """Put every item, in order, waiting for room as put() does. All are
        pickled first (an unpicklable one: none went in); a typed queue's
        items are converted one by one as they go in (a bad one stops the
        batch there). A cancellation, a ShutDown or a bad typed item says in
        a note (from 3.11) how many items were put."""
        q = self._q
        typed = q.dtype is not None
        records: list[Any] = list(items) if typed else [_dumps(item, _PROTOCOL) for item in items]
        done = 0
        woken = None
        seen = None
        try:
            while True:
                try:
                    if typed:
                        try:
                            while done < len(records):
                                q.put_nowait(records[done])
                                done += 1
                        except Full:
                            pass
                    else:
                        done += q._put_some_bytes(records, done)
                except BaseException:
                    _tried(woken, SPACE, True)
                    raise
                if done == len(records):
                    if woken is not None:
                        _tried(woken, SPACE, not q.full())
                    return
                _tried(woken, SPACE, False)
                if seen is None:
                    seen = q._seq(SPACE)
                    woken = None
                    continue  # (read before an attempt)
                woken = await _wait(q, SPACE, seen, woken is not None)
                seen = q._seq(SPACE)
        except (asyncio.CancelledError, ShutDown) as error:
            add_note(error, f"put_many: {done} items were put")
            raise
        except (TypeError, ValueError, OverflowError) as error:
            if typed:
                add_note(error, f"put_many: {done} items were put")
            raise

    def __repr__(self) -> str:
        return f"<fastchan.ProcessQueue.async_q of {self._q!r}>"


def watching_threads() -> list[threading.Thread]:
    """This process's watcher threads (for tests and curiosity)."""
    state = _current()
    with state.lock:
        return [w.thread for w in state.watchers.values() if w.thread is not None]
