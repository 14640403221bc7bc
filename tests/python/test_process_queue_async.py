"""fastchan.ProcessQueue.async_q: asyncio tasks awaiting a shared ring, in
any process, with one watcher thread per ring and process (not one per
task); cancellations and timeouts that lose and duplicate nothing; shutdown
waking the tasks. Every wait has a timeout: a bug fails a test, it does not
hang it. No test asserts on speed."""

import asyncio
import multiprocessing
import os
import random
import sys
import threading
import time

import pytest

import fastchan
from fastchan import _core, _process_async

pytestmark = [
    pytest.mark.skipif(not _core._build_info.get("process_queue"),
                       reason="ProcessQueue needs Linux shared memory and futexes (see test_process_queue.py)"),
    pytest.mark.timeout(120),
    # The fork start method is tested on purpose; 3.12+ warns that the test
    # process has threads (pytest's, other tests' daemons) when it forks.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

WAIT = 30  # seconds: the longest any single wait may take before the test fails


def watchers(q=None):
    """This process's watcher threads (of q's ring only, if given)."""
    prefix = "fastchan-process-watch" + ("" if q is None else f" {q.name}")
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


@pytest.fixture(autouse=True)
def no_watcher_stays():
    """Once a test's tasks are done, its watchers go (they linger a moment)."""
    yield
    eventually(lambda: not watchers(), timeout=5)


def eventually(predicate, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


async def eventually_async(predicate, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


# ---- children (module level: spawn imports them) ----

async def echo_doubled(q_in, q_out, n, tasks):
    """`tasks` tasks share the work: each gets with async_q and puts 2*x back."""
    count = 0

    async def work():
        nonlocal count
        while count < n:
            try:
                x = await asyncio.wait_for(q_in.async_q.get(), 0.2)
            except asyncio.TimeoutError:
                continue
            count += 1
            await q_out.async_q.put(2 * x)

    await asyncio.wait_for(asyncio.gather(*(work() for _ in range(tasks))), WAIT)


def run_echo_doubled(q_in, q_out, n, tasks):
    asyncio.run(echo_doubled(q_in, q_out, n, tasks))


def child_sees_no_watcher_then_waits(q, results):
    # Forked from a process whose watcher is parked on q: the child has none.
    results.put(("threads", len(watchers()), len(_process_async.watching_threads())))

    async def main():
        return await asyncio.wait_for(q.async_q.get(), WAIT)

    results.put(("got", asyncio.run(main())))


def shut_down_later(q, delay):
    time.sleep(delay)
    q.shutdown()


def produce_sync(q, start, n):
    for i in range(start, start + n):
        q.put(i, timeout=WAIT)


# ---- one process ----

def test_get_put_and_the_rest_of_the_interface():
    async def main():
        q = fastchan.ProcessQueue(2)
        aq = q.async_q
        assert aq.sync_q is q and aq.maxsize == 2 and aq.empty() and not aq.full() and aq.qsize() == 0
        await aq.put({"a": 1})
        aq.put_nowait([2])
        assert aq.full() and aq.qsize() == 2
        with pytest.raises(fastchan.Full):
            aq.put_nowait(3)
        with pytest.raises(asyncio.QueueFull):  # (fastchan's Full is asyncio's too)
            aq.put_nowait(3)
        assert await aq.get() == {"a": 1}
        assert aq.get_nowait() == [2]
        with pytest.raises(asyncio.QueueEmpty):
            aq.get_nowait()
        assert "async_q" in repr(aq) and q.name in repr(aq)
        # A waiting get, woken by a put of another task.
        getter = asyncio.create_task(aq.get())
        await asyncio.sleep(0.05)
        assert not getter.done()
        await aq.put("x")
        assert await asyncio.wait_for(getter, WAIT) == "x"
        # A waiting put, woken by a get of another task.
        await aq.put(1)
        await aq.put(2)
        putter = asyncio.create_task(aq.put(3))
        await asyncio.sleep(0.05)
        assert not putter.done()
        assert await aq.get() == 1
        await asyncio.wait_for(putter, WAIT)
        assert [await aq.get() for _ in range(2)] == [2, 3]

    asyncio.run(main())


def test_put_pickles_at_once_and_refuses_what_cannot_go_in():
    async def main():
        q = fastchan.ProcessQueue(1, nbytes=1024)
        with pytest.raises(Exception, match="pickle"):
            await q.async_q.put(lambda: None)
        with pytest.raises(ValueError, match="1024"):
            await q.async_q.put(b"x" * 4096)
        with pytest.raises(ValueError, match="1024"):
            await q.async_q.put_many([1, b"x" * 4096])
        assert q.empty()  # (the batch's first item did not go in either)
        q.close()
        with pytest.raises(ValueError, match="closed"):
            await q.async_q.get()
        with pytest.raises(ValueError, match="closed"):
            await q.async_q.put(1)

    asyncio.run(main())


def test_batches_wait_as_put_and_get_do():
    async def main():
        q = fastchan.ProcessQueue(3)
        aq = q.async_q
        putter = asyncio.create_task(aq.put_many(range(10)))
        got = []
        while len(got) < 10:
            got += await asyncio.wait_for(aq.get_many(4), WAIT)
        await asyncio.wait_for(putter, WAIT)
        assert got == list(range(10))
        # get_many waits for the first item, then takes what is there.
        getter = asyncio.create_task(aq.get_many(5))
        await asyncio.sleep(0.05)
        assert not getter.done()
        q.put_many(["a", "b"])
        assert await asyncio.wait_for(getter, WAIT) in (["a", "b"], ["a"])

    asyncio.run(main())


@pytest.mark.parametrize("dtype, items", [("int64", list(range(10))), ("float64", [x / 2 for x in range(10)]),
                                          ("bytes", [b"x" * n for n in range(10)])])
def test_a_typed_queue_moves_c_values(dtype, items):
    """A typed ring holds C values, not pickles: what the tasks put, the
    blocking side (and any C++ peer) reads as values, and the other way."""
    async def main():
        q = fastchan.ProcessQueue(3, dtype=dtype)
        aq = q.async_q
        putter = asyncio.create_task(aq.put_many(items[:6]))
        got = []
        while len(got) < 6:
            got += await asyncio.wait_for(aq.get_many(4), WAIT)
        await asyncio.wait_for(putter, WAIT)
        await asyncio.wait_for(aq.put(items[6]), WAIT)
        assert q.get_nowait() == items[6]
        q.put_many(items[7:])
        got += [await asyncio.wait_for(aq.get(), WAIT) for _ in items[7:]]
        assert got == items[:6] + items[7:]
        bad = "x" if dtype != "bytes" else 1
        with pytest.raises(TypeError):
            await aq.put(bad)
        with pytest.raises(TypeError) as caught:
            await aq.put_many([items[0], bad, items[1]])
        if sys.version_info >= (3, 11):
            assert "put_many: 1 items were put" in caught.value.__notes__
        assert q.get_many(10) == [items[0]]

    asyncio.run(main())


def test_a_cancelled_put_many_says_how_many_went_in():
    async def main():
        q = fastchan.ProcessQueue(3)
        task = asyncio.create_task(q.async_q.put_many(range(10)))
        await eventually_async(q.full)
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as caught:
            await task
        if sys.version_info >= (3, 11):
            assert "put_many: 3 items were put" in caught.value.__notes__
        assert q.get_many(10) == [0, 1, 2]

    asyncio.run(main())


def test_timeouts_leave_the_queue_as_it_was():
    async def main():
        q = fastchan.ProcessQueue(1)
        aq = q.async_q
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(aq.get(), 0.1)
        assert 0.05 < time.monotonic() - started < WAIT
        await aq.put("kept")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(aq.put("refused"), 0.1)
        if sys.version_info >= (3, 11):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.1):
                    await aq.put("refused too")
        assert q.qsize() == 1 and await aq.get() == "kept"
        if sys.version_info >= (3, 11):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.1):
                    await aq.get()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(aq.get_many(3), 0.1)
        assert q.empty()
        # Nobody waits: the waiter counts are back to zero, the watcher goes.
        await eventually_async(lambda: not watchers())
        st = q.stats()
        assert (st["waiting_gets"], st["waiting_puts"]) == (0, 0)

    asyncio.run(main())


def test_no_thread_per_waiting_task():
    async def main():
        q = fastchan.ProcessQueue()
        other = fastchan.ProcessQueue()
        await eventually_async(lambda: not watchers())
        before = threading.active_count()
        tasks = [asyncio.create_task(q.async_q.get()) for _ in range(100)]
        await asyncio.sleep(0.2)
        assert threading.active_count() - before <= 1
        assert len(watchers()) == 1
        # The watcher is one waiter in the ring's eyes, for all 100 tasks.
        assert q.stats()["waiting_gets"] == 1
        # Another ring: another watcher, of its own.
        more = [asyncio.create_task(other.async_q.get()) for _ in range(50)]
        await asyncio.sleep(0.2)
        assert len(watchers()) == 2 and threading.active_count() - before <= 2
        for t in more:
            t.cancel()
        # 100 items: every task gets one.
        q.put_many(range(100))
        assert sorted(await asyncio.wait_for(asyncio.gather(*tasks), WAIT)) == list(range(100))
        # Nobody waits: the watchers go (after lingering a moment).
        await eventually_async(lambda: not watchers())
        assert threading.active_count() == before
        assert _process_async.watching_threads() == []
        assert q.stats()["waiting_gets"] == 0 and other.stats()["waiting_gets"] == 0

    asyncio.run(main())


def test_a_task_cancelled_after_its_wake_up_passes_it_on():
    async def main():
        q = fastchan.ProcessQueue()
        first = asyncio.create_task(q.async_q.get())
        await asyncio.sleep(0.05)
        second = asyncio.create_task(q.async_q.get())
        await asyncio.sleep(0.05)
        watcher = _process_async._state.watchers[q.name]
        q.put("only")
        # The watcher wakes the first waiter (the loop is held here, so the
        # task has not run yet); it is cancelled before it can try again.
        eventually(lambda: watcher.woken[_process_async.ITEMS] == 1)
        first.cancel()
        assert await asyncio.wait_for(second, WAIT) == "only"
        with pytest.raises(asyncio.CancelledError):
            await first
        assert q.empty()

    asyncio.run(main())


def test_exactly_once_with_many_tasks_and_a_storm_of_cancellations():
    n = 3000
    ctx = multiprocessing.get_context("fork")

    async def main():
        q = fastchan.ProcessQueue(8)
        aq = q.async_q
        rng = random.Random(1)
        got = []
        stop = asyncio.Event()

        async def consume():
            while not stop.is_set():
                try:
                    got.append(await asyncio.wait_for(aq.get(), rng.uniform(0, 0.01)))
                except asyncio.TimeoutError:
                    pass

        async def produce(start, count):
            i = start
            while i < start + count:
                try:
                    await asyncio.wait_for(aq.put(i), rng.uniform(0, 0.01))
                except asyncio.TimeoutError:
                    continue  # it did not go in: put it again
                i += 1

        # Half the items from another process (blocking puts), half from tasks.
        child = ctx.Process(target=produce_sync, args=(q, 0, n // 2))
        child.start()
        consumers = {asyncio.create_task(consume()) for _ in range(20)}
        producers = [asyncio.create_task(produce(n // 2 + k * (n // 8), n // 8)) for k in range(4)]
        # The storm: cancel consumers at random moments, start new ones.
        deadline = time.monotonic() + WAIT
        while len(got) < n and time.monotonic() < deadline:
            await asyncio.sleep(rng.uniform(0, 0.003))
            victim = rng.choice(sorted(consumers, key=id))
            victim.cancel()
            consumers.discard(victim)
            consumers.add(asyncio.create_task(consume()))
        stop.set()
        await asyncio.wait_for(asyncio.gather(*producers), WAIT)
        await asyncio.gather(*consumers, return_exceptions=True)
        got.extend(q.get_many(n) if not q.empty() else [])
        child.join(WAIT)
        assert child.exitcode == 0
        assert sorted(got) == list(range(n))  # every item exactly once
        await eventually_async(lambda: not watchers())
        st = q.stats()
        assert (st["waiting_gets"], st["waiting_puts"]) == (0, 0)

    asyncio.run(main())


def test_shutdown_wakes_waiting_tasks_which_raise_shutdown():
    ctx = multiprocessing.get_context("fork")

    async def main():
        empty, full = fastchan.ProcessQueue(), fastchan.ProcessQueue(2)
        full.put_many(["a", "b"])
        getters = [asyncio.create_task(empty.async_q.get()) for _ in range(5)]
        putters = [asyncio.create_task(full.async_q.put(i)) for i in range(5)]
        await asyncio.sleep(0.1)
        # Shut down by other processes.
        children = [ctx.Process(target=shut_down_later, args=(q, 0.1)) for q in (empty, full)]
        for c in children:
            c.start()
        results = await asyncio.wait_for(asyncio.gather(*getters, *putters, return_exceptions=True), WAIT)
        assert all(isinstance(r, fastchan.ShutDown) for r in results), results
        for c in children:
            c.join(WAIT)
        # Gets drain first, then raise.
        assert await full.async_q.get() == "a"
        assert await full.async_q.get_many(5) == ["b"]
        with pytest.raises(fastchan.ShutDown):
            await full.async_q.get()
        with pytest.raises(fastchan.ShutDown):
            await full.async_q.put_many([1])
        # immediate=True, from a task of this process: the items go too.
        q = fastchan.ProcessQueue()
        waiting = [asyncio.create_task(q.async_q.get()) for _ in range(3)]
        await asyncio.sleep(0.05)
        assert q.async_q.shutdown(immediate=True) == 0 and q.async_q.is_shutdown
        results = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), WAIT)
        assert all(isinstance(r, fastchan.ShutDown) for r in results), results
        q = fastchan.ProcessQueue()
        await q.async_q.put_many(["dropped", "dropped too"])
        assert q.shutdown(immediate=True) == 2
        with pytest.raises(fastchan.ShutDown):
            await q.async_q.get()

    asyncio.run(main())


def test_a_sync_thread_and_async_tasks_share_one_ring():
    n = 2000
    q = fastchan.ProcessQueue(4)
    got_by_thread = []

    def thread_consumer():
        while True:
            x = q.get(timeout=WAIT)
            if x is None:
                return
            got_by_thread.append(x)

    async def main():
        thread = threading.Thread(target=thread_consumer)
        thread.start()
        got = []

        async def consume():
            while True:
                x = await asyncio.wait_for(q.async_q.get(), WAIT)
                if x is None:
                    return
                got.append(x)

        consumers = [asyncio.create_task(consume()) for _ in range(4)]
        # A producer thread (blocking puts) and producer tasks, both waiting for room.
        producer = threading.Thread(target=produce_sync, args=(q, 0, n // 2))
        producer.start()

        async def produce(start, count):
            for i in range(start, start + count):
                await q.async_q.put(i)

        await asyncio.wait_for(asyncio.gather(produce(n // 2, n // 4), produce(3 * n // 4, n // 4)), WAIT)
        await asyncio.get_running_loop().run_in_executor(None, producer.join, WAIT)
        await q.async_q.put_many([None] * 5)
        await asyncio.wait_for(asyncio.gather(*consumers), WAIT)
        await asyncio.get_running_loop().run_in_executor(None, thread.join, WAIT)
        assert sorted(got + got_by_thread) == list(range(n))

    asyncio.run(main())


def test_tasks_of_two_loops_in_two_threads_share_one_watcher():
    q = fastchan.ProcessQueue()
    results = [[], []]
    ready = threading.Barrier(3)

    def loop_thread(k):
        async def main():
            tasks = [asyncio.create_task(q.async_q.get()) for _ in range(10)]
            await asyncio.sleep(0.1)
            ready.wait(WAIT)
            results[k] = await asyncio.wait_for(asyncio.gather(*tasks), WAIT)
        asyncio.run(main())

    threads = [threading.Thread(target=loop_thread, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    ready.wait(WAIT)
    assert len(watchers(q)) == 1
    q.put_many(range(20))
    for t in threads:
        t.join(WAIT)
    assert sorted(results[0] + results[1]) == list(range(20))
    assert len(results[0]) == len(results[1]) == 10


# ---- other processes ----

@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_async_tasks_in_two_processes(method):
    """The parent's tasks put (waiting for room) and get; the child's run in
    asyncio.run, waiting on both rings."""
    ctx = multiprocessing.get_context(method)
    n = 500

    async def main():
        q_in, q_out = fastchan.ProcessQueue(4), fastchan.ProcessQueue(4)
        child = ctx.Process(target=run_echo_doubled, args=(q_in, q_out, n, 3))
        child.start()

        async def produce():
            for i in range(n):
                await q_in.async_q.put(i)

        async def consume():
            return [await q_out.async_q.get() for _ in range(n)]

        _, got = await asyncio.wait_for(asyncio.gather(produce(), consume()), WAIT)
        await asyncio.get_running_loop().run_in_executor(None, child.join, WAIT)
        assert child.exitcode == 0
        assert sorted(got) == [2 * i for i in range(n)]

    asyncio.run(main())


def test_a_forked_child_does_not_inherit_the_parents_watcher():
    ctx = multiprocessing.get_context("fork")

    async def main():
        q, results = fastchan.ProcessQueue(), fastchan.ProcessQueue()
        parked = asyncio.create_task(q.async_q.get())
        await asyncio.sleep(0.1)
        assert len(watchers(q)) == 1  # the parent's, parked on q
        child = ctx.Process(target=child_sees_no_watcher_then_waits, args=(q, results))
        child.start()
        assert await asyncio.wait_for(results.async_q.get(), WAIT) == ("threads", 0, 0)
        await eventually_async(lambda: q.stats()["waiting_gets"] == 2)  # the child's own watcher parks too
        q.put_many(["one", "two"])
        got = {await asyncio.wait_for(parked, WAIT), (await asyncio.wait_for(results.async_q.get(), WAIT))[1]}
        assert got == {"one", "two"}
        await asyncio.get_running_loop().run_in_executor(None, child.join, WAIT)
        assert child.exitcode == 0

    asyncio.run(main())


def test_an_exit_with_tasks_waiting_leaves_no_waiter_count_behind():
    """A process that exits while its tasks wait (its loop abandoned): its
    watcher leaves the ring's counts at exit."""
    ctx = multiprocessing.get_context("spawn")
    q = fastchan.ProcessQueue()
    child = ctx.Process(target=abandon_waiting_tasks, args=(q,))
    child.start()
    child.join(WAIT)
    assert child.exitcode == 0
    st = q.stats()
    assert (st["waiting_gets"], st["waiting_puts"]) == (0, 0)


def abandon_waiting_tasks(q):
    loop = asyncio.new_event_loop()
    for _ in range(3):
        loop.create_task(q.async_q.get())
    loop.run_until_complete(asyncio.sleep(0.2))
    assert q.stats()["waiting_gets"] == 1
    os.environ["FASTCHAN_TEST_EXIT"] = "1"  # (exits with the loop open and the tasks pending)
