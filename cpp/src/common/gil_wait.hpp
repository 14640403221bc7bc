// The wait policy for Python callers: the GIL is held on the fast path and
// released only while the waiter sleeps; in the main thread a signal ends
// the sleep (the futex returns EINTR) and its handlers run before the
// operation is retried, so Ctrl-C raises KeyboardInterrupt at once and
// every handler runs (slices of 50 ms remain only for a signal another
// thread took); and a thread woken during interpreter finalization never
// takes the GIL back (it would be killed inside C++).
#pragma once

#include <Python.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <fastchan/status.hpp>

#include "common/call_scope.hpp"
#include "common/signals.hpp"

namespace fastchan::binding {

// Set by the atexit hook, before the interpreter starts to finalize.
inline std::atomic<bool> g_exiting{false};
// threading.main_thread().ident, refreshed in a forked child.
inline std::atomic<unsigned long> g_main_thread{0};

inline bool interpreter_finalizing() noexcept {
#if PY_VERSION_HEX >= 0x030D0000
    return g_exiting.load(std::memory_order_relaxed) || Py_IsFinalizing();
#else
    return g_exiting.load(std::memory_order_relaxed) || _Py_IsFinalizing();
#endif
}

class GilWait {
public:
    static constexpr bool spin_first = false;  // spinning with the GIL starves a Python peer
    static constexpr bool wake_on_signal = true;
    // The longest a main-thread sleep lasts before it checks for signals: a
    // signal delivered to another thread does not interrupt its futex.
    static constexpr auto kSignalSlice = std::chrono::milliseconds(50);

    // linger: how long to stay awake, GIL released, before sleeping (a pool
    // worker between tasks; see Waiter::park_until).
    explicit GilWait(detail::Clock::duration linger = detail::Clock::duration::zero()) noexcept
        : main_thread_(PyThread_get_thread_ident() ==
                       g_main_thread.load(std::memory_order_relaxed)),
          linger_(linger) {}

    detail::Clock::duration linger() const noexcept { return linger_; }

    detail::Clock::time_point slice_end(detail::Clock::time_point deadline) const noexcept {
        if (!main_thread_) return deadline;
        auto slice = detail::Clock::now() + kSignalSlice;
        return slice < deadline ? slice : deadline;
    }

    void release() noexcept {
        CallScope::gil_released();
        saved_ = PyEval_SaveThread();
    }

    // Not noexcept on purpose: before 3.14 a thread that takes the GIL
    // during finalization is ended by a forced unwind, which must be able to
    // pass through here.
    void reacquire() {
        if (!main_thread_ && interpreter_finalizing()) {
            // A daemon thread the interpreter is about to abandon: sleep until
            // the process exits rather than touch Python again. (The main
            // thread is the one finalizing; it may still block and resume.)
            for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
        }
        PyEval_RestoreThread(saved_);
    }

    // Asked only while the operation has not happened: the handlers of
    // pending signals run, and an exception one raises stops the wait (so
    // does an exception an earlier call deferred, see signals.hpp).
    bool interrupted() {
        return main_thread_ && (DeferredError::raise_now() || PyErr_CheckSignals() < 0);
    }
    bool is_main_thread() const noexcept { return main_thread_; }

private:
    bool main_thread_;
    detail::Clock::duration linger_;
    PyThreadState* saved_ = nullptr;
};

// The wait policy for a batch of native values (a typed channel's
// put_many/get_many): the GIL is released for the whole batch, not just
// while sleeping, so a producer and a consumer move items in parallel
// instead of taking turns with the GIL. Nothing in between may touch Python.
// With no GIL to starve a peer it spins before sleeping; the main thread
// still sleeps in slices and takes the GIL briefly to run signal handlers.
class BatchWithoutGil {
public:
    static constexpr bool spin_first = true;
    static constexpr bool wake_on_signal = true;

    BatchWithoutGil() { gil_.release(); }
    // Takes the GIL back (unless an interruption already did). May not
    // return during finalization, as GilWait::reacquire.
    ~BatchWithoutGil() noexcept(false) {
        if (!held_) gil_.reacquire();
    }
    BatchWithoutGil(const BatchWithoutGil&) = delete;
    BatchWithoutGil& operator=(const BatchWithoutGil&) = delete;

    detail::Clock::duration linger() const noexcept { return detail::Clock::duration::zero(); }
    detail::Clock::time_point slice_end(detail::Clock::time_point deadline) const noexcept {
        return gil_.slice_end(deadline);
    }
    void release() noexcept {}
    void reacquire() noexcept {}

    // The main thread, between slices: KeyboardInterrupt (or another
    // handler's error) stops the batch, with the GIL held from then on.
    bool interrupted() {
        if (!gil_.is_main_thread()) return false;
        gil_.reacquire();
        if (gil_.interrupted()) return held_ = true;
        gil_.release();
        return false;
    }

private:
    GilWait gil_;
    bool held_ = false;
};

}  // namespace fastchan::binding
