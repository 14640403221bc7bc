"""fastchan.Channel against a model of Go's channel semantics.

Hypothesis drives two channels (each a rendezvous, buffered or unbounded,
of objects or int64) and their models with the same random sequence of
operations that never wait, select with a default included, and compares
every result and exception. One thread runs the machine, so no other party
ever waits on a channel: a rendezvous never has a ready send or receive
until it is closed.
"""

import array
import collections
import re

import hypothesis.strategies as st
from hypothesis import Phase, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import fastchan

# Bounded so that the machine runs in seconds; no example database, so a
# run leaves no files behind; no explain phase, which can take minutes to
# annotate a failing run of a state machine.
SETTINGS = settings(max_examples=250, stateful_step_count=40, deadline=None, database=None,
                    phases=[phase for phase in Phase if phase is not Phase.explain])

CHANNELS = st.tuples(st.sampled_from([0, 1, 3, None]), st.sampled_from([None, "int64"]))
WHICH = st.sampled_from([0, 1])  # which of the machine's two channels
# Every item fits an int64, so typed and object channels take the same ones.
INTS = st.integers(min_value=-2**63, max_value=2**63 - 1)
# A select case: ("recv", channel) or ("send", channel, item).
CASES = st.lists(st.one_of(st.tuples(st.just("recv"), WHICH), st.tuples(st.just("send"), WHICH, INTS)),
                 min_size=1, max_size=3)
DEFAULT = object()  # select's default, told apart from any item


class GoChannel:
    """A Go channel used by one goroutine: a buffer of `capacity` items
    (None: unbounded) and a closed flag. Operations raise what fastchan
    documents for its non-blocking forms."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.items = collections.deque()
        self.closed = False

    def has_room(self):
        return self.capacity is None or len(self.items) < self.capacity

    def try_send(self, item, would_wait=fastchan.Full):
        if self.closed:  # even when full: Go's send on a closed channel panics
            raise fastchan.ChannelClosed
        if not self.has_room():
            raise would_wait
        self.items.append(item)

    def try_recv(self, would_wait=fastchan.Empty):
        if self.items:  # a closed channel is drained first
            return self.items.popleft()
        if self.closed:
            raise fastchan.ChannelClosed
        raise would_wait

    def close(self):
        first, self.closed = not self.closed, True
        return first

    def put_many(self, items):
        """put_many(items, timeout=0): each item as send() would; the error
        says how many items were sent before."""
        for sent, item in enumerate(items):
            try:
                self.try_send(item, would_wait=TimeoutError)
            except (fastchan.ChannelClosed, TimeoutError) as error:
                raise type(error)(f"({sent} items were sent)") from None

    def get_many(self, max_items):
        """get_many(max_items, timeout=0): the first item as recv() would
        take it, then whatever else is buffered, up to max_items."""
        items = [self.try_recv(would_wait=TimeoutError)]
        while len(items) < max_items and self.items:
            items.append(self.items.popleft())
        return items


def outcome(call, *args, **kwargs):
    """("ok", result) or the exception's class and, for a batch, how many
    items its message says were sent."""
    try:
        return "ok", call(*args, **kwargs)
    except (fastchan.Full, fastchan.Empty, fastchan.ChannelClosed, TimeoutError) as error:
        sent = re.search(r"\((\d+) items were sent\)", str(error))
        return type(error), sent and int(sent.group(1))


@SETTINGS
class ChannelMachine(RuleBasedStateMachine):
    """Two channels and their models."""

    @initialize(first=CHANNELS, second=CHANNELS)
    def make(self, first, second):
        self.real = [fastchan.Channel(capacity, dtype=dtype) for capacity, dtype in (first, second)]
        self.model = [GoChannel(capacity) for capacity, _ in (first, second)]

    @rule(i=WHICH, item=INTS, timed=st.booleans())
    def send(self, i, item, timed):
        # try_send raises Full where send(timeout=0) raises TimeoutError.
        if timed:
            expected = outcome(self.model[i].try_send, item, would_wait=TimeoutError)
            assert outcome(self.real[i].send, item, timeout=0) == expected
        else:
            expected = outcome(self.model[i].try_send, item)
            assert outcome(self.real[i].try_send, item) == expected

    @rule(i=WHICH, timed=st.booleans())
    def recv(self, i, timed):
        if timed:
            expected = outcome(self.model[i].try_recv, would_wait=TimeoutError)
            assert outcome(self.real[i].recv, timeout=0) == expected
        else:
            expected = outcome(self.model[i].try_recv)
            assert outcome(self.real[i].try_recv) == expected

    @rule(i=WHICH)
    def close(self, i):
        assert self.real[i].close() == self.model[i].close()

    @rule(i=WHICH, items=st.lists(INTS, max_size=5))
    def put_many(self, i, items):
        expected = outcome(self.model[i].put_many, items)
        assert outcome(self.real[i].put_many, items, timeout=0) == expected

    @rule(i=WHICH, max_items=st.integers(1, 5), as_array=st.booleans())
    def get_many(self, i, max_items, as_array):
        as_array = as_array and self.real[i].dtype == "int64"  # an array needs a dtype
        expected = outcome(self.model[i].get_many, max_items)
        actual = outcome(self.real[i].get_many, max_items, timeout=0, as_array=as_array)
        if as_array and actual[0] == "ok":
            assert type(actual[1]) is array.array and actual[1].typecode == "q"
            actual = "ok", list(actual[1])
        assert actual == expected

    @rule(cases=CASES)
    def select(self, cases):
        real_cases = [fastchan.recv(self.real[case[1]]) if case[0] == "recv"
                      else fastchan.send(self.real[case[1]], case[2]) for case in cases]
        result = outcome(fastchan.select, real_cases, default=DEFAULT)

        # What each case would do now: a send on a closed channel raises.
        def ready(case):
            channel = self.model[case[1]]
            if case[0] == "recv":
                return bool(channel.items) or channel.closed
            return channel.has_room() and not channel.closed

        raises = any(case[0] == "send" and self.model[case[1]].closed for case in cases)
        if result[0] is fastchan.ChannelClosed:
            # Go picks among the cases that can proceed: this time the send
            # on a closed channel, which changed nothing.
            assert raises, f"ChannelClosed though no send case is on a closed channel: {cases}"
            return
        assert result[0] == "ok", f"select({cases}) raised {result}"
        index, value = result[1]
        if index is None:
            assert value is DEFAULT
            assert not raises and not any(ready(case) for case in cases), f"select({cases}) took the default"
            return
        case = cases[index]
        assert ready(case), f"select({cases}) fired case {index}, which was not ready"
        channel = self.model[case[1]]
        if case[0] == "send":
            assert value is None
            channel.items.append(case[2])
        elif channel.items:
            assert value == channel.items.popleft()
        else:  # closed and drained
            assert value is fastchan.CLOSED

    @invariant()
    def state_agrees(self):
        for real, model in zip(self.real, self.model):
            assert len(real) == len(model.items)
            assert real.closed == model.closed
            assert real.capacity == model.capacity


TestChannel = ChannelMachine.TestCase
