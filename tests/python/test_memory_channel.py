"""fastchan.open_memory_channel with trio's names and semantics: under
trio.run (checkpoints, cancellation without loss, trio's exceptions), under
asyncio, and fed from another thread."""

import asyncio
import collections
import math
import random
import threading
import time

import pytest

import fastchan
from fastchan import memory_channel

trio = pytest.importorskip("trio")
import trio.testing  # noqa: E402

TIMEOUT = 30


def run_trio(fn, *args):
    async def guarded():
        with trio.fail_after(TIMEOUT):
            return await fn(*args)

    return trio.run(guarded)


@pytest.mark.parametrize("size", [0, 1, 5, math.inf])
def test_producer_consumer_with_async_with_and_async_for(size):
    async def main():
        send_channel, receive_channel = fastchan.open_memory_channel(size)
        got = []

        async def producer():
            async with send_channel:
                for i in range(100):
                    await send_channel.send(i)

        async def consumer():
            async with receive_channel:
                async for value in receive_channel:
                    got.append(value)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(producer)
            nursery.start_soon(consumer)
        return got

    assert run_trio(main) == list(range(100))


def test_nowait_operations_and_statistics():
    s, r = fastchan.open_memory_channel(2)
    s.send_nowait("a")
    s.send_nowait("b")
    with pytest.raises(trio.WouldBlock):
        s.send_nowait("c")
    stats = r.statistics()
    assert (stats.current_buffer_used, stats.max_buffer_size) == (2, 2)
    assert (stats.open_send_channels, stats.open_receive_channels) == (1, 1)
    assert (stats.tasks_waiting_send, stats.tasks_waiting_receive) == (0, 0)
    assert [r.receive_nowait(), r.receive_nowait()] == ["a", "b"]
    with pytest.raises(trio.WouldBlock):
        r.receive_nowait()
    s0, r0 = fastchan.open_memory_channel(0)
    with pytest.raises(trio.WouldBlock):
        s0.send_nowait(1)  # nobody is receiving


def test_closing_the_last_sender_ends_the_stream_after_the_buffer():
    s, r = fastchan.open_memory_channel(3)
    s2 = s.clone()
    s.send_nowait(1)
    s.close()
    s2.send_nowait(2)  # another clone is still open
    assert r.statistics().open_send_channels == 1
    s2.close()
    assert [r.receive_nowait(), r.receive_nowait()] == [1, 2]
    with pytest.raises(trio.EndOfChannel):
        r.receive_nowait()
    with pytest.raises(trio.ClosedResourceError):
        s.send_nowait(3)  # a closed clone
    with pytest.raises(trio.ClosedResourceError):
        s.clone()


def test_closing_the_last_receiver_breaks_senders_and_drops_the_buffer():
    async def main():
        s, r = fastchan.open_memory_channel(0)
        outcome = []

        async def blocked_sender():
            try:
                await s.send("never received")
            except trio.BrokenResourceError:
                outcome.append("broken")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(blocked_sender)
            await trio.sleep(0.02)
            assert r.statistics().tasks_waiting_send == 1
            await r.aclose()
        assert outcome == ["broken"]
        with pytest.raises(trio.BrokenResourceError):
            s.send_nowait(1)
        with pytest.raises(trio.ClosedResourceError):
            r.receive_nowait()

    run_trio(main)
    s, r = fastchan.open_memory_channel(4)
    s.send_nowait("dropped")
    r.close()
    assert s.statistics().current_buffer_used == 0


def test_send_and_receive_are_checkpoints():
    async def main():
        s, r = fastchan.open_memory_channel(1)
        s.send_nowait("kept")
        with trio.CancelScope() as scope:
            scope.cancel()
            await r.receive()  # cancelled before it takes anything
        assert scope.cancelled_caught
        with trio.CancelScope() as scope:
            scope.cancel()
            await s.send("not sent")
        assert scope.cancelled_caught
        assert r.receive_nowait() == "kept"
        with pytest.raises(trio.WouldBlock):
            r.receive_nowait()

    run_trio(main)


