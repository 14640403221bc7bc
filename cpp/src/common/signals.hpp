// Signals and operations that took effect.
//
// CPython runs signal handlers (KeyboardInterrupt's among them) in the main
// thread at its periodic checks, one of which comes right after every call
// returns: a handler that raises there discards the call's return value. So
// a call whose operation took effect (an item taken, an item put) runs the
// pending handlers itself before it returns (settle_signals), and an
// exception a handler raises is not raised by the call but deferred: it is
// raised when the next line of Python code starts (a trace "line" event),
// after the caller has stored the call's result. A call that has done
// nothing yet runs the handlers and raises their exception itself (GilWait).
// What no code can close is the last few nanoseconds of a return, after the
// final check: a signal that lands there is handled by CPython's own check,
// as for every C function.
#pragma once

#include <Python.h>

#include <utility>

namespace fastchan::binding {

class DeferredError {
public:
    // Takes the exception that is set and raises it when this thread starts
    // its next line of Python instead. One already waiting becomes its
    // __context__.
    static void defer() {
        PyObject* exc = take_current();
        Pending& p = pending();
        if (p.exc != nullptr) PyException_SetContext(exc, p.exc);  // steals the older one
        p.exc = exc;
        if (p.armed) return;
        PyThreadState* ts = PyThreadState_Get();
        p.previous = ts->c_tracefunc;  // a debugger's or coverage's tracer: called on, then restored
        p.previous_obj = Py_XNewRef(ts->c_traceobj);
        p.armed = true;
        PyEval_SetTrace(&on_trace, nullptr);
    }

    // An operation that has done nothing yet may raise a deferred exception
    // itself: restores it (true) if this thread has one waiting.
    static bool raise_now() {
        Pending& p = pending();
        if (p.exc == nullptr) return false;
        PyObject* exc = std::exchange(p.exc, nullptr);
        disarm();
        restore(exc);
        return true;
    }

private:
    struct Pending {
        PyObject* exc = nullptr;
        bool armed = false;
        Py_tracefunc previous = nullptr;
        PyObject* previous_obj = nullptr;
    };

    // Only the main thread runs signal handlers, so in practice only it has one.
    static Pending& pending() noexcept {
        static thread_local Pending value;
        return value;
    }

    static PyObject* take_current() {
#if PY_VERSION_HEX >= 0x030C0000
        return PyErr_GetRaisedException();
#else
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        PyErr_NormalizeException(&type, &value, &traceback);
        if (traceback != nullptr) PyException_SetTraceback(value, traceback);
        Py_XDECREF(type);
        Py_XDECREF(traceback);
        return value;
#endif
    }

    static void restore(PyObject* exc) {  // steals exc
#if PY_VERSION_HEX >= 0x030C0000
        PyErr_SetRaisedException(exc);
#else
        PyErr_Restore(Py_NewRef(reinterpret_cast<PyObject*>(Py_TYPE(exc))), exc, PyException_GetTraceback(exc));
#endif
    }

    // Puts the tracer that was there back.
    static void disarm() {
        Pending& p = pending();
        if (!p.armed) return;
        p.armed = false;
        PyObject* obj = std::exchange(p.previous_obj, nullptr);
        PyEval_SetTrace(std::exchange(p.previous, nullptr), obj);
        Py_XDECREF(obj);
    }

    // Raises at the first line event: not at a function's return (that
    // would discard the value a wrapper such as `return q.get()` passes
    // up) nor at a call, but once a new line starts, when the value is
    // stored wherever the caller put it.
    static int on_trace(PyObject*, PyFrameObject* frame, int what, PyObject* arg) {
        Pending& p = pending();
        if (what != PyTrace_LINE) return p.previous != nullptr ? p.previous(p.previous_obj, frame, what, arg) : 0;
        Py_tracefunc previous = p.previous;
        PyObject* previous_obj = Py_XNewRef(p.previous_obj);
        disarm();
        int r = previous != nullptr ? previous(previous_obj, frame, what, arg) : 0;
        Py_XDECREF(previous_obj);
        PyObject* exc = std::exchange(p.exc, nullptr);
        if (exc == nullptr) return r;
        if (r < 0) {  // the previous tracer raised too: ours is its context
            PyObject* theirs = take_current();
            PyException_SetContext(theirs, exc);
            restore(theirs);
            return -1;
        }
        restore(exc);
        return -1;
    }
};

// After an operation took effect: runs the pending signal handlers now, so
// that CPython's check after the call finds none, and defers an exception
// one raises (see above).
inline void settle_signals() {
    if (PyErr_CheckSignals() < 0) DeferredError::defer();
}

}  // namespace fastchan::binding
