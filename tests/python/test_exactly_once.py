"""Exactly-once accounting: 4 producer and 4 consumer threads, random timeouts,
shutdown in both modes. Every item is received once; none lost, none duplicated."""

import collections
import random
import threading

import pytest

import fastchan

PRODUCERS = 4
CONSUMERS = 4
PER_PRODUCER = 5000


def put_with_random_timeouts(q, item, rng):
    """Retries timed puts until accepted; False once the queue is shut down."""
    while True:
        try:
            if rng.random() < 0.2:
                q.put_nowait(item)
            else:
                q.put(item, timeout=rng.choice([0, 0.0001, 0.001, 0.01]))
            return True
        except fastchan.Full:
            continue
        except fastchan.ShutDown:
            return False


def consume_with_random_timeouts(q, received, rng, after_item=lambda: None):
    while True:
        try:
            if rng.random() < 0.2:
                item = q.get_nowait()
            else:
                item = q.get(timeout=rng.choice([0, 0.0001, 0.001, 0.01]))
        except fastchan.Empty:
            continue
        except fastchan.ShutDown:
            return
        received.append(item)
        q.task_done()
        after_item()


def run(q, stop_after_producers=True, shutdown_early=None):
    accepted = [[] for _ in range(PRODUCERS)]
    received = [[] for _ in range(CONSUMERS)]

    def producer(p):
        rng = random.Random(p)
        for i in range(PER_PRODUCER):
            item = (p * PER_PRODUCER + i,)  # tuples order by id in a PriorityQueue
            if not put_with_random_timeouts(q, item, rng):
                return
            accepted[p].append(item)

    taken = [0]
    taken_lock = threading.Lock()

    def count_and_shut_down_mid_stream():
        # The consumer that takes the stream's quarter-way item shuts the
        # queue down (a delay could miss the stream: without the GIL all of
        # it passes in a few milliseconds).
        with taken_lock:
            taken[0] += 1
            now = taken[0] == PRODUCERS * PER_PRODUCER // 4
        if now:
            shutdown_early()

    def consumer(c):
        if shutdown_early is None:
            consume_with_random_timeouts(q, received[c], random.Random(100 + c))
        else:
            consume_with_random_timeouts(q, received[c], random.Random(100 + c), count_and_shut_down_mid_stream)

    consumers = [threading.Thread(target=consumer, args=(c,)) for c in range(CONSUMERS)]
    producers = [threading.Thread(target=producer, args=(p,)) for p in range(PRODUCERS)]
    for t in consumers + producers:
        t.start()
    for t in producers:
        t.join()
    if stop_after_producers:
        q.join()  # every accepted item was received and marked done
        q.shutdown()
    for t in consumers:
        t.join()
    return [x for part in accepted for x in part], [x for part in received for x in part]


@pytest.mark.parametrize(
    "make",
    [
        lambda: fastchan.Queue(10),
        lambda: fastchan.Queue(1),
        lambda: fastchan.Queue(0),
        lambda: fastchan.LifoQueue(10),
        lambda: fastchan.PriorityQueue(10),
    ],
    ids=["Queue(10)", "Queue(1)", "Queue()", "LifoQueue(10)", "PriorityQueue(10)"],
)
def test_every_item_exactly_once(make):
    q = make()
    accepted, received = run(q)
    assert len(accepted) == PRODUCERS * PER_PRODUCER
    counts = collections.Counter(received)
    assert not [x for x, n in counts.items() if n != 1], "duplicated items"
    assert set(counts) == set(accepted), "lost items"
    assert q.unfinished_tasks == 0


@pytest.mark.parametrize("immediate", [False, True], ids=["graceful", "immediate"])
def test_shutdown_mid_stream(immediate):
    q = fastchan.Queue(10)
    dropped = []

    def shutdown_soon():
        before = q.qsize() if immediate else 0
        q.shutdown(immediate=immediate)
        dropped.append(before)

    accepted, received = run(q, stop_after_producers=False, shutdown_early=shutdown_soon)
    assert len(accepted) < PRODUCERS * PER_PRODUCER, "shutdown came after the stream ended"
    counts = collections.Counter(received)
    assert not [x for x, n in counts.items() if n != 1], "duplicated items"
    assert set(counts) <= set(accepted), "received an item no put accepted"
    missing = len(accepted) - len(counts)
    if immediate:
        # Only what was buffered at shutdown may be missing (dropped), never more.
        assert 0 <= missing <= 10
    else:
        assert missing == 0, "graceful shutdown lost items"
    with pytest.raises(fastchan.ShutDown):
        q.put(("late",))