@pytest.mark.parametrize("size", [0, 2])
def test_cancellation_never_loses_or_duplicates_a_value(size):
    # Senders and receivers run under short, random deadlines. A value counts
    # as sent once send() returned and as received once receive() returned;
    # with what is left in the buffer, the two tallies must agree.
    async def main():
        s, r = fastchan.open_memory_channel(size)
        sent, received = collections.Counter(), collections.Counter()
        rng = random.Random(7)

        async def sender(k):
            for i in range(300):
                with trio.move_on_after(rng.random() * 0.002):
                    await s.send((k, i))
                    sent[(k, i)] += 1

        async def receiver():
            for _ in range(600):
                with trio.move_on_after(rng.random() * 0.002):
                    received[await r.receive()] += 1

        async with trio.open_nursery() as nursery:
            for k in range(3):
                nursery.start_soon(sender, k)
            for _ in range(3):
                nursery.start_soon(receiver)
        while True:
            try:
                received[r.receive_nowait()] += 1
            except trio.WouldBlock:
                break
        return sent, received

    sent, received = run_trio(main)
    assert sum(sent.values()) > 0
    assert received == sent


def test_a_thread_feeds_a_trio_task():
    s, r = fastchan.open_memory_channel(0)

    def feed():
        for i in range(200):
            while True:
                try:
                    s.send_nowait(i)  # hands the value to the waiting task, from this thread
                    break
                except trio.WouldBlock:
                    pass
        s.close()

    async def main():
        t = threading.Thread(target=feed)
        t.start()
        got = [value async for value in r]
        await trio.to_thread.run_sync(t.join)
        return got

    assert run_trio(main) == list(range(200))


def test_the_same_channel_works_under_asyncio():
    async def main():
        s, r = fastchan.open_memory_channel(0)

        async def producer():
            async with s:
                for i in range(50):
                    await s.send(i)

        task = asyncio.create_task(producer())
        got = [value async for value in r]
        await task
        return got

    assert asyncio.run(asyncio.wait_for(main(), TIMEOUT)) == list(range(50))


@pytest.mark.parametrize(
    "size, error, text",
    [(-1, ValueError, "^max_buffer_size must be >= 0$"),
     ("3", TypeError, "max_buffer_size must be an integer or math.inf, not str '3'"),
     (1.5, TypeError, "not float 1.5"), (True, TypeError, "not bool")],
)
def test_bad_buffer_sizes_are_named(size, error, text):
    with pytest.raises(error, match=text):
        fastchan.open_memory_channel(size)


def test_channels_are_made_only_by_open_memory_channel():
    with pytest.raises(TypeError, match="open_memory_channel"):
        fastchan.MemorySendChannel()


def test_install_replaces_trio_open_memory_channel():
    original = trio.open_memory_channel
    fastchan.install()
    try:
        assert trio.open_memory_channel is fastchan.open_memory_channel
    finally:
        fastchan.uninstall()
    assert trio.open_memory_channel is original


def test_closing_a_handle_wakes_its_own_blocked_tasks_with_closed_resource_error():
    async def main():
        s, r = fastchan.open_memory_channel(0)
        r2, s2 = r.clone(), s.clone()
        outcomes = []

        async def blocked(op):
            try:
                await op()
            except trio.ClosedResourceError:
                outcomes.append("closed")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(blocked, r2.receive)
            await trio.sleep(0.02)
            r2.close()  # from this task
        async with trio.open_nursery() as nursery:
            nursery.start_soon(blocked, lambda: s2.send("x"))
            await trio.sleep(0.02)
            await trio.to_thread.run_sync(s2.close)  # from another thread
        assert outcomes == ["closed", "closed"]
        # The other handles still work.
        async with trio.open_nursery() as nursery:
            nursery.start_soon(s.send, "still open")
            assert await r.receive() == "still open"

    run_trio(main)


