"""Fault injection: when converting a received item to Python fails
(MemoryError), or a received batch cannot grow, no item is lost. Every path
after an item is taken returns it or puts it back at the front, so the next
receive gets it, in order. (_core._testing._fail_nth is the test-only switch.)"""

import array
import asyncio
import gc
import sys

import pytest

import fastchan
from fastchan import _core, recv, select


@pytest.fixture(autouse=True)
def disarm():
    yield
    _core._testing._fail_nth("to_python", 0)
    _core._testing._fail_nth("batch_growth", 0)


def queues():
    for cls in (fastchan.Queue, fastchan.LifoQueue, fastchan.PriorityQueue):
        for dtype in ("int64", "float64", "bytes"):
            yield f"{cls.__name__}-{dtype}", (lambda cls=cls, dtype=dtype: cls(dtype=dtype)), dtype


def channels():
    for capacity in (8, None):
        for dtype in ("int64", "bytes"):
            yield f"Channel({capacity})-{dtype}", (lambda c=capacity, d=dtype: fastchan.Channel(c, dtype=d)), dtype


def value(dtype, i):
    return {"int64": i, "float64": float(i), "bytes": str(i).encode()}[dtype]


def fill(target, dtype, n=4):
    put = target.put if hasattr(target, "put") else target.send
    for i in range(n):
        put(value(dtype, i))
    return [value(dtype, i) for i in range(n)]


def take_all(target):
    return target.get_many(100, block=False) if hasattr(target, "qsize") else target.get_many(100, timeout=0)


def order(target, items):
    """The order `target` gives `items` back in (LIFO queues reverse it)."""
    return items[::-1] if isinstance(target, fastchan.LifoQueue) else items


SINGLE_RECEIVES = {
    "get": lambda t: t.get() if hasattr(t, "qsize") else t.recv(),
    "nowait": lambda t: t.get_nowait() if hasattr(t, "qsize") else t.try_recv(),
    "get_many": lambda t: t.get_many(2),
    "select": lambda t: select([recv(t)]),
}


@pytest.mark.parametrize("how", sorted(SINGLE_RECEIVES))
@pytest.mark.parametrize("make,dtype", [(m, d) for _, m, d in list(queues()) + list(channels())],
                         ids=[n for n, _, _ in list(queues()) + list(channels())])
def test_failed_conversion_puts_the_item_back(make, dtype, how):
    if how == "select" and not isinstance(make(), fastchan.Channel):
        pytest.skip("select takes channels")
    target = make()
    items = order(target, fill(target, dtype))
    _core._testing._fail_nth("to_python", 1)
    with pytest.raises(MemoryError):
        SINGLE_RECEIVES[how](target)
    assert take_all(target) == items  # nothing lost, nothing reordered


@pytest.mark.parametrize("as_array", [False, True])
@pytest.mark.parametrize("nth", [1, 2, 3])
@pytest.mark.parametrize("make,dtype", [(m, d) for _, m, d in list(queues()) + list(channels())],
                         ids=[n for n, _, _ in list(queues()) + list(channels())])
def test_failed_batch_puts_every_item_back(make, dtype, nth, as_array):
    if as_array and (dtype == "bytes" or nth > 1):
        pytest.skip("as_array: int64/float64, built in one conversion")
    target = make()
    items = order(target, fill(target, dtype))
    _core._testing._fail_nth("to_python", nth)
    with pytest.raises(MemoryError):
        target.get_many(10, as_array=as_array) if as_array else target.get_many(10)
    assert take_all(target) == items


@pytest.mark.parametrize("nth", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [None, "int64"])
@pytest.mark.parametrize("make", [fastchan.Queue, fastchan.LifoQueue, fastchan.PriorityQueue, fastchan.SimpleQueue,
                                  lambda dtype=None: fastchan.Channel(8, dtype=dtype),
                                  lambda dtype=None: fastchan.Channel(None, dtype=dtype)],
                         ids=["Queue", "LifoQueue", "PriorityQueue", "SimpleQueue", "Channel(8)", "Channel(None)"])
def test_batch_that_cannot_grow_puts_every_item_back(make, dtype, nth):
    if make is fastchan.SimpleQueue and dtype:
        pytest.skip("SimpleQueue takes no dtype")
    target = make(dtype=dtype) if dtype else make()
    items = order(target, fill(target, dtype or "int64"))
    _core._testing._fail_nth("batch_growth", nth)
    with pytest.raises(MemoryError):
        target.get_many(10)
    assert take_all(target) == items


def test_failed_batch_of_objects_keeps_their_references():
    sentinel = object()
    before = sys.getrefcount(sentinel)
    ch = fastchan.Channel(8)
    for _ in range(3):
        ch.send(sentinel)
    for fault in ("to_python", "batch_growth"):
        _core._testing._fail_nth(fault, 1)
        with pytest.raises(MemoryError):
            ch.get_many(10)
    assert ch.get_many(10) == [sentinel] * 3
    gc.collect()
    assert sys.getrefcount(sentinel) == before


def test_rendezvous_item_handed_over_then_not_convertible_is_put_back():
    """An item handed over directly (rendezvous) cannot go back to its
    sender; it goes to the channel's front, for the next receive."""
    import threading

    ch = fastchan.Channel(0, dtype="int64")
    t = threading.Thread(target=ch.send, args=(7,))
    t.start()
    _core._testing._fail_nth("to_python", 1)
    with pytest.raises(MemoryError):
        ch.recv(timeout=5)
    t.join()
    assert len(ch) == 1
    assert ch.recv(timeout=0) == 7


@pytest.mark.parametrize("how", ["arecv", "aget_many", "select_async", "queue_get"])
def test_awaitable_receives_put_back_too(how):
    async def main():
        if how == "queue_get":
            q = fastchan.asyncio.Queue(dtype="int64")
            for i in range(3):
                q.put_nowait(i)
            _core._testing._fail_nth("to_python", 1)
            with pytest.raises(MemoryError):
                await q.get()
            return q.sync_q.get_many(10, block=False)
        ch = fastchan.Channel(4, dtype="int64")
        for i in range(3):
            ch.send(i)
        _core._testing._fail_nth("to_python", 1)
        with pytest.raises(MemoryError):
            if how == "arecv":
                await ch.arecv()
            elif how == "aget_many":
                await ch.aget_many(10)
            else:
                await fastchan.select_async([recv(ch)])
        return ch.get_many(10, timeout=0)

    assert asyncio.run(main()) == [0, 1, 2]
