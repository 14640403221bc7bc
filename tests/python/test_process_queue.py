"""fastchan.ProcessQueue: multiprocessing.Queue's interface on a shared ring,
across processes started every way, with processes SIGKILLed mid-stream.
Every wait has a timeout: a bug fails a test, it does not hang it. No test
asserts on speed."""

import multiprocessing
import os
import pickle
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import warnings

import pytest

import fastchan
from fastchan import _core

pytestmark = [
    pytest.mark.skipif(not _core._build_info.get("process_queue"),
                       reason="ProcessQueue needs Linux shared memory and futexes: this build is "
                              "FASTCHAN_PORTABLE or not Linux (it raises NotImplementedError: test_platform.py checks)"),
    pytest.mark.timeout(120),
    # The fork start method is tested on purpose; 3.12+ warns that the test
    # process has threads (pytest's, other tests' daemons) when it forks.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(fastchan.__file__)))
WAIT = 30  # seconds: the longest any single wait may take before the test fails


def segment_exists(name):
    return os.path.exists("/dev/shm" + name)


def item(producer, i):
    """An item whose parts say whether it came out whole."""
    return (producer, i, bytes([i % 251]) * (i % 300), {"i": i})


def check(value):
    producer, i, payload, d = value
    assert payload == bytes([i % 251]) * (i % 300) and d == {"i": i}, value
    return producer, i


# ---- children (module level: spawn and forkserver import them) ----

def echo(q_in, q_out, n):
    for _ in range(n):
        q_out.put(q_in.get(timeout=WAIT))


def produce(q, producer, n, threads=1):
    def run(t):
        for i in range(t, n, threads):
            q.put(item(producer, i), timeout=WAIT)
    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def consume_until_shutdown(q, results, threads):
    def run():
        got = []
        while True:
            try:
                got.append(check(q.get(timeout=WAIT)))
            except fastchan.ShutDown:
                break
            if len(got) >= 100:
                results.put(got, timeout=WAIT)
                got = []
        results.put(got, timeout=WAIT)
    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def forward_forever(q, results):
    while True:
        results.put(check(q.get(timeout=WAIT)), timeout=WAIT)


_pool_queue = None


def pool_init(q):
    global _pool_queue
    _pool_queue = q


def pool_task(x):
    _pool_queue.put(x * 2)
    return os.getpid()


def die_in(q, fault, value=None):
    q._set_fault(fault)
    if fault in (1, 3):
        q.put(value)
    else:
        q.get()


# ---- one process ----

def test_items_come_out_equal_and_in_order():
    q = fastchan.ProcessQueue()
    values = [None, 1, "two", b"three" * 1000, {"a": 42, "b": (1, 2, 3)}, [item(0, i) for i in range(5)],
              bytearray(b"x"), 2**100]
    for v in values:
        q.put(v)
    assert q.qsize() == len(values) and not q.empty()
    assert [q.get(timeout=WAIT) for _ in values] == values
    assert q.empty()


def test_threads_of_one_process_exactly_once():
    q = fastchan.ProcessQueue(16, nbytes=4096)
    n, got, lock = 4000, [], threading.Lock()

    def consume():
        mine = []
        while True:
            try:
                mine.append(q.get(timeout=WAIT))
            except fastchan.ShutDown:
                break
        with lock:
            got.extend(mine)

    producers = [threading.Thread(target=produce, args=(q, p, n)) for p in range(3)]
    consumers = [threading.Thread(target=consume) for _ in range(3)]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join(WAIT)
    q.shutdown()
    for t in consumers:
        t.join(WAIT)
    assert sorted(check(x) for x in got) == sorted((p, i) for p in range(3) for i in range(n))


def test_nowait_and_timeouts_raise_the_queue_modules_exceptions():
    q = fastchan.ProcessQueue(2)
    with pytest.raises(queue.Empty):
        q.get_nowait()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)
    with pytest.raises(queue.Empty):
        q.get(block=False)
    q.put_nowait(1)
    q.put(2)
    assert q.full()
    with pytest.raises(queue.Full):
        q.put_nowait(3)
    with pytest.raises(queue.Full):
        q.put(3, timeout=0.01)
    assert [q.get_nowait(), q.get_nowait()] == [1, 2]


