// Argument parsing shared by every room (C entry points and pybind11 ones).
#pragma once

#include <Python.h>

#include <cstddef>

#include <fastchan/status.hpp>

namespace fastchan::binding {

// timeout: None or a real number; ignored when not blocking, as in the
// stdlib. False with TypeError/ValueError (naming the value) if invalid.
bool parse_timeout(PyObject* obj, bool block, detail::Clock::time_point& deadline);

// block: any object, by truth value (true when obj is nullptr). False with
// the truth test's error set.
bool parse_block(PyObject* obj, bool& block);

// Matches METH_FASTCALL arguments to parameter names, as a Python signature
// would. out[i] stays nullptr for a parameter not given.
template <std::size_t N>
inline bool bind_args(const char* fname, const char* const (&names)[N], std::size_t required,
               PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, PyObject* (&out)[N]) {
    if (nargs > static_cast<Py_ssize_t>(N)) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zu arguments (%zd given)", fname, N,
                     nargs);
        return false;
    }
    for (std::size_t i = 0; i < N; ++i) out[i] = i < static_cast<std::size_t>(nargs) ? args[i] : nullptr;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; ++k) {
        PyObject* key = PyTuple_GET_ITEM(kwnames, k);
        std::size_t i = 0;
        while (i < N && PyUnicode_CompareWithASCIIString(key, names[i]) != 0) ++i;
        if (i == N) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument %R", fname, key);
            return false;
        }
        if (out[i] != nullptr) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname,
                         names[i]);
            return false;
        }
        out[i] = args[nargs + k];
    }
    for (std::size_t i = 0; i < required; ++i) {
        if (out[i] == nullptr) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, names[i]);
            return false;
        }
    }
    return true;
}

}  // namespace fastchan::binding
