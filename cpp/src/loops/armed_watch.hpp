// For event loops that cannot watch a descriptor (no add_reader: asyncio's
// ProactorEventLoop on Windows, some custom loops). One thread per such loop
// (python/fastchan/_loops/asyncio.py) waits here, GIL released, for the
// loop's LoopWaker to be armed, and hands each arming to the loop with
// call_soon_threadsafe(drain). The notifying side (LoopWaker::wake, any
// thread, no GIL, maybe under a wait list's spin lock) only takes this
// mutex for an instant, once per burst (when it arms the waker), and never
// blocks on Python: the watching thread holds the mutex only to test its
// condition, never while it calls into Python.
//
// The protocol is the descriptor's: "armed and handed over" plays "readable
// and its reader callback queued". An arming is handed over once; the next
// one is handed over only after the handed-over drain began (handed_back,
// before that drain disarms), so a wake-up arriving while the drain is
// queued either finds the waker still armed (that drain takes it) or arms
// it again (and is handed over in turn): none is lost, and no drain is
// queued twice for one arming.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <new>

namespace fastchan::binding {

class ArmedWatch {
public:
    // Before any wake-up reaches the waker (its first waiter registers
    // after this, on the loop's thread).
    void enable() noexcept { enabled_.store(true, std::memory_order_release); }
    bool enabled() const noexcept { return enabled_.load(std::memory_order_acquire); }

    // The waker was just armed (by this caller): wake the watching thread.
    void notify() noexcept {
        { std::lock_guard<std::mutex> guard(mutex_); }  // the watcher tests or waits, not between
        cv_.notify_one();
    }

    // The watching thread, GIL released: true once `armed` is set and not
    // handed over yet (it is now: queue one drain), false once stopped.
    bool wait(const std::atomic<bool>& armed) {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] {
            return stopped_ || (!handed_ && armed.load(std::memory_order_seq_cst));
        });
        if (stopped_) return false;
        handed_ = true;
        return true;
    }

    // The handed-over drain runs (loop thread): the next arming is handed
    // over again. Before the drain disarms.
    void handed_back() {
        std::lock_guard<std::mutex> guard(mutex_);
        handed_ = false;
    }

    // The loop closed (or is gone): wait() returns false from now on.
    void stop() {
        {
            std::lock_guard<std::mutex> guard(mutex_);
            stopped_ = true;
        }
        cv_.notify_all();
    }

    // In a fork()ed child, where the watching thread is gone, maybe with the
    // mutex held: a fresh mutex and condition variable, for a new thread
    // (whose first wait hands over an arming left from the parent, if any).
    void after_fork_in_child() noexcept {
        new (&mutex_) std::mutex;
        new (&cv_) std::condition_variable;
        handed_ = false;
    }

private:
    std::atomic<bool> enabled_{false};
    std::mutex mutex_;
    std::condition_variable cv_;
    bool handed_ = false;   // guarded by mutex_
    bool stopped_ = false;  // guarded by mutex_
};

}  // namespace fastchan::binding
