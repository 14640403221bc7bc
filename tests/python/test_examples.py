"""The seed documents' examples, unchanged, under `python -m fastchan`: the
same output as plain Python, on fastchan's classes."""

import json
import os
import pathlib
import re
import signal
import subprocess
import sys

import pytest

from fastchan import _core

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
RUNNER = pathlib.Path(__file__).resolve().parent / "traced_runner.py"
HAS_PROCESS_QUEUE = bool(_core._build_info.get("process_queue"))


def start(args):
    return subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=EXAMPLES)


def census(stderr):
    match = re.search(r"^FASTCHAN-CREATED (.*)$", stderr, re.M)
    assert match, stderr
    return json.loads(match.group(1))


def cookies(lines):
    # Which consumer gets a cookie is up to the scheduler, and two daemon
    # threads print at once, so a line can be torn apart by the other's
    # print. What must agree: how many cookies were eaten, and that every
    # intact line names a cookie a producer put (0, 1 or 2).
    text = "\n".join(lines)
    intact = re.findall(r"^consumer\s+[12]\s+got =>\s+(\d+)$", text, re.M)
    assert set(intact) <= {"0", "1", "2"}, intact
    return text.count("got =>")


# example -> (how to compare outputs, fastchan classes it must create)
# (to_thread's shared pool is a fastchan.ThreadPool)
CASES = {
    "tutorial_asyncio_basic.py": (None, "fastchan.asyncio.Queue"),
    "tutorial_trio_memory_channel.py": (None, "fastchan.open_memory_channel"),
    "tutorial_threads_cookiejar.py": (cookies, "fastchan.Queue"),
    "tutorial_asyncio_generator.py": (None, None),  # uses no queue at all
    "tutorial_asyncio_event_driven.py": (None, "fastchan.asyncio.Queue"),
    "tutorial_asyncio_to_thread.py": (None, ("fastchan.asyncio.Queue", "fastchan.ThreadPool")),
    "tutorial_asyncio_sentinel.py": (sorted, "fastchan.asyncio.Queue"),
    "queue_subclass_dedup.py": (None, "fastchan.Queue"),  # a subclass overriding queue.Queue's hooks
    # multiprocessing.Queue is routed where ProcessQueue is built (Linux)
    "multiprocessing_workers.py": (None, "fastchan.ProcessQueue" if HAS_PROCESS_QUEUE else None),
}


@pytest.mark.parametrize("example", sorted(CASES))
def test_example_runs_unchanged_on_fastchan(example):
    if "trio" in example:
        pytest.importorskip("trio")
    compare, expected_class = CASES[example]
    plain = start([example])
    fast = start([str(RUNNER), example])
    plain_out, plain_err = plain.communicate(timeout=120)
    fast_out, fast_err = fast.communicate(timeout=120)
    assert plain.returncode == 0, plain_err
    assert fast.returncode == 0, fast_err
    normalize = compare or (lambda lines: lines)
    assert normalize(fast_out.splitlines()) == normalize(plain_out.splitlines())
    assert fast_out.strip()
    created = census(fast_err)
    if expected_class:
        for name in (expected_class,) if isinstance(expected_class, str) else expected_class:
            assert created.get(name, 0) >= 1, created
    else:
        assert created == {}


def test_forever_example_prints_the_same_kind_of_lines():
    # tutorial_threads_forever.py produces and consumes forever: read its first lines, then stop it.
    fast = start(["-u", str(RUNNER), "tutorial_threads_forever.py"])
    try:
        lines = [fast.stdout.readline().strip() for _ in range(2)]
    finally:
        fast.send_signal(signal.SIGKILL)
        fast.communicate(timeout=10)
    for line in lines:
        match = re.fullmatch(r"Consumed: (\d+)", line)
        assert match and 1 <= int(match.group(1)) <= 100, lines


