// The generator protocol for native awaitables (queue/awaitables.cpp):
// each defines am_send; these give it send()/throw() and tp_iternext for
// drivers that do not use am_send.
#pragma once

#include <Python.h>

namespace fastchan::binding::awaitable {

// Ends an iteration with `value` (stolen): sets StopIteration, returns nullptr.
inline PyObject* stop_with(PyObject* value) {
    if (value == Py_None) {
        PyErr_SetNone(PyExc_StopIteration);
    } else {
        PyObject* stop = PyObject_CallOneArg(PyExc_StopIteration, value);
        if (stop) PyErr_SetObject(PyExc_StopIteration, stop);
        Py_XDECREF(stop);
    }
    Py_DECREF(value);
    return nullptr;
}

// send(arg) and next() in terms of am_send.
template <PySendResult (*AmSend)(PyObject*, PyObject*, PyObject**)>
PyObject* send(PyObject* self, PyObject* arg) {
    PyObject* result;
    switch (AmSend(self, arg, &result)) {
        case PYGEN_NEXT: return result;
        case PYGEN_RETURN: return stop_with(result);
        default: return nullptr;
    }
}

template <PySendResult (*AmSend)(PyObject*, PyObject*, PyObject**)>
PyObject* iternext(PyObject* self) {
    return send<AmSend>(self, Py_None);
}

// throw(type[, value]) or throw(exception) with nothing to forward to: the
// exception propagates.
inline PyObject* raise_thrown(PyObject* const* args, Py_ssize_t nargs) {
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "throw expected at least 1 argument");
        return nullptr;
    }
    PyObject* typ = args[0];
    PyObject* val = nargs > 1 ? args[1] : Py_None;
    if (PyExceptionInstance_Check(typ)) {
        PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(typ)), typ);
    } else if (PyExceptionClass_Check(typ)) {
        PyErr_SetObject(typ, val);
    } else {
        PyErr_SetString(PyExc_TypeError, "exceptions must derive from BaseException");
    }
    return nullptr;
}

}  // namespace fastchan::binding::awaitable

