// The shared ring's outcomes as Python exceptions, for the binding's files
// on it (register_process.cpp, typed_items.hpp, ring_watch.hpp).
#pragma once

#include "common/pybind.hpp"

#include <stdexcept>
#include <system_error>

#include "common/errors.hpp"

namespace fastchan::binding {

// A status other than ok as the exception the stdlib raises (a timeout is
// Full or Empty, as queue.Queue's).
[[noreturn]] inline void raise_status(Status s, PyObject* would_block) {
    if (s == Status::timeout) s = Status::full;  // (the stdlib raises Full/Empty on a timeout)
    raise_for(s, would_block);
    throw py::error_already_set();
}

// The ring's C++ errors as Python ones: OSError (errno) for the system
// calls, ValueError for a record that cannot fit or a bad argument.
template <class F>
auto translate(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const std::system_error& e) {
        PyErr_SetObject(PyExc_OSError, py::make_tuple(e.code().value(), e.what()).ptr());
        throw py::error_already_set();
    } catch (const std::length_error& e) {
        throw py::value_error(e.what());
    } catch (const std::invalid_argument& e) {
        throw py::value_error(e.what());
    }
}

// For the fast-call paths, which report an error by their return value:
// f's result, or `failed` with f's Python exception set.
template <class R, class F>
R python_error_or(R failed, F&& f) {
    try {
        return f();
    } catch (py::error_already_set& e) {
        e.restore();
    } catch (py::builtin_exception& e) {
        e.set_error();
    }
    return failed;
}

}  // namespace fastchan::binding
