// put_many / get_many for channels and queues: one native loop per batch,
// so a batch pays one Python call, not one per item. Typed batches convert
// the whole batch at the boundary (codecs.hpp), and can come back as an
// array.array instead of a list.
#pragma once

#include <Python.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "common/pybind.hpp"

#include <fastchan/status.hpp>

#include "common/codecs.hpp"
#include "common/faults.hpp"

namespace fastchan::binding {

// The dtype as Python sees it: its name, or None for objects.
inline py::object dtype_object(Dtype d) {
    const char* name = dtype_name(d);
    return name ? py::object(py::str(name)) : py::object(py::none());
}

// max_items: an int >= 1 (bool refused), else TypeError/ValueError naming it.
inline std::size_t parse_max_items(py::handle obj) {
    if (PyBool_Check(obj.ptr()) || !PyIndex_Check(obj.ptr())) {
        PyErr_Format(PyExc_TypeError, "max_items must be an int, not %.100s %R", Py_TYPE(obj.ptr())->tp_name,
                     obj.ptr());
        throw py::error_already_set();
    }
    Py_ssize_t n = PyNumber_AsSsize_t(obj.ptr(), nullptr);  // clamped on overflow, keeping the sign
    if (n == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (n < 1) {
        PyErr_Format(PyExc_ValueError, "max_items must be >= 1, not %R", obj.ptr());
        throw py::error_already_set();
    }
    return static_cast<std::size_t>(n);
}

// The items of a batch as put_many takes them: any iterable. A buffer that
// cannot be iterated item by item (a memoryview of 0 or 2+ dimensions) is
// refused with an error naming its shape; anything else not iterable with
// a TypeError naming it.
inline py::iterator batch_items(py::handle items) {
    PyObject* it = PyObject_GetIter(items.ptr());
    if (it != nullptr) return py::reinterpret_steal<py::iterator>(it);
    Py_buffer view;
    if (PyObject_CheckBuffer(items.ptr()) && PyObject_GetBuffer(items.ptr(), &view, PyBUF_ND) == 0) {
        py::tuple shape(view.ndim);
        for (int i = 0; i < view.ndim; ++i) shape[static_cast<std::size_t>(i)] = view.shape[i];
        PyBuffer_Release(&view);
        PyErr_Clear();
        if (shape.empty()) {
            PyErr_SetString(PyExc_TypeError, "a batch of items cannot be a 0-dimensional buffer (one value): "
                                             "pass [value]");
        } else {
            PyErr_Format(PyExc_ValueError, "a batch of items must be 1-dimensional, not a buffer of shape %R: "
                                           "flatten it first (numpy's ravel(), memoryview.cast)", shape.ptr());
        }
        throw py::error_already_set();
    }
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "a batch of items must be iterable, not %.100s %.200R", Py_TYPE(items.ptr())->tp_name,
                 items.ptr());
    throw py::error_already_set();
}

namespace detail_batches {

// A buffer's struct format for one T item: its byte order (true: swap to
// native), or false if the format is not T's (one of T's formats in
// FASTCHAN_DTYPES, of sizeof(T) bytes, with an optional '@', '=', '<', '>'
// or '!').
template <class T>
bool matches(const char* format, Py_ssize_t itemsize, bool& swap) {
    constexpr bool little = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
    const char* f = format ? format : "B";
    swap = false;
    switch (*f) {
        case '@': case '=': ++f; break;
        case '<': swap = !little; ++f; break;
        case '>': case '!': swap = little; ++f; break;
        default: break;
    }
    if (itemsize != static_cast<Py_ssize_t>(sizeof(T)) || f[0] == '\0' || f[1] != '\0') return false;
    return std::strchr(DtypeTraits<T>::formats, *f) != nullptr;
}

template <class T>
T byteswapped(T value) {
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    if constexpr (sizeof(T) == 8) {  // the common case, as one instruction
        std::uint64_t bits;
        std::memcpy(&bits, bytes, 8);
        bits = __builtin_bswap64(bits);
        std::memcpy(bytes, &bits, 8);
    } else {
        std::reverse(bytes, bytes + sizeof(T));
    }
    std::memcpy(&value, bytes, sizeof(T));
    return value;
}

}  // namespace detail_batches

// The items of a batch to send, converted to T before any is sent, so a bad
// item (TypeError/OverflowError naming it) leaves the channel untouched. A
// 1-dimensional buffer of one of T's formats (array.array('q'/'d'), a numpy
// array, in either byte order) is copied in one go; other buffers are taken
// item by item (see batch_items).
template <class T>
std::vector<T> batch_from_py(py::handle items) {
    std::vector<T> out;
    if constexpr (has_buffer_format<T>) {
        static_assert(std::is_trivially_copyable_v<T>, "a dtype with buffer formats is copied as bytes");
        Py_buffer view;
        if (PyObject_CheckBuffer(items.ptr()) &&
            PyObject_GetBuffer(items.ptr(), &view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) == 0) {
            bool swap = false;
            bool match = view.ndim == 1 && detail_batches::matches<T>(view.format, view.itemsize, swap);
            if (match) {
                out.resize(static_cast<std::size_t>(view.len) / sizeof(T));
                std::memcpy(out.data(), view.buf, out.size() * sizeof(T));
                if (swap) {
                    for (T& v : out) v = detail_batches::byteswapped(v);
                }
            }
            PyBuffer_Release(&view);
            if (match) return out;
        }
        PyErr_Clear();
    }
    py::iterator it = batch_items(items);
    Py_ssize_t hint = PyObject_LengthHint(items.ptr(), 0);
    if (hint < 0) throw py::error_already_set();
    out.reserve(static_cast<std::size_t>(hint));
    for (py::handle item : it) {
        out.emplace_back();
        if (!Codec<T>::from_py(item.ptr(), out.back())) throw py::error_already_set();
    }
    return out;
}

// For the awaitable batches, which send item by item: a typed batch as a
// list, every item checked first (TypeError/OverflowError before any is
// sent); objects as an iterator over them (streamed: any object goes).
template <class T>
py::object checked_batch(py::handle items) {
    if constexpr (std::is_same_v<T, PyObject*>) {
        return batch_items(items);
    } else {
        std::vector<T> batch = batch_from_py<T>(items);
        py::list all(batch.size());
        for (std::size_t i = 0; i < batch.size(); ++i) {
            PyObject* obj = Codec<T>::to_py(batch[i]);
            if (obj == nullptr) throw py::error_already_set();
            PyList_SET_ITEM(all.ptr(), static_cast<Py_ssize_t>(i), obj);
        }
        return std::move(all);
    }
}

// A received batch while it is being gathered: a vector whose growth can be
// made to fail by the test-only fault switch (faults.hpp).
template <class T>
struct Batch : std::vector<T> {
    void push_back(T&& value) {
        if (fault_strikes(Fault::batch_growth)) throw std::bad_alloc();
        std::vector<T>::push_back(std::move(value));
    }
};

// Received items as a new list, or nullptr with MemoryError set and the
// items untouched (for a typed T: converted values were new objects).
template <class T>
PyObject* batch_to_list(std::vector<T>& items) {
    PyObject* list = fault_strikes(Fault::to_python) ? PyErr_NoMemory()
                                                     : PyList_New(static_cast<Py_ssize_t>(items.size()));
    if (list == nullptr) return nullptr;
    for (std::size_t i = 0; i < items.size(); ++i) {
        PyObject* obj = Codec<T>::to_py(items[i]);  // (objects: the reference itself, never fails)
        if (obj == nullptr) {
            Py_DECREF(list);
            return nullptr;
        }
        PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), obj);
    }
    return list;
}

