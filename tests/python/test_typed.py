"""Typed channels and queues (dtype "int64", "float64", "bytes"): values
round-trip exactly through every way in and out (send/recv, batches,
awaitables, select); a bad item raises the right exception naming it and
leaves the channel or queue as it was (a batch converts all its items
first); get_many(as_array=True); typed priority and LIFO orders; and
exactly-once delivery when threads, C++ threads and asyncio loops share
one typed channel or queue."""

import array
import asyncio
import collections
import ctypes
import decimal
import fractions
import math
import re
import sys
import threading

import pytest

import fastchan
import fastchan.asyncio
from fastchan import _core

TIMEOUT = 30
TYPED = ["int64", "float64", "bytes"]
DTYPES = [None, *TYPED]

# Values that must come back exactly, edge cases included.
VALUES = {
    None: [None, 0, (1, "a"), [2, 3], 2**100, "text", b"raw"],
    "int64": [0, 1, -1, 42, 2**63 - 1, -2**63, -12345678901234],
    "float64": [0.0, -0.0, 1.5, -2.25, math.inf, -math.inf, math.nan, 5e-324, sys.float_info.max],
    "bytes": [b"", b"\x00", b"a\x00b\x00", b"\xff" * 3, bytes(range(256)), b"x" * (1 << 20)],
}
# One good item of each dtype, to check that later items still flow.
GOOD = {None: "ok", "int64": 7, "float64": 7.5, "bytes": b"ok"}
RESULT_TYPE = {"int64": int, "float64": float, "bytes": bytes}


def key(value):
    """What must survive a round trip: the type and value; for a float also
    its sign (-0.0) and NaN-ness."""
    if isinstance(value, float):
        return (float, "nan") if math.isnan(value) else (float, value, math.copysign(1.0, value))
    return (type(value), value)


def assert_same(got, expected):
    assert [key(v) for v in got] == [key(v) for v in expected]


class Worker(threading.Thread):
    """A daemon thread that keeps its target's result or exception."""

    def __init__(self, target, *args):
        super().__init__(daemon=True)
        self._call = (target, args)
        self.result = self.error = None
        self.start()

    def run(self):
        target, args = self._call
        try:
            self.result = target(*args)
        except BaseException as error:  # reported by finish()
            self.error = error

    def finish(self, *channels):
        """Joins; a thread still waiting (a bug) is released by closing
        `channels` and reported as a failure."""
        self.join(TIMEOUT)
        if self.is_alive():
            for ch in channels:
                ch.close()
            self.join(TIMEOUT)
            pytest.fail("a worker thread was still waiting")
        if self.error is not None:
            raise self.error
        return self.result


def run_async(coro):
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))


@pytest.fixture(params=[0, 1, 64, None], ids=["rendezvous", "buffered1", "buffered64", "unbounded"])
def capacity(request):
    return request.param


def bad_item(dtype):
    """An item of the wrong type for a typed dtype."""
    return 5 if dtype == "bytes" else "not a number"


# ---------------------------------------------------------------- dtype itself


CLASSES = [fastchan.Channel, fastchan.Queue, fastchan.LifoQueue, fastchan.PriorityQueue,
           fastchan.asyncio.Queue, fastchan.asyncio.LifoQueue, fastchan.asyncio.PriorityQueue]


def test_dtype_property_repr_and_bad_dtypes():
    """On every channel and queue class, dtype reads back as given ("object"
    and None both mean objects), repr shows a typed dtype, and an unknown
    dtype is a ValueError (a non-str one a TypeError) naming it."""
    for make in CLASSES:
        check_dtype_argument(make)


def check_dtype_argument(make):
    for dtype in TYPED:
        made = make(4, dtype=dtype)
        assert made.dtype == dtype
        assert f"dtype={dtype}" in repr(made)
    for dtype in (None, "object"):
        made = make(4, dtype=dtype)
        assert made.dtype is None
        assert "dtype" not in repr(made)
    with pytest.raises(ValueError, match="'int32'"):
        make(4, dtype="int32")
    with pytest.raises(TypeError, match="int 5"):
        make(4, dtype=5)
    with pytest.raises(TypeError):
        make(4, dtype=b"int64")


# ------------------------------------------------------------ round trips