def test_closing_a_handle_wakes_its_blocked_asyncio_tasks_too():
    async def main():
        s, r = fastchan.open_memory_channel(0)
        r2 = r.clone()
        task = asyncio.create_task(r2.receive())
        await asyncio.sleep(0.02)
        r2.close()
        with pytest.raises(trio.ClosedResourceError):
            await task
        sender = asyncio.create_task(s.send("kept"))
        assert await r.receive() == "kept"
        await sender

    asyncio.run(asyncio.wait_for(main(), TIMEOUT))


def test_cancellation_without_loss_when_another_thread_sends():
    # A thread hands values to trio receivers that are being cancelled: a
    # cancellation that arrives after the hand-off must not lose the value.
    s, r = fastchan.open_memory_channel(0)
    total = 300
    sent = []

    def feed():
        i = 0
        while i < total:
            try:
                s.send_nowait(i)
            except trio.WouldBlock:
                time.sleep(0)  # let the trio thread have the GIL
                continue
            sent.append(i)
            i += 1
        s.close()

    async def main():
        received = []
        rng = random.Random(3)
        t = threading.Thread(target=feed)
        t.start()
        done = False
        while not done:
            with trio.move_on_after(rng.random() * 0.0005):
                try:
                    received.append(await r.receive())
                except trio.EndOfChannel:
                    done = True
        await trio.to_thread.run_sync(t.join)
        return received

    received = run_trio(main)
    assert received == sent == list(range(total))


def test_an_operation_that_is_never_awaited_takes_and_sends_nothing():
    async def main():
        s, r = fastchan.open_memory_channel(1)
        s.send_nowait("kept")
        r.receive().close()  # dropped unawaited
        s.send("never sent").close()
        assert r.receive_nowait() == "kept"
        with pytest.raises(trio.WouldBlock):
            r.receive_nowait()

    run_trio(main)


def test_an_awaited_operation_cannot_be_awaited_again():
    async def main():
        s, r = fastchan.open_memory_channel(1)
        op = s.send(1)
        await op
        with pytest.raises(RuntimeError):
            await op
        assert r.receive_nowait() == 1

    run_trio(main)


def test_statistics_count_blocked_receivers_and_senders():
    async def main():
        s, r = fastchan.open_memory_channel(0)
        got = []

        async def receiver():
            got.append(await r.receive())

        async with trio.open_nursery() as nursery:
            for _ in range(3):
                nursery.start_soon(receiver)
            await trio.testing.wait_all_tasks_blocked()
            assert r.statistics().tasks_waiting_receive == 3
            for i in range(3):
                await s.send(i)
        assert sorted(got) == [0, 1, 2]
        assert r.statistics().tasks_waiting_receive == 0

        async def sender(i):
            await s.send(i)

        async with trio.open_nursery() as nursery:
            for i in range(2):
                nursery.start_soon(sender, i)
            await trio.testing.wait_all_tasks_blocked()
            assert s.statistics().tasks_waiting_send == 2
            assert sorted([await r.receive(), await r.receive()]) == [0, 1]
        assert s.statistics().tasks_waiting_send == 0

    run_trio(main)


def test_cancelling_a_woken_receiver_passes_the_item_on_without_a_double_reschedule():
    # A is woken by another thread's send (its wake-up still in the run's
    # inbox) and then cancelled: the cancellation passes the item to B, and
    # A's task must be rescheduled exactly once (trio raises
    # TrioInternalError otherwise).
    async def main():
        s, r = fastchan.open_memory_channel(1)
        scopes, got = {}, []

        async def receiver(name):
            with trio.CancelScope() as scope:
                scopes[name] = scope
                got.append((name, await r.receive()))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(receiver, "A")
            await trio.testing.wait_all_tasks_blocked()
            nursery.start_soon(receiver, "B")
            await trio.testing.wait_all_tasks_blocked()
            sender = threading.Thread(target=s.send_nowait, args=("X",))  # hands X to A
            sender.start()
            sender.join()
            scopes["A"].cancel()
            await trio.sleep(0.05)
            scopes["B"].cancel()
        assert [item for _, item in got] == ["X"]

    for _ in range(5):
        run_trio(main)