def test_an_unpicklable_item_raises_at_put_and_leaves_the_queue_as_it_was():
    q = fastchan.ProcessQueue()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        q.put(lambda: 1)
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        q.put(threading.Lock())
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        q.put_many([1, threading.Lock()])  # pickled first: nothing of the batch goes in
    assert q.empty()


def test_an_item_larger_than_the_ring_is_a_value_error_naming_both_sizes():
    q = fastchan.ProcessQueue(nbytes=1024)
    assert q.nbytes == 1024 and q.max_item_bytes == 1016
    big = b"x" * 5000
    size = len(pickle.dumps(big, 5))
    with pytest.raises(ValueError, match=rf"{size} bytes.*1024 bytes"):
        q.put(big)
    with pytest.raises(ValueError, match="1024 bytes"):
        q.put_many([1, big])
    assert q.empty()


def test_bad_arguments_raise_naming_the_value():
    with pytest.raises(TypeError, match="maxsize"):
        fastchan.ProcessQueue("3")
    with pytest.raises(TypeError, match="maxsize"):
        fastchan.ProcessQueue(2.5)
    with pytest.raises(ValueError, match="nbytes.*-1"):
        fastchan.ProcessQueue(nbytes=-1)
    with pytest.raises(ValueError, match="nbytes.*8"):
        fastchan.ProcessQueue(nbytes=8)
    assert fastchan.ProcessQueue(-5).maxsize == 0  # as multiprocessing.Queue: <= 0 is unbounded
    q = fastchan.ProcessQueue()
    with pytest.raises(ValueError, match="timeout"):
        q.get(timeout=-1)
    with pytest.raises(TypeError, match="timeout"):
        q.get(timeout="1")
    with pytest.raises(ValueError, match="max_items.*0"):
        q.get_many(0)
    with pytest.raises(TypeError, match="max_items"):
        q.get_many("2")
    from fastchan.process_queue import _attach
    with pytest.raises(ValueError, match="segment name.*/elsewhere"):
        _attach("/elsewhere")
    with pytest.raises(FileNotFoundError, match="fastchan-0-"):
        _attach("/fastchan-0-0000000000000000")
    with pytest.raises(TypeError, match="not initialized"):
        fastchan.ProcessQueue.__new__(fastchan.ProcessQueue).get()


def test_close_then_use_is_a_value_error():
    q = fastchan.ProcessQueue()
    q.put(1)
    with pytest.raises(ValueError, match="not closed"):
        q.join_thread()
    q.close()
    for call in (lambda: q.put(2), lambda: q.get(), lambda: q.put_nowait(2), lambda: q.get_nowait(),
                 lambda: q.put_many([2]), lambda: q.get_many(2)):
        with pytest.raises(ValueError, match="closed"):
            call()
    q.join_thread()
    q.cancel_join_thread()
    assert q.qsize() == 1  # the item is still there for other processes


def test_shutdown_drains_then_raises_and_wakes_waiters():
    q = fastchan.ProcessQueue()
    q.put_many([1, 2])
    errors = []
    q2 = fastchan.ProcessQueue()

    def blocked():
        try:
            q2.get(timeout=WAIT)
        except fastchan.ShutDown as e:
            errors.append(e)

    t = threading.Thread(target=blocked)
    t.start()
    time.sleep(0.05)
    q2.shutdown()
    t.join(WAIT)
    assert len(errors) == 1 and isinstance(errors[0], fastchan.ShutDown)
    q.shutdown()
    assert q.is_shutdown
    with pytest.raises(fastchan.ShutDown):
        q.put(3)
    assert q.get() == 1 and q.get_many(5) == [2]
    with pytest.raises(fastchan.ShutDown):
        q.get(timeout=WAIT)
    q3 = fastchan.ProcessQueue()
    q3.put_many([1, 2, 3])
    q3.shutdown(immediate=True)
    with pytest.raises(fastchan.ShutDown):
        q3.get_nowait()


