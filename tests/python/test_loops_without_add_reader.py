"""Event loops that cannot watch a descriptor (issue 17): asyncio's
ProactorEventLoop, the default on Windows, raises NotImplementedError from
add_reader, as may custom loops. fastchan then wakes them through a thread
and loop.call_soon_threadsafe. Here a SelectorEventLoop whose add_reader and
remove_reader raise stands for them: every kind of cross-thread wake-up
(queues, select, to_thread, memory channels) gets through, exactly once;
the thread ends with its loop."""

import asyncio
import gc
import os
import sys
import textwrap
import threading
import time

import pytest

import fastchan
from conftest import run_python

TIMEOUT = 30
N = 2000
WATCHER = "fastchan-loop-waker"


class NoReaderLoop(asyncio.SelectorEventLoop):
    """A loop without add_reader (the selector loop keeps its own self-pipe
    through the private _add_reader)."""

    def add_reader(self, fd, callback, *args):
        raise NotImplementedError

    def remove_reader(self, fd):
        raise NotImplementedError


def watchers():
    return [t for t in threading.enumerate() if t.name == WATCHER]


def run(main, loop=None):
    """Runs main() on a new NoReaderLoop (or `loop`), closed afterwards;
    checks the watching thread ends with it."""
    loop = loop or NoReaderLoop()
    before = set(watchers())
    try:
        return loop.run_until_complete(asyncio.wait_for(main(), TIMEOUT))
    finally:
        loop.close()
        for t in set(watchers()) - before:
            t.join(TIMEOUT)
            assert not t.is_alive()


def start(fn, *args):
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t


def test_the_loop_really_has_no_add_reader():
    loop = NoReaderLoop()
    try:
        with pytest.raises(NotImplementedError):
            loop.add_reader(0, print)
    finally:
        loop.close()


@pytest.mark.parametrize("maxsize", [1, 16, 0])
def test_a_task_consumes_what_a_thread_produces(maxsize):
    async def main():
        q = fastchan.Queue(maxsize)
        first = asyncio.create_task(q.async_q.get())
        await asyncio.sleep(0.01)  # it waits (the queue is empty)
        assert watchers()  # the fallback is in use
        t = start(lambda: [q.put(i) for i in range(N)])
        got = [await first] + [await q.async_q.get() for _ in range(N - 1)]
        t.join(TIMEOUT)
        return got

    assert run(main) == list(range(N))


@pytest.mark.parametrize("maxsize", [1, 16])
def test_a_thread_consumes_what_a_task_produces(maxsize):
    got = []

    async def main():
        q = fastchan.Queue(maxsize)
        t = start(lambda: got.extend(q.get(timeout=TIMEOUT) for _ in range(N)))
        for i in range(N):
            await q.async_q.put(i)  # waits for room: woken by the thread's get
        t.join(TIMEOUT)

    run(main)
    assert got == list(range(N))


def test_tasks_and_threads_on_both_sides_each_item_once():
    producers, consumers, per = 3, 3, 1000
    thread_got = []

    async def main():
        q = fastchan.Queue(4)

        def produce(base):
            for i in range(per):
                q.put(base + i)

        def consume():
            while (item := q.get(timeout=TIMEOUT)) is not None:
                thread_got.append(item)

        async def aproduce(base):
            for i in range(per):
                await q.async_q.put(base + i)

        async def aconsume(got):
            while (item := await q.async_q.get()) is not None:
                got.append(item)

        threads = [start(produce, k * per) for k in range(producers)]
        threads += [start(consume) for _ in range(consumers)]
        task_got = [[] for _ in range(consumers)]
        consumers_ = [asyncio.create_task(aconsume(g)) for g in task_got]
        await asyncio.gather(*(aproduce((producers + k) * per) for k in range(producers)))
        for t in threads[:producers]:
            t.join(TIMEOUT)
        for _ in range(2 * consumers):
            await q.async_q.put(None)
        await asyncio.gather(*consumers_)
        for t in threads[producers:]:
            t.join(TIMEOUT)
        return [x for g in task_got for x in g]

    task_got = run(main)
    assert sorted(task_got + thread_got) == list(range(2 * producers * per))


