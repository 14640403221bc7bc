"""fastchan.ThreadPool over a process's life: interpreter exit, garbage
collection, fork, Ctrl-C, task exceptions and initializers.

Every test that runs tasks counts them: each must run exactly once, none
lost, none duplicated. Exit, fork and Ctrl-C run in a fresh interpreter so
that pytest's own process stays clean; timeouts only guard against hangs.
"""

import collections
import concurrent.futures as cf
import gc
import os
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import weakref
from concurrent.futures.thread import BrokenThreadPool

import pytest

import fastchan
from conftest import interrupt_when_ready

TIMEOUT = 30

# The child interpreters import the same fastchan as this one.
CHILD_ENV = dict(
    os.environ,
    PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(fastchan.__file__)), os.environ.get("PYTHONPATH", "")]
    ),
)


def run_script(code, *args, timeout=60):
    """Runs `code` in a fresh interpreter; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True, text=True, timeout=timeout, env=CHILD_ENV,
    )


def wait_until(predicate, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.001)


class Tally:
    """Counts how often each task id ran, from any thread."""

    def __init__(self):
        self.counts = collections.Counter()
        self.lock = threading.Lock()

    def task(self, i):
        with self.lock:
            self.counts[i] += 1
        return i

    def assert_each_ran_once(self, ids):
        assert self.counts == collections.Counter(ids), self.counts


# --- interpreter exit ------------------------------------------------------

EXIT_SCRIPT = """
import atexit, os, sys, threading, time
import fastchan

fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT)

def log(line):
    os.write(fd, (line + "\\n").encode())  # one O_APPEND write: lines never interleave

# atexit handlers run after the interpreter has joined its non-daemon threads.
atexit.register(log, "atexit")
gate = threading.Event()

def task(i):
    time.sleep(0.001)
    log(f"task {{i}}")
    return i

def fill(pool, ids, workers):
    # Hold every worker on the gate, so all of `ids` is still queued when
    # the main thread ends.
    for _ in range(workers):
        pool.submit(gate.wait, 60)
    for i in ids:
        pool.submit(task, i)

{body}
log("main done")
gate.set()
"""

# name: (script body, how many tasks it runs in all)
EXIT_BODIES = {
    # The pool is a global of __main__ when the main thread ends.
    "global": ("""
        pool = fastchan.ThreadPool(2)
        fill(pool, range(200), 2)
    """, 200),
    # Nothing refers to the pool any more: it is collected before exit.
    "unreferenced": ("""
        def main():
            pool = fastchan.ThreadPool(2)
            fill(pool, range(200), 2)
        main()
    """, 200),
    # to_thread's shared pool has idle workers left from asyncio.run.
    "after-to_thread": ("""
        import asyncio
        async def main():
            return await asyncio.gather(*(fastchan.to_thread(task, i) for i in range(200, 300)))
        assert asyncio.run(main()) == list(range(200, 300))
        pool = fastchan.ThreadPool(2)
        fill(pool, range(200), 2)
    """, 300),
}


@pytest.mark.parametrize("body, total", EXIT_BODIES.values(), ids=EXIT_BODIES.keys())
def test_interpreter_exit_runs_every_queued_task_and_joins_the_workers(body, total, tmp_path):
    # The script never calls shutdown(): exit itself must drain and join.
    log = tmp_path / "log"
    code = EXIT_SCRIPT.format(body=textwrap.dedent(body))
    result = run_script(code, str(log))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = log.read_text().splitlines()
    ids = [int(line.split()[1]) for line in lines if line.startswith("task ")]
    assert collections.Counter(ids) == collections.Counter(range(total))  # each exactly once
    # The pool's 200 tasks all ran after the main thread's last line, and
    # all of them before the interpreter finalized.
    after_main = lines[lines.index("main done") + 1:]
    assert sorted(int(line.split()[1]) for line in after_main[:-1]) == list(range(200)), lines
    assert after_main[-1] == "atexit", lines


# --- garbage collection ----------------------------------------------------


@pytest.mark.parametrize(
    "queued, in_cycle",
    [(True, False), (True, True), (False, False)],
    ids=["queued-refcount", "queued-cycle", "idle-refcount"],
)
def test_a_collected_pool_runs_its_queue_and_its_workers_exit(queued, in_cycle):
    baseline = threading.active_count()
    tally = Tally()
    gate = threading.Event()
    pool = fastchan.ThreadPool(3)
    holders = [pool.submit(gate.wait, TIMEOUT) for _ in range(3)]
    futures = [pool.submit(tally.task, i) for i in range(100)]
    workers = list(pool._threads)
    assert len(workers) == 3
    if not queued:
        gate.set()
        cf.wait(holders + futures, timeout=TIMEOUT)  # the workers are idle in work()
    if in_cycle:
        pool.cycle = pool  # only the cycle collector can free it
    collected = weakref.ref(pool)
    del pool
    gc.collect()
    assert collected() is None, "the pool was not collected"
    gate.set()
    for t in workers:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in workers), "a collected pool's worker did not exit"
    wait_until(lambda: threading.active_count() <= baseline)
    assert [f.result(0) for f in futures] == list(range(100))
    assert all(f.result(0) is True for f in holders)
    tally.assert_each_ran_once(range(100))


# --- fork ------------------------------------------------------------------

FORK_SCRIPT = """
import asyncio, collections, os, sys, threading, traceback, warnings
import fastchan

warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() with threads
BLOCKED = {blocked}
N = 200


class Tally:
    def __init__(self):
        self.counts = collections.Counter()
        self.lock = threading.Lock()

    def task(self, i):
        with self.lock:
            self.counts[i] += 1
        return i


def run_counted(pool, ids):
    # Every task runs exactly once and returns its own id.
    tally = Tally()
    futures = [pool.submit(tally.task, i) for i in ids]
    assert [f.result(30) for f in futures] == list(ids)
    assert tally.counts == collections.Counter(ids), tally.counts


def to_thread_counted(n):
    tally = Tally()
    async def main():
        return await asyncio.gather(*(fastchan.to_thread(tally.task, i) for i in range(n)))
    assert asyncio.run(main()) == list(range(n))
    assert tally.counts == collections.Counter(range(n)), tally.counts


pool = fastchan.ThreadPool(2)
run_counted(pool, range(N))
to_thread_counted(50)  # the shared pool now has threads too

if BLOCKED:
    # Both workers inside a long task, and tasks queued behind them.
    gate = threading.Event()
    started = threading.Barrier(3)
    def long_task():
        started.wait(30)
        gate.wait(30)
        return "long done"
    long_futures = [pool.submit(long_task) for _ in range(2)]
    started.wait(30)
    queued_tally = Tally()
    queued = [pool.submit(queued_tally.task, i) for i in range(10)]


def child():
    try:
        pool.submit(abs, -1)
    except RuntimeError as e:
        assert "fork" in str(e), e
    else:
        raise AssertionError("the parent's pool accepted a task in the child")
    if BLOCKED:
        # The parent's queued tasks are cancelled here, never run twice.
        assert all(f.cancelled() for f in queued), queued
        assert not any(f.done() for f in long_futures), long_futures
        assert not queued_tally.counts, queued_tally.counts

    fresh = fastchan.ThreadPool(4)
    run_counted(fresh, range(N))
    fresh.shutdown(wait=True)

    to_thread_counted(50)

    # A bounded queue, so that both the producer and the consumer block.
    q = fastchan.Queue(4)
    producer = threading.Thread(target=lambda: [q.put(i) for i in range(100)])
    producer.start()
    assert [q.get(timeout=30) for _ in range(100)] == list(range(100))
    producer.join(30)
    assert not producer.is_alive()


pid = os.fork()
if pid == 0:
    try:
        child()
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    os._exit(0)

_, status = os.waitpid(pid, 0)
print("child exit", os.waitstatus_to_exitcode(status), flush=True)
if BLOCKED:
    gate.set()
    assert [f.result(30) for f in long_futures] == ["long done"] * 2
    assert [f.result(30) for f in queued] == list(range(10))
    assert queued_tally.counts == collections.Counter(range(10)), queued_tally.counts
