"""Bad input raises a clear, stdlib-style exception and leaves the queue intact."""

import queue
import sys

import pytest

import fastchan


@pytest.mark.parametrize("bad", ["x", "3", True, None, [3]])
def test_maxsize_must_be_a_number(queue_class, bad):
    with pytest.raises(TypeError, match="maxsize must be a number") as info:
        queue_class(bad)
    assert repr(bad) in str(info.value)


@pytest.mark.parametrize("maxsize, holds", [(1.3, 2), (2.0, 2), (0.5, 1), (-1.5, None), (0.0, None),
                                            (float("inf"), None), (float("nan"), None)])
def test_real_maxsize_bounds_as_the_stdlib_does(queue_class, maxsize, holds):
    # queue.Queue and asyncio.Queue are full once qsize() >= maxsize.
    import queue as std_queue
    q, model = queue_class(maxsize), std_queue.Queue(maxsize)
    for n in range(5):
        assert q.full() == model.full()
        if model.full():
            with pytest.raises(std_queue.Full):
                q.put_nowait(n)
            break
        q.put_nowait(n)
        model.put_nowait(n)
    assert q.qsize() == (5 if holds is None else holds)


def test_real_maxsize_too_large_is_refused():
    with pytest.raises(OverflowError, match="maxsize is too large"):
        fastchan.Queue(1e300)


def test_maxsize_accepts_index_objects():
    class Five:
        def __index__(self):
            return 5

    assert fastchan.Queue(Five()).maxsize == 5


def filled(queue_class):
    q = queue_class(5)
    for x in (3, 1, 2):
        q.put(x)
    return q


def snapshot(q):
    """Drains a copy-free view: gets everything, then puts it back in order."""
    items = [q.get_nowait() for _ in range(q.qsize())]
    for x in items:
        q.put_nowait(x)
    # LIFO puts back reversed order: rebuild so the snapshot is stable
    if isinstance(q, fastchan.LifoQueue):
        for _ in items:
            q.get_nowait()
        for x in reversed(items):
            q.put_nowait(x)
    return items


@pytest.mark.parametrize("bad", ["1", b"1", [1], 1j])
def test_timeout_must_be_a_number(queue_class, bad):
    q = filled(queue_class)
    before = snapshot(q)
    tasks = q.unfinished_tasks
    with pytest.raises(TypeError, match="timeout") as info:
        q.get(timeout=bad)
    assert repr(bad) in str(info.value) or type(bad).__name__ in str(info.value)
    with pytest.raises(TypeError, match="timeout"):
        q.put(9, timeout=bad)
    assert q.unfinished_tasks == tasks and snapshot(q) == before


@pytest.mark.parametrize("method", ["get", "put"])
def test_negative_timeout(queue_class, method):
    q = filled(queue_class)
    before = snapshot(q)
    tasks = q.unfinished_tasks
    call = (lambda: q.get(timeout=-1)) if method == "get" else (lambda: q.put(9, timeout=-1))
    with pytest.raises(ValueError, match="non-negative") as info:
        call()
    assert "-1" in str(info.value)
    assert q.unfinished_tasks == tasks and snapshot(q) == before


def test_nan_timeout(queue_class):
    q = filled(queue_class)
    with pytest.raises(ValueError, match="nan"):
        q.get(timeout=float("nan"))
    assert q.qsize() == 3


def test_argument_errors_name_the_problem(queue_class):
    q = filled(queue_class)
    with pytest.raises(TypeError, match="missing required argument 'item'"):
        q.put()
    with pytest.raises(TypeError, match="unexpected keyword argument 'blocking'"):
        q.get(blocking=False)
    with pytest.raises(TypeError, match="multiple values for argument 'block'"):
        q.get(True, block=True)
    with pytest.raises(TypeError, match="at most 3 arguments"):
        q.put(1, True, None, 4)
    with pytest.raises(TypeError):
        q.put_nowait()
    with pytest.raises(TypeError):
        q.shutdown(immediate="x", extra=1)
    assert q.qsize() == 3 and q.unfinished_tasks == 3


def test_block_uses_truth_value(queue_class):
    q = queue_class()
    with pytest.raises(queue.Empty):
        q.get(block=0)
    with pytest.raises(queue.Empty):
        q.get([])


def test_block_whose_truth_raises(queue_class):
    class Bad:
        def __bool__(self):
            raise RuntimeError("no truth")

    q = filled(queue_class)
    with pytest.raises(RuntimeError, match="no truth"):
        q.get(block=Bad())
    with pytest.raises(RuntimeError, match="no truth"):
        q.put(9, block=Bad())
    assert q.qsize() == 3


