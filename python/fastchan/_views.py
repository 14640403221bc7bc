"""sync_q / async_q: two Python objects, one native queue (as janus names them)."""

from . import _core

_OTHER_SIDE = {"sync": "async", "async": "sync"}


def paired(queue, side, cls):
    """The `side` ("sync" or "async") view of `queue`: a `cls` instance on the
    same native queue, created once and linked back to `queue`."""
    attr = f"_{side}_view"
    view = queue.__dict__.get(attr)
    if view is None:
        view = cls.__new__(cls)
        _core._QueueCore.__init__(view, queue)
        queue.__dict__[attr] = view
        view.__dict__[f"_{_OTHER_SIDE[side]}_view"] = queue
    return view
