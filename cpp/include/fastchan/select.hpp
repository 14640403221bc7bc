// fastchan::Select: wait on several channel operations, complete exactly one.
//
//   std::optional<Job> job;
//   fastchan::Select select;
//   std::size_t from_jobs = select.recv(jobs, job);      // case 0
//   std::size_t to_log = select.send(log, line);         // case 1 (line moved only if it fires)
//   fastchan::SelectResult r = select.wait();            // or try_select(), wait_until(deadline)
//   if (r.index == from_jobs && r.status == fastchan::Status::ok) use(*job);
//
// r.status is ok, or closed for the case of a closed channel (a recv case
// fires with closed once the channel is closed and drained; a send case once
// it is closed); try_select() returns Status::empty when no case is ready and
// wait_until() Status::timeout at the deadline, with r.index == Select::none.
//
// How (crossbeam's select, on fastchan's waiter protocol): first try every
// case, in a random order each time, so that among ready cases the choice
// is fair. If none is ready, put one Waiter per case on the case's wait list,
// all woken through one Selector (a Waker). The first notifier to move the
// Selector from "waiting" to its case wins; later ones are declined and pass
// their wake-up to the next waiter, as for a closed event loop. A rendezvous
// peer claims the selector before it touches the case's packet, so a select
// never completes two exchanges. Re-checking readiness after registering
// (not re-trying the operations, which would commit) closes the window for
// lost wake-ups; a case found ready aborts the wait and the select starts over.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <functional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "channel.hpp"
#include "detail/futex.hpp"
#include "detail/spin.hpp"
#include "status.hpp"
#include "wait_policy.hpp"
#include "waiter.hpp"

namespace fastchan {

struct SelectResult {
    std::size_t index;  // the case that fired, or Select::none
    Status status;      // ok or closed; empty (try_select) or timeout (wait_until) with none
};

namespace detail {

// The wake-up target shared by one select's waiters.
class Selector final : public Waker {
public:
    static constexpr int kWaiting = -1;
    static constexpr int kAborted = -2;

    // A case's waiter: which case it stands for.
    struct CaseWaiter : Waiter {
        CaseWaiter(void* exchanged, Selector* selector, int case_index) noexcept
            : Waiter(exchanged, selector), index(case_index) {}
        int index;
    };

    // forward: for an owner that is not a sleeping thread (an event loop),
    // the waiter to notify once a case fires; nullptr to wake park_until().
    explicit Selector(Waiter* forward = nullptr) noexcept : forward_(forward) {}

    bool wake(Waiter& waiter) noexcept override {
        int expected = kWaiting;
        if (!selected_.compare_exchange_strong(expected, static_cast<CaseWaiter&>(waiter).index,
                                               std::memory_order_acq_rel)) {
            return false;  // fired already, or gave up: the wake-up goes to the next waiter
        }
        if (forward_ != nullptr) return forward_->notify();
        if (sleeping_.exchange(kAwake, std::memory_order_acq_rel) == kAsleep) futex_wake_all(sleeping_);
        return true;
    }

    // Ends the wait on the selector's side; false if a case fired first.
    bool abort() noexcept {
        int expected = kWaiting;
        return selected_.compare_exchange_strong(expected, kAborted, std::memory_order_acq_rel);
    }

    int selected() const noexcept { return selected_.load(std::memory_order_acquire); }

    // Spins briefly, then sleeps until a case fires or the deadline passes
    // (or, with `stop_on_signal`, a signal handler ran on this thread).
    void park_until(Clock::time_point deadline, bool stop_on_signal = false) noexcept {
        Backoff backoff;
        while (!backoff.completed()) {
            backoff.snooze();
            if (selected() != kWaiting) return;
        }
        while (selected() == kWaiting) {
            std::uint32_t expected = kAwake;
            if (!sleeping_.compare_exchange_strong(expected, kAsleep, std::memory_order_acq_rel)) {
                return;  // woken while getting ready to sleep
            }
            if (selected() != kWaiting) return;
            bool signalled = !futex_wait(sleeping_, kAsleep, deadline);
            sleeping_.store(kAwake, std::memory_order_release);
            if (signalled && stop_on_signal) return;
            if (deadline != kNoDeadline && Clock::now() >= deadline) return;
        }
    }

private:
    static constexpr std::uint32_t kAwake = 0;
    static constexpr std::uint32_t kAsleep = 1;

