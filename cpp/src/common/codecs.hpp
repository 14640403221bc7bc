// Typed channels and queues keep their items natively (int64_t, double,
// std::string: their dtypes) and convert only at the Python boundary. A
// Codec<T> is that conversion; Codec<PyObject*> keeps plain Python objects
// (one strong reference per item held). All of it runs with the GIL held.
#pragma once

#include <Python.h>

#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <type_traits>

#include "common/dtypes.hpp"
#include "common/faults.hpp"

namespace fastchan::binding {

// from_py: a native value from a borrowed object, or false with TypeError /
// OverflowError set (naming the value) and `out` untouched.
// to_py: a new reference holding the value, or nullptr on MemoryError (then
// the value is untouched: the caller puts it back). An object is consumed.
// release: lets go of a value that will never reach Python.
// Each dtype of FASTCHAN_DTYPES (fastchan/dtypes.hpp) has one. The primary
// template serves signed integers (int64...), as array.array('q') does:
// ints and objects with __index__; anything else is a TypeError (floats
// included), and what does not fit an OverflowError. So a new signed
// integer dtype needs no codec of its own.
template <class T>
struct Codec {
    static_assert(std::is_integral_v<T> && std::is_signed_v<T> && sizeof(T) <= sizeof(long long),
                  "a dtype other than a signed integer needs its own Codec");
    static bool from_py(PyObject* obj, T& out) {
        if (!PyLong_Check(obj) && !PyIndex_Check(obj)) {
            PyErr_Format(PyExc_TypeError, "an %s item must be an int, not %.100s %R", DtypeTraits<T>::name,
                         Py_TYPE(obj)->tp_name, obj);
            return false;
        }
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (overflow == 0 && v == -1 && PyErr_Occurred()) return false;  // __index__ raised
        // (The range test folds away for int64.)
        if (overflow != 0 || v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
            PyErr_Format(PyExc_OverflowError, "%R does not fit in an %s item", obj, DtypeTraits<T>::name);
            return false;
        }
        out = static_cast<T>(v);
        return true;
    }
    static PyObject* to_py(T& value) {
        return fault_strikes(Fault::to_python) ? PyErr_NoMemory() : PyLong_FromLongLong(value);
    }
    static void release(T&) {}
};

template <>
struct Codec<PyObject*> {
    static bool from_py(PyObject* obj, PyObject*& out) {
        Py_INCREF(obj);
        out = obj;
        return true;
    }
    static PyObject* to_py(PyObject*& value) { return value; }
    static void release(PyObject*& value) { Py_DECREF(value); }
};

// As array.array('d') does: floats, ints and objects with __float__ or
// __index__; an int too large for a double is an OverflowError.
template <>
struct Codec<double> {
    static bool from_py(PyObject* obj, double& out) {
        if (PyFloat_CheckExact(obj)) return out = PyFloat_AS_DOUBLE(obj), true;
        if (PyUnicode_Check(obj) || PyBytes_Check(obj) || PyComplex_Check(obj) || !PyNumber_Check(obj)) {
            PyErr_Format(PyExc_TypeError, "a float64 item must be a real number, not %.100s %R",
                         Py_TYPE(obj)->tp_name, obj);
            return false;
        }
        double v = PyFloat_AsDouble(obj);
        if (v == -1.0 && PyErr_Occurred()) {
            if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_OverflowError, "%R does not fit in a float64 item", obj);
            }
            return false;
        }
        out = v;
        return true;
    }
    static PyObject* to_py(double& value) {
        return fault_strikes(Fault::to_python) ? PyErr_NoMemory() : PyFloat_FromDouble(value);
    }
    static void release(double&) {}
};

// bytes, bytearray, memoryview or any other C-contiguous buffer; items come
// back as bytes. A str is a TypeError: encode it first.
template <>
struct Codec<std::string> {
    static bool from_py(PyObject* obj, std::string& out) {
        if (PyBytes_CheckExact(obj)) return assign(out, PyBytes_AS_STRING(obj), PyBytes_GET_SIZE(obj));
        Py_buffer view;
        if (PyUnicode_Check(obj) || !PyObject_CheckBuffer(obj) ||
            PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS) < 0) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "a bytes item must be a bytes-like object, not %.100s %.200R",
                         Py_TYPE(obj)->tp_name, obj);
            return false;
        }
        bool ok = assign(out, static_cast<const char*>(view.buf), view.len);
        PyBuffer_Release(&view);
        return ok;
    }
    static PyObject* to_py(std::string& value) {
        if (fault_strikes(Fault::to_python)) return PyErr_NoMemory();
        return PyBytes_FromStringAndSize(value.data(), static_cast<Py_ssize_t>(value.size()));
    }
    static void release(std::string&) {}

private:
    // Callers are plain C entry points: no C++ exception may leave.
    static bool assign(std::string& out, const char* data, Py_ssize_t size) {
        try {
            out.assign(data, static_cast<std::size_t>(size));
            return true;
        } catch (const std::bad_alloc&) {
            PyErr_NoMemory();
            return false;
        }
    }
};

}  // namespace fastchan::binding
