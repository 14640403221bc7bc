// Spinning helpers: a CPU pause, a bounded exponential backoff and a tiny
// test-and-test-and-set lock for critical sections of a few instructions.
#pragma once

#include <atomic>
#include <thread>

#include "contention.hpp"

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#include <immintrin.h>
#endif

namespace fastchan::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

// Exponential backoff: 1, 2, 4 … 2^kSpinLimit pauses, then a few yields,
// then reports that the caller should stop (and park). A few microseconds
// in all, which is long enough to catch a peer that keeps up and short
// enough that a thread with nothing to do gives its core back quickly. The
// yields are timed (see Contention); while the machine is busy, a waiter
// parks after the pauses instead of yielding.
class Backoff {
public:
    static constexpr unsigned kSpinLimit = 6;
    static constexpr unsigned kYieldLimit = 10;

    // Spins once more; false once the spin budget is spent.
    bool spin() noexcept {
        if (step_ > kSpinLimit) return false;
        for (unsigned i = 0; i < (1u << step_); ++i) cpu_relax();
        ++step_;
        return true;
    }

    // For waits on another thread's progress: spin first, then give the
    // core to it. Safe to call forever.
    void snooze() noexcept {
        if (step_ <= kSpinLimit) {
            for (unsigned i = 0; i < (1u << step_); ++i) cpu_relax();
        } else {
            Contention::yield();
        }
        if (step_ <= kYieldLimit) ++step_;
    }

    // True once snooze() has spun and yielded long enough that the caller
    // should park instead; on a busy machine, as soon as it has spun.
    bool completed() const noexcept {
        return step_ > kSpinLimit && (step_ > kYieldLimit || Contention::busy());
    }

private:
    unsigned step_ = 0;
};

// Guards a few pointer moves; a holder is never descheduled on purpose, so
// spinning then yielding beats a kernel mutex.
class SpinLock {
public:
    void lock() noexcept {
        Backoff backoff;
        while (locked_.exchange(true, std::memory_order_acquire)) {
            while (locked_.load(std::memory_order_relaxed)) backoff.snooze();
        }
    }
    bool try_lock() noexcept { return !locked_.exchange(true, std::memory_order_acquire); }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> locked_{false};
};

}  // namespace fastchan::detail
