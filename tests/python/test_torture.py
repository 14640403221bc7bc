"""Torture: every item is received exactly once, or counted as dropped by an
immediate shutdown, with everything hostile happening at once.

For DURATION seconds, plain threads (the blocking API with random timeouts)
and the tasks of several event loops, each loop in its own thread (one of
them uvloop when it is installed; the awaitable API under random timeouts,
asyncio.wait_for, asyncio.timeout and task.cancel() of operations in
flight) produce and consume on one small bounded fastchan.Queue (threads
directly, tasks through its async_q view) and on three fastchan.Channels (a
rendezvous, 4 slots, unbounded): single items, batches, and
fastchan.select / select_async over several channels (with timeouts and
with default=). A thread keeps making reference cycles whose __del__ uses
the queue and the channels, and calls gc.collect(), with low GC thresholds,
so collections run Python code at arbitrary points; the items themselves
are finalized by __del__ or weakref.finalize. Mid-stream the queue is shut
down with immediate=True; at the end the channels are closed, everything is
drained, every thread joined and every loop stopped.

Every item is a unique object, and every received item is kept (so it is
never finalized). The ledger at the end:
  * no item is received twice;
  * an item whose put/send/select reported failure (Full, ShutDown,
    ChannelClosed, TimeoutError, a cancellation; a select's other cases or
    its default) was never received; a batch that failed went in up to the
    count its message gives (checked against what it took from its
    iterator; an awaitable batch cut short by a cancellation or an outer
    timeout has only its iterator to tell);
  * every item a channel accepted is received;
  * every item the queue accepted is received, or was dropped by
    shutdown(immediate=True): it was finalized inside that call, which
    drops the buffered items and releases them before it returns
    (cpp/src/py_queue.hpp, PyQueue::shutdown). (A task still holds the item
    it puts until the put returns, so an item dropped while its producer
    held it is finalized when that producer lets it go; that counts only
    after the shutdown began.)
"""

import asyncio
import collections
import faulthandler
import gc
import io
import itertools
import random
import re
import sys
import sysconfig
import threading
import time
import traceback
import weakref
from collections import deque

import fastchan
from fastchan import CLOSED, ChannelClosed, Empty, Full, ShutDown, recv, select, select_async, send

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is optional
    uvloop = None

DURATION = 24.0  # seconds of traffic; then the channels close and everything drains
SHUTDOWN_AT = (0.55, 0.8)  # the queue's shutdown(immediate=True) comes at this fraction of DURATION
GRACE = 15.0  # after DURATION, how long draining and joining may take before the test fails as stuck
DRAIN_WAIT = 5.0  # a receive on a closed channel never waits: this long means stuck
THREADS = 4
LOOPS = 3
TASKS_PER_LOOP = 5
QUEUE_SIZE = 4
GC_THRESHOLD = (150, 10, 10)

TIMEOUTS = (TimeoutError, asyncio.TimeoutError)  # (distinct classes on 3.10)
HAS_TIMEOUT_CM = sys.version_info >= (3, 11)  # asyncio.timeout()
# Before 3.12, asyncio.wait_for() drops its inner result if the task awaiting
# it is cancelled (an asyncio bug): no task.cancel() of a wait_for() there.
CANCEL_WAIT_FOR = sys.version_info >= (3, 12)
# On a free-threaded build, an object freed by another thread than the one
# that made it is finalized later, on its maker's thread (biased reference
# counting merges the counts there): an item shutdown(immediate=True) drops is then
# finalized after the shutdown returns, by its producer's thread or the
# collector. Such an item still counts as dropped, and all dropped items
# together cannot outnumber what the queue holds (QUEUE_SIZE).
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
WENT_IN = re.compile(r"\((\d+) items were (?:put|sent)\)")  # in a failed batch's message
NOTED_IN = re.compile(r"(\d+) items were (?:put|sent)")  # in a note on its exception (if it adds one)
END = object()  # iter(dq.popleft, END): a batch that hands its items over one by one

_tls = threading.local()  # in_shutdown: inside q.shutdown(immediate=True); releasing: the ids a producer lets go
_run = None  # the Run in progress: finalizers and junk report to it


# Items, noise, junk.


