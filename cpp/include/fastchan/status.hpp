// Results of channel operations, and deadline arithmetic shared by every flavor.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

namespace fastchan {

enum class Status : std::uint8_t {
    ok,           // the operation happened
    empty,        // try_recv: nothing buffered (and no sender waiting)
    full,         // try_send: no room (for a rendezvous: no receiver waiting)
    closed,       // send: the channel is closed; recv: closed and drained
    timeout,      // the deadline passed first
    interrupted,  // a custom wait policy asked to stop (never with the default policy)
};

// What an operation that may block needs to know: should it wait for room or items.
constexpr bool would_block(Status s) noexcept { return s == Status::empty || s == Status::full; }

// A receive's outcome: a value exactly when status == Status::ok.
template <class T>
struct Received {
    Status status = Status::empty;
    std::optional<T> value;

    explicit operator bool() const noexcept { return status == Status::ok; }
    T& operator*() & { return *value; }
    T&& operator*() && { return std::move(*value); }
    T* operator->() { return &*value; }
};

// Tag for the unbounded flavor: Channel<T> ch(fastchan::unbounded).
struct unbounded_t {
    explicit constexpr unbounded_t() = default;
};
inline constexpr unbounded_t unbounded{};

namespace detail {

using Clock = std::chrono::steady_clock;
inline constexpr Clock::time_point kNoDeadline = Clock::time_point::max();

// now + timeout, saturating: a timeout too large to represent means "no deadline".
template <class Rep, class Period>
Clock::time_point deadline_after(std::chrono::duration<Rep, Period> timeout) {
    using std::chrono::duration_cast;
    constexpr auto kLimit = std::chrono::hours(24 * 365 * 100);
    if (timeout <= std::chrono::duration<Rep, Period>::zero()) return Clock::now();
    if (timeout >= duration_cast<std::chrono::duration<Rep, Period>>(kLimit)) return kNoDeadline;
    return Clock::now() + duration_cast<Clock::duration>(timeout);
}

// Any clock's time point as a steady_clock deadline.
template <class C, class D>
Clock::time_point to_steady(std::chrono::time_point<C, D> deadline) {
    if constexpr (std::is_same_v<C, Clock>) {
        return std::chrono::time_point_cast<Clock::duration>(deadline);
    } else {
        return deadline_after(deadline - C::now());
    }
}

}  // namespace detail
}  // namespace fastchan
