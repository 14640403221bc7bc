// The wait policy for Python callers: the GIL is held on the fast path and
// released only while the waiter sleeps; the main thread sleeps in slices so
// Ctrl-C raises KeyboardInterrupt; and a thread woken during interpreter
// finalization never takes the GIL back (it would be killed inside C++).
#pragma once

#include <Python.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <fastchan/status.hpp>

namespace fastchan::py {

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

    void release() noexcept { saved_ = PyEval_SaveThread(); }

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

    bool interrupted() noexcept { return main_thread_ && PyErr_CheckSignals() < 0; }

private:
    bool main_thread_;
    detail::Clock::duration linger_;
    PyThreadState* saved_ = nullptr;
};

}  // namespace fastchan::py
