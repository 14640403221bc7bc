"""put_many / get_many on fastchan.Channel, the thread queues and the
asyncio queues: order, limits, errors that say how far a batch got, bad
input that leaves the queue intact, and exactly-once delivery when batching
producers and consumers (threads and a loop) share one queue or channel."""

import asyncio
import collections
import threading

import pytest

import fastchan
import fastchan.asyncio

TIMEOUT = 30



def test_channel_get_many_takes_what_is_ready_up_to_max_in_order(capacity):
    ch = fastchan.Channel(capacity)
    producer = threading.Thread(target=ch.put_many, args=(range(100),))
    producer.start()
    got = []
    while len(got) < 100:
        batch = ch.get_many(7, timeout=TIMEOUT)
        assert 1 <= len(batch) <= 7
        got += batch
    producer.join()
    assert got == list(range(100))


def test_channel_batches_report_close_and_timeout():
    ch = fastchan.Channel(2)
    with pytest.raises(TimeoutError):
        ch.get_many(4, timeout=0.01)
    with pytest.raises(TimeoutError, match="2 items were sent"):
        ch.put_many(range(5), timeout=0.05)
    assert ch.get_many(10) == [0, 1]
    ch.close()
    with pytest.raises(fastchan.ChannelClosed, match="0 items were sent"):
        ch.put_many([1])
    with pytest.raises(fastchan.ChannelClosed):
        ch.get_many(1)


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-3, ValueError), (1.5, TypeError),
                                        (True, TypeError), ("3", TypeError), (None, TypeError)])
def test_bad_max_items_is_named_and_leaves_the_items(bad, error):
    ch = fastchan.Channel(4)
    q = fastchan.Queue()
    ch.put_many([1, 2])
    q.put_many([1, 2])
    for target in (ch, q):
        with pytest.raises(error, match="max_items"):
            target.get_many(bad)
    assert ch.get_many(5) == [1, 2]
    assert q.get_many(5) == [1, 2]


def test_queue_batches_keep_task_accounting_and_report_full_and_shutdown():
    q = fastchan.Queue(3)
    q.put_many("abc")
    assert q.unfinished_tasks == 3
    with pytest.raises(fastchan.Full, match="0 items were put"):
        q.put_many("d", block=False)
    with pytest.raises(fastchan.Full, match="0 items were put"):
        q.put_many("d", timeout=0.01)
    assert q.get_many(2) == ["a", "b"]
    assert q.get_many(5) == ["c"]
    with pytest.raises(fastchan.Empty):
        q.get_many(5, block=False)
    with pytest.raises(fastchan.Empty):
        q.get_many(5, timeout=0.01)
    for _ in range(3):
        q.task_done()
    q.join()
    q.put_many([1, 2])
    q.shutdown()
    with pytest.raises(fastchan.ShutDown, match="0 items were put"):
        q.put_many([3])
    assert q.get_many(9) == [1, 2]
    with pytest.raises(fastchan.ShutDown):
        q.get_many(1)


def test_lifo_and_priority_queues_batch_in_their_order():
    lifo = fastchan.LifoQueue()
    lifo.put_many([1, 2, 3])
    assert lifo.get_many(3) == [3, 2, 1]
    prio = fastchan.PriorityQueue()
    prio.put_many([5, 1, 3])
    assert prio.get_many(3) == [1, 3, 5]


def test_asyncio_queue_batches_are_awaitable_and_the_sync_view_blocks():
    async def main():
        q = fastchan.asyncio.Queue(4)
        producer = asyncio.create_task(q.put_many(range(10)))
        got = []
        while len(got) < 10:
            got += await q.get_many(3)
        await producer
        assert got == list(range(10))
        with pytest.raises(ValueError, match="max_items"):
            await q.get_many(0)
        await asyncio.to_thread(q.sync_q.put_many, [10, 11])
        assert await q.get_many(5) == [10, 11]
        q.shutdown()
        with pytest.raises(fastchan.asyncio.QueueShutDown):
            await q.put_many([1])

    asyncio.run(asyncio.wait_for(main(), TIMEOUT))


def _share(target, put_many, get_many, close):
    """Three threads put_many batches, two threads and one asyncio loop
    get_many; every item must arrive exactly once."""
    per_producer, producers = 3000, 3
    counts = collections.Counter()
    lock = threading.Lock()

    def produce(p):
        items = [(p, i) for i in range(per_producer)]
        for start in range(0, per_producer, 11):
            put_many(items[start:start + 11])

    def record(batch):
        with lock:
            counts.update(batch)

    def consume():
        while True:
            batch = get_many(9)
            if batch is None:
                return
            record(batch)

    async def consume_async():
        while True:
            batch = await asyncio.to_thread(get_many, 5)
            if batch is None:
                return
            record(batch)

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    threads += [threading.Thread(target=consume) for _ in range(2)]
    threads.append(threading.Thread(target=lambda: asyncio.run(consume_async())))
    for t in threads:
        t.start()
    for t in threads[:producers]:
        t.join(TIMEOUT)
    close()
    for t in threads[producers:]:
        t.join(TIMEOUT)
        assert not t.is_alive()
    assert counts == collections.Counter((p, i) for p in range(producers) for i in range(per_producer))


