"""fastchan.install() / uninstall(): run unmodified code on fastchan's queues.

install() rebinds the public names ``queue.Queue``, ``LifoQueue``,
``PriorityQueue``, ``SimpleQueue`` and ``asyncio.Queue``, ``LifoQueue``,
``PriorityQueue`` to fastchan's classes, ``asyncio.to_thread`` to
``fastchan.to_thread``, (when trio is installed) ``trio.open_memory_channel``
to ``fastchan.open_memory_channel``, and (where fastchan.ProcessQueue is
built: Linux) ``multiprocessing.Queue`` and every context's
``get_context(...).Queue`` to make a ``fastchan.ProcessQueue``, so code that
looks them up after the call gets fastchan's. The standard library's own
modules keep the originals: their ``queue`` global is pointed at a frozen
copy of the module first, and concurrent.futures.process builds its queues
from ``multiprocessing.queues.Queue`` itself (a subclass), which stays.

multiprocessing.Queue is a bound method of the default context, copied into
the package's namespace at import (``globals().update(...)``), and
``BaseContext.Queue`` is what every context's Queue runs: install() replaces
the method on BaseContext and rebinds the package's name to the default
context's new bound method. ``JoinableQueue`` and ``SimpleQueue`` stay the
stdlib's (ProcessQueue has no task_done/join, and multiprocessing.Pool uses
SimpleQueue's internals).
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


def _route_multiprocessing() -> dict[str, Any] | None:
    """Points multiprocessing.Queue and BaseContext.Queue at ProcessQueue;
    what they were, for uninstall() (None: no ProcessQueue in this build)."""
    from . import _core

    if not _core._build_info.get("process_queue"):
        return None
    import multiprocessing
    import multiprocessing.context as mp_context

    saved = {"method": mp_context.BaseContext.__dict__["Queue"], "name": multiprocessing.__dict__.get("Queue")}
    mp_context.BaseContext.Queue = _context_queue  # type: ignore[method-assign]
    setattr(multiprocessing, "Queue", mp_context._default_context.Queue)  # (a bound method: the new one)
    return saved


def _unroute_multiprocessing(saved: dict[str, Any]) -> None:
    import multiprocessing
    import multiprocessing.context as mp_context

    mp_context.BaseContext.Queue = saved["method"]  # type: ignore[method-assign]
    setattr(multiprocessing, "Queue", saved["name"])


def _context_queue(self: Any, maxsize: int = 0) -> Any:
    """Returns a queue object: a fastchan.ProcessQueue (fastchan.install()
    routes multiprocessing's Queue here)."""
    from .process_queue import ProcessQueue

    return ProcessQueue(maxsize, ctx=self.get_context())


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
        "multiprocessing": _route_multiprocessing(),
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
    if _saved["multiprocessing"] is not None:
        _unroute_multiprocessing(_saved["multiprocessing"])
    _saved = None


def installed() -> bool:
    """True between install() and uninstall()."""
    return _saved is not None
