"""Signals and blocking calls in the main thread: no item is lost or
duplicated when a signal handler raises, and every handler runs.

Each round: the main thread blocks in an operation; a helper thread waits
until the main thread sleeps, sends it a signal whose handler raises, then,
after a delay (0 to 2 ms, so the signal and the peer's operation race), does
the peer operation that lets the blocked call complete. The blocked call
either raises the handler's exception having done nothing (then the main
thread tries again), or completes, with the exception deferred to the next
line of Python. Every item is counted exactly once either way.
"""

import array
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

import fastchan
from fastchan import _core
from fastchan import recv, select, send

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc to see the main thread asleep")

ROUNDS = 40
DELAYS = [0, 0, 0.00002, 0.0001, 0.0005, 0.002]
T = 10  # every wait is bounded: a lost item fails the test instead of hanging it


class Interrupted(Exception):
    """What the test's signal handler raises."""


class raising_handler:
    """SIGUSR1's handler raises Interrupted for the duration of a `with`."""

    def __enter__(self):
        def handler(signum, frame):
            raise Interrupted

        self.old = signal.signal(signal.SIGUSR1, handler)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGUSR1, self.old)


def main_thread_sleeping():
    with open(f"/proc/self/task/{threading.main_thread().native_id}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "S"


def wait_until_main_sleeps(timeout=5.0):
    deadline = time.monotonic() + timeout
    while not main_thread_sleeping():
        if time.monotonic() > deadline:
            raise AssertionError("the main thread never went to sleep")
        time.sleep(0.0001)


def signal_main():
    signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)


def next_line():
    """A line of Python after the call: a deferred exception is raised here."""


def run_rounds(blocking_op, peer_op, rounds=ROUNDS, seed=0):
    """Runs `rounds` rounds of blocking_op(i) in the main thread against
    peer_op(i) in a helper. Returns (results, interrupted, deferred):
    blocking_op's results, how many calls raised having done nothing, and
    how many completed with the handler's exception deferred."""
    rng = random.Random(seed)
    results, interrupted, deferred = [], 0, 0
    with raising_handler():
        for i in range(rounds):
            delay = rng.choice(DELAYS)

            def helper():
                wait_until_main_sleeps()
                signal_main()
                if delay:
                    time.sleep(delay)
                peer_op(i)

            t = threading.Thread(target=helper)
            t.start()
            while True:
                done = len(results)
                try:
                    results.append(blocking_op(i))
                    next_line()
                except Interrupted:
                    if len(results) > done:
                        deferred += 1  # completed; the exception came on the next line
                        break
                    interrupted += 1  # nothing happened: wait again
                    continue
                break
            t.join()
    return results, interrupted, deferred


def check_rounds(results, interrupted, deferred, expected):
    assert results == expected
    assert interrupted + deferred >= len(expected) // 2  # (the signals did interrupt)


# Receives: the main thread takes item i, which the helper supplies.

def queue_cases():
    for cls in (fastchan.Queue, fastchan.LifoQueue, fastchan.PriorityQueue):
        yield cls.__name__, lambda cls=cls: cls()
        yield cls.__name__ + "-int64", lambda cls=cls: cls(dtype="int64")
    yield "SimpleQueue", fastchan.SimpleQueue


@pytest.mark.parametrize("make", [m for _, m in queue_cases()], ids=[n for n, _ in queue_cases()])
def test_queue_get(make):
    q = make()
    check_rounds(*run_rounds(lambda i: q.get(timeout=T), q.put), list(range(ROUNDS)))
    assert q.qsize() == 0


@pytest.mark.parametrize("dtype", [None, "int64"])
def test_queue_get_many(dtype):
    q = fastchan.Queue(dtype=dtype)
    results, *counts = run_rounds(lambda i: q.get_many(10, timeout=T), q.put)
    check_rounds([x for batch in results for x in batch], *counts, list(range(ROUNDS)))


def test_channel_recv(capacity):
    ch = fastchan.Channel(capacity)
    check_rounds(*run_rounds(lambda i: ch.recv(timeout=T), ch.send), list(range(ROUNDS)))


@pytest.mark.parametrize("dtype", [None, "int64"])
def test_channel_get_many(capacity, dtype):
    ch = fastchan.Channel(capacity, dtype=dtype)
    results, *counts = run_rounds(lambda i: ch.get_many(10, timeout=T), ch.send)
    check_rounds([x for batch in results for x in batch], *counts, list(range(ROUNDS)))


def test_select_recv(capacity):
    a, b = fastchan.Channel(capacity), fastchan.Channel(capacity)
    results, *counts = run_rounds(lambda i: select([recv(a), recv(b)], timeout=T), lambda i: (a, b)[i % 2].send(i))
    check_rounds(results, *counts, [(i % 2, i) for i in range(ROUNDS)])


# Sends: the main thread puts item i into a full queue (or a rendezvous);
# the helper takes one item, which makes the room.