def test_timeouts_and_cancellation_lose_nothing():
    async def main():
        q = fastchan.Queue(1)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(q.async_q.get(), 0.05)
        # A get that times out takes nothing; a later one is woken by a thread.
        threading.Timer(0.05, q.put, args=("late",)).start()
        assert await asyncio.wait_for(q.async_q.get(), TIMEOUT) == "late"

        q.put("full")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(q.async_q.put("never"), 0.05)
        threading.Timer(0.05, q.get).start()  # makes room from a thread
        await asyncio.wait_for(q.async_q.put("room"), TIMEOUT)
        assert q.get_nowait() == "room"

        # A waiter cancelled after a thread's put woke it passes the item on.
        first = asyncio.create_task(q.async_q.get())
        second = asyncio.create_task(q.async_q.get())
        await asyncio.sleep(0.01)
        done = threading.Event()
        start(lambda: (q.put(1), done.set()))
        while not done.is_set():
            await asyncio.sleep(0)  # (not long enough for the drain to run, often)
        first.cancel()
        results = await asyncio.gather(first, second, return_exceptions=True)
        got = [r for r in results if not isinstance(r, asyncio.CancelledError)]
        assert len(got) + q.qsize() == 1  # the item is taken once, or left in the queue

        # Many timed-out gets racing a thread's puts: every item exactly once.
        q2 = fastchan.Queue(8)
        t = start(lambda: [q2.put(i) for i in range(N)])
        got = []
        while len(got) < N:
            try:
                got.append(await asyncio.wait_for(q2.async_q.get(), 0.0005))
            except asyncio.TimeoutError:
                pass
        t.join(TIMEOUT)
        assert sorted(got) == list(range(N)) and q2.empty()

    run(main)


def test_join_is_woken_by_a_thread_task_done():
    async def main():
        q = fastchan.Queue()
        for i in range(100):
            q.put(i)

        def worker():
            for _ in range(100):
                q.get(timeout=TIMEOUT)
                time.sleep(0.0005)
                q.task_done()

        t = start(worker)
        await q.async_q.join()
        t.join(TIMEOUT)
        return q.empty()

    assert run(main)


def test_select_on_channels_fed_by_a_thread():
    async def main():
        a, b = fastchan.Channel(), fastchan.Channel(2)

        def feed():
            for i in range(N):
                (a if i % 2 else b).send(i, timeout=TIMEOUT)

        t = start(feed)
        got = []
        for _ in range(N):
            index, value = await fastchan.select_async([fastchan.recv(a), fastchan.recv(b)])
            assert index == value % 2 ^ 1
            got.append(value)
        t.join(TIMEOUT)
        return sorted(got)

    assert run(main) == list(range(N))


def test_to_thread():
    async def main():
        results = await asyncio.gather(*(fastchan.to_thread(lambda i=i: i * i) for i in range(500)))
        slow = await fastchan.to_thread(time.sleep, 0.05)
        return results, slow

    results, slow = run(main)
    assert results == [i * i for i in range(500)] and slow is None


def test_memory_channel_fed_by_a_thread():
    async def main():
        send, receive = fastchan.open_memory_channel(0)

        def feed():
            for i in range(500):
                while True:
                    try:
                        send.send_nowait(i)  # only to a waiting receiver: a cross-thread wake
                        break
                    except fastchan.memory_channel.WouldBlock:
                        time.sleep(0)
            send.close()

        t = start(feed)
        got = [value async for value in receive]
        t.join(TIMEOUT)
        return got

    assert run(main) == list(range(500))


def test_a_burst_of_wake_ups_costs_few_drains():
    calls = []

    class CountingLoop(NoReaderLoop):
        def call_soon_threadsafe(self, callback, *args, **kwargs):
            calls.append(callback)
            return super().call_soon_threadsafe(callback, *args, **kwargs)

    async def main():
        # Many tasks wait; one thread wakes them all in one burst.
        q = fastchan.Queue()
        tasks = [asyncio.create_task(q.async_q.get()) for _ in range(200)]
        await asyncio.sleep(0.01)
        start(lambda: q.put_many(range(200)))
        return sorted(await asyncio.gather(*tasks))

    assert run(main, CountingLoop()) == list(range(200))
    drains = [c for c in calls if getattr(c, "__name__", "") == "drain_watched"]
    assert 1 <= len(drains) < 200


