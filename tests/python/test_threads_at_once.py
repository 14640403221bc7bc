"""Eight threads at once on one queue, on a pair of channels under select, and
on one pool, while other threads change the queue's maxsize, shut it down,
close the channels and shut the pool down, with random timeouts throughout.
Every item is received exactly once; an immediate shutdown drops at most
what the queue can hold (the largest maxsize it had).

Written for free-threaded CPython (3.13t with the GIL off), where the
threads really run at once and nothing but fastchan's own guards keeps its
state whole (docs/design.md, "Without the GIL"); run on every build.
Bounded: each part runs DURATION seconds of traffic, then drains."""

import random
import re
import threading
import time

import pytest

import fastchan
from fastchan import CLOSED, ChannelClosed, Empty, Full, ShutDown, recv, select, send

DURATION = 2.0
JOIN_WITHIN = 30.0  # after the traffic: a thread still running then is stuck
THREADS = 8  # per part: half put or send, half get or receive
TIMEOUTS = (0, 0.0001, 0.001, 0.005)
MAXSIZES = (1, 2, 4, 16)
WENT_IN = re.compile(r"\((\d+) items were put\)")


def run_threads(targets):
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for t in threads:
        t.start()
    return threads


def join_all(threads):
    deadline = time.monotonic() + JOIN_WITHIN
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"threads stuck: {stuck}"


def exactly_once(accepted, received):
    """The received items, each once, all accepted; returns the accepted
    ones that were not received."""
    seen = set()
    for part in received:
        for item in part:
            assert item not in seen, f"{item} received twice"
            seen.add(item)
    accepted_all = {item for part in accepted for item in part}
    assert len(accepted_all) == sum(map(len, accepted)), "an item was accepted twice"
    assert seen <= accepted_all, f"received items nobody put: {sorted(seen - accepted_all)[:5]}"
    return accepted_all - seen


@pytest.mark.parametrize("immediate", [False, True], ids=["graceful", "immediate"])
def test_one_queue(immediate):
    q = fastchan.Queue(4)
    half = THREADS // 2
    accepted = [[] for _ in range(half)]
    received = [[] for _ in range(half)]
    shut = threading.Event()

    def producer(p):
        rng, n = random.Random(p), 0

        def new():
            nonlocal n
            n += 1
            return (p, n)

        while True:
            r = rng.random()
            try:
                if r < 0.2:
                    item = new()
                    q.put_nowait(item)
                    accepted[p].append(item)
                elif r < 0.8:
                    item = new()
                    q.put(item, timeout=rng.choice(TIMEOUTS))
                    accepted[p].append(item)
                else:
                    batch = [new() for _ in range(rng.randint(1, 5))]
                    try:
                        q.put_many(batch, timeout=rng.choice(TIMEOUTS))
                    except (Full, ShutDown) as error:
                        went = int(WENT_IN.search(str(error)).group(1))
                        accepted[p].extend(batch[:went])
                        raise
                    accepted[p].extend(batch)
            except Full:
                continue
            except ShutDown:
                return

    def consumer(c):
        rng = random.Random(100 + c)
        while True:
            r = rng.random()
            try:
                if r < 0.2:
                    items = [q.get_nowait()]
                elif r < 0.8:
                    items = [q.get(timeout=rng.choice(TIMEOUTS))]
                else:
                    items = q.get_many(rng.randint(1, 6), timeout=rng.choice(TIMEOUTS))
            except Empty:
                continue
            except ShutDown:
                return
            received[c].extend(items)
            for _ in items:
                q.task_done()

    def resize():
        rng = random.Random(200)
        while not shut.is_set():
            q.maxsize = rng.choice(MAXSIZES)
            time.sleep(rng.choice((0, 0.0001, 0.001)))

    def shut_down():  # from two threads at once
        shut.wait()
        q.shutdown(immediate=immediate)

    threads = run_threads([lambda p=p: producer(p) for p in range(half)]
                          + [lambda c=c: consumer(c) for c in range(half)]
                          + [resize, shut_down, shut_down])
    time.sleep(DURATION)
    shut.set()
    join_all(threads)

    missing = exactly_once(accepted, received)
    assert sum(map(len, received)) > 1000, "too little traffic to prove anything"
    if immediate:
        assert len(missing) <= max(MAXSIZES), f"{len(missing)} items missing, more than the queue held"
    else:
        assert not missing, f"a graceful shutdown lost {len(missing)} items"
    assert q.qsize() == 0 and q.unfinished_tasks == 0


