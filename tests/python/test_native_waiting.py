"""An asyncio get()/put()/join() that must wait is driven by its native
awaitable alone: no Python function of fastchan runs between the task's
first try and its result (the waiting path used to cross into Python seven
times: _get_slow, _try_get, _wait, _register_get, handle.finish()...)."""

import asyncio
import os
import sys
import threading

import pytest

import fastchan
import fastchan.asyncio as fa

PACKAGE_DIR = os.path.dirname(fastchan.__file__)


def fastchan_calls_while(run):
    """The fastchan Python functions called (on this thread) while run() runs."""
    called = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(PACKAGE_DIR):
            called.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return called


async def waiting_get_put_join(q):
    async def consumer():
        items = [await q.get() for _ in range(3)]  # waits: empty
        for _ in items:
            q.task_done()
        return items

    task = asyncio.create_task(consumer())
    await asyncio.sleep(0)  # the consumer parks
    for i in range(3):
        await q.put(i)
        await asyncio.sleep(0)
    await q.put(3)  # fills the queue (maxsize 1) ...
    putter = asyncio.create_task(q.put(4))  # ... so this one parks
    await asyncio.sleep(0)
    assert await q.get() == 3
    await putter
    assert await q.get() == 4
    q.task_done()
    q.task_done()
    await q.join()  # waits for the consumer's task_done() calls, if not yet
    return await task


@pytest.mark.parametrize("cls", [fa.Queue, fa.LifoQueue, fa.PriorityQueue])
def test_a_waiting_operation_runs_no_python_code_of_fastchan(cls):
    loop = asyncio.new_event_loop()
    try:
        # Warm up: the loop's waker is created (in Python) on first use.
        assert loop.run_until_complete(waiting_get_put_join(cls(1))) == [0, 1, 2]
        q = cls(1)
        results = []
        called = fastchan_calls_while(lambda: results.append(loop.run_until_complete(waiting_get_put_join(q))))
    finally:
        loop.close()
    assert results == [[0, 1, 2]]
    assert called == []


def test_a_get_woken_by_a_thread_runs_no_python_code_of_fastchan():
    q = fa.Queue()
    put_from_thread = q.sync_q.put  # (sync_q is made in Python, once)

    async def main():
        await asyncio.sleep(0)
        threading.Timer(0.05, put_from_thread, args=("x",)).start()
        return await q.get()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(waiting_get_put_join(fa.Queue(1)))  # warm up
        results = []
        called = fastchan_calls_while(lambda: results.append(loop.run_until_complete(main())))
    finally:
        loop.close()
    assert results == ["x"]
    # The loop's reader callback is the native LoopWaker.drain.
    assert called == []


class Held:
    """An item whose lifetime the test watches."""


@pytest.mark.parametrize("outcome", ["put", "put after waiting", "shut down", "cancelled"])
def test_a_finished_put_lets_go_of_its_item(outcome):
    # A finished awaitable may outlive its await: before 3.12 wait_for() runs
    # it in a Task, which keeps it while a done-callback's handle holds the
    # Task. It must not keep the item too (the item of a put that a
    # shutdown(immediate=True) dropped lived on, finalized by the loop later).
    import weakref

    q = fa.Queue(1)

    async def main():
        item = Held()
        ref = weakref.ref(item)
        op = q.put(item)
        if outcome == "shut down":
            q.shutdown()
            with pytest.raises(fastchan.ShutDown):
                await op
        elif outcome == "cancelled":
            q.put_nowait("filler")
            task = asyncio.ensure_future(op)
            await asyncio.sleep(0)  # parked: the queue is full
            task.cancel()
            await asyncio.wait([task])
            assert task.cancelled()
        else:
            if outcome == "put after waiting":
                q.put_nowait("filler")
                asyncio.get_running_loop().call_later(0.01, q.get_nowait)
            await op
            assert q.get_nowait() is item  # the queue lets go of it
        del item
        return ref, op  # (the awaitable stays alive)

    ref, op = asyncio.run(main())
    assert ref() is None, "the finished awaitable still holds the item"
