// ThreadCall: the result slot of one fastchan.to_thread() call.
//
// A short call finishes before an event loop could even be woken, and each
// thread wake-up costs 35-50 us here. So the awaiting loop thread first
// spins briefly with the GIL released, watching a ready flag the worker
// raises only after it has released the GIL itself: neither thread then
// sleeps on the GIL or on the loop's selector. If the call takes longer the
// loop attaches an asyncio future and awaits it; the worker then completes
// that future through the loop's LoopWaker (loops/loop_waker.hpp), the same
// carrier every fastchan awaitable is woken by: a burst of calls finishing
// costs the loop one eventfd write, and the future is completed natively.
//
// attach() and the worker's finish()/drop() meet under lock_ (the GIL on a
// GIL build; a PyMutex without it, common/free_threading.hpp), so exactly one
// of them sees the other: no outcome is lost between them. No Python code
// runs under lock_.
#pragma once

#include <Python.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "common/free_threading.hpp"
#include "common/initialized.hpp"
#include "loops/loop_waker.hpp"

namespace fastchan::binding {

class ThreadCall {
public:
    using Flag = std::shared_ptr<std::atomic<bool>>;

    ThreadCall() = default;
    ThreadCall(const ThreadCall&) = delete;
    ThreadCall& operator=(const ThreadCall&) = delete;
    ~ThreadCall() {  // GIL held: the Python object is being deallocated
        if (carrier_ != nullptr) carrier_->release();
        Py_XDECREF(outcome_);
        Py_XDECREF(future_);
    }

    // --- worker side, GIL held ---

    // True if the awaiting task gave up before the call started.
    bool abandoned() const;

    // Stores the outcome (stealing the reference; ok: a result, else an
    // exception). Returns the flag to raise once the GIL is released, or
    // nullptr when a future was attached (the outcome went to its loop).
    Flag finish(PyObject* outcome, bool ok);

    // The task was dropped from the queue (shutdown or a broken pool): the
    // call fails with `error`, or is cancelled when `error` is null.
    void drop(PyObject* error);

    // --- awaiting side, GIL held unless said otherwise ---

    // Waits up to `budget` for the outcome; the caller has released the
    // GIL (so the worker can run). True if the outcome came meanwhile;
    // done() tells, with the GIL back.
    bool spin_without_gil(std::chrono::nanoseconds budget) const noexcept;

    bool done() const noexcept {
        std::lock_guard<FtMutex> guard(lock_);
        return done_locked();
    }

    // The result (a new reference), or nullptr with the call's exception
    // (or CancelledError) raised. Only once done().
    PyObject* result() const;

    // Hands the outcome to `future`, an asyncio future of the loop `waker`
    // serves: at once if it is there, else when the worker finishes. `self`
    // is this call's Python object (kept alive until the future is set).
    void attach(PyObject* self, PyObject* future, LoopWaker& waker, PyObject* waker_owner);

private:
    bool done_locked() const noexcept { return outcome_ != nullptr || cancelled_; }

    // Completes `future` with the outcome (result, exception, or cancel).
    bool complete(PyObject* future) const;
    static bool complete_attached(PyObject* future, PyObject* self);

    mutable FtMutex lock_;  // guards the fields below (set once each)
    Flag ready_ = std::make_shared<std::atomic<bool>>(false);
    PyObject* outcome_ = nullptr;
    bool ok_ = false;
    bool cancelled_ = false;
    PyObject* future_ = nullptr;      // the attached asyncio future
    AsyncWaiter* carrier_ = nullptr;  // carries the outcome's wake-up to its loop
};

}  // namespace fastchan::binding

FASTCHAN_INITIALIZED_ONLY(fastchan::binding::ThreadCall)
