// pybind11 runs a bound method on an instance whose __init__ never ran
// (cls.__new__(cls)) by allocating raw memory for the C++ object and using
// it as one ("lazy allocation"): garbage values, writes through bad
// pointers, hangs. fastchan's classes use this caster instead, which
// refuses such an instance with a TypeError naming its class:
//     FASTCHAN_INITIALIZED_ONLY(fastchan::py::PyQueue)
// after the class, at global scope, in the header every binding of the
// class includes (a caster must be the same in every translation unit).
#pragma once

#include <Python.h>

#include <utility>

#include <pybind11/pybind11.h>

namespace fastchan::py {

// The TypeError for `self`, an instance whose __init__ never ran.
inline void set_not_initialized(PyObject* self) {
    PyErr_Format(PyExc_TypeError, "%.200s object is not initialized (__init__ was not called)",
                 Py_TYPE(self)->tp_name);
}

template <class T>
class InitializedCaster : public pybind11::detail::type_caster_base<T> {
public:
    bool load(pybind11::handle src, bool convert) {
        source_ = src;
        return this->template load_impl<InitializedCaster<T>>(src, convert);
    }

    // Called by load_impl once `src` is known to be an instance of T.
    void load_value(pybind11::detail::value_and_holder&& v_h) {
        if (!v_h.holder_constructed()) {
            set_not_initialized(source_.ptr());
            throw pybind11::error_already_set();
        }
        pybind11::detail::type_caster_base<T>::load_value(std::move(v_h));
    }

private:
    pybind11::handle source_;
};

}  // namespace fastchan::py

#define FASTCHAN_INITIALIZED_ONLY(T)                                                 \
    namespace pybind11::detail {                                                     \
    template <>                                                                      \
    class type_caster<T> : public ::fastchan::py::InitializedCaster<T> {};           \
    }
