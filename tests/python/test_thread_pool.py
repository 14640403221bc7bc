"""fastchan.ThreadPool as a concurrent.futures executor: the stdlib protocol,
bounded submission, the self-submit rule, shutdown, and bad input."""

import asyncio
import concurrent.futures as cf
import queue
import threading
import time
import traceback
from concurrent.futures.thread import BrokenThreadPool

import pytest

import fastchan

TIMEOUT = 30


def wait_until(predicate, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.001)


@pytest.fixture
def pool():
    p = fastchan.ThreadPool(4)
    yield p
    p.shutdown(wait=True, cancel_futures=True)


def blocked_pool(max_workers=1, max_pending=None):
    """A pool whose every worker is held on `gate` until the test sets it."""
    p = fastchan.ThreadPool(max_workers, max_pending=max_pending)
    gate = threading.Event()
    started = threading.Barrier(max_workers + 1)

    def hold():
        started.wait(TIMEOUT)
        gate.wait(TIMEOUT)

    holders = [p.submit(hold) for _ in range(max_workers)]
    started.wait(TIMEOUT)
    return p, gate, holders


# --- the executor protocol -------------------------------------------------


def test_is_a_thread_pool_executor(pool):
    assert isinstance(pool, cf.Executor)
    assert isinstance(pool, cf.ThreadPoolExecutor)
    future = pool.submit(divmod, 7, 2)
    assert isinstance(future, cf.Future)
    assert future.result(TIMEOUT) == (3, 1)


def test_submit_passes_args_and_kwargs(pool):
    def f(a, b, *, c):
        return (a, b, c)

    assert pool.submit(f, 1, 2, c=3).result(TIMEOUT) == (1, 2, 3)
    # `fn` is positional-only: a keyword named fn reaches the call.
    assert pool.submit(lambda **kw: kw, fn=1).result(TIMEOUT) == {"fn": 1}


def test_tasks_run_on_named_worker_threads():
    with fastchan.ThreadPool(2, thread_name_prefix="crunch") as p:
        names = {p.submit(lambda: threading.current_thread().name).result(TIMEOUT) for _ in range(20)}
    assert names and all(n.startswith("crunch_") for n in names), names
    assert threading.main_thread().name not in names


def test_map_keeps_order_and_accepts_timeout_and_chunksize(pool):
    assert list(pool.map(pow, range(50), range(50))) == [i**i for i in range(50)]
    assert list(pool.map(str, range(10), timeout=TIMEOUT, chunksize=4)) == [str(i) for i in range(10)]


def test_map_timeout_raises():
    p, gate, _ = blocked_pool(1)
    try:
        results = p.map(abs, [1], timeout=0.05)
        with pytest.raises(cf.TimeoutError):  # the builtin TimeoutError from 3.11
            list(results)
    finally:
        gate.set()
        p.shutdown()


def test_map_reraises_the_task_exception(pool):
    with pytest.raises(ZeroDivisionError):
        list(pool.map(lambda x: 1 / x, [1, 0, 2]))


def test_exception_reaches_the_caller_with_its_traceback(pool):
    def inner():
        raise ValueError("bad value 42")

    def outer():
        inner()

    future = pool.submit(outer)
    with pytest.raises(ValueError, match="bad value 42") as info:
        future.result(TIMEOUT)
    names = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    assert "outer" in names and "inner" in names, names
    assert isinstance(future.exception(TIMEOUT), ValueError)


def test_wait_and_as_completed(pool):
    futures = [pool.submit(pow, 2, i) for i in range(200)]
    done, not_done = cf.wait(futures, timeout=TIMEOUT)
    assert len(done) == 200 and not not_done
    assert sorted(f.result() for f in cf.as_completed(futures, timeout=TIMEOUT)) == sorted(
        2**i for i in range(200)
    )


def test_wait_first_completed_and_first_exception():
    p, gate, holders = blocked_pool(1)
    try:
        queued = p.submit(abs, -1)
        done, not_done = cf.wait([queued, *holders], timeout=0.05, return_when=cf.FIRST_COMPLETED)
        assert not done and len(not_done) == 2
        gate.set()
        done, _ = cf.wait([queued, *holders], timeout=TIMEOUT, return_when=cf.FIRST_COMPLETED)
        assert done
        failing = p.submit(lambda: 1 / 0)
        done, _ = cf.wait([failing], timeout=TIMEOUT, return_when=cf.FIRST_EXCEPTION)
        assert done == {failing}
    finally:
        gate.set()
        p.shutdown()