// array.array, and each dtype's typecode as a str (nullptr if it has none):
// set at module init, kept for the process.
inline PyObject* g_array_type = nullptr;
template <class T>
inline PyObject* g_array_typecode = nullptr;

// as_array: received items as a new array.array of T's typecode, or
// nullptr with the error set and the items untouched.
template <class T>
PyObject* batch_to_array(const std::vector<T>& items) {
    static_assert(has_typecode<T> && std::is_trivially_copyable_v<T>);
    if (fault_strikes(Fault::to_python)) return PyErr_NoMemory();
    PyObject* typecode = g_array_typecode<T>;
    // array(typecode, bytes) takes the bytes as frombytes() would.
    PyObject* bytes = PyBytes_FromStringAndSize(reinterpret_cast<const char*>(items.data()),
                                                static_cast<Py_ssize_t>(items.size() * sizeof(T)));
    if (bytes == nullptr) return nullptr;
    PyObject* array = PyObject_CallFunctionObjArgs(g_array_type, typecode, bytes, nullptr);
    Py_DECREF(bytes);
    return array;
}

// "'int64' or 'float64'": the dtypes as_array serves.
inline const char* array_dtype_choices() {
    static const std::string choices =
        dtype_choices([](auto tag) { return has_typecode<typename decltype(tag)::type>; });
    return choices.c_str();
}

// as_array needs a dtype with a typecode: checked before anything is
// received (ValueError naming the dtype), so no item is taken for nothing.
template <class T>
void check_as_array(bool as_array) {
    if (!as_array || has_typecode<T>) return;
    const char* name = dtype_name(dtype_of<T>);
    PyErr_Format(PyExc_ValueError, "as_array=True needs dtype %s, not %s", array_dtype_choices(),
                 name ? name : "None (objects)");
    throw py::error_already_set();
}

// Appends a received value to a batch; if the batch cannot grow, the value
// goes back to `flavor` (anything with put_back) and the error propagates.
template <class T, class Flavor>
void append(Batch<T>& items, T&& value, Flavor& flavor) {
    try {
        items.push_back(std::move(value));
    } catch (...) {
        flavor.put_back(std::move(value));  // (push_back failed before moving from it)
        throw;
    }
}

// Gives a batch back to where it came from (`flavor`: anything with
// put_back), so that it goes out again in the same order.
template <class T, class Flavor>
void give_back(std::vector<T>& items, Flavor& flavor) {
    for (auto it = items.rbegin(); it != items.rend(); ++it) flavor.put_back(std::move(*it));
    items.clear();
}

// Gathers a batch with `receive` (which appends to a Batch<T> and returns
// the first receive's status). If the batch cannot grow (MemoryError), what
// was gathered goes back to `flavor` (the item being appended went back
// already, see Buffered::try_recv_some) and MemoryError is raised.
template <class T, class Flavor, class Receive>
Status gather(Batch<T>& items, Flavor& flavor, Receive&& receive) {
    try {
        return receive();
    } catch (const std::bad_alloc&) {
        give_back(items, flavor);
        PyErr_NoMemory();
        throw py::error_already_set();
    }
}

// A received batch, as get_many returns it: a list, or with as_array
// (checked by check_as_array) an array.array. If it cannot be built
// (MemoryError), every item goes back to `flavor` and the error is raised:
// no item is ever lost to a failed conversion.
template <class T, class Flavor>
py::object batch_result(std::vector<T>& items, bool as_array, Flavor& flavor) {
    PyObject* result;
    if constexpr (has_typecode<T>) {
        result = as_array ? batch_to_array(items) : batch_to_list(items);
    } else {
        result = batch_to_list(items);
    }
    if (result == nullptr) {
        give_back(items, flavor);
        throw py::error_already_set();
    }
    return py::reinterpret_steal<py::object>(result);
}

}  // namespace fastchan::binding
