"""fastchan's queues against the stdlib queue module's documented behaviour."""

import queue
import sys
import threading
import time
import types

import pytest

import fastchan


def drain(q):
    return [q.get_nowait() for _ in range(q.qsize())]


def test_orders():
    items = [5, 1, 4, 2, 3]
    fifo, lifo, prio = fastchan.Queue(), fastchan.LifoQueue(), fastchan.PriorityQueue()
    for q in (fifo, lifo, prio):
        for x in items:
            q.put(x)
    assert drain(fifo) == items
    assert drain(lifo) == items[::-1]
    assert drain(prio) == sorted(items)


def test_priority_matches_heapq_with_ties():
    import heapq
    import random

    rng = random.Random(7)
    entries = [(rng.randrange(5), i) for i in range(300)]
    q, ref = fastchan.PriorityQueue(), []
    for e in entries:
        q.put(e)
        heapq.heappush(ref, e)
    assert drain(q) == [heapq.heappop(ref) for _ in range(len(entries))]


def test_simple_queue_fifo_and_interface():
    q = fastchan.SimpleQueue()
    assert q.empty() and q.qsize() == 0
    for x in range(5):
        q.put(x)
    q.put_nowait(5)
    q.put(6, block=False, timeout=1)
    assert q.qsize() == 7 and not q.empty()
    assert [q.get() for _ in range(3)] + [q.get_nowait()] + [q.get(False), q.get(True, 1), q.get(timeout=1)] == list(range(7))
    with pytest.raises(queue.Empty):
        q.get_nowait()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)
    assert not hasattr(q, "task_done") and not hasattr(q, "shutdown")


def test_sizes(queue_class):
    q = queue_class(2)
    assert q.maxsize == 2 and q.qsize() == 0 and q.empty() and not q.full()
    q.put(1)
    assert q.qsize() == 1 and not q.empty() and not q.full()
    q.put(2)
    assert q.full()
    with pytest.raises(queue.Full):
        q.put_nowait(3)
    with pytest.raises(queue.Full):
        q.put(3, block=False)
    with pytest.raises(queue.Full):
        q.put(3, timeout=0.01)
    assert q.qsize() == 2


@pytest.mark.parametrize("maxsize", [0, -1, -100])
def test_nonpositive_maxsize_is_unbounded(queue_class, maxsize):
    q = queue_class(maxsize)
    for x in range(10000):
        q.put_nowait(x)
    assert q.qsize() == 10000 and not q.full() and q.maxsize == maxsize


def test_large_bound_is_enforced():
    q = fastchan.Queue(100000)  # beyond the ring size: the growable buffer
    for x in range(100000):
        q.put_nowait(x)
    assert q.full()
    with pytest.raises(queue.Full):
        q.put_nowait(0)
    assert q.get_nowait() == 0


def test_get_timeout_raises_empty_after_the_timeout(queue_class):
    q = queue_class()
    start = time.monotonic()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.1)
    assert time.monotonic() - start >= 0.09
    with pytest.raises(queue.Empty):
        q.get(block=False, timeout=-1)  # timeout ignored when not blocking, as in the stdlib
    with pytest.raises(queue.Empty):
        q.get(timeout=0)


def test_put_timeout_raises_full_after_the_timeout(queue_class):
    q = queue_class(1)
    q.put("a")
    start = time.monotonic()
    with pytest.raises(queue.Full):
        q.put("b", timeout=0.1)
    assert time.monotonic() - start >= 0.09
    assert drain(q) == ["a"]


def test_blocking_get_wakes_on_put(queue_class):
    q = queue_class()
    result = []
    t = threading.Thread(target=lambda: result.append(q.get()))
    t.start()
    time.sleep(0.05)
    assert result == []
    q.put("x")
    t.join(5)
    assert result == ["x"]


def test_blocking_put_wakes_on_get(queue_class):
    q = queue_class(1)
    q.put(1)
    done = threading.Event()

    def putter():
        q.put(2)
        done.set()

    t = threading.Thread(target=putter)
    t.start()
    assert not done.wait(0.05)
    assert q.get() == 1
    t.join(5)
    assert done.is_set() and q.get_nowait() == 2


def test_items_keep_identity_and_any_type(queue_class):
    q = queue_class()
    if queue_class is fastchan.PriorityQueue:
        objs = [(i, obj) for i, obj in enumerate([None, [1], {"a": 1}, object()])]
    else:
        objs = [None, [1], {"a": 1}, object(), q]
    for o in objs:
        q.put(o)
    out = drain(q)
    assert sorted(map(id, out)) == sorted(map(id, objs))


