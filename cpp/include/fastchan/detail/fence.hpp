// The store-load fence of the waiter protocol ("register, then re-check";
// "change the channel, then look for waiters"). ThreadSanitizer does not
// model std::atomic_thread_fence (GCC warns with -Wtsan); under it a
// seq_cst read-modify-write of an atomic that the other side reads stands
// in, which TSan does check. (On x86 both compile to one locked instruction.)
#pragma once

#include <atomic>

#if defined(__SANITIZE_THREAD__)
#define FASTCHAN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FASTCHAN_TSAN 1
#endif
#endif

namespace fastchan::detail {

// A seq_cst fence; under TSan, a seq_cst RMW of `shared` that leaves its value as it is.
template <class T>
inline void store_load_fence([[maybe_unused]] std::atomic<T>& shared) noexcept {
#if defined(FASTCHAN_TSAN)
    T value = shared.load(std::memory_order_relaxed);
    while (!shared.compare_exchange_weak(value, value, std::memory_order_seq_cst, std::memory_order_relaxed)) {
    }
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

}  // namespace fastchan::detail
