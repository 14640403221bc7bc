"""fastchan.to_thread as a drop-in for asyncio.to_thread: results, errors,
contextvars, cancellation, which pool it runs on, and install()."""

import asyncio
import concurrent.futures as cf
import contextvars
import threading
import time
import traceback

import pytest

import fastchan

TIMEOUT = 30
request_id = contextvars.ContextVar("request_id", default=None)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))


def test_returns_the_result_from_another_thread():
    async def main():
        return await fastchan.to_thread(lambda a, *, b: (a + b, threading.get_ident()), 1, b=2)

    value, ident = run(main())
    assert value == 3 and ident != threading.get_ident()


@pytest.mark.parametrize("value", [(1, 2), (), ("one",), ((3, 4),), [5, 6], None], ids=repr)
@pytest.mark.parametrize("duration", [0, 0.02], ids=["short", "slow"])
def test_returns_a_tuple_result_as_it_is(value, duration):
    # A slow call's result reaches the task through the loop's waker; a
    # tuple there was once unpacked into set_result's arguments, and the
    # TypeError left the task waiting forever.
    def give():
        time.sleep(duration)
        return value

    async def main():
        return await asyncio.wait_for(fastchan.to_thread(give), 5)

    assert run(main()) == value


@pytest.mark.parametrize("duration", [0, 0.02], ids=["short", "slow"])
def test_raises_the_call_exception_with_its_traceback(duration):
    def fails():
        time.sleep(duration)  # short calls finish while the caller spins, slow ones do not
        raise LookupError("no such key 7")

    async def main():
        await fastchan.to_thread(fails)

    with pytest.raises(LookupError, match="no such key 7") as info:
        run(main())
    assert "fails" in [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]


def test_copies_contextvars_and_keeps_changes_in_the_thread():
    def read_and_change():
        seen = request_id.get()
        request_id.set("changed in thread")
        return seen

    async def main():
        request_id.set("req-1")
        seen = await fastchan.to_thread(read_and_change)
        return seen, request_id.get()

    assert run(main()) == ("req-1", "req-1")


def test_gives_other_tasks_a_turn_even_when_the_call_is_instant():
    # asyncio.to_thread always suspends; so must the spin path.
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        t = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        before = ticks
        for _ in range(50):
            await fastchan.to_thread(int)
        t.cancel()
        return ticks - before

    assert run(main()) >= 50


def test_many_concurrent_calls_each_run_once():
    counts = {}
    lock = threading.Lock()

    def work(i):
        with lock:
            counts[i] = counts.get(i, 0) + 1
        if i % 7 == 0:
            time.sleep(0.001)
        return i * 2

    async def main():
        return await asyncio.gather(*(fastchan.to_thread(work, i) for i in range(2000)))

    assert run(main()) == [i * 2 for i in range(2000)]
    assert len(counts) == 2000 and set(counts.values()) == {1}


def test_cancelled_before_it_starts_never_runs():
    ran = []
    pool = fastchan.ThreadPool(1, thread_name_prefix="single")
    gate = threading.Event()

    async def main():
        loop = asyncio.get_running_loop()
        loop.set_default_executor(pool)
        blocker = asyncio.create_task(fastchan.to_thread(gate.wait, TIMEOUT))
        await asyncio.sleep(0.05)  # the only worker is now blocked
        queued = asyncio.create_task(fastchan.to_thread(ran.append, "queued"))
        await asyncio.sleep(0.05)
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        gate.set()
        await blocker
        await fastchan.to_thread(ran.append, "after")

    run(main())
    pool.shutdown()
    assert ran == ["after"]


def test_cancelled_while_running_drops_the_result():
    started, release = threading.Event(), threading.Event()
    finished = []

    def slow():
        started.set()
        release.wait(TIMEOUT)
        finished.append(True)
        return "dropped"

    async def main():
        task = asyncio.create_task(fastchan.to_thread(slow))
        while not started.is_set():
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()

    run(main())
    deadline = time.monotonic() + TIMEOUT
    while not finished and time.monotonic() < deadline:
        time.sleep(0.001)
    assert finished == [True]  # it ran to the end, once


def test_shutdown_with_cancel_futures_cancels_queued_calls():
    pool = fastchan.ThreadPool(1)
    gate = threading.Event()
    ran = []

    async def main():
        asyncio.get_running_loop().set_default_executor(pool)
        blocker = asyncio.create_task(fastchan.to_thread(gate.wait, TIMEOUT))
        await asyncio.sleep(0.05)
        queued = [asyncio.create_task(fastchan.to_thread(ran.append, i)) for i in range(10)]
        await asyncio.sleep(0.05)
        pool.shutdown(wait=False, cancel_futures=True)
        gate.set()
        results = await asyncio.gather(*queued, return_exceptions=True)
        await blocker
        return results

    results = run(main())
    pool.shutdown()
    assert ran == [] and all(isinstance(r, asyncio.CancelledError) for r in results)


def test_runs_on_a_shared_pool_by_default_and_on_the_default_executor_when_set():
    name = lambda: threading.current_thread().name  # noqa: E731

    async def shared():
        return await fastchan.to_thread(name)

    async def with_executor(executor):
        asyncio.get_running_loop().set_default_executor(executor)
        return await fastchan.to_thread(name)

    assert run(shared()).startswith("fastchan.to_thread_")
    assert run(with_executor(fastchan.ThreadPool(1, thread_name_prefix="mine"))).startswith("mine_")
    stdlib = cf.ThreadPoolExecutor(1, thread_name_prefix="stdlib")
    assert run(with_executor(stdlib)).startswith("stdlib_")


def test_rejects_a_non_callable():
    async def main():
        await fastchan.to_thread(None)

    with pytest.raises(TypeError, match="func must be callable, not NoneType None"):
        run(main())


def test_install_routes_asyncio_to_thread():
    original = asyncio.to_thread
    fastchan.install()
    try:
        assert asyncio.to_thread is fastchan.to_thread
        assert asyncio.threads.to_thread is fastchan.to_thread
    finally:
        fastchan.uninstall()
    assert asyncio.to_thread is original and asyncio.threads.to_thread is original


def test_on_uvloop():
    uvloop = pytest.importorskip("uvloop")

    def slow(x):
        time.sleep(0.01)  # too long for the spin: completed through the loop
        return x

    async def main():
        fast = await asyncio.gather(*(fastchan.to_thread(abs, -i) for i in range(100)))
        return fast, await fastchan.to_thread(slow, "slow")

    loop = uvloop.new_event_loop()
    try:
        assert loop.run_until_complete(asyncio.wait_for(main(), TIMEOUT)) == (list(range(100)), "slow")
    finally:
        loop.close()
