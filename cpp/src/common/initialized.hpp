// pybind11 runs a bound method on an instance whose __init__ never ran
// (cls.__new__(cls)) by allocating raw memory for the C++ object and using
// it as one ("lazy allocation"): garbage values, writes through bad
// pointers, hangs. fastchan's classes use this caster instead, which
// refuses such an instance with a TypeError naming its class:
//     FASTCHAN_INITIALIZED_ONLY(fastchan::binding::PyQueue)
// after the class, at global scope, in the header every binding of the
// class includes (a caster must be the same in every translation unit).
#pragma once

#include <Python.h>

#include <utility>

#include "common/pybind.hpp"

namespace fastchan::binding {

// The TypeError for `self`, an instance whose __init__ never ran.
inline void set_not_initialized(PyObject* self) {
    PyErr_Format(PyExc_TypeError, "%.200s object is not initialized (__init__ was not called)",
                 Py_TYPE(self)->tp_name);
}

template <class T>
class InitializedCaster : public py::detail::type_caster_base<T> {
public:
    bool load(py::handle src, bool convert) {
        source_ = src;
        return this->template load_impl<InitializedCaster<T>>(src, convert);
    }

    // Called by load_impl once `src` is known to be an instance of T.
    void load_value(py::detail::value_and_holder&& v_h) {
        if (!v_h.holder_constructed()) {
            set_not_initialized(source_.ptr());
            throw py::error_already_set();
        }
        py::detail::type_caster_base<T>::load_value(std::move(v_h));
    }

private:
    py::handle source_;
};

}  // namespace fastchan::binding

#define FASTCHAN_INITIALIZED_ONLY(T)                                                 \
    namespace pybind11::detail {                                                     \
    template <>                                                                      \
    class type_caster<T> : public ::fastchan::binding::InitializedCaster<T> {};           \
    }