def test_batches():
    q = fastchan.ProcessQueue(5)
    q.put_many(range(3))
    assert q.get_many(10) == [0, 1, 2]
    with pytest.raises(queue.Full) as e:
        q.put_many(range(8), block=False)
    if sys.version_info >= (3, 11):  # (exception notes are 3.11's)
        assert "5 of the 8 items went in" in "".join(e.value.__notes__)
    with pytest.raises(queue.Full):
        q.put_many(range(2), timeout=0.01)
    assert q.get_many(3) == [0, 1, 2] and q.get_many(3) == [3, 4]
    with pytest.raises(queue.Empty):
        q.get_many(3, timeout=0.01)


def test_a_pickled_queue_is_the_same_queue():
    q = fastchan.ProcessQueue(3)
    twin = pickle.loads(pickle.dumps(q))
    assert twin.name == q.name and twin.maxsize == 3
    twin.put("hello")
    assert q.get(timeout=WAIT) == "hello"
    assert q.stats()["attached"] == 2


def test_a_signal_handler_runs_during_a_blocking_get():
    q = fastchan.ProcessQueue()

    class Alarm(Exception):
        pass

    def handler(signum, frame):
        raise Alarm

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        with pytest.raises(Alarm):
            q.get(timeout=WAIT)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_ctrl_c_interrupts_a_blocking_get_at_once():
    from conftest import interrupt_when_ready

    out, err, code, _ = interrupt_when_ready(
        "import fastchan\n"
        "q = fastchan.ProcessQueue()\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    q.get()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n",
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))))
    assert out.split() == ["interrupted"] and code == 0, err


# ---- processes ----

@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_start_methods(method):
    ctx = multiprocessing.get_context(method)
    q_in, q_out = fastchan.ProcessQueue(4), fastchan.ProcessQueue()
    child = ctx.Process(target=echo, args=(q_in, q_out, 50))
    child.start()
    for i in range(50):
        q_in.put(item(0, i), timeout=WAIT)
    assert [check(q_out.get(timeout=WAIT)) for _ in range(50)] == [(0, i) for i in range(50)]
    child.join(WAIT)
    assert child.exitcode == 0


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_pool_initializer_receives_the_queue(method):
    ctx = multiprocessing.get_context(method)
    q = fastchan.ProcessQueue()
    with ctx.Pool(2, initializer=pool_init, initargs=(q,)) as pool:
        pool.map(pool_task, range(20))
    assert sorted(q.get(timeout=WAIT) for _ in range(20)) == [2 * x for x in range(20)]


def test_a_process_pool_executor_initializer_receives_the_queue():
    from concurrent.futures import ProcessPoolExecutor

    q = fastchan.ProcessQueue()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver"),
                             initializer=pool_init, initargs=(q,)) as pool:
        list(pool.map(pool_task, range(10)))
    assert sorted(q.get(timeout=WAIT) for _ in range(10)) == [2 * x for x in range(10)]


def test_a_queue_travels_through_another_queue():
    outer, inner = fastchan.ProcessQueue(), fastchan.ProcessQueue()
    outer.put(inner)
    got = outer.get(timeout=WAIT)
    got.put(5)
    assert inner.get(timeout=WAIT) == 5


def test_exactly_once_across_four_processes_of_two_threads_with_a_shutdown_in_flight():
    ctx = multiprocessing.get_context("fork")
    q, results = fastchan.ProcessQueue(64), fastchan.ProcessQueue()
    n = 3000
    producers = [ctx.Process(target=produce, args=(q, p, n, 2)) for p in range(2)]
    consumers = [ctx.Process(target=consume_until_shutdown, args=(q, results, 2)) for _ in range(2)]
    for p in producers + consumers:
        p.start()
    for p in producers:
        p.join(WAIT)
        assert p.exitcode == 0
    q.shutdown()  # the consumers drain what is left, then see ShutDown
    seen = []
    while len(seen) < 2 * n:
        seen.extend(results.get(timeout=WAIT))
    for c in consumers:
        c.join(WAIT)
        assert c.exitcode == 0
    assert sorted(seen) == sorted((p, i) for p in range(2) for i in range(n))
    assert q.stats()["items_lost"] == 0


