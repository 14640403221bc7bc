// put_many / get_many for the object channel and the object queues: one
// native loop per batch, so a batch pays one Python call, not one per item.
#pragma once

#include <Python.h>

#include <cstddef>

#include <pybind11/pybind11.h>

namespace fastchan::py {

// max_items: an int >= 1 (bool refused), else TypeError/ValueError naming it.
inline std::size_t parse_max_items(pybind11::handle obj) {
    if (PyBool_Check(obj.ptr()) || !PyIndex_Check(obj.ptr())) {
        PyErr_Format(PyExc_TypeError, "max_items must be an int, not %.100s %R", Py_TYPE(obj.ptr())->tp_name,
                     obj.ptr());
        throw pybind11::error_already_set();
    }
    Py_ssize_t n = PyNumber_AsSsize_t(obj.ptr(), nullptr);  // clamped on overflow, keeping the sign
    if (n == -1 && PyErr_Occurred()) throw pybind11::error_already_set();
    if (n < 1) {
        PyErr_Format(PyExc_ValueError, "max_items must be >= 1, not %R", obj.ptr());
        throw pybind11::error_already_set();
    }
    return static_cast<std::size_t>(n);
}

// Appends a new reference to a Python list (stealing it).
struct ListSink {
    pybind11::list list;
    void push_back(PyObject* item) {
        int failed = PyList_Append(list.ptr(), item);
        Py_DECREF(item);
        if (failed) throw pybind11::error_already_set();
    }
};

}  // namespace fastchan::py
