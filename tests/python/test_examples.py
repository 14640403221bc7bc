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

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
RUNNER = pathlib.Path(__file__).resolve().parent / "traced_runner.py"


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