def _finalized(ident):
    run = _run
    if run is not None:
        in_shutdown = getattr(_tls, "in_shutdown", False)
        releasing = ident in getattr(_tls, "releasing", ())
        run.finalized.append((ident, in_shutdown, releasing, run.shutdown_begun))
        if run.shutdown_begun and not in_shutdown and not releasing:
            # Finalized by someone else than the shutdown or its producer: if
            # the ledger then counts it as lost, this says who let it go (a
            # native frame, a uvloop callback, shows only as its caller).
            try:
                task = asyncio.current_task()
            except RuntimeError:  # no loop runs in this thread
                task = None
            run.finalized_where[ident] = (
                f"on thread {threading.current_thread().name}, "
                + (f"in task {task.get_name()}" if task is not None else "in no task") + ":\n"
                + "".join(traceback.format_stack(limit=14)[:-1]))


class Item:
    __slots__ = ("id", "__weakref__")

    def __init__(self, ident):
        self.id = ident

    def __repr__(self):
        return f"Item({self.id})"


class DelItem(Item):
    __slots__ = ()

    def __del__(self):
        _finalized(self.id)


def make_item(ident):
    """A unique item: odd ids report their finalization by __del__, even
    ones by weakref.finalize."""
    if ident & 1:
        return DelItem(ident)
    item = Item(ident)
    weakref.finalize(item, _finalized, ident)
    return item


class Noise:
    """What junk puts: not an item, not counted (consumers drop it)."""

    __slots__ = ()


class Junk:
    """Cyclic garbage: its __del__ runs wherever a collection happens, and
    uses the queue and the channels from there."""

    def __init__(self, n):
        self.me = self
        self.n = n

    def __del__(self):
        run = _run
        if run is not None:
            run.junk_action(self.n)


def release(held):
    """A task lets go of the items it put (it held them until the put
    returned). Flagged: an item that shutdown(immediate=True) dropped while
    its producer still held it is finalized here."""
    _tls.releasing = {item.id for item in held}
    try:
        held.clear()
    finally:
        _tls.releasing = ()


# The ledger.


class Book:
    """One worker's ledger. Received items are kept, never finalized."""

    def __init__(self, who):
        self.who = who
        self.accepted = []  # (id, where, how)
        self.failed = []  # (id, how)
        self.received = []  # (item, where, how)
        self.errors = []
        self.stats = collections.Counter()

    def ok(self, ident, where, how):
        self.accepted.append((ident, where, how))

    def fail(self, ids, how, error=None):
        for ident in ids:
            self.failed.append((ident, how))
        self.stats[f"{how}: {type(error).__name__ if error is not None else 'default'}"] += 1

    def took(self, obj, where, how):
        if isinstance(obj, Item):
            self.received.append((obj, where, how))

    def batch(self, ids, dq, where, how, error=None):
        """A batch handed over as iter(dq.popleft, END): on success all went
        in; after `error`, those before the item it failed on (the count the
        error's message gives, checked against what the batch took)."""
        popped = len(ids) + 1 - len(dq)  # END is popped too, once the batch is through
        if error is None:
            if dq:
                self.errors.append(f"{how} returned with {len(dq)} of its items not taken")
            went = len(ids)
        else:
            went = max(0, popped - 1)  # the last item taken is the one that failed
            for note in notes(error):
                noted = NOTED_IN.search(note)
                if noted is not None and int(noted.group(1)) != went:
                    self.errors.append(
                        f"{how} raised {type(error).__name__}, noting {note!r}, but it took {popped} items "
                        f"from the batch, so {went} went in")
            said = WENT_IN.search(str(error))
            if said is not None:
                if int(said.group(1)) != went:
                    self.errors.append(
                        f"{how} raised {type(error).__name__}({error}): it says {said.group(1)} items went in, "
                        f"but it took {popped} items from the batch, so {went} went in")
                went = int(said.group(1))
        for ident in ids[:went]:
            self.ok(ident, where, how)
        if error is not None:
            self.fail(ids[went:], how, error)


def notes(error):
    """The notes on `error` and on the exceptions it was raised from."""
    found, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        found += getattr(error, "__notes__", ())
        error = error.__cause__ or error.__context__
    return found


class OpCancelled(Exception):
    """The operation's task was cancelled (task.cancel()) before it completed."""