def test_two_channels_under_select():
    channels = [fastchan.Channel(0), fastchan.Channel(3)]
    half = THREADS // 2
    accepted = [[] for _ in range(half)]
    received = [[] for _ in range(half)]
    stop = threading.Event()

    def sender(p):
        rng, n = random.Random(p), 0
        while not stop.is_set():
            n += 1
            item = (p, n)
            r = rng.random()
            try:
                if r < 0.5:
                    # One of the two channels takes it, or neither.
                    index, _ = select([send(ch, item) for ch in channels], timeout=rng.choice(TIMEOUTS))
                    accepted[p].append(item)
                else:
                    rng.choice(channels).send(item, timeout=rng.choice(TIMEOUTS))
                    accepted[p].append(item)
            except TimeoutError:
                continue
            except ChannelClosed:
                return

    def receiver(c):
        rng = random.Random(100 + c)
        open_ = list(channels)
        while open_:
            try:
                if rng.random() < 0.6:
                    index, value = select([recv(ch) for ch in open_], timeout=rng.choice(TIMEOUTS))
                    if value is CLOSED:  # closed and drained
                        del open_[index]
                    else:
                        received[c].append(value)
                else:
                    ch = rng.choice(open_)
                    try:
                        received[c].append(ch.recv(timeout=rng.choice(TIMEOUTS)))
                    except ChannelClosed:  # closed and drained
                        open_.remove(ch)
            except TimeoutError:
                continue

    def close_mid_stream():
        stop.wait()
        for ch in channels:
            ch.close()

    threads = run_threads([lambda p=p: sender(p) for p in range(half)]
                          + [lambda c=c: receiver(c) for c in range(half)] + [close_mid_stream])
    time.sleep(DURATION)
    stop.set()
    join_all(threads)

    missing = exactly_once(accepted, received)
    assert sum(map(len, received)) > 1000, "too little traffic to prove anything"
    assert not missing, f"{len(missing)} items sent and never received: {sorted(missing)[:5]}"


def test_one_pool_shut_down_while_submitting():
    pool = fastchan.ThreadPool(max_workers=4, max_pending=64)  # (submit() waits beyond 64)
    ran = []  # (submitter, n) of every call that ran
    futures = [[] for _ in range(THREADS)]
    stop = threading.Event()

    def submitter(s):
        rng, n = random.Random(s), 0
        while True:
            n += 1
            try:
                future = pool.submit(ran.append, (s, n))
            except RuntimeError:  # the pool is shut down (also while submit() waited)
                return
            futures[s].append(((s, n), future))
            if rng.random() < 0.1:
                future.cancel()

    def shut_down():  # from two threads at once, one cancelling what is queued
        stop.wait()
        time.sleep(0.001)
        pool.shutdown(wait=True, cancel_futures=True)

    threads = run_threads([lambda s=s: submitter(s) for s in range(THREADS)] + [shut_down, shut_down])
    time.sleep(DURATION / 2)
    stop.set()
    join_all(threads)

    ran_once = set(ran)
    assert len(ran_once) == len(ran), "a call ran twice"
    done = cancelled = 0
    for part in futures:
        for key, future in part:
            assert future.done(), f"{key}'s future is still pending after shutdown(wait=True)"
            if future.cancelled():
                cancelled += 1
                assert key not in ran_once, f"{key} was cancelled, yet it ran"
            else:
                done += 1
                assert future.exception() is None
                assert key in ran_once, f"{key}'s future is done, yet the call never ran"
    assert len(ran_once) == done
    assert done > 1000, "too little traffic to prove anything"
