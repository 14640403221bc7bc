#include "pool/thread_call.hpp"

#include <stdexcept>
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

}  // namespace

bool ThreadCall::abandoned() const {
    PyObject* future;
    {
        std::lock_guard<FtMutex> guard(lock_);
        if (cancelled_) return true;
        future = Py_XNewRef(future_);
    }
    if (future == nullptr) return false;
    bool cancelled = future_cancelled(future);
    Py_DECREF(future);
    return cancelled;
}

ThreadCall::Flag ThreadCall::finish(PyObject* outcome, bool ok) {
    std::lock_guard<FtMutex> guard(lock_);
    outcome_ = outcome;
    ok_ = ok;
    if (carrier_ == nullptr) return ready_;
    carrier_->waiter.notify();  // (a closed loop declines: nobody to tell; no Python code)
    return nullptr;
}

void ThreadCall::drop(PyObject* error) {
    {
        std::lock_guard<FtMutex> guard(lock_);
        if (done_locked()) return;
        if (error == nullptr) {
            cancelled_ = true;
        } else {
            Py_INCREF(error);
            outcome_ = error;
            ok_ = false;
        }
        if (carrier_ != nullptr) carrier_->waiter.notify();
    }
    ready_->store(true, std::memory_order_release);
}

bool ThreadCall::complete(PyObject* future) const {
    if (future_cancelled(future)) return true;  // the task gave up: nothing to tell
    // "(O)", not "O": with "O" a tuple result would be unpacked into
    // several arguments (and the future never completed).
    PyObject* r;
    if (ok_ && outcome_ != nullptr) {
        r = PyObject_CallMethod(future, "set_result", "(O)", outcome_);
    } else if (outcome_ != nullptr) {
        r = PyObject_CallMethod(future, "set_exception", "(O)", outcome_);
    } else {  // dropped at shutdown
        r = PyObject_CallMethod(future, "cancel", nullptr);
    }
    Py_XDECREF(r);
    return r != nullptr;
}

bool ThreadCall::complete_attached(PyObject* future, PyObject* self) {
    return py::handle(self).cast<ThreadCall&>().complete(future);
}

bool ThreadCall::spin_without_gil(std::chrono::nanoseconds budget) const noexcept {
    auto end = std::chrono::steady_clock::now() + budget;
    unsigned rounds = 0;
    while (!ready_->load(std::memory_order_acquire) && std::chrono::steady_clock::now() < end) {
        // Mostly pause: the worker runs on another core. Now and then
        // yield, in case it does not; but not on a busy machine (see
        // detail/contention.hpp), where a yield gives the core away for a
        // whole time slice. (The worker was woken from its sleep, so if it
        // shares this core, it preempts this spin.)
        if (++rounds % 64 == 0 && !detail::Contention::busy()) {
            detail::Contention::yield();
        } else {
            for (int i = 0; i < 16; ++i) detail::cpu_relax();
        }
    }
    return ready_->load(std::memory_order_acquire);
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

void ThreadCall::attach(PyObject* self, PyObject* future, LoopWaker& waker, PyObject* waker_owner) {
    // Made before taking the lock: it calls into Python (a weak reference).
    auto* carrier = new AsyncWaiter(waker, waker_owner, future, &ThreadCall::complete_attached, self);
    bool finished;
    {
        std::lock_guard<FtMutex> guard(lock_);
        if (future_ != nullptr) {
            finished = false;
        } else {
            future_ = Py_NewRef(future);
            finished = done_locked();
            if (!finished) {
                carrier_ = carrier;
                carrier = nullptr;
            }
        }
    }
    if (carrier != nullptr && !finished) {  // attached twice
        carrier->release();
        throw std::logic_error("a to_thread() call is attached once");
    }
    if (carrier != nullptr) carrier->release();
    if (finished) {  // finished while the task spun: complete it now (on the loop's thread)
        if (!complete(future)) throw py::error_already_set();
    }
}

}  // namespace fastchan::binding
