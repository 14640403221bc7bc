// fastchan's exception classes (defined in Python, fastchan/_errors.py, so
// they can inherit from both queue's and asyncio's), and the mapping from a
// core Status to the exception a queue method raises.
#pragma once

#include <Python.h>

#include <fastchan/status.hpp>

namespace fastchan::py {

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

}  // namespace fastchan::py
