// Native awaitables for open_memory_channel's send() and receive() under
// trio (CPython >= 3.10).
//
// trio's own channel is a thin layer over trio.lowlevel: each operation
// runs three coroutines (the method, checkpoint_if_cancelled and a trap),
// builds an outcome per hand-off, and a Python dict of waiting tasks. Here
// one C object does the operation and talks to trio's scheduler in its own
// terms: it yields trio's trap messages itself (CancelShieldedCheckpoint
// after an operation that completed at once, WaitTaskRescheduled to park),
// and a peer wakes it with reschedule(task, WOKEN), WOKEN being one shared
// outcome.Value(None); the woken op then takes its result from the channel.
// Python (memory_channel.py) hands over trio's objects with _trio_setup()
// only when trio has the expected trap classes; otherwise, and on 3.9, the
// coroutine path (public trio.lowlevel API) serves.
//
// Anything unusual (a closed handle or channel) is left to the handle's
// coroutine path (`slow`, given by the caller), which raises trio's errors;
// the op then forwards send/throw/close to it, like `yield from`.
#include <Python.h>

#include <new>
#include <optional>
#include <utility>

#include <pybind11/pybind11.h>

#include "async_select.hpp"
#include "awaitable.hpp"
#include "errors.hpp"
#include "loop_waker.hpp"
#include "py_channel.hpp"

