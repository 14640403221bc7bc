// Sleeping on a 32-bit word until another thread changes it: Linux futex,
// with a portable fallback (a small table of mutex + condition variable).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include <fastchan/detail/platform.hpp>

#if FASTCHAN_USE_LINUX_APIS
#include <cerrno>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#else
#include <condition_variable>
#include <mutex>
#endif

namespace fastchan::detail {

using Clock = std::chrono::steady_clock;

#if FASTCHAN_USE_LINUX_APIS

// What threads sleep on: "futex" or "parking table" (tests check that a
// FASTCHAN_PORTABLE build really uses the table).
inline constexpr const char* kParkingKind = "futex";

// Sleeps while `*word == expected`, at most until `deadline` (time_point::max()
// for no limit). May return early (spurious wake-up): callers re-check.
// False if a signal handler ran on this thread while it slept (EINTR), so a
// caller that must react to signals (Python's main thread) can.
inline bool futex_wait(std::atomic<uint32_t>& word, uint32_t expected,
                       Clock::time_point deadline) noexcept {
    timespec ts{};
    timespec* timeout = nullptr;
    if (deadline != Clock::time_point::max()) {
        auto left = deadline - Clock::now();
        if (left <= Clock::duration::zero()) return true;
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        ts.tv_sec = static_cast<time_t>(ns / 1000000000);
        ts.tv_nsec = static_cast<long>(ns % 1000000000);
        timeout = &ts;
    }
    long r = syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
                     timeout, nullptr, 0);
    return !(r == -1 && errno == EINTR);
}

inline void futex_wake_all(std::atomic<uint32_t>& word) noexcept {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT32_MAX,
            nullptr, nullptr, 0);
}

#else

inline constexpr const char* kParkingKind = "parking table";

struct ParkingBucket {
    std::mutex mutex;
    std::condition_variable cv;
};

inline ParkingBucket& bucket_for(const void* address) noexcept {
    static ParkingBucket table[64];
    return table[(reinterpret_cast<std::uintptr_t>(address) >> 4) % 64];
}

// (A condition variable does not report signals: always true.)
inline bool futex_wait(std::atomic<uint32_t>& word, uint32_t expected,
                       Clock::time_point deadline) noexcept {
    auto& b = bucket_for(&word);
    std::unique_lock<std::mutex> lock(b.mutex);
    if (word.load(std::memory_order_acquire) != expected) return true;
    if (deadline == Clock::time_point::max()) b.cv.wait(lock);
    else b.cv.wait_until(lock, deadline);
    return true;
}

inline void futex_wake_all(std::atomic<uint32_t>& word) noexcept {
    auto& b = bucket_for(&word);
    { std::lock_guard<std::mutex> lock(b.mutex); }
    b.cv.notify_all();
}

#endif

}  // namespace fastchan::detail
