#include "pool/thread_call.hpp"

#include <thread>

#include <fastchan/detail/spin.hpp>

namespace fastchan::binding {

namespace {

bool future_cancelled(PyObject* future) {
    PyObject* r = PyObject_CallMethod(future, "cancelled", nullptr);
    if (r == nullptr) {
        PyErr_WriteUnraisable(future);
        return false;
    }
    bool cancelled = PyObject_IsTrue(r) == 1;
    Py_DECREF(r);
    return cancelled;
}

// loop.call_soon_threadsafe(fn, *args); a closed loop has nobody to tell.
void call_soon_threadsafe(PyObject* loop, PyObject* fn, PyObject* a, PyObject* b, PyObject* c) {
    PyObject* r = PyObject_CallMethod(loop, "call_soon_threadsafe", "OOOO", fn, a, b, c);
    if (r == nullptr) {
        if (PyErr_ExceptionMatches(PyExc_RuntimeError)) {
            PyErr_Clear();
        } else {
            PyErr_WriteUnraisable(loop);
        }
    }
    Py_XDECREF(r);
}

}  // namespace

bool ThreadCall::abandoned() const { return cancelled_ || (future_ != nullptr && future_cancelled(future_)); }

ThreadCall::Flag ThreadCall::finish(PyObject* outcome, bool ok, PyObject* deliver) {
    outcome_ = outcome;
    ok_ = ok;
    if (future_ == nullptr) return ready_;
    deliver_to_loop(deliver);
    return nullptr;
}

void ThreadCall::drop(PyObject* error, PyObject* deliver) {
    if (done()) return;
    if (error == nullptr) {
        cancelled_ = true;
    } else {
        Py_INCREF(error);
        outcome_ = error;
        ok_ = false;
    }
    if (future_ != nullptr) deliver_to_loop(deliver);
    ready_->store(true, std::memory_order_release);
}

void ThreadCall::deliver_to_loop(PyObject* deliver) {
    // deliver(future, ok, value) runs on the loop; None as the value of a
    // cancelled call makes it cancel the future.
    PyObject* value = outcome_ ? outcome_ : Py_None;
    call_soon_threadsafe(loop_, deliver, future_, ok_ ? Py_True : Py_False, value);
}

void ThreadCall::spin_without_gil(std::chrono::nanoseconds budget) const noexcept {
    auto end = std::chrono::steady_clock::now() + budget;
    unsigned rounds = 0;
    while (!ready_->load(std::memory_order_acquire) && std::chrono::steady_clock::now() < end) {
        // Mostly pause: the worker runs on another core. Now and then
        // yield, in case it does not.
        if (++rounds % 64 == 0) {
            std::this_thread::yield();
        } else {
            for (int i = 0; i < 16; ++i) detail::cpu_relax();
        }
    }
}

PyObject* ThreadCall::result() const {
    if (ok_ && outcome_ != nullptr) {
        Py_INCREF(outcome_);
        return outcome_;
    }
    if (outcome_ == nullptr) {  // cancelled (dropped at shutdown)
        PyObject* asyncio = PyImport_ImportModule("asyncio");
        if (asyncio != nullptr) {
            PyObject* cancelled_error = PyObject_GetAttrString(asyncio, "CancelledError");
            if (cancelled_error != nullptr) PyErr_SetNone(cancelled_error);
            Py_XDECREF(cancelled_error);
            Py_DECREF(asyncio);
        }
        return nullptr;
    }
    PyObject* type = reinterpret_cast<PyObject*>(Py_TYPE(outcome_));
    Py_INCREF(type);
    Py_INCREF(outcome_);
    PyErr_Restore(type, outcome_, PyException_GetTraceback(outcome_));  // steals all three
    return nullptr;
}

void ThreadCall::attach(PyObject* future, PyObject* loop, PyObject* deliver) {
    Py_INCREF(future);
    Py_INCREF(loop);
    Py_XSETREF(future_, future);
    Py_XSETREF(loop_, loop);
    if (done()) deliver_to_loop(deliver);
}

}  // namespace fastchan::binding
