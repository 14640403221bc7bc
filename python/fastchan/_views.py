"""sync_q / async_q: two Python objects, one native queue (as janus names them).

The classes of each side register here (``register``) when their module
loads: fastchan.queue's for "sync", fastchan.asyncio's for "async". The
package imports both, so either side can make a view of the other without
importing the other's module (the module graph stays a DAG).
"""

from __future__ import annotations

from . import _core
from ._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ._base import QueueBase

_OTHER_SIDE = {"sync": "async", "async": "sync"}
_CLASSES: dict[str, Mapping[int, type[QueueBase[object]]]] = {}


def register(side: str, classes: Mapping[int, type[QueueBase[object]]]) -> None:
    """Record the `side` ("sync" or "async") classes, by native kind."""
    _CLASSES[side] = classes


def paired(queue: QueueBase[object], side: str) -> QueueBase[object]:
    """The `side` ("sync" or "async") view of `queue`: an instance of that
    side's class for queue's kind, on the same native queue, created once
    and linked back to `queue`."""
    attr = f"_{side}_view"
    view: QueueBase[object] | None = queue.__dict__.get(attr)
    if view is None:
        cls = _CLASSES[side][queue._kind]
        view = cls.__new__(cls)
        _core._QueueCore.__init__(view, queue)  # (given a queue, the core shares its native queue)
        queue.__dict__[attr] = view
        view.__dict__[f"_{_OTHER_SIDE[side]}_view"] = queue
    return view