def test_a_producer_killed_halfway_through_a_put_loses_only_its_item():
    ctx = multiprocessing.get_context("fork")
    q = fastchan.ProcessQueue()
    q.put("before")
    child = ctx.Process(target=die_in, args=(q, 1, b"y" * 10000))
    child.start()
    child.join(WAIT)
    assert child.exitcode == -signal.SIGKILL
    q.put("after")
    assert q.get(timeout=WAIT) == "before" and q.get(timeout=WAIT) == "after"
    stats = q.stats()
    assert stats["items_lost"] == 1 and stats["owner_deaths"] == 1
    assert stats["attached"] == 1


def test_a_consumer_killed_halfway_through_a_get_leaves_the_item():
    ctx = multiprocessing.get_context("fork")
    q = fastchan.ProcessQueue()
    q.put(item(0, 299))
    child = ctx.Process(target=die_in, args=(q, 2))
    child.start()
    child.join(WAIT)
    assert child.exitcode == -signal.SIGKILL
    assert check(q.get(timeout=WAIT)) == (0, 299)
    assert q.stats()["items_lost"] == 0 and q.stats()["owner_deaths"] == 1


def test_a_stopped_lock_holder_holds_others_only_until_their_timeout_or_a_signal():
    ctx = multiprocessing.get_context("fork")
    q = fastchan.ProcessQueue()
    child = ctx.Process(target=die_in, args=(q, 3, b"s" * 1000))  # SIGSTOPs itself holding the lock
    child.start()
    try:
        _, status = os.waitpid(child.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status)
        with pytest.raises(queue.Empty):
            q.get(timeout=0.1)
        with pytest.raises(queue.Full):
            q.put("x", timeout=0.1)

        class Alarm(Exception):
            pass

        def handler(signum, frame):
            raise Alarm

        old = signal.signal(signal.SIGALRM, handler)
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.1)
            with pytest.raises(Alarm):
                q.get_nowait()  # (even a nowait call waits for the lock, but without the GIL and not past a signal)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    finally:
        child.kill()
        child.join(WAIT)
    q.put("after")
    assert q.get(timeout=WAIT) == "after"
    assert q.stats()["items_lost"] == 1


def block_in_get(q):
    q.get(timeout=WAIT)


def test_a_consumer_killed_while_waiting_leaves_no_waiter_behind():
    ctx = multiprocessing.get_context("fork")
    q = fastchan.ProcessQueue()
    child = ctx.Process(target=block_in_get, args=(q,))
    child.start()
    deadline = time.monotonic() + WAIT
    while q.stats()["waiting_gets"] == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert q.stats()["waiting_gets"] == 1
    child.kill()
    child.join(WAIT)
    stats = q.stats()  # (reclaims the dead attachment, and its share of the waiters)
    assert stats["waiting_gets"] == 0 and stats["attached"] == 1 and stats["dead_attachments"] == 1
    q.put("still works")
    assert q.get(timeout=WAIT) == "still works"


@pytest.mark.parametrize("seed", range(4))
def test_producers_killed_at_random_times(seed):
    rng = random.Random(seed)
    ctx = multiprocessing.get_context("fork")
    q = fastchan.ProcessQueue(32)
    n = 2000
    victim = ctx.Process(target=produce, args=(q, 0, 10**9))
    survivor = ctx.Process(target=produce, args=(q, 1, n))
    victim.start()
    survivor.start()
    last = {0: -1, 1: -1}
    got = 0
    kill_at = rng.randrange(50, 1500)
    while last[1] < n - 1:
        producer, i = check(q.get(timeout=WAIT))
        assert i > last[producer]  # one consumer: each producer's items in order, none twice
        last[producer] = i
        got += 1
        if got == kill_at:
            victim.kill()
    victim.join(WAIT)
    survivor.join(WAIT)
    assert survivor.exitcode == 0
    while True:  # what the victim put before it died
        try:
            producer, i = check(q.get(timeout=0.05))
        except queue.Empty:
            break
        assert producer == 0 and i > last[0]
        last[0] = i
    assert q.stats()["items_lost"] <= 1  # at most the one it was writing


