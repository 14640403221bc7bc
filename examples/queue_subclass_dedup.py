"""A deduplicating work queue built the stdlib way, by overriding
queue.Queue's hooks. It runs unchanged on fastchan:

    python queue_subclass_dedup.py               # queue.Queue
    python -m fastchan queue_subclass_dedup.py   # fastchan.Queue (hooks on its Python path)
"""

import queue
import threading


class DedupQueue(queue.Queue[str | None]):
    """A queue that ignores an item while an equal one is still waiting."""

    def _init(self, maxsize: int) -> None:
        super()._init(maxsize)  # self.queue: a deque
        self.waiting: set[str | None] = set()

    def _qsize(self) -> int:
        return len(self.queue)

    def _put(self, item: str | None) -> None:
        if item not in self.waiting:
            self.waiting.add(item)
            self.queue.append(item)

    def _get(self) -> str | None:
        item: str | None = self.queue.popleft()
        self.waiting.discard(item)
        return item


def main() -> None:
    q = DedupQueue(maxsize=10)
    fetched: list[str] = []

    def worker() -> None:
        while (url := q.get()) is not None:
            fetched.append(url)

    for url in ["a.html", "b.html", "a.html", "c.html", "b.html"]:
        q.put(url)
    print("waiting:", q.qsize())
    with q.mutex:  # the stdlib's lock: no put or get runs inside
        print("snapshot:", sorted(url for url in q.waiting if url is not None))  # (None: the end marker)
    thread = threading.Thread(target=worker)
    thread.start()
    q.put(None)  # (put() counts every call, deduplicated or not: no join() here)
    thread.join()
    print("fetched:", fetched)


if __name__ == "__main__":
    main()
