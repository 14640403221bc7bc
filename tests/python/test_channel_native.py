"""One fastchan.Channel used at once from C++ threads that never take the
GIL, Python threads and asyncio loops: every item arrives
exactly once. (The C++ side is the test aid _core._testing._NativeProducer /
_NativeConsumer: a std::thread on the channel's native core.)"""

import asyncio
import collections
import threading

import pytest

import fastchan
from fastchan import _core

TIMEOUT = 30



def test_cpp_and_python_producers_feed_threads_a_loop_and_a_cpp_consumer(capacity):
    ch = fastchan.Channel(capacity)
    per_producer = 3000
    native_items = [("cpp", i) for i in range(per_producer)]
    received = collections.Counter()
    lock = threading.Lock()

    def thread_consumer():
        for item in ch:
            with lock:
                received[item] += 1

    async def loop_consumer():
        async for item in ch:
            with lock:
                received[item] += 1

    def thread_producer(name):
        for i in range(per_producer):
            ch.send((name, i), timeout=TIMEOUT)

    consumers = [threading.Thread(target=thread_consumer) for _ in range(2)]
    consumers.append(threading.Thread(target=lambda: asyncio.run(asyncio.wait_for(loop_consumer(), TIMEOUT))))
    for t in consumers:
        t.start()
    native_consumer = _core._testing._NativeConsumer(ch)
    native_producer = _core._testing._NativeProducer(ch, native_items)
    producers = [threading.Thread(target=thread_producer, args=(f"py{k}",)) for k in range(2)]
    for t in producers:
        t.start()
    for t in producers:
        t.join(TIMEOUT)
    native_producer.join()
    ch.close()
    for t in consumers:
        t.join(TIMEOUT)
        assert not t.is_alive()
    for item in native_consumer.join():
        received[item] += 1

    expected = {(name, i) for name in ("cpp", "py0", "py1") for i in range(per_producer)}
    assert set(received) == expected
    assert all(count == 1 for count in received.values())


def test_a_cpp_producer_wakes_asyncio_tasks_on_two_loops(capacity):
    ch = fastchan.Channel(capacity)
    total = 4000
    got = [[], []]

    def loop(k):
        async def consume():
            async for item in ch:
                got[k].append(item)

        asyncio.run(asyncio.wait_for(consume(), TIMEOUT))

    loops = [threading.Thread(target=loop, args=(k,)) for k in range(2)]
    for t in loops:
        t.start()
    producer = _core._testing._NativeProducer(ch, range(total))
    producer.join()
    ch.close()
    for t in loops:
        t.join(TIMEOUT)
        assert not t.is_alive()
    assert sorted(got[0] + got[1]) == list(range(total))


@pytest.mark.parametrize("dtype, item", [(None, "x"), ("int64", 42)])
def test_another_extensions_send_on_the_loops_own_thread_wakes_the_task(dtype, item):
    """Another extension module's function, called from a coroutine, sends
    into a channel a task of the same loop awaits. fastchan's same-thread
    wake-ups wait for the fastchan call that caused them to return, and
    there is none here: the wake-up must go to the loop at once."""
    async def main():
        channel = fastchan.Channel(4, dtype=dtype)
        waiting = asyncio.ensure_future(channel.arecv())
        await asyncio.sleep(0.05)  # parked
        assert _core._testing._foreign_try_send(channel, item)
        return await asyncio.wait_for(waiting, 10)

    assert asyncio.run(main()) == item
