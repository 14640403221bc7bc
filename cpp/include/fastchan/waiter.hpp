// The waiter protocol: how a blocked operation registers on a channel and is
// woken. Built once for every kind of owner. A thread owner spins briefly on
// its waiter's state word, then sleeps on it (futex); other owners (an event
// loop, a select) plug in a Waker instead.
//
// Rules that make wake-ups impossible to lose:
//   * register (WaitList::push), then re-check the channel, then sleep;
//   * a notifier changes the channel first, then looks for waiters;
//   * "I registered" and "I changed the channel" are ordered on both sides
//     (a fence after registering; a seq_cst read-modify-write or a shared
//     lock on the channel side), so at least one side sees the other;
//   * a notifier touches a waiter only under the list's lock, and an owner
//     always unregisters (WaitList::remove) before its Waiter goes away, so a
//     waiter on the owner's stack is never touched after it returned.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <cstdint>
#include <mutex>

#include "status.hpp"
#include "detail/fence.hpp"
#include "detail/fork.hpp"
#include "detail/futex.hpp"
#include "detail/platform.hpp"
#include "detail/spin.hpp"

namespace fastchan {

class Waiter;

// Wakes a waiter's owner when that owner is not a sleeping thread. Returns
// false to decline (its owner is gone, e.g. a closed event loop): the
// wake-up then goes to the next waiter.
class Waker {
public:
    virtual bool wake(Waiter& waiter) noexcept = 0;

protected:
    ~Waker() = default;
};

class Waiter {
public:
    explicit Waiter(void* exchanged = nullptr, Waker* waker = nullptr) noexcept
        : packet(exchanged), waker_(waker) {}
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    bool notified() const noexcept { return state_.load(std::memory_order_acquire) == kNotified; }

    // Thread owners: spin briefly, then sleep until notified or the deadline.
    // True once notified; false at the deadline, or (with `stop_on_signal`)
    // once a signal handler ran on this thread while it slept, so that its
    // owner can act on the signal (the waiter may still be notified
    // afterwards: WaitList::remove tells).
    // `linger`: keep checking (yielding the core) this long before the
    // futex sleep, for owners that expect a wake-up soon (a pool worker
    // between tasks): a wake-up that finds the waiter awake costs the
    // notifier no syscall and the owner no 35-50 us unpark. While the
    // machine is busy (see detail/contention.hpp) it does not yield, which
    // would give the core away for a whole time slice (and a waiter that is
    // not asleep gets no wake-up): it spins at most kBusyLinger, then sleeps.
    static constexpr auto kBusyLinger = std::chrono::microseconds(20);

    bool park_until(detail::Clock::time_point deadline,
                    detail::Clock::duration linger = detail::Clock::duration::zero(),
                    bool stop_on_signal = false) noexcept {
        detail::Backoff backoff;
        while (!backoff.completed()) {
            backoff.snooze();
            if (notified()) return true;
        }
        if (linger > detail::Clock::duration::zero() && lingered(deadline, linger)) return true;
        for (;;) {
            std::uint32_t expected = kWaiting;
            if (!state_.compare_exchange_strong(expected, kSleeping, std::memory_order_acq_rel)) {
                return true;  // notified while we were getting ready to sleep
            }
            bool signalled = !detail::futex_wait(state_, kSleeping, deadline);
            expected = kSleeping;
            if (!state_.compare_exchange_strong(expected, kWaiting, std::memory_order_acq_rel)) {
                return true;
            }
            if (signalled && stop_on_signal) return false;
            if (deadline != detail::kNoDeadline && detail::Clock::now() >= deadline) return false;
        }
    }

    // Flavor-specific data exchanged with the notifier (a rendezvous slot).
    void* packet;

    // Who wakes this waiter's owner; nullptr for a sleeping thread.
    Waker* waker() const noexcept { return waker_; }

