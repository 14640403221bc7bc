// fastchan's exception classes (defined in Python, fastchan/_errors.py, so
// they can inherit from both queue's and asyncio's), and the mapping from a
// core Status to the exception a queue method raises.
#pragma once

#include <Python.h>

#include <fastchan/status.hpp>

namespace fastchan::binding {

struct Errors {
    PyObject* empty = nullptr;
    PyObject* full = nullptr;
    PyObject* shutdown = nullptr;
    PyObject* channel_closed = nullptr;
};

// Filled once at module import; the references are kept for the process.
inline Errors g_errors;

// _core.EMPTY: what _try_get returns when no item is available.
inline PyObject* g_empty_marker = nullptr;

// Sets the exception for a failed operation and returns nullptr.
// `would_block` is Empty for gets and Full for puts.
inline PyObject* raise_for(Status s, PyObject* would_block) {
    switch (s) {
        case Status::closed: PyErr_SetNone(g_errors.shutdown); break;
        case Status::interrupted: break;  // the Python error is already set
        default: PyErr_SetNone(would_block); break;
    }
    return nullptr;
}

// Adds a note (BaseException.add_note, 3.11+; shown in the traceback) to the
// exception that is set, which stays set: how much of a batch happened
// before it was interrupted, for instance.
inline void note_current_error(const char* note) {
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (value != nullptr) {
        PyObject* r = PyObject_CallMethod(value, "add_note", "s", note);  // (no add_note before 3.11)
        if (r == nullptr) PyErr_Clear();
        Py_XDECREF(r);
    }
    PyErr_Restore(type, value, traceback);
}

}  // namespace fastchan::binding
