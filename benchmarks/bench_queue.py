"""fastchan's queues side by side with queue.Queue and queue.SimpleQueue.

    python benchmarks/bench_queue.py [--repeat 5] [--quick] [--json FILE]
                                     [--oversubscribe [pinned|unpinned]]

Every scenario runs each contender `repeat` times, round-robin so that all of
them share the machine's noise, and reports the median items per second and
the ratios against queue.Queue and queue.SimpleQueue. A benchmark, not a test:
it only checks that every item arrived.
"""

import argparse
import json
import platform
import queue
import statistics
import sys
import threading
import time

import fastchan
from background_load import add_switch, describe, oversubscribed


def nowait_pairs(make, n):
    """One thread: put_nowait + get_nowait, n times."""
    q = make()
    put, get = q.put_nowait, q.get_nowait
    start = time.perf_counter()
    for i in range(n):
        put(i)
        get()
    return n / (time.perf_counter() - start)


def threaded(make, producers, consumers, n):
    """Producer threads put n items in all (blocking put), consumer threads
    get them (blocking get) until a sentinel each."""
    q = make()
    per_producer = n // producers
    totals = [0] * consumers

    def produce():
        put = q.put
        for i in range(per_producer):
            put(i)

    def consume(k):
        get = q.get
        total = 0
        while (item := get()) is not None:
            total += item
        totals[k] = total

    threads = [threading.Thread(target=consume, args=(k,)) for k in range(consumers)]
    threads += [threading.Thread(target=produce) for _ in range(producers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads[consumers:]:
        t.join()
    for _ in range(consumers):
        q.put(None)
    for t in threads[:consumers]:
        t.join()
    elapsed = time.perf_counter() - start
    expected = producers * per_producer * (per_producer - 1) // 2
    assert sum(totals) == expected, "items lost or duplicated"
    return producers * per_producer / elapsed


STDLIB_QUEUE = "queue.Queue"
STDLIB_SIMPLE = "queue.SimpleQueue"


def scenarios(scale):
    """(title, function, args, {contender: factory}); SimpleQueue is unbounded,
    so in bounded scenarios it is a reference that does not bound anything."""
    return [
        ("one thread, put_nowait + get_nowait", nowait_pairs, (int(300_000 * scale),), {
            "fastchan.Queue()": fastchan.Queue,
            "fastchan.SimpleQueue()": fastchan.SimpleQueue,
            STDLIB_QUEUE: queue.Queue,
            STDLIB_SIMPLE: queue.SimpleQueue,
        }),
        ("1 producer / 1 consumer, maxsize 1024", threaded, (1, 1, int(300_000 * scale)), {
            "fastchan.Queue(1024)": lambda: fastchan.Queue(1024),
            STDLIB_QUEUE: lambda: queue.Queue(1024),
            STDLIB_SIMPLE + " (unbounded)": queue.SimpleQueue,
        }),
        ("4 producers / 4 consumers, maxsize 10", threaded, (4, 4, int(100_000 * scale)), {
            "fastchan.Queue(10)": lambda: fastchan.Queue(10),
            STDLIB_QUEUE: lambda: queue.Queue(10),
            STDLIB_SIMPLE + " (unbounded)": queue.SimpleQueue,
        }),
        ("1 producer / 1 consumer, unbounded", threaded, (1, 1, int(300_000 * scale)), {
            "fastchan.Queue()": fastchan.Queue,
            "fastchan.SimpleQueue()": fastchan.SimpleQueue,
            STDLIB_QUEUE: queue.Queue,
            STDLIB_SIMPLE: queue.SimpleQueue,
        }),
    ]


def measure(repeat, scale):
    results = []
    for title, fn, args, contenders in scenarios(scale):
        runs = {name: [] for name in contenders}
        for _ in range(repeat):
            for name, make in contenders.items():
                runs[name].append(fn(make, *args))
        medians = {name: statistics.median(r) for name, r in runs.items()}
        base_queue = medians[STDLIB_QUEUE]
        base_simple = next(v for k, v in medians.items() if k.startswith(STDLIB_SIMPLE))
        for name, rate in medians.items():
            results.append({
                "scenario": title,
                "contender": name,
                "items_per_s": rate,
                "vs_queue": rate / base_queue,
                "vs_simple": rate / base_simple,
            })
    return results


def print_table(results, repeat, load):
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"median of {repeat} round-robin runs, {describe(load)}\n")
    print("| scenario | contender | items/s | vs queue.Queue | vs SimpleQueue |")
    print("|---|---|---:|---:|---:|")
    for r in results:
        print(f"| {r['scenario']} | {r['contender']} | {r['items_per_s'] / 1e6:.2f} M "
              f"| {r['vs_queue']:.2f}x | {r['vs_simple']:.2f}x |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 runs: a smoke run")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    add_switch(parser)
    args = parser.parse_args(argv)
    repeat, scale = (3, 0.1) if args.quick else (args.repeat, 1.0)
    with oversubscribed(args.oversubscribe):
        results = measure(repeat, scale)
    print_table(results, repeat, args.oversubscribe)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"bench": "queue", "python": sys.version, "repeat": repeat,
                       "quick": args.quick, "oversubscribe": args.oversubscribe,
                       "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
