"""fastchan.asyncio's queues against asyncio.Queue's documented behaviour,
cancellation without loss, and one queue shared by threads and loops."""

import asyncio
import collections
import gc
import queue
import random
import sys
import threading
import types

import pytest

import fastchan
import fastchan.asyncio as fa

ASYNC_CLASSES = [fa.Queue, fa.LifoQueue, fa.PriorityQueue]


@pytest.fixture(params=ASYNC_CLASSES, ids=lambda c: c.__name__)
def async_class(request):
    return request.param


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_orders():
    async def main():
        out = {}
        for cls in ASYNC_CLASSES:
            q = cls()
            for x in [5, 1, 4, 2, 3]:
                await q.put(x)
            out[cls] = [await q.get() for _ in range(5)]
        return out

    out = run(main())
    assert out[fa.Queue] == [5, 1, 4, 2, 3]
    assert out[fa.LifoQueue] == [3, 2, 4, 1, 5]
    assert out[fa.PriorityQueue] == [1, 2, 3, 4, 5]


def test_created_without_a_running_loop_and_used_by_two_loops(async_class):
    q = async_class(4)  # no loop exists yet

    async def put_two():
        await q.put(1)
        await q.put(2)

    async def get_two():
        return sorted([await q.get(), await q.get()])

    asyncio.run(put_two())
    assert asyncio.run(get_two()) == [1, 2]


def test_nowait_and_sizes(async_class):
    async def main():
        q = async_class(2)
        assert q.maxsize == 2 and q.empty() and not q.full() and q.qsize() == 0
        q.put_nowait(1)
        q.put_nowait(2)
        assert q.full() and q.qsize() == 2
        with pytest.raises(asyncio.QueueFull):
            q.put_nowait(3)
        assert sorted([q.get_nowait(), q.get_nowait()]) == [1, 2]
        with pytest.raises(asyncio.QueueEmpty):
            q.get_nowait()
        with pytest.raises(queue.Empty):
            q.get_nowait()

    run(main())


def test_put_waits_for_room_and_get_waits_for_items(async_class):
    async def main():
        q = async_class(1)
        await q.put(1)
        putter = asyncio.create_task(q.put(2))
        await asyncio.sleep(0.02)
        assert not putter.done()
        assert await q.get() == 1
        await asyncio.wait_for(putter, 5)
        assert q.get_nowait() == 2
        getter = asyncio.create_task(q.get())
        await asyncio.sleep(0.02)
        assert not getter.done()
        await q.put(3)
        assert await asyncio.wait_for(getter, 5) == 3

    run(main())


def test_same_loop_put_wakes_getter_promptly():
    # A getter woken by a put of its own loop runs within a few loop iterations.
    async def main():
        q = fa.Queue()
        getter = asyncio.create_task(q.get())
        await asyncio.sleep(0)
        q.put_nowait("x")
        for _ in range(5):
            if getter.done():
                break
            await asyncio.sleep(0)
        return getter.done() and getter.result()

    assert run(main()) == "x"


def test_task_done_and_join(async_class):
    async def main():
        q = async_class()
        for x in range(3):
            await q.put(x)
        joiner = asyncio.create_task(q.join())
        await asyncio.sleep(0.01)
        assert not joiner.done()
        for _ in range(3):
            await q.get()
            q.task_done()
        await asyncio.wait_for(joiner, 5)
        with pytest.raises(ValueError):
            q.task_done()
        await q.join()

    run(main())


def test_shutdown_graceful_and_immediate(async_class):
    async def main():
        q = async_class()
        await q.put(1)
        blocked = asyncio.create_task(async_class().get())
        q.shutdown()
        with pytest.raises(fa.QueueShutDown):
            await q.put(2)
        assert await q.get() == 1
        with pytest.raises(fa.QueueShutDown):
            await q.get()
        waiting = async_class()
        getter = asyncio.create_task(waiting.get())
        full = async_class(1)
        full.put_nowait(0)
        putter = asyncio.create_task(full.put(1))
        await asyncio.sleep(0.01)
        waiting.shutdown(immediate=True)
        full.shutdown(immediate=True)
        for task in (getter, putter):
            with pytest.raises(fa.QueueShutDown):
                await asyncio.wait_for(task, 5)
        assert full.qsize() == 0 and full.unfinished_tasks == 0
        await full.join()
        blocked.cancel()

    run(main())


def test_exception_hierarchy():
    assert issubclass(fa.QueueEmpty, asyncio.QueueEmpty) and issubclass(fa.QueueEmpty, queue.Empty)
    assert issubclass(fa.QueueFull, asyncio.QueueFull) and issubclass(fa.QueueFull, queue.Full)
    if sys.version_info >= (3, 13):
        assert issubclass(fa.QueueShutDown, asyncio.QueueShutDown)
        assert issubclass(fa.QueueShutDown, queue.ShutDown)