class Run:
    def __init__(self, seed):
        self.seed = seed
        self.q = fastchan.Queue(QUEUE_SIZE)
        self.aq = self.q.async_q
        self.channels = [("c0", fastchan.Channel(0)), ("c4", fastchan.Channel(4)), ("cU", fastchan.Channel(None))]
        self.by_name = dict(self.channels)
        self._ids = itertools.count()
        self.finalized = []  # (id, in_shutdown, releasing, shutdown_begun)
        self.finalized_where = {}  # id -> the stack that finalized it, when neither of those
        self.shutdown_begun = False
        self.junk_active = True
        self.stop = threading.Event()
        self.gc_stop = threading.Event()
        self.books = []
        self.junk_book = self.book("junk __del__")
        self.hard_deadline = None
        self.buffered_at_shutdown = None

    def book(self, who):
        b = Book(who)
        self.books.append(b)
        return b

    def new_id(self):
        return next(self._ids)

    def new_ids(self, n):
        return [next(self._ids) for _ in range(n)]

    def junk_action(self, n):
        """From a junk __del__: non-blocking operations at whatever point the
        collection runs."""
        if not self.junk_active:
            return
        b = self.junk_book
        kind = n % 8
        try:
            if kind == 0:
                self.q.put_nowait(Noise())
            elif kind in (1, 2):
                item = self.q.get_nowait()
                b.took(item, "q", "junk q.get_nowait")
                self.q.task_done()
            elif kind == 3:
                self.by_name["cU"].try_send(Noise())
            elif kind == 4:
                b.took(self.by_name["c4"].try_recv(), "c4", "junk c4.try_recv")
            elif kind == 5:
                index, value = select([recv(ch) for _, ch in self.channels], default=None)
                if index is not None and value is not CLOSED:
                    b.took(value, self.channels[index][0], "junk select")
        except (Full, Empty, ShutDown, ChannelClosed):
            pass
        except BaseException:
            b.errors.append("in a junk __del__:\n" + traceback.format_exc())


def settle_select(book, how, sends, recvs, result=None, error=None):
    """Exactly one case fired (or none: `error`, or the default)."""
    if error is not None:
        book.fail([ident for ident, _ in sends.values()], how, error)
        return
    index, value = result
    for j, (ident, name) in sends.items():
        if j == index:
            book.ok(ident, name, how)
        else:
            book.failed.append((ident, how))
    if index is None:
        book.stats[f"{how}: default"] += 1
    elif index in recvs:
        if value is CLOSED:
            book.stats[f"{how}: CLOSED"] += 1
        else:
            book.took(value, recvs[index], how)


def select_cases(run, rng):
    """1 to 3 cases on random channels (a channel may come twice), each a
    recv or a send of a fresh item."""
    cases, sends, recvs = [], {}, {}
    for j in range(rng.randint(1, 3)):
        name, ch = rng.choice(run.channels)
        if rng.random() < 0.5:
            ident = run.new_id()
            cases.append(send(ch, make_item(ident)))
            sends[j] = (ident, name)
        else:
            cases.append(recv(ch))
            recvs[j] = name
    return cases, sends, recvs


# Plain threads: the blocking API.


