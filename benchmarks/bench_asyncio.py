"""fastchan's asyncio queues side by side with asyncio.Queue, janus, culsans
and aiologic (the peers are pip-installed for the benchmark; fastchan does not
depend on them; a peer that is missing is left out).

    pip install janus culsans aiologic
    python benchmarks/bench_asyncio.py [--repeat 5] [--quick] [--json FILE]
                                       [--oversubscribe [pinned|unpinned]]

Every scenario runs each contender `repeat` times, round-robin, and reports
the median items per second and the ratio to the scenario's reference.
"""

import argparse
import asyncio
import importlib
import json
import platform
import statistics
import sys
import threading
import time

import fastchan
import fastchan.asyncio as fa
from background_load import add_switch, describe, oversubscribed


def optional(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


janus, culsans, aiologic = optional("janus"), optional("culsans"), optional("aiologic")


# ---- one loop ---------------------------------------------------------------

async def same_loop(make, n, consumers, use_join):
    """One producer task and `consumers` consumer tasks on one loop."""
    q = make()
    put, get = q.put, q.get

    async def consume():
        while (item := await get()) is not None:
            if use_join:
                q.task_done()
        if use_join:
            q.task_done()

    tasks = [asyncio.create_task(consume()) for _ in range(consumers)]
    start = time.perf_counter()
    for i in range(n):
        await put(i)
    for _ in range(consumers):
        await put(None)
    if use_join:
        await q.join()
    await asyncio.gather(*tasks)
    return n / (time.perf_counter() - start)


def one_loop(make, n, consumers=1, use_join=False):
    return asyncio.run(same_loop(make, n, consumers, use_join))


async def ping_pong_tasks(make, n):
    """Two tasks bat an item over two queues of maxsize 1: every get() waits,
    so this times the waiting path (park, wake, resume)."""
    ping, pong = make(), make()

    async def echo():
        for _ in range(n):
            await pong.put(await ping.get())

    task = asyncio.create_task(echo())
    start = time.perf_counter()
    for i in range(n):
        await ping.put(i)
        assert await pong.get() == i
    elapsed = time.perf_counter() - start
    await task
    return n / elapsed


def ping_pong(make, n):
    return asyncio.run(ping_pong_tasks(make, n))


ONE_LOOP_PEERS = {
    "fastchan.asyncio.Queue": lambda m: (lambda: fa.Queue(m)),
    "asyncio.Queue": lambda m: (lambda: asyncio.Queue(m)),
}


# ---- a thread and a loop ----------------------------------------------------

class Pair:
    """A contender for the cross-world scenarios: how to make the queue and
    reach its sync and async sides."""

    def __init__(self, make, sync_put, sync_get, async_put, async_get, close=None):
        self.make, self.close = make, close
        self.sync_put, self.sync_get = sync_put, sync_get
        self.async_put, self.async_get = async_put, async_get


def pairs(maxsize):
    out = {
        "fastchan.Queue": Pair(
            lambda: fastchan.Queue(maxsize), lambda q: q.put, lambda q: q.get,
            lambda q: q.async_q.put, lambda q: q.async_q.get),
    }
    if janus:
        out["janus"] = Pair(
            lambda: janus.Queue(maxsize), lambda q: q.sync_q.put, lambda q: q.sync_q.get,
            lambda q: q.async_q.put, lambda q: q.async_q.get, close=lambda q: q.aclose())
    if culsans:
        out["culsans"] = Pair(
            lambda: culsans.Queue(maxsize), lambda q: q.sync_q.put, lambda q: q.sync_q.get,
            lambda q: q.async_q.put, lambda q: q.async_q.get)
    if aiologic:
        out["aiologic"] = Pair(
            lambda: aiologic.Queue(maxsize), lambda q: q.green_put, lambda q: q.green_get,
            lambda q: q.async_put, lambda q: q.async_get)
    return out


def thread_to_loop(pair, n):
    async def main():
        q = pair.make()  # janus needs a running loop
        put = pair.sync_put(q)
        get = pair.async_get(q)
        producer = threading.Thread(target=lambda: [put(i) for i in range(n)])
        start = time.perf_counter()
        producer.start()
        total = 0
        for _ in range(n):
            total += await get()
        elapsed = time.perf_counter() - start
        producer.join()
        assert total == n * (n - 1) // 2, "items lost"
        if pair.close:
            await pair.close(q)
        return n / elapsed

    return asyncio.run(main())


def loop_to_thread(pair, n):
    async def main():
        q = pair.make()
        get = pair.sync_get(q)
        put = pair.async_put(q)
        totals = []
        consumer = threading.Thread(target=lambda: totals.append(sum(get() for _ in range(n))))
        start = time.perf_counter()
        consumer.start()
        for i in range(n):
            await put(i)
        await asyncio.get_running_loop().run_in_executor(None, consumer.join)
        elapsed = time.perf_counter() - start
        assert totals == [n * (n - 1) // 2], "items lost"
        if pair.close:
            await pair.close(q)
        return n / elapsed

    return asyncio.run(main())


# ---- driver -----------------------------------------------------------------

def scenarios(scale):
    n1, n2 = int(200_000 * scale), int(100_000 * scale)
    return [
        ("asyncio 1 producer / 1 consumer, maxsize 100", "asyncio.Queue",
         {k: (one_loop, (f(100), n1)) for k, f in ONE_LOOP_PEERS.items()}),
        ("asyncio 1 producer / 4 consumers, task_done + join, unbounded", "asyncio.Queue",
         {k: (one_loop, (f(0), n1, 4, True)) for k, f in ONE_LOOP_PEERS.items()}),
        ("asyncio ping-pong, two tasks, every get() waits", "asyncio.Queue",
         {k: (ping_pong, (f(1), n2)) for k, f in ONE_LOOP_PEERS.items()}),
        ("producer thread -> asyncio consumer, maxsize 1024", "best peer",
         {k: (thread_to_loop, (p, n2)) for k, p in pairs(1024).items()}),
        ("asyncio producer -> consumer thread, maxsize 1024", "best peer",
         {k: (loop_to_thread, (p, n2)) for k, p in pairs(1024).items()}),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 runs: a smoke run")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    add_switch(parser)
    args = parser.parse_args(argv)
    repeat, scale = (3, 0.05) if args.quick else (args.repeat, 1.0)
    with oversubscribed(args.oversubscribe):
        results = measure(repeat, scale)
    print(f"Python {platform.python_version()}, median of {repeat} round-robin runs, "
          f"{describe(args.oversubscribe)}\n")
    print("| scenario | contender | items/s | vs reference |")
    print("|---|---|---:|---:|")
    for r in results:
        label = f"{r['vs_reference']:.2f}x {r['reference']}" if r["contender"] != r["reference"] else "reference"
        print(f"| {r['scenario']} | {r['contender']} | {r['items_per_s'] / 1e6:.3f} M | {label} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"bench": "asyncio", "python": sys.version, "repeat": repeat,
                       "quick": args.quick, "oversubscribe": args.oversubscribe,
                       "results": results}, f, indent=1)


def measure(repeat, scale):
    results = []
    for title, reference, contenders in scenarios(scale):
        runs = {name: [] for name in contenders}
        for _ in range(repeat):
            for name, (fn, fargs) in contenders.items():
                runs[name].append(fn(*fargs))
        medians = {name: statistics.median(r) for name, r in runs.items()}
        if reference == "best peer":
            peers = {k: v for k, v in medians.items() if not k.startswith("fastchan")}
            ref_name = max(peers, key=peers.get) if peers else "fastchan.Queue"
        else:
            ref_name = reference
        for name, rate in medians.items():
            results.append({"scenario": title, "contender": name, "items_per_s": rate,
                            "reference": ref_name, "vs_reference": rate / medians[ref_name]})
    return results


if __name__ == "__main__":
    main()