def test_generic_alias():
    for cls in ASYNC_CLASSES:
        assert isinstance(cls[int], types.GenericAlias) and cls[int].__origin__ is cls


def test_views_share_one_queue():
    q = fastchan.Queue(3)
    aq = q.async_q
    assert isinstance(aq, fa.Queue) and aq.sync_q is q and q.async_q is aq and q.sync_q is q
    assert isinstance(fastchan.LifoQueue().async_q, fa.LifoQueue)
    q.put(1)
    assert aq.qsize() == 1 and aq.get_nowait() == 1
    aq.put_nowait(2)
    assert q.get() == 2
    q.task_done()
    aq.task_done()
    assert q.unfinished_tasks == aq.unfinished_tasks == 0
    a = fa.PriorityQueue(2)
    assert isinstance(a.sync_q, fastchan.PriorityQueue) and a.sync_q.async_q is a


def test_cancelled_get_loses_nothing():
    async def main():
        q = fa.Queue()
        got = []
        total = 2000

        async def consumer():
            while len(got) < total:
                try:
                    got.append(await asyncio.wait_for(q.get(), random.choice([0, 0.0001, 0.001])))
                except asyncio.TimeoutError:
                    pass

        consumers = [asyncio.create_task(consumer()) for _ in range(4)]
        for i in range(total):
            await q.put(i)
            if i % 7 == 0:
                await asyncio.sleep(0)
        await asyncio.wait_for(asyncio.gather(*consumers), 20)
        return got, q.qsize()

    got, left = run(main())
    assert left == 0
    assert sorted(got) == list(range(2000))


def test_cancelled_put_inserts_nothing():
    async def main():
        q = fa.Queue(1)
        await q.put("kept")
        putter = asyncio.create_task(q.put("cancelled"))
        await asyncio.sleep(0.01)
        putter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await putter
        assert q.get_nowait() == "kept"
        await asyncio.sleep(0.01)
        assert q.qsize() == 0 and q.unfinished_tasks == 1

    run(main())


def test_woken_then_cancelled_getter_passes_the_wakeup_on():
    async def main():
        q = fa.Queue()
        first = asyncio.create_task(q.get())
        await asyncio.sleep(0.01)
        second = asyncio.create_task(q.get())
        await asyncio.sleep(0.01)
        q.put_nowait("item")   # wakes `first` ...
        first.cancel()         # ... which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await first
        return await asyncio.wait_for(second, 5)

    assert run(main()) == "item"


def test_thread_producer_to_loop_consumer_and_back():
    q = fastchan.Queue(16)
    aq = q.async_q
    n = 5000

    def produce():
        for i in range(n):
            q.put(i)

    async def consume():
        return [await aq.get() for _ in range(n)]

    producer = threading.Thread(target=produce)
    producer.start()
    assert asyncio.run(consume()) == list(range(n))
    producer.join()

    received = []
    consumer = threading.Thread(target=lambda: received.extend(q.get() for _ in range(n)))
    consumer.start()

    async def produce_async():
        for i in range(n):
            await aq.put(i)

    asyncio.run(produce_async())
    consumer.join(30)
    assert received == list(range(n))


def test_three_loops_and_a_thread_consume_exactly_once():
    q = fastchan.Queue(8)
    aq = q.async_q
    producers, per_producer = 3, 3000
    total = producers * per_producer
    received = collections.Counter()
    lock = threading.Lock()

    def record(item):
        with lock:
            received[item] += 1

    async def loop_consumer(seed):
        rng = random.Random(seed)

        async def one_consumer():
            while True:
                try:
                    item = await asyncio.wait_for(aq.get(), rng.choice([0.0001, 0.001, 0.01]))
                except asyncio.TimeoutError:
                    continue
                except fa.QueueShutDown:
                    return
                record(item)

        async def canceller(tasks):
            while not all(t.done() for t in tasks):
                await asyncio.sleep(rng.random() * 0.005)

        tasks = [asyncio.create_task(one_consumer()) for _ in range(3)]
        await asyncio.gather(*tasks, canceller(tasks))

    def thread_consumer():
        rng = random.Random(99)
        while True:
            try:
                record(q.get(timeout=rng.choice([0.0001, 0.001])))
            except fastchan.Empty:
                continue
            except fastchan.ShutDown:
                return

    def producer(p):
        for i in range(per_producer):
            q.put(p * per_producer + i)

    threads = [threading.Thread(target=asyncio.run, args=(loop_consumer(s),)) for s in range(3)]
    threads.append(threading.Thread(target=thread_consumer))
    threads += [threading.Thread(target=producer, args=(p,)) for p in range(producers)]
    for t in threads:
        t.start()
    for t in threads[-producers:]:
        t.join(60)
    while q.qsize():
        threading.Event().wait(0.01)
    q.shutdown()
    for t in threads[:-producers]:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert sum(received.values()) == total
    assert set(received) == set(range(total)) and max(received.values()) == 1


