// Wait policies: what a blocked operation does around its sleep. The core's
// wait loops call these hooks, so a binding can release a lock (Python's GIL)
// while it sleeps, sleep in slices and stop early, without a loop of its own.
//
// Policy concept:
//   static constexpr bool spin_first;  retry with backoff before registering
//   static constexpr bool wake_on_signal;  (optional, default false) end a
//                                       sleep when a signal handler ran on
//                                       this thread, to call interrupted()
//   time_point slice_end(deadline);     wake no later than this to check in
//   duration linger();                  stay awake this long before sleeping
//                                       (see Waiter::park_until)
//   void release();                     before sleeping (the waiter is registered)
//   void reacquire();                   after sleeping (the waiter is unregistered)
//   bool interrupted();                 before each sleep and after each wake-up,
//                                       before the operation is retried: stop
//                                       with Status::interrupted? The wait
//                                       loops ask only when the operation has
//                                       not happened, so an interruption never
//                                       undoes one.
#pragma once

#include <type_traits>

#include "status.hpp"

namespace fastchan {

// The default for a C++ thread: spin briefly, sleep until the deadline,
// never stop early.
struct ThreadWait {
    static constexpr bool spin_first = true;
    static constexpr bool wake_on_signal = false;
    detail::Clock::time_point slice_end(detail::Clock::time_point deadline) const noexcept {
        return deadline;
    }
    detail::Clock::duration linger() const noexcept { return detail::Clock::duration::zero(); }
    void release() noexcept {}
    void reacquire() noexcept {}
    bool interrupted() noexcept { return false; }
};

namespace detail {

template <class P, class = void>
struct wakes_on_signal : std::false_type {};
template <class P>
struct wakes_on_signal<P, std::void_t<decltype(P::wake_on_signal)>> : std::bool_constant<P::wake_on_signal> {};

// Does a sleep under policy P end when a signal handler ran?
template <class P>
inline constexpr bool wakes_on_signal_v = wakes_on_signal<std::decay_t<P>>::value;

}  // namespace detail
}  // namespace fastchan
