"""fastchan.ThreadPool and fastchan.to_thread: a thread pool on fastchan's channel.

``ThreadPool`` is a ``concurrent.futures.ThreadPoolExecutor`` (so
``loop.set_default_executor`` accepts it) whose work queue is a native
fastchan channel. Its workers are ordinary Python threads that wait for
tasks with the GIL released and complete futures in C++. ``max_pending``
bounds the queue: ``submit`` then blocks while it is full, and
``submit_nowait`` raises ``fastchan.Full``.

``to_thread`` is ``asyncio.to_thread`` on a shared ThreadPool. When calls
are short it waits for the outcome briefly, GIL released, before
suspending on a future (see cpp/src/thread_call.hpp): a thread wake-up
costs more than most such calls.
"""

from __future__ import annotations

import concurrent.futures as _cf
import contextvars
import itertools
import logging
import os
import threading
import weakref
from concurrent.futures.thread import BrokenThreadPool

from . import _checks, _core, _future
from ._base import Initialized
from ._future import Future
from ._typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from asyncio import Future as AsyncFuture
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

R = TypeVar("R")

__all__ = ["ThreadPool", "Future", "BrokenThreadPool", "to_thread"]

_LOGGER = logging.getLogger("concurrent.futures")
_SHUT_DOWN = "cannot schedule new futures after shutdown"
_EXITING = "cannot schedule new futures after interpreter shutdown"
_FORKED = "this ThreadPool was created before os.fork(); create a new one in the child"
_BROKEN = "A thread initializer failed, the thread pool is not usable anymore"

_pool_numbers = itertools.count()
_pools: weakref.WeakSet[ThreadPool] = weakref.WeakSet()  # every ThreadPool not yet collected
_live_threads: weakref.WeakKeyDictionary[threading.Thread, _core._PoolCore] = weakref.WeakKeyDictionary()
_exiting = False


class _Workers:
    """Starts a pool's threads. It holds no reference to the pool, so an
    unreferenced pool can be collected (its finalizer closes the queue and
    the workers finish what is queued, then exit)."""

    def __init__(self, name_prefix: str, initializer: Callable[..., object] | None,
                 initargs: tuple[Any, ...]) -> None:
        self.name_prefix = name_prefix
        self.initializer = initializer
        self.initargs = initargs
        self.threads: list[threading.Thread] = []

    def start(self, core: _core._PoolCore) -> None:
        """Called by the core when a task needs a worker and none is idle."""
        if _exiting:
            raise RuntimeError(_EXITING)
        thread = threading.Thread(
            name=f"{self.name_prefix}_{len(self.threads)}",
            target=_work,
            args=(core, self.initializer, self.initargs),
        )
        _live_threads[thread] = core
        try:
            thread.start()
        except BaseException:
            del _live_threads[thread]
            raise
        self.threads.append(thread)


def _work(core: _core._PoolCore, initializer: Callable[..., object] | None, initargs: tuple[Any, ...]) -> None:
    """A worker thread: run the initializer, then tasks until shutdown."""
    if initializer is not None:
        try:
            initializer(*initargs)
        except BaseException:
            _LOGGER.critical("Exception in initializer:", exc_info=True)
            error = BrokenThreadPool(_BROKEN)
            for future in core.close(True, BrokenThreadPool, _BROKEN, error):
                if not future.done():
                    try:
                        future.set_exception(error)
                    except _cf.InvalidStateError:
                        pass  # cancelled by its owner meanwhile
            return
    core.work()


def _cancel_dropped(future: Future[Any]) -> None:
    """Cancels the future of a task dropped from the queue, and notifies it
    as a worker would have on taking it (concurrent.futures.wait counts a
    future done only once notified)."""
    if future.cancel():
        future.set_running_or_notify_cancel()


