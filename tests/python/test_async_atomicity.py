"""An awaited channel operation is atomic with respect to cancellation and
timeouts: either it took effect and the awaiting code gets its result, or
it had no effect and the code gets CancelledError / TimeoutError. Counted
exactly once, with a thread on the other side of the channel racing the
cancellations and timeouts, on asyncio's loop and on uvloop."""

import asyncio
import random
import threading
import time

import pytest

import fastchan
from fastchan import recv, select_async, send


N = 1500


def loop_factories():
    yield "asyncio", asyncio.new_event_loop
    try:
        import uvloop
    except ImportError:
        return
    yield "uvloop", uvloop.new_event_loop


@pytest.fixture(params=[f for _, f in loop_factories()], ids=[n for n, _ in loop_factories()])
def run(request):
    def run(coro):
        loop = request.param()
        try:
            return loop.run_until_complete(coro)
        finally:
            loop.close()

    return run


def pause_now_and_then(k):
    """The thread pauses every 64 items, so that the task on the other side
    finds nobody now and then and its timeouts strike (without the GIL the
    two run in parallel and otherwise might never miss each other)."""
    if k % 64 == 63:
        time.sleep(0.001)


def thread_sends(ch, n):
    """Sends 0..n-1 (each exactly once, waiting as long as it takes), then closes."""

    def body():
        for i in range(n):
            ch.send(i)
            pause_now_and_then(i)
        ch.close()

    t = threading.Thread(target=body)
    t.start()
    return t


def thread_receives(ch, got):
    """Receives into `got` until the channel is closed."""

    def body():
        for k, item in enumerate(ch):
            got.append(item)
            pause_now_and_then(k)

    t = threading.Thread(target=body)
    t.start()
    return t


# Receives racing timeouts.

RECEIVES = {
    "arecv": lambda ch, timeout: ch.arecv(timeout=timeout),
    "select_async": lambda ch, timeout: _select_value(ch, timeout),
    "aget_many": lambda ch, timeout: ch.aget_many(3, timeout=timeout),
}


async def _select_value(ch, timeout):
    _, value = await select_async([recv(ch)], timeout=timeout)
    if value is fastchan.CLOSED:
        raise fastchan.ChannelClosed
    return value


def _flat(results):
    out = []
    for r in results:
        out.extend(r if isinstance(r, list) else [r])
    return out


@pytest.mark.parametrize("how", sorted(RECEIVES))
@pytest.mark.parametrize("capacity", [0, 1])
def test_receive_with_timeouts_loses_nothing(run, how, capacity):
    ch = fastchan.Channel(capacity)
    rng = random.Random(1)

    async def consume():
        got, timeouts = [], 0
        while True:
            try:
                got.append(await RECEIVES[how](ch, rng.choice([0, 0.00005, 0.0002, 0.001])))
            except TimeoutError:
                timeouts += 1
            except fastchan.ChannelClosed:
                return got, timeouts

    sender = thread_sends(ch, N)
    got, timeouts = run(consume())
    sender.join()
    assert sorted(_flat(got)) == list(range(N))
    assert timeouts > 0


# Receives racing cancellation: the task's coroutine is the operation itself,
# or a coroutine that returns the operation's result at once.

async def _wrapped(ch):
    return await ch.arecv()


async def _next(ch):
    return await ch.__anext__()


CANCELLED_RECEIVES = {
    "arecv": lambda ch: ch.arecv(),
    "select_async": lambda ch: _select_value(ch, None),
    "aget_many": lambda ch: ch.aget_many(3),
    "wrapped arecv": _wrapped,
    "async for": _next,
}


