"""fastchan.select: wait on several channel operations; exactly one happens.

    index, value = fastchan.select([fastchan.recv(jobs), fastchan.send(log, line)])

``index`` is the case that fired. ``value`` is the item a recv case
received, ``fastchan.CLOSED`` for a recv case whose channel is closed and
drained, or None for a send case. Among the cases ready at once, one is
chosen at random. With ``timeout`` seconds and nothing ready, TimeoutError;
with ``default=...`` nothing waits: if no case is ready, ``(None, default)``
is returned (Go's ``default:``). A send case on a closed channel raises
ChannelClosed, as in Go. The wait releases the GIL, and any other thread
may be sending or receiving on the same channels meanwhile.
"""

from . import _core
from .channel import Channel

__all__ = ["select", "recv", "send", "CLOSED"]

CLOSED = _core.CLOSED
_NO_DEFAULT = object()


class _Case:
    """One operation of a select: made by fastchan.recv() or fastchan.send()."""

    __slots__ = ("channel", "item", "sending")

    def __init__(self, channel, item, sending):
        if not isinstance(channel, Channel):
            raise TypeError(f"a select case needs a fastchan.Channel, not {type(channel).__name__} {channel!r}")
        self.channel = channel
        self.item = item
        self.sending = sending

    def __repr__(self):
        if self.sending:
            return f"fastchan.send({self.channel!r}, {self.item!r})"
        return f"fastchan.recv({self.channel!r})"


def recv(channel):
    """A select case that receives from `channel`."""
    return _Case(channel, None, False)


def send(channel, item):
    """A select case that sends `item` on `channel` (only if it fires)."""
    return _Case(channel, item, True)


def select(cases, timeout=None, *, default=_NO_DEFAULT):
    """Complete exactly one of `cases`; return (index, value). See the module doc."""
    cases = tuple(cases)
    if not cases:
        raise ValueError("select() needs at least one case")
    for case in cases:
        if type(case) is not _Case:
            raise TypeError(
                "select() cases must be made by fastchan.recv() or fastchan.send(), "
                f"not {type(case).__name__} {case!r}"
            )
    return _core._select(cases, timeout, default is not _NO_DEFAULT, None if default is _NO_DEFAULT else default)
