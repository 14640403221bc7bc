"""How a memory channel's task waits, one module per event loop.

A memory channel (fastchan.memory_channel, fastchan.anyio) keeps its state
under one lock and parks each waiting operation in a queue as a Waiter
(fastchan.memory_channel._state). Only the waiting itself depends on who
waits, and that is what a module here provides:

    NAME                      the loop's name
    running() -> object       truthy if the caller is a task of this loop, in this thread
    Waiter                    a Waiter whose wake() resumes the task from any thread
    FULL, LIGHT               (before, after): what an operation awaits
                              (a coroutine function, or None for nothing)
                              before it acts and after it acted without
                              waiting; FULL where the front wants anyio's
                              checkpoint-then-act, LIGHT for trio's front
    async park(waiter, queue, receiving)  waits until served; settles cancellation

Supporting another loop is one more module and its name in LOOPS (checked in
order; a loop's module is imported only once its library was imported by
someone, so fastchan never imports trio or asyncio itself). Plain threads
block in fastchan._loops.threads, which is not an event loop.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Optional

# (library module that must be imported already, adapter module), checked in order:
# trio first, since a trio guest run may live inside an asyncio loop.
LOOPS = (("trio", "trio"), ("asyncio", "asyncio"))

_adapters: dict[str, ModuleType] = {}


def _adapter(name: str) -> ModuleType:
    module = _adapters.get(name)
    if module is None:
        module = _adapters[name] = importlib.import_module(f"{__name__}.{name}")
    return module


def running(modules: dict[str, ModuleType] = sys.modules) -> Optional[ModuleType]:
    """The adapter of the event loop the caller runs in, or None. (Called
    by every send and receive: kept to a few dict look-ups.)"""
    for library, name in LOOPS:
        if library in modules:
            adapter = _adapters.get(name)
            if adapter is None:
                adapter = _adapter(name)
            if adapter.running():
                return adapter
    return None


def none_running(operation: str) -> ModuleType:
    """Raises the RuntimeError of an operation awaited outside an event loop."""
    raise RuntimeError(
        f"{operation} must be awaited in a task of a trio run or an asyncio event loop, "
        "and none is running in this thread")
