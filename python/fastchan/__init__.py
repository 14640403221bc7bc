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
"""

import atexit as _atexit
import os as _os
import threading as _threading

from ._errors import ChannelClosed, Empty, Full, ShutDown
from . import _core
from .queue import LifoQueue, PriorityQueue, Queue, SimpleQueue
from . import asyncio
from .pool import BrokenThreadPool, Future, ThreadPool, to_thread
from .channel import Channel
from ._select import CLOSED, recv, select, select_async, send
from .memory_channel import MemoryReceiveChannel, MemorySendChannel, open_memory_channel
from ._install import install, installed, uninstall
from ._paths import get_cmake_dir, get_include

__all__ = [
    "Queue", "LifoQueue", "PriorityQueue", "SimpleQueue", "Empty", "Full", "ShutDown",
    "ThreadPool", "Future", "BrokenThreadPool", "to_thread", "Channel", "ChannelClosed",
    "select", "select_async", "recv", "send", "CLOSED",
    "open_memory_channel", "MemorySendChannel", "MemoryReceiveChannel",
    "install", "uninstall", "installed", "get_include", "get_cmake_dir",
]
__version__ = "0.1.0"

_core._set_main_thread(_threading.main_thread().ident)
# After fork the forking thread is the child's main thread.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=lambda: _core._set_main_thread(_threading.get_ident()))
# Runs after non-daemon threads were joined, before the interpreter finalizes.
_atexit.register(_core._at_exit)
