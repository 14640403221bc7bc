"""fastchan.ProcessQueue against multiprocessing.Queue (and faster-fifo when
it is installed: `pip install faster-fifo`), between processes.

    python benchmarks/bench_process.py [--n 20000] [--rounds 3] [--json FILE]
        [--only small,pingpong,bytes,typed]

Scenarios: 1 producer process -> 1 consumer (the parent), and 4 -> 1, with
the issue's small dict, one item per call; then the same with batches of 64
(put_many/get_many where the queue has them); then a one-item ping-pong
between two processes (latency); then 1 KB bytes items (pickled, and in a
ProcessQueue(dtype="bytes"): raw, no pickling), one per call and in
batches of 64; then typed int64 items in batches of 4096 (put_many of an
array.array, get_many(as_array=True)), 1 -> 1 and 2 -> 1, against the
same arrays pickled whole as one item each. Items/s is the consumer's
rate from the first item taken to the last (the producers start together,
behind a barrier). Rounds alternate the contenders; the table prints the
median and fastchan's ratio to each peer. Benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))

import fastchan  # noqa: E402

ITEM = dict(a=42, b=33, c=(1, 2, 3), d=[1, 2, 3], e="123", f=b"kkk")
BATCH = 64
KB = b"k" * 1024
TYPED_BATCH = 4096
# 2 MiB: 32 batches of 16-byte records, small enough to stay in the caches
# as the ring goes round (a 16 MiB ring streams through memory instead).
TYPED_NBYTES = 2 << 20


def make_queues():
    queues = {
        "fastchan.ProcessQueue": lambda: fastchan.ProcessQueue(10000, nbytes=16 << 20),
        "multiprocessing.Queue": lambda: mp.get_context("fork").Queue(10000),
    }
    try:
        import faster_fifo  # type: ignore[import-not-found]

        queues["faster_fifo.Queue"] = lambda: faster_fifo.Queue(max_size_bytes=16 << 20)
    except ImportError:
        pass
    return queues


def put_batch(q, items):
    if hasattr(q, "put_many"):
        if type(q).__module__.startswith("faster_fifo"):
            q.put_many(items, timeout=60)
        else:
            q.put_many(items)
    else:
        for x in items:
            q.put(x)


def get_batch(q):
    if isinstance(q, fastchan.ProcessQueue):
        return q.get_many(BATCH, timeout=60)
    if hasattr(q, "get_many"):  # faster-fifo
        return q.get_many(max_messages_to_get=BATCH, timeout=60)
    return [q.get(timeout=60)]


def producer(q, n, batched, barrier):
    barrier.wait()
    if batched:
        for _ in range(n // BATCH):
            put_batch(q, [ITEM] * BATCH)
    else:
        for _ in range(n):
            q.put(ITEM)


def run_once(make, producers, n, batched):
    ctx = mp.get_context("fork")
    q = make()
    per = n // producers // BATCH * BATCH
    total = per * producers
    barrier = ctx.Barrier(producers + 1)
    procs = [ctx.Process(target=producer, args=(q, per, batched, barrier)) for _ in range(producers)]
    for p in procs:
        p.start()
    barrier.wait()
    got = 0
    start = time.perf_counter()
    if batched:
        while got < total:
            got += len(get_batch(q))
    else:
        while got < total:
            q.get(timeout=60)
            got += 1
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    return total / elapsed


def ponger(q_in, q_out, n):
    for _ in range(n):
        q_out.put(q_in.get(timeout=60))


def ping_pong(make, n):
    """Round trips of one item between two processes: median microseconds."""
    ctx = mp.get_context("fork")
    q_in, q_out = make(), make()
    child = ctx.Process(target=ponger, args=(q_in, q_out, n))
    child.start()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        q_in.put(ITEM)
        q_out.get(timeout=60)
        times.append(time.perf_counter() - t)
    child.join()
    return statistics.median(times) * 1e6


# ---- 1 KB bytes items ----

def make_bytes_queues():
    queues = make_queues()
    queues = {"fastchan.ProcessQueue": queues.pop("fastchan.ProcessQueue"),
              'ProcessQueue(dtype="bytes")': lambda: fastchan.ProcessQueue(10000, dtype="bytes", nbytes=16 << 20),
              **queues}
    return queues


def bytes_producer(q, n, batched, barrier):
    barrier.wait()
    if batched:
        for _ in range(n // BATCH):
            put_batch(q, [KB] * BATCH)
    else:
        for _ in range(n):
            q.put(KB)


def run_bytes(make, producers, n, batched):
    ctx = mp.get_context("fork")
    q = make()
    per = n // producers // BATCH * BATCH
    total = per * producers
    barrier = ctx.Barrier(producers + 1)
    procs = [ctx.Process(target=bytes_producer, args=(q, per, batched, barrier)) for _ in range(producers)]
    for p in procs:
        p.start()
    barrier.wait()
    got = 0
    start = time.perf_counter()
    while got < total:
        if batched:
            got += len(get_batch(q))
        else:
            assert len(q.get(timeout=60)) == 1024
            got += 1
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    return total / elapsed


# ---- typed int64 in batches ----

def typed_producer(q, first, n, barrier):
    import array
    batch = array.array("q", range(first, first + TYPED_BATCH))  # (the same batch again and again)
    barrier.wait()
    if q.dtype is None:  # (the reference: each array pickled whole, one item)
        for _ in range(n // TYPED_BATCH):
            q.put(batch)
    else:
        for _ in range(n // TYPED_BATCH):
            q.put_many(batch)


def run_typed(dtype, producers, n):
    ctx = mp.get_context("fork")
    q = fastchan.ProcessQueue(dtype=dtype, nbytes=TYPED_NBYTES)
    per = n // producers // TYPED_BATCH * TYPED_BATCH
    total = per * producers
    barrier = ctx.Barrier(producers + 1)
    procs = [ctx.Process(target=typed_producer, args=(q, p * per, per, barrier)) for p in range(producers)]
    for p in procs:
        p.start()
    barrier.wait()
    got = 0
    check = 0
    start = time.perf_counter()
    while got < total:
        if dtype is None:
            batch = q.get(timeout=60)
        else:
            batch = q.get_many(TYPED_BATCH, timeout=60, as_array=True)
        got += len(batch)
        check += batch[-1]
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    assert got == total
    return total / elapsed


def typed_rows(args, results):
    n = max(args.n * 1000, TYPED_BATCH * 4)
    contenders = {'ProcessQueue(dtype="int64"), put_many(array)/get_many(as_array)': "int64",
                  "ProcessQueue, each array pickled as one item": None}
    for producers in (1, 2):
        label = f"typed int64, {producers} -> 1, batches of {TYPED_BATCH}"
        rates = {name: [] for name in contenders}
        for _ in range(args.rounds):
            for name, dtype in contenders.items():
                rates[name].append(run_typed(dtype, producers, n))
        med = {name: statistics.median(r) for name, r in rates.items()}
        results[label] = med
        print(f"\n{label} ({n:,} items, median of {args.rounds}, items/s)")
        for name, rate in med.items():
            print(f"  {name:64s} {rate:14,.0f}")


def bytes_rows(args, results):
    queues = make_bytes_queues()
    for producers, batched in [(1, False), (1, True)]:
        label = f"1 KB bytes, {producers} -> 1, " + (f"batches of {BATCH}" if batched else "one item per call")
        rates: dict[str, list[float]] = {name: [] for name in queues}
        for _ in range(args.rounds):
            for name, make in queues.items():
                rates[name].append(run_bytes(make, producers, args.n, batched))
        med = {name: statistics.median(r) for name, r in rates.items()}
        results[label] = med
        print(f"\n{label} (median of {args.rounds}, items/s)")
        ours = med['ProcessQueue(dtype="bytes")']
        for name, rate in med.items():
            ratio = f"   dtype=bytes {ours / rate:5.2f}x" if name != 'ProcessQueue(dtype="bytes")' else ""
            print(f"  {name:28s} {rate:12,.0f}{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000, help="items per scenario run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument("--only", default="small,pingpong,bytes,typed",
                        help="comma-separated: small (the dict), pingpong, bytes (1 KB), typed (int64)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    queues = make_queues()
    scenarios = [(1, False), (4, False), (1, True), (4, True)] if "small" in only else []
    results = {}
    for producers, batched in scenarios:
        label = f"{producers} -> 1, " + (f"batches of {BATCH}" if batched else "one item per call")
        rates: dict[str, list[float]] = {name: [] for name in queues}
        for _ in range(args.rounds):
            for name, make in queues.items():
                rates[name].append(run_once(make, producers, args.n, batched))
        med = {name: statistics.median(r) for name, r in rates.items()}
        results[label] = med
        print(f"\n{label} (small dict, median of {args.rounds}, items/s)")
        ours = med["fastchan.ProcessQueue"]
        for name, rate in med.items():
            ratio = "" if name.startswith("fastchan") else f"   fastchan {ours / rate:5.2f}x"
            print(f"  {name:24s} {rate:12,.0f}{ratio}")
    label = "ping-pong between two processes (small dict, median round trip, microseconds)"
    if "pingpong" in only:
        print(f"\n{label}")
        trips = {name: statistics.median(ping_pong(make, 2000) for _ in range(args.rounds))
                 for name, make in queues.items()}
        results[label] = trips
        for name, us in trips.items():
            ratio = "" if name.startswith("fastchan") else f"   fastchan {us / trips['fastchan.ProcessQueue']:5.2f}x faster"
            print(f"  {name:24s} {us:10.1f} us{ratio}")
    if "bytes" in only:
        bytes_rows(args, results)
    if "typed" in only:
        typed_rows(args, results)
    if args.json:
        # (plot.py's rows: items_per_s; for the ping-pong, round trips per second)
        rows = [{"scenario": scenario, "contender": name,
                 "items_per_s": value if "ping-pong" not in scenario else 1e6 / value,
                 **({"round_trip_us": value} if "ping-pong" in scenario else {})}
                for scenario, by_name in results.items() for name, value in by_name.items()]
        with open(args.json, "w") as f:
            json.dump({"bench": "process", "python": sys.version, "n": args.n, "rounds": args.rounds,
                       "batch": BATCH, "results": rows}, f, indent=1)


if __name__ == "__main__":
    main()