@pytest.mark.parametrize("repeat", range(20))
def test_an_item_handed_over_survives_a_cancel_and_a_close_of_the_handle(repeat):
    # Rendezvous: another thread hands "X" to a parked receive; then the
    # receive is cancelled and its handle closed. Whichever wins, the item
    # must come out of the receive.
    async def main():
        s, r = fastchan.open_memory_channel(0)
        handle = r.clone()
        got, scope_box = [], []

        async def receiver():
            with trio.CancelScope() as scope:
                scope_box.append(scope)
                try:
                    got.append(await handle.receive())
                except trio.ClosedResourceError:
                    pass

        async with trio.open_nursery() as nursery:
            nursery.start_soon(receiver)
            await trio.testing.wait_all_tasks_blocked()
            sender = threading.Thread(target=s.send_nowait, args=("X",))  # hands X to A
            sender.start()
            sender.join()  # handed over: the receive's wake-up is on its way
            scope_box[0].cancel()
            handle.close()
        assert got == ["X"]

    run_trio(main)


def test_closing_a_handle_after_its_receiver_was_served_leaves_it_its_item():
    async def main():
        s, r = fastchan.open_memory_channel(1)
        handle = r.clone()
        outcome = []

        async def receiver():
            try:
                outcome.append(await handle.receive())
            except trio.ClosedResourceError:
                outcome.append("closed")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(receiver)
            await trio.testing.wait_all_tasks_blocked()
            s.send_nowait("X")  # handed to the waiting receiver: it owns it now
            with pytest.raises(trio.WouldBlock):
                r.receive_nowait()  # (another handle cannot take it)
            handle.close()  # too late to fail that receive
        assert outcome == ["X"]

    for _ in range(10):
        run_trio(main)


def test_operations_count_as_checkpoints_for_trio_testing():
    async def main():
        s, r = fastchan.open_memory_channel(1)
        with trio.testing.assert_checkpoints():
            await s.send(1)
        with trio.testing.assert_checkpoints():
            assert await r.receive() == 1

    run_trio(main)


# -- trio's rules (issue 14): the typed form, per-handle close, waiting-task
# priority, statistics as a value. Each runs under trio and under asyncio.


def run_asyncio(fn, *args):
    async def guarded():
        return await asyncio.wait_for(fn(*args), TIMEOUT)

    return asyncio.run(guarded())


async def settle_trio():
    await trio.testing.wait_all_tasks_blocked()


async def settle_asyncio():
    for _ in range(5):  # a few loop passes: every task started reaches its wait
        await asyncio.sleep(0)


class Trio:
    run = staticmethod(run_trio)
    settle = staticmethod(settle_trio)

    @staticmethod
    async def spawn_all(*fns):
        """Runs each fn as a task; returns once all of them ended."""
        async with trio.open_nursery() as nursery:
            for fn in fns:
                nursery.start_soon(fn)


class Asyncio:
    run = staticmethod(run_asyncio)
    settle = staticmethod(settle_asyncio)

    @staticmethod
    async def spawn_all(*fns):
        await asyncio.gather(*(fn() for fn in fns))


LIBS = pytest.mark.parametrize("lib", [Trio, Asyncio], ids=["trio", "asyncio"])


def test_the_typed_form_is_the_same_call():
    assert fastchan.open_memory_channel[int] is fastchan.open_memory_channel
    s, r = fastchan.open_memory_channel[int | str](1)
    s.send_nowait(1)
    assert r.receive_nowait() == 1
    assert isinstance(s, fastchan.MemorySendChannel) and isinstance(r, fastchan.MemoryReceiveChannel)
    assert fastchan.MemorySendChannel[int] is not None  # annotations like trio's