    // Only by whoever took the waiter out of its queue, with that queue's
    // lock still held. False if the waiter's Waker declined the wake-up.
    bool notify() noexcept {
        std::uint32_t previous = state_.exchange(kNotified, std::memory_order_acq_rel);
        if (waker_ != nullptr) return waker_->wake(*this);
#if FASTCHAN_USE_LINUX_APIS
        if (previous == kSleeping) detail::futex_wake_all(state_);
#else
        if (previous == kSleeping) wake_all_(state_);
#endif
        return true;
    }

private:
    friend class WaiterQueue;

    // True if notified while lingering (see park_until).
    bool lingered(detail::Clock::time_point deadline, detail::Clock::duration linger) noexcept {
        auto now = detail::Clock::now();
        auto until = deadline - now > linger ? now + linger : deadline;
        while (detail::Clock::now() < until && !detail::Contention::busy()) {
            detail::Contention::yield();
            if (notified()) return true;
        }
        until = std::min(until, detail::Clock::now() + kBusyLinger);
        while (detail::Clock::now() < until) {
            for (int i = 0; i < 16; ++i) detail::cpu_relax();
            if (notified()) return true;
        }
        return notified();
    }

    static constexpr std::uint32_t kWaiting = 0;
    static constexpr std::uint32_t kNotified = 1;
    static constexpr std::uint32_t kSleeping = 2;

    std::atomic<std::uint32_t> state_{kWaiting};
    Waker* waker_;
#if !FASTCHAN_USE_LINUX_APIS
    // The parking table is one per module (each extension built from these
    // headers has its own copy, fastchan/python.hpp shares channels between
    // them): the notifier, whichever module it runs in, wakes the sleeper
    // through the table of the module that parked it (the one that made the
    // waiter: the same code sleeps on it). The kernel's futex needs no such
    // help.
    void (*wake_all_)(std::atomic<std::uint32_t>&) noexcept = &detail::futex_wake_all;
#endif
    Waiter* prev_ = nullptr;
    Waiter* next_ = nullptr;
    bool linked_ = false;
};

// An intrusive FIFO of waiters; the caller provides the locking.
class WaiterQueue {
public:
    bool empty() const noexcept { return head_ == nullptr; }

    void push(Waiter& w) noexcept {
        w.prev_ = tail_;
        w.next_ = nullptr;
        w.linked_ = true;
        (tail_ ? tail_->next_ : head_) = &w;
        tail_ = &w;
    }

    // True if `w` was still queued (no notifier took it).
    bool remove(Waiter& w) noexcept {
        if (!w.linked_) return false;
        (w.prev_ ? w.prev_->next_ : head_) = w.next_;
        (w.next_ ? w.next_->prev_ : tail_) = w.prev_;
        w.linked_ = false;
        return true;
    }

    // Takes the longest-waiting waiter out and notifies it (the next one,
    // if a waiter's Waker declines).
    bool notify_one() noexcept {
        while (Waiter* w = pop()) {
            if (w->notify()) return true;
        }
        return false;
    }

    void notify_all() noexcept {
        while (notify_one()) {
        }
    }

    Waiter* pop() noexcept {
        Waiter* w = head_;
        if (w != nullptr) remove(*w);
        return w;
    }

    // Is any waiter queued that `waker` does not wake and `pred` accepts?
    // (A select must not count its own waiters as peers.)
    template <class Pred>
    bool has_peer_of(const Waker* waker, Pred&& pred) const noexcept {
        for (const Waiter* w = head_; w != nullptr; w = w->next_) {
            if ((w->waker_ == nullptr || w->waker_ != waker) && pred(*w)) return true;
        }
        return false;
    }

    // Takes out, in order, every waiter that `waker` does not wake and
    // `pred` accepts, and calls fn on each.
    template <class Pred, class Fn>
    void take_peers_of(const Waker* waker, Pred&& pred, Fn&& fn) {
        for (Waiter* w = head_; w != nullptr;) {
            Waiter* next = w->next_;
            if ((w->waker_ == nullptr || w->waker_ != waker) && pred(*w)) {
                remove(*w);
                fn(*w);
            }
            w = next;
        }
    }

private:
    Waiter* head_ = nullptr;
    Waiter* tail_ = nullptr;
};

// One side's waiters (senders waiting for room, or receivers waiting for
// items), with its own lock and a flag that keeps notify at one load when
// nobody waits.
class WaitList {
public:
    WaitList() noexcept = default;
    WaitList(const WaitList&) = delete;
    WaitList& operator=(const WaitList&) = delete;

