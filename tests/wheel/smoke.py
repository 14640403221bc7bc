"""The release wheels' smoke test (pyproject.toml [tool.cibuildwheel]): run
by the installed wheel's Python on every platform, outside the source tree.
A few seconds: threads, asyncio on the platform's default event loop
(Windows: the Proactor loop, which has no add_reader), the pool, and the
C++ headers' location. The full suites run from tests/run_all.sh."""

import asyncio
import os
import sys
import threading

import fastchan

N = 10_000


def threads() -> None:
    q: fastchan.Queue[int] = fastchan.Queue(maxsize=16)
    got: list[int] = []
    consumer = threading.Thread(target=lambda: got.extend(q.get() for _ in range(N)))
    consumer.start()
    for i in range(N):
        q.put(i)
    consumer.join()
    assert got == list(range(N)), "threads: items lost or reordered"


async def tasks_and_a_thread() -> None:
    q: fastchan.Queue[int] = fastchan.Queue(maxsize=16)
    producer = threading.Thread(target=lambda: [q.put(i) for i in range(N)])
    producer.start()
    got = [await q.async_q.get() for _ in range(N)]  # woken from another thread
    producer.join()
    assert got == list(range(N)), "asyncio: items lost or reordered"
    assert await fastchan.to_thread(sum, range(10)) == 45


def pool() -> None:
    with fastchan.ThreadPool(2) as workers:
        assert list(workers.map(abs, range(-50, 0))) == list(range(50, 0, -1))


def headers() -> None:
    assert os.path.isfile(os.path.join(fastchan.get_include(), "fastchan", "channel.hpp"))


threads()
asyncio.run(tasks_and_a_thread())
pool()
headers()
gil = getattr(sys, "_is_gil_enabled", lambda: True)()
print(f"fastchan {fastchan.__version__} smoke test passed on {sys.platform}, Python {sys.version.split()[0]}, GIL {'on' if gil else 'off'}")
