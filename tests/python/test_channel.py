"""fastchan.Channel with Go's semantics, for threads: rendezvous timing,
buffering, close while senders and receivers wait, range after close,
timeouts, bad input, and exactly-once delivery under contention."""

import collections
import math
import pathlib
import subprocess
import sys
import threading
import time

import pytest

import fastchan
from conftest import interrupt_when_ready

TIMEOUT = 30
EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
GO_OUTPUT = [f"Got number {i}" for i in range(5)] + ["Done!"]


def start(fn, *args):
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t


def eventually(predicate, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.001)



def test_a_rendezvous_send_returns_only_once_a_receiver_has_the_item():
    ch = fastchan.Channel()
    sent = threading.Event()
    start(lambda: (ch.send("hello"), sent.set()))
    assert not sent.wait(0.1)  # nobody received yet: the sender still waits
    assert len(ch) == 0
    assert ch.recv(timeout=TIMEOUT) == "hello"
    assert sent.wait(TIMEOUT)


def test_try_send_on_a_rendezvous_needs_a_waiting_receiver():
    ch = fastchan.Channel(0)
    with pytest.raises(fastchan.Full):
        ch.try_send(1)
    with pytest.raises(fastchan.Empty):
        ch.try_recv()
    got = []
    receiver = start(lambda: got.append(ch.recv(timeout=TIMEOUT)))

    def handed():
        try:
            ch.try_send("x")
            return True
        except fastchan.Full:
            return False

    eventually(handed)
    receiver.join(TIMEOUT)
    assert got == ["x"]


def test_a_buffered_channel_holds_capacity_items():
    ch = fastchan.Channel(3)
    for i in range(3):
        ch.send(i, timeout=0)  # room: no wait needed
    assert len(ch) == 3 and ch.capacity == 3
    with pytest.raises(fastchan.Full):
        ch.try_send(3)
    with pytest.raises(TimeoutError):
        ch.send(3, timeout=0.02)
    assert [ch.try_recv() for _ in range(3)] == [0, 1, 2]


@pytest.mark.parametrize("unbounded", [None, math.inf])
def test_an_unbounded_channel_never_waits_to_send(unbounded):
    ch = fastchan.Channel(unbounded)
    assert ch.capacity is None
    for i in range(10000):
        ch.try_send(i)
    assert len(ch) == 10000
    assert list(ch.recv() for _ in range(10000)) == list(range(10000))


def test_close_wakes_every_waiting_sender_and_keeps_their_items_out():
    ch = fastchan.Channel()
    errors = []

    def sender(i):
        try:
            ch.send(i)
        except fastchan.ChannelClosed as e:
            errors.append(str(e))

    senders = [start(sender, i) for i in range(3)]
    time.sleep(0.05)
    assert ch.close() is True and ch.close() is False
    for t in senders:
        t.join(TIMEOUT)
    assert errors == ["send on a closed channel"] * 3
    with pytest.raises(fastchan.ChannelClosed, match="recv on a closed channel"):
        ch.try_recv()  # nothing was delivered


def test_close_wakes_every_waiting_receiver(capacity):
    ch = fastchan.Channel(capacity)
    closed = []

    def receiver():
        try:
            ch.recv()
        except fastchan.ChannelClosed:
            closed.append(True)

    receivers = [start(receiver) for _ in range(3)]
    time.sleep(0.05)
    ch.close()
    for t in receivers:
        t.join(TIMEOUT)
    assert closed == [True] * 3
    assert ch.closed


def test_receivers_drain_a_closed_channel_then_range_ends():
    ch = fastchan.Channel(5)
    for i in range(5):
        ch.send(i)
    ch.close()
    with pytest.raises(fastchan.ChannelClosed):
        ch.send(5)
    assert list(ch) == [0, 1, 2, 3, 4]  # range drains what was buffered
    assert list(ch) == []
    with pytest.raises(fastchan.ChannelClosed):
        ch.recv(timeout=0)


def test_range_ends_when_the_producer_closes(capacity):
    ch = fastchan.Channel(capacity)

    def produce():
        for i in range(100):
            ch.send(i)
        ch.close()

    start(produce)
    assert list(ch) == list(range(100))


def test_timeouts(capacity):
    ch = fastchan.Channel(capacity)
    with pytest.raises(TimeoutError, match="recv timed out"):
        ch.recv(timeout=0.02)
    if capacity == 0:
        with pytest.raises(TimeoutError, match="send timed out"):
            ch.send("x", timeout=0.02)
        assert len(ch) == 0


def test_every_item_exactly_once_under_contention(capacity):
    producers, consumers, per_producer = 4, 4, 3000
    ch = fastchan.Channel(capacity)
    received = [[] for _ in range(consumers)]

    def produce(p):
        for i in range(per_producer):
            ch.send((p, i))

    def consume(c):
        received[c].extend(ch)

    cs = [start(consume, c) for c in range(consumers)]
    ps = [start(produce, p) for p in range(producers)]
    for t in ps:
        t.join(TIMEOUT)
    ch.close()
    for t in cs:
        t.join(TIMEOUT)
    counts = collections.Counter(item for items in received for item in items)
    assert counts == collections.Counter((p, i) for p in range(producers) for i in range(per_producer))
    for items in received:  # each producer's items stay in order
        for p in range(producers):
            mine = [i for q, i in items if q == p]
            assert mine == sorted(mine)


def test_ctrl_c_interrupts_a_blocked_recv():
    code = (
        "import fastchan\n"
        "ch = fastchan.Channel()\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    ch.recv()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', len(ch), ch.closed)\n"
    )
    out, err, returncode, elapsed = interrupt_when_ready(code)
    assert out.strip() == "interrupted 0 False", err
    assert returncode == 0 and elapsed < 5


@pytest.mark.parametrize(
    "capacity, error, text",
    [
        (-1, ValueError, "capacity must be >= 0, not -1"),
        ("3", TypeError, "capacity must be an integer, None or math.inf, not str '3'"),
        (True, TypeError, "not bool True"),
        (2.5, TypeError, "not float 2.5"),
    ],
)
def test_bad_capacity_is_named(capacity, error, text):
    with pytest.raises(error, match=text):
        fastchan.Channel(capacity)


def test_bad_timeouts_are_named_and_leave_the_channel_intact():
    ch = fastchan.Channel(2)
    ch.send("kept")
    with pytest.raises(ValueError, match="-1"):
        ch.recv(timeout=-1)
    with pytest.raises(TypeError, match="str 'soon'"):
        ch.send("x", timeout="soon")
    assert len(ch) == 1 and ch.recv() == "kept"


def test_repr():
    assert repr(fastchan.Channel()) == "<fastchan.Channel capacity=0 buffered=0>"
    ch = fastchan.Channel(None)
    ch.send(1)
    ch.close()
    assert repr(ch) == "<fastchan.Channel unbounded buffered=1 closed>"


def test_the_go_example_ported_prints_what_go_prints():
    out = subprocess.run([sys.executable, str(EXAMPLES / "go_channel_on_fastchan.py")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == GO_OUTPUT
