"""What a user's type checker sees (checked by mypy --strict, never run):
generic classes are typed by their item type. A `type: ignore[...]` marks a
call that must be refused: strict mode's warn_unused_ignores fails the check
if it is accepted."""

from __future__ import annotations

import array
from typing import Any
import asyncio
import queue

from typing_extensions import assert_type

import fastchan
import fastchan.asyncio
from fastchan import janus


def threads(q: fastchan.Queue[int], s: fastchan.SimpleQueue[str], lifo: fastchan.LifoQueue[bytes]) -> None:
    q.put(1)
    q.put("one")  # type: ignore[arg-type]
    assert_type(q.get(), int)
    assert_type(q.get_nowait(), int)
    assert_type(q.get_many(4), "list[int] | array.array[Any]")
    assert_type(q.async_q, "fastchan.asyncio.Queue[int]")
    assert_type(q.sync_q, "fastchan.Queue[int]")
    assert_type(s.get(timeout=1.0), str)
    s.put(b"")  # type: ignore[arg-type]
    assert_type(lifo.get(), bytes)
    assert_type(q.maxsize, int)
    try:
        q.get_nowait()
    except (fastchan.Empty, queue.Empty, asyncio.QueueEmpty):
        pass


async def tasks(q: fastchan.asyncio.Queue[int], ch: fastchan.Channel[str]) -> None:
    await q.put(1)
    await q.put("one")  # type: ignore[arg-type]
    assert_type(await q.get(), int)
    assert_type(q.get_nowait(), int)
    assert_type(q.sync_q, "fastchan.Queue[int]")
    await ch.asend("x")
    assert_type(await ch.arecv(), str)
    assert_type(ch.recv(timeout=0.5), str)
    async for item in ch:
        assert_type(item, str)
    index, value = await fastchan.select_async([fastchan.recv(ch)], timeout=1)
    assert_type(index, "int | None")


def pools() -> None:
    with fastchan.ThreadPool(2, max_pending=4) as pool:
        future = pool.submit(len, "abc")
        assert_type(future, "fastchan.Future[int]")
        assert_type(future.result(), int)
        assert_type(list(pool.map(str, [1, 2])), "list[str]")
    j: janus.Queue[int] = janus.Queue()
    assert_type(j.async_q, "fastchan.asyncio.Queue[int]")


async def to_thread() -> None:
    assert_type(await fastchan.to_thread(len, "abc"), int)


def processes(pq: fastchan.ProcessQueue[int]) -> None:
    pq.put(1)
    pq.put("one")  # type: ignore[arg-type]
    assert_type(pq.get(timeout=1.0), int)
    assert_type(pq.get_many(8), "list[int]")
    assert_type(pq.stats(), "dict[str, int]")
    assert_type(fastchan.ProcessQueue[str](10, nbytes=1 << 16).get_nowait(), str)
    typed = fastchan.ProcessQueue[int](dtype="int64")
    typed.put_many(array.array("q", [1, 2]))
    assert_type(typed.get_many(8, as_array=True), "list[int] | array.array[Any]")
    assert_type(fastchan.ProcessQueue.attach(typed.name, dtype="int64"), "fastchan.ProcessQueue[Any]")
