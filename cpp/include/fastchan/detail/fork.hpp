// Fork awareness. After fork() only the forking thread exists in the child,
// so every waiter registered before the fork belongs to a thread that is
// gone: a notification given to one would be lost, and a lock one held would
// never be released. A wait list (or a rendezvous' queues) remembers the
// fork generation it was last used in and forgets such waiters the first
// time the child touches it.
#pragma once

#include <atomic>
#include <thread>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#include <unistd.h>
#define FASTCHAN_HAS_FORK 1
#endif

namespace fastchan::detail {

namespace fork_state {
// The process id, cached. A counter of forks would do for one module, but
// every module built from these headers keeps its own copy of this state
// (fastchan's _core, and an extension sharing its channels through
// fastchan/python.hpp), and a module first used in a child would start its
// count afresh. The pid is the same value for all of them.
// (Stays 0 where there is no fork: Windows.)
inline std::atomic<long> pid{0};
#ifdef FASTCHAN_HAS_FORK
inline void on_child() noexcept { pid.store(static_cast<long>(getpid()), std::memory_order_relaxed); }
#endif
}  // namespace fork_state

// A value that changes in every forked child (the process id); the first
// call registers the fork hook, so any wait list created before a fork sees
// that fork.
inline unsigned fork_generation() noexcept {
#ifdef FASTCHAN_HAS_FORK
    static const bool registered = (fork_state::pid.store(static_cast<long>(getpid()), std::memory_order_relaxed),
                                    pthread_atfork(nullptr, nullptr, &fork_state::on_child), true);
    (void)registered;
#endif
    return static_cast<unsigned>(fork_state::pid.load(std::memory_order_relaxed));
}

// Remembers the fork generation some state was last used in. check() runs
// `reset` once, at the state's first use in a forked child, before the
// caller takes the state's lock (which `reset` must release: a thread of
// the parent may have held it). The reset is claimed on the state itself,
// not under a global lock: two modules (each with its own copy of any
// global) may touch the same state first at once. A claim left behind by a
// thread of the parent, forked mid-reset, belongs to another pid and is
// taken over.
class ForkCheck {
public:
    ForkCheck() noexcept : generation_(fork_generation()) {}

    template <class Reset>
    void check(Reset&& reset) noexcept {
        unsigned now = fork_generation();
        unsigned seen = generation_.load(std::memory_order_acquire);
        while (seen != now) {
            bool claimed_here = seen == (now | kResetting);
            if (!claimed_here && generation_.compare_exchange_weak(seen, now | kResetting,
                                                                   std::memory_order_acquire)) {
                reset();
                generation_.store(now, std::memory_order_release);
                return;
            }
            if (claimed_here) {  // another thread of this process resets it: wait
                std::this_thread::yield();
                seen = generation_.load(std::memory_order_acquire);
            }
        }
    }

private:
    static constexpr unsigned kResetting = 1u << 31;  // above any pid
    std::atomic<unsigned> generation_;
};

}  // namespace fastchan::detail