class ThreadPool(Initialized, _cf.ThreadPoolExecutor):
    """A pool of threads that run submitted calls, fed by a fastchan channel.

    max_workers: the most threads the pool starts (default min(32, CPUs + 4),
        as ThreadPoolExecutor). Threads start on demand, when a task finds
        no idle one.
    max_pending: how many submitted tasks may wait for a worker. None (the
        default) is unbounded; 0 hands each task straight to a worker.
        When the bound is reached submit() blocks and submit_nowait() raises
        fastchan.Full.
    thread_name_prefix, initializer, initargs: as for ThreadPoolExecutor. An
        initializer that raises breaks the pool: queued futures fail and
        submit() raises BrokenThreadPool.

    A task that submits to its own pool while the queue is full waits for
    room as long as another worker can make some. When every worker would
    be waiting so, submit() raises fastchan.Full instead of deadlocking.
    """

    _INIT_MARK = "_core"

    def __init__(self, max_workers: int | None = None, *, max_pending: int | None = None,
                 thread_name_prefix: str = "", initializer: Callable[..., object] | None = None,
                 initargs: Iterable[Any] = ()) -> None:
        if max_workers is None:
            max_workers = min(32, (os.cpu_count() or 1) + 4)
        # (the stdlib's words for max_workers)
        max_workers = _checks.count("max_workers", max_workers, minimum=1, bound="greater than 0")
        if max_pending is not None:
            max_pending = _checks.count("max_pending", max_pending, bound="at least 0")
        if not isinstance(thread_name_prefix, str):
            raise TypeError(f"thread_name_prefix must be a str, not {type(thread_name_prefix).__name__}")
        if initializer is not None and not callable(initializer):
            raise TypeError(f"initializer must be callable, not {type(initializer).__name__} {initializer!r}")
        args = tuple(initargs)

        name_prefix = thread_name_prefix or f"ThreadPool-{next(_pool_numbers)}"
        self._workers = _Workers(name_prefix, initializer, args)
        self._core = _core._PoolCore(max_workers, max_pending, self._workers.start, Future)
        # ThreadPoolExecutor's attributes that code in the wild reads.
        self._max_workers = max_workers
        self._thread_name_prefix = name_prefix
        self._threads = self._workers.threads  # type: ignore[assignment]  # (a list here, a set in the stdlib: both iterate)
        self._max_pending = max_pending
        weakref.finalize(self, self._core.close, False, RuntimeError, _SHUT_DOWN)
        _pools.add(self)

    @property
    def max_pending(self) -> int | None:
        """The bound on queued tasks given at construction (None: unbounded)."""
        return self._max_pending

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        """Schedule fn(*args, **kwargs) and return a Future for its result.

        Blocks while max_pending tasks are already waiting for a worker.
        Raises RuntimeError after shutdown(), BrokenThreadPool if an
        initializer failed, TypeError if fn is not callable.
        """
        return self._core.submit(fn, args, kwargs or None, True)  # type: ignore[no-any-return]

    def submit_nowait(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        """As submit(), but raise fastchan.Full rather than wait for room."""
        return self._core.submit(fn, args, kwargs or None, False)  # type: ignore[no-any-return]

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop accepting tasks; the queued ones still run unless
        cancel_futures is true, which cancels them. With wait, return once
        every worker has finished (a worker calling this does not wait for
        itself)."""
        for future in self._core.close(cancel_futures, RuntimeError, _SHUT_DOWN):
            _cancel_dropped(future)
        if wait:
            current = threading.current_thread()
            for thread in list(self._workers.threads):
                if thread is not current:
                    thread.join()

    def __repr__(self) -> str:
        core = self._core
        state = "shut down" if core.closed else "running"
        return (f"<{type(self).__module__}.{type(self).__qualname__} {state} "
                f"max_workers={self._max_workers} max_pending={self._max_pending} "
                f"threads={core.started_workers} queued={core.queued}>")

    def map(self, fn: Callable[..., R], *iterables: Iterable[Any], timeout: float | None = None,
            chunksize: int = 1) -> Iterator[R]:
        """Executor.map: fn applied to the iterables' items, the results in
        order (chunksize is accepted and ignored, as by ThreadPoolExecutor)."""
        self._core  # (an uninitialized pool raises here, not at the first result)
        return super().map(fn, *iterables, timeout=timeout, chunksize=chunksize)

    def __enter__(self) -> ThreadPool:
        self._core
        return self

    # __exit__ (shutdown(wait=True)) is inherited.


_default_pool: ThreadPool | None = None
_default_pool_lock = threading.Lock()


def _shared_pool() -> ThreadPool:
    global _default_pool
    pool = _default_pool
    if pool is None:
        with _default_pool_lock:
            if _default_pool is None:
                _default_pool = ThreadPool(thread_name_prefix="fastchan.to_thread")
            pool = _default_pool
    return pool


async def to_thread(func: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
    """Run func(*args, **kwargs) in a worker thread and await its result.

    A drop-in for asyncio.to_thread: the current contextvars are copied to
    the call. It runs on the loop's default executor when that is a
    fastchan.ThreadPool (loop.set_default_executor), on asyncio's executor
    path when it is another executor, and otherwise on a ThreadPool shared
    by the process. Cancelling the await before the call starts means it
    never starts; a call already running finishes and its result is dropped.
    """
    import asyncio  # (loaded: this runs in a task)

    loop = asyncio.get_running_loop()
    if not callable(func):
        raise TypeError(f"func must be callable, not {type(func).__name__} {func!r}")
    context = contextvars.copy_context()
    executor = getattr(loop, "_default_executor", None)
    if executor is None:
        executor = _shared_pool()
    elif not isinstance(executor, ThreadPool):
        return await loop.run_in_executor(None, context.run, _call, func, args, kwargs)
    call = executor._core.call(context.run, (func, *args), kwargs or None)
    if call.done:
        # Finished while we spun: still give the other tasks their turn, as
        # awaiting a thread always does.
        await asyncio.sleep(0)
        return call.result()  # type: ignore[no-any-return]
    future: AsyncFuture[R] = loop.create_future()
    from ._loops.asyncio import waker_for  # (the asyncio adapter; asyncio is in use)

    call.attach(future, waker_for(loop))
    if future.done():
        # Finished between the check above and attach() (the worker runs in
        # parallel): awaiting a done future would not suspend.
        await asyncio.sleep(0)
    return await future


def _call(func: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
    return func(*args, **kwargs)


def _join_at_exit() -> None:
    """Run by threading before it joins non-daemon threads at exit: the
    workers finish what is queued, then exit, and are joined (as
    ThreadPoolExecutor's are)."""
    global _exiting
    _exiting = True
    for pool in list(_pools):
        pool._core.close(False, RuntimeError, _EXITING)
    for thread, core in list(_live_threads.items()):
        core.close(False, RuntimeError, _EXITING)
    for thread in list(_live_threads):
        thread.join()


def _after_fork_in_child() -> None:
    """The child has none of the parent's worker threads: the parent's pools
    refuse new tasks, and the shared pool is made anew on first use."""
    global _default_pool
    _future._after_fork_in_child()
    _default_pool = None
    _live_threads.clear()
    for pool in list(_pools):
        pool._workers.threads.clear()
        for future in pool._core.close(True, RuntimeError, _FORKED):
            _cancel_dropped(future)


threading._register_atexit(_join_at_exit)  # type: ignore[attr-defined]  # (what concurrent.futures.thread uses)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
