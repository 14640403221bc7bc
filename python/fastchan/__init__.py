"""fastchan: a native bounded channel core for Python threads and asyncio.

``fastchan.Queue``, ``LifoQueue``, ``PriorityQueue`` and ``SimpleQueue`` are
drop-ins for the stdlib ``queue`` module's classes, ``fastchan.asyncio``'s for
asyncio's; both are backed by a C++ channel that releases the GIL while it
waits. ``fastchan.ThreadPool`` is a concurrent.futures executor fed by the
same channel, and ``fastchan.to_thread`` is asyncio.to_thread on it.
``fastchan.install()`` (or ``python -m fastchan script.py``) makes
unmodified code use them. ``fastchan.get_include()`` and
``get_cmake_dir()`` (``python -m fastchan --includes | --cmakedir``) locate
the C++ core for native code built against it.

``import fastchan`` is cheap: it imports neither asyncio, trio, anyio nor
concurrent.futures. The names that need them (``ThreadPool``, ``Future``,
``BrokenThreadPool``, ``to_thread``; ``open_memory_channel``,
``MemorySendChannel``, ``MemoryReceiveChannel``) load their module on first
access (PEP 562). ``fastchan.Empty``, ``Full`` and ``ShutDown`` are caught by
``except queue.Empty`` (...) always, and by ``except asyncio.QueueEmpty``
(...) once asyncio is imported, whenever that happens (see _errors.py).
"""

from __future__ import annotations

import atexit as _atexit
import os as _os
import threading as _threading

try:  # (first: `from . import _core` would report a missing extension as a "circular import")
    __import__(f"{__name__}._core")
except ModuleNotFoundError as _error:
    if _error.name != f"{__name__}._core":
        raise
    raise ImportError(
        "fastchan's extension module (fastchan._core) is not built: run `pip install .` "
        "(or see the README's \"Build in place\")",
        name=_error.name,
    ) from _error
from ._errors import ChannelClosed, Empty, Full, ShutDown
from . import _core
from .queue import LifoQueue, PriorityQueue, Queue, SimpleQueue
from . import asyncio  # (registers the async side of the queues' views: see _views.py)
from .channel import Channel
from ._select import CLOSED, recv, select, select_async, send
from ._install import install, installed, uninstall
from ._paths import get_cmake_dir, get_include
from ._typing import TYPE_CHECKING

if TYPE_CHECKING:  # what __getattr__ below loads on first access
    from .memory_channel import MemoryReceiveChannel, MemorySendChannel, open_memory_channel
    from .pool import BrokenThreadPool, Future, ThreadPool, to_thread
    from .process_queue import ProcessQueue

__all__ = [
    "Queue", "LifoQueue", "PriorityQueue", "SimpleQueue", "Empty", "Full", "ShutDown",
    "ThreadPool", "Future", "BrokenThreadPool", "to_thread", "Channel", "ChannelClosed",
    "select", "select_async", "recv", "send", "CLOSED",
    "open_memory_channel", "MemorySendChannel", "MemoryReceiveChannel",
    "install", "uninstall", "installed", "get_include", "get_cmake_dir", "ProcessQueue",
]
__version__ = "0.1.0"

# Names loaded on first access -> their module. pool needs concurrent.futures;
# memory_channel asyncio (and trio, when installed).
_LAZY = {
    "ThreadPool": "pool", "Future": "pool", "BrokenThreadPool": "pool", "to_thread": "pool",
    "open_memory_channel": "memory_channel", "MemorySendChannel": "memory_channel",
    "MemoryReceiveChannel": "memory_channel", "ProcessQueue": "process_queue",
}
# Submodules that were attributes of the package once it was imported, as
# the others still are: loaded on first access too.
_LAZY_MODULES = ("pool", "_future", "memory_channel", "process_queue")


def __getattr__(name: str) -> object:
    from importlib import import_module

    if name in _LAZY_MODULES:
        return import_module(f".{name}", __name__)  # (the import binds it in globals())
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # (later lookups skip this function)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_LAZY_MODULES})


_core._set_main_thread(_threading.main_thread().ident)  # type: ignore[arg-type]  # (the main thread has one)
# After fork the forking thread is the child's main thread.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=lambda: _core._set_main_thread(_threading.get_ident()))
# Runs after non-daemon threads were joined, before the interpreter finalizes.
_atexit.register(_core._at_exit)
