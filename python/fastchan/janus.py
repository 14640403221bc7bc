"""janus's names over fastchan's queues: ``from fastchan import janus``.

A ``janus.Queue`` is a pair of views, ``sync_q`` (queue.Queue's interface)
and ``async_q`` (asyncio.Queue's), of one queue. ``fastchan.Queue`` is such a
pair already, and has janus's ``close()``, ``closed``, ``wait_closed()`` and
``aclose()`` (on both views), so code written for janus runs on fastchan by
changing its import. Unlike janus, the queue is not bound to one event loop
and may be created outside one.
"""

from __future__ import annotations

from ._errors import Empty, Full, ShutDown
from .asyncio import Queue as AsyncQueue
from .queue import LifoQueue, PriorityQueue, Queue

# The types of the views, for annotations such as janus.SyncQueue[int].
SyncQueue = Queue

# janus's exception names; fastchan's exceptions derive from both the queue
# and (once asyncio is imported) the asyncio classes, so either family of
# except clauses catches them (see _errors.py).
SyncQueueEmpty = AsyncQueueEmpty = Empty
SyncQueueFull = AsyncQueueFull = Full
SyncQueueShutDown = AsyncQueueShutDown = ShutDown

__all__ = [
    "Queue", "LifoQueue", "PriorityQueue", "SyncQueue", "AsyncQueue",
    "SyncQueueEmpty", "SyncQueueFull", "SyncQueueShutDown",
    "AsyncQueueEmpty", "AsyncQueueFull", "AsyncQueueShutDown",
]