    void push(Waiter& w) noexcept {
        forget_if_forked();
        {
            std::lock_guard<detail::SpinLock> guard(lock_);
            queue_.push(w);
            has_waiters_.store(true, std::memory_order_relaxed);
        }
        // Pairs with the fence in has_waiters(): the caller's re-check of the
        // channel cannot be ordered before this registration.
        detail::store_load_fence(has_waiters_);
    }

    // True if `w` was still registered; false if a notifier took it first.
    bool remove(Waiter& w) noexcept {
        forget_if_forked();
        std::lock_guard<detail::SpinLock> guard(lock_);
        bool was_registered = queue_.remove(w);
        has_waiters_.store(!queue_.empty(), std::memory_order_relaxed);
        return was_registered;
    }

    bool notify_one() noexcept {
        if (!has_waiters()) return false;
        forget_if_forked();
        std::lock_guard<detail::SpinLock> guard(lock_);
        bool woke = queue_.notify_one();
        has_waiters_.store(!queue_.empty(), std::memory_order_relaxed);
        return woke;
    }

    void notify_all() noexcept {
        if (!has_waiters()) return;
        forget_if_forked();
        std::lock_guard<detail::SpinLock> guard(lock_);
        queue_.notify_all();
        has_waiters_.store(false, std::memory_order_relaxed);
    }

    // Called after the channel changed. That change must be a seq_cst
    // read-modify-write or be made under a lock the waiters' re-check also
    // takes (true of every buffer here); after a plain store, put a seq_cst
    // fence first. Either way the waiter's fence in push() and this seq_cst
    // load cannot both miss each other, and no fence is paid per item.
    bool has_waiters() const noexcept { return has_waiters_.load(std::memory_order_seq_cst); }

private:
    // In a forked child, the waiters registered before the fork (and the
    // lock, if one of them held it) belong to threads that no longer exist.
    void forget_if_forked() noexcept {
        fork_.check([this] {
            lock_.unlock();
            queue_ = WaiterQueue();
            has_waiters_.store(false, std::memory_order_relaxed);
        });
    }

    detail::SpinLock lock_;
    WaiterQueue queue_;
    std::atomic<bool> has_waiters_{false};
    detail::ForkCheck fork_;
};

// A waiter's registration on a wait list for the length of a scope.
// leave() unregisters it and tells whether a notifier took it (it was
// woken). If the scope ends any other way (the operation it re-checks with
// threw), it is unregistered all the same and a wake-up it was given goes to
// the next waiter: a waiter on a stack is never left linked, and no wake-up
// is stranded.
class Registration {
public:
    Registration(WaitList& list, Waiter& waiter) noexcept : list_(list), waiter_(waiter) { list_.push(waiter_); }
    ~Registration() {
        if (registered_ && !list_.remove(waiter_)) list_.notify_one();
    }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

    bool leave() noexcept {
        registered_ = false;
        return !list_.remove(waiter_);
    }

private:
    WaitList& list_;
    Waiter& waiter_;
    bool registered_ = true;
};

// A wake-up an owner was given and has not used yet: it goes to the next
// waiter of the list when the scope ends, unless used() says it was spent.
class HeldWakeUp {
public:
    HeldWakeUp(WaitList& list, bool held) noexcept : list_(list), held_(held) {}
    ~HeldWakeUp() {
        if (held_) list_.notify_one();
    }
    HeldWakeUp(const HeldWakeUp&) = delete;
    HeldWakeUp& operator=(const HeldWakeUp&) = delete;

    void used() noexcept { held_ = false; }

private:
    WaitList& list_;
    bool held_;
};

}  // namespace fastchan