def full_queue_cases():
    for cls in (fastchan.Queue, fastchan.LifoQueue, fastchan.PriorityQueue):
        for dtype in (None, "int64"):
            yield f"{cls.__name__}-{dtype}", lambda cls=cls, dtype=dtype: cls(1, dtype=dtype)


@pytest.mark.parametrize("make", [m for _, m in full_queue_cases()], ids=[n for n, _ in full_queue_cases()])
@pytest.mark.parametrize("how", ["put", "put_many"])
def test_queue_put(make, how):
    q = make()
    q.put(-1)  # full from the start
    taken = []
    op = (lambda i: q.put(i, timeout=T)) if how == "put" else (lambda i: q.put_many([i], timeout=T))
    results, interrupted, deferred = run_rounds(op, lambda i: taken.append(q.get(timeout=T)))
    taken.append(q.get(timeout=T))
    assert sorted(taken) == list(range(-1, ROUNDS))  # each put exactly once
    assert interrupted + deferred >= ROUNDS // 2


@pytest.mark.parametrize("capacity", [0, 1, 4])
@pytest.mark.parametrize("how", ["send", "put_many", "select"])
def test_channel_send(capacity, how):
    ch = fastchan.Channel(capacity)
    for k in range(capacity):
        ch.send(-1 - k)  # full from the start
    taken = []

    def take(i):
        taken.append(ch.recv(timeout=T))

    op = {
        "send": lambda i: ch.send(i, timeout=T),
        "put_many": lambda i: ch.put_many([i], timeout=T),
        "select": lambda i: select([send(ch, i)], timeout=T),
    }[how]
    results, interrupted, deferred = run_rounds(op, take)
    taken.extend(ch.get_many(capacity + 1, timeout=0) if capacity else [])
    assert sorted(taken) == list(range(-capacity, ROUNDS))
    assert interrupted + deferred >= ROUNDS // 2


def test_typed_put_many_reports_how_many_went_in():
    """A typed batch interrupted while it waits stops there: the exception
    says how many items of the batch were put."""
    q = fastchan.Queue(2, dtype="int64")
    with raising_handler():
        def helper():
            wait_until_main_sleeps()
            signal_main()

        t = threading.Thread(target=helper)
        t.start()
        with pytest.raises(Interrupted) as info:
            q.put_many(array.array("q", [1, 2, 3, 4]))
        t.join()
    assert q.qsize() == 2
    if sys.version_info >= (3, 11):
        assert "2 items were put" in "".join(info.value.__notes__)


# Every handler runs: signals do not merge while the main thread waits.

@pytest.mark.skipif(
    _core._build_info["parking"] != "futex",
    reason="only a futex sleep ends at a signal (EINTR); the parking table of other systems (and of a "
    "FASTCHAN_PORTABLE build) sleeps out its 50 ms slice, so signals that arrive meanwhile merge")
@pytest.mark.parametrize("wait", ["get", "recv", "select", "join"])
def test_every_signal_handler_runs(wait):
    q = fastchan.Queue()
    q.put(0)  # unfinished, so join() waits
    ch = fastchan.Channel()
    handled = []
    old = signal.signal(signal.SIGUSR1, lambda s, f: handled.append(s))
    try:
        def helper():
            for _ in range(20):
                wait_until_main_sleeps()
                signal_main()
                time.sleep(0.002)
            wait_until_main_sleeps()
            ch.close()
            q.get()
            q.task_done()

        t = threading.Thread(target=helper)
        t.start()
        if wait == "get":
            q2 = fastchan.Queue()
            while len(handled) < 20:
                with pytest.raises(fastchan.Empty):
                    q2.get(timeout=0.2)
        elif wait == "recv":
            with pytest.raises(fastchan.ChannelClosed):
                ch.recv()
        elif wait == "select":
            assert select([recv(ch)]) == (0, fastchan.CLOSED)
        else:
            q.join()
        t.join()
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert len(handled) == 20


def test_keyboard_interrupt_in_a_fresh_interpreter():
    """The default SIGINT handler (KeyboardInterrupt), 20 times, a queue
    and a rendezvous channel: nothing lost."""
    code = r"""
import signal, threading, time, fastchan
def sleeping():
    with open(f"/proc/self/task/{threading.main_thread().native_id}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "S"
def helper(put):
    while not sleeping():
        time.sleep(0.0001)
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
    time.sleep(0.002)
    put()
lost = 0
for make in (lambda: fastchan.Queue(), lambda: fastchan.Channel(0)):
    for i in range(20):
        q = make()
        put = q.put if isinstance(q, fastchan.Queue) else q.send
        got = []
        t = threading.Thread(target=helper, args=(lambda: put(i),))
        t.start()
        while True:
            try:
                got.append(q.get() if isinstance(q, fastchan.Queue) else q.recv())
                got
            except KeyboardInterrupt:
                if got:
                    break
                continue
            break
        t.join()
        lost += got != [i]
print("lost", lost)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "lost 0"