@pytest.mark.parametrize("seed", range(3))
def test_a_consumer_killed_at_a_random_time(seed):
    rng = random.Random(seed)
    ctx = multiprocessing.get_context("fork")
    q, results = fastchan.ProcessQueue(16), fastchan.ProcessQueue()
    consumers = [ctx.Process(target=forward_forever, args=(q, results)) for _ in range(2)]
    for c in consumers:
        c.start()
    n = 1500
    kill_at = rng.randrange(10, n - 10)
    for i in range(n):
        q.put(item(0, i), timeout=WAIT)
        if i == kill_at:
            consumers[0].kill()
    seen = set()
    while len(seen) < n - 1:  # the victim may have died holding one item
        producer, i = results.get(timeout=WAIT)
        assert i not in seen
        seen.add(i)
    try:
        seen.add(results.get(timeout=0.2)[1])
    except queue.Empty:
        pass
    assert len(seen) in (n - 1, n)
    consumers[1].kill()
    for c in consumers:
        c.join(WAIT)


def test_forked_while_another_thread_is_inside_the_ring():
    q = fastchan.ProcessQueue()
    stop = threading.Event()

    def churn():
        while not stop.is_set():
            q.put_many([b"z" * 500] * 4, timeout=WAIT)
            q.get_many(4, timeout=WAIT)

    t = threading.Thread(target=churn)
    t.start()
    try:
        for _ in range(5):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # (fork with threads, 3.12+)
                pid = os.fork()
            if pid == 0:  # the parent's thread releases the lock in the parent: the child goes on
                code = 1
                try:
                    q.put(b"z" * 500, timeout=WAIT)
                    code = 0 if q.stats()["attached"] >= 2 else 2
                finally:
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
    finally:
        stop.set()
        t.join(WAIT)
    assert q.stats()["owner_deaths"] == 0


# ---- /dev/shm ----

SHM_SCRIPT = r"""
import multiprocessing, os, signal, sys, time
import fastchan

def hold(q):
    q.put(os.getpid())
    time.sleep(60)

if __name__ == "__main__":
    q = fastchan.ProcessQueue()
    name = q.name
    ctx = multiprocessing.get_context(sys.argv[1])
    kids = [ctx.Process(target=hold, args=(q,)) for _ in range(3)]
    for k in kids:
        k.start()
    for _ in kids:
        q.get(timeout=30)
    for k in kids:
        os.kill(k.pid, signal.SIGKILL)
        k.join(30)
    print(os.path.exists("/dev/shm" + name), q.stats()["attached"])
    if sys.argv[2] == "del":
        del q
        print(os.path.exists("/dev/shm" + name))
    else:
        print(name)  # the exit lets go
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
@pytest.mark.parametrize("how", ["del", "exit"])
def test_the_segment_goes_when_the_last_live_user_lets_go(tmp_path, method, how):
    script = tmp_path / "shm_users.py"
    script.write_text(SHM_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, str(script), method, how], capture_output=True, text=True,
                         timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    assert lines[:2] == ["True", "1"]  # the killed children's places were reclaimed
    if how == "del":
        assert lines[2] == "False"
    else:
        assert not segment_exists(lines[2])


def ours():
    """This process's segments (named after their creator's pid): the test run
    runs other test sessions beside this one, whose segments come and go."""
    return {n for n in os.listdir("/dev/shm") if n.startswith(f"fastchan-{os.getpid()}-")}


def test_no_segment_is_left_after_a_normal_run():
    before = ours()
    q = fastchan.ProcessQueue()
    name = q.name
    child = multiprocessing.get_context("spawn").Process(target=echo, args=(q, q, 0))
    child.start()
    child.join(WAIT)
    assert segment_exists(name)
    del q
    assert not segment_exists(name)
    assert ours() <= before
