"""Typed process queues: ProcessQueue(dtype="int64" | "float64" | "bytes")
stores C values in the shared ring (no pickling), with the in-process typed
Channel's rules and errors; a C++ program (examples/shm_cpp_peer.cpp, on
fastchan/shm/queue.hpp) exchanges items with Python both ways. Every wait
has a timeout; every cross-process test counts items exactly once; no test
asserts on speed."""

import array
import multiprocessing
import os
import pickle
import queue
import shutil
import signal
import subprocess
import sys

import pytest

import fastchan
from fastchan import _core

pytestmark = [
    pytest.mark.skipif(not _core._build_info.get("process_queue"),
                       reason="ProcessQueue needs Linux shared memory and futexes (FASTCHAN_PORTABLE build)"),
    pytest.mark.timeout(180),
    # The fork start method is tested on purpose; 3.12+ warns that the test
    # process has threads (pytest's, other tests' daemons) when it forks.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

WAIT = 30
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEER_SOURCE = os.path.join(REPO, "examples", "shm_cpp_peer.cpp")

SAMPLES = {"int64": [0, -1, 2**63 - 1, -(2**63), 7], "float64": [0.0, -1.5, 1e300, float("inf"), 3],
           "bytes": [b"", b"a", b"x" * 1000, bytearray(b"ba"), memoryview(b"mv")]}


def as_stored(dtype, value):
    return bytes(value) if dtype == "bytes" else (float(value) if dtype == "float64" else value)


# ---- children (module level: spawn imports them) ----

def produce_arrays(q, first, n, batch):
    for start in range(first, first + n, batch):
        q.put_many(array.array("q", range(start, min(start + batch, first + n))), timeout=WAIT)


def consume_arrays(q, out, max_items):
    got = []
    while True:
        try:
            got.extend(q.get_many(max_items, timeout=WAIT, as_array=True))
        except fastchan.ShutDown:
            break
    out.put_many(array.array("q", got), timeout=WAIT)
    out.put(-1, timeout=WAIT)  # (done marker)


def describe(q, out):
    out.put((q.dtype, q.get(timeout=WAIT)))


def die_in(q, fault, batch=None):
    q._set_fault(fault)
    if batch is None:
        q.get_many(100, timeout=WAIT)
    else:
        q.put_many(batch, timeout=WAIT)


# ---- one process ----

@pytest.mark.parametrize("dtype", SAMPLES)
def test_items_come_back_as_the_dtypes_values(dtype):
    q = fastchan.ProcessQueue(dtype=dtype)
    assert q.dtype == dtype and f"dtype={dtype}" in repr(q)
    for v in SAMPLES[dtype]:
        q.put(v)
    q.put_many(SAMPLES[dtype])
    q.put_many(iter(SAMPLES[dtype]))
    expected = [as_stored(dtype, v) for v in SAMPLES[dtype]]
    assert [q.get(timeout=WAIT) for _ in expected] == expected
    assert q.get_many(len(expected), timeout=WAIT) == expected
    assert q.get_many(100, timeout=WAIT) == expected
    with pytest.raises(queue.Empty):
        q.get_nowait()
    q.put(SAMPLES[dtype][1])
    assert type(q.get(timeout=WAIT)) is {"int64": int, "float64": float, "bytes": bytes}[dtype]


@pytest.mark.parametrize("dtype, typecode", [("int64", "q"), ("float64", "d")])
def test_buffers_go_in_in_one_copy_and_as_array_comes_back(dtype, typecode):
    q = fastchan.ProcessQueue(dtype=dtype)
    values = array.array(typecode, range(1000))
    q.put_many(values)
    q.put_many(memoryview(values)[10:20])
    got = q.get_many(500, timeout=WAIT, as_array=True)
    assert type(got) is array.array and got.typecode == typecode and got == values[:500]
    got = q.get_many(10_000, timeout=WAIT, as_array=True)  # (sized to what is there, not to max_items)
    assert got == values[500:] + values[10:20]
    q.put_many(array.array(typecode, [5]))
    assert q.get_many(3, timeout=WAIT) == [5]


def test_get_many_takes_part_of_a_batch_and_leaves_the_rest_in_order():
    q = fastchan.ProcessQueue(dtype="int64")
    q.put_many(array.array("q", range(4096)))
    assert q.get_many(3, timeout=WAIT, as_array=True).tolist() == [0, 1, 2]
    assert q.qsize() == 4093
    assert q.get(timeout=WAIT) == 3
    assert q.get_many(5000, timeout=WAIT) == list(range(4, 4096))


def test_a_float64_queue_takes_ints_and_a_buffer_of_another_format_goes_item_by_item():
    q = fastchan.ProcessQueue(dtype="float64")
    q.put(2)
    q.put_many(array.array("i", [3, 4]))  # (4-byte ints: converted one by one, not copied)
    got = q.get_many(5, timeout=WAIT)
    assert got == [2.0, 3.0, 4.0] and all(type(v) is float for v in got)


@pytest.mark.parametrize("dtype, bad, words", [
    ("int64", "x", ["int64", "int", "str", "'x'"]),
    ("int64", 1.5, ["int64", "int", "float", "1.5"]),
    ("float64", "x", ["float64", "real number", "'x'"]),
    ("bytes", "text", ["bytes", "bytes-like", "'text'"]),
    ("bytes", 3, ["bytes", "bytes-like", "int", "3"]),
])
def test_a_wrong_item_is_a_type_error_naming_it_and_the_dtype_and_leaves_the_queue_intact(dtype, bad, words):
    q = fastchan.ProcessQueue(dtype=dtype)
    good = SAMPLES[dtype][1]
    q.put(good)
    with pytest.raises(TypeError) as e:
        q.put(bad)
    with pytest.raises(TypeError):
        q.put_nowait(bad)
    with pytest.raises(TypeError):
        q.put_many([good, good, bad])  # (nothing of the batch goes in)
    assert all(w in str(e.value) for w in words), str(e.value)
    assert q.qsize() == 1 and q.get(timeout=WAIT) == as_stored(dtype, good) and q.empty()


def test_an_int_too_large_is_an_overflow_error():
    q = fastchan.ProcessQueue(dtype="int64")
    with pytest.raises(OverflowError, match="2\\*\\*63|9223372036854775808"):
        q.put(2**63)
    assert q.empty()


@pytest.mark.parametrize("dtype", [None, "bytes"])
def test_as_array_needs_an_8_byte_dtype_and_takes_nothing_otherwise(dtype):
    q = fastchan.ProcessQueue(dtype=dtype)
    q.put(b"x")
    with pytest.raises(ValueError, match="as_array=True needs dtype 'int64' or 'float64'"):
        q.get_many(1, as_array=True)
    assert q.qsize() == 1


@pytest.mark.parametrize("bad, error", [("int32", ValueError), (8, TypeError), (b"int64", TypeError)])
def test_a_bad_dtype_is_refused_naming_it(bad, error):
    with pytest.raises(error, match="dtype must be 'int64', 'float64', 'bytes' or None"):
        fastchan.ProcessQueue(dtype=bad)


def test_maxsize_counts_items_and_a_batch_stopped_by_full_says_how_many_went_in():
    q = fastchan.ProcessQueue(3, dtype="int64")
    with pytest.raises(queue.Full) as e:
        q.put_many(array.array("q", range(5)), timeout=0.05)
    if sys.version_info >= (3, 11):  # (exception notes are 3.11's)
        assert "3 of the 5 items went in" in "".join(e.value.__notes__)
    assert q.full() and q.get_many(10, timeout=WAIT) == [0, 1, 2]


def test_a_batch_larger_than_the_ring_goes_in_parts_while_a_thread_takes():
    import threading
    q = fastchan.ProcessQueue(dtype="int64", nbytes=1024)  # 64 items at once
    got = []

    def take():
        while len(got) < 1000:
            got.extend(q.get_many(50, timeout=WAIT))
    taker = threading.Thread(target=take)
    taker.start()
    q.put_many(array.array("q", range(1000)), timeout=WAIT)
    taker.join(WAIT)
    assert got == list(range(1000))


def test_threads_of_one_process_exactly_once():
    import threading
    q = fastchan.ProcessQueue(dtype="int64", nbytes=1 << 12)  # (small: every side waits)
    n, producers, consumers = 5000, 3, 3
    got = [[] for _ in range(consumers)]

    def produce(p):
        values = list(range(p * n, (p + 1) * n))
        for i in range(0, n, 97):
            q.put_many(array.array("q", values[i:i + 97]) if i % 2 else values[i:i + 97], timeout=WAIT)

    def consume(c):
        while True:
            try:
                got[c].extend(q.get_many(64, timeout=WAIT, as_array=bool(c % 2)))
            except fastchan.ShutDown:
                return

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    takers = [threading.Thread(target=consume, args=(c,)) for c in range(consumers)]
    for t in threads + takers:
        t.start()
    for t in threads:
        t.join(WAIT * 2)
    q.shutdown()
    for t in takers:
        t.join(WAIT * 2)
    assert sorted(v for g in got for v in g) == list(range(producers * n))


def test_shutdown_drains_then_raises():
    q = fastchan.ProcessQueue(dtype="float64")
    q.put_many([1.0, 2.0])
    q.shutdown()
    with pytest.raises(fastchan.ShutDown):
        q.put(3.0)
    assert q.get_many(5, timeout=WAIT, as_array=True).tolist() == [1.0, 2.0]
    with pytest.raises(fastchan.ShutDown):
        q.get_many(5, timeout=WAIT, as_array=True)


# ---- the dtype travels with the handle ----

@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_child_sees_the_same_dtype(method):
    ctx = multiprocessing.get_context(method)
    q, out = fastchan.ProcessQueue(dtype="float64"), fastchan.ProcessQueue()
    q.put(1.25)
    child = ctx.Process(target=describe, args=(q, out))
    child.start()
    assert out.get(timeout=WAIT) == ("float64", 1.25)
    child.join(WAIT)
    assert child.exitcode == 0


def test_attaching_with_another_dtype_is_an_error():
    q = fastchan.ProcessQueue(dtype="int64")
    same, any_dtype = fastchan.ProcessQueue.attach(q.name, dtype="int64"), fastchan.ProcessQueue.attach(q.name)
    assert same.dtype == any_dtype.dtype == "int64"
    assert q.stats()["attached"] == 3
    for other in ("float64", "bytes", None):
        with pytest.raises(ValueError, match=f"holds dtype 'int64' items, not {other!r}"):
            fastchan.ProcessQueue.attach(q.name, dtype=other)
    # The pickled handle carries the dtype; one with another expectation is refused too.
    func, args = q.__reduce__()
    assert args == (q.name, "int64") and pickle.loads(pickle.dumps(q)).dtype == "int64"
    with pytest.raises(ValueError):
        func(q.name, "bytes")
    assert q.stats()["attached"] == 3  # (a refused attach lets go at once)


# ---- across processes, exactly once ----

def test_typed_batches_across_four_processes_exactly_once():
    ctx = multiprocessing.get_context("fork")
    q = fastchan.ProcessQueue(dtype="int64", nbytes=1 << 14)  # (small: batches wait for room)
    out = fastchan.ProcessQueue(dtype="int64")
    n = 20_000
    producers = [ctx.Process(target=produce_arrays, args=(q, p * n, n, 777)) for p in range(2)]
    consumers = [ctx.Process(target=consume_arrays, args=(q, out, 300)) for _ in range(2)]
    for p in producers + consumers:
        p.start()
    for p in producers:
        p.join(WAIT * 4)
        assert p.exitcode == 0
    q.shutdown()
    got, done = [], 0
    while done < 2:
        for v in out.get_many(10_000, timeout=WAIT):
            if v == -1:
                done += 1
            else:
                got.append(v)
    for c in consumers:
        c.join(WAIT)
        assert c.exitcode == 0
    assert sorted(got) == list(range(2 * n))


def test_a_producer_killed_halfway_through_a_batch_loses_that_batch_only():
    ctx = multiprocessing.get_context("fork")
    q = fastchan.ProcessQueue(dtype="int64")
    q.put_many(range(5))
    child = ctx.Process(target=die_in, args=(q, 1, array.array("q", range(100, 110))))
    child.start()
    child.join(WAIT)
    assert child.exitcode == -signal.SIGKILL
    q.put(6)
    assert q.get_many(100, timeout=WAIT) == [0, 1, 2, 3, 4, 6]
    stats = q.stats()
    assert stats["items_lost"] == 10 and stats["owner_deaths"] == 1


def test_a_consumer_killed_halfway_through_a_batch_leaves_every_item():
    ctx = multiprocessing.get_context("fork")
    q = fastchan.ProcessQueue(dtype="float64")
    q.put_many(array.array("d", range(50)))
    child = ctx.Process(target=die_in, args=(q, 2))
    child.start()
    child.join(WAIT)
    assert child.exitcode == -signal.SIGKILL
    assert q.get_many(100, timeout=WAIT, as_array=True).tolist() == list(map(float, range(50)))
    assert q.stats()["items_lost"] == 0


# ---- a C++ peer ----

@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.skip("no C++ compiler on PATH")
    includes = subprocess.run([sys.executable, "-m", "fastchan", "--includes"], capture_output=True, text=True)
    if includes.returncode == 0:
        flags = includes.stdout.split()
    elif os.environ.get("FASTCHAN_REQUIRE_INSTALLED"):
        raise AssertionError(includes.stderr)
    else:  # (a package copy without the headers beside it: the source tree's)
        flags = ["-isystem", os.path.join(REPO, "cpp", "include")]
    exe = tmp_path_factory.mktemp("peer") / "shm_cpp_peer"
    build = subprocess.run([cxx, "-std=c++17", "-O1", "-Wall", "-Wextra", "-Werror", *flags, PEER_SOURCE,
                            "-o", str(exe), "-pthread", "-lrt"], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    return str(exe)


def expected_items(dtype, n):
    return [str(i).encode() if dtype == "bytes" else (float(i) if dtype == "float64" else i) for i in range(n)]


@pytest.mark.parametrize("dtype", ["int64", "float64", "bytes"])
def test_a_cpp_peer_echoes_what_python_sends_exactly_once(peer, dtype):
    n = 5000
    q_in = fastchan.ProcessQueue(dtype=dtype, nbytes=1 << 13)  # (small: both sides wait for room)
    q_out = fastchan.ProcessQueue(dtype=dtype, nbytes=1 << 13)
    proc = subprocess.Popen([peer, "echo", dtype, q_in.name, q_out.name], stdout=subprocess.PIPE, text=True)
    try:
        items = expected_items(dtype, n)
        got = []
        for start in range(0, n, 100):
            q_in.put_many(items[start:start + 100], timeout=WAIT)
            while q_out.qsize():
                got.extend(q_out.get_many(1000, timeout=WAIT))
        q_in.shutdown()
        while len(got) < n:
            got.extend(q_out.get_many(1000, timeout=WAIT))
        out, _ = proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and out.strip() == str(n)
    assert got == items  # (one producer, one peer: in order, each once)
    assert q_out.empty()


@pytest.mark.parametrize("dtype", ["int64", "float64", "bytes"])
def test_python_attaches_to_a_queue_a_cpp_program_made(peer, dtype):
    n = 3000
    proc = subprocess.Popen([peer, "serve", dtype, str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        name = proc.stdout.readline().strip()
        assert name.startswith("/fastchan-%d-" % proc.pid)
        with pytest.raises(ValueError):
            fastchan.ProcessQueue.attach(name, dtype="float64" if dtype != "float64" else "int64")
        q = fastchan.ProcessQueue.attach(name, dtype=dtype)
        proc.stdin.write("attached\n")
        proc.stdin.flush()
        got = []
        while True:
            try:
                got.extend(q.get_many(512, timeout=WAIT))
            except fastchan.ShutDown:
                break
        proc.wait(WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert got == expected_items(dtype, n)
    q.detach()
    assert not os.path.exists("/dev/shm" + name)  # (the last user removed it)
