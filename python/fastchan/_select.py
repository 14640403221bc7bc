"""fastchan.select: wait on several channel operations; exactly one happens.

    index, value = fastchan.select([fastchan.recv(jobs), fastchan.send(log, line)])
    index, value = await fastchan.select_async([...])      # from an asyncio task

``index`` is the case that fired. ``value`` is the item a recv case
received, ``fastchan.CLOSED`` for a recv case whose channel is closed and
drained, or None for a send case. Among the cases ready at once, one is
chosen at random. With ``timeout`` seconds and nothing ready, TimeoutError;
with ``default=...`` nothing waits: if no case is ready, ``(None, default)``
is returned (Go's ``default:``). A send case on a closed channel raises
ChannelClosed, as in Go. The wait releases the GIL, and any other thread
or event loop may be sending or receiving on the same channels meanwhile.

``select_async`` is the same for an asyncio task: it suspends instead of
blocking, and its loop is woken (GIL-free, one eventfd write per burst) by
whichever thread or loop makes a case ready. It is atomic with respect to
cancellation and its timeout: either a case fired and its result is
returned, or nothing happened and CancelledError (TimeoutError) is raised.
While the task is suspended no rendezvous send of it can complete (a
receiver that finds it waiting wakes it, and the hand-over happens once the
task runs), and an item a peer handed to it goes back to the front of its
channel if the task is cancelled instead of resuming.
"""

from __future__ import annotations

from . import _checks, _core
from ._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asyncio import Future
    from collections.abc import Iterable
    from typing import Any

__all__ = ["select", "select_async", "recv", "send", "CLOSED"]

CLOSED = _core.CLOSED
_NO_DEFAULT: Any = object()
_TIMED_OUT = object()  # what the timeout's timer resolves the wait's future with


class _Case:
    """One operation of a select: made by fastchan.recv() or fastchan.send()."""

    __slots__ = ("channel", "item", "sending")

    def __init__(self, channel: _core._ChannelCore, item: object, sending: bool) -> None:
        if not isinstance(channel, _core._ChannelCore):
            raise TypeError(f"a select case needs a fastchan.Channel, not {type(channel).__name__} {channel!r}")
        self.channel = channel
        self.item = item
        self.sending = sending

    def __repr__(self) -> str:
        if self.sending:
            return f"fastchan.send({self.channel!r}, {self.item!r})"
        return f"fastchan.recv({self.channel!r})"


def recv(channel: _core._ChannelCore) -> _Case:
    """A select case that receives from `channel`."""
    return _Case(channel, None, False)


def send(channel: _core._ChannelCore, item: object) -> _Case:
    """A select case that sends `item` on `channel` (only if it fires)."""
    return _Case(channel, item, True)


def _checked(cases: Iterable[_Case]) -> tuple[_Case, ...]:
    cases = tuple(cases)
    if not cases:
        raise ValueError("select() needs at least one case")
    for case in cases:
        if type(case) is not _Case:
            raise TypeError(
                "select() cases must be made by fastchan.recv() or fastchan.send(), "
                f"not {type(case).__name__} {case!r}"
            )
    return cases


def select(cases: Iterable[_Case], timeout: float | None = None, *,
           default: Any = _NO_DEFAULT) -> tuple[int | None, Any]:
    """Complete exactly one of `cases`; return (index, value). See the module doc."""
    return _core._select(_checked(cases), timeout, default is not _NO_DEFAULT, None if default is _NO_DEFAULT else default)


async def select_async(cases: Iterable[_Case], timeout: float | None = None, *,
                       default: Any = _NO_DEFAULT) -> tuple[int | None, Any]:
    """select() for an asyncio task: suspends instead of blocking."""
    checked = _checked(cases)
    timeout = _checks.timeout(timeout)
    call = _core._AsyncSelect(checked)
    fired = call.try_fire()
    if fired is not None:
        return fired
    if default is not _NO_DEFAULT:
        return None, default
    return await _wait(call, timeout=timeout)


async def _wait(call: _core._AsyncSelect, timeout: float | None = None) -> tuple[int, Any]:
    """Awaits `call` (an _AsyncSelect that found nothing ready): the result
    of the case that fired. Cancelled, it has no effect: call.withdraw()
    gives back anything a peer handed over. After `timeout` seconds (timed
    by the loop, in this task: no inner task whose result could be lost) it
    raises TimeoutError, unless an exchange happened first."""
    import asyncio

    from ._loops.asyncio import waker_for  # (the asyncio adapter)

    loop = asyncio.get_running_loop()
    waker = waker_for(loop)
    deadline = None if timeout is None else loop.time() + timeout
    while True:
        future = loop.create_future()
        if call.enlist(waker, future):
            timer = None if deadline is None else loop.call_at(deadline, _expire, future)
            try:
                woken = await future
            except asyncio.CancelledError:
                call.withdraw()
                raise
            except BaseException:
                fired = call.cancel()  # (the future failed: its loop is closing)
                if fired is None:
                    raise
                return fired
            finally:
                if timer is not None:
                    timer.cancel()
            if woken is _TIMED_OUT:
                fired = call.cancel()
                if fired is None:
                    raise TimeoutError("select timed out")
                return fired
        fired = call.finish()
        if fired is None:
            fired = call.try_fire()
        if fired is not None:
            return fired


def _expire(future: Future[Any]) -> None:
    if not future.done():
        future.set_result(_TIMED_OUT)
