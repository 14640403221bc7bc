// put_many / get_many for channels and queues: one native loop per batch,
// so a batch pays one Python call, not one per item. Typed batches convert
// the whole batch at the boundary (codecs.hpp), and can come back as an
// array.array instead of a list.
#pragma once

#include <Python.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include <pybind11/pybind11.h>

#include "codecs.hpp"

namespace fastchan::py {

// The dtype as Python sees it: its name, or None for objects.
inline pybind11::object dtype_object(Dtype d) {
    const char* name = dtype_name(d);
    return name ? pybind11::object(pybind11::str(name)) : pybind11::object(pybind11::none());
}

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

// The items of a batch to send, converted to T before any is sent, so a bad
// item (TypeError/OverflowError naming it) leaves the channel untouched. An
// int64/float64 buffer of the matching format (array.array('q'/'d'), a numpy
// array...) is copied in one go.
template <class T>
std::vector<T> batch_from_py(pybind11::handle items) {
    std::vector<T> out;
    if constexpr (std::is_arithmetic_v<T>) {
        Py_buffer view;
        if (PyObject_CheckBuffer(items.ptr()) &&
            PyObject_GetBuffer(items.ptr(), &view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) == 0) {
            const char* f = view.format ? view.format : "B";
            if (*f == '@' || *f == '=' || *f == '<') ++f;
            bool match = view.itemsize == sizeof(T) && f[1] == '\0' &&
                         (std::is_same_v<T, double> ? *f == 'd' : (*f == 'q' || *f == 'l'));
            if (match) {
                out.resize(static_cast<std::size_t>(view.len) / sizeof(T));
                std::memcpy(out.data(), view.buf, out.size() * sizeof(T));
            }
            PyBuffer_Release(&view);
            if (match) return out;
        }
        PyErr_Clear();
    }
    Py_ssize_t hint = PyObject_LengthHint(items.ptr(), 0);
    if (hint < 0) throw pybind11::error_already_set();
    out.reserve(static_cast<std::size_t>(hint));
    for (pybind11::handle item : pybind11::iter(items)) {
        out.emplace_back();
        if (!Codec<T>::from_py(item.ptr(), out.back())) throw pybind11::error_already_set();
    }
    return out;
}

// For the awaitable batches, which send item by item: a typed batch as a
// list, every item checked first (TypeError/OverflowError before any is
// sent); objects as given (streamed: any object goes).
template <class T>
pybind11::object checked_batch(pybind11::iterable items) {
    if constexpr (std::is_same_v<T, PyObject*>) {
        return std::move(items);
    } else {
        pybind11::list all(pybind11::iter(items));
        batch_from_py<T>(all);
        return std::move(all);
    }
}

// Received items (consumed) as a list.
template <class T>
pybind11::list batch_to_list(std::vector<T>& items) {
    pybind11::list out(items.size());
    std::size_t i = 0;
    for (; i < items.size(); ++i) {
        PyObject* obj = Codec<T>::to_py(items[i]);
        if (obj == nullptr) break;
        PyList_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i), obj);
    }
    if (i < items.size()) {  // MemoryError: let go of the rest
        for (std::size_t j = i + 1; j < items.size(); ++j) Codec<T>::release(items[j]);
        throw pybind11::error_already_set();
    }
    return out;
}

// array.array and its typecodes 'q' and 'd': set at module init
// (register_channel), kept for the process.
struct ArrayType {
    PyObject* type = nullptr;
    PyObject* int64 = nullptr;
    PyObject* float64 = nullptr;
};
inline ArrayType g_array;

// as_array: received int64/float64 items as an array.array ('q' or 'd').
template <class T>
pybind11::object batch_to_array(const std::vector<T>& items) {
    static_assert(std::is_arithmetic_v<T>);
    PyObject* typecode = std::is_same_v<T, double> ? g_array.float64 : g_array.int64;
    // array(typecode, bytes) takes the bytes as frombytes() would.
    pybind11::object bytes = pybind11::reinterpret_steal<pybind11::object>(PyBytes_FromStringAndSize(
        reinterpret_cast<const char*>(items.data()), static_cast<Py_ssize_t>(items.size() * sizeof(T))));
    if (!bytes) throw pybind11::error_already_set();
    PyObject* array = PyObject_CallFunctionObjArgs(g_array.type, typecode, bytes.ptr(), nullptr);
    if (array == nullptr) throw pybind11::error_already_set();
    return pybind11::reinterpret_steal<pybind11::object>(array);
}

// as_array needs an int64/float64 dtype: checked before anything is
// received (ValueError naming the dtype), so no item is taken for nothing.
template <class T>
void check_as_array(bool as_array) {
    if (!as_array || std::is_arithmetic_v<T>) return;
    const char* name = dtype_name(Codec<T>::dtype);
    PyErr_Format(PyExc_ValueError, "as_array=True needs dtype 'int64' or 'float64', not %s",
                 name ? name : "None (objects)");
    throw pybind11::error_already_set();
}

// A received batch (consumed), as get_many returns it: a list, or with
// as_array (checked by check_as_array) an array.array.
template <class T>
pybind11::object batch_result(std::vector<T>& items, bool as_array) {
    if constexpr (std::is_arithmetic_v<T>) {
        if (as_array) return batch_to_array(items);
    }
    return batch_to_list(items);
}

}  // namespace fastchan::py
