// Sleeping on a 32-bit word until another thread changes it: Linux futex,
// with a portable fallback (a small table of mutex + condition variable).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "platform.hpp"

#if FASTCHAN_USE_LINUX_APIS
#include <cerrno>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#else
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <new>
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define FASTCHAN_PARKING_AT_FORK 1
#endif
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

inline constexpr std::size_t kParkingBuckets = 64;

inline ParkingBucket* make_parking_table();

// Made when the module loads, not at the first sleep: a function-local
// static's guard, held by a thread of the parent that was making the table
// when another forked, would stay held in the child for good. Never
// destroyed: daemon threads may still sleep in it when the process exits,
// and destroying a condition variable that has sleepers blocks (glibc) or is
// undefined.
inline ParkingBucket* const g_parking_table = make_parking_table();

inline ParkingBucket* make_parking_table() {
    auto* table = new ParkingBucket[kParkingBuckets];
#if defined(FASTCHAN_PARKING_AT_FORK)
    // After fork() only the forking thread exists in the child: no bucket
    // may stay locked by a thread it lacks, and no condition variable may
    // keep the parent's sleepers (a later wait could block on them).
    pthread_atfork(
        [] {
            for (std::size_t i = 0; i < kParkingBuckets; ++i) g_parking_table[i].mutex.lock();
        },
        [] {
            for (std::size_t i = 0; i < kParkingBuckets; ++i) g_parking_table[i].mutex.unlock();
        },
        [] {
            for (std::size_t i = 0; i < kParkingBuckets; ++i) {
                new (&g_parking_table[i].mutex) std::mutex;
                new (&g_parking_table[i].cv) std::condition_variable;
            }
        });
#endif
    return table;
}

inline ParkingBucket& bucket_for(const void* address) noexcept {
    return g_parking_table[(reinterpret_cast<std::uintptr_t>(address) >> 4) % kParkingBuckets];
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