namespace fastchan::py {

#if PY_VERSION_HEX >= 0x030A0000

namespace {

// trio's objects, from _trio_setup(); kept for the process.
struct Trio {
    PyObject* checkpoint_if_cancelled = nullptr;  // trio.lowlevel.checkpoint_if_cancelled
    PyObject* current_task = nullptr;             // trio.lowlevel.current_task
    PyObject* reschedule = nullptr;               // trio.lowlevel.reschedule
    PyObject* shielded_checkpoint = nullptr;      // the CancelShieldedCheckpoint message
    PyObject* wait_message = nullptr;             // the WaitTaskRescheduled class
    PyObject* abort_succeeded = nullptr;          // trio.lowlevel.Abort.SUCCEEDED
    PyObject* abort_failed = nullptr;             // trio.lowlevel.Abort.FAILED
    PyObject* error_outcome = nullptr;            // outcome.Error
    PyObject* woken = nullptr;                    // the shared Value(None) a peer wakes us with
    PyObject* run_context = nullptr;              // () -> (LoopWaker, TrioToken) of this run
};
Trio g_trio;

// Attribute names, interned once.
struct Names {
    PyObject* closed;
    PyObject* cancel_status;
    PyObject* effectively_cancelled;
    PyObject* runner;
    PyObject* main_task;
    PyObject* ki_pending;
    PyObject* cancel_points;
};
Names g_names;
PyObject* g_one;

PyObject* attr(PyObject* obj, PyObject* name) { return obj ? PyObject_GetAttr(obj, name) : nullptr; }

enum class Step : int {
    start,       // not driven yet
    checkpoint,  // done; yielded CancelShieldedCheckpoint, the result follows
    parking,     // registering: a wake-up now is only noted (woken_early)
    waiting,     // parked in WaitTaskRescheduled
    delegated,   // forwarding to `delegate`
    done,
};

struct TrioOp {
    PyObject_HEAD
    PyObject* handle;       // the MemorySendChannel / MemoryReceiveChannel
    PyObject* channel_obj;  // its fastchan.Channel (owns `channel`)
    PyChannel* channel;
    PyObject* waits;        // the set of the channel's waiting ops in this direction
    PyObject* slow;         // the coroutine path: slow(handle[, item])
    PyObject* item;         // send's item; nullptr for a receive
    PyObject* result;       // what the await returns, once known
    PyObject* delegate;     // a coroutine this op forwards to
    PyObject* task;         // the parked trio task
    PyObject* run;          // (LoopWaker, TrioToken) of the task's run, while parked
    AsyncSelect* wait;      // the registration, once the op had to park
    PyObject* weakrefs;
    Step step;
    bool rescheduled;       // the parked task was given its one reschedule
    bool woken_early;       // resolve_woken ran while parking
};

PyTypeObject TrioOpType = {PyVarObject_HEAD_INIT(nullptr, 0)};

PySendResult fail(PyObject** result) {
    *result = nullptr;
    return PYGEN_ERROR;
}

PySendResult finish_with(TrioOp* op, PyObject** result) {
    op->step = Step::done;
    *result = op->result != nullptr ? std::exchange(op->result, nullptr) : Py_NewRef(Py_None);
    return PYGEN_RETURN;
}

// Hands the op to the handle's coroutine path and drives it.
PySendResult delegate_slow(TrioOp* op, PyObject** result) {
    Py_CLEAR(op->task);
    op->delegate = op->item != nullptr ? PyObject_CallFunctionObjArgs(op->slow, op->handle, op->item, nullptr)
                                       : PyObject_CallOneArg(op->slow, op->handle);
    if (op->delegate == nullptr) return fail(result);
    op->step = Step::delegated;
    PySendResult r = PyIter_Send(op->delegate, Py_None, result);
    if (r != PYGEN_NEXT) op->step = Step::done;
    return r;
}

// The exchange completed: yield to trio once (a send or receive is always a
// schedule point), then return the result.
PySendResult checkpoint(TrioOp* op, PyObject** result) {
    Py_CLEAR(op->task);
    op->step = Step::checkpoint;
    *result = Py_NewRef(g_trio.shielded_checkpoint);
    return PYGEN_NEXT;
}

// Off the channel's waiting set; the run's objects are let go.
void leave(TrioOp* op) {
    if (op->waits != nullptr && PySet_Discard(op->waits, reinterpret_cast<PyObject*>(op)) < 0) PyErr_Clear();
    Py_CLEAR(op->task);
    Py_CLEAR(op->run);
}

// A fired case's value (new reference; None for a send), or nullptr with
// *closed set when the case fired because the channel is closed, or
// nullptr with an error set.
PyObject* fired_value(const pybind11::object& fired, bool* closed) {
    *closed = false;
    PyObject* value = PyTuple_GET_ITEM(fired.ptr(), 1);
    if (value == g_closed_marker) {
        *closed = true;
        return nullptr;
    }
    return Py_NewRef(value);
}

// Calls one of the AsyncSelect steps; a send case on a closed channel
// (ChannelClosed from the select) comes back as `closed`.
template <class Fn>
bool select_step(TrioOp* op, Fn step, pybind11::object* fired, bool* closed) {
    *closed = false;
    try {
        *fired = step(*op->wait);
        return true;
    } catch (pybind11::error_already_set& e) {
        if (e.matches(g_errors.channel_closed)) {
            *closed = true;
            return true;
        }
        e.restore();
        return false;
    }
}

bool resolve_woken(PyObject* target);
bool give_up(TrioOp* op);
PyObject* op_abort(PyObject* self, PyObject*);
PyMethodDef kAbort = {"abort", op_abort, METH_O, "trio's abort_fn for this op's wait."};

// The operation would wait: register on the channel and park the task.
// nullopt: a peer showed up meanwhile; try the operation again.
std::optional<PySendResult> park(TrioOp* op, PyObject** result) {
    if (op->wait == nullptr) {
        op->wait = new (std::nothrow) AsyncSelect(*op->channel, op->item);
        if (op->wait == nullptr) {
            PyErr_NoMemory();
            return fail(result);
        }
    }
    if (op->task == nullptr) op->task = PyObject_CallNoArgs(g_trio.current_task);
    if (op->task == nullptr) return fail(result);
    op->run = PyObject_CallNoArgs(g_trio.run_context);
    if (op->run == nullptr) return fail(result);
    if (!PyTuple_Check(op->run) || PyTuple_GET_SIZE(op->run) != 2) {
        PyErr_SetString(PyExc_TypeError, "_trio_setup: run_context() must return (waker, token)");
        return fail(result);
    }
    PyObject* waker_obj = PyTuple_GET_ITEM(op->run, 0);
    LoopWaker* waker;
    try {
        waker = &pybind11::cast<LoopWaker&>(pybind11::handle(waker_obj));
    } catch (pybind11::error_already_set& e) {
        e.restore();
        return fail(result);
    } catch (pybind11::cast_error&) {
        PyErr_SetString(PyExc_TypeError, "_trio_setup: run_context() must return a LoopWaker first");
        return fail(result);
    }
    op->step = Step::parking;
    op->woken_early = false;
    bool parked = false;
    try {
        parked = op->wait->enlist(*waker, waker_obj, reinterpret_cast<PyObject*>(op), resolve_woken);
    } catch (pybind11::error_already_set& e) {
        e.restore();
        return fail(result);
    }
    if (parked) {
        PyObject* abort = PyCFunction_New(&kAbort, reinterpret_cast<PyObject*>(op));
        *result = abort ? PyObject_CallOneArg(g_trio.wait_message, abort) : nullptr;
        Py_XDECREF(abort);
        if (*result == nullptr || PySet_Add(op->waits, reinterpret_cast<PyObject*>(op)) < 0) {
            Py_CLEAR(*result);
            PyObject *type, *value, *traceback;
            PyErr_Fetch(&type, &value, &traceback);
            give_up(op);  // (out of memory: an exchange that happened anyway is lost)
            leave(op);
            PyErr_Restore(type, value, traceback);
            return fail(result);
        }
        // close() may have run since start() looked (another thread, or an
        // interrupt that found this op woken but not yet resumed).
        PyObject* flag = PyObject_GetAttr(op->handle, g_names.closed);
        int handle_closed = flag ? PyObject_IsTrue(flag) : -1;
        Py_XDECREF(flag);
        if (handle_closed != 0) {
            Py_CLEAR(*result);
            bool nothing = give_up(op);
            leave(op);
            if (!nothing) return checkpoint(op, result);
            if (handle_closed < 0) return fail(result);
            return delegate_slow(op, result);
        }
        if (!op->woken_early) {
            op->rescheduled = false;
            op->step = Step::waiting;
            return PYGEN_NEXT;
        }
        Py_CLEAR(*result);  // woken before it could park: finish now
    }
    {
        pybind11::object fired;
        bool closed;
        if (!select_step(op, [](AsyncSelect& w) { return w.finish(); }, &fired, &closed)) return fail(result);
        leave(op);
        if (closed) return delegate_slow(op, result);
        if (!fired.is_none()) {
            op->result = fired_value(fired, &closed);
            if (closed) return delegate_slow(op, result);
            return checkpoint(op, result);
        }
        return std::nullopt;  // its item went elsewhere
    }
}

// The operation, at once if it can be done, else parked.
PySendResult attempt(TrioOp* op, PyObject** result) {
    constexpr auto nonblocking = detail::Clock::time_point::min();
    for (;;) {
        Status s;
        {
            CallScope call;  // a parked task of this run may be woken
            if (op->item != nullptr) {
                s = op->channel->send(op->item, nonblocking);
            } else {
                PyObject* item = nullptr;
                s = op->channel->recv(&item, nonblocking);
                if (s == Status::ok) op->result = item;
            }
        }
        if (s == Status::ok) return checkpoint(op, result);
        if (s == Status::closed) return delegate_slow(op, result);
        if (std::optional<PySendResult> r = park(op, result)) return *r;
    }
}

// trio.lowlevel.checkpoint_if_cancelled()'s test, read directly from the
// task: 1 if the task must take a cancellation (or KeyboardInterrupt), 0 if
// not, -1 if this trio's tasks look different (then the coroutine serves).
int cancel_pending(PyObject* task) {
    struct Ref {
        PyObject* p;
        ~Ref() { Py_XDECREF(p); }
    };
    Ref status{attr(task, g_names.cancel_status)};
    Ref cancelled{attr(status.p, g_names.effectively_cancelled)};
    Ref runner{attr(task, g_names.runner)};
    Ref main_task{attr(runner.p, g_names.main_task)};
    Ref ki_pending{attr(runner.p, g_names.ki_pending)};
    if (!cancelled.p || !main_task.p || !ki_pending.p) {
        PyErr_Clear();
        return -1;
    }
    if (cancelled.p == Py_True) return 1;
    if (cancelled.p != Py_False || (ki_pending.p != Py_True && ki_pending.p != Py_False)) return -1;
    if (task == main_task.p && ki_pending.p == Py_True) return 1;
    // Counted as checkpoint_if_cancelled counts it (trio.testing.assert_checkpoints reads it).
    Ref points{attr(task, g_names.cancel_points)};
    Ref more{points.p ? PyNumber_Add(points.p, g_one) : nullptr};
    if (!more.p || PyObject_SetAttr(task, g_names.cancel_points, more.p) < 0) {
        PyErr_Clear();
        return -1;
    }
    return 0;
}

bool g_read_cancel_status = true;  // false once cancel_pending() said -1

// First drive: a cancellation point, then the operation, at once if it can.
PySendResult start(TrioOp* op, PyObject** result) {
    int pending = -1;
    if (g_read_cancel_status) {
        op->task = PyObject_CallNoArgs(g_trio.current_task);  // kept for park()
        if (op->task == nullptr) return fail(result);
        pending = cancel_pending(op->task);
        if (pending < 0) g_read_cancel_status = false;
    }
    if (pending != 0) {  // the public way (and when a cancellation is pending)
        PyObject* check = PyObject_CallNoArgs(g_trio.checkpoint_if_cancelled);
        if (check == nullptr) return fail(result);
        PySendResult r = PyIter_Send(check, Py_None, result);
        if (r == PYGEN_NEXT) {  // cancelled: it checkpoints, then raises Cancelled
            op->delegate = check;
            op->step = Step::delegated;
            return r;
        }
        Py_DECREF(check);
        if (r == PYGEN_ERROR) return r;
        Py_DECREF(*result);
    }

    PyObject* closed_flag = PyObject_GetAttr(op->handle, g_names.closed);
    if (closed_flag == nullptr) return fail(result);
    int handle_closed = PyObject_IsTrue(closed_flag);
    Py_DECREF(closed_flag);
    if (handle_closed != 0) return handle_closed < 0 ? fail(result) : delegate_slow(op, result);

    return attempt(op, result);
}

// Resumed from WaitTaskRescheduled with `arg`: WOKEN from our peer, or an
// outcome from trio (a cancellation) or from close() (ClosedResourceError).
PySendResult resume(TrioOp* op, PyObject* arg, PyObject** result) {
    if (arg != g_trio.woken) {
        leave(op);
        *result = PyObject_CallMethod(arg, "unwrap", nullptr);
        if (*result == nullptr) return fail(result);
        op->step = Step::done;
        return PYGEN_RETURN;
    }
    if (op->result != nullptr) {  // abort found the exchange done; this is its wake-up
        leave(op);
        return finish_with(op, result);
    }
    pybind11::object fired;
    bool closed;
    if (!select_step(op, [](AsyncSelect& w) { return w.finish(); }, &fired, &closed)) return fail(result);
    leave(op);
    if (!closed && !fired.is_none()) op->result = fired_value(fired, &closed);
    if (closed) return delegate_slow(op, result);
    if (op->result != nullptr) return finish_with(op, result);
    return attempt(op, result);  // woken for an item another receiver took: try again
}

PySendResult op_send(PyObject* self, PyObject* arg, PyObject** result) {
    auto* op = reinterpret_cast<TrioOp*>(self);
    PySendResult r;
    switch (op->step) {
        case Step::start: r = start(op, result); break;
        case Step::checkpoint: return finish_with(op, result);
        case Step::waiting: r = resume(op, arg, result); break;
        case Step::delegated: r = PyIter_Send(op->delegate, arg, result); break;
        default:
            PyErr_SetString(PyExc_RuntimeError, "cannot reuse already awaited channel operation");
            return fail(result);
    }
    if (r != PYGEN_NEXT) op->step = Step::done;
    return r;
}

// Gives up a parked wait. True if nothing was exchanged; otherwise the
// exchange's result is kept for the wake-up that is on its way.
bool give_up(TrioOp* op) {
    if (op->result != nullptr) return false;  // an earlier give_up found the exchange done
    pybind11::object fired;
    bool closed;
    if (!select_step(op, [](AsyncSelect& w) { return w.cancel(); }, &fired, &closed)) {
        PyErr_WriteUnraisable(reinterpret_cast<PyObject*>(op));
        return true;
    }
    if (closed || fired.is_none()) return true;  // (cancel() reports only a completed exchange)
    op->result = fired_value(fired, &closed);
    return false;
}

// The AsyncWaiter's resolve: on the run's thread, with the GIL.
bool resolve_woken(PyObject* target) {
    auto* op = reinterpret_cast<TrioOp*>(target);
    if (op->step == Step::parking) {
        op->woken_early = true;
        return true;
    }
    if (op->step != Step::waiting || op->rescheduled) return true;  // it gave up meanwhile
    op->rescheduled = true;
    PyObject* r = PyObject_CallFunctionObjArgs(g_trio.reschedule, op->task, g_trio.woken, nullptr);
    Py_XDECREF(r);
    return r != nullptr;
}

// abort_fn for WaitTaskRescheduled: trio is cancelling the parked task.
PyObject* op_abort(PyObject* self, PyObject*) {
    auto* op = reinterpret_cast<TrioOp*>(self);
    if (op->step != Step::waiting || op->rescheduled) return Py_NewRef(g_trio.abort_failed);
    op->rescheduled = true;  // before give_up: its CallScope may run resolve_woken
    if (give_up(op)) return Py_NewRef(g_trio.abort_succeeded);  // trio reschedules it with Cancelled
    // The exchange happened: the task takes its result now.
    PyObject* r = PyObject_CallFunctionObjArgs(g_trio.reschedule, op->task, g_trio.woken, nullptr);
    if (r == nullptr) return nullptr;
    Py_DECREF(r);
    return Py_NewRef(g_trio.abort_failed);
}

// interrupt(error), from any thread: end the wait with `error` (on the run's
// thread), unless the exchange already happened.
PyObject* op_interrupt_now(PyObject* self, PyObject* error) {
    auto* op = reinterpret_cast<TrioOp*>(self);
    if (op->step != Step::waiting || op->rescheduled) Py_RETURN_NONE;
    op->rescheduled = true;  // before give_up: its CallScope may run resolve_woken
    PyObject* outcome = give_up(op) ? PyObject_CallOneArg(g_trio.error_outcome, error) : Py_NewRef(g_trio.woken);
    if (outcome == nullptr) return nullptr;
    PyObject* r = PyObject_CallFunctionObjArgs(g_trio.reschedule, op->task, outcome, nullptr);
    Py_DECREF(outcome);
    Py_XDECREF(r);
    if (r == nullptr) return nullptr;
    Py_RETURN_NONE;
}

PyObject* op_interrupt(PyObject* self, PyObject* error) {
    auto* op = reinterpret_cast<TrioOp*>(self);
    if (op->run == nullptr) Py_RETURN_NONE;  // not parked (any more)
    PyObject* token = PyTuple_GET_ITEM(op->run, 1);
    PyObject* now = PyObject_GetAttrString(self, "_interrupt_now");
    if (now == nullptr) return nullptr;
    PyObject* r = PyObject_CallMethod(token, "run_sync_soon", "OO", now, error);
    Py_DECREF(now);
    return r;
}

PyObject* op_handle(PyObject* self, void*) { return Py_NewRef(reinterpret_cast<TrioOp*>(self)->handle); }

PyObject* op_await(PyObject* self) { return Py_NewRef(self); }

// Ends the op without its result: a parked wait passes its wake-up on.
void abandon(TrioOp* op) {
    if (op->step == Step::waiting && !op->rescheduled) {
        op->rescheduled = true;
        give_up(op);  // an exchange that happened anyway is lost with the task
    }
    leave(op);
    op->step = Step::done;
}

PyObject* op_throw(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
    auto* op = reinterpret_cast<TrioOp*>(self);
    if (op->step == Step::delegated) {
        PyObject* result = awaitable::throw_into(op->delegate, args, nargs);
        if (result == nullptr) op->step = Step::done;
        return result;
    }
    abandon(op);
    return awaitable::raise_thrown(args, nargs);
}

PyObject* op_close(PyObject* self, PyObject*) {
    auto* op = reinterpret_cast<TrioOp*>(self);
    if (op->step == Step::delegated) {
        op->step = Step::done;
        return PyObject_CallMethod(op->delegate, "close", nullptr);
    }
    abandon(op);
    Py_RETURN_NONE;
}

int op_traverse(PyObject* self, visitproc visit, void* arg) {
    auto* op = reinterpret_cast<TrioOp*>(self);
    Py_VISIT(op->handle);
    Py_VISIT(op->channel_obj);
    Py_VISIT(op->waits);
    Py_VISIT(op->slow);
    Py_VISIT(op->item);
    Py_VISIT(op->result);
    Py_VISIT(op->delegate);
    Py_VISIT(op->task);
    Py_VISIT(op->run);
    return 0;
}

int op_clear(PyObject* self) {
    auto* op = reinterpret_cast<TrioOp*>(self);
    delete std::exchange(op->wait, nullptr);  // passes a wake-up on
    Py_CLEAR(op->task);
    Py_CLEAR(op->run);
    Py_CLEAR(op->delegate);
    Py_CLEAR(op->result);
    Py_CLEAR(op->item);
    Py_CLEAR(op->slow);
    Py_CLEAR(op->waits);
    Py_CLEAR(op->channel_obj);
    Py_CLEAR(op->handle);
    return 0;
}

void op_dealloc(PyObject* self) {
    PyObject_GC_UnTrack(self);
    auto* op = reinterpret_cast<TrioOp*>(self);
    // Often freed while the exception it raised unwinds the awaiting frame.
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    if (op->weakrefs != nullptr) PyObject_ClearWeakRefs(self);
    op_clear(self);
    PyErr_Restore(type, value, traceback);
    PyObject_GC_Del(self);
}

PyAsyncMethods op_async = {op_await, nullptr, nullptr, op_send};

PyMethodDef op_methods[] = {
    {"send", awaitable::send<op_send>, METH_O, nullptr},
    {"throw", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(op_throw)), METH_FASTCALL, nullptr},
    {"close", op_close, METH_NOARGS, nullptr},
    {"interrupt", op_interrupt, METH_O,
     "interrupt(error)\n--\n\nFrom any thread: end this op's wait by raising `error` in its task,\n"
     "unless its exchange already happened."},
    {"_interrupt_now", op_interrupt_now, METH_O, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef op_getset[] = {
    {"handle", op_handle, nullptr, "The channel handle this op was started on.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

// _trio_op(handle, channel, waits, slow[, item]): the awaitable of
// handle.send(item) (with item) or handle.receive() (without).
PyObject* trio_op(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 4 && nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "_trio_op(handle, channel, waits, slow[, item])");
        return nullptr;
    }
    if (g_trio.woken == nullptr) {
        PyErr_SetString(PyExc_RuntimeError, "_trio_setup() was not called");
        return nullptr;
    }
    PyChannel* channel;
    try {
        channel = &pybind11::cast<PyChannel&>(pybind11::handle(args[1]));
    } catch (pybind11::cast_error&) {
        PyErr_SetString(PyExc_TypeError, "_trio_op: channel must be a fastchan.Channel");
        return nullptr;
    }
    if (!PySet_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "_trio_op: waits must be a set");
        return nullptr;
    }
    TrioOp* op = PyObject_GC_New(TrioOp, &TrioOpType);
    if (op == nullptr) return nullptr;
    op->handle = Py_NewRef(args[0]);
    op->channel_obj = Py_NewRef(args[1]);
    op->channel = channel;
    op->waits = Py_NewRef(args[2]);
    op->slow = Py_NewRef(args[3]);
    op->item = nargs == 5 ? Py_NewRef(args[4]) : nullptr;
    op->result = op->delegate = op->task = op->run = op->weakrefs = nullptr;
    op->wait = nullptr;
    op->step = Step::start;
    op->rescheduled = false;
    op->woken_early = false;
    PyObject_GC_Track(op);
    return reinterpret_cast<PyObject*>(op);
}

PyMethodDef kTrioOp = {"_trio_op", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(trio_op)),
                       METH_FASTCALL,
                       "_trio_op(handle, channel, waits, slow[, item])\n--\n\n"
                       "The native awaitable of a memory channel's send(item) or receive() under trio;\n"
                       "slow(handle[, item]) is the coroutine path it hands unusual cases to."};

}  // namespace