class ThreadWorker:
    def __init__(self, run, book, rng):
        self.run, self.book, self.rng = run, book, rng
        self.ops = ([self.q_put] * 3 + [self.q_put_many] + [self.q_get] * 3 + [self.q_get_many]
                    + [self.ch_send] * 3 + [self.ch_put_many] + [self.ch_recv] * 3 + [self.ch_get_many]
                    + [self.sel] * 3)

    def timeout(self):
        if self.rng.random() < 0.02:
            return None  # waits until an item, a slot, the shutdown or the close
        return self.rng.choice((0, 0.0001, 0.001, 0.002, 0.005, 0.02))

    def main(self):
        while not self.run.stop.is_set():
            self.rng.choice(self.ops)()
        self.drain()

    # Items go in as call arguments only: once the call returns, the queue
    # holds the only reference (nothing between can run Python code on a
    # plain thread), so a drop by shutdown(immediate=True) finalizes them
    # inside that call.

    def q_put(self):
        q, rng, i = self.run.q, self.rng, self.run.new_id()
        r = rng.random()
        how = "thread q.put_nowait" if r < 0.3 else "thread q.put"
        try:
            if r < 0.3:
                q.put_nowait(make_item(i))
            elif r < 0.4:
                q.put(make_item(i), False)
            else:
                q.put(make_item(i), timeout=self.timeout())
        except (Full, ShutDown) as e:
            self.book.fail([i], how, e)
        else:
            self.book.ok(i, "q", how)

    def q_put_many(self):
        q, rng = self.run.q, self.rng
        ids = self.run.new_ids(rng.randint(1, 6))
        dq = deque(map(make_item, ids))
        dq.append(END)
        how = "thread q.put_many"
        try:
            q.put_many(iter(dq.popleft, END), rng.random() < 0.85, self.timeout())
        except (Full, ShutDown) as e:
            self.book.batch(ids, dq, "q", how, e)
        else:
            self.book.batch(ids, dq, "q", how)

    def q_get(self):
        q, r = self.run.q, self.rng.random()
        try:
            if r < 0.3:
                item = q.get_nowait()
            elif r < 0.4:
                item = q.get(False)
            else:
                item = q.get(timeout=self.timeout())
        except (Empty, ShutDown):
            return
        self.book.took(item, "q", "thread q.get")
        q.task_done()

    def q_get_many(self):
        q, rng = self.run.q, self.rng
        try:
            items = q.get_many(rng.randint(1, 8), rng.random() < 0.85, self.timeout())
        except (Empty, ShutDown):
            return
        for item in items:
            self.book.took(item, "q", "thread q.get_many")
            q.task_done()

    def ch_send(self):
        name, ch = self.rng.choice(self.run.channels)
        i = self.run.new_id()
        r = self.rng.random()
        how = "thread try_send" if r < 0.25 else "thread send"
        try:
            if r < 0.25:
                ch.try_send(make_item(i))
            else:
                ch.send(make_item(i), timeout=self.timeout())
        except (Full, TimeoutError, ChannelClosed) as e:
            self.book.fail([i], how, e)
        else:
            self.book.ok(i, name, how)

    def ch_put_many(self):
        name, ch = self.rng.choice(self.run.channels)
        ids = self.run.new_ids(self.rng.randint(1, 6))
        dq = deque(map(make_item, ids))
        dq.append(END)
        how = "thread put_many"
        try:
            ch.put_many(iter(dq.popleft, END), timeout=self.timeout())
        except (TimeoutError, ChannelClosed) as e:
            self.book.batch(ids, dq, name, how, e)
        else:
            self.book.batch(ids, dq, name, how)

    def ch_recv(self):
        name, ch = self.rng.choice(self.run.channels)
        try:
            if self.rng.random() < 0.25:
                item = ch.try_recv()
            else:
                item = ch.recv(timeout=self.timeout())
        except (Empty, TimeoutError, ChannelClosed):
            return
        self.book.took(item, name, "thread recv")

    def ch_get_many(self):
        name, ch = self.rng.choice(self.run.channels)
        try:
            items = ch.get_many(self.rng.randint(1, 8), timeout=self.timeout())
        except (TimeoutError, ChannelClosed):
            return
        for item in items:
            self.book.took(item, name, "thread get_many")

    def sel(self):
        cases, sends, recvs = select_cases(self.run, self.rng)
        default = self.rng.random() < 0.3
        how = "thread select default" if default else "thread select"
        try:
            result = select(cases, default=None) if default else select(cases, timeout=self.timeout())
        except (TimeoutError, ChannelClosed) as e:
            settle_select(self.book, how, sends, recvs, error=e)
        else:
            settle_select(self.book, how, sends, recvs, result)

    def drain(self):
        """The channels are closed: receive until each says so."""
        rng = self.rng
        for name, ch in rng.sample(self.run.channels, len(self.run.channels)):
            if rng.random() < 0.5:
                for item in ch:  # Go's range
                    self.book.took(item, name, "thread drain")
            else:
                while True:
                    try:
                        items = ch.get_many(rng.randint(1, 8), timeout=DRAIN_WAIT)
                    except ChannelClosed:
                        break
                    for item in items:
                        self.book.took(item, name, "thread drain")
        while True:
            try:
                item = self.run.q.get(timeout=DRAIN_WAIT)
            except ShutDown:
                break
            self.book.took(item, "q", "thread drain")
            self.run.q.task_done()


# Tasks: the awaitable API, on several loops at once.


async def _invoke(make, timeout):
    return await make(timeout)


async def _invoke_wait_for(make, timeout, outer):
    return await asyncio.wait_for(make(timeout), outer)