@pytest.mark.parametrize("how", sorted(CANCELLED_RECEIVES))
@pytest.mark.parametrize("capacity", [0, 1])
def test_cancelled_receive_loses_nothing(run, how, capacity):
    ch = fastchan.Channel(capacity)
    rng = random.Random(2)

    async def consume():
        got, cancelled = [], 0
        while True:
            task = asyncio.ensure_future(CANCELLED_RECEIVES[how](ch))
            await asyncio.sleep(rng.choice([0, 0, 0.00005, 0.0002]))
            task.cancel()
            try:
                got.append(await task)
            except asyncio.CancelledError:
                cancelled += 1
            except (fastchan.ChannelClosed, StopAsyncIteration):
                return got, cancelled

    sender = thread_sends(ch, N)
    got, cancelled = run(consume())
    sender.join()
    assert sorted(_flat(got)) == list(range(N))
    assert cancelled > 0


def test_receive_cancelled_by_asyncio_timeout(run):
    """wait_for (an inner task on 3.10/3.11) and asyncio.timeout (3.11+)."""
    ch = fastchan.Channel(0)
    rng = random.Random(3)

    async def consume():
        got = []
        while True:
            try:
                if hasattr(asyncio, "timeout") and rng.random() < 0.5:
                    async with asyncio.timeout(rng.choice([0, 0.0001])):
                        got.append(await ch.arecv())
                else:
                    got.append(await asyncio.wait_for(ch.arecv(), rng.choice([0.00001, 0.0001])))
            except (asyncio.TimeoutError, TimeoutError):
                pass
            except fastchan.ChannelClosed:
                return got

    sender = thread_sends(ch, N)
    got = run(consume())
    sender.join()
    assert sorted(got) == list(range(N))


# Sends racing timeouts and cancellation: a send that reports failure never
# delivered its item, so retrying it never duplicates.

SENDS = {
    "asend": lambda ch, item, timeout: ch.asend(item, timeout=timeout),
    "select_async": lambda ch, item, timeout: select_async([send(ch, item)], timeout=timeout),
    "aput_many": lambda ch, item, timeout: ch.aput_many([item], timeout=timeout),
}


@pytest.mark.parametrize("how", sorted(SENDS))
@pytest.mark.parametrize("capacity", [0, 1])
def test_send_with_timeouts_never_duplicates(run, how, capacity):
    ch = fastchan.Channel(capacity)
    rng = random.Random(4)
    got = []
    receiver = thread_receives(ch, got)

    async def produce():
        timeouts = 0
        for i in range(N):
            while True:
                try:
                    await SENDS[how](ch, i, rng.choice([0, 0.00005, 0.0002, 0.001]))
                    break
                except TimeoutError:
                    timeouts += 1
        ch.close()
        return timeouts

    timeouts = run(produce())
    receiver.join()
    assert got == list(range(N))
    assert timeouts > 0


@pytest.mark.parametrize("how", sorted(SENDS))
@pytest.mark.parametrize("capacity", [0, 1])
def test_cancelled_send_never_duplicates(run, how, capacity):
    ch = fastchan.Channel(capacity)
    rng = random.Random(5)
    got = []
    receiver = thread_receives(ch, got)

    async def produce():
        cancelled = 0
        for i in range(N):
            while True:
                task = asyncio.ensure_future(SENDS[how](ch, i, None))
                await asyncio.sleep(rng.choice([0, 0, 0.00005, 0.0002]))
                task.cancel()
                try:
                    await task
                    break
                except asyncio.CancelledError:
                    cancelled += 1
        ch.close()
        return cancelled

    cancelled = run(produce())
    receiver.join()
    assert got == list(range(N))
    assert cancelled > 0


def test_try_recv_does_not_take_from_a_suspended_task():
    """A rendezvous sender suspended in asend is woken by a receiver that
    finds it, and hands over once it runs: a thread's try_recv gets
    nothing, a waiting receiver gets the item."""
    ch = fastchan.Channel(0)

    async def main():
        task = asyncio.ensure_future(ch.asend("x"))
        await asyncio.sleep(0.01)
        with pytest.raises(fastchan.Empty):
            ch.try_recv()
        got = []
        t = threading.Thread(target=lambda: got.append(ch.recv(timeout=5)))
        t.start()
        await asyncio.wait_for(task, 5)
        t.join()
        return got

    assert asyncio.run(main()) == ["x"]
