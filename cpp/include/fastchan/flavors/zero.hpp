// Rendezvous (capacity 0): no buffer at all. A sender hands its value
// straight to a waiting receiver's slot, or waits until a receiver comes and
// takes it from the sender's own stack (Go's sendDirect, crossbeam's zero.rs).
// One lock guards both wait queues, so a match is decided in one place.
//
// A waiting sender may instead park an *intent* (a packet with no value):
// an owner that can be cancelled before it runs again (an asyncio task)
// must not have its send completed while it is suspended. A receiver that
// finds an intent wakes it and waits itself; the woken sender then hands
// its value over while it runs. Receivers always park with a slot: a
// receiver that cannot keep what it was handed gives it back (put_back).
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "../detail/fork.hpp"
#include "../detail/spin.hpp"
#include "../status.hpp"
#include "../wait_policy.hpp"
#include "../waiter.hpp"

namespace fastchan::flavors {

template <class T>
class Zero {
public:
    using value_type = T;

    Zero() = default;
    Zero(const Zero&) = delete;
    Zero& operator=(const Zero&) = delete;

    // Succeeds only if a receiver is already waiting.
    Status try_send(T& value) {
        auto guard = locked();
        return hand_to_receiver(value);
    }

    // Succeeds only if a sender is already waiting with its value (or a
    // value was put back).
    Status try_recv(std::optional<T>& out) {
        auto guard = locked();
        return take_from_sender(out);
    }

    template <class Policy = ThreadWait>
    Status send_until(T& value, detail::Clock::time_point deadline, Policy&& policy = {}) {
        Packet packet{&value, nullptr, false};
        return wait_until(senders_, packet, deadline, policy,
                          [&] { return hand_to_receiver(value); });
    }

    template <class Policy = ThreadWait>
    Status recv_until(std::optional<T>& out, detail::Clock::time_point deadline,
                      Policy&& policy = {}) {
        Packet packet{nullptr, &out, false};
        return wait_until(receivers_, packet, deadline, policy,
                          [&] { return take_from_sender(out); });
    }

    // Returns a value received from this channel: a waiting receiver gets
    // it at once, or else the next receive. Works on a closed channel too.
    void put_back(T&& value) {
        auto guard = locked();
        while (Waiter* receiver = receivers_.pop()) {
            if (!receiver->notify()) continue;
            fill(*receiver, value);
            return;
        }
        put_back_.push_front(std::move(value));
        put_back_count_.store(put_back_.size(), std::memory_order_relaxed);
    }

    bool close() {
        auto guard = locked();
        if (closed_.load(std::memory_order_relaxed)) return false;
        closed_.store(true, std::memory_order_release);
        senders_.notify_all();
        receivers_.notify_all();
        return true;
    }

    bool is_closed() const noexcept { return closed_.load(std::memory_order_acquire); }

    // Values put back and not yet received again; otherwise 0.
    std::size_t size() const noexcept { return put_back_count_.load(std::memory_order_relaxed); }
    std::size_t capacity() const noexcept { return 0; }

    // What a parked sender offers (`value`; nullptr for an intent) or a
    // parked receiver accepts (`slot`); `done` is set by the peer that
    // completed the exchange.
    struct Packet {
        T* value;
        std::optional<T>* slot;
        bool done;
    };

    // For fastchan::Select: queue `w` (whose packet is a Packet) as a
    // waiting receiver or sender, unless the operation could complete now
    // (a peer of another owner waits ready to exchange, a value was put
    // back, or the channel is closed): then return false and queue nothing.
    // A receiver wakes the intents it finds, as a blocking receive does.
    // delist() takes it out again.
    bool enlist_receiver(Waiter& w) {
        auto guard = locked();
        if (closed_.load(std::memory_order_relaxed) || !put_back_.empty() ||
            senders_.has_peer_of(w.waker(), offers_value)) {
            return false;
        }
        receivers_.push(w);
        wake_intents(w.waker());
        return true;
    }
    bool enlist_sender(Waiter& w) {
        auto guard = locked();
        if (closed_.load(std::memory_order_relaxed) || receivers_.has_peer_of(w.waker(), any_waiter)) {
            return false;
        }
        senders_.push(w);
        return true;
    }
    void delist_receiver(Waiter& w) { delist(receivers_, w); }
    void delist_sender(Waiter& w) { delist(senders_, w); }
    // A rendezvous hands values over directly: no wake-up to pass on.
    void pass_on_to_receiver() noexcept {}
    void pass_on_to_sender() noexcept {}

private:
    static bool offers_value(const Waiter& w) noexcept { return static_cast<Packet*>(w.packet)->value != nullptr; }
    static bool any_waiter(const Waiter&) noexcept { return true; }