class TaskWorker:
    def __init__(self, run, book, rng):
        self.run, self.book, self.rng = run, book, rng
        self.ops = ([self.q_put] * 3 + [self.q_put_many] + [self.q_get] * 3 + [self.q_get_many]
                    + [self.ch_send] * 3 + [self.ch_put_many] + [self.ch_recv] * 3 + [self.ch_get_many]
                    + [self.sel] * 3)

    def timeout(self):
        return self.rng.choice((0, 0.0001, 0.0005, 0.001, 0.003, 0.01, 0.03))

    async def op(self, make, own_timeout=True):
        """Awaits make(timeout) under a random regime: its own timeout (if it
        has one), none, asyncio.wait_for, asyncio.timeout, or in a task of
        its own that is cancelled after a random delay (OpCancelled if the
        cancellation won). Returns its result or raises what it raised."""
        rng = self.rng
        regime = rng.choices(("own", "none", "wait_for", "timeout", "cancel"),
                             (4 if own_timeout else 0, 1, 3, 3 if HAS_TIMEOUT_CM else 0, 4))[0]
        if regime == "own":
            return await make(self.timeout())
        if regime == "none":
            return await make(None)  # waits as long as it takes: until the shutdown or the close at worst
        if regime == "wait_for":
            return await asyncio.wait_for(make(None), self.timeout())
        if regime == "timeout":
            async with asyncio.timeout(self.timeout()):
                return await make(None)
        own = self.timeout() if own_timeout and rng.random() < 0.5 else None
        if CANCEL_WAIT_FOR and rng.random() < 0.3:
            task = asyncio.ensure_future(_invoke_wait_for(make, own, self.timeout()))
        else:
            task = asyncio.ensure_future(_invoke(make, own))
        delay = rng.choice((None, 0, 0, 0.0001, 0.001, 0.005))
        if delay is not None:  # (None: cancelled before it ever runs)
            await asyncio.sleep(delay)
        task.cancel()
        await asyncio.wait([task])
        if task.cancelled():
            try:
                task.result()
            except asyncio.CancelledError as error:  # (its context: what the operation raised)
                raise OpCancelled from error
        return task.result()

    async def main(self):
        while not self.run.stop.is_set():
            await self.rng.choice(self.ops)()
            if self.rng.random() < 0.2:
                await asyncio.sleep(0)
        await self.drain()

    # A task holds the items it puts until the put returns (the awaitable,
    # its frames and a wake-up of this loop's waiters may hold them too),
    # then lets them go with release().

    async def q_put(self):
        run, rng = self.run, self.rng
        i = run.new_id()
        held = [make_item(i)]
        nowait = rng.random() < 0.2
        how = "task q.put_nowait" if nowait else "task aq.put"
        try:
            if nowait:
                run.q.put_nowait(held[0])
            else:
                await self.op(lambda _: run.aq.put(held[0]), own_timeout=False)
        except (Full, ShutDown, OpCancelled, *TIMEOUTS) as e:
            self.book.fail([i], how, e)
        else:
            self.book.ok(i, "q", how)
        finally:
            release(held)

    async def q_put_many(self):
        run = self.run
        ids = run.new_ids(self.rng.randint(1, 6))
        dq = deque(map(make_item, ids))
        held = list(dq)
        dq.append(END)
        how = "task aq.put_many"
        try:
            await self.op(lambda _: run.aq.put_many(iter(dq.popleft, END)), own_timeout=False)
        except (ShutDown, OpCancelled, *TIMEOUTS) as e:
            self.book.batch(ids, dq, "q", how, e)
        else:
            self.book.batch(ids, dq, "q", how)
        finally:
            release(held)

    async def q_get(self):
        run = self.run
        try:
            if self.rng.random() < 0.2:
                item = run.q.get_nowait()
            else:
                item = await self.op(lambda _: run.aq.get(), own_timeout=False)
        except (Empty, ShutDown, OpCancelled, *TIMEOUTS):
            return
        self.book.took(item, "q", "task aq.get")
        run.q.task_done()

    async def q_get_many(self):
        run, n = self.run, self.rng.randint(1, 8)
        try:
            items = await self.op(lambda _: run.aq.get_many(n), own_timeout=False)
        except (ShutDown, OpCancelled, *TIMEOUTS):
            return
        for item in items:
            self.book.took(item, "q", "task aq.get_many")
            run.q.task_done()

    async def ch_send(self):
        name, ch = self.rng.choice(self.run.channels)
        i = self.run.new_id()
        held = [make_item(i)]
        nowait = self.rng.random() < 0.2
        how = "task try_send" if nowait else "task asend"
        try:
            if nowait:
                ch.try_send(held[0])
            else:
                await self.op(lambda t: ch.asend(held[0], timeout=t))
        except (Full, ChannelClosed, OpCancelled, *TIMEOUTS) as e:
            self.book.fail([i], how, e)
        else:
            self.book.ok(i, name, how)
        finally:
            release(held)

    async def ch_put_many(self):
        name, ch = self.rng.choice(self.run.channels)
        ids = self.run.new_ids(self.rng.randint(1, 6))
        dq = deque(map(make_item, ids))
        held = list(dq)
        dq.append(END)
        how = "task aput_many"
        try:
            await self.op(lambda t: ch.aput_many(iter(dq.popleft, END), timeout=t))
        except (ChannelClosed, OpCancelled, *TIMEOUTS) as e:
            self.book.batch(ids, dq, name, how, e)
        else:
            self.book.batch(ids, dq, name, how)
        finally:
            release(held)

    async def ch_recv(self):
        name, ch = self.rng.choice(self.run.channels)
        try:
            if self.rng.random() < 0.2:
                item = ch.try_recv()
            else:
                item = await self.op(lambda t: ch.arecv(timeout=t))
        except (Empty, ChannelClosed, OpCancelled, *TIMEOUTS):
            return
        self.book.took(item, name, "task arecv")

    async def ch_get_many(self):
        name, ch = self.rng.choice(self.run.channels)
        n = self.rng.randint(1, 8)
        try:
            items = await self.op(lambda t: ch.aget_many(n, timeout=t))
        except (ChannelClosed, OpCancelled, *TIMEOUTS):
            return
        for item in items:
            self.book.took(item, name, "task aget_many")

    async def sel(self):
        cases, sends, recvs = select_cases(self.run, self.rng)
        r = self.rng.random()
        how = "task select default" if r < 0.1 else "task select_async default" if r < 0.3 else "task select_async"
        try:
            if r < 0.1:
                result = select(cases, default=None)  # never waits: fine on a loop
            elif r < 0.3:
                result = await select_async(cases, default=None)
            else:
                result = await self.op(lambda t: select_async(cases, timeout=t))
        except (ChannelClosed, OpCancelled, *TIMEOUTS) as e:
            settle_select(self.book, how, sends, recvs, error=e)
        else:
            settle_select(self.book, how, sends, recvs, result)

    async def drain(self):
        rng = self.rng
        for name, ch in rng.sample(self.run.channels, len(self.run.channels)):
            if rng.random() < 0.5:
                async for item in ch:
                    self.book.took(item, name, "task drain")
            else:
                while True:
                    try:
                        items = await ch.aget_many(rng.randint(1, 8), timeout=DRAIN_WAIT)
                    except ChannelClosed:
                        break
                    for item in items:
                        self.book.took(item, name, "task drain")
        while True:
            try:
                item = await self.run.aq.get()
            except ShutDown:
                break
            self.book.took(item, "q", "task drain")
            self.run.q.task_done()


