// The scope of one binding call that can change a channel or a queue. Every
// such entry point holds a CallScope; when the outermost one ends:
//   * the wake-ups of this thread's own event loops that the call caused
//     are resolved (LoopWaker::wake queues them here instead of writing the
//     loop's eventfd, so a woken task runs in the loop's next iteration, as
//     with asyncio.Queue);
//   * if the call released the GIL (it waited, or moved a batch without
//     it) and is returning normally (its operation may have taken effect),
//     pending signal handlers run now and an exception one raises is
//     deferred to the next line of Python (signals.hpp), so that it cannot
//     cost the caller the call's result. A call that kept the GIL throughout
//     lasts nanoseconds: a signal that lands in it is the same window as in
//     any C function, so it pays nothing for signals.
// Off the asyncio path that costs a few thread-local loads.
#pragma once

#include <Python.h>

#include <atomic>
#include <vector>

#include <fastchan/detail/platform.hpp>

#include "common/signals.hpp"

namespace fastchan::binding {

class LoopWaker;

inline std::atomic<int> g_local_pending{0};  // loops with wake-ups queued, on any thread

class CallScope {
public:
    CallScope() noexcept { ++depth(); }
    ~CallScope() {
        --depth();
        bool settle = depth() == 0 && released_gil();
        if (!settle && g_local_pending.load(std::memory_order_relaxed) == 0) return;
        // Nothing of Python when the call is being unwound without the GIL
        // (a thread ended by a finalizing interpreter as it takes the GIL back).
        if (!holds_thread_state()) return;
        if (g_local_pending.load(std::memory_order_relaxed) != 0) flush();
        if (settle) {
            released_gil() = false;
            if (!PyErr_Occurred()) settle_signals();
        }
    }
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;

    // From LoopWaker::wake(): true if the wake-up will be resolved when
    // this thread's call ends. Only inside a CallScope: a wake-up from code
    // with none on its stack (another extension's call into a shared
    // channel, see fastchan/python.hpp) goes through the eventfd, or nothing
    // would resolve it. (Defined in loop_waker.hpp.)
    static bool take(LoopWaker& waker) noexcept;

    // Called wherever a binding call lets the GIL go: signals that arrive
    // then are settled when the outermost call ends.
    static void gil_released() noexcept { released_gil() = true; }

private:
    static bool holds_thread_state() noexcept {
#if PY_VERSION_HEX >= 0x030D0000
        return PyThreadState_GetUnchecked() != nullptr;
#else
        return _PyThreadState_UncheckedGet() != nullptr;
#endif
    }

    // Touched by every binding call: the initial-exec model makes it one
    // thread-pointer-relative access instead of a __tls_get_addr call.
    static int& depth() noexcept {
#if defined(__GNUC__) && FASTCHAN_USE_LINUX_APIS
        __attribute__((tls_model("initial-exec")))
#endif
        static thread_local int value = 0;
        return value;
    }

    static bool& released_gil() noexcept {
#if defined(__GNUC__) && FASTCHAN_USE_LINUX_APIS
        __attribute__((tls_model("initial-exec")))
#endif
        static thread_local bool value = false;
        return value;
    }

    static std::vector<LoopWaker*>& listed() noexcept {
        thread_local std::vector<LoopWaker*> value;
        return value;
    }

    static void flush();  // (loop_waker.hpp)
};

}  // namespace fastchan::binding