    Waiter* forward_;
    std::atomic<int> selected_{kWaiting};
    std::atomic<std::uint32_t> sleeping_{kAwake};
};

// One case, with its channel's type erased.
class SelectCase {
public:
    virtual ~SelectCase() = default;
    // Attempts the operation: ok or closed when it fired, else would block.
    virtual Status attempt() = 0;
    // Registers the waiter; false if the operation could complete now.
    // offer_value: a send case on a rendezvous offers its value to a
    // receiver while the select waits; if false it parks an intent (see
    // flavors/zero.hpp), for owners that may be cancelled before they run.
    virtual bool enlist(Selector::CaseWaiter& waiter, bool offer_value) = 0;
    virtual void delist(Selector::CaseWaiter& waiter) = 0;
    // A rendezvous peer completed the exchange for us while we waited.
    virtual bool done_by_peer() const noexcept = 0;
    // What the case's waiter carries for a rendezvous peer.
    virtual void* packet() noexcept = 0;
    // The select fired on this case but will not act on it: hand the
    // wake-up to the next waiter of the channel (a rendezvous has none to give).
    virtual void pass_on() = 0;
};

template <class T>
class RecvCase final : public SelectCase {
public:
    RecvCase(Channel<T>& channel, std::optional<T>& out) : channel_(channel), out_(out) {}

    Status attempt() override {
        return channel_.visit_flavor([&](auto& f) { return f.try_recv(out_); });
    }
    bool enlist(Selector::CaseWaiter& w, bool) override {
        packet_.done = false;
        return channel_.visit_flavor([&](auto& f) { return f.enlist_receiver(w); });
    }
    void delist(Selector::CaseWaiter& w) override {
        channel_.visit_flavor([&](auto& f) { f.delist_receiver(w); });
    }
    bool done_by_peer() const noexcept override { return packet_.done; }
    void* packet() noexcept override { return &packet_; }
    void pass_on() override {
        channel_.visit_flavor([](auto& f) { f.pass_on_to_receiver(); });
    }

private:
    Channel<T>& channel_;
    std::optional<T>& out_;
    typename flavors::Zero<T>::Packet packet_{nullptr, &out_, false};
};

template <class T>
class SendCase final : public SelectCase {
public:
    SendCase(Channel<T>& channel, T& value) : channel_(channel), value_(value) {}

    Status attempt() override {
        return channel_.visit_flavor([&](auto& f) { return f.try_send(value_); });
    }
    bool enlist(Selector::CaseWaiter& w, bool offer_value) override {
        packet_.done = false;
        packet_.value = offer_value ? &value_ : nullptr;
        return channel_.visit_flavor([&](auto& f) { return f.enlist_sender(w); });
    }
    void delist(Selector::CaseWaiter& w) override {
        channel_.visit_flavor([&](auto& f) { f.delist_sender(w); });
    }
    bool done_by_peer() const noexcept override { return packet_.done; }
    void* packet() noexcept override { return &packet_; }
    void pass_on() override {
        channel_.visit_flavor([](auto& f) { f.pass_on_to_sender(); });
    }

private:
    Channel<T>& channel_;
    T& value_;
    typename flavors::Zero<T>::Packet packet_{&value_, nullptr, false};
};

// Picks where a select starts trying: cheap, per thread, seeded once from
// the thread's id and the clock. Fairness needs threads to start at different
// cases, not unpredictability; std::random_device may throw, and needs
// getentropy/arc4random, which glibc before 2.25/2.36 lacks (manylinux).
inline std::size_t random_below(std::size_t n) noexcept {
    thread_local std::minstd_rand generator{static_cast<std::uint_fast32_t>(
        std::hash<std::thread::id>{}(std::this_thread::get_id()) ^
        static_cast<std::size_t>(std::chrono::steady_clock::now().time_since_epoch().count()))};
    return n <= 1 ? 0 : generator() % n;
}

}  // namespace detail

class Select {
public:
    static constexpr std::size_t none = std::numeric_limits<std::size_t>::max();

    Select() = default;
    Select(const Select&) = delete;
    Select& operator=(const Select&) = delete;

    // Adds a case that receives into `out`; returns its index.
    template <class T>
    std::size_t recv(Channel<T>& channel, std::optional<T>& out) {
        cases_.push_back(std::make_unique<detail::RecvCase<T>>(channel, out));
        return cases_.size() - 1;
    }

    // Adds a case that sends `value` (moved from only if this case fires).
    template <class T>
    std::size_t send(Channel<T>& channel, T& value) {
        cases_.push_back(std::make_unique<detail::SendCase<T>>(channel, value));
        return cases_.size() - 1;
    }

    // Fires a ready case, if any; else {none, empty}.
    SelectResult try_select() { return wait_until(detail::Clock::time_point::min()); }

    SelectResult wait() { return wait_until(detail::kNoDeadline); }

    template <class Rep, class Period>
    SelectResult wait_for(std::chrono::duration<Rep, Period> timeout) {
        return wait_until(detail::deadline_after(timeout));
    }