def test_runner_keeps_argv_and_path(tmp_path):
    script = tmp_path / "show.py"
    script.write_text(
        "import sys, queue, asyncio, fastchan\n"
        "print(sys.argv)\n"
        "print(sys.path[0])\n"
        "print(queue.Queue is fastchan.Queue, asyncio.Queue is fastchan.asyncio.Queue)\n"
        "import concurrent.futures.thread as t\n"
        "print(t.queue.SimpleQueue is fastchan.SimpleQueue)\n"
    )
    out = subprocess.run([sys.executable, "-m", "fastchan", str(script), "a", "--b"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    argv, path0, replaced, stdlib_kept = out.stdout.splitlines()
    assert argv == repr([str(script), "a", "--b"])
    assert path0 == str(tmp_path)
    assert replaced == "True True"
    assert stdlib_kept == "False"  # the stdlib's own uses keep the stdlib's classes


def test_runner_runs_a_module(tmp_path):
    (tmp_path / "mod_to_run.py").write_text(
        "import sys, queue, fastchan\nprint(sys.argv[1:], queue.SimpleQueue is fastchan.SimpleQueue)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-m", "fastchan", "-m", "mod_to_run", "x"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['x'] True"


def test_install_and_uninstall():
    import asyncio
    import queue

    import fastchan

    originals = (queue.Queue, queue.SimpleQueue, asyncio.Queue, asyncio.PriorityQueue)
    fastchan.install()
    try:
        assert fastchan.installed()
        assert queue.Queue is fastchan.Queue and queue.LifoQueue is fastchan.LifoQueue
        assert queue.PriorityQueue is fastchan.PriorityQueue and queue.SimpleQueue is fastchan.SimpleQueue
        assert asyncio.Queue is fastchan.asyncio.Queue
        assert asyncio.LifoQueue is fastchan.asyncio.LifoQueue
        assert asyncio.PriorityQueue is fastchan.asyncio.PriorityQueue
        fastchan.install()  # idempotent
    finally:
        fastchan.uninstall()
    assert not fastchan.installed()
    assert (queue.Queue, queue.SimpleQueue, asyncio.Queue, asyncio.PriorityQueue) == originals


@pytest.mark.skipif(not HAS_PROCESS_QUEUE, reason="no fastchan.ProcessQueue in this build: multiprocessing is not routed")
def test_install_routes_multiprocessing_queue_and_uninstall_restores_it():
    import concurrent.futures.process
    import multiprocessing
    import multiprocessing.context
    import multiprocessing.queues

    import fastchan

    original_name = multiprocessing.Queue
    original_method = multiprocessing.context.BaseContext.__dict__["Queue"]
    fastchan.install()
    try:
        q = multiprocessing.Queue(5)
        assert type(q) is fastchan.ProcessQueue and q.maxsize == 5
        for method in ("fork", "spawn", "forkserver"):
            assert type(multiprocessing.get_context(method).Queue()) is fastchan.ProcessQueue
        assert type(multiprocessing.get_context().Queue(maxsize=2)) is fastchan.ProcessQueue
        # What the stdlib builds on its own stays: JoinableQueue, SimpleQueue,
        # and concurrent.futures.process's subclass of multiprocessing.queues.Queue.
        assert type(multiprocessing.JoinableQueue()) is multiprocessing.queues.JoinableQueue
        assert type(multiprocessing.SimpleQueue()) is multiprocessing.queues.SimpleQueue
        assert issubclass(concurrent.futures.process._SafeQueue, multiprocessing.queues.Queue)
        fastchan.install()  # idempotent
        assert type(multiprocessing.Queue()) is fastchan.ProcessQueue
    finally:
        fastchan.uninstall()
    assert multiprocessing.Queue is original_name
    assert multiprocessing.context.BaseContext.__dict__["Queue"] is original_method
    assert type(multiprocessing.Queue()) is multiprocessing.queues.Queue
    assert type(multiprocessing.get_context("spawn").Queue()) is multiprocessing.queues.Queue


@pytest.mark.skipif(not HAS_PROCESS_QUEUE, reason="no fastchan.ProcessQueue in this build: multiprocessing is not routed")
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_runner_routes_a_multiprocessing_producer_consumer_script(tmp_path, method):
    """A seed-like script on multiprocessing.Queue / get_context(...).Queue,
    unchanged: producers and consumers in processes, every item once."""
    script = tmp_path / "mp_pipeline.py"
    script.write_text(f"""\
import multiprocessing

def produce(q, start, n):
    for i in range(start, start + n):
        q.put(i)

def consume(q, results):
    got = []
    while True:
        item = q.get()
        if item is None:
            break
        got.append(item)
    results.put(got)

if __name__ == "__main__":
    ctx = multiprocessing.get_context({method!r})
    q = ctx.Queue(maxsize=8) if {method!r} == "spawn" else multiprocessing.Queue(8)
    results = ctx.Queue()
    producers = [ctx.Process(target=produce, args=(q, k * 500, 500)) for k in range(3)]
    consumers = [ctx.Process(target=consume, args=(q, results)) for _ in range(3)]
    for p in producers + consumers:
        p.start()
    for p in producers:
        p.join()
    for _ in consumers:
        q.put(None)
    got = sum((results.get() for _ in consumers), [])
    for p in consumers:
        p.join()
    print(type(q).__module__, type(results).__module__)
    print(len(got), sorted(got) == list(range(1500)))
""")
    plain = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    fast = subprocess.run([sys.executable, "-m", "fastchan", str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert fast.returncode == 0, fast.stderr
    assert plain.stdout.splitlines() == ["multiprocessing.queues multiprocessing.queues", "1500 True"]
    assert fast.stdout.splitlines() == ["fastchan.process_queue fastchan.process_queue", "1500 True"]