def test_statistics_is_a_value_with_trios_fields():
    s, r = fastchan.open_memory_channel(2)
    assert s.statistics() == r.statistics()
    assert s.statistics() == memory_channel.MemoryChannelStatistics(
        current_buffer_used=0, max_buffer_size=2, open_send_channels=1, open_receive_channels=1,
        tasks_waiting_send=0, tasks_waiting_receive=0, peak_buffer_used=0)
    s.send_nowait("a")
    s.send_nowait("b")
    r.receive_nowait()
    stats = r.statistics()
    assert (stats.current_buffer_used, stats.peak_buffer_used) == (1, 2)
    assert stats != s.clone().statistics()  # open_send_channels differs now
    with pytest.raises(AttributeError):
        stats.current_buffer_used = 5  # frozen, like trio's
    assert hash(stats) == hash(r.statistics().__class__(**vars(stats)))


@LIBS
def test_closing_a_send_clone_fails_its_blocked_send_and_delivers_nothing(lib):
    async def main():
        s1, r = fastchan.open_memory_channel(0)
        s2 = s1.clone()
        outcome = []

        async def blocked():
            try:
                await s1.send("via s1")
                outcome.append("sent")
            except trio.ClosedResourceError:
                outcome.append("closed")

        async def closer():
            await lib.settle()
            assert r.statistics().tasks_waiting_send == 1
            s1.close()
            with pytest.raises(trio.WouldBlock):
                r.receive_nowait()  # nothing goes through a closed handle

        await lib.spawn_all(blocked, closer)
        assert outcome == ["closed"]
        assert r.statistics().tasks_waiting_send == 0
        got = []

        async def receiver():
            got.append(await r.receive())

        async def sender():
            await lib.settle()
            s2.send_nowait("via s2")

        await lib.spawn_all(receiver, sender)
        assert got == ["via s2"]

    lib.run(main)


@LIBS
def test_closing_a_receive_clone_fails_its_blocked_receive_and_takes_nothing(lib):
    async def main():
        s, r1 = fastchan.open_memory_channel(0)
        r2 = r1.clone()
        outcome = []

        async def blocked():
            try:
                outcome.append(await r1.receive())
            except trio.ClosedResourceError:
                outcome.append("closed")

        async def closer():
            await lib.settle()
            r1.close()
            with pytest.raises(trio.WouldBlock):
                s.send_nowait("x")  # nobody waits any more: nothing was taken

        await lib.spawn_all(blocked, closer)
        assert outcome == ["closed"]
        assert r1.statistics().tasks_waiting_receive == 0
        with pytest.raises(trio.WouldBlock):
            r2.receive_nowait()

    lib.run(main)


@LIBS
def test_a_waiting_receiver_owns_the_item_sent_next(lib):
    async def main():
        s, r = fastchan.open_memory_channel(1)
        got = []

        async def receiver():
            got.append(await r.receive())

        async def other():
            await lib.settle()
            s.send_nowait(2)  # handed to the waiting receiver
            with pytest.raises(trio.WouldBlock):
                r.receive_nowait()
            s.send_nowait(3)  # the buffer is still free for this one
            assert r.statistics().current_buffer_used == 1

        await lib.spawn_all(receiver, other)
        assert got == [2]
        assert r.receive_nowait() == 3

    lib.run(main)


@LIBS
def test_a_waiting_sender_owns_the_slot_freed_next(lib):
    async def main():
        s, r = fastchan.open_memory_channel(1)
        s.send_nowait(1)
        outcome = []

        async def sender():
            await s.send(2)
            outcome.append("sent")

        async def other():
            await lib.settle()
            assert r.receive_nowait() == 1  # 2 moves into the freed slot now
            with pytest.raises(trio.WouldBlock):
                s.send_nowait(3)
            assert r.receive_nowait() == 2

        await lib.spawn_all(sender, other)
        assert outcome == ["sent"]

    lib.run(main)


def test_unbuffered_nowait_calls_meet_waiting_tasks_in_order_under_trio():
    async def main():
        s, r = fastchan.open_memory_channel(0)
        got = []

        async def receiver(name):
            got.append((name, await r.receive()))

        async with trio.open_nursery() as nursery:
            for name in "ABC":
                nursery.start_soon(receiver, name)
                await trio.testing.wait_all_tasks_blocked()
            for i in range(3):
                s.send_nowait(i)  # first come, first served
        assert dict(got) == {"A": 0, "B": 1, "C": 2}

    run_trio(main)


