"""What fastchan.Queue and fastchan.asyncio.Queue share: construction from
maxsize with the class's ordering, repr and generic alias."""

import types

from . import _core


class QueueBase(_core._QueueCore):
    _kind = _core.FIFO  # FIFO, LIFO or PRIORITY, set by each class

    def __init__(self, maxsize=0):
        super().__init__(maxsize, self._kind)

    def __repr__(self):
        cls = type(self)
        return f"<{cls.__module__}.{cls.__qualname__} maxsize={self.maxsize} qsize={self.qsize()}>"

    __class_getitem__ = classmethod(types.GenericAlias)
