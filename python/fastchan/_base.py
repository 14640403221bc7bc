"""What fastchan.Queue and fastchan.asyncio.Queue share: construction from
maxsize (and an optional dtype) with the class's ordering, repr and generic
alias."""

import types

from . import _core


class QueueBase(_core._QueueCore):
    _kind = _core.FIFO  # FIFO, LIFO or PRIORITY, set by each class

    def __init__(self, maxsize=0, dtype=None):
        super().__init__(maxsize, self._kind, dtype)

    def __repr__(self):
        cls = type(self)
        dtype = "" if self.dtype is None else f" dtype={self.dtype}"
        return f"<{cls.__module__}.{cls.__qualname__} maxsize={self.maxsize}{dtype} qsize={self.qsize()}>"

    __class_getitem__ = classmethod(types.GenericAlias)


# array.array typecodes of the dtypes get_many(as_array=True) serves.
TYPECODES = {"int64": "q", "float64": "d"}


def check_as_array(channel_or_queue):
    """ValueError (before anything is taken) unless as_array can serve its dtype."""
    if channel_or_queue.dtype not in TYPECODES:
        dtype = "None (objects)" if channel_or_queue.dtype is None else channel_or_queue.dtype
        raise ValueError(f"as_array=True needs dtype 'int64' or 'float64', not {dtype}")
