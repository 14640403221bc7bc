"""fastchan.ThreadPool and fastchan.to_thread against their stdlib peers.

    python benchmarks/bench_pool.py [--n N] [--rounds R] [--quick] [--json FILE]
                                    [--oversubscribe [pinned|unpinned]]

Each workload runs on both sides in the same process, alternating, for R
rounds; the table shows median rates and fastchan's speed-up:

  submit+wait  submit N trivial tasks, then concurrent.futures.wait on all
  map          list(pool.map(f, range(N)))
  to_thread    N sequential `await to_thread(f)` in one asyncio task

Both pools use their default max_workers (min(32, CPUs + 4)).
"""

import argparse
import asyncio
import concurrent.futures as cf
import json
import os
import platform
import statistics
import sys
import time

import fastchan
from background_load import add_switch, describe, oversubscribed


def noop():
    return None


def ident(x):
    return x


def submit_and_wait(pool, n):
    futures = [pool.submit(noop) for _ in range(n)]
    done, not_done = cf.wait(futures)
    assert len(done) == n and not not_done


def map_all(pool, n):
    assert len(list(pool.map(ident, range(n)))) == n


def sequential_to_thread(to_thread, n):
    async def main():
        for _ in range(n):
            await to_thread(noop)

    asyncio.run(main())


def rate(fn, n):
    start = time.perf_counter()
    fn(n)
    return n / (time.perf_counter() - start)


def compare(name, ours, theirs, n, rounds):
    ours(n // 10), theirs(n // 10)  # warm up: threads started, code paths hot
    ours_rates, theirs_rates = [], []
    for _ in range(rounds):
        ours_rates.append(rate(ours, n))
        theirs_rates.append(rate(theirs, n))
    a, b = statistics.median(ours_rates), statistics.median(theirs_rates)
    return name, a, b, a / b


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="tasks per round (to_thread: n/10)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="n=2000, 3 rounds (a smoke run)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    add_switch(parser)
    args = parser.parse_args()
    n, rounds = (2000, 3) if args.quick else (args.n, args.rounds)

    rows = []
    with oversubscribed(args.oversubscribe), fastchan.ThreadPool() as ours, \
            cf.ThreadPoolExecutor() as theirs:
        rows.append(compare("submit+wait", lambda k: submit_and_wait(ours, k),
                            lambda k: submit_and_wait(theirs, k), n, rounds))
        rows.append(compare("map", lambda k: map_all(ours, k), lambda k: map_all(theirs, k), n, rounds))
        rows.append(compare("to_thread", lambda k: sequential_to_thread(fastchan.to_thread, k),
                            lambda k: sequential_to_thread(asyncio.to_thread, k), max(n // 10, 10),
                            rounds))

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
          f"n={n}, median of {rounds} alternating rounds, {describe(args.oversubscribe)}\n")
    print("| workload | fastchan per s | stdlib per s | speed-up | stdlib peer |")
    print("|---|---:|---:|---:|---|")
    peers = {"submit+wait": "ThreadPoolExecutor", "map": "ThreadPoolExecutor", "to_thread": "asyncio.to_thread"}
    for name, a, b, ratio in rows:
        print(f"| {name} | {a:,.0f} | {b:,.0f} | {ratio:.1f}x | {peers[name]} |")
    if args.json:
        results = []
        for name, a, b, ratio in rows:
            ours = "fastchan.to_thread" if name == "to_thread" else "fastchan.ThreadPool"
            results.append({"scenario": name, "contender": ours, "items_per_s": a,
                            "reference": peers[name], "vs_reference": ratio})
            results.append({"scenario": name, "contender": peers[name], "items_per_s": b,
                            "reference": peers[name], "vs_reference": 1.0})
        with open(args.json, "w") as f:
            json.dump({"bench": "pool", "python": sys.version, "rounds": rounds, "n": n,
                       "quick": args.quick, "oversubscribe": args.oversubscribe,
                       "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
