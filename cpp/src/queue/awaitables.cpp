// Native awaitables for fastchan.asyncio's get() and put() (CPython >= 3.10).
//
// `await q.get()` on a queue that has an item costs one C call and one
// am_send, with no coroutine frame: the awaitable tries the operation when it
// is first driven (never at call time, so an awaitable that is created and
// dropped takes nothing), returns the result at once if it can, and
// otherwise hands over to the queue's Python slow path (_get_slow/_put_slow),
// forwarding send/throw/close to it like `yield from`.
#include <Python.h>

#include "common/pybind.hpp"

#include "loops/awaitable.hpp"
#include "common/errors.hpp"
#include "queue/methods.hpp"
#include "loops/loop_waker.hpp"
#include "queue/queue.hpp"

namespace fastchan::binding {

#if PY_VERSION_HEX >= 0x030A0000

namespace {

enum class OpKind : int { get, put };

struct QueueOp {
    PyObject_HEAD
    PyObject* queue;     // the fastchan.asyncio queue object
    PyObject* item;      // put's item (strong), or nullptr
    PyObject* delegate;  // the slow-path coroutine, once needed
    OpKind kind;
    bool finished;
};

// First drive: try the operation; start the slow path if it would block.
PySendResult first_send(QueueOp* op, PyObject** result) {
    CallScope call;
    PyQueue* q = native(op->queue);
    if (q == nullptr) {
        *result = nullptr;
        return PYGEN_ERROR;
    }
    Status s;
    if (op->kind == OpKind::get) {
        PyObject* item;
        s = q->get(&item, false, detail::kNoDeadline);
        if (s == Status::ok) {
            *result = item;
            return PYGEN_RETURN;
        }
    } else {
        s = q->put(op->item, false, detail::kNoDeadline);
        if (s == Status::ok) {
            *result = Py_NewRef(Py_None);
            return PYGEN_RETURN;
        }
    }
    if (!would_block(s)) {
        raise_for(s, op->kind == OpKind::get ? g_errors.empty : g_errors.full);
        *result = nullptr;
        return PYGEN_ERROR;
    }
    // "(O)", not "O": a tuple item must stay one argument.
    op->delegate = op->kind == OpKind::get
                       ? PyObject_CallMethod(op->queue, "_get_slow", nullptr)
                       : PyObject_CallMethod(op->queue, "_put_slow", "(O)", op->item);
    if (op->delegate == nullptr) {
        *result = nullptr;
        return PYGEN_ERROR;
    }
    return PyIter_Send(op->delegate, Py_None, result);
}

PySendResult op_send(PyObject* self, PyObject* arg, PyObject** result) {
    auto* op = reinterpret_cast<QueueOp*>(self);
    if (op->finished) {
        PyErr_SetString(PyExc_RuntimeError, "cannot reuse already awaited queue operation");
        *result = nullptr;
        return PYGEN_ERROR;
    }
    PySendResult r = op->delegate ? PyIter_Send(op->delegate, arg, result) : first_send(op, result);
    if (r != PYGEN_NEXT) op->finished = true;
    return r;
}

PyObject* op_await(PyObject* self) { return Py_NewRef(self); }

// throw(): into the slow path if it runs; before the first drive, the
// operation never happens and the exception propagates.
PyObject* op_throw(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
    auto* op = reinterpret_cast<QueueOp*>(self);
    if (op->delegate != nullptr && !op->finished) {
        PyObject* result = awaitable::throw_into(op->delegate, args, nargs);
        if (result == nullptr) op->finished = true;
        return result;
    }
    op->finished = true;
    return awaitable::raise_thrown(args, nargs);
}

PyObject* op_close(PyObject* self, PyObject*) {
    auto* op = reinterpret_cast<QueueOp*>(self);
    op->finished = true;
    if (op->delegate != nullptr) return PyObject_CallMethod(op->delegate, "close", nullptr);
    Py_RETURN_NONE;
}

void op_dealloc(PyObject* self) {
    auto* op = reinterpret_cast<QueueOp*>(self);
    PyObject_GC_UnTrack(self);
    Py_XDECREF(op->delegate);  // closing the slow path cancels its registration
    Py_XDECREF(op->item);
    Py_XDECREF(op->queue);
    PyObject_GC_Del(self);
}

int op_traverse(PyObject* self, visitproc visit, void* arg) {
    auto* op = reinterpret_cast<QueueOp*>(self);
    Py_VISIT(op->queue);
    Py_VISIT(op->item);
    Py_VISIT(op->delegate);
    return 0;
}

int op_clear(PyObject* self) {
    auto* op = reinterpret_cast<QueueOp*>(self);
    Py_CLEAR(op->delegate);
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
    op->delegate = nullptr;
    op->kind = kind;
    op->finished = false;
    PyObject_GC_Track(op);
    return reinterpret_cast<PyObject*>(op);
}

PyObject* async_get(PyObject* self, PyObject*) { return make_op(self, OpKind::get, nullptr); }
PyObject* async_put(PyObject* self, PyObject* item) { return make_op(self, OpKind::put, item); }

PyMethodDef kAsyncGet = {
    "get", async_get, METH_NOARGS,
    "get()\n--\n\nRemove and return an item; wait until one is available (awaitable).\n\n"
    "Raises QueueShutDown if the queue has been shut down and is empty, or\n"
    "at once after shutdown(immediate=True)."};
PyMethodDef kAsyncPut = {
    "put", async_put, METH_O,
    "put(item)\n--\n\nPut an item into the queue; wait for a free slot if it is full\n"
    "(awaitable). Raises QueueShutDown if the queue has been shut down."};

}  // namespace

void add_async_fast_methods(py::handle cls) {
    if (PyType_Ready(&QueueOpType) < 0) throw py::error_already_set();
    auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
    for (PyMethodDef* def : {&kAsyncGet, &kAsyncPut}) {
        py::object descr =
            py::reinterpret_steal<py::object>(PyDescr_NewMethod(type, def));
        if (!descr || PyObject_SetAttrString(cls.ptr(), def->ml_name, descr.ptr()) < 0) {
            throw py::error_already_set();
        }
    }
}

#else

void add_async_fast_methods(py::handle) {}  // 3.9: the Python coroutines serve

#endif

}  // namespace fastchan::binding