def test_done_callbacks_before_and_after_completion(pool, caplog):
    seen = []
    p, gate, _ = blocked_pool(1)
    try:
        future = p.submit(lambda: "value")
        future.add_done_callback(lambda f: seen.append(("early", f.result())))
        assert seen == []
        gate.set()
        wait_until(lambda: seen)
        future.add_done_callback(lambda f: seen.append(("late", f.result())))
        assert seen == [("early", "value"), ("late", "value")]
        future.add_done_callback(lambda f: 1 / 0)  # logged, not raised
        assert "exception calling callback" in caplog.text
    finally:
        gate.set()
        p.shutdown()


def test_cancel_a_queued_future():
    ran = []
    p, gate, _ = blocked_pool(1)
    try:
        future = p.submit(ran.append, 1)
        assert future.cancel() and future.cancelled() and future.done()
        with pytest.raises(cf.CancelledError):
            future.result(TIMEOUT)
        gate.set()
        p.shutdown(wait=True)
        assert ran == []
        assert cf.wait([future], timeout=0).done == {future}
    finally:
        gate.set()


def test_a_running_future_cannot_be_cancelled(pool):
    started, release = threading.Event(), threading.Event()
    future = pool.submit(lambda: (started.set(), release.wait(TIMEOUT)))
    assert started.wait(TIMEOUT)
    assert future.running() and not future.cancel()
    release.set()
    assert future.result(TIMEOUT) == (None, True)
    assert not future.cancel()


def test_result_and_exception_time_out():
    p, gate, holders = blocked_pool(1)
    try:
        with pytest.raises(cf.TimeoutError):
            holders[0].result(timeout=0.02)
        with pytest.raises(cf.TimeoutError):
            holders[0].exception(timeout=0.02)
        assert not holders[0].done()
        assert "running" in repr(holders[0])
    finally:
        gate.set()
        p.shutdown()


def test_wrap_future_and_run_in_executor(pool):
    async def main():
        loop = asyncio.get_running_loop()
        a = await asyncio.wrap_future(pool.submit(sum, [1, 2, 3]))
        b = await loop.run_in_executor(pool, max, 4, 9)
        with pytest.raises(KeyError):
            await loop.run_in_executor(pool, {}.__getitem__, "missing")
        return a, b

    assert asyncio.run(main()) == (6, 9)


def test_set_default_executor():
    async def main():
        loop = asyncio.get_running_loop()
        loop.set_default_executor(fastchan.ThreadPool(2, thread_name_prefix="default"))
        name = await loop.run_in_executor(None, lambda: threading.current_thread().name)
        via_to_thread = await asyncio.to_thread(lambda: threading.current_thread().name)
        return name, via_to_thread

    name, via_to_thread = asyncio.run(main())
    assert name.startswith("default_") and via_to_thread.startswith("default_")


# --- bounded submission ----------------------------------------------------


def test_submit_nowait_raises_full_and_leaves_the_queue_intact():
    ran = []
    p, gate, _ = blocked_pool(1, max_pending=2)
    try:
        queued = [p.submit_nowait(ran.append, i) for i in range(2)]
        with pytest.raises(fastchan.Full, match="max_pending=2") as info:
            p.submit_nowait(ran.append, 99)
        assert isinstance(info.value, queue.Full)
        assert p._core.queued == 2
        gate.set()
        cf.wait(queued, timeout=TIMEOUT)
        assert ran == [0, 1]
    finally:
        gate.set()
        p.shutdown()


def test_submit_blocks_while_the_queue_is_full():
    p, gate, _ = blocked_pool(1, max_pending=1)
    try:
        p.submit(abs, 1)
        submitted = threading.Event()
        t = threading.Thread(target=lambda: (p.submit(abs, 2), submitted.set()))
        t.start()
        assert not submitted.wait(0.1)  # still blocked: no room
        gate.set()
        assert submitted.wait(TIMEOUT)
        t.join(TIMEOUT)
    finally:
        gate.set()
        p.shutdown()