# Threads, loops, collector.


def thread_main(worker):
    try:
        worker.main()
    except BaseException:
        worker.book.errors.append(traceback.format_exc())


async def task_main(worker):
    try:
        await worker.main()
    except asyncio.CancelledError:
        worker.book.errors.append("cancelled: stuck past the deadline")
        raise
    except BaseException:
        worker.book.errors.append(traceback.format_exc())


async def loop_main(run, workers):
    tasks = [asyncio.ensure_future(task_main(w)) for w in workers]
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, run.hard_deadline - time.monotonic()))
    for task in pending:
        stack = io.StringIO()
        task.print_stack(file=stack)
        run.junk_book.errors.append(f"a task is stuck past the deadline:\n{stack.getvalue()}")
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=2.0)


def loop_thread(run, factory, workers, book):
    try:
        loop = factory()
        try:
            loop.run_until_complete(loop_main(run, workers))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
    except BaseException:
        book.errors.append(traceback.format_exc())


def gc_thread(run, rng):
    try:
        n = 0
        while not run.gc_stop.is_set():
            for _ in range(rng.randint(1, 40)):
                n += 1
                Junk(n)
            r = rng.random()
            if r < 0.25:
                gc.collect(0)
            elif r < 0.27:
                gc.collect()
            time.sleep(rng.choice((0, 0.0005, 0.002)))
    except BaseException:
        run.junk_book.errors.append(traceback.format_exc())


