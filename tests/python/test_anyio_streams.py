"""fastchan.anyio: anyio's memory object streams on fastchan's memory channel,
shared by threads, asyncio and trio (through anyio's backends) at once, with
cancellations and timeouts that lose nothing. (anyio's own tests of the API
run against it in tests/peers/anyio.)"""

import asyncio
import collections
import math
import random
import subprocess
import sys
import threading
import time

import pytest

anyio = pytest.importorskip("anyio")
trio = pytest.importorskip("trio")

from fastchan.anyio import (  # noqa: E402
    MemoryObjectReceiveStream,
    MemoryObjectSendStream,
    MemoryObjectStreamStatistics,
    create_memory_object_stream,
)

BACKENDS = ["asyncio", "trio"]


def wait_until(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def start(target, *args):
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def join(*threads, timeout=60):
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a worker hung"


# -- Exactly once, everywhere at once -----------------------------------------


@pytest.mark.parametrize("size", [0, 3])
def test_items_are_counted_exactly_once_across_threads_asyncio_and_trio(size):
    # Producers and consumers in plain threads (with timeouts), an asyncio
    # run and a trio run (each in its own thread, with move_on_after and
    # fail_after deadlines cancelling them mid-wait) share one stream. A send
    # that returned happened; one that was cancelled or timed out did not,
    # and is retried: every item must be received exactly once.
    per_producer = 250
    send, receive = create_memory_object_stream[tuple](size)
    sends = [send.clone() for _ in range(6)]
    receives = [receive.clone() for _ in range(6)]
    send.close()
    receive.close()
    sent, received = collections.Counter(), collections.Counter()
    count_lock = threading.Lock()

    def count(counter, item):
        with count_lock:
            counter[item] += 1

    async def producer(name, stream):
        rng = random.Random(name)
        with stream:
            for i in range(per_producer):
                while True:
                    done = False
                    with anyio.move_on_after(rng.choice([0, 0.0002, 0.002, 5])):
                        await stream.send((name, i))
                        done = True
                    if done:
                        break
                count(sent, (name, i))

    async def consumer(name, stream):
        rng = random.Random(name)
        with stream:
            while True:
                try:
                    with anyio.fail_after(rng.choice([0.0002, 0.002, 5])):
                        item = await stream.receive()
                except TimeoutError:
                    continue
                except anyio.EndOfStream:
                    return
                count(received, item)

    def run(backend, index):
        async def main():
            async with anyio.create_task_group() as tg:
                tg.start_soon(producer, f"{backend}-producer-{index}", sends.pop())
                tg.start_soon(consumer, f"{backend}-consumer-{index}", receives.pop())

        anyio.run(main, backend=backend)

    def thread_producer(name, stream):
        rng = random.Random(name)
        with stream:
            for i in range(per_producer):
                while True:
                    try:
                        stream.send_blocking((name, i), timeout=rng.choice([None, 0, 0.0005]))
                        break
                    except TimeoutError:
                        continue
                count(sent, (name, i))

    def thread_consumer(name, stream):
        rng = random.Random(name)
        with stream:
            while True:
                try:
                    item = stream.receive_blocking(timeout=rng.choice([None, 0, 0.0005]))
                except TimeoutError:
                    continue
                except anyio.EndOfStream:
                    return
                count(received, item)

    workers = [start(run, "asyncio", 0), start(run, "asyncio", 1), start(run, "trio", 0), start(run, "trio", 1)]
    workers += [start(thread_producer, "thread-producer-0", sends.pop()),
                start(thread_producer, "thread-producer-1", sends.pop()),
                start(thread_consumer, "thread-consumer-0", receives.pop()),
                start(thread_consumer, "thread-consumer-1", receives.pop())]
    join(*workers)
    assert sum(sent.values()) == 6 * per_producer
    assert set(sent.values()) == {1}
    assert received == sent  # each item once, none lost, none made up


@pytest.mark.parametrize("backend", BACKENDS)
def test_cancelled_receivers_lose_nothing_sent_from_another_thread(backend):
    # A thread sends while receivers' deadlines expire around it.
    send, receive = create_memory_object_stream[int](0)
    got = []

    def feed():
        with send:
            for i in range(400):
                send.send_blocking(i)

    async def main():
        with receive:
            feeder = start(feed)
            while True:
                with anyio.move_on_after(random.choice([0, 0.0001, 0.001])):
                    try:
                        got.append(await receive.receive())
                    except anyio.EndOfStream:
                        break
            await anyio.to_thread.run_sync(join, feeder)

    anyio.run(main, backend=backend)
    assert got == list(range(400))  # one receiver: in order, once each


def test_asyncio_a_send_whose_item_was_taken_returns_and_the_scope_stays_cancelled():
    # The item was received (the send cannot be undone): send returns, and
    # the anyio scope still ends cancelled at its next checkpoint.
    async def main():
        send, receive = create_memory_object_stream[str](0)
        outcome = []
        with send, receive:
            async def sender(task_status):
                with anyio.CancelScope() as scope:
                    task_status.started(scope)
                    await send.send("X")
                    outcome.append("sent")
                    await anyio.sleep(10)
                    outcome.append("not cancelled")
                outcome.append(scope.cancelled_caught)

            async with anyio.create_task_group() as tg:
                scope = await tg.start(sender)
                await anyio.wait_all_tasks_blocked()
                assert receive.receive_nowait() == "X"  # serves the waiting sender
                scope.cancel()  # before the sender ran again
        assert outcome == ["sent", True]

    anyio.run(main, backend="asyncio")


@pytest.mark.parametrize("backend", BACKENDS)
def test_fail_after_on_a_waiting_send_leaves_nothing_behind(backend):
    async def main():
        send, receive = create_memory_object_stream[str](1)
        with send, receive:
            send.send_nowait("first")
            with pytest.raises(TimeoutError):
                with anyio.fail_after(0.01):
                    await send.send("second")
            assert send.statistics().tasks_waiting_send == 0
            assert receive.receive_nowait() == "first"
            with pytest.raises(anyio.WouldBlock):
                receive.receive_nowait()

    anyio.run(main, backend=backend)


def test_a_cancelled_asyncio_receiver_is_skipped_by_a_sender_in_another_thread():
    async def main():
        send, receive = create_memory_object_stream[str](1)
        with send, receive:
            task = asyncio.ensure_future(receive.receive())
            await anyio.wait_all_tasks_blocked()
            task.cancel()  # pending: the task has not run yet
            await anyio.to_thread.run_sync(send.send_nowait, "X")
            with pytest.raises(asyncio.CancelledError):
                await task
            assert receive.receive_nowait() == "X"

    anyio.run(main, backend="asyncio")


# -- Threads ------------------------------------------------------------------


def test_threads_block_and_time_out_without_effect():
    send, receive = create_memory_object_stream[int](1)
    with send, receive:
        with pytest.raises(TimeoutError):
            receive.receive_blocking(timeout=0.01)
        send.send_blocking(1)
        with pytest.raises(TimeoutError):
            send.send_blocking(2, timeout=0.01)
        assert send.statistics() == MemoryObjectStreamStatistics(1, 1, 1, 1, 0, 0)
        assert receive.receive_blocking(timeout=0) == 1
        with pytest.raises(anyio.WouldBlock):
            receive.receive_nowait()


def test_a_blocked_thread_is_served_by_a_trio_task_and_counted_as_waiting():
    send, receive = create_memory_object_stream[str](0)
    results = []
    with send, receive:
        consumer = start(lambda: results.append(receive.receive_blocking()))
        wait_until(lambda: send.statistics().tasks_waiting_receive == 1)

        async def main():
            await send.send("hello")

        anyio.run(main, backend="trio")
        join(consumer)
    assert results == ["hello"]


def test_blocking_calls_refuse_to_block_an_event_loop():
    async def main():
        send, receive = create_memory_object_stream[int](0)
        with send, receive:
            with pytest.raises(RuntimeError, match="would block the .* event loop"):
                send.send_blocking(1)
            with pytest.raises(RuntimeError, match="would block"):
                receive.receive_blocking(timeout=0)

    for backend in BACKENDS:
        anyio.run(main, backend=backend)


@pytest.mark.parametrize("timeout, error, text", [
    (-1, ValueError, "non-negative number or None, not -1"),
    (math.nan, ValueError, "not nan"),
    ("1", TypeError, "not str '1'"),
])
def test_bad_timeouts_are_named(timeout, error, text):
    send, receive = create_memory_object_stream[int](1)
    with send, receive:
        with pytest.raises(error, match=text):
            send.send_blocking(1, timeout=timeout)
        with pytest.raises(error, match=text):
            receive.receive_blocking(timeout=timeout)
        assert send.statistics().current_buffer_used == 0  # nothing happened


# -- Closing ------------------------------------------------------------------


def test_closing_wakes_blocked_threads_with_anyios_errors():
    send, receive = create_memory_object_stream[int](0)
    other = receive.clone()
    outcomes = []

    def catch(call):
        try:
            call()
        except Exception as error:
            outcomes.append(type(error))

    thread = start(catch, receive.receive_blocking)
    wait_until(lambda: send.statistics().tasks_waiting_receive == 1)
    receive.close()  # this clone's own waiter: ClosedResourceError
    join(thread)
    thread = start(catch, other.receive_blocking)
    wait_until(lambda: send.statistics().tasks_waiting_receive == 1)
    send.close()  # the last sender: EndOfStream
    join(thread)
    send2, receive2 = create_memory_object_stream[int](0)
    thread = start(catch, lambda: send2.send_blocking(1))
    wait_until(lambda: send2.statistics().tasks_waiting_send == 1)
    receive2.close()  # the last receiver: BrokenResourceError
    join(thread)
    assert outcomes == [anyio.ClosedResourceError, anyio.EndOfStream, anyio.BrokenResourceError]
    other.close()
    send2.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_close_semantics_follow_anyio(backend):
    async def main():
        send, receive = create_memory_object_stream[int](2)
        send.send_nowait(1)
        clone = send.clone()
        async with send:
            pass
        with pytest.raises(anyio.ClosedResourceError):
            send.send_nowait(2)
        with pytest.raises(anyio.ClosedResourceError):
            send.clone()
        clone.send_nowait(2)
        await clone.aclose()
        assert [item async for item in receive] == [1, 2]  # drained, then EndOfStream ends the loop
        with pytest.raises(anyio.EndOfStream):
            receive.receive_nowait()
        receive.close()
        receive.close()  # idempotent
        with pytest.raises(anyio.ClosedResourceError):
            await receive.receive()

        send, receive = create_memory_object_stream[int](2)
        send.send_nowait(1)
        await receive.aclose()
        with pytest.raises(anyio.BrokenResourceError):
            await send.send(2)
        assert send.statistics().current_buffer_used == 1  # anyio keeps the buffer (trio drops it)
        send.close()

    anyio.run(main, backend=backend)


# -- Construction and bad input -----------------------------------------------


@pytest.mark.parametrize("size, text", [
    (1.0, r"either an integer or math.inf, not float 1.0"),
    ("3", r"either an integer or math.inf, not str '3'"),
    (None, r"either an integer or math.inf, not NoneType None"),
    (-1, r"cannot be negative \(got -1\)"),
])
def test_bad_buffer_sizes_raise_anyios_value_error_naming_the_value(size, text):
    with pytest.raises(ValueError, match=text):
        create_memory_object_stream(size)


def test_sizes_and_the_typed_form():
    for size in (0, 5, math.inf, float("inf")):
        send, receive = create_memory_object_stream[int](size)
        assert send.statistics().max_buffer_size == size
        send.close()
        receive.close()
    send, receive = create_memory_object_stream()
    assert isinstance(send, MemoryObjectSendStream) and isinstance(receive, MemoryObjectReceiveStream)
    assert isinstance(send, anyio.abc.ObjectSendStream) and isinstance(receive, anyio.abc.ObjectReceiveStream)
    assert send.statistics() == (0, 0, 1, 1, 0, 0)
    send.close()
    receive.close()
    with pytest.warns(DeprecationWarning, match="item_type argument"):
        send, receive = create_memory_object_stream(1, int)
    send.close()
    receive.close()


def test_streams_are_made_only_by_create_memory_object_stream():
    with pytest.raises(TypeError, match="create_memory_object_stream"):
        MemoryObjectSendStream()
    with pytest.raises(TypeError, match="create_memory_object_stream"):
        MemoryObjectReceiveStream()


def test_awaiting_outside_an_event_loop_is_refused():
    send, receive = create_memory_object_stream[int](1)
    with send, receive:
        coroutine = send.send(1)
        with pytest.raises(RuntimeError, match="must be awaited in a task"):
            coroutine.send(None)
        assert send.statistics().current_buffer_used == 0


def test_importing_and_using_it_under_asyncio_does_not_import_trio():
    code = (
        "import sys, asyncio, fastchan.anyio\n"
        "async def main():\n"
        "    s, r = fastchan.anyio.create_memory_object_stream(1)\n"
        "    await s.send(1)\n"
        "    assert await r.receive() == 1\n"
        "    s.close(); r.close()\n"
        "asyncio.run(main())\n"
        "print('trio' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_send_takes_anyio_keyword_item():
    # anyio's parameter is `item` (trio's channels call it `value`).
    async def main() -> list[int]:
        send, receive = create_memory_object_stream[int](2)
        send.send_nowait(item=1)
        await send.send(item=2)
        return [receive.receive_nowait(), await receive.receive()]

    assert anyio.run(main) == [1, 2]
