"""fastchan.Channel and select from asyncio: asend/arecv/async for, threads
and several loops on one channel, select_async, and cancellation that never
loses or duplicates an item."""

import asyncio
import collections
import random
import threading

import pytest

import fastchan
from fastchan import recv, select_async, send

TIMEOUT = 30


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))



def test_asend_arecv_and_async_for(capacity):
    async def main():
        ch = fastchan.Channel(capacity)

        async def produce():
            for i in range(200):
                await ch.asend(i)
            ch.close()

        producer = asyncio.create_task(produce())
        got = [x async for x in ch]
        await producer
        with pytest.raises(fastchan.ChannelClosed):
            await ch.asend(1)
        with pytest.raises(fastchan.ChannelClosed):
            await ch.arecv()
        return got

    assert run(main()) == list(range(200))


def test_a_rendezvous_asend_waits_for_a_receiver():
    async def main():
        ch = fastchan.Channel()
        sender = asyncio.create_task(ch.asend("x"))
        await asyncio.sleep(0.05)
        assert not sender.done()
        assert await ch.arecv() == "x"
        await sender

    run(main())


def test_threads_and_a_loop_share_a_channel(capacity):
    ch, back = fastchan.Channel(capacity), fastchan.Channel(capacity)

    def thread_side():
        for i in range(300):
            ch.send(i)  # thread -> loop
        for _ in range(300):
            back.recv()  # loop -> thread

    async def main():
        t = threading.Thread(target=thread_side)
        t.start()
        got = [await ch.arecv() for _ in range(300)]
        for i in range(300):
            await back.asend(i)
        await asyncio.get_running_loop().run_in_executor(None, t.join)
        return got

    assert run(main()) == list(range(300))


def test_two_loops_in_two_threads_exchange_through_a_rendezvous():
    ch = fastchan.Channel()
    got = []

    async def consumer():
        async for x in ch:
            got.append(x)

    async def producer():
        for i in range(500):
            await ch.asend(i)
        ch.close()

    t = threading.Thread(target=lambda: asyncio.run(consumer()))
    t.start()
    run(producer())
    t.join(TIMEOUT)
    assert got == list(range(500))


def test_select_async_cases():
    async def main():
        a, b = fastchan.Channel(), fastchan.Channel(2)
        await b.asend("ready")
        assert await select_async([recv(a), recv(b)]) == (1, "ready")
        assert await select_async([recv(a)], default="none") == (None, "none")
        with pytest.raises(TimeoutError, match="select timed out"):
            await select_async([recv(a)], timeout=0.02)
        later = asyncio.get_running_loop().call_later(0.02, b.send, "later")
        assert await select_async([recv(a), recv(b)], timeout=TIMEOUT) == (1, "later")
        later.cancel()
        receiver = asyncio.create_task(a.arecv())
        assert await select_async([send(a, "handed")], timeout=TIMEOUT) == (0, None)
        assert await receiver == "handed"
        b.close()
        index, value = await select_async([recv(a), recv(b)])
        assert index == 1 and value is fastchan.CLOSED
        with pytest.raises(fastchan.ChannelClosed):
            await select_async([send(b, 1)])

    run(main())


@pytest.mark.parametrize(
    "cases, kwargs, error",
    [([], {}, ValueError), ([7], {}, TypeError), (None, {"timeout": -1}, ValueError),
     (None, {"timeout": "soon"}, TypeError)],
)
def test_select_async_bad_input(cases, kwargs, error):
    async def main():
        ch = fastchan.Channel()
        await select_async([recv(ch)] if cases is None else cases, **kwargs)

    with pytest.raises(error):
        run(main())


@pytest.mark.parametrize("capacity", [0, 2], ids=["rendezvous", "buffered2"])
def test_cancellation_never_loses_or_duplicates_an_item(capacity):
    # Senders and receivers are cancelled at random moments. An item counts
    # as sent once asend() returned, as received once arecv() returned; at
    # the end (with what is still buffered) both tallies must agree.
    async def main():
        ch = fastchan.Channel(capacity)
        sent, received = collections.Counter(), collections.Counter()
        rng = random.Random(1)

        async def sender(k):
            for i in range(200):
                await ch.asend((k, i))
                sent[(k, i)] += 1

        async def receiver():
            while True:
                received[await ch.arecv()] += 1

        tasks = [asyncio.create_task(sender(k)) for k in range(4)]
        tasks += [asyncio.create_task(receiver()) for _ in range(4)]
        for _ in range(300):
            await asyncio.sleep(0)
            victim = rng.choice(tasks)
            if not victim.done():
                victim.cancel()
            # replace what was cancelled so that work continues
            for i, t in enumerate(tasks):
                if t.done() and i >= 4:
                    tasks[i] = asyncio.create_task(receiver())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        while True:
            try:
                received[ch.try_recv()] += 1
            except fastchan.Empty:
                break
        return sent, received

    sent, received = run(main())
    assert sum(sent.values()) > 0
    assert received == sent


def test_select_exactly_once_across_threads_and_a_loop():
    a, b = fastchan.Channel(), fastchan.Channel(4)
    per_thread, threads = 1500, 2
    received = collections.Counter()
    lock = threading.Lock()

    def thread_consumer():
        mine = collections.Counter()
        open_channels = [a, b]
        while open_channels:
            index, value = fastchan.select([recv(ch) for ch in open_channels])
            if value is fastchan.CLOSED:
                open_channels.pop(index)
            else:
                mine[value] += 1
        with lock:
            received.update(mine)

    def thread_producer(k):
        for i in range(per_thread):
            fastchan.select([send(a, ("t", k, i)), send(b, ("t", k, i))])

    async def loop_side():
        async def produce():
            for i in range(per_thread):
                await select_async([send(a, ("loop", i)), send(b, ("loop", i))])

        async def consume():
            mine = collections.Counter()
            open_channels = [a, b]
            while open_channels:
                index, value = await select_async([recv(ch) for ch in open_channels])
                if value is fastchan.CLOSED:
                    open_channels.pop(index)
                else:
                    mine[value] += 1
            return mine

        consumer = asyncio.create_task(consume())
        await produce()
        return consumer

    consumers = [threading.Thread(target=thread_consumer) for _ in range(2)]
    producers = [threading.Thread(target=thread_producer, args=(k,)) for k in range(threads)]
    for t in consumers + producers:
        t.start()

    async def main():
        consumer = await loop_side()
        await asyncio.get_running_loop().run_in_executor(None, lambda: [t.join() for t in producers])
        a.close()
        b.close()
        mine = await consumer
        with lock:
            received.update(mine)

    run(main())
    for t in consumers:
        t.join(TIMEOUT)
    expected = collections.Counter([("t", k, i) for k in range(threads) for i in range(per_thread)]
                                   + [("loop", i) for i in range(per_thread)])
    assert received == expected
