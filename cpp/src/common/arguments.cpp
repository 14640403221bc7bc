// Argument parsing shared by every room: timeouts and block flags.
#include "common/arguments.hpp"

#include <chrono>
#include <cmath>

namespace fastchan::binding {

// timeout: None or a real number; ignored when not blocking, as in the stdlib.
bool parse_timeout(PyObject* obj, bool block, detail::Clock::time_point& deadline) {
    deadline = detail::kNoDeadline;
    if (obj == nullptr || obj == Py_None) return true;
    double seconds;
    if (PyFloat_CheckExact(obj)) {
        seconds = PyFloat_AS_DOUBLE(obj);
    } else if (PyNumber_Check(obj) && !PyComplex_Check(obj)) {
        seconds = PyFloat_AsDouble(obj);
        if (seconds == -1.0 && PyErr_Occurred()) return false;
    } else {
        PyErr_Format(PyExc_TypeError, "timeout must be a non-negative number or None, not %.100s %R",
                     Py_TYPE(obj)->tp_name, obj);
        return false;
    }
    if (std::isnan(seconds)) {
        PyErr_Format(PyExc_ValueError, "timeout must be a non-negative number, not %R", obj);
        return false;
    }
    if (!block) return true;
    if (seconds < 0) {
        PyErr_Format(PyExc_ValueError, "'timeout' must be a non-negative number, not %R", obj);
        return false;
    }
    deadline = detail::deadline_after(std::chrono::duration<double>(seconds));
    return true;
}

// block: any object, by truth value (default True).
bool parse_block(PyObject* obj, bool& block) {
    if (obj == nullptr) return block = true, true;
    int truth = PyObject_IsTrue(obj);
    if (truth < 0) return false;
    block = truth != 0;
    return true;
}

}  // namespace fastchan::binding
