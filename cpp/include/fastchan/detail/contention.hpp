// Does spinning pay on this machine right now? A process-wide estimate,
// read off how long our yields take.
//
// A waiter that spins or yields instead of sleeping saves its notifier a
// syscall and itself a 35-50 us unpark, as long as its core is its own. On
// an oversubscribed machine (more runnable threads than cores) it loses
// twice: it burns the time slice a peer needs, and, since it is not asleep,
// its notifier does not wake it, so it gets no wake-up preemption and waits
// behind whatever else runs on its core for a whole slice (milliseconds).
//
// sched_yield returns at once on a core with nothing else to run; one that
// takes kLongYield or more, while this process's other threads did not use
// that time, gave the core to another program. After such a yield the
// machine counts as busy for a window: waits skip their yields and sleep
// after the short pause-spin (a few microseconds), and a lingering pool
// worker spins briefly instead of yielding. The window is long against the
// yield that found it, and doubles with each verdict in a row, up to
// kMaxWindow, so that under lasting load the probes cost a few percent; a
// verdict that follows a quiet spell starts again from kMinWindow.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <ctime>

#include "../status.hpp"

namespace fastchan::detail {

class Contention {
public:
    static constexpr auto kLongYield = std::chrono::microseconds(200);
    static constexpr auto kMinWindow = std::chrono::milliseconds(1);
    static constexpr auto kMaxWindow = std::chrono::milliseconds(250);
    // A busy window lasts at least this many times the yield that found it,
    // so that the next probe costs a few percent at most.
    static constexpr std::int64_t kWindowPerYield = 4;

    // True while the last verdict was "busy": skip yielding and lingering.
    static bool busy() noexcept {
        return ticks(Clock::now()) < busy_until_.load(std::memory_order_relaxed);
    }

    // Gives the core away once, and learns from how long that took.
    static void yield() noexcept {
        // Reading the process's CPU time is a syscall as dear as the yield,
        // so a thread reads it only once a long yield made it suspicious.
        thread_local bool suspicious = false;
        std::chrono::nanoseconds ours{};
        if (suspicious) ours = process_cpu_time();
        auto start = Clock::now();
        std::this_thread::yield();
        auto end = Clock::now();
        auto lasted = end - start;
        if (lasted < kLongYield) return;
        if (!suspicious) {
            suspicious = true;
            return;
        }
        suspicious = false;
        // A long yield counts only if the time did not go to this process's
        // own threads (eight of them on two cores make long yields too): while
        // it lasted, they used less than three quarters of a core.
        if ((process_cpu_time() - ours) * 4 < lasted * 3) found_busy(ticks(start), ticks(end));
    }

private:
    // A yield from `start` to `end` found the machine busy: busy for a
    // window from `end`, twice the last one if that ended less than a window
    // before the yield began (the load lasts), else kMinWindow.
    static void found_busy(std::int64_t start, std::int64_t end) noexcept {
        std::int64_t until = busy_until_.load(std::memory_order_relaxed);
        if (start < until) return;  // (a spin lock's yield, meanwhile: nothing new)
        std::int64_t window = window_.load(std::memory_order_relaxed);
        window = start - until < window ? window * 2 : min_window();
        window = std::min(std::max(window, (end - start) * kWindowPerYield), max_window());
        window_.store(window, std::memory_order_relaxed);
        busy_until_.store(end + window, std::memory_order_relaxed);
    }

    // CPU time used by all of this process's threads (where there is no
    // such clock: none, so every long yield counts).
    static std::chrono::nanoseconds process_cpu_time() noexcept {
#if defined(CLOCK_PROCESS_CPUTIME_ID)
        timespec t{};
        if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) == 0) {
            return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
        }
#endif
        return std::chrono::nanoseconds::zero();
    }

    static std::int64_t ticks(Clock::time_point t) noexcept { return t.time_since_epoch().count(); }
    static constexpr std::int64_t min_window() noexcept {
        return std::chrono::duration_cast<Clock::duration>(kMinWindow).count();
    }
    static constexpr std::int64_t max_window() noexcept {
        return std::chrono::duration_cast<Clock::duration>(kMaxWindow).count();
    }

    // Relaxed on purpose: a stale read or a lost update between two threads
    // only costs a spin too many or too few, never correctness.
    static inline std::atomic<std::int64_t> window_{min_window()};
    static inline std::atomic<std::int64_t> busy_until_{0};
};

}  // namespace fastchan::detail
