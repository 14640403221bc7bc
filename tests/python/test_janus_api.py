"""janus's API on fastchan: `from fastchan import janus` runs janus code."""

import asyncio
import sys
import threading

import pytest

import fastchan
from fastchan import janus

# janus 2.0.0's README example, as published (MIT licence, aio-libs).
JANUS_README_EXAMPLE = '''
import asyncio
import janus


def threaded(sync_q: janus.SyncQueue[int]) -> None:
    for i in range(100):
        sync_q.put(i)
    sync_q.join()


async def async_coro(async_q: janus.AsyncQueue[int]) -> None:
    for i in range(100):
        val = await async_q.get()
        assert val == i
        async_q.task_done()


async def main() -> None:
    queue: janus.Queue[int] = janus.Queue()
    loop = asyncio.get_running_loop()
    fut = loop.run_in_executor(None, threaded, queue.sync_q)
    await async_coro(queue.async_q)
    await fut
    await queue.aclose()


asyncio.run(main())
'''


def test_janus_readme_example_runs_unchanged(monkeypatch):
    monkeypatch.setitem(sys.modules, "janus", janus)
    namespace = {"__name__": "janus_example"}
    exec(compile(JANUS_README_EXAMPLE, "janus_readme_example", "exec"), namespace)
    assert namespace["janus"] is janus


@pytest.mark.parametrize("cls", [janus.Queue, janus.LifoQueue, janus.PriorityQueue])
def test_close_shuts_down_both_views_at_once(cls):
    q = cls(4)
    q.sync_q.put(1)
    q.sync_q.put(2)
    assert not q.closed and not q.sync_q.closed and not q.async_q.closed
    blocked = []

    def getter():  # takes what is left until the shutdown says stop
        try:
            while True:
                blocked.append(q.sync_q.get())
        except janus.SyncQueueShutDown:
            blocked.append("shut down")

    q.close()  # shutdown(immediate=True): the two items are dropped
    assert q.closed and q.sync_q.closed and q.async_q.closed
    thread = threading.Thread(target=getter)
    thread.start()
    thread.join()
    assert blocked == ["shut down"]
    assert q.unfinished_tasks == 0
    with pytest.raises(janus.AsyncQueueShutDown):
        q.async_q.put_nowait(3)


def test_close_wakes_waiting_thread_and_task():
    q = janus.Queue(1)
    outcomes = []
    started = threading.Event()

    def thread_getter():
        started.set()
        try:
            q.sync_q.get()
        except janus.SyncQueueShutDown:
            outcomes.append("thread")

    async def main():
        thread = threading.Thread(target=thread_getter)
        thread.start()
        task = asyncio.ensure_future(q.async_q.get())
        await asyncio.sleep(0)
        await asyncio.to_thread(started.wait)
        await q.aclose()
        with pytest.raises(janus.AsyncQueueShutDown):
            await task
        outcomes.append("task")
        await asyncio.to_thread(thread.join)

    asyncio.run(main())
    assert sorted(outcomes) == ["task", "thread"]


def test_wait_closed_on_an_open_queue_is_an_error():
    async def main():
        with pytest.raises(RuntimeError, match="non-closed"):
            await fastchan.Queue().wait_closed()
        q = fastchan.asyncio.Queue()
        q.shutdown()  # janus: closed after any shutdown
        assert q.closed and q.sync_q.closed
        await q.wait_closed()

    asyncio.run(main())


def test_exceptions_are_caught_by_either_family():
    import queue as std_queue

    assert issubclass(janus.SyncQueueEmpty, std_queue.Empty)
    assert issubclass(janus.AsyncQueueEmpty, asyncio.QueueEmpty)
    assert issubclass(janus.SyncQueueFull, std_queue.Full)
    assert issubclass(janus.AsyncQueueFull, asyncio.QueueFull)