    // The helpers below run with lock_ held. A peer is claimed (notified)
    // before its packet is touched: a select's waiter may decline, having
    // fired on another case; then the next peer is tried. The claimed owner
    // reads its packet only after taking lock_ to unqueue, so it sees it filled.
    static void fill(Waiter& receiver, T& value) {
        auto* packet = static_cast<Packet*>(receiver.packet);
        packet->slot->emplace(std::move(value));
        packet->done = true;
    }

    Status hand_to_receiver(T& value) {
        if (closed_.load(std::memory_order_relaxed)) return Status::closed;
        while (Waiter* receiver = receivers_.pop()) {
            if (!receiver->notify()) continue;
            fill(*receiver, value);
            return Status::ok;
        }
        return Status::full;
    }

    Status take_from_sender(std::optional<T>& out) {
        if (!put_back_.empty()) {
            out.emplace(std::move(put_back_.front()));
            put_back_.pop_front();
            put_back_count_.store(put_back_.size(), std::memory_order_relaxed);
            return Status::ok;
        }
        while (Waiter* sender = senders_.pop()) {
            auto* packet = static_cast<Packet*>(sender->packet);
            if (packet->value == nullptr) {  // an intent: its owner comes and sends itself
                sender->notify();
                continue;
            }
            if (!sender->notify()) continue;
            out.emplace(std::move(*packet->value));
            packet->done = true;
            return Status::ok;
        }
        return closed_.load(std::memory_order_relaxed) ? Status::closed : Status::empty;
    }

    // A receiver now waits: the intents of other owners can send to it.
    void wake_intents(const Waker* mine) {
        senders_.take_peers_of(mine, [](const Waiter& w) { return !offers_value(w); },
                               [](Waiter& w) { w.notify(); });
    }

    void delist(WaiterQueue& queue, Waiter& w) {
        auto guard = locked();
        queue.remove(w);
    }

    // Offer (or ask) by parking on `queue` until a peer completes the
    // exchange, the channel closes, or the deadline passes. The waiter is
    // always unqueued before the policy re-acquires anything, and the
    // policy is asked whether to stop only while nothing was exchanged.
    template <class Policy, class Match>
    Status wait_until(WaiterQueue& queue, Packet& packet, detail::Clock::time_point deadline,
                      Policy& policy, Match&& match) {
        for (;;) {
            if (policy.interrupted()) return Status::interrupted;
            Waiter waiter(&packet);
            {
                auto guard = locked();
                Status s = match();
                if (!would_block(s)) return s;
                if (deadline != detail::kNoDeadline && detail::Clock::now() >= deadline) {
                    return Status::timeout;
                }
                queue.push(waiter);  // (a receiver's match() woke the intents it found: they come to it)
            }
            policy.release();
            waiter.park_until(policy.slice_end(deadline), policy.linger(), detail::wakes_on_signal_v<Policy>);
            {
                auto guard = locked();
                queue.remove(waiter);
            }
            policy.reacquire();
            if (packet.done) return Status::ok;
        }
    }

    // lock_, held. In a forked child it first forgets the parent's waiters:
    // their threads are gone, and an item handed to one would be lost.
    [[nodiscard]] std::unique_lock<detail::SpinLock> locked() noexcept {
        fork_.check([this] {
            lock_.unlock();
            senders_ = WaiterQueue();
            receivers_ = WaiterQueue();
        });
        return std::unique_lock<detail::SpinLock>(lock_);
    }

    detail::SpinLock lock_;
    WaiterQueue senders_;
    WaiterQueue receivers_;
    std::deque<T> put_back_;                      // under lock_
    std::atomic<std::size_t> put_back_count_{0};  // its size, for size()
    std::atomic<bool> closed_{false};  // written under lock_; read anywhere
    detail::ForkCheck fork_;
};

}  // namespace fastchan::flavors
