"""fastchan.select across threads: exactly one case fires, fairly; CLOSED,
timeouts and the default form; every item exactly once under contention;
bad input."""

import collections
import copy
import pickle
import threading
import time

import pytest

import fastchan
from fastchan import recv, select, send

TIMEOUT = 30


def start(fn, *args):
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t


def test_fires_the_ready_case_with_its_value():
    a, b = fastchan.Channel(), fastchan.Channel(2)
    b.send("item")
    assert select([recv(a), recv(b)]) == (1, "item")


def test_waits_for_a_later_send():
    a, b = fastchan.Channel(), fastchan.Channel()
    threading.Timer(0.05, a.send, args=("late",)).start()
    assert select([recv(b), recv(a)], timeout=TIMEOUT) == (1, "late")


def test_a_send_case_delivers_only_if_it_fires():
    a, b = fastchan.Channel(1), fastchan.Channel(1)
    b.send("full")  # b has no room: only the send on a can fire
    assert select([send(b, "never"), send(a, "sent")]) == (1, None)
    assert a.recv() == "sent"
    assert b.recv() == "full"
    with pytest.raises(fastchan.Empty):
        b.try_recv()  # "never" was not sent


def test_a_rendezvous_send_case_meets_a_receiver():
    ch = fastchan.Channel()
    got = []
    t = start(lambda: got.append(ch.recv(timeout=TIMEOUT)))
    assert select([send(ch, 42)], timeout=TIMEOUT) == (0, None)
    t.join(TIMEOUT)
    assert got == [42]


def test_closed_channels():
    a = fastchan.Channel(2)
    a.send(1)
    a.close()
    assert select([recv(a)]) == (0, 1)  # drains first
    index, value = select([recv(a)])
    assert index == 0 and value is fastchan.CLOSED
    with pytest.raises(fastchan.ChannelClosed, match="send on a closed channel"):
        select([send(a, 2)])


def test_closed_names_itself_and_stays_itself():
    assert repr(fastchan.CLOSED) == "fastchan.CLOSED"
    assert pickle.loads(pickle.dumps(fastchan.CLOSED)) is fastchan.CLOSED
    assert copy.copy(fastchan.CLOSED) is copy.deepcopy(fastchan.CLOSED) is fastchan.CLOSED


def test_close_wakes_a_waiting_select():
    a, b = fastchan.Channel(), fastchan.Channel()
    threading.Timer(0.05, b.close).start()
    index, value = select([recv(a), recv(b)], timeout=TIMEOUT)
    assert (index, value) == (1, fastchan.CLOSED)


def test_timeout_and_default():
    a = fastchan.Channel()
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="select timed out"):
        select([recv(a)], timeout=0.05)
    assert time.monotonic() - started >= 0.05
    assert select([recv(a), send(a, 1)], default="nothing") == (None, "nothing")
    assert select([recv(a)], default=None) == (None, None)


def test_a_select_does_not_match_itself():
    ch = fastchan.Channel()
    with pytest.raises(TimeoutError):
        select([send(ch, 1), recv(ch)], timeout=0.05)


def test_a_choice_among_ready_cases_is_fair():
    a, b = fastchan.Channel(None), fastchan.Channel(None)
    for i in range(2000):
        a.send(i)
        b.send(i)
    counts = collections.Counter(select([recv(a), recv(b)])[0] for _ in range(2000))
    assert counts[0] > 850 and counts[1] > 850, counts  # binomial(2000, 1/2): > 6 sigma


@pytest.mark.parametrize("capacities", [(0, 0), (0, 4), (1, None)], ids=["rendezvous", "mixed", "buffered"])
def test_every_item_exactly_once_under_contention(capacities):
    a, b = (fastchan.Channel(c) for c in capacities)
    producers, consumers, per_producer = 3, 3, 2000
    received = collections.Counter()
    lock = threading.Lock()

    def produce(p):
        for i in range(per_producer):
            item = (p, i)
            if i % 3 == 0:
                a.send(item)  # plain sends race with the selects
            else:
                select([send(a, item), send(b, item)])

    def consume(c):
        mine = collections.Counter()
        open_channels = [a, b]
        while open_channels:
            if c == 0 and a in open_channels:  # a plain receiver among the selects
                try:
                    mine[a.recv(timeout=0.01)] += 1
                except TimeoutError:
                    pass
                except fastchan.ChannelClosed:
                    open_channels.remove(a)
                continue
            index, value = select([recv(ch) for ch in open_channels])
            if value is fastchan.CLOSED:
                open_channels.pop(index)
            else:
                mine[value] += 1
        with lock:
            received.update(mine)

    cs = [start(consume, c) for c in range(consumers)]
    ps = [start(produce, p) for p in range(producers)]
    for t in ps:
        t.join(TIMEOUT)
    a.close()
    b.close()
    for t in cs:
        t.join(TIMEOUT)
    expected = collections.Counter((p, i) for p in range(producers) for i in range(per_producer))
    assert received == expected


@pytest.mark.parametrize(
    "args, kwargs, error, text",
    [
        (([],), {}, ValueError, "needs at least one case"),
        (([5],), {}, TypeError, "made by fastchan.recv.. or fastchan.send.., not int 5"),
        (([fastchan.Channel()],), {}, TypeError, "not Channel"),
        (([None],), {"timeout": 1}, TypeError, "not NoneType None"),
    ],
)
def test_bad_cases_are_named(args, kwargs, error, text):
    with pytest.raises(error, match=text):
        select(*args, **kwargs)


def test_bad_case_arguments_and_timeouts():
    with pytest.raises(TypeError, match="needs a fastchan.Channel, not list"):
        recv([])
    with pytest.raises(TypeError, match="needs a fastchan.Channel, not str 'ch'"):
        send("ch", 1)
    ch = fastchan.Channel(1)
    ch.send("kept")
    with pytest.raises(ValueError, match="-1"):
        select([recv(ch)], timeout=-1)
    with pytest.raises(TypeError, match="timeout"):
        select([recv(ch)], timeout="1s")
    assert ch.recv() == "kept"  # bad input leaves the channel intact
