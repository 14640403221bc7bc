"""fastchan.install() / uninstall(): run unmodified code on fastchan's queues.

install() rebinds the public names ``queue.Queue``, ``LifoQueue``,
``PriorityQueue``, ``SimpleQueue`` and ``asyncio.Queue``, ``LifoQueue``,
``PriorityQueue`` to fastchan's classes, ``asyncio.to_thread`` to
``fastchan.to_thread``, and (when trio is installed) ``trio.open_memory_channel``
to ``fastchan.open_memory_channel``, so code that looks them up after the
call gets fastchan's. The standard library's own modules keep the originals:
their ``queue`` global is pointed at a frozen copy of the module first.
"""

from __future__ import annotations

import importlib
import queue
import sys
import types

from ._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

_THREAD_NAMES = ("Queue", "LifoQueue", "PriorityQueue", "SimpleQueue")
_ASYNC_NAMES = ("Queue", "LifoQueue", "PriorityQueue")
# Stdlib modules that use the queue module internally; imported up front so
# that they bind the frozen copy even if user code imports them later.
_STDLIB_QUEUE_USERS = ("concurrent.futures.thread", "logging.handlers")

_saved: dict[str, Any] | None = None  # what install() replaced, for uninstall()


def _stdlib_modules() -> Iterator[types.ModuleType]:
    import sysconfig  # (5 ms: only install() needs it)

    stdlib = sysconfig.get_paths()["stdlib"]
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if path.startswith(stdlib) and "site-packages" not in path and not name.startswith("fastchan"):
            yield module


def _trio_open_memory_channel() -> Callable[..., Any] | None:
    """trio's own open_memory_channel, if trio is installed (imported here)."""
    try:
        import trio
    except ImportError:
        return None
    return trio.open_memory_channel


def install() -> None:
    """Make the stdlib's public queue names refer to fastchan's classes."""
    global _saved
    if _saved is not None:
        return
    # What it rebinds to (imported here: asyncio, concurrent.futures and
    # trio cost more than the rest of fastchan).
    import asyncio

    from . import asyncio as async_queues, queue as thread_queues
    from .memory_channel import open_memory_channel
    from .pool import to_thread

    for name in _STDLIB_QUEUE_USERS:
        importlib.import_module(name)
    frozen = types.ModuleType("queue")
    frozen.__dict__.update(queue.__dict__)
    rebound = [m for m in _stdlib_modules() if m.__dict__.get("queue") is queue]
    for module in rebound:
        module.queue = frozen  # type: ignore[attr-defined]
    _saved = {
        "queue": {n: getattr(queue, n) for n in _THREAD_NAMES},
        "asyncio": {n: getattr(asyncio, n) for n in _ASYNC_NAMES},
        "to_thread": asyncio.to_thread,
        "trio": _trio_open_memory_channel(),
        "rebound": rebound,
    }
    for n in _THREAD_NAMES:
        setattr(queue, n, getattr(thread_queues, n))
    for n in _ASYNC_NAMES:
        setattr(asyncio, n, getattr(async_queues, n))
    asyncio.to_thread = asyncio.threads.to_thread = to_thread
    if _saved["trio"] is not None:
        sys.modules["trio"].open_memory_channel = open_memory_channel  # type: ignore[attr-defined]


def uninstall() -> None:
    """Undo install(): the stdlib names refer to the stdlib's classes again."""
    global _saved
    if _saved is None:
        return
    import asyncio  # (imported by install())

    for n, cls in _saved["queue"].items():
        setattr(queue, n, cls)
    for n, cls in _saved["asyncio"].items():
        setattr(asyncio, n, cls)
    asyncio.to_thread = asyncio.threads.to_thread = _saved["to_thread"]
    if _saved["trio"] is not None:
        sys.modules["trio"].open_memory_channel = _saved["trio"]  # type: ignore[attr-defined]
    for module in _saved["rebound"]:
        module.queue = queue
    _saved = None


def installed() -> bool:
    """True between install() and uninstall()."""
    return _saved is not None
