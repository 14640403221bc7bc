"""The one list of the peers' tests that do not run against fastchan.

Each entry is a test's node id (relative to tests/peers; a parametrized
test's id without its parameters covers them all) and the reason. Only
tests of a peer's private internals may be excluded; a test of public
behaviour that fails is a fastchan bug, not an entry here. NEEDS_PYTHON lists
tests that use a newer Python's stdlib than the interpreter running them
(they are skipped there, with the reason, and run everywhere else).
"""

EXCLUDED = {
    # -- CPython 3.13.5 Lib/test/test_asyncio/test_queues.py --
    "cpython/test_asyncio/test_queues.py::QueueBasicTests::test_repr":
        "asserts asyncio's private attribute names in repr() (_getters[1], _putters[1], _queue=[1])",
    "cpython/test_asyncio/test_queues.py::QueueBasicTests::test_str":
        "asserts asyncio's private attribute names in str() (_getters[1], _putters[1], _queue=[1])",
    "cpython/test_asyncio/test_queues.py::QueueGetTests::test_get_with_putters":
        "appends a future to the private deque q._putters",
    "cpython/test_asyncio/test_queues.py::QueueGetTests::test_cancelled_getters_not_being_held_in_self_getters":
        "reads the private deque queue._getters",
    "cpython/test_asyncio/test_queues.py::QueuePutTests::test_cancelled_puts_not_being_held_in_self_putters":
        "reads the private deque queue._putters",
    "cpython/test_asyncio/test_queues.py::QueueJoinTests::test_format":
        "assigns the private counter q._unfinished_tasks",
    "cpython/test_asyncio/test_queues.py::LifoQueueJoinTests::test_format":
        "assigns the private counter q._unfinished_tasks",
    "cpython/test_asyncio/test_queues.py::PriorityQueueJoinTests::test_format":
        "assigns the private counter q._unfinished_tasks",
    # -- CPython 3.13.5 Lib/test/test_queue.py --
    # -- trio 0.35.0 src/trio/_tests/test_channel.py --
    # -- anyio 4.16.0 tests/streams/test_memory.py --
    "anyio/test_memory.py::test_memory_object_item_receiver_repr":
        "tests the repr of anyio's private anyio.streams.memory._MemoryObjectItemReceiver (a record of its "
        "own implementation, which fastchan has no use for: it would test anyio, not fastchan)",
}

# node id (or a prefix ending in "::") -> ((major, minor), reason)
NEEDS_PYTHON = {
    "cpython/test_asyncio/test_queues.py::QueueGetTests::test_why_are_getters_waiting":
        ((3, 11), "uses asyncio.TaskGroup"),
    "cpython/test_asyncio/test_queues.py::QueuePutTests::test_get_cancel_drop_many_pending_readers":
        ((3, 11), "uses asyncio.TaskGroup"),
    "cpython/test_asyncio/test_queues.py::QueuePutTests::test_why_are_putters_waiting":
        ((3, 11), "uses asyncio.TaskGroup"),
    "cpython/test_asyncio/test_queues.py::QueueJoinTests::test_task_done": ((3, 11), "uses asyncio.TaskGroup"),
    "cpython/test_asyncio/test_queues.py::LifoQueueJoinTests::test_task_done": ((3, 11), "uses asyncio.TaskGroup"),
    "cpython/test_asyncio/test_queues.py::PriorityQueueJoinTests::test_task_done":
        ((3, 11), "uses asyncio.TaskGroup"),
}
