"""A bounded work queue shared by producer and worker threads, on fastchan.

Four workers square numbers that two producers feed through a bounded
fastchan.Queue; join() waits until every item was processed, shutdown()
then releases the workers. Every item is counted exactly once.
"""
import threading

import fastchan

tasks: fastchan.Queue[int] = fastchan.Queue(maxsize=16)
results: fastchan.SimpleQueue[int] = fastchan.SimpleQueue()


def producer(start: int, count: int) -> None:
    for n in range(start, start + count):
        tasks.put(n)  # blocks (GIL released) while the queue is full


def worker() -> None:
    while True:
        try:
            n = tasks.get()
        except fastchan.ShutDown:
            return
        results.put(n * n)
        tasks.task_done()


workers = [threading.Thread(target=worker) for _ in range(4)]
producers = [threading.Thread(target=producer, args=(i * 500, 500)) for i in range(2)]
for t in workers + producers:
    t.start()
for t in producers:
    t.join()
tasks.join()      # every item put has been processed
tasks.shutdown()  # workers see ShutDown and return
for t in workers:
    t.join()

squares = sorted(results.get_nowait() for _ in range(results.qsize()))
assert squares == [n * n for n in range(1000)]
print(f"processed {len(squares)} items exactly once; sum of squares = {sum(squares)}")
