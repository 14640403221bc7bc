"""Exceptions raised by fastchan's queues and channels.

``Empty``, ``Full`` and ``ShutDown`` are caught by the stdlib's clauses of
both worlds, so code keeps working when fastchan's queues replace the
stdlib's:

- ``except queue.Empty`` (``queue.Full``, and ``queue.ShutDown`` from Python
  3.13) always: those are their bases from the start.
- ``except asyncio.QueueEmpty`` (``asyncio.QueueFull``, and
  ``asyncio.QueueShutDown`` from 3.13) as soon as asyncio is in use.
  Importing asyncio costs more than all of fastchan, so ``import fastchan``
  does not; the asyncio classes are added to the bases when asyncio's queue
  module loads: at once if it already has, otherwise by a finder in
  ``sys.meta_path`` whose loader wrapper adds them once ``asyncio.queues``
  has run, then removes the finder. (An ``except`` clause naming asyncio's
  class can only run once asyncio is imported, so no clause ever sees the
  classes without those bases.)
"""

from __future__ import annotations

import queue
import sys

from ._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

__all__ = ["Empty", "Full", "ShutDown", "ChannelClosed"]


class Empty(queue.Empty):
    """Raised by a non-blocking or timed get() when no item was available."""


class Full(queue.Full):
    """Raised by a non-blocking or timed put() when no slot was free."""


if sys.version_info >= (3, 13):
    _ShutDownBase = queue.ShutDown
else:
    _ShutDownBase = Exception


class ShutDown(_ShutDownBase):
    """Raised by put() after shutdown(), and by get() once shut down and empty."""


class ChannelClosed(Exception):
    """Raised by a send on a closed fastchan.Channel, and by a receive once
    the channel is closed and drained."""


def closed_channel(operation: str) -> ChannelClosed:
    """The error of `operation` ("send", "recv") on a closed channel, worded
    as the native core words it."""
    return ChannelClosed(f"{operation} on a closed channel")


def add_note(error: BaseException, text: str) -> None:
    """Add a note to `error` (Python 3.11+; a no-op on 3.10)."""
    if hasattr(error, "add_note"):
        error.add_note(text)


def _add_asyncio_bases(queues: ModuleType) -> None:
    """Make Empty, Full and ShutDown subclasses of asyncio's classes too
    (`queues` is the module asyncio.queues)."""
    for cls, name in ((Empty, "QueueEmpty"), (Full, "QueueFull"), (ShutDown, "QueueShutDown")):
        base = getattr(queues, name, None)
        if base is not None and not issubclass(cls, base):
            cls.__bases__ = (*cls.__bases__, base)


class _AfterAsyncioQueues:
    """Loader wrapper: runs asyncio.queues's own loader, puts that loader
    back in the module's spec, adds the bases and retires the finder."""

    def __init__(self, loader: object) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)  # type: ignore[attr-defined, no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)  # type: ignore[attr-defined]
        module.__loader__ = module.__spec__.loader = self.loader  # type: ignore[union-attr, assignment]
        _add_asyncio_bases(module)
        try:
            sys.meta_path.remove(_AsyncioQueuesFinder)
        except ValueError:
            pass


class _AsyncioQueuesFinder:
    """sys.meta_path entry until asyncio.queues is imported (see the module
    doc). It finds nothing itself: it wraps the loader of the spec the
    finders after it find for asyncio.queues."""

    @classmethod
    def find_spec(cls, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname != "asyncio.queues":
            return None
        for finder in sys.meta_path:
            find_spec = None if finder is cls else getattr(finder, "find_spec", None)
            spec = None if find_spec is None else find_spec(fullname, path, target)
            if spec is not None:
                if hasattr(spec.loader, "exec_module"):
                    spec.loader = _AfterAsyncioQueues(spec.loader)
                return spec  # type: ignore[no-any-return]  # (a finder's spec)
        return None


if "asyncio.queues" in sys.modules:
    _add_asyncio_bases(sys.modules["asyncio.queues"])
else:
    sys.meta_path.insert(0, _AsyncioQueuesFinder)