def test_references_are_released(queue_class):
    class Item:
        def __lt__(self, other):
            return id(self) < id(other)

    item = Item()
    base = sys.getrefcount(item)
    q = queue_class()
    q.put(item)
    assert sys.getrefcount(item) == base + 1
    assert q.get() is item
    assert sys.getrefcount(item) == base
    q.put(item)
    q.put(item)
    del q
    assert sys.getrefcount(item) == base


def test_task_done_and_join(queue_class):
    q = queue_class()
    for x in range(5):
        q.put(x)
    assert q.unfinished_tasks == 5
    joined = threading.Event()
    t = threading.Thread(target=lambda: (q.join(), joined.set()))
    t.start()
    for _ in range(5):
        q.get()
        assert not joined.wait(0.01)
        q.task_done()
    t.join(5)
    assert joined.is_set() and q.unfinished_tasks == 0
    q.join()  # returns at once


def test_task_done_too_many_times(queue_class):
    q = queue_class()
    q.put(1)
    q.get()
    q.task_done()
    with pytest.raises(ValueError, match="task_done"):
        q.task_done()
    assert q.unfinished_tasks == 0
    q.put(2)
    assert q.unfinished_tasks == 1 and q.get() == 2


def test_shutdown_graceful(queue_class):
    q = queue_class()
    q.put(1)
    q.put(2)
    assert not q.is_shutdown
    q.shutdown()
    assert q.is_shutdown
    with pytest.raises(fastchan.ShutDown):
        q.put(3)
    with pytest.raises(fastchan.ShutDown):
        q.put_nowait(3)
    assert sorted([q.get(), q.get_nowait()]) == [1, 2]
    with pytest.raises(fastchan.ShutDown):
        q.get()
    with pytest.raises(fastchan.ShutDown):
        q.get_nowait()
    assert q.unfinished_tasks == 2  # graceful shutdown does not count items done
    q.shutdown()  # idempotent


def test_shutdown_immediate_drops_and_releases_join(queue_class):
    q = queue_class()
    for x in range(3):
        q.put(x)
    q.get()
    q.task_done()
    joined = threading.Event()
    t = threading.Thread(target=lambda: (q.join(), joined.set()))
    t.start()
    assert not joined.wait(0.05)
    q.shutdown(immediate=True)
    t.join(5)
    assert joined.is_set()
    assert q.unfinished_tasks == 0 and q.qsize() == 0
    with pytest.raises(fastchan.ShutDown):
        q.get(timeout=1)
    with pytest.raises(fastchan.ShutDown):
        q.put(1)


def test_shutdown_wakes_blocked_getters_and_putters(queue_class):
    empty, full = queue_class(), queue_class(1)
    full.put(0)
    outcomes = []

    def call(fn):
        try:
            fn()
            outcomes.append("returned")
        except fastchan.ShutDown:
            outcomes.append("shutdown")

    threads = [threading.Thread(target=call, args=(empty.get,)) for _ in range(3)]
    threads += [threading.Thread(target=call, args=(lambda: full.put(1),)) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    assert outcomes == []
    empty.shutdown()
    full.shutdown()
    for t in threads:
        t.join(5)
    assert outcomes == ["shutdown"] * 6
    assert full.get_nowait() == 0  # what was buffered stays receivable


def test_immediate_shutdown_wakes_blocked_getter(queue_class):
    q = queue_class()
    errors = []
    t = threading.Thread(target=lambda: errors.append(pytest.raises(fastchan.ShutDown, q.get)))
    t.start()
    time.sleep(0.05)
    q.shutdown(immediate=True)
    t.join(5)
    assert len(errors) == 1


def test_exception_hierarchy():
    import asyncio

    assert issubclass(fastchan.Empty, queue.Empty)
    assert issubclass(fastchan.Full, queue.Full)
    assert issubclass(fastchan.Empty, asyncio.QueueEmpty)
    assert issubclass(fastchan.Full, asyncio.QueueFull)
    if sys.version_info >= (3, 13):
        assert issubclass(fastchan.ShutDown, queue.ShutDown)
        assert issubclass(fastchan.ShutDown, asyncio.QueueShutDown)
    q = fastchan.Queue(1)
    try:
        q.get_nowait()
    except queue.Empty:
        pass
    q.put(1)
    try:
        q.put_nowait(2)
    except queue.Full:
        pass


def test_generic_alias():
    for cls in (fastchan.Queue, fastchan.LifoQueue, fastchan.PriorityQueue, fastchan.SimpleQueue):
        alias = cls[int]
        assert isinstance(alias, types.GenericAlias)
        assert alias.__origin__ is cls and alias.__args__ == (int,)


def test_subclassing_keeps_working():
    class Tagged(fastchan.Queue):
        def put_tagged(self, x):
            self.put(("tag", x))

    q = Tagged(4)
    q.put_tagged(1)
    assert q.get() == ("tag", 1) and isinstance(q, fastchan.Queue)
