"""fastchan.open_memory_channel against trio.open_memory_channel, under trio.run.

    python benchmarks/bench_trio.py [--n N] [--rounds R] [--json FILE]

  ping-pong   two tasks bounce one value over two unbuffered channels
  streaming   one task sends N values through open_memory_channel(0) to another

Alternating rounds in one process; median items per second and the ratio.
Then the floor: streaming with no channel at all, two tasks handing values
over with nothing but trio's traps (what trio's scheduler itself costs).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import types

import outcome
import trio
from trio._core._traps import CancelShieldedCheckpoint, WaitTaskRescheduled

import fastchan
from background_load import add_switch, describe, oversubscribed


async def ping_pong(open_channel, n):
    ping_send, ping_recv = open_channel(0)
    pong_send, pong_recv = open_channel(0)

    async def echo():
        for _ in range(n):
            await pong_send.send(await ping_recv.receive())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(echo)
        for i in range(n):
            await ping_send.send(i)
            await pong_recv.receive()


async def streaming(open_channel, n):
    send_channel, receive_channel = open_channel(0)

    async def produce():
        async with send_channel:
            for i in range(n):
                await send_channel.send(i)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(produce)
        count = 0
        async for _ in receive_channel:
            count += 1
    assert count == n


@types.coroutine
def _trap(message):
    return (yield message)


async def streaming_floor(_, n):
    """Streaming's hand-offs with bare traps: a parked peer is rescheduled
    with the value, the other side yields once (as a checkpoint)."""
    parked = {}  # "receiver" -> task, or "sender" -> (task, value)
    park = WaitTaskRescheduled(lambda _: trio.lowlevel.Abort.FAILED)

    async def produce():
        task = trio.lowlevel.current_task()
        for i in range(n):
            receiver = parked.pop("receiver", None)
            if receiver is not None:
                trio.lowlevel.reschedule(receiver, outcome.Value(i))
                (await _trap(CancelShieldedCheckpoint)).unwrap()
            else:
                parked["sender"] = (task, i)
                (await _trap(park)).unwrap()

    async def consume():
        task = trio.lowlevel.current_task()
        for _ in range(n):
            sender = parked.pop("sender", None)
            if sender is not None:
                trio.lowlevel.reschedule(sender[0])
                (await _trap(CancelShieldedCheckpoint)).unwrap()
            else:
                parked["receiver"] = task
                (await _trap(park)).unwrap()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(produce)
        nursery.start_soon(consume)


def rate(workload, open_channel, n):
    start = time.perf_counter()
    trio.run(workload, open_channel, n)
    return n / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    add_switch(parser)
    args = parser.parse_args()
    with oversubscribed(args.oversubscribe):
        run(args)


def run(args):
    print(f"Python {platform.python_version()}, trio {trio.__version__}, {os.cpu_count()} CPUs, "
          f"n={args.n}, median of {args.rounds} alternating rounds, {describe(args.oversubscribe)}\n")
    print("| workload | fastchan items/s | trio items/s | speed-up |")
    print("|---|---:|---:|---:|")
    results = []
    for name, workload in (("ping-pong, unbuffered", ping_pong), ("streaming, unbuffered", streaming)):
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(rate(workload, fastchan.open_memory_channel, args.n))
            theirs.append(rate(workload, trio.open_memory_channel, args.n))
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"| {name} | {a:,.0f} | {b:,.0f} | {a / b:.2f}x |")
        results.append({"scenario": name, "contender": "fastchan.open_memory_channel",
                        "items_per_s": a, "reference": "trio.open_memory_channel", "vs_reference": a / b})
        results.append({"scenario": name, "contender": "trio.open_memory_channel",
                        "items_per_s": b, "reference": "trio.open_memory_channel", "vs_reference": 1.0})
    floor = statistics.median(rate(streaming_floor, None, args.n) for _ in range(args.rounds))
    print(f"\nfloor: streaming with bare traps and no channel, {floor:,.0f} items/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"bench": "trio", "python": sys.version, "trio": trio.__version__,
                       "rounds": args.rounds, "n": args.n, "floor_items_per_s": floor,
                       "oversubscribe": args.oversubscribe,
                       "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