def watched_after_one_wait(loop):
    """Runs one cross-thread wait on `loop`; returns the thread that watches it."""
    before = set(watchers())

    async def wait_once():
        q = fastchan.Queue()
        threading.Timer(0.01, q.put, args=(1,)).start()
        return await q.async_q.get()

    assert loop.run_until_complete(wait_once()) == 1
    mine = set(watchers()) - before
    assert len(mine) == 1
    (thread,) = mine
    return thread


def test_the_thread_ends_when_the_loop_closes_while_it_waits():
    loop = NoReaderLoop()
    thread = watched_after_one_wait(loop)
    time.sleep(0.05)
    assert thread.is_alive()  # waits for the next wake-up
    loop.close()
    thread.join(TIMEOUT)
    assert not thread.is_alive()


def test_the_thread_ends_when_an_unclosed_loop_is_collected():
    loop = NoReaderLoop()
    thread = watched_after_one_wait(loop)
    # The thread does not keep the loop alive: dropped, it is collected.
    del loop.close  # (fastchan's wrapper, which would abandon the waker: the weak reference's callback acts)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        del loop
        deadline = time.monotonic() + TIMEOUT
        while thread.is_alive() and time.monotonic() < deadline:
            gc.collect()  # (again, if the thread still held the loop for a moment)
            thread.join(0.01)
    assert not thread.is_alive()


def test_a_waiter_left_on_a_closed_loop_passes_its_wake_up_on():
    q = fastchan.Queue()
    loop = NoReaderLoop()

    async def park():
        asyncio.create_task(q.async_q.get())  # left waiting when the loop closes
        await asyncio.sleep(0.01)

    loop.run_until_complete(park())
    loop.close()
    got = []
    t = start(lambda: got.append(q.get(timeout=TIMEOUT)))
    time.sleep(0.01)
    q.put("item")
    t.join(TIMEOUT)
    assert got == ["item"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_gets_its_own_thread():
    code = textwrap.dedent(
        """
        import asyncio, os, sys, threading, warnings
        sys.path.insert(0, %r)
        import fastchan
        from test_loops_without_add_reader import NoReaderLoop

        warnings.simplefilter("ignore", DeprecationWarning)  # (fork with threads, 3.12+)
        loop = NoReaderLoop()

        async def cross_thread(n):
            q = fastchan.Queue(2)
            t = threading.Thread(target=lambda: [q.put(i) for i in range(n)])
            t.start()
            got = [await q.async_q.get() for _ in range(n)]
            t.join()
            return got

        assert loop.run_until_complete(cross_thread(100)) == list(range(100))
        pid = os.fork()
        if pid == 0:
            ok = loop.run_until_complete(asyncio.wait_for(cross_thread(100), 20)) == list(range(100))
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        assert loop.run_until_complete(cross_thread(100)) == list(range(100))
        loop.close()
        print("ok")
        """
    ) % os.path.dirname(os.path.abspath(__file__))
    result = run_python(code, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.skipif(sys.platform != "win32", reason="the ProactorEventLoop is Windows'")
def test_the_proactor_loop():
    async def main():
        q = fastchan.Queue(1)
        t = start(lambda: [q.put(i) for i in range(N)])
        got = [await q.async_q.get() for _ in range(N)]
        t.join(TIMEOUT)
        return got

    assert run(main, asyncio.ProactorEventLoop()) == list(range(N))


@pytest.mark.parametrize("ending", ["left open", "closed at exit", "collected at exit"])
def test_the_interpreter_exits_with_a_watched_loop(ending):
    code = textwrap.dedent(
        """
        import asyncio, atexit, sys, threading
        sys.path.insert(0, %r)
        import fastchan
        from test_loops_without_add_reader import NoReaderLoop

        loop = NoReaderLoop()

        async def wait_once():
            q = fastchan.Queue()
            threading.Timer(0.01, q.put, args=(1,)).start()
            return await q.async_q.get()

        assert loop.run_until_complete(wait_once()) == 1
        ending = %r
        if ending == "closed at exit":
            atexit.register(loop.close)
        elif ending == "collected at exit":
            del loop.close  # (the weak reference's callback abandons the waker)
        print("ok")
        """
    ) % (os.path.dirname(os.path.abspath(__file__)), ending)
    result = run_python(code, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