def test_uncomparable_priority_item_leaves_queue_intact():
    q = fastchan.PriorityQueue()
    for x in (5, 1, 4, 2, 3):
        q.put(x)
    with pytest.raises(TypeError, match="<"):
        q.put("text")
    assert q.qsize() == 5 and q.unfinished_tasks == 5
    assert [q.get() for _ in range(5)] == [1, 2, 3, 4, 5]


def test_comparison_that_raises_on_get_leaves_queue_intact():
    class Fragile:
        armed = False

        def __init__(self, v):
            self.v = v

        def __lt__(self, other):
            if Fragile.armed:
                raise RuntimeError("comparison failed")
            return self.v < other.v

    q = fastchan.PriorityQueue()
    for v in (5, 1, 4, 2, 3, 0, 6):
        q.put(Fragile(v))
    Fragile.armed = True
    with pytest.raises(RuntimeError, match="comparison failed"):
        q.get()
    assert q.qsize() == 7
    Fragile.armed = False
    assert [q.get().v for _ in range(7)] == [0, 1, 2, 3, 4, 5, 6]


def test_uninitialized_subclass_instance():
    class Broken(fastchan.Queue):
        def __init__(self):
            pass  # forgets super().__init__()

    with pytest.raises(TypeError):
        Broken()


# Capacities at the edges: each works at once or is refused at once.

@pytest.mark.parametrize("dtype", [None, "int64"])
@pytest.mark.parametrize("capacity", [2**16 + 1, 10**9, 2**62, 2**63 - 1])
def test_huge_channel_capacities_work_without_preallocating(capacity, dtype):
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ch = fastchan.Channel(capacity, dtype=dtype)
    assert ch.capacity == capacity
    ch.put_many(range(1000))
    assert ch.get_many(2000) == list(range(1000))
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 64 * 1024  # (Channel(10**9) used to commit 16 GB)


@pytest.mark.parametrize("capacity", [2**63, 2**64 - 2, 2**64, 10**30])
def test_channel_capacity_too_large_is_refused(capacity):
    with pytest.raises(OverflowError, match=str(capacity)):
        fastchan.Channel(capacity)


@pytest.mark.parametrize("cls", [fastchan.Queue, fastchan.LifoQueue, fastchan.PriorityQueue])
def test_huge_queue_maxsize(cls):
    q = cls(2**63 - 1)
    q.put_many(range(10))
    assert q.qsize() == 10
    with pytest.raises(OverflowError):
        cls(2**63)


def test_priority_shutdown_from_a_comparison_is_refused():
    """shutdown(immediate=True) from an item's __lt__ (the heap is mid-sift):
    the re-entrancy RuntimeError, and the queue as it was."""
    q = fastchan.PriorityQueue()

    class Item:
        def __init__(self, v):
            self.v = v

        def __lt__(self, other):
            q.shutdown(immediate=True)
            return self.v < other.v

    q.put(Item(1))
    with pytest.raises(RuntimeError, match="re-entered"):
        q.put(Item(0))
    assert not q.is_shutdown
    assert q.qsize() == 1
    assert q.get().v == 1


@pytest.mark.parametrize("make", [lambda: fastchan.Queue(dtype="int64"), lambda: fastchan.Channel(None, dtype="int64"),
                                  lambda: fastchan.Queue(), lambda: fastchan.Channel(None)],
                         ids=["Queue-int64", "Channel-int64", "Queue", "Channel"])
def test_put_many_refuses_buffers_that_are_not_one_dimensional(make):
    import array

    target = make()
    flat = memoryview(array.array("q", range(6)))
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        target.put_many(flat.cast("B").cast("q", (2, 3)))
    with pytest.raises(TypeError, match="0-dimensional"):
        target.put_many(flat[:1].cast("B").cast("q", ()))
    with pytest.raises(TypeError, match="must be iterable, not int 5"):
        target.put_many(5)
    assert (len(target) if isinstance(target, fastchan.Channel) else target.qsize()) == 0


@pytest.mark.parametrize("order", ["<", ">"])
def test_typed_put_many_reads_either_byte_order(order):
    import ctypes

    base = ctypes.c_int64 if (order == "<") == (sys.byteorder == "little") else ctypes.c_int64.__ctype_be__
    if order == "<" and sys.byteorder == "big":
        base = ctypes.c_int64.__ctype_le__
    items = (base * 3)(1, -2, 2**40)
    assert memoryview(items).format.lstrip("@=") in ("<q", ">q", "q", "<l", ">l", "l")
    ch = fastchan.Channel(None, dtype="int64")
    ch.put_many(items)
    assert ch.get_many(10, timeout=0) == [1, -2, 2**40]
