// Fork awareness. After fork() only the forking thread exists in the child,
// so every waiter registered before the fork belongs to a thread that is
// gone: a notification given to one would be lost, and a lock one held would
// never be released. A wait list (or a rendezvous' queues) remembers the
// fork generation it was last used in and forgets such waiters the first
// time the child touches it.
#pragma once

#include <atomic>
#include <mutex>
#include <new>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define FASTCHAN_HAS_FORK 1
#endif

namespace fastchan::detail {

// Serializes the (once per list per fork) resets in a child that already
// runs several threads again.
inline std::mutex& fork_reset_mutex() noexcept {
    static std::mutex m;
    return m;
}

namespace fork_state {
inline std::atomic<unsigned> generation{0};
inline void on_child() noexcept {
    generation.fetch_add(1, std::memory_order_relaxed);
    // A thread of the parent may have held it (resetting a list): start afresh.
    new (&fork_reset_mutex()) std::mutex();
}
}  // namespace fork_state

// The current fork generation; the first call registers the fork hook, so
// any wait list created before a fork sees that fork.
inline unsigned fork_generation() noexcept {
#ifdef FASTCHAN_HAS_FORK
    static const bool registered = (pthread_atfork(nullptr, nullptr, &fork_state::on_child), true);
    (void)registered;
#endif
    return fork_state::generation.load(std::memory_order_relaxed);
}

// Remembers the fork generation some state was last used in. check() runs
// `reset` once, at the state's first use in a forked child, before the
// caller takes the state's lock (which `reset` must release: a thread of
// the parent may have held it).
class ForkCheck {
public:
    ForkCheck() noexcept : generation_(fork_generation()) {}

    template <class Reset>
    void check(Reset&& reset) noexcept {
        unsigned now = fork_generation();
        if (generation_.load(std::memory_order_acquire) == now) return;
        std::lock_guard<std::mutex> guard(fork_reset_mutex());
        if (generation_.load(std::memory_order_relaxed) == now) return;
        reset();
        generation_.store(now, std::memory_order_release);
    }

private:
    std::atomic<unsigned> generation_;
};

}  // namespace fastchan::detail