void register_trio(pybind11::module_& m) {
    TrioOpType.tp_name = "fastchan._core.TrioOp";
    TrioOpType.tp_basicsize = sizeof(TrioOp);
    TrioOpType.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC;
    TrioOpType.tp_doc = "A memory channel's send() or receive() awaited under trio.";
    TrioOpType.tp_dealloc = op_dealloc;
    TrioOpType.tp_traverse = op_traverse;
    TrioOpType.tp_clear = op_clear;
    TrioOpType.tp_as_async = &op_async;
    TrioOpType.tp_iter = PyObject_SelfIter;
    TrioOpType.tp_iternext = awaitable::iternext<op_send>;
    TrioOpType.tp_methods = op_methods;
    TrioOpType.tp_getset = op_getset;
    TrioOpType.tp_weaklistoffset = offsetof(TrioOp, weakrefs);
    if (PyType_Ready(&TrioOpType) < 0) throw pybind11::error_already_set();
    g_names = Names{PyUnicode_InternFromString("_closed"), PyUnicode_InternFromString("_cancel_status"),
                    PyUnicode_InternFromString("effectively_cancelled"), PyUnicode_InternFromString("_runner"),
                    PyUnicode_InternFromString("main_task"), PyUnicode_InternFromString("ki_pending"),
                    PyUnicode_InternFromString("_cancel_points")};
    g_one = PyLong_FromLong(1);

    PyObject* fn = PyCFunction_NewEx(&kTrioOp, nullptr, m.attr("__name__").ptr());
    if (fn == nullptr || PyObject_SetAttrString(m.ptr(), "_trio_op", fn) < 0) throw pybind11::error_already_set();
    Py_DECREF(fn);

    m.def(
        "_trio_setup",
        [](pybind11::object checkpoint_if_cancelled, pybind11::object current_task, pybind11::object reschedule,
           pybind11::object shielded_checkpoint, pybind11::object wait_message, pybind11::object abort_succeeded,
           pybind11::object abort_failed, pybind11::object error_outcome, pybind11::object woken,
           pybind11::object run_context) {
            g_trio = Trio{checkpoint_if_cancelled.release().ptr(), current_task.release().ptr(),
                          reschedule.release().ptr(),              shielded_checkpoint.release().ptr(),
                          wait_message.release().ptr(),            abort_succeeded.release().ptr(),
                          abort_failed.release().ptr(),            error_outcome.release().ptr(),
                          woken.release().ptr(),                   run_context.release().ptr()};
        },
        pybind11::arg("checkpoint_if_cancelled"), pybind11::arg("current_task"), pybind11::arg("reschedule"),
        pybind11::arg("shielded_checkpoint"), pybind11::arg("wait_message"), pybind11::arg("abort_succeeded"),
        pybind11::arg("abort_failed"), pybind11::arg("error_outcome"), pybind11::arg("woken"),
        pybind11::arg("run_context"),
        "Hand trio's scheduler objects to the native memory-channel ops (once, by fastchan.memory_channel).");
}

#else

void register_trio(pybind11::module_&) {}  // 3.9: the coroutine path serves

#endif

}  // namespace fastchan::py
