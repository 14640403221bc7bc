from ._errors import Empty, Full, ShutDown
from .asyncio import Queue as AsyncQueue
from .queue import LifoQueue as LifoQueue, PriorityQueue as PriorityQueue, Queue as Queue

SyncQueue = Queue
SyncQueueEmpty = Empty
AsyncQueueEmpty = Empty
SyncQueueFull = Full
AsyncQueueFull = Full
SyncQueueShutDown = ShutDown
AsyncQueueShutDown = ShutDown