run_counted(pool, range(N, 2 * N))
to_thread_counted(50)
print("parent ok", flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("blocked", [False, True], ids=["idle-workers", "worker-in-long-task"])
def test_fork_child_gets_fresh_pools_and_the_parent_pool_keeps_working(blocked):
    result = run_script(FORK_SCRIPT.format(blocked=blocked))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout.split("\n") == ["child exit 0", "parent ok", ""], result.stderr
    assert result.returncode == 0, result.stderr


FORK_EXIT_SCRIPT = """
import os, sys, threading, time, warnings
import fastchan

warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() with threads
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
parent_pool = fastchan.ThreadPool(2)
assert list(parent_pool.map(abs, range(-50, 0))) == list(range(50, 0, -1))

def task(i):
    time.sleep(0.001)
    os.write(fd, f"{i}\\n".encode())

pid = os.fork()
if pid == 0:
    # Leave queued work in a new pool and exit the normal way: the exit hook
    # must drain it and must not wait for the parent's (absent) threads.
    pool = fastchan.ThreadPool(2)
    for i in range(100):
        pool.submit(task, i)
    sys.exit(0)
_, status = os.waitpid(pid, 0)
print("child exit", os.waitstatus_to_exitcode(status), flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_exiting_normally_drains_its_own_pool(tmp_path):
    log = tmp_path / "log"
    result = run_script(FORK_EXIT_SCRIPT, str(log))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == "child exit 0\n", result.stderr
    assert result.returncode == 0, result.stderr
    ids = [int(line) for line in log.read_text().split()]
    assert collections.Counter(ids) == collections.Counter(range(100))


# --- Ctrl-C ----------------------------------------------------------------

SIGINT_PRELUDE = """
import asyncio, os, sys, threading
import fastchan

stop = threading.Event()  # set once interrupted: the tasks then end at once
ran = []

def task(i):
    ran.append(i)
    stop.wait(30)
    return i

def ready():
    print("ready", flush=True)
"""

SIGINT_SCRIPTS = {
    # The main thread waits for a running task's result.
    "result": """
        pool = fastchan.ThreadPool(1)
        future = pool.submit(task, 0)
        try:
            ready()
            future.result()
            print("not interrupted", flush=True)
        except KeyboardInterrupt:
            stop.set()
            assert future.result(30) == 0
            pool.shutdown(wait=True)
            print("interrupted", ran, flush=True)
    """,
    # The main thread joins a worker that is still running a task.
    "shutdown": """
        pool = fastchan.ThreadPool(1)
        future = pool.submit(task, 0)
        try:
            ready()
            pool.shutdown(wait=True)
            print("not interrupted", flush=True)
        except KeyboardInterrupt:
            stop.set()
            # Before 3.13 an interrupted Thread.join() marks the thread as
            # stopped though it still runs (later joins return at once), so
            # wait for the task through its future.
            assert future.result(30) == 0
            pool.shutdown(wait=True)
            print("interrupted", ran, flush=True)
    """,
    # The main thread waits for room in a full queue; the interrupted
    # submission must not be queued.
    "blocking-submit": """
        pool = fastchan.ThreadPool(1, max_pending=1)
        running = pool.submit(task, 0)
        queued = pool.submit(task, 1)  # returns once the worker has taken task 0
        try:
            ready()
            pool.submit(task, 2)
            print("not interrupted", flush=True)
        except KeyboardInterrupt:
            assert pool._core.queued == 1
            stop.set()
            pool.shutdown(wait=True)
            assert (running.result(0), queued.result(0)) == (0, 1)
            print("interrupted", ran, flush=True)
    """,
    # asyncio.run awaits a to_thread() call that is running; the exit hook
    # then joins the shared pool's worker once the call ends.
    "to_thread": """
        def announced(i):
            ready()  # from the worker: the call is surely running
            return task(i)

        try:
            asyncio.run(fastchan.to_thread(announced, 0))
            print("not interrupted", flush=True)
        except KeyboardInterrupt:
            stop.set()
            print("interrupted", ran, flush=True)
    """,
}
SIGINT_RAN = {"result": [0], "shutdown": [0], "blocking-submit": [0, 1], "to_thread": [0]}


@pytest.mark.parametrize("name", SIGINT_SCRIPTS)
def test_ctrl_c_interrupts_a_main_thread_blocked_on_the_pool(name):
    code = SIGINT_PRELUDE + textwrap.dedent(SIGINT_SCRIPTS[name])
    out, err, returncode, elapsed = interrupt_when_ready(code, env=CHILD_ENV)
    assert out.strip() == f"interrupted {SIGINT_RAN[name]}", err
    assert "Traceback" not in err, err
    assert returncode == 0, err
    assert elapsed < 10  # a hang guard: the tasks would otherwise wait 30 s


# --- task exceptions -------------------------------------------------------


class CustomBaseError(BaseException):
    pass


def raise_value_error(i):
    raise ValueError(i)


def raise_system_exit(i):
    raise SystemExit(i)


def raise_keyboard_interrupt(i):
    raise KeyboardInterrupt(i)


def raise_custom_base_error(i):
    raise CustomBaseError(i)


def test_task_exceptions_never_kill_the_worker():
    # One worker: had any exception escaped into it, later tasks would
    # run on another thread, or not at all.
    raisers = [raise_value_error, raise_system_exit, raise_keyboard_interrupt, raise_custom_base_error]
    idents = []
    tally = Tally()

    def call(fn, i):
        idents.append(threading.get_ident())
        tally.task(i)
        return fn(i)

    pool = fastchan.ThreadPool(1)
    try:
        plan = [(i, raisers[i // 2 % len(raisers)] if i % 2 else abs) for i in range(40)]
        futures = [(i, fn, pool.submit(call, fn, i)) for i, fn in plan]
        for i, fn, future in futures:
            if fn is abs:
                assert future.result(TIMEOUT) == i
                continue
            error = future.exception(TIMEOUT)
            expected_type = {raise_value_error: ValueError, raise_system_exit: SystemExit,
                             raise_keyboard_interrupt: KeyboardInterrupt,
                             raise_custom_base_error: CustomBaseError}[fn]
            assert type(error) is expected_type and error.args == (i,), error
            # The traceback was kept and reaches the function that raised.
            names = [frame.name for frame in traceback.extract_tb(error.__traceback__)]
            assert fn.__name__ in names, names
            with pytest.raises(expected_type):
                future.result(0)
        assert len(set(idents)) == 1, "the worker thread changed"
        assert len(pool._threads) == 1
        assert pool.submit(threading.get_ident).result(TIMEOUT) == idents[0]
    finally:
        pool.shutdown(wait=True)
    tally.assert_each_ran_once(range(40))


# --- initializers ----------------------------------------------------------


def test_a_failing_initializer_breaks_the_pool(caplog):
    gate = threading.Event()
    tally = Tally()

    def fail():
        gate.wait(TIMEOUT)  # every submit below comes first
        raise OSError("no resource")

    pool = fastchan.ThreadPool(2, initializer=fail)
    futures = [pool.submit(tally.task, i) for i in range(20)]
    gate.set()
    for f in futures:
        with pytest.raises(BrokenThreadPool):
            f.result(TIMEOUT)
    with pytest.raises(BrokenThreadPool):
        pool.submit(tally.task, 99)
    pool.shutdown(wait=True)
    assert not any(t.is_alive() for t in pool._threads)
    assert not tally.counts, "a task ran in a broken pool"
    assert "Exception in initializer" in caplog.text


def test_initializer_runs_once_per_started_thread_with_initargs():
    calls = []
    local = threading.local()

    def init(*args):
        calls.append((threading.get_ident(), args))
        local.args = args

    tally = Tally()

    def task(i):
        # The initializer ran on this thread before any of its tasks.
        assert local.args == ("a", 1)
        return tally.task(i)

    pool = fastchan.ThreadPool(2, initializer=init, initargs=("a", 1))
    try:
        both = threading.Barrier(2)  # two tasks at once start both threads
        cf.wait([pool.submit(both.wait, TIMEOUT) for _ in range(2)], timeout=TIMEOUT)
        futures = [pool.submit(task, i) for i in range(200)]
        assert [f.result(TIMEOUT) for f in futures] == list(range(200))
    finally:
        pool.shutdown(wait=True)
    assert len(pool._threads) == 2
    assert sorted(calls) == sorted((t.ident, ("a", 1)) for t in pool._threads)
    tally.assert_each_ran_once(range(200))