def test_max_pending_zero_hands_each_task_to_a_worker():
    with fastchan.ThreadPool(2, max_pending=0) as p:
        results = [p.submit(pow, i, 2) for i in range(100)]
        assert [f.result(TIMEOUT) for f in results] == [i * i for i in range(100)]
        assert p._core.queued == 0
    p, gate, _ = blocked_pool(1, max_pending=0)
    try:
        with pytest.raises(fastchan.Full):
            p.submit_nowait(abs, 1)  # no idle worker to take it
    finally:
        gate.set()
        p.shutdown()


def test_shutdown_wakes_a_blocked_submitter():
    p, gate, _ = blocked_pool(1, max_pending=1)
    errors = []
    p.submit(abs, 1)

    def submit_more():
        try:
            p.submit(abs, 2)
        except RuntimeError as e:
            errors.append(e)

    t = threading.Thread(target=submit_more)
    t.start()
    time.sleep(0.05)
    p.shutdown(wait=False)
    t.join(TIMEOUT)
    gate.set()
    p.shutdown()
    assert len(errors) == 1 and "shutdown" in str(errors[0])


# --- a task that submits to its own pool ----------------------------------


def test_self_submit_to_a_full_pool_raises_instead_of_deadlocking():
    with fastchan.ThreadPool(1, max_pending=1) as p:

        def fan_out():
            p.submit(abs, -1)  # fits: the queue has room for one
            with pytest.raises(fastchan.Full, match="deadlock"):
                p.submit(abs, -2)  # would wait for the only worker: itself
            return "refused"

        assert p.submit(fan_out).result(TIMEOUT) == "refused"


def test_self_submit_waits_while_another_worker_can_drain():
    with fastchan.ThreadPool(2, max_pending=1) as p:
        ran = []

        def fan_out():
            children = [p.submit(ran.append, i) for i in range(20)]  # blocks at times
            return len(children)

        assert p.submit(fan_out).result(TIMEOUT) == 20
    assert sorted(ran) == list(range(20))


def test_tasks_that_wait_for_each_other_get_their_own_threads():
    barrier = threading.Barrier(4)
    with fastchan.ThreadPool(4) as p:
        futures = [p.submit(barrier.wait, TIMEOUT) for _ in range(4)]
        assert sorted(f.result(TIMEOUT) for f in futures) == [0, 1, 2, 3]
        assert p._core.started_workers == 4


# --- shutdown --------------------------------------------------------------


def test_shutdown_drains_by_default():
    ran = []
    p, gate, _ = blocked_pool(1)
    futures = [p.submit(ran.append, i) for i in range(100)]
    gate.set()
    p.shutdown(wait=True)
    assert ran == list(range(100))
    assert all(f.done() and not f.cancelled() for f in futures)


def test_shutdown_cancel_futures_cancels_what_is_queued():
    ran = []
    p, gate, holders = blocked_pool(1)
    futures = [p.submit(ran.append, i) for i in range(100)]
    p.shutdown(wait=False, cancel_futures=True)
    gate.set()
    p.shutdown(wait=True)
    assert ran == [] and all(f.cancelled() for f in futures)
    assert holders[0].result(TIMEOUT) is None  # the running task finished
    done, not_done = cf.wait(futures, timeout=TIMEOUT)  # cancelled counts as done
    assert len(done) == 100 and not not_done
    assert len(list(cf.as_completed(futures, timeout=TIMEOUT))) == 100


def test_submit_after_shutdown_raises(pool):
    pool.shutdown()
    pool.shutdown()  # idempotent
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(abs, 1)
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit_nowait(abs, 1)


def test_shutdown_from_a_task_does_not_wait_for_itself():
    p = fastchan.ThreadPool(2)
    assert p.submit(lambda: p.shutdown(wait=True) or "ok").result(TIMEOUT) == "ok"
    p.shutdown()


def test_context_manager_waits_for_the_work():
    ran = []
    with fastchan.ThreadPool(3) as p:
        for i in range(50):
            p.submit(lambda i=i: (time.sleep(0.001), ran.append(i)))
    assert sorted(ran) == list(range(50))


