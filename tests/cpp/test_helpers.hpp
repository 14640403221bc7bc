// Shared helpers for the core's tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <fastchan/channel.hpp>

namespace fastchan::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

#if defined(__SANITIZE_THREAD__)
inline constexpr int kScale = 10;  // ThreadSanitizer runs ~10x slower
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr int kScale = 10;
#else
inline constexpr int kScale = 1;
#endif
#else
inline constexpr int kScale = 1;
#endif

// One channel of each flavor, for parameterized tests. SIZE_MAX = unbounded.
inline constexpr std::size_t kUnbounded = static_cast<std::size_t>(-1);

template <class T>
std::unique_ptr<Channel<T>> make_channel(std::size_t capacity) {
    if (capacity == kUnbounded) return std::make_unique<Channel<T>>(unbounded);
    return std::make_unique<Channel<T>>(capacity);
}

inline std::string flavor_name(std::size_t capacity) {
    if (capacity == kUnbounded) return "unbounded";
    if (capacity == 0) return "rendezvous";
    return "bounded" + std::to_string(capacity);
}

// Elapsed time of a call, for lower bounds on timed waits.
template <class F>
Clock::duration time_of(F&& f) {
    auto start = Clock::now();
    f();
    return Clock::now() - start;
}

}  // namespace fastchan::testing