def test_trio_a_receive_whose_item_was_handed_over_is_not_cancelled():
    # The cancellation comes after the hand-off, before the task runs: as in
    # trio, the exchange wins and the task gets its item.
    async def main():
        s, r = fastchan.open_memory_channel(0)
        got, scopes = [], []

        async def receiver():
            with trio.CancelScope() as scope:
                scopes.append(scope)
                got.append(await r.receive())

        async with trio.open_nursery() as nursery:
            nursery.start_soon(receiver)
            await trio.testing.wait_all_tasks_blocked()
            s.send_nowait("X")
            scopes[0].cancel()
        assert got == ["X"]
        assert not scopes[0].cancelled_caught

    run_trio(main)


def test_asyncio_a_cancelled_receive_gives_its_item_back_in_order():
    async def main():
        s, r = fastchan.open_memory_channel(1)
        task = asyncio.create_task(r.receive())
        await settle_asyncio()
        s.send_nowait("X")  # handed to the task...
        s.send_nowait("Y")  # ...so the buffer takes this one
        task.cancel()  # before the task ran
        with pytest.raises(asyncio.CancelledError):
            await task
        assert [r.receive_nowait(), r.receive_nowait()] == ["X", "Y"]
        with pytest.raises(trio.WouldBlock):
            r.receive_nowait()

    run_asyncio(main)


def test_asyncio_a_cancelled_receive_gives_its_item_to_the_next_waiting_receiver():
    async def main():
        s, r = fastchan.open_memory_channel(0)
        first = asyncio.create_task(r.receive())
        await settle_asyncio()
        second = asyncio.create_task(r.receive())
        await settle_asyncio()
        s.send_nowait("X")  # handed to `first`
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert await second == "X"

    run_asyncio(main)


def test_asyncio_a_send_whose_item_was_taken_returns_despite_a_cancel():
    # The item cannot be taken back (it was received): the send happened,
    # so it returns and the cancellation is suppressed.
    async def main():
        s, r = fastchan.open_memory_channel(1)
        s.send_nowait(1)
        outcome = []

        async def sender():
            await s.send(2)
            outcome.append("sent")

        task = asyncio.create_task(sender())
        await settle_asyncio()
        assert r.receive_nowait() == 1  # 2 moves into the buffer
        task.cancel()
        await task
        assert outcome == ["sent"]
        assert r.receive_nowait() == 2
        with pytest.raises(trio.WouldBlock):
            r.receive_nowait()

    run_asyncio(main)


def test_asyncio_cancellation_never_loses_or_duplicates_a_value():
    # As the trio test above: senders and receivers under short random
    # deadlines, plus a thread feeding the same channel; every item sent is
    # received exactly once.
    async def main():
        s, r = fastchan.open_memory_channel(1)
        sent, received = collections.Counter(), collections.Counter()
        rng = random.Random(11)

        def feed():
            for i in range(300):
                while True:
                    try:
                        s.send_nowait(("thread", i))
                        break
                    except trio.WouldBlock:
                        time.sleep(0)
                sent[("thread", i)] += 1

        async def sender(k):
            for i in range(300):
                try:
                    await asyncio.wait_for(s.send((k, i)), rng.random() * 0.002)
                except asyncio.TimeoutError:
                    continue
                sent[(k, i)] += 1

        async def receiver():
            for _ in range(900):
                try:
                    received[await asyncio.wait_for(r.receive(), rng.random() * 0.002)] += 1
                except asyncio.TimeoutError:
                    pass

        feeder = threading.Thread(target=feed)
        feeder.start()
        await asyncio.gather(*(sender(k) for k in range(2)), *(receiver() for _ in range(3)))
        while feeder.is_alive() or r.statistics().current_buffer_used:
            try:
                received[r.receive_nowait()] += 1
            except trio.WouldBlock:
                await asyncio.sleep(0)
        feeder.join()
        return sent, received

    sent, received = run_asyncio(main)
    assert sum(sent.values()) > 300
    assert received == sent
