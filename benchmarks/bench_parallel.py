"""Threads in parallel: fastchan against queue.Queue and queue.SimpleQueue on
the same interpreter, on a GIL build and on free-threaded CPython (the GIL
off), in one command.

    python benchmarks/bench_parallel.py [--repeat 3] [--quick] [--json FILE]
                                        [--python PATH ...] [--oversubscribe [pinned|unpinned]]

Runs itself once per interpreter: this one, and each --python (default: the
free-threaded 3.13t that ../shared/tools/build-cpython.sh --disable-gil
builds, when it is there), with PYTHON_GIL=0 on free-threaded ones. Each
needs fastchan importable (PYTHONPATH=python with a built extension, or
installed). Per interpreter: producers/consumers 1p1c, 2p2c and 4p4c through
a bounded (1024) and an unbounded queue, median items per second of
round-robin runs, and ThreadPool.map of a CPU-bound pure-Python function
with 1 and 2 workers against ThreadPoolExecutor (the speedup is what
matters: 2 workers on 2 cores can only approach 2x without the GIL).
A benchmark, not a test: it only checks that every item arrived.
"""

import argparse
import concurrent.futures
import json
import os
import platform
import queue
import statistics
import subprocess
import sys
import sysconfig
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_queue import threaded  # noqa: E402  (the same producer/consumer loop)

import fastchan  # noqa: E402
from background_load import add_switch, describe, oversubscribed  # noqa: E402

DEFAULT_FT = os.path.expanduser("~/.cache/fastchan-cpython/3.13.5-ft/bin/python3.13t")
SHAPES = ((1, 1), (2, 2), (4, 4))


def contenders(bounded):
    if bounded:
        return {"fastchan.Queue(1024)": lambda: fastchan.Queue(1024),
                "queue.Queue(1024)": lambda: queue.Queue(1024),
                "queue.SimpleQueue (unbounded)": queue.SimpleQueue}
    return {"fastchan.Queue()": fastchan.Queue,
            "fastchan.SimpleQueue()": fastchan.SimpleQueue,
            "queue.Queue()": queue.Queue,
            "queue.SimpleQueue": queue.SimpleQueue}


def spin(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def map_seconds(make_pool, workers, tasks, n):
    with make_pool(workers) as pool:
        start = time.perf_counter()
        results = list(pool.map(spin, [n] * tasks))
        elapsed = time.perf_counter() - start
    assert results == [spin(n)] * tasks
    return elapsed


def measure(repeat, scale):
    rows = []
    for bounded in (True, False):
        for producers, consumers in SHAPES:
            runs = {name: [] for name in contenders(bounded)}
            n = int(200_000 * scale)
            for _ in range(repeat):
                for name, make in contenders(bounded).items():
                    runs[name].append(threaded(make, producers, consumers, n))
            medians = {name: statistics.median(r) for name, r in runs.items()}
            base_queue = next(v for k, v in medians.items() if k.startswith("queue.Queue"))
            base_simple = next(v for k, v in medians.items() if k.startswith("queue.SimpleQueue"))
            for name, rate in medians.items():
                rows.append({"scenario": f"{producers}p{consumers}c {'bounded' if bounded else 'unbounded'}",
                             "contender": name, "items_per_s": rate,
                             "vs_queue": rate / base_queue, "vs_simple": rate / base_simple})
    pools = {"fastchan.ThreadPool": lambda w: fastchan.ThreadPool(max_workers=w),
             "ThreadPoolExecutor": lambda w: concurrent.futures.ThreadPoolExecutor(max_workers=w)}
    tasks, n = 16, int(300_000 * scale)
    speedups = []
    for name, make in pools.items():
        one = statistics.median(map_seconds(make, 1, tasks, n) for _ in range(repeat))
        two = statistics.median(map_seconds(make, 2, tasks, n) for _ in range(repeat))
        speedups.append({"pool": name, "one_worker_s": one, "two_workers_s": two, "speedup": one / two})
    return rows, speedups


def free_threaded(python):
    probe = "import sysconfig; print(bool(sysconfig.get_config_var('Py_GIL_DISABLED')))"
    return subprocess.run([python, "-c", probe], check=True, capture_output=True, text=True).stdout.strip() == "True"


def interpreter():
    free = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    return f"CPython {platform.python_version()}{'t' if free else ''} (GIL {'on' if gil else 'off'})"


def print_tables(result):
    print(f"\n### {result['interpreter']}, median of {result['repeat']} round-robin runs\n")
    print("| scenario | contender | items/s | vs queue.Queue | vs SimpleQueue |")
    print("|---|---|---:|---:|---:|")
    for r in result["rows"]:
        print(f"| {r['scenario']} | {r['contender']} | {r['items_per_s'] / 1e6:.2f} M "
              f"| {r['vs_queue']:.2f}x | {r['vs_simple']:.2f}x |")
    print("\n| pool.map, CPU-bound | 1 worker | 2 workers | speedup |")
    print("|---|---:|---:|---:|")
    for s in result["speedups"]:
        print(f"| {s['pool']} | {s['one_worker_s']:.3f} s | {s['two_workers_s']:.3f} s | {s['speedup']:.2f}x |")


def run_on(python, args):
    """This benchmark's run on `python`, in a process of its own."""
    env = dict(os.environ)
    if free_threaded(python):
        env["PYTHON_GIL"] = "0"  # (a GIL build refuses it)
    out = subprocess.run([python, os.path.abspath(__file__), "--one", "--repeat", str(args.repeat)]
                         + (["--quick"] if args.quick else []),
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--python", action="append", metavar="PATH",
                        help="another interpreter to run on (default: the free-threaded 3.13t, if built)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # (a run on this interpreter only)
    add_switch(parser)
    args = parser.parse_args(argv)
    scale = 0.1 if args.quick else 1.0
    if args.one:
        rows, speedups = measure(args.repeat, scale)
        json.dump({"interpreter": interpreter(), "repeat": args.repeat, "rows": rows, "speedups": speedups},
                  sys.stdout)
        return
    others = args.python if args.python is not None else ([DEFAULT_FT] if os.path.exists(DEFAULT_FT) else [])
    results = []
    print(describe(args.oversubscribe))
    with oversubscribed(args.oversubscribe):
        for python in [sys.executable, *others]:
            results.append(run_on(python, args))
            print_tables(results[-1])
    if args.json:
        # (flat rows, one scenario per interpreter and shape, as plot.py reads them)
        rows = [dict(r, scenario=f"{res['interpreter']}: {r['scenario']}") for res in results for r in res["rows"]]
        speedups = [dict(s, interpreter=res["interpreter"]) for res in results for s in res["speedups"]]
        with open(args.json, "w") as f:
            json.dump({"bench": "parallel", "python": " / ".join(res["interpreter"] for res in results),
                       "quick": args.quick, "repeat": args.repeat, "oversubscribe": args.oversubscribe,
                       "results": rows, "speedups": speedups},
                      f, indent=1)


if __name__ == "__main__":
    main()
