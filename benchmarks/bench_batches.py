"""Batches: put_many/get_many on fastchan's queues and channels, object
and typed (dtype="int64"), against queue.Queue's per-item put/get (the
stdlib has no batch API).

    python benchmarks/bench_batches.py [--n N] [--batch B] [--rounds R] [--json FILE]

One producer thread and one consumer thread move N ints through a queue of
1024 slots. A typed producer sends list slices or array.array('q') slices;
a typed consumer takes get_many(..., as_array=True). The last row's producer
is a C++ thread holding no GIL (fastchan's test aid, which reaches the
channel through the capsule API of fastchan/python.hpp as another extension
would); its timing includes converting the N ints for it. Alternating
rounds in one process; median items per second and the ratio against
queue.Queue.
"""

import argparse
import array
import json
import os
import platform
import queue
import statistics
import sys
import threading
import time

import fastchan
from background_load import add_switch, describe, oversubscribed

END = None


def stdlib_items(n, batch):
    q = queue.Queue(1024)
    items = list(range(n))

    def produce():
        put = q.put
        for item in items:
            put(item)
        put(END)

    def consume(out):
        get = q.get
        count = 0
        while get() is not END:
            count += 1
        out.append(count)

    return run(produce, consume, n)


def batches(make, end, ended, source=list, as_array=False):
    """One producer put_many's batches (slices of `source`) and then calls
    end(q); one consumer get_many's until `ended` is raised."""

    def contender(n, batch):
        q = make()
        items = source(range(n))

        def produce():
            for start in range(0, n, batch):
                q.put_many(items[start:start + batch])
            end(q)

        def consume(out):
            count = 0
            try:
                while True:
                    count += len(q.get_many(batch, as_array=as_array) if as_array else q.get_many(batch))
            except ended:
                out.append(count)

        return run(produce, consume, n)

    return contender


def int64s(values):
    return array.array("q", values)


fastchan_queue_batches = batches(lambda: fastchan.Queue(1024), fastchan.Queue.shutdown, fastchan.ShutDown)
fastchan_channel_batches = batches(lambda: fastchan.Channel(1024), fastchan.Channel.close, fastchan.ChannelClosed)
typed_channel_lists = batches(lambda: fastchan.Channel(1024, dtype="int64"), fastchan.Channel.close,
                              fastchan.ChannelClosed, list, True)
typed_channel_arrays = batches(lambda: fastchan.Channel(1024, dtype="int64"), fastchan.Channel.close,
                               fastchan.ChannelClosed, int64s, True)
typed_queue_arrays = batches(lambda: fastchan.Queue(1024, dtype="int64"), fastchan.Queue.shutdown,
                             fastchan.ShutDown, int64s, True)


def native_producer(n, batch):
    """A C++ thread sends 0..n-1 into an int64 channel (then the main thread
    closes it); a Python thread drains it with get_many(as_array=True)."""
    channel = fastchan.Channel(1024, dtype="int64")
    producers = []

    def produce():
        producers.append(fastchan._core._testing._NativeProducer(channel, range(n)))
        producers[0].join()
        channel.close()

    def consume(out):
        count = 0
        try:
            while True:
                count += len(channel.get_many(batch, as_array=True))
        except fastchan.ChannelClosed:
            out.append(count)

    return run(produce, consume, n)


def run(produce, consume, n):
    out = []
    threads = [threading.Thread(target=produce), threading.Thread(target=consume, args=(out,))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    assert out == [n], out
    return n / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    add_switch(parser)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, n={args.n}, batch={args.batch}, "
          f"median of {args.rounds} alternating rounds, {describe(args.oversubscribe)}\n")
    contenders = [("queue.Queue put/get per item", stdlib_items),
                  ("fastchan.Queue put_many/get_many", fastchan_queue_batches),
                  ("fastchan.Channel put_many/get_many", fastchan_channel_batches),
                  ("fastchan.Channel int64, list in, array out", typed_channel_lists),
                  ("fastchan.Channel int64, array in, array out", typed_channel_arrays),
                  ("fastchan.Queue int64, array in, array out", typed_queue_arrays),
                  ("C++ thread -> fastchan.Channel int64 -> get_many", native_producer)]
    rates = {name: [] for name, _ in contenders}
    with oversubscribed(args.oversubscribe):
        for _ in range(args.rounds):
            for name, fn in contenders:
                rates[name].append(fn(args.n, args.batch))
    base = statistics.median(rates[contenders[0][0]])
    print("| contender | items/s | vs queue.Queue |")
    print("|---|---:|---:|")
    results = []
    scenario = f"1 producer / 1 consumer thread, {args.n} ints, 1024 slots, batch {args.batch}"
    for name, _ in contenders:
        rate = statistics.median(rates[name])
        print(f"| {name} | {rate:,.0f} | {rate / base:.1f}x |")
        results.append({"scenario": scenario, "contender": name, "items_per_s": rate,
                        "reference": contenders[0][0], "vs_reference": rate / base})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"bench": "batches", "python": sys.version, "rounds": args.rounds,
                       "n": args.n, "batch": args.batch, "oversubscribe": args.oversubscribe,
                       "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