    // Blocks until one case fires or the deadline passes ({none, timeout}).
    // The policy's hooks run around each sleep, as for a channel's own
    // waits ({none, interrupted} if it says so).
    template <class Policy = ThreadWait>
    SelectResult wait_until(detail::Clock::time_point deadline, Policy&& policy = {}) {
        const std::size_t n = cases_.size();
        if (n == 0) return {none, deadline == detail::Clock::time_point::min() ? Status::empty : Status::timeout};
        for (;;) {
            for (std::size_t i : shuffled_order()) {
                Status s = cases_[i]->attempt();
                if (!would_block(s)) return {i, s};
            }
            if (deadline == detail::Clock::time_point::min()) return {none, Status::empty};
            if (deadline != detail::kNoDeadline && detail::Clock::now() >= deadline) {
                return {none, Status::timeout};
            }
            // Asked before each sleep and after each wake-up, while no case fired.
            if (policy.interrupted()) return {none, Status::interrupted};
            if (std::optional<SelectResult> fired = wait_once(deadline, policy)) return *fired;
            if (policy.interrupted()) return {none, Status::interrupted};
        }
    }

    std::size_t size() const noexcept { return cases_.size(); }

    // The steps of a wait, for owners that cannot block a thread (an event
    // loop). After try_select() found nothing: enlist() registers one
    // waiter per case; `forward` (whose Waker wakes the owner) is notified
    // once, when a case fires. It returns false if a case looked ready;
    // either way the owner then calls finish(), or cancel() to give up.
    // offer_values: whether send cases on a rendezvous may be completed by
    // a receiver while the owner waits (SelectCase::enlist).
    bool enlist(Waiter* forward, bool offer_values = true) {
        selector_ = std::make_unique<detail::Selector>(forward);
        waiters_.clear();
        for (std::size_t i = 0; i < cases_.size(); ++i) {
            waiters_.push_back(std::make_unique<detail::Selector::CaseWaiter>(
                cases_[i]->packet(), selector_.get(), static_cast<int>(i)));
            if (!cases_[i]->enlist(*waiters_.back(), offer_values)) return false;
        }
        return true;
    }

    // Takes the waiters off; the result if a case fired (nullopt: start
    // over with try_select()).
    std::optional<SelectResult> finish() {
        int fired = delist_all();
        if (fired < 0) return std::nullopt;
        auto i = static_cast<std::size_t>(fired);
        if (cases_[i]->done_by_peer()) return SelectResult{i, Status::ok};
        Status s = cases_[i]->attempt();  // woken for a buffered item, or by close
        if (!would_block(s)) return SelectResult{i, s};
        return std::nullopt;
    }

    // Gives up waiting. A rendezvous exchange that already happened cannot
    // be undone: then its result is returned and must be used. A wake-up
    // for a buffered case goes to the next waiter instead.
    std::optional<SelectResult> cancel() {
        int fired = delist_all();
        if (fired < 0) return std::nullopt;
        auto i = static_cast<std::size_t>(fired);
        if (cases_[i]->done_by_peer()) return SelectResult{i, Status::ok};
        cases_[i]->pass_on();
        return std::nullopt;
    }

private:
    // A fresh random order of the cases (Fisher-Yates), so that each ready
    // case is equally likely to fire, as in Go.
    const std::vector<std::size_t>& shuffled_order() {
        order_.resize(cases_.size());
        for (std::size_t i = 0; i < order_.size(); ++i) {
            std::size_t j = detail::random_below(i + 1);
            order_[i] = order_[j];
            order_[j] = i;
        }
        return order_;
    }

    // Ends a wait: no notifier can pick this select any more, and no waiter
    // of it stays on a channel. Returns the case that fired, or < 0.
    int delist_all() {
        if (!selector_) return detail::Selector::kAborted;
        selector_->abort();
        for (std::size_t i = 0; i < waiters_.size(); ++i) cases_[i]->delist(*waiters_[i]);
        int fired = selector_->selected();
        waiters_.clear();
        selector_.reset();
        return fired;
    }

    // Registers on every case and waits for one to fire. A result, or
    // nullopt to start over (a case looked ready, or its item was taken by
    // another receiver first). A case a rendezvous peer completed is the
    // result whatever the policy says; otherwise the policy may stop the
    // wait ({none, interrupted}) before a fired case is attempted.
    template <class Policy>
    std::optional<SelectResult> wait_once(detail::Clock::time_point deadline, Policy& policy) {
        if (enlist(nullptr)) {
            policy.release();
            selector_->park_until(policy.slice_end(deadline), detail::wakes_on_signal_v<Policy>);
            policy.reacquire();
        }
        int fired = delist_all();
        if (fired < 0) return std::nullopt;
        auto i = static_cast<std::size_t>(fired);
        if (cases_[i]->done_by_peer()) return SelectResult{i, Status::ok};
        if (policy.interrupted()) {
            cases_[i]->pass_on();
            return SelectResult{none, Status::interrupted};
        }
        Status s = cases_[i]->attempt();  // woken for a buffered item, or by close
        if (!would_block(s)) return SelectResult{i, s};
        return std::nullopt;
    }

    std::vector<std::unique_ptr<detail::SelectCase>> cases_;
    std::vector<std::size_t> order_;
    std::unique_ptr<detail::Selector> selector_;  // between enlist() and finish()
    std::vector<std::unique_ptr<detail::Selector::CaseWaiter>> waiters_;
};

}  // namespace fastchan
