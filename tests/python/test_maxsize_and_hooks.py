"""queue.Queue semantics the stdlib's own tests prove (issue 14): maxsize
assignable on a live queue, and subclasses overriding the hooks _init,
_qsize, _put, _get. No durations are asserted; items are counted exactly once."""

import asyncio
import collections
import queue as std_queue
import threading

import pytest

import fastchan
import fastchan.asyncio
from fastchan._hooked import _HookedQueue

CLASSES = [fastchan.Queue, fastchan.LifoQueue, fastchan.PriorityQueue]
DTYPES = [None, "int64", "float64"]
LONG = 30  # only ever a bound on a join that must succeed


def make(cls, maxsize, dtype):
    return cls(maxsize, dtype=dtype)


# -- maxsize ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", CLASSES)
def test_growing_wakes_blocked_thread_putters(cls, dtype):
    q = make(cls, 2, dtype)
    q.put(1)
    q.put(2)
    blocked = threading.Thread(target=lambda: [q.put(3), q.put(4)])
    blocked.start()
    q.maxsize = 4
    blocked.join(LONG)
    assert not blocked.is_alive()
    assert q.qsize() == 4 and q.full()
    assert sorted(q.get_nowait() for _ in range(4)) == [1, 2, 3, 4]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", CLASSES)
def test_shrinking_makes_puts_wait_until_below(cls, dtype):
    q = make(cls, 3, dtype)
    for i in range(3):
        q.put(i)
    q.maxsize = 2
    assert q.maxsize == 2 and q.qsize() == 3 and q.full()
    with pytest.raises(fastchan.Full):
        q.put_nowait(9)
    q.get()
    with pytest.raises(fastchan.Full):  # 2 items, bound 2
        q.put_nowait(9)
    q.get()
    q.put_nowait(9)
    assert q.qsize() == 2


@pytest.mark.parametrize("order", [(fastchan.Queue, [0, 1, 2, 3, 4]), (fastchan.LifoQueue, [4, 3, 2, 1, 0])])
@pytest.mark.parametrize("new", [2, 10, 100_000, 0, -1])
def test_changing_the_bound_keeps_every_item_in_order(order, new):
    cls, expected = order
    q = cls(5)
    for i in range(5):
        q.put(i)
    q.maxsize = new
    assert q.maxsize == new and q.qsize() == 5
    assert [q.get_nowait() for _ in range(5)] == expected
    assert q.full() == (0 < new <= 0) and q.empty()


def test_unbounded_after_zero():
    q = fastchan.Queue(1)
    q.put(0)
    q.maxsize = 0
    for i in range(1, 1000):
        q.put_nowait(i)
    assert q.get_many(2000) == list(range(1000))


def test_both_views_share_the_bound():
    aq = fastchan.asyncio.Queue(2)
    sq = aq.sync_q
    sq.maxsize = 5
    assert aq.maxsize == 5 and fastchan.Queue(1).async_q.maxsize == 1
    t = fastchan.Queue(1, dtype="int64")
    t.async_q.maxsize = 3
    assert t.maxsize == 3


@pytest.mark.parametrize("dtype", [None, "int64"])
def test_growing_wakes_asyncio_putters_of_either_view(dtype):
    sq = fastchan.Queue(1, dtype=dtype)
    sq.put(1)
    aq = sq.async_q

    async def main():
        putter = asyncio.ensure_future(aq.put(2))
        await asyncio.sleep(0)
        assert not putter.done()  # blocked: the queue is full
        sq.maxsize = 2  # from the thread view
        await asyncio.wait_for(putter, LONG)

    asyncio.run(main())
    assert [sq.get_nowait(), sq.get_nowait()] == [1, 2]


def test_growing_from_another_thread_wakes_an_asyncio_putter():
    aq = fastchan.asyncio.Queue(1)

    async def main():
        await aq.put(1)
        grower = threading.Thread(target=lambda: setattr(aq.sync_q, "maxsize", 3))
        putter = asyncio.ensure_future(aq.put(2))
        await asyncio.sleep(0)
        grower.start()
        await asyncio.wait_for(putter, LONG)
        grower.join()
        return [await aq.get(), await aq.get()]

    assert asyncio.run(main()) == [1, 2]


@pytest.mark.parametrize("bad, error", [("3", TypeError), (1e300, OverflowError), (True, TypeError), (None, TypeError),
                                        (2**70, OverflowError)])
def test_a_bad_maxsize_names_itself_and_leaves_the_queue(bad, error):
    q = fastchan.Queue(3)
    q.put("a")
    with pytest.raises(error) as info:
        q.maxsize = bad
    if error is TypeError:
        assert repr(bad) in str(info.value) and "maxsize" in str(info.value)
    assert q.maxsize == 3 and q.qsize() == 1 and q.get_nowait() == "a"


@pytest.mark.parametrize("dtype", [None, "int64"])
def test_bound_changes_under_concurrent_traffic_lose_and_duplicate_nothing(dtype):
    q = fastchan.Queue(4, dtype=dtype)  # a ring: the first change replaces it
    n_producers, per = 4, 3000
    got = []
    lock = threading.Lock()

    def produce(p):
        items = [p * per + i for i in range(per)]
        for k in range(0, per, 100):
            if k % 200:
                q.put_many(items[k:k + 100])
            else:
                for x in items[k:k + 100]:
                    q.put(x)

    def consume():
        while True:
            try:
                batch = q.get_many(50)
            except fastchan.ShutDown:  # shut down and drained
                return
            with lock:
                got.extend(batch)

    producers = [threading.Thread(target=produce, args=(p,)) for p in range(n_producers)]
    consumers = [threading.Thread(target=consume) for _ in range(2)]
    for t in producers + consumers:
        t.start()
    for size in [8, 2, 100, 1, 70_000, 3, 0, 5] * 5:
        q.maxsize = size
    q.maxsize = 16
    for t in producers:
        t.join()
    q.shutdown()
    for t in consumers:
        t.join()
    assert collections.Counter(got) == collections.Counter(range(n_producers * per))