def sleep_until(t):
    time.sleep(max(0.0, t - time.monotonic()))


def drive(run):
    """Runs the torture; returns the names of threads still alive at the deadline."""
    rng = random.Random(run.seed)
    factories = [uvloop.new_event_loop if uvloop is not None else asyncio.new_event_loop]
    factories += [asyncio.new_event_loop] * (LOOPS - 1)
    threads = [
        threading.Thread(target=thread_main, name=f"thread-{k}", daemon=True,
                         args=(ThreadWorker(run, run.book(f"thread {k}"), random.Random(rng.random())),))
        for k in range(THREADS)
    ]
    for k, factory in enumerate(factories):
        kind = "uvloop" if factory is not asyncio.new_event_loop else "asyncio"
        workers = [TaskWorker(run, run.book(f"loop {k} ({kind}) task {j}"), random.Random(rng.random()))
                   for j in range(TASKS_PER_LOOP)]
        threads.append(threading.Thread(target=loop_thread, name=f"loop-{k}-{kind}", daemon=True,
                                        args=(run, factory, workers, run.book(f"loop {k} ({kind})"))))
    collector = threading.Thread(target=gc_thread, name="gc", daemon=True, args=(run, random.Random(rng.random())))

    start = time.monotonic()
    run.hard_deadline = start + DURATION + GRACE
    collector.start()
    for t in threads:
        t.start()

    sleep_until(start + DURATION * rng.uniform(*SHUTDOWN_AT))
    waited = time.monotonic() + 2.0
    while run.q.qsize() < 2 and time.monotonic() < waited:  # mid-stream: with items to drop
        time.sleep(0.0002)
    run.buffered_at_shutdown = run.q.qsize()
    run.shutdown_begun = True
    _tls.in_shutdown = True
    try:
        run.q.shutdown(immediate=True)  # drops what is buffered, inside this call
    finally:
        _tls.in_shutdown = False

    sleep_until(start + DURATION)
    for _, ch in rng.sample(run.channels, len(run.channels)):
        ch.close()
        time.sleep(rng.uniform(0, 0.02))
    run.stop.set()

    for t in threads:
        t.join(max(0.0, run.hard_deadline - time.monotonic()))
    run.gc_stop.set()
    collector.join(max(1.0, run.hard_deadline - time.monotonic()))
    stuck = [t.name for t in threads + [collector] if t.is_alive()]
    if stuck:
        faulthandler.dump_traceback(file=sys.__stderr__, all_threads=True)
    return stuck, time.monotonic() - start


def final_drain(run):
    """What the workers left behind (an item a cancelled receive gave back
    after they drained) is still there: received here."""
    gc.collect()
    gc.collect()  # junk from the collector thread: its __del__ may still take items
    run.junk_active = False
    book = run.book("final drain")
    for name, ch in run.channels:
        while True:
            try:
                item = ch.try_recv()
            except ChannelClosed:
                break
            except Empty:
                book.errors.append(f"{name} is closed, but try_recv() raised Empty instead of ChannelClosed")
                break
            book.took(item, name, "final drain")
    while True:
        try:
            item = run.q.get_nowait()
        except ShutDown:
            break
        except Empty:
            book.errors.append("the queue is shut down, but get_nowait() raised Empty instead of ShutDown")
            break
        book.took(item, "q", "final drain")
        run.q.task_done()
    gc.collect()


