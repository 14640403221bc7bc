// Test-only fault injection: make the Nth conversion of a received item to
// Python fail (MemoryError), or the Nth growth of a received batch (a
// std::bad_alloc), to prove that every path after an item is taken returns
// it or puts it back (fastchan._core._testing._fail_nth, used by tests). Unarmed it
// costs one relaxed load where it is checked.
#pragma once

#include <atomic>
#include <new>

namespace fastchan::binding {

enum class Fault : int { to_python = 0, batch_growth = 1 };

inline std::atomic<long> g_fault_countdown[2];

// Arms `fault` to strike at its nth check from now (n >= 1); 0 disarms.
inline void arm_fault(Fault fault, long n) noexcept {
    g_fault_countdown[static_cast<int>(fault)].store(n, std::memory_order_relaxed);
}

// True at the armed check (then disarmed).
inline bool fault_strikes(Fault fault) noexcept {
    auto& countdown = g_fault_countdown[static_cast<int>(fault)];
    if (countdown.load(std::memory_order_relaxed) <= 0) return false;
    return countdown.fetch_sub(1, std::memory_order_relaxed) == 1;
}

}  // namespace fastchan::binding