def test_each_producer_order_survives_a_ring_replacement():
    q = fastchan.Queue(8)
    for i in range(8):
        q.put(i)
    producer = threading.Thread(target=lambda: [q.put(i) for i in range(8, 20)])
    producer.start()
    q.maxsize = 30
    producer.join(LONG)
    assert [q.get_nowait() for _ in range(20)] == list(range(20))


# -- subclass hooks -------------------------------------------------------------

def recording(base):
    class Recording(base):
        def _init(self, maxsize):
            self.calls = [("_init", maxsize)]
            base._init(self, maxsize)

        def _qsize(self):
            self.calls.append(("_qsize",))
            return base._qsize(self)

        def _put(self, item):
            self.calls.append(("_put", item))
            base._put(self, item)

        def _get(self):
            item = base._get(self)
            self.calls.append(("_get", item))
            return item

    return Recording


@pytest.mark.parametrize("names", [("Queue",), ("LifoQueue",), ("PriorityQueue",)])
def test_hooks_are_called_as_the_stdlib_calls_them(names):
    def script(q):
        q.put(3)
        q.put(1)
        q.put_nowait(2)
        out = [q.get(), q.get_nowait(), q.qsize(), q.empty(), q.full(), q.get(timeout=1)]
        with pytest.raises(Exception):
            q.get_nowait()
        q.shutdown(immediate=False) if hasattr(q, "shutdown") else None
        return out

    std = recording(getattr(std_queue, names[0]))(5)
    fast = recording(getattr(fastchan, names[0]))(5)
    assert script(fast) == script(std)
    if hasattr(std_queue.Queue, "shutdown"):
        assert fast.calls == std.calls
    assert isinstance(fast.queue, type(std.queue))


def test_native_classes_keep_the_native_path():
    class Plain(fastchan.Queue):
        def put(self, item, block=True, timeout=None):
            super().put(item, block, timeout)

    for cls in CLASSES + [Plain]:
        assert not issubclass(cls, _HookedQueue)
        assert not hasattr(cls(), "queue")
    assert issubclass(recording(fastchan.LifoQueue), _HookedQueue)


def test_a_subclass_put_may_call_super_on_the_hook_path():
    class Logged(recording(fastchan.Queue)):
        def put(self, item, block=True, timeout=None):
            self.calls.append(("put", item))
            super().put(item, block, timeout)

    q = Logged(2)
    q.put("x")
    assert q.calls == [("_init", 2), ("put", "x"), ("_qsize",), ("_put", "x")]
    assert q.get() == "x" and q.unfinished_tasks == 1
    q.task_done()
    q.join()


class Failing(fastchan.Queue):
    fail = None

    def _put(self, item):
        if self.fail == "put":
            raise RuntimeError("put hook")
        super()._put(item)

    def _get(self):
        if self.fail == "get":
            raise RuntimeError("get hook")
        return super()._get()


def test_a_raising_hook_leaves_the_queue_consistent():
    q = Failing(2)
    q.put(1)
    q.fail = "put"
    with pytest.raises(RuntimeError):
        q.put(2)
    assert q.qsize() == 1 and q.unfinished_tasks == 1 and list(q.queue) == [1]
    q.fail = "get"
    with pytest.raises(RuntimeError):
        q.get()
    assert q.qsize() == 1
    q.fail = None
    q.put(2)
    assert q.full() and [q.get(), q.get()] == [1, 2]


def test_mutex_excludes_the_queues_operations():
    q = Failing()
    done = threading.Event()
    worker = threading.Thread(target=lambda: (q.put("x"), done.set()))
    with q.mutex:
        worker.start()
        assert not done.wait(0.2)  # the put cannot run while we hold the lock
        assert len(q.queue) == 0
    worker.join(LONG)
    assert done.is_set() and list(q.queue) == ["x"]


def test_hooked_growth_wakes_putters_and_maxsize_is_checked():
    q = Failing(1)
    q.put(1)
    blocked = threading.Thread(target=q.put, args=(2,))
    blocked.start()
    q.maxsize = 2
    blocked.join(LONG)
    assert not blocked.is_alive() and q.qsize() == 2
    with pytest.raises(TypeError, match="'big'"):
        q.maxsize = "big"
    assert q.maxsize == 2


def test_hooked_batches_work_and_views_are_refused():
    q = Failing(5)
    q.put_many([1, 2, 3])
    assert q.get_many(10) == [1, 2, 3]
    with pytest.raises(ValueError):
        q.get_many(1, as_array=True)
    with pytest.raises(TypeError, match="overrides queue hooks"):
        q.async_q
    with pytest.raises(TypeError, match="dtype"):
        Failing(1, dtype="int64")
    assert q.sync_q is q


def test_hooked_shutdown_and_join():
    q = Failing()
    q.put(1)
    q.put(2)
    q.shutdown(immediate=True)
    assert q.qsize() == 0 and q.unfinished_tasks == 0
    q.join()
    with pytest.raises(fastchan.ShutDown):
        q.put(3)
    with pytest.raises(fastchan.ShutDown):
        q.get()
