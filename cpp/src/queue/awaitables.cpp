// Native awaitables for fastchan.asyncio's get(), put() and join().
//
// One object drives the whole operation, with no Python-level slow path:
// it tries the operation when it is first driven (never at call time, so an
// awaitable that is created and dropped takes nothing) and returns at once
// if it can; otherwise it registers an AsyncWaiter on the queue's wait list,
// re-checks, and parks on a future of the task's loop (yielded to the task
// as `await future` would). When the loop's LoopWaker resolves the future,
// the task resumes it: it leaves the list and tries again. A throw() while
// parked (the task was cancelled) passes a wake-up it may have been given
// on to the next waiter, so none is lost.
#include <Python.h>

#include <atomic>
#include <mutex>

#include "common/pybind.hpp"

#include "loops/awaitable.hpp"
#include "common/errors.hpp"
#include "common/free_threading.hpp"
#include "queue/methods.hpp"
#include "loops/loop_waker.hpp"
#include "queue/queue.hpp"

namespace fastchan::binding {

namespace {

enum class OpKind : int { get, put, join };

struct QueueOp {
    PyObject_HEAD
    PyObject* queue;       // the fastchan.asyncio queue object
    PyObject* item;        // put's item (strong), or nullptr
    PyObject* future;      // the future parked on, or nullptr
    AsyncWaiter* waiter;   // its registration, or nullptr
    OpKind kind;
    bool finished;
};

// asyncio's get_running_loop and the asyncio loop adapter's waker_for(loop)
// (fastchan/_loops/asyncio.py), looked up at the first wait: `import
// fastchan` imports no asyncio. Published once, atomically: threads that race
// to the first wait each look them up, one pair wins, the others let theirs go.
struct AsyncioRefs {
    PyObject* get_running_loop;
    PyObject* waker_for;
};
std::atomic<AsyncioRefs*> g_asyncio{nullptr};
PyObject* g_blocking_name = nullptr;  // "_asyncio_future_blocking" (set at import)
// The last loop asked for (a weak reference) and its waker: the common case,
// one loop, needs no call into Python to find its waker. Both pointers are
// read and replaced under g_last_lock (no Python code runs under it).
FtMutex g_last_lock;
PyObject* g_last_loop = nullptr;
PyObject* g_last_waker = nullptr;

// asyncio's refs (borrowed, never released), or nullptr with an error set.
AsyncioRefs* asyncio_refs() {
    if (AsyncioRefs* refs = g_asyncio.load(std::memory_order_acquire)) return refs;
    PyObject* asyncio = PyImport_ImportModule("asyncio");
    if (asyncio == nullptr) return nullptr;
    PyObject* get_running_loop = PyObject_GetAttrString(asyncio, "get_running_loop");
    Py_DECREF(asyncio);
    if (get_running_loop == nullptr) return nullptr;
    PyObject* adapter = PyImport_ImportModule("fastchan._loops.asyncio");
    PyObject* waker_for = adapter ? PyObject_GetAttrString(adapter, "waker_for") : nullptr;
    Py_XDECREF(adapter);
    if (waker_for == nullptr) {
        Py_DECREF(get_running_loop);
        return nullptr;
    }
    auto* mine = new AsyncioRefs{get_running_loop, waker_for};
    AsyncioRefs* expected = nullptr;
    if (g_asyncio.compare_exchange_strong(expected, mine, std::memory_order_acq_rel)) return mine;
    Py_DECREF(mine->get_running_loop);  // another thread published first
    Py_DECREF(mine->waker_for);
    delete mine;
    return expected;
}

// The running loop's LoopWaker object (new reference), or nullptr with an error set.
PyObject* waker_for(PyObject* waker_for_fn, PyObject* loop) {
    PyObject* last_loop = nullptr;
    PyObject* last_waker = nullptr;
    {
        std::lock_guard<FtMutex> guard(g_last_lock);
        last_loop = Py_XNewRef(g_last_loop);
        last_waker = Py_XNewRef(g_last_waker);
    }
    if (last_loop != nullptr) {
        PyObject* last = nullptr;
#if PY_VERSION_HEX >= 0x030D0000
        if (PyWeakref_GetRef(last_loop, &last) < 0) last = nullptr;
        Py_XDECREF(last);  // only compared
#else
        last = PyWeakref_GetObject(last_loop);
#endif
        Py_DECREF(last_loop);
        if (last == loop) return last_waker;
        Py_DECREF(last_waker);
        PyErr_Clear();
    }
    PyObject* waker = PyObject_CallOneArg(waker_for_fn, loop);
    if (waker == nullptr) return nullptr;
    PyObject* ref = PyWeakref_NewRef(loop, nullptr);
    if (ref == nullptr) {
        PyErr_Clear();  // a loop without weak references: just not cached
    } else {
        PyObject* cached = Py_NewRef(waker);
        {
            std::lock_guard<FtMutex> guard(g_last_lock);
            std::swap(g_last_loop, ref);
            std::swap(g_last_waker, cached);
        }
        // The replaced pair, released outside the lock (a decref may run Python code).
        Py_XDECREF(ref);
        Py_XDECREF(cached);
    }
    return waker;
}

// Leaves the wait list. `passing_on`: the task gave up, so a wake-up it was
// given goes to the next waiter.
void unpark(QueueOp* op, bool passing_on) {
    if (op->waiter == nullptr) return;
    if (passing_on) {
        op->waiter->cancel();
    } else {
        op->waiter->unregister();
    }
    std::exchange(op->waiter, nullptr)->release();
    Py_CLEAR(op->future);
}

// One attempt: ok (result set), a would-block status, or an error status.
Status attempt(QueueOp* op, PyQueue* q, PyObject** result) {
    Status s;
    switch (op->kind) {
        case OpKind::get:
            s = q->get(result, false, detail::kNoDeadline);
            break;
        case OpKind::put:
            s = q->put(op->item, false, detail::kNoDeadline);
            if (s == Status::ok) *result = Py_NewRef(Py_None);
            break;
        default:
            s = q->unfinished_tasks() == 0 ? Status::ok : Status::empty;
            if (s == Status::ok) *result = Py_NewRef(Py_None);
            break;
    }
    return s;
}

WaitList& list_of(QueueOp* op, PyQueue* q) {
    switch (op->kind) {
        case OpKind::get: return q->getters();
        case OpKind::put: return q->putters();
        default: return q->joiners();
    }
}

// The operation is over (done, failed or abandoned): the awaitable lets go
// of its item as a finished coroutine lets go of its locals. (A finished
// Task keeps its awaitable: wait_for() before 3.12 runs it in one, and a
// done-callback's handle may hold that Task past the caller's return.)
void finish(QueueOp* op) {
    op->finished = true;
    Py_CLEAR(op->item);
}

PySendResult finish_with(QueueOp* op, Status s, PyObject** result) {
    finish(op);
    if (s == Status::ok) return PYGEN_RETURN;
    raise_for(s, op->kind == OpKind::put ? g_errors.full : g_errors.empty);
    *result = nullptr;
    return PYGEN_ERROR;
}

// Registers on the queue's wait list, re-checks, and yields a future of the
// running loop for the task to wait on.
PySendResult park(QueueOp* op, PyQueue* q, PyObject** result) {
    *result = nullptr;
    AsyncioRefs* refs = asyncio_refs();
    if (refs == nullptr) return PYGEN_ERROR;
    PyObject* loop = PyObject_CallNoArgs(refs->get_running_loop);
    if (loop == nullptr) return PYGEN_ERROR;
    PyObject* waker = waker_for(refs->waker_for, loop);
    PyObject* future = waker ? PyObject_CallMethod(loop, "create_future", nullptr) : nullptr;
    Py_DECREF(loop);
    if (future == nullptr) {
        Py_XDECREF(waker);
        return PYGEN_ERROR;
    }
    try {
        op->waiter = new AsyncWaiter(py::handle(waker).cast<LoopWaker&>(), waker, future,
                                     list_of(op, q), op->queue);
    } catch (py::error_already_set& e) {
        e.restore();
    } catch (std::exception& e) {
        PyErr_SetString(PyExc_RuntimeError, e.what());
    }
    Py_DECREF(waker);
    if (op->waiter == nullptr) {
        Py_DECREF(future);
        return PYGEN_ERROR;
    }
    op->future = future;
    op->waiter->register_();
    Status s = attempt(op, q, result);
    if (!would_block(s)) {
        unpark(op, true);  // done without waiting: pass on a wake-up that raced in
        return finish_with(op, s, result);
    }
    // What `await future` does: tell the task this yield is a future to wait on.
    if (PyObject_SetAttr(future, g_blocking_name, Py_True) < 0) {
        unpark(op, true);
        finish(op);
        return PYGEN_ERROR;
    }
    *result = Py_NewRef(future);
    return PYGEN_NEXT;
}

// Each drive: (after a wake-up: leave the list), try, and park if it would block.
// send/throw/close hold the op's critical section: its fields (waiter,
// future, finished) are the op's own state, and two threads driving one
// awaitable at once must not both park or both unpark it.
PySendResult op_send(PyObject* self, PyObject*, PyObject** result) {
    auto* op = reinterpret_cast<QueueOp*>(self);
    CriticalSection section(self);
    if (op->finished) {
        PyErr_SetString(PyExc_RuntimeError, "cannot reuse already awaited queue operation");
        *result = nullptr;
        return PYGEN_ERROR;
    }
    CallScope call;
    unpark(op, false);
    PyQueue* q = native(op->queue);
    if (q == nullptr) {
        finish(op);
        *result = nullptr;
        return PYGEN_ERROR;
    }
    Status s = attempt(op, q, result);
    if (!would_block(s)) return finish_with(op, s, result);
    return park(op, q, result);
}

PyObject* op_await(PyObject* self) { return Py_NewRef(self); }

// throw(): the task gave up (cancelled, or its caller's timeout): the
// operation has not happened and will not; the exception propagates.
PyObject* op_throw(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
    auto* op = reinterpret_cast<QueueOp*>(self);
    CriticalSection section(self);
    CallScope call;
    unpark(op, true);
    finish(op);
    return awaitable::raise_thrown(args, nargs);
}

PyObject* op_close(PyObject* self, PyObject*) {
    auto* op = reinterpret_cast<QueueOp*>(self);
    CriticalSection section(self);
    CallScope call;
    unpark(op, true);
    finish(op);
    Py_RETURN_NONE;
}

void op_dealloc(PyObject* self) {
    auto* op = reinterpret_cast<QueueOp*>(self);
    PyObject_GC_UnTrack(self);
    {
        CallScope call;
        unpark(op, true);  // abandoned mid-wait: never strand a wake-up
    }
    Py_XDECREF(op->item);
    Py_XDECREF(op->queue);
    PyObject_GC_Del(self);
}

int op_traverse(PyObject* self, visitproc visit, void* arg) {
    auto* op = reinterpret_cast<QueueOp*>(self);
    Py_VISIT(op->queue);
    Py_VISIT(op->item);
    Py_VISIT(op->future);
    return 0;
}

int op_clear(PyObject* self) {
    auto* op = reinterpret_cast<QueueOp*>(self);
    {
        CallScope call;
        unpark(op, true);
    }
    Py_CLEAR(op->item);
    Py_CLEAR(op->queue);
    return 0;
}

PyAsyncMethods op_async = {op_await, nullptr, nullptr, op_send};

PyMethodDef op_methods[] = {
    {"send", awaitable::send<op_send>, METH_O, nullptr},
    {"throw", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(op_throw)),
     METH_FASTCALL, nullptr},
    {"close", op_close, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyTypeObject QueueOpType = [] {
    PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
    t.tp_name = "fastchan._core.QueueOp";
    t.tp_basicsize = sizeof(QueueOp);
    t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC;
    t.tp_doc = "An awaitable get() or put() of a fastchan.asyncio queue.";
    t.tp_dealloc = op_dealloc;
    t.tp_traverse = op_traverse;
    t.tp_clear = op_clear;
    t.tp_as_async = &op_async;
    t.tp_iter = PyObject_SelfIter;
    t.tp_iternext = awaitable::iternext<op_send>;
    t.tp_methods = op_methods;
    return t;
}();

PyObject* make_op(PyObject* queue, OpKind kind, PyObject* item) {
    QueueOp* op = PyObject_GC_New(QueueOp, &QueueOpType);
    if (op == nullptr) return nullptr;
    op->queue = Py_NewRef(queue);
    op->item = Py_XNewRef(item);
    op->future = nullptr;
    op->waiter = nullptr;
    op->kind = kind;
    op->finished = false;
    PyObject_GC_Track(op);
    return reinterpret_cast<PyObject*>(op);
}

PyObject* async_get(PyObject* self, PyObject*) { return make_op(self, OpKind::get, nullptr); }
PyObject* async_put(PyObject* self, PyObject* item) { return make_op(self, OpKind::put, item); }
PyObject* async_join(PyObject* self, PyObject*) { return make_op(self, OpKind::join, nullptr); }

PyMethodDef kAsyncGet = {
    "get", async_get, METH_NOARGS,
    "get($self)\n--\n\nRemove and return an item; wait until one is available (awaitable).\n\n"
    "Raises QueueShutDown if the queue has been shut down and is empty, or\n"
    "at once after shutdown(immediate=True)."};
PyMethodDef kAsyncPut = {
    "put", async_put, METH_O,
    "put($self, item)\n--\n\nPut an item into the queue; wait for a free slot if it is full\n"
    "(awaitable). Raises QueueShutDown if the queue has been shut down."};
PyMethodDef kAsyncJoin = {
    "join", async_join, METH_NOARGS,
    "join($self)\n--\n\nWait until every item put has been gotten and marked done (awaitable)."};

}  // namespace

void add_async_fast_methods(py::handle cls) {
    if (PyType_Ready(&QueueOpType) < 0) throw py::error_already_set();
    if (g_blocking_name == nullptr) {
        g_blocking_name = PyUnicode_InternFromString("_asyncio_future_blocking");
        if (g_blocking_name == nullptr) throw py::error_already_set();
    }
    auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
    for (PyMethodDef* def : {&kAsyncGet, &kAsyncPut, &kAsyncJoin}) {
        py::object descr =
            py::reinterpret_steal<py::object>(PyDescr_NewMethod(type, def));
        if (!descr || PyObject_SetAttrString(cls.ptr(), def->ml_name, descr.ptr()) < 0) {
            throw py::error_already_set();
        }
    }
}


}  // namespace fastchan::binding
