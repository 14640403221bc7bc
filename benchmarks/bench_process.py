"""fastchan.ProcessQueue against multiprocessing.Queue (and faster-fifo when
it is installed: `pip install faster-fifo`), between processes.

    python benchmarks/bench_process.py [--n 20000] [--rounds 3] [--json FILE]

Scenarios: 1 producer process -> 1 consumer (the parent), and 4 -> 1, with
the issue's small dict, one item per call; then the same with batches of 64
(put_many/get_many where the queue has them); then a one-item ping-pong
between two processes (latency). Items/s is the consumer's
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000, help="items per scenario run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()
    queues = make_queues()
    scenarios = [(1, False), (4, False), (1, True), (4, True)]
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
    print(f"\n{label}")
    trips = {name: statistics.median(ping_pong(make, 2000) for _ in range(args.rounds)) for name, make in queues.items()}
    results[label] = trips
    for name, us in trips.items():
        ratio = "" if name.startswith("fastchan") else f"   fastchan {us / trips['fastchan.ProcessQueue']:5.2f}x faster"
        print(f"  {name:24s} {us:10.1f} us{ratio}")
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
