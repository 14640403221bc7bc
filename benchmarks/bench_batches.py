"""Batches: put_many/get_many on fastchan's queue and channel against
queue.Queue's per-item put/get (the stdlib has no batch API).

    python benchmarks/bench_batches.py [--n N] [--batch B] [--rounds R]

One producer thread and one consumer thread move N Python ints through a
queue of 1024 slots. Alternating rounds in one process; median items per
second and the ratio against queue.Queue.
"""

import argparse
import os
import platform
import queue
import statistics
import threading
import time

import fastchan

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


def batches(make, end, ended):
    """One producer put_many's batches and then calls end(q); one consumer
    get_many's until `ended` is raised."""

    def contender(n, batch):
        q = make()
        items = list(range(n))

        def produce():
            for start in range(0, n, batch):
                q.put_many(items[start:start + batch])
            end(q)

        def consume(out):
            count = 0
            try:
                while True:
                    count += len(q.get_many(batch))
            except ended:
                out.append(count)

        return run(produce, consume, n)

    return contender


fastchan_queue_batches = batches(lambda: fastchan.Queue(1024), fastchan.Queue.shutdown, fastchan.ShutDown)
fastchan_channel_batches = batches(lambda: fastchan.Channel(1024), fastchan.Channel.close, fastchan.ChannelClosed)


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
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, n={args.n}, batch={args.batch}, "
          f"median of {args.rounds} alternating rounds\n")
    contenders = [("queue.Queue put/get per item", stdlib_items),
                  ("fastchan.Queue put_many/get_many", fastchan_queue_batches),
                  ("fastchan.Channel put_many/get_many", fastchan_channel_batches)]
    rates = {name: [] for name, _ in contenders}
    for _ in range(args.rounds):
        for name, fn in contenders:
            rates[name].append(fn(args.n, args.batch))
    base = statistics.median(rates[contenders[0][0]])
    print("| contender | items/s | vs queue.Queue |")
    print("|---|---:|---:|")
    for name, _ in contenders:
        rate = statistics.median(rates[name])
        print(f"| {name} | {rate:,.0f} | {rate / base:.1f}x |")


if __name__ == "__main__":
    main()