@pytest.mark.parametrize("dtype", DTYPES)
def test_send_recv_and_batches_round_trip(dtype, capacity):
    """send/recv and put_many/get_many give back every value exactly, in
    order, as the dtype's Python type."""
    ch = fastchan.Channel(capacity, dtype=dtype)
    values = VALUES[dtype]

    def send_each():
        for v in values:
            ch.send(v, timeout=TIMEOUT)

    producer = Worker(send_each)
    got = [ch.recv(timeout=TIMEOUT) for _ in values]
    producer.finish(ch)
    assert_same(got, values)

    producer = Worker(ch.put_many, values, TIMEOUT)
    got = []
    while len(got) < len(values):
        batch = ch.get_many(3, timeout=TIMEOUT)
        assert isinstance(batch, list) and 1 <= len(batch) <= 3
        got += batch
    producer.finish(ch)
    assert_same(got, values)
    assert len(ch) == 0


def test_try_send_try_recv_iteration_after_close():
    """try_send/try_recv round-trip, Full/Empty/TimeoutError as for objects,
    a timed-out batch says how far it got, and `for x in ch` drains a closed
    typed channel."""
    for dtype in DTYPES:
        ch = fastchan.Channel(len(VALUES[dtype]), dtype=dtype)
        with pytest.raises(TimeoutError, match=f"{len(VALUES[dtype])} items were sent"):
            ch.put_many(VALUES[dtype] + [GOOD[dtype]], timeout=0.01)
        assert_same(ch.get_many(100), VALUES[dtype])
        for v in VALUES[dtype]:
            ch.try_send(v)
        with pytest.raises(fastchan.Full):
            ch.try_send(GOOD[dtype])
        assert_same([ch.try_recv() for _ in VALUES[dtype]], VALUES[dtype])
        with pytest.raises(fastchan.Empty):
            ch.try_recv()
        with pytest.raises(TimeoutError):
            ch.recv(timeout=0.01)
        ch.put_many(VALUES[dtype])
        ch.close()
        assert_same(list(ch), VALUES[dtype])
        with pytest.raises(fastchan.ChannelClosed):
            ch.send(GOOD[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_awaitables_round_trip(dtype):
    """asend/arecv, aput_many/aget_many and async for give back every value
    exactly, in order (rendezvous and unbounded)."""
    values = VALUES[dtype]

    async def main(capacity):
        ch = fastchan.Channel(capacity, dtype=dtype)

        async def send_each():
            for v in values:
                await ch.asend(v, timeout=TIMEOUT)

        async def recv_each():
            return [await ch.arecv(timeout=TIMEOUT) for _ in values]

        _, got = await asyncio.gather(send_each(), recv_each())
        assert_same(got, values)

        async def get_batches():
            got = []
            while len(got) < len(values):
                batch = await ch.aget_many(4, timeout=TIMEOUT)
                assert 1 <= len(batch) <= 4
                got += batch
            return got

        _, got = await asyncio.gather(ch.aput_many(values, timeout=TIMEOUT), get_batches())
        assert_same(got, values)

        async def send_and_close():
            await ch.aput_many(values)
            ch.close()

        async def iterate():
            return [v async for v in ch]

        _, got = await asyncio.gather(send_and_close(), iterate())
        assert_same(got, values)

    for capacity in (0, None):
        run_async(main(capacity))


@pytest.mark.parametrize("dtype", DTYPES)
def test_select_round_trip(dtype):
    """select and select_async send and receive typed values exactly, and
    report a closed, drained typed channel as CLOSED."""
    values = VALUES[dtype]
    ch = fastchan.Channel(1, dtype=dtype)
    empty = fastchan.Channel(0, dtype=dtype)
    got = []
    for v in values:
        assert fastchan.select([fastchan.recv(empty), fastchan.send(ch, v)], timeout=TIMEOUT) == (1, None)
        index, value = fastchan.select([fastchan.recv(empty), fastchan.recv(ch)], timeout=TIMEOUT)
        assert index == 1
        got.append(value)
    assert_same(got, values)

    rendezvous = fastchan.Channel(0, dtype=dtype)
    producer = Worker(rendezvous.put_many, values, TIMEOUT)
    got = [fastchan.select([fastchan.recv(rendezvous)], timeout=TIMEOUT)[1] for _ in values]
    producer.finish(rendezvous)
    assert_same(got, values)

    async def main():
        got = []
        for v in values:
            assert await fastchan.select_async([fastchan.send(ch, v)], timeout=TIMEOUT) == (0, None)
            got.append((await fastchan.select_async([fastchan.recv(empty), fastchan.recv(ch)], TIMEOUT))[1])
        assert_same(got, values)
        ch.close()
        assert await fastchan.select_async([fastchan.recv(ch)], TIMEOUT) == (0, fastchan.CLOSED)

    run_async(main())
    assert fastchan.select([fastchan.recv(ch)], timeout=TIMEOUT) == (0, fastchan.CLOSED)


@pytest.mark.parametrize("dtype", DTYPES)
def test_queues_round_trip(dtype):
    """A typed Queue (its sync and asyncio faces) gives back every value
    exactly, keeping task accounting."""
    values = VALUES[dtype]
    for maxsize in (0, 16, 100_000):
        q = fastchan.Queue(maxsize, dtype=dtype)
        for v in values:
            q.put(v)
        assert q.unfinished_tasks == len(values)
        assert_same([q.get() for _ in values], values)
        q.put_many(values)
        assert_same(q.get_many(len(values) + 5), values)
        q.put_nowait(values[-1])
        assert_same([q.get_nowait()], values[-1:])
        for _ in range(2 * len(values) + 1):
            q.task_done()
        q.join()

    async def main():
        aq = fastchan.asyncio.Queue(2, dtype=dtype)

        async def consume():
            got = [await aq.get() for _ in range(2)]
            while len(got) < len(values):
                got += await aq.get_many(3)
            return got

        _, got = await asyncio.gather(aq.put_many(values), consume())  # put waits for room
        assert_same(got, values)

    run_async(main())


def test_accepted_conversions():
    """int64 takes ints and __index__ objects (bool too, as array('q'));
    float64 takes ints, __index__ and __float__ objects; bytes takes any
    bytes-like object. Items come back as int, float and bytes."""

    class Index:
        def __index__(self):
            return 7

    class Float:
        def __float__(self):
            return 2.5

    cases = {
        "int64": ([True, False, Index(), 2**62], [1, 0, 7, 2**62]),
        "float64": ([3, True, Index(), Float(), fractions.Fraction(1, 4), decimal.Decimal("0.5"), 2**63, -10**300],
                    [3.0, 1.0, 7.0, 2.5, 0.25, 0.5, float(2**63), -1e300]),
        "bytes": ([bytearray(b"ab"), memoryview(b"cd"), array.array("B", [1, 2]),
                   memoryview(bytes(range(6))).cast("B", (2, 3)), b""],
                  [b"ab", b"cd", b"\x01\x02", bytes(range(6)), b""]),
    }
    for dtype, (given, expected) in cases.items():
        ch = fastchan.Channel(None, dtype=dtype)
        q = fastchan.Queue(dtype=dtype)
        for v in given:
            ch.send(v)
            q.put(v)
        got = [ch.recv() for _ in given]
        assert_same(got, expected)
        ch.put_many(given)
        assert_same(ch.get_many(100), expected)
        assert_same(q.get_many(100), expected)


# ------------------------------------------------------------- bad items


class HugeIndex:
    def __index__(self):
        return 2**64

    def __repr__(self):
        return "HugeIndex()"


BAD = [
    ("int64", 1.5, TypeError, "an int64 item must be an int, not float 1.5"),
    ("int64", "3", TypeError, "not str '3'"),
    ("int64", 2**63, OverflowError, "9223372036854775808 does not fit in an int64 item"),
    ("int64", -2**63 - 1, OverflowError, "-9223372036854775809 does not fit in an int64 item"),
    ("int64", HugeIndex(), OverflowError, "HugeIndex() does not fit in an int64 item"),
    ("float64", "1.0", TypeError, "a float64 item must be a real number, not str '1.0'"),
    ("float64", b"1", TypeError, "not bytes b'1'"),
    ("float64", 1j, TypeError, "not complex 1j"),
    ("float64", None, TypeError, "not NoneType None"),
    ("float64", 10**400, OverflowError, "does not fit in a float64 item"),
    ("bytes", "abc", TypeError, "a bytes item must be a bytes-like object, not str 'abc'"),
    ("bytes", 5, TypeError, "not int 5"),
    ("bytes", memoryview(b"abcd")[::2], TypeError, "not memoryview"),
]
BAD_IDS = [f"{d}-{type(v).__name__}-{e.__name__}" for d, v, e, _ in BAD]


@pytest.mark.parametrize("dtype, bad, error, message", BAD, ids=BAD_IDS)
def test_bad_item_is_refused_and_leaves_channels_and_queues_intact(dtype, bad, error, message):
    """send, try_send, put_many (bad item anywhere) and a select send case,
    and a queue's put, put_nowait and put_many, raise the conversion error
    naming the value; nothing goes in (len/qsize and unfinished_tasks are
    unchanged) and later items still flow in order."""
    ch = fastchan.Channel(8, dtype=dtype)
    other = fastchan.Channel(1)
    other.send("waiting")
    ch.send(GOOD[dtype])
    for attempt in (lambda: ch.send(bad), lambda: ch.send(bad, timeout=0.01), lambda: ch.try_send(bad),
                    lambda: ch.put_many([GOOD[dtype], GOOD[dtype], bad]),
                    lambda: ch.put_many(iter([GOOD[dtype], bad, GOOD[dtype]])),
                    lambda: fastchan.select([fastchan.recv(other), fastchan.send(ch, bad)], timeout=None)):
        with pytest.raises(error, match=re.escape(message)):
            attempt()
        assert len(ch) == 1
    assert len(other) == 1  # the select's recv case did not fire either
    ch.send(GOOD[dtype])
    assert_same(ch.get_many(10), [GOOD[dtype]] * 2)

    # Queues: put, put_nowait, put_many (bad item anywhere); qsize and
    # unfinished_tasks unchanged.
    for make in (fastchan.Queue, fastchan.LifoQueue, fastchan.PriorityQueue):
        q = make(4, dtype=dtype)
        q.put(GOOD[dtype])
        for attempt in (lambda: q.put(bad), lambda: q.put(bad, timeout=0.01), lambda: q.put_nowait(bad),
                        lambda: q.put_many([bad, GOOD[dtype]]), lambda: q.put_many([GOOD[dtype], GOOD[dtype], bad]),
                        lambda: q.put_many([GOOD[dtype]] * 10 + [bad], block=False)):  # no Full: checked first
            with pytest.raises(error, match=re.escape(message)):
                attempt()
            assert q.qsize() == 1 and q.unfinished_tasks == 1
        q.put(GOOD[dtype])
        assert_same(q.get_many(10), [GOOD[dtype]] * 2)


def test_bad_item_never_waits_on_a_rendezvous():
    """On a rendezvous with a receiver waiting, or with nobody there (and no
    timeout), a bad item raises at once; the receiver then gets the next
    good item. A select whose send case is bad raises before waiting."""
    for dtype in TYPED:
        bad = bad_item(dtype)
        ch = fastchan.Channel(0, dtype=dtype)

        def refused():
            for attempt in (lambda: ch.send(bad), lambda: ch.put_many([GOOD[dtype], bad]),
                            lambda: fastchan.select([fastchan.send(ch, bad)], timeout=None),
                            lambda: fastchan.select([fastchan.recv(ch), fastchan.send(ch, bad)])):
                with pytest.raises(TypeError):
                    attempt()
            return True

        assert Worker(refused).finish(ch)  # nobody receiving
        receiver = Worker(ch.recv, TIMEOUT)
        assert Worker(refused).finish(ch)  # a receiver waiting
        ch.send(GOOD[dtype], timeout=TIMEOUT)
        assert_same([receiver.finish(ch)], [GOOD[dtype]])


def test_typed_put_many_converts_the_whole_batch_before_sending():
    """A bad item anywhere in a typed batch (list, generator, mismatching
    buffer) raises before any item is sent: on a rendezvous or a full
    channel no receiver is needed, and the channel is left as it was."""
    for capacity in (0, 1, None):
        ch = fastchan.Channel(capacity, dtype="int64")
        for batch in ([1, 2, 3, 1.5], (x for x in [1, 2, "3"]), [2**63] + list(range(100)),
                      array.array("d", [1.0, 2.0])):
            with pytest.raises((TypeError, OverflowError)):  # not TimeoutError: nothing waits
                ch.put_many(batch, timeout=TIMEOUT)
            assert len(ch) == 0
        with pytest.raises(fastchan.Empty):
            ch.try_recv()


def test_asend_bad_item_raises_its_conversion_error():
    """await asend(bad) raises the same TypeError as send(bad), on a
    buffered channel and a rendezvous, and leaves the channel intact."""
    async def main(dtype):
        bad = bad_item(dtype)
        for capacity in (4, 0):
            ch = fastchan.Channel(capacity, dtype=dtype)
            with pytest.raises(TypeError, match=re.escape(repr(bad))):
                await ch.asend(bad)
            with pytest.raises(TypeError, match=re.escape(repr(bad))):
                await ch.asend(bad, timeout=0.01)
            assert len(ch) == 0
        ch = fastchan.Channel(4, dtype=dtype)
        await ch.asend(GOOD[dtype])
        assert_same([await ch.arecv()], [GOOD[dtype]])

    for dtype in TYPED:
        run_async(main(dtype))


def test_aput_many_bad_item_sends_nothing():
    """await aput_many(...) with a bad item last raises TypeError before any
    item is sent, as put_many does."""
    async def main(dtype):
        bad = bad_item(dtype)
        ch = fastchan.Channel(4, dtype=dtype)
        with pytest.raises(TypeError, match=re.escape(repr(bad))):
            await ch.aput_many([GOOD[dtype], GOOD[dtype], bad])
        assert len(ch) == 0

    for dtype in TYPED:
        run_async(main(dtype))


def test_select_async_bad_send_raises_before_waiting():
    """select_async with a bad send case raises TypeError at once (no
    timeout needed); the other cases did not fire."""
    async def main(dtype):
        bad = bad_item(dtype)
        ch = fastchan.Channel(0, dtype=dtype)
        ready = fastchan.Channel(1, dtype=dtype)
        ready.send(GOOD[dtype])
        with pytest.raises(TypeError, match=re.escape(repr(bad))):
            await fastchan.select_async([fastchan.send(ch, bad)])
        with pytest.raises(TypeError, match=re.escape(repr(bad))):
            await fastchan.select_async([fastchan.recv(ready), fastchan.send(ch, bad)])
        assert len(ready) == 1

    for dtype in TYPED:
        run_async(main(dtype))


def test_asyncio_queue_bad_item():
    """await put(bad) on a typed asyncio queue (empty or full) raises the
    conversion error and leaves qsize and unfinished_tasks unchanged."""
    async def main(dtype):
        bad = bad_item(dtype)
        q = fastchan.asyncio.Queue(1, dtype=dtype)
        with pytest.raises(TypeError, match=re.escape(repr(bad))):
            await q.put(bad)
        await q.put(GOOD[dtype])
        with pytest.raises(TypeError, match=re.escape(repr(bad))):
            await q.put(bad)  # full: must not wait for room
        with pytest.raises(TypeError):
            q.put_nowait(bad)
        assert q.qsize() == 1 and q.unfinished_tasks == 1
        assert_same([await q.get()], [GOOD[dtype]])

    for dtype in TYPED:
        run_async(main(dtype))


def test_asyncio_queue_put_many_bad_item_puts_nothing():
    """await put_many(...) on a typed asyncio queue with a bad item last
    raises before any item is put, as the thread queue's put_many does."""
    async def main(dtype):
        bad = bad_item(dtype)
        q = fastchan.asyncio.Queue(dtype=dtype)
        with pytest.raises(TypeError, match=re.escape(repr(bad))):
            await q.put_many([GOOD[dtype], GOOD[dtype], bad])
        assert q.qsize() == 0 and q.unfinished_tasks == 0

    for dtype in TYPED:
        run_async(main(dtype))


# ------------------------------------------------------- buffers and arrays


def test_put_many_takes_buffers():
    """A matching array.array ('q' for int64, 'd' for float64) is copied (a
    later change to it is not seen); a mismatching buffer is taken item by
    item, with the usual conversions."""
    ch = fastchan.Channel(None, dtype="int64")
    source = array.array("q", [1, -2, 2**63 - 1, -2**63])
    ch.put_many(source)
    source[0] = 99
    ch.put_many(array.array("i", [5, -6]))
    ch.put_many(b"\x07")  # a buffer of format 'B': its items are ints
    assert_same(ch.get_many(100), [1, -2, 2**63 - 1, -2**63, 5, -6, 7])

    fl = fastchan.Channel(None, dtype="float64")
    source = array.array("d", [1.5, -0.0, math.inf])
    fl.put_many(source)
    source[0] = 99.0
    fl.put_many(array.array("q", [3]))
    fl.put_many(array.array("f", [0.25]))
    assert_same(fl.get_many(100), [1.5, -0.0, math.inf, 3.0, 0.25])

    q = fastchan.Queue(dtype="int64")
    q.put_many(array.array("q", range(1000)))
    with pytest.raises(TypeError):
        q.put_many(array.array("d", [1.0]))
    assert q.get_many(2000, as_array=True) == array.array("q", range(1000))


@pytest.mark.parametrize("dtype, typecode", [("int64", "q"), ("float64", "d")])
def test_get_many_as_array(dtype, typecode):
    """get_many(as_array=True) and the awaitable batches return an
    array.array of the dtype's typecode holding the items in order."""
    values = [v for v in VALUES[dtype] if not (isinstance(v, float) and math.isnan(v))]

    def check(batch, expected):
        assert type(batch) is array.array and batch.typecode == typecode
        assert_same(batch.tolist(), expected)

    ch = fastchan.Channel(None, dtype=dtype)
    ch.put_many(values)
    check(ch.get_many(3, as_array=True), values[:3])
    check(ch.get_many(100, as_array=True), values[3:])
    nan = fastchan.Channel(1, dtype=dtype)
    if dtype == "float64":
        nan.send(math.nan)
        assert math.isnan(nan.get_many(1, as_array=True)[0])

    q = fastchan.LifoQueue(dtype=dtype)
    q.put_many(values)
    check(q.get_many(100, as_array=True), values[::-1])

    async def main():
        ch.put_many(values)
        check(await ch.aget_many(100, as_array=True), values)
        aq = fastchan.asyncio.Queue(dtype=dtype)
        await aq.put_many(values)
        check(await aq.get_many(2, as_array=True), values[:2])
        check(await aq.get_many(100, as_array=True), values[2:])

    run_async(main())


@pytest.mark.parametrize("dtype", [None, "bytes"])
def test_as_array_is_refused_before_taking_anything(dtype):
    """as_array=True on an object or bytes channel or queue is a ValueError
    naming the dtype, raised before any item is taken."""
    values = [GOOD[dtype], GOOD[dtype]]
    message = "as_array=True needs dtype 'int64' or 'float64'"
    ch = fastchan.Channel(4, dtype=dtype)
    ch.put_many(values)
    q = fastchan.Queue(dtype=dtype)
    q.put_many(values)
    with pytest.raises(ValueError, match=message):
        ch.get_many(1, as_array=True)
    with pytest.raises(ValueError, match=message):
        q.get_many(1, as_array=True)

    async def main():
        aq = q.async_q
        with pytest.raises(ValueError, match=message):
            await ch.aget_many(1, as_array=True)
        with pytest.raises(ValueError, match=message):
            await aq.get_many(1, as_array=True)

    run_async(main())
    assert len(ch) == 2 and q.qsize() == 2
    assert_same(ch.get_many(5), values)
    assert_same(q.get_many(5), values)
    empty = fastchan.Channel(0, dtype=dtype)
    with pytest.raises(ValueError, match=message):  # at once, not after a wait
        empty.get_many(1, timeout=TIMEOUT, as_array=True)


# ------------------------------------------------------------ queue orders


PRIORITY = {
    "int64": [5, -1, 3, 2**63 - 1, -2**63, 0, 3],
    "float64": [3.0, -math.inf, 1e300, -1.5, 0.5, math.inf, -1.5],
    "bytes": [b"b", b"ab", b"", b"a\x00", b"a", b"\xff", b"\x00", b"b"],
}


@pytest.mark.parametrize("dtype", TYPED)
def test_typed_priority_and_lifo_orders(dtype):
    """A typed PriorityQueue gives the lowest value first (bytes compared
    lexicographically, as bytes compare), thread and asyncio alike; a typed
    LifoQueue gives the newest first."""
    values = PRIORITY[dtype]
    pq = fastchan.PriorityQueue(dtype=dtype)
    for v in values:
        pq.put(v)
    assert [pq.get() for _ in values] == sorted(values)
    pq.put_many(values)
    assert pq.get_many(3) + pq.get_many(100) == sorted(values)

    bounded = fastchan.PriorityQueue(3, dtype=dtype)
    bounded.put_many(values[:3])
    with pytest.raises(fastchan.Full):
        bounded.put_nowait(values[3])
    assert bounded.get_many(5) == sorted(values[:3])

    lifo = fastchan.LifoQueue(dtype=dtype)
    lifo.put_many(values)
    assert [lifo.get() for _ in values] == values[::-1]

    async def main():
        apq = fastchan.asyncio.PriorityQueue(dtype=dtype)
        await apq.put_many(values)
        assert [await apq.get() for _ in values] == sorted(values)
        alifo = fastchan.asyncio.LifoQueue(dtype=dtype)
        for v in values:
            await alifo.put(v)
        assert await alifo.get_many(100) == values[::-1]

    run_async(main())


@pytest.mark.parametrize("dtype", TYPED)
def test_views_share_the_typed_queue(dtype):
    """sync_q / async_q are views of the same typed queue: same dtype, same
    conversions, items put on one are got from the other."""
    values = PRIORITY[dtype]
    aq = fastchan.asyncio.Queue(dtype=dtype)
    assert aq.sync_q.dtype == dtype and aq.sync_q.async_q is aq
    with pytest.raises(TypeError):
        aq.sync_q.put(bad_item(dtype))
    aq.sync_q.put_many(values)
    q = fastchan.PriorityQueue(dtype=dtype)
    assert q.async_q.dtype == dtype and isinstance(q.async_q, fastchan.asyncio.PriorityQueue)

    async def main():
        assert await aq.get_many(100) == values
        await q.async_q.put_many(values)
        for _ in values:
            aq.task_done()
        await aq.join()

    run_async(main())
    assert q.get_many(100) == sorted(values)
    assert aq.unfinished_tasks == 0


def test_typed_queue_full_and_shutdown():
    """A full typed queue: put_many(block=False) says how many items went
    in. shutdown(): puts raise ShutDown, gets drain then raise;
    shutdown(immediate=True) drops the items and counts them done."""
    for dtype in TYPED:
        values = PRIORITY[dtype]
        q = fastchan.Queue(2, dtype=dtype)
        with pytest.raises(fastchan.Full, match="2 items were put"):
            q.put_many(values, block=False)
        assert q.qsize() == 2 and q.unfinished_tasks == 2
        assert q.get_many(5) == values[:2]
        q = fastchan.Queue(dtype=dtype)
        q.put_many(values)
        q.shutdown()
        with pytest.raises(fastchan.ShutDown):
            q.put_many(values[:1])
        assert q.get_many(100) == values
        with pytest.raises(fastchan.ShutDown):
            q.get_many(1)
        q = fastchan.Queue(dtype=dtype)
        q.put_many(values)
        q.shutdown(immediate=True)
        assert q.qsize() == 0 and q.unfinished_tasks == 0
        q.join()
        with pytest.raises(fastchan.ShutDown):
            q.get()


# --------------------------------------------------- exactly once, shared


PRODUCERS, PER_PRODUCER, CHUNK = 4, 5000, 37


def test_exactly_once_on_a_typed_channel(capacity):
    """Four threads put_many disjoint int ranges in chunks, three threads
    get_many (one as arrays) until the last producer closes the channel:
    every item arrives exactly once."""
    ch = fastchan.Channel(capacity, dtype="int64")
    received = collections.Counter()
    lock = threading.Lock()
    finished = [0]

    def produce(p):
        items = range(p * PER_PRODUCER, (p + 1) * PER_PRODUCER)
        for start in range(0, PER_PRODUCER, CHUNK):
            ch.put_many(items[start:start + CHUNK], timeout=TIMEOUT)
        with lock:
            finished[0] += 1
            if finished[0] == PRODUCERS:
                ch.close()

    def consume(as_array):
        while True:
            try:
                batch = ch.get_many(100, timeout=TIMEOUT, as_array=as_array)
            except fastchan.ChannelClosed:
                return
            assert 1 <= len(batch) <= 100
            with lock:
                received.update(batch)

    workers = [Worker(consume, k == 0) for k in range(3)]
    workers += [Worker(produce, p) for p in range(PRODUCERS)]
    for w in workers:
        w.finish(ch)
    assert received == collections.Counter(range(PRODUCERS * PER_PRODUCER))


@pytest.mark.parametrize("dtype, maxsize", [("int64", 0), ("int64", 1), ("int64", 64), ("bytes", 16)])
def test_exactly_once_on_a_typed_queue(dtype, maxsize):
    """Four threads put_many into a typed Queue, three threads get_many until
    it is shut down after the producers: every item arrives exactly once and
    every task is done."""
    q = fastchan.Queue(maxsize, dtype=dtype)
    convert = (lambda i: i) if dtype == "int64" else (lambda i: b"%d" % i)
    received = collections.Counter()
    lock = threading.Lock()

    def produce(p):
        items = [convert(i) for i in range(p * PER_PRODUCER, (p + 1) * PER_PRODUCER)]
        for start in range(0, PER_PRODUCER, CHUNK):
            q.put_many(items[start:start + CHUNK], timeout=TIMEOUT)

    def consume():
        while True:
            try:
                batch = q.get_many(100, timeout=TIMEOUT)
            except fastchan.ShutDown:
                return
            with lock:
                received.update(batch)
            for _ in batch:
                q.task_done()

    consumers = [Worker(consume) for _ in range(3)]
    producers = [Worker(produce, p) for p in range(PRODUCERS)]
    try:
        for w in producers:
            w.finish()
    finally:
        q.shutdown()
    for w in consumers:
        w.finish()
    assert received == collections.Counter(convert(i) for i in range(PRODUCERS * PER_PRODUCER))
    assert q.unfinished_tasks == 0


@pytest.mark.parametrize("dtype, capacity", [("int64", 0), ("int64", 64), ("int64", None),
                                             ("float64", 1), ("bytes", 0)])
def test_a_cpp_producer_feeds_two_asyncio_loops_exactly_once(dtype, capacity):
    """A C++ thread (no GIL) sends into a typed channel that two asyncio
    loops drain, one with `async for`, one with aget_many: every item
    arrives exactly once, as the dtype's type."""
    total = 6000
    convert = {"int64": int, "float64": float, "bytes": lambda i: b"%d" % i}[dtype]
    ch = fastchan.Channel(capacity, dtype=dtype)
    got = [[], []]

    async def iterate():
        async for item in ch:
            got[0].append(item)

    async def batches():
        while True:
            try:
                got[1].extend(await ch.aget_many(50))
            except fastchan.ChannelClosed:
                return

    loops = [Worker(run_async, iterate()), Worker(run_async, batches())]
    producer = _core._testing._NativeProducer(ch, [convert(i) for i in range(total)])
    producer.join()
    ch.close()
    for w in loops:
        w.finish(ch)
    everything = got[0] + got[1]
    assert all(type(v) is RESULT_TYPE[dtype] for v in everything)
    assert collections.Counter(everything) == collections.Counter(convert(i) for i in range(total))


def test_native_producer_converts_first_and_refuses_typed_queues():
    """_NativeProducer converts its items when constructed (a bad one is a
    TypeError and nothing is sent) and refuses a typed queue."""
    ch = fastchan.Channel(None, dtype="int64")
    with pytest.raises(TypeError, match="float 1.5"):
        _core._testing._NativeProducer(ch, [1, 2, 1.5])
    assert len(ch) == 0
    producer = _core._testing._NativeProducer(ch, [1, 2, 3])
    producer.join()
    assert ch.get_many(10) == [1, 2, 3]
    with pytest.raises(TypeError):
        _core._testing._NativeProducer(fastchan.Queue(dtype="int64"), [1])


# ------------------------------------------------------------- the capsule


def test_capsule_is_named_and_keeps_the_channel_alive():
    """__fastchan_channel__() returns a PyCapsule named "fastchan.Channel"
    (any dtype) that holds a reference to the channel while it lives."""
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    for dtype in DTYPES:
        ch = fastchan.Channel(1, dtype=dtype)
        before = sys.getrefcount(ch)
        capsule = ch.__fastchan_channel__()
        assert type(capsule).__name__ == "PyCapsule"
        assert get_name(capsule) == b"fastchan.Channel"
        assert sys.getrefcount(ch) == before + 1
        del capsule
        assert sys.getrefcount(ch) == before
