// Wait policies: what a blocked operation does around its sleep. The core's
// wait loops call these hooks, so a binding can release a lock (Python's GIL)
// while it sleeps, sleep in slices and stop early, without a loop of its own.
//
// Policy concept:
//   static constexpr bool spin_first;  retry with backoff before registering
//   time_point slice_end(deadline);     wake no later than this to check in
//   duration linger();                  stay awake this long before sleeping
//                                       (see Waiter::park_until)
//   void release();                     before sleeping (the waiter is registered)
//   void reacquire();                   after sleeping (the waiter is unregistered)
//   bool interrupted();                 after a retry that failed: stop with
//                                       Status::interrupted?
#pragma once

#include "status.hpp"

namespace fastchan {

// The default for a C++ thread: spin briefly, sleep until the deadline,
// never stop early.
struct ThreadWait {
    static constexpr bool spin_first = true;
    detail::Clock::time_point slice_end(detail::Clock::time_point deadline) const noexcept {
        return deadline;
    }
    detail::Clock::duration linger() const noexcept { return detail::Clock::duration::zero(); }
    void release() noexcept {}
    void reacquire() noexcept {}
    bool interrupted() noexcept { return false; }
};

}  // namespace fastchan