def test_initializer_runs_once_per_thread_and_a_failing_one_breaks_the_pool():
    calls = []
    with fastchan.ThreadPool(2, initializer=calls.append, initargs=("init",)) as p:
        barrier = threading.Barrier(2)
        cf.wait([p.submit(barrier.wait, TIMEOUT) for _ in range(2)], timeout=TIMEOUT)
    assert calls == ["init", "init"]

    gate = threading.Event()

    def fail():
        gate.wait(TIMEOUT)  # so that every submit below comes first
        raise OSError("no resource")

    p = fastchan.ThreadPool(1, initializer=fail)
    futures = [p.submit(abs, i) for i in range(5)]
    gate.set()
    for f in futures:
        with pytest.raises(BrokenThreadPool):
            f.result(TIMEOUT)
    with pytest.raises(BrokenThreadPool):
        p.submit(abs, 1)
    p.shutdown()


# --- exactly once ----------------------------------------------------------


@pytest.mark.parametrize("max_pending", [None, 0, 1, 64])
def test_every_task_runs_exactly_once_under_concurrent_submit_and_shutdown(max_pending):
    submitters, per_thread = 4, 2000
    ran = [0] * (submitters * per_thread)
    accepted, refused = [], []
    lock = threading.Lock()
    p = fastchan.ThreadPool(3, max_pending=max_pending)

    def run(i):
        ran[i] += 1  # each index belongs to one task: no race on the slot

    def submitter(k):
        mine = []
        for j in range(per_thread):
            i = k * per_thread + j
            try:
                mine.append((i, p.submit(run, i)))
            except RuntimeError:
                with lock:
                    refused.append(i)
        with lock:
            accepted.extend(mine)

    threads = [threading.Thread(target=submitter, args=(k,)) for k in range(submitters)]
    for t in threads:
        t.start()
    time.sleep(0.01)
    p.shutdown(wait=False, cancel_futures=True)
    for t in threads:
        t.join(TIMEOUT)
    p.shutdown(wait=True)

    assert len(accepted) + len(refused) == len(ran)
    for i, future in accepted:
        assert future.done()
        assert ran[i] == (0 if future.cancelled() else 1), (i, future)
    assert all(ran[i] == 0 for i in refused)


def test_every_task_runs_exactly_once_from_many_threads():
    counts = {}
    lock = threading.Lock()

    def task(i):
        with lock:
            counts[i] = counts.get(i, 0) + 1
        return i

    with fastchan.ThreadPool(4, max_pending=8) as p:
        def submitter(k):
            return [p.submit(task, k * 1000 + j) for j in range(1000)]

        with cf.ThreadPoolExecutor(4) as outer:
            batches = list(outer.map(submitter, range(4)))
        results = [f.result(TIMEOUT) for batch in batches for f in batch]
    assert sorted(results) == sorted(counts) == [k * 1000 + j for k in range(4) for j in range(1000)]
    assert set(counts.values()) == {1}


# --- bad input -------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        ({"max_workers": 0}, ValueError, "max_workers must be greater than 0, not 0"),
        ({"max_workers": -3}, ValueError, "-3"),
        ({"max_workers": "4"}, TypeError, "max_workers must be an integer, not str '4'"),
        ({"max_workers": True}, TypeError, "not bool"),
        ({"max_workers": 2.0}, TypeError, "not float"),
        ({"max_pending": -1}, ValueError, "max_pending must be at least 0, not -1"),
        ({"max_pending": "8"}, TypeError, "max_pending must be an integer"),
        ({"initializer": 5}, TypeError, "initializer must be callable, not int 5"),
        ({"thread_name_prefix": 3}, TypeError, "thread_name_prefix must be a str"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, text):
    with pytest.raises(error, match=text.replace("(", r"\(")):
        fastchan.ThreadPool(**kwargs)


def test_submitting_a_non_callable_raises_and_leaves_the_pool_intact(pool):
    with pytest.raises(TypeError, match="fn must be callable, not int 42"):
        pool.submit(42)
    with pytest.raises(TypeError, match="not callable|must be callable"):
        pool.submit_nowait("text")
    assert pool._core.outstanding == 0
    assert pool.submit(abs, -5).result(TIMEOUT) == 5


def test_repr_names_the_bounds(pool):
    assert "max_workers=4" in repr(pool) and "max_pending=None" in repr(pool)
    pool.shutdown()
    assert "shut down" in repr(pool)