def test_exactly_once_on_a_channel_with_batches(capacity):
    ch = fastchan.Channel(capacity)

    def get_many(n):
        try:
            return ch.get_many(n, timeout=TIMEOUT)
        except fastchan.ChannelClosed:
            return None

    _share(ch, lambda items: ch.put_many(items, timeout=TIMEOUT), get_many, ch.close)


@pytest.mark.parametrize("maxsize", [0, 1, 16])
def test_exactly_once_on_a_queue_with_batches(maxsize):
    q = fastchan.Queue(maxsize)

    def get_many(n):
        try:
            return q.get_many(n, timeout=TIMEOUT)
        except fastchan.ShutDown:
            return None

    _share(q, lambda items: q.put_many(items, timeout=TIMEOUT), get_many, q.shutdown)


def test_simple_queue_batches():
    q = fastchan.SimpleQueue()
    q.put_many(range(5))
    assert q.get_many(3) == [0, 1, 2]
    assert q.get_many(9) == [3, 4]
    with pytest.raises(fastchan.Empty):
        q.get_many(1, timeout=0.01)
    with pytest.raises(ValueError, match="max_items"):
        q.get_many(0)


def test_channel_awaitable_batches(capacity):
    async def main():
        ch = fastchan.Channel(capacity)
        producer = asyncio.create_task(ch.aput_many(range(50)))
        got = []
        while len(got) < 50:
            batch = await ch.aget_many(6)
            assert 1 <= len(batch) <= 6
            got += batch
        await producer
        assert got == list(range(50))
        with pytest.raises(TypeError, match="max_items"):
            await ch.aget_many("6")
        with pytest.raises(TimeoutError):
            await ch.aget_many(2, timeout=0.01)
        if capacity not in (0, None):  # (a rendezvous has no receiver here; unbounded never waits)
            with pytest.raises(TimeoutError, match=r"\d+ items were sent"):
                await ch.aput_many(range(100), timeout=0.02)
            while len(ch):
                ch.try_recv()
        ch.close()
        with pytest.raises(fastchan.ChannelClosed, match="0 items were sent"):
            await ch.aput_many([1])

    asyncio.run(asyncio.wait_for(main(), TIMEOUT))


def test_a_block_flag_whose_truth_test_fails_puts_nothing():
    class Bad:
        def __bool__(self):
            raise ZeroDivisionError

    q = fastchan.Queue()
    with pytest.raises(ZeroDivisionError):
        q.put_many([1], block=Bad())
    with pytest.raises(ZeroDivisionError):
        q.get_many(1, block=Bad())
    assert q.qsize() == 0 and q.unfinished_tasks == 0


def test_huge_max_items_take_everything_and_huge_negative_ones_are_refused():
    q = fastchan.Queue()
    q.put_many([1, 2])
    with pytest.raises(ValueError, match="max_items"):
        q.get_many(-10**30)
    assert q.get_many(10**30) == [1, 2]


@pytest.mark.parametrize("allowed", range(0, 12, 3))
def test_a_priority_comparison_error_mid_batch_loses_no_item(allowed):
    class Touchy:
        comparisons_left = None  # None: unlimited

        def __init__(self, n):
            self.n = n

        def __lt__(self, other):
            if Touchy.comparisons_left is not None:
                if Touchy.comparisons_left == 0:
                    raise ArithmeticError("no comparing now")
                Touchy.comparisons_left -= 1
            return self.n < other.n

    q = fastchan.PriorityQueue()
    q.put_many([Touchy(n) for n in range(6)])
    Touchy.comparisons_left = allowed
    try:
        taken = q.get_many(6)  # the error ends the batch; items already taken come back
    except ArithmeticError:
        taken = []  # it struck before the first item
    Touchy.comparisons_left = None
    rest = []
    while q.qsize():
        rest.append(q.get())
    assert sorted(t.n for t in taken + rest) == list(range(6))


def test_asyncio_get_many_keeps_its_item_when_the_queue_shuts_down_behind_it():
    async def main():
        q = fastchan.asyncio.Queue()
        await q.put_many("abc")
        q.shutdown()
        got = []
        while True:
            try:
                got += await q.get_many(2)
            except fastchan.asyncio.QueueShutDown:
                break
        for _ in got:
            q.task_done()
        await asyncio.wait_for(q.join(), TIMEOUT)
        return got

    assert asyncio.run(main()) == ["a", "b", "c"]