def audit(run):
    """The ledger's problems (empty if every item is accounted for), and a summary."""
    problems = []
    accepted, failed, received = {}, {}, collections.defaultdict(list)
    for book in run.books:
        problems += [f"{book.who}: {e}" for e in book.errors]
        for ident, where, how in book.accepted:
            if ident in accepted:
                problems.append(f"test bug: id {ident} accepted twice ({accepted[ident]} and {where} {how})")
            accepted[ident] = (where, f"{book.who}: {how}")
        for ident, how in book.failed:
            failed[ident] = f"{book.who}: {how}"
        for item, where, how in book.received:
            received[item.id].append((where, f"{book.who}: {how}"))
    finalized = {}
    for ident, in_shutdown, releasing, begun in run.finalized:
        if ident in finalized:
            problems.append(f"id {ident} was finalized twice")
        finalized[ident] = (in_shutdown, releasing, begun)

    def story(ident):
        where = run.finalized_where.get(ident)
        return (f"id {ident}: accepted {accepted.get(ident)}, failed {failed.get(ident)}, "
                f"received {received.get(ident)}, finalized (in shutdown, releasing, after shutdown began) "
                f"{finalized.get(ident)}" + (f"; finalized at:\n{where}" if where else ""))

    def report(what, ids):
        ids = sorted(ids)
        if ids:
            problems.append(f"{len(ids)} {what}:\n    " + "\n    ".join(story(i) for i in ids[:12]))

    issued = next(run._ids)
    report("ids both accepted and failed (test bug)", accepted.keys() & failed.keys())
    report("ids neither accepted nor failed (test bug)", set(range(issued)) - accepted.keys() - failed.keys())
    report("items received more than once", [i for i, r in received.items() if len(r) > 1])
    report("items received although their put/send/select reported failure", received.keys() & failed.keys())
    report("items received that nothing put or sent", received.keys() - accepted.keys() - failed.keys())
    report("items received from another queue or channel than the one that accepted them",
           [i for i, r in received.items() if i in accepted and r[0][0] != accepted[i][0]])
    report("items both received and finalized", received.keys() & finalized.keys())
    dropped, deferred, merged, lost = [], [], [], []
    for ident, (where, _) in accepted.items():
        if ident in received:
            continue
        f = finalized.get(ident)
        if where == "q" and f is not None and f[0]:
            dropped.append(ident)
        elif where == "q" and f is not None and f[1] and f[2]:
            deferred.append(ident)
        elif FREE_THREADED and where == "q" and f is not None and f[2]:
            merged.append(ident)
        else:
            lost.append(ident)
    report("accepted items lost (neither received nor dropped by shutdown(immediate=True))", lost)
    if len(dropped) + len(deferred) + len(merged) > QUEUE_SIZE:
        report(f"items counted as dropped by shutdown(immediate=True), more than the queue can hold "
               f"({QUEUE_SIZE})", dropped + deferred + merged)

    if run.q.qsize() != 0:
        problems.append(f"the queue holds {run.q.qsize()} items after its immediate shutdown")
    if run.q.unfinished_tasks != 0:
        problems.append(f"the queue counts {run.q.unfinished_tasks} unfinished tasks at the end")
    for name, ch in run.channels:
        if len(ch) != 0:
            problems.append(f"{name} holds {len(ch)} items after the final drain")

    routes = collections.Counter(how.split(": ", 1)[1] for _, how in accepted.values())
    stats = collections.Counter()
    for book in run.books:
        stats.update(book.stats)
    summary = (f"seed {run.seed}: {issued} items, {len(accepted)} accepted, {len(failed)} failed, "
               f"{sum(map(len, received.values()))} received, {len(dropped)} dropped by shutdown(immediate=True), "
               f"{len(deferred)} more let go by their producer after it, {len(merged)} more finalized later on "
               f"their maker's thread (free-threaded only) "
               f"({run.buffered_at_shutdown} buffered just before it); "
               f"accepted by route {dict(sorted(routes.items()))}; outcomes {dict(sorted(stats.items()))}")
    return problems, summary, routes, stats


def test_torture():
    global _run
    seed = random.randrange(2**32)
    run = Run(seed)
    old_threshold = gc.get_threshold()
    _run = run
    gc.set_threshold(*GC_THRESHOLD)
    try:
        stuck, elapsed = drive(run)
        assert not stuck, f"seed {seed}: threads stuck past the deadline (stacks on stderr): {stuck}"
        final_drain(run)
        problems, summary, routes, stats = audit(run)
    finally:
        gc.set_threshold(*old_threshold)
        _run = None
    print(f"{summary}; {elapsed:.1f} s")
    assert not problems, f"{summary}\n" + "\n".join(problems)

    # The torture did torture: every route carried items, and the regimes struck.
    for route in ("thread q.put", "thread q.put_nowait", "thread q.put_many", "thread send", "thread try_send",
                  "thread put_many", "thread select", "task aq.put", "task q.put_nowait", "task aq.put_many",
                  "task asend", "task try_send", "task aput_many", "task select_async",
                  "task select_async default"):
        assert routes[route] > 0, f"{summary}\nnothing went in through {route}"
    for outcome in ("thread q.put: ShutDown", "task aq.put: OpCancelled", "task asend: OpCancelled",
                    "task asend: TimeoutError", "task select_async: OpCancelled", "thread send: TimeoutError"):
        assert stats[outcome] > 0, f"{summary}\nno {outcome}"
