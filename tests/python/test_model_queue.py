"""fastchan's thread queues against the stdlib queue module as the model.

Hypothesis drives a fastchan queue and a stdlib queue with the same random
sequence of non-blocking operations and compares every result, exception
kind and count. fastchan promises Python 3.13's semantics (shutdown()
included) on every Python, so before 3.13 the model is the stdlib class
with 3.13's shutdown() added on top. fastchan is stricter than the stdlib
about bad input, so only valid input is used.
"""

import array
import queue
import re

import hypothesis.strategies as st
from hypothesis import Phase, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import fastchan

# Bounded so that each machine runs in seconds; no example database, so a
# run leaves no files behind; no explain phase, which can take minutes to
# annotate a failing run of a state machine.
SETTINGS = settings(max_examples=100, stateful_step_count=40, deadline=None, database=None,
                    phases=[phase for phase in Phase if phase is not Phase.explain])

if hasattr(queue.Queue, "shutdown"):  # Python 3.13+: the stdlib's own
    ModelShutDown = queue.ShutDown
    MODELS = {fastchan.Queue: queue.Queue, fastchan.LifoQueue: queue.LifoQueue,
              fastchan.PriorityQueue: queue.PriorityQueue}
else:

    class ModelShutDown(Exception):
        """queue.ShutDown of Python 3.13."""

    class _Shutdown:
        """Python 3.13's shutdown() on a stdlib queue of 3.10-3.12, as
        3.13's queue.py does it. The model is used by one thread that never
        waits, so there is nobody to wake."""

        is_shutdown = False

        def put(self, item, block=True, timeout=None):
            if self.is_shutdown:
                raise ModelShutDown
            super().put(item, block, timeout)

        def get(self, block=True, timeout=None):
            if self.is_shutdown and not self.qsize():
                raise ModelShutDown
            return super().get(block, timeout)

        def shutdown(self, immediate=False):
            with self.mutex:
                self.is_shutdown = True
                if immediate:  # drop what is left, each item counted as done
                    while self._qsize():
                        self._get()
                        if self.unfinished_tasks > 0:
                            self.unfinished_tasks -= 1

    MODELS = {real: type(f"Model{model.__name__}", (_Shutdown, model), {})
              for real, model in [(fastchan.Queue, queue.Queue), (fastchan.LifoQueue, queue.LifoQueue),
                                  (fastchan.PriorityQueue, queue.PriorityQueue)]}

# Exception kinds: (kind, the model's classes, the class fastchan must raise).
KINDS = [
    ("Empty", queue.Empty, fastchan.Empty),
    ("Full", queue.Full, fastchan.Full),
    ("ShutDown", (ModelShutDown, fastchan.ShutDown), fastchan.ShutDown),
    ("ValueError", ValueError, ValueError),
]

# Every item fits an int64, so typed and object queues take the same ones.
INTS = st.integers(min_value=-2**63, max_value=2**63 - 1)
BATCHES = st.lists(INTS, max_size=5)
# put/get calls that never wait: (method, keyword arguments).
PUTS = [("put_nowait", {}), ("put", {"block": False}), ("put", {"block": False, "timeout": 5}),
        ("put", {"timeout": 0})]
GETS = [("get_nowait", {}), ("get", {"block": False}), ("get", {"block": False, "timeout": 5}),
        ("get", {"timeout": 0})]
BATCH_WAITS = [{"block": False}, {"timeout": 0}]


def kind_of(error, fastchan_side):
    """The kind of `error`; fastchan's must be fastchan's own classes."""
    for kind, model_classes, real_class in KINDS:
        if isinstance(error, real_class if fastchan_side else model_classes):
            return kind
    raise error  # not a kind the model knows: a failure in its own right


def outcome(call, *args, fastchan_side=False, **kwargs):
    """("ok", result) or ("raised", kind) of call(*args, **kwargs)."""
    try:
        return "ok", call(*args, **kwargs)
    except Exception as error:
        return "raised", kind_of(error, fastchan_side)


def model_put_many(model, items, **how):
    """put_many as the single puts it stands for: ("ok", None), or
    ("raised", kind, how many items were put before)."""
    for count, item in enumerate(items):
        try:
            model.put(item, **how)
        except Exception as error:
            return "raised", kind_of(error, False), count
    return "ok", None


def model_get_many(model, max_items, **how):
    """get_many as single gets: the first as get() would take it, then
    whatever else is there, up to max_items."""
    items = [model.get(**how)]
    while len(items) < max_items and model.qsize():
        items.append(model.get_nowait())
    return items