@pytest.mark.parametrize("putter", ["same thread", "other thread"])
def test_loop_closed_with_a_waiter_strands_nothing(putter):
    q = fastchan.Queue()
    aq = q.async_q
    loop = asyncio.new_event_loop()
    task = loop.create_task(aq.get())
    loop.run_until_complete(asyncio.sleep(0.01))  # the task now waits on the queue
    loop.close()  # without cancelling the task: its waiter stays registered
    result = []
    consumer = threading.Thread(target=lambda: result.append(q.get(timeout=10)))
    consumer.start()
    threading.Event().wait(0.05)  # the consumer waits behind the abandoned waiter
    if putter == "same thread":
        q.put("item")
    else:
        threading.Thread(target=q.put, args=("item",)).start()
    consumer.join(15)
    assert result == ["item"]  # no garbage collection needed
    del task


def test_on_uvloop():
    uvloop = pytest.importorskip("uvloop")
    q = fastchan.Queue(4)
    aq = q.async_q

    async def main():
        producer = threading.Thread(target=lambda: [q.put(i) for i in range(2000)])
        producer.start()
        got = [await aq.get() for _ in range(2000)]
        producer.join()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(aq.get(), 0.01)
        getter = asyncio.create_task(aq.get())
        await asyncio.sleep(0)
        aq.put_nowait("same loop")
        return got, await asyncio.wait_for(getter, 5)

    loop = uvloop.new_event_loop()
    try:
        got, same = loop.run_until_complete(main())
    finally:
        loop.close()
    assert got == list(range(2000)) and same == "same loop"


def test_an_operation_created_but_never_awaited_does_nothing(async_class):
    async def main():
        q = async_class(1)
        await q.put("kept")
        unawaited_get = q.get()
        unawaited_put = q.put("never")
        del unawaited_get, unawaited_put
        gc.collect()
        assert q.qsize() == 1 and q.unfinished_tasks == 1
        return await q.get()

    assert run(main()) == "kept"


def test_an_operation_is_awaited_once():
    async def main():
        q = fa.Queue()
        q.put_nowait(1)
        op = q.get()
        assert await op == 1
        with pytest.raises(RuntimeError):
            await op

    run(main())


def test_shutdown_is_raised_when_awaited_not_when_called():
    async def main():
        q = fa.Queue()
        q.shutdown()
        op = q.get()  # no exception yet, as with asyncio.Queue's coroutine
        with pytest.raises(fa.QueueShutDown):
            await op
        put = q.put(1)
        with pytest.raises(fa.QueueShutDown):
            await put

    run(main())


def test_cpp_thread_without_gil_feeds_two_loops_and_a_thread():
    q = fastchan.Queue(64)
    aq = q.async_q
    total = 20000
    received = collections.Counter()
    lock = threading.Lock()

    async def consume():
        while True:
            try:
                item = await aq.get()
            except fa.QueueShutDown:
                return
            with lock:
                received[item] += 1
            aq.task_done()

    def thread_consumer():
        while True:
            try:
                item = q.get()
            except fastchan.ShutDown:
                return
            with lock:
                received[item] += 1
            q.task_done()

    consumers = [threading.Thread(target=asyncio.run, args=(consume(),)) for _ in range(2)]
    consumers.append(threading.Thread(target=thread_consumer))
    for t in consumers:
        t.start()
    producer = fastchan._core._testing._NativeProducer(q, range(total))
    producer.join()
    q.join()  # every item was received and marked done
    q.shutdown()
    for t in consumers:
        t.join(30)
    assert sum(received.values()) == total and set(received) == set(range(total))
    assert q.unfinished_tasks == 0


def test_uninitialized_subclass_raises_instead_of_crashing():
    class Broken(fa.Queue):
        def __init__(self):
            pass  # forgets super().__init__()

    async def main():
        q = Broken.__new__(Broken)
        with pytest.raises(TypeError):
            await q.get()

    run(main())


def test_a_tuple_item_waiting_for_room_stays_one_item():
    """Regression: put() on a full queue took its slow path with the item
    spread into arguments, so (priority, data) raised TypeError and ("x",)
    arrived as "x"."""
    async def main():
        q = fastchan.asyncio.PriorityQueue(1)
        await q.put((0, "first"))
        asyncio.get_running_loop().call_later(0.05, q.get_nowait)
        await q.put((1, "second"))  # waits for room
        single = fastchan.asyncio.Queue(1)
        await single.put(0)
        asyncio.get_running_loop().call_later(0.05, single.get_nowait)
        await single.put(("x",))
        return await q.get(), await single.get()

    assert asyncio.run(main()) == ((1, "second"), ("x",))
