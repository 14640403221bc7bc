#include "queue/methods.hpp"

#include <chrono>
#include <cmath>
#include <cstring>

#include "common/arguments.hpp"
#include "common/errors.hpp"
#include "common/initialized.hpp"
#include "loops/loop_waker.hpp"
#include "queue/queue.hpp"

namespace fastchan::binding {

// The native queue behind `self`. The method descriptor has already checked
// that `self` is an instance of the class (or a subclass) it was added to.
PyQueue* native(PyObject* self) {
    auto v_h = reinterpret_cast<py::detail::instance*>(self)->get_value_and_holder();
    if (!v_h.holder_constructed()) {  // (its value pointer may be pybind11's lazy allocation)
        set_not_initialized(self);
        return nullptr;
    }
    // SimplePyQueue adds no data to its single, non-virtual base.
    return static_cast<PyQueue*>(v_h.value_ptr());
}

namespace {

using detail::Clock;


PyObject* queue_put(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    CallScope call;
    static const char* const names[] = {"item", "block", "timeout"};
    PyObject* a[3];
    if (!bind_args("put", names, 1, args, nargs, kwnames, a)) return nullptr;
    bool block;
    Clock::time_point deadline;
    if (!parse_block(a[1], block) || !parse_timeout(a[2], block, deadline)) return nullptr;
    PyQueue* q = native(self);
    if (q == nullptr) return nullptr;
    Status s = q->put(a[0], block, deadline);
    if (s != Status::ok) return raise_for(s, g_errors.full);
    Py_RETURN_NONE;
}

PyObject* queue_get(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    CallScope call;
    static const char* const names[] = {"block", "timeout"};
    PyObject* a[2];
    if (!bind_args("get", names, 0, args, nargs, kwnames, a)) return nullptr;
    bool block;
    Clock::time_point deadline;
    if (!parse_block(a[0], block) || !parse_timeout(a[1], block, deadline)) return nullptr;
    PyQueue* q = native(self);
    if (q == nullptr) return nullptr;
    PyObject* item;
    Status s = q->get(&item, block, deadline);
    return s == Status::ok ? item : raise_for(s, g_errors.empty);
}

PyObject* queue_put_nowait(PyObject* self, PyObject* item) {
    CallScope call;
    PyQueue* q = native(self);
    if (q == nullptr) return nullptr;
    Status s = q->put(item, false, detail::kNoDeadline);
    if (s != Status::ok) return raise_for(s, g_errors.full);
    Py_RETURN_NONE;
}

PyObject* queue_get_nowait(PyObject* self, PyObject*) {
    CallScope call;
    PyQueue* q = native(self);
    if (q == nullptr) return nullptr;
    PyObject* item;
    Status s = q->get(&item, false, detail::kNoDeadline);
    return s == Status::ok ? item : raise_for(s, g_errors.empty);
}

PyObject* queue_qsize(PyObject* self, PyObject*) {
    CallScope call;
    PyQueue* q = native(self);
    return q ? PyLong_FromSize_t(q->qsize()) : nullptr;
}

PyObject* queue_empty(PyObject* self, PyObject*) {
    CallScope call;
    PyQueue* q = native(self);
    return q ? PyBool_FromLong(q->qsize() == 0) : nullptr;
}

PyObject* queue_full(PyObject* self, PyObject*) {
    CallScope call;
    PyQueue* q = native(self);
    return q ? PyBool_FromLong(q->full()) : nullptr;
}

#define FASTCALL_KW(fn) reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(fn))

PyMethodDef kPut = {
    "put", FASTCALL_KW(queue_put), METH_FASTCALL | METH_KEYWORDS,
    "put($self, item, block=True, timeout=None)\n--\n\n"
    "Put an item into the queue.\n\n"
    "If 'block' is true and 'timeout' is None, wait until a free slot is\n"
    "available (the GIL is released while waiting). If 'timeout' is a\n"
    "non-negative number, wait at most that many seconds, then raise Full.\n"
    "If 'block' is false, put the item only if a slot is free now, else\n"
    "raise Full ('timeout' is ignored). Raises ShutDown once shut down."};
PyMethodDef kGet = {
    "get", FASTCALL_KW(queue_get), METH_FASTCALL | METH_KEYWORDS,
    "get($self, block=True, timeout=None)\n--\n\n"
    "Remove and return an item from the queue.\n\n"
    "If 'block' is true and 'timeout' is None, wait until an item is\n"
    "available (the GIL is released while waiting). If 'timeout' is a\n"
    "non-negative number, wait at most that many seconds, then raise Empty.\n"
    "If 'block' is false, return an item only if one is available now, else\n"
    "raise Empty ('timeout' is ignored). Raises ShutDown once shut down and\n"
    "empty, or at once after shutdown(immediate=True)."};
PyMethodDef kPutNowait = {
    "put_nowait", reinterpret_cast<PyCFunction>(queue_put_nowait), METH_O,
    "put_nowait($self, item)\n--\n\nPut an item only if a free slot is available now, else raise Full."};
PyMethodDef kGetNowait = {
    "get_nowait", reinterpret_cast<PyCFunction>(queue_get_nowait), METH_NOARGS,
    "get_nowait($self)\n--\n\nRemove and return an item if one is available now, else raise Empty."};
PyMethodDef kQsize = {"qsize", reinterpret_cast<PyCFunction>(queue_qsize), METH_NOARGS,
                      "qsize($self)\n--\n\nReturn the number of items in the queue (a snapshot)."};
PyMethodDef kEmpty = {"empty", reinterpret_cast<PyCFunction>(queue_empty), METH_NOARGS,
                      "empty($self)\n--\n\nReturn True if the queue is empty now (a snapshot)."};
PyMethodDef kFull = {"full", reinterpret_cast<PyCFunction>(queue_full), METH_NOARGS,
                     "full($self)\n--\n\nReturn True if the queue is full now (a snapshot)."};


PyMethodDef kSimplePut = {
    "put", FASTCALL_KW(queue_put), METH_FASTCALL | METH_KEYWORDS,
    "put($self, item, block=True, timeout=None)\n--\n\n"
    "Put the item on the queue. Never blocks: 'block' and 'timeout' exist\n"
    "for compatibility with Queue.put()."};

void add_methods(py::handle cls, std::initializer_list<PyMethodDef*> defs) {
    auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
    for (PyMethodDef* def : defs) {
        py::object descr =
            py::reinterpret_steal<py::object>(PyDescr_NewMethod(type, def));
        if (!descr || PyObject_SetAttrString(cls.ptr(), def->ml_name, descr.ptr()) < 0) {
            throw py::error_already_set();
        }
    }
}

}  // namespace

void add_queue_fast_methods(py::handle cls) {
    add_methods(cls, {&kPut, &kGet, &kPutNowait, &kGetNowait, &kQsize, &kEmpty, &kFull});
}

void add_simple_queue_fast_methods(py::handle cls) {
    add_methods(cls, {&kSimplePut, &kGet, &kPutNowait, &kGetNowait, &kQsize, &kEmpty});
}

}  // namespace fastchan::binding