class ComparedQueues(RuleBasedStateMachine):
    """Rules that every fastchan queue shares with its stdlib model.
    A subclass's initialize sets self.real, self.model and self.typed."""

    def item(self, n):
        return n

    @rule(n=INTS, call=st.sampled_from(PUTS))
    def put(self, n, call):
        name, how = call
        item = self.item(n)
        expected = outcome(getattr(self.model, name), item, **how)
        assert outcome(getattr(self.real, name), item, fastchan_side=True, **how) == expected

    @rule(call=st.sampled_from(GETS))
    def get(self, call):
        name, how = call
        expected = outcome(getattr(self.model, name), **how)
        assert outcome(getattr(self.real, name), fastchan_side=True, **how) == expected

    @rule(ns=BATCHES, how=st.sampled_from(BATCH_WAITS))
    def put_many(self, ns, how):
        items = [self.item(n) for n in ns]
        expected = model_put_many(self.model, items, **how)
        try:
            self.real.put_many(items, **how)
            actual = "ok", None
        except Exception as error:
            # The message says how far the batch got: "(2 items were put)".
            put = re.search(r"\((\d+) items were put\)", str(error))
            actual = "raised", kind_of(error, True), put and int(put.group(1))
        assert actual == expected

    @rule(max_items=st.integers(1, 5), how=st.sampled_from(BATCH_WAITS), as_array=st.booleans())
    def get_many(self, max_items, how, as_array):
        as_array = as_array and self.typed  # an array needs a dtype
        expected = outcome(model_get_many, self.model, max_items, **how)
        actual = outcome(self.real.get_many, max_items, as_array=as_array, fastchan_side=True, **how)
        if as_array and actual[0] == "ok":
            assert type(actual[1]) is array.array and actual[1].typecode == "q"
            actual = "ok", list(actual[1])
        assert actual == expected

    @invariant()
    def sizes_agree(self):
        assert self.real.qsize() == self.model.qsize()
        assert self.real.empty() == self.model.empty()


class QueueMachine(ComparedQueues):
    """A fastchan.Queue, LifoQueue or PriorityQueue (real_class), of objects
    or int64, bounded or not, against its stdlib class."""

    real_class = None  # set by each subclass

    @initialize(maxsize=st.sampled_from([0, 1, 3]), dtype=st.sampled_from([None, "int64"]))
    def make(self, maxsize, dtype):
        self.real = self.real_class(maxsize, dtype=dtype)
        self.model = MODELS[self.real_class](maxsize)
        self.typed = dtype is not None
        # Object priority queues get (priority, serial) pairs: unique, so
        # the order is total and heapq's tie-breaking never matters.
        self.serial = 0 if self.real_class is fastchan.PriorityQueue and not self.typed else None

    def item(self, n):
        if self.serial is None:
            return n
        self.serial += 1
        return (n % 4, self.serial)

    @rule()
    def task_done(self):
        expected = outcome(self.model.task_done)
        assert outcome(self.real.task_done, fastchan_side=True) == expected

    @rule(immediate=st.booleans())
    def shutdown(self, immediate):
        self.model.shutdown(immediate=immediate)
        self.real.shutdown(immediate=immediate)

    @invariant()
    def state_agrees(self):
        assert self.real.full() == self.model.full()
        assert self.real.unfinished_tasks == self.model.unfinished_tasks
        assert self.real.is_shutdown == self.model.is_shutdown
        assert self.real.maxsize == self.model.maxsize


class ModelSimpleQueue(queue.SimpleQueue):
    """queue.SimpleQueue, except that get(timeout=0) asks get(block=False),
    which is the same: CPython 3.10's get(timeout=0) on an empty queue can
    wait forever (seen on 3.10.13 in a thread; 3.11+ do not)."""

    def get(self, block=True, timeout=None):
        if timeout == 0:
            block = False
        return super().get(block, timeout)

    def get_nowait(self):
        return self.get(False)


@SETTINGS
class SimpleQueueMachine(ComparedQueues):
    """fastchan.SimpleQueue (unbounded, objects only, no task accounting
    and no shutdown) against queue.SimpleQueue."""

    @initialize()
    def make(self):
        self.real = fastchan.SimpleQueue()
        self.model = ModelSimpleQueue()
        self.typed = False

    @rule(n=INTS)
    def put_blocking(self, n):
        # SimpleQueue.put never blocks, whatever block and timeout say.
        self.model.put(n)
        assert self.real.put(n) is None


def test_simple_queue_is_the_stdlib_interface_plus_batches():
    def public(cls):
        return {name for name in dir(cls) if not name.startswith("_")}

    assert public(fastchan.SimpleQueue) == public(queue.SimpleQueue) | {"put_many", "get_many", "dtype"}


# One test per class, so that each gets the whole budget of examples.
@SETTINGS
class FifoMachine(QueueMachine):
    real_class = fastchan.Queue


@SETTINGS
class LifoMachine(QueueMachine):
    real_class = fastchan.LifoQueue


@SETTINGS
class PriorityMachine(QueueMachine):
    real_class = fastchan.PriorityQueue


TestQueue = FifoMachine.TestCase
TestLifoQueue = LifoMachine.TestCase
TestPriorityQueue = PriorityMachine.TestCase
TestSimpleQueue = SimpleQueueMachine.TestCase
