"""What fastchan's classes share: queues' construction from maxsize (and an
optional dtype) with the class's ordering, repr and generic alias; and the
refusal of instances whose __init__ never ran."""

from __future__ import annotations

import types

from . import _core
from ._typing import TYPE_CHECKING, Generic, T

if TYPE_CHECKING:
    from typing import Any, ClassVar


class QueueBase(_core._QueueCore, Generic[T]):
    """The native queue with its ordering (the class's _kind), janus's
    closing API and a repr."""

    _kind: ClassVar[int] = _core.FIFO  # FIFO, LIFO or PRIORITY, set by each class

    def __init__(self, maxsize: int = 0, dtype: str | None = None) -> None:
        super().__init__(maxsize, self._kind, dtype)

    def __repr__(self) -> str:
        cls = type(self)
        dtype = "" if self.dtype is None else f" dtype={self.dtype}"
        return f"<{cls.__module__}.{cls.__qualname__} maxsize={self.maxsize}{dtype} qsize={self.qsize()}>"

    def __class_getitem__(cls, item: Any) -> types.GenericAlias:
        return types.GenericAlias(cls, item)

    # janus's closing API, with janus's meaning (sync_q and async_q are views
    # of one queue, so closing either closes both).
    def close(self) -> None:
        """Shut the queue down at once: shutdown(immediate=True)."""
        self.shutdown(immediate=True)

    @property
    def closed(self) -> bool:
        """True once the queue is shut down (by close() or shutdown())."""
        return self.is_shutdown

    async def wait_closed(self) -> None:
        """Wait until a closed queue's waiters have been released. Raises
        RuntimeError if the queue was not closed. (Waiters are woken by
        shutdown() itself, so there is nothing left to wait for.)"""
        if not self.is_shutdown:
            raise RuntimeError("Waiting for non-closed queue")

    async def aclose(self) -> None:
        """close(), then wait_closed()."""
        self.close()
        await self.wait_closed()


class NotInitializedError(TypeError, AttributeError):
    """A method of an instance whose __init__ never ran (cls.__new__(cls)).
    A TypeError, as for fastchan's native classes; an AttributeError too, so
    hasattr() still answers False."""


class Initialized:
    """Mixin for fastchan's Python classes: an instance whose __init__ never
    ran raises NotInitializedError naming its class, instead of an
    AttributeError, when a method reaches for state __init__ sets.
    _INIT_MARK names an attribute __init__ always sets."""

    __slots__ = ()
    _INIT_MARK: ClassVar[str | None] = None

    if not TYPE_CHECKING:  # (type checkers would let any attribute through)

        def __getattr__(self, name: str) -> Any:  # (only called when the normal lookup failed)
            try:
                object.__getattribute__(self, self._INIT_MARK)
            except AttributeError:
                raise NotInitializedError(
                    f"{type(self).__name__} object is not initialized (__init__ was not called)") from None
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self)


# array.array typecodes of the dtypes get_many(as_array=True) serves, from
# the native dtype list (FASTCHAN_DTYPES in fastchan/dtypes.hpp).
TYPECODES = dict(_core.ARRAY_TYPECODES)


def _choices(names: dict[str, str]) -> str:
    quoted = [f"'{name}'" for name in names]
    return f"{', '.join(quoted[:-1])} or {quoted[-1]}" if len(quoted) > 1 else "".join(quoted)


if TYPE_CHECKING:
    from typing import Protocol

    class _HasDtype(Protocol):
        @property
        def dtype(self) -> str | None: ...


def check_as_array(channel_or_queue: _HasDtype) -> None:
    """ValueError (before anything is taken) unless as_array can serve its dtype."""
    if channel_or_queue.dtype not in TYPECODES:
        dtype = "None (objects)" if channel_or_queue.dtype is None else channel_or_queue.dtype
        raise ValueError(f"as_array=True needs dtype {_choices(TYPECODES)}, not {dtype}")
