"""Producer/consumer processes on multiprocessing.Queue, in the tutorials' style.

A producer process puts numbers, three worker processes square them, and
the main process collects the results; a None per worker stops them. Run it
as `python multiprocessing_workers.py` (the stdlib's queue, fed through a
pipe by a thread) or `python -m fastchan multiprocessing_workers.py`
(fastchan.ProcessQueue: shared memory, no feeder thread). Both print the
same lines.
"""

from __future__ import annotations

import multiprocessing
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (for the annotations only)
    from multiprocessing.queues import Queue

N_ITEMS = 200
N_WORKERS = 3


def producer(tasks: Queue[int | None]) -> None:
    for n in range(N_ITEMS):
        tasks.put(n)
    for _ in range(N_WORKERS):
        tasks.put(None)  # one sentinel per worker


def worker(tasks: Queue[int | None], results: Queue[tuple[int, int]]) -> None:
    while True:
        n = tasks.get()
        if n is None:
            break
        results.put((n, n * n))


def main() -> None:
    tasks: Queue[int | None] = multiprocessing.Queue(maxsize=10)
    results: Queue[tuple[int, int]] = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=producer, args=(tasks,))]
    processes += [multiprocessing.Process(target=worker, args=(tasks, results)) for _ in range(N_WORKERS)]
    for p in processes:
        p.start()
    squares = dict(results.get() for _ in range(N_ITEMS))
    for p in processes:
        p.join()
    print(f"{len(squares)} results")
    print("every number squared exactly once:", sorted(squares) == list(range(N_ITEMS)))
    print("sum of squares:", sum(squares.values()))


if __name__ == "__main__":
    main()
