// Rendezvous (capacity 0): no buffer at all. A sender hands its value
// straight to a waiting receiver's slot, or waits until a receiver comes and
// takes it from the sender's own stack (Go's sendDirect, crossbeam's zero.rs).
// One lock guards both wait queues, so a match is decided in one place.
#pragma once

#include <atomic>
#include <cstddef>
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

    // Succeeds only if a sender is already waiting.
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

    bool close() {
        auto guard = locked();
        if (closed_.load(std::memory_order_relaxed)) return false;
        closed_.store(true, std::memory_order_release);
        senders_.notify_all();
        receivers_.notify_all();
        return true;
    }

    bool is_closed() const noexcept { return closed_.load(std::memory_order_acquire); }

    std::size_t size() const noexcept { return 0; }
    std::size_t capacity() const noexcept { return 0; }

    // What a parked sender offers (`value`) or a parked receiver accepts
    // (`slot`); `done` is set by the peer that completed the exchange.
    struct Packet {
        T* value;
        std::optional<T>* slot;
        bool done;
    };

    // For fastchan::Select: queue `w` (whose packet is a Packet) as a
    // waiting receiver or sender, unless the operation could complete now
    // (a peer of another owner waits, or the channel is closed): then
    // return false and queue nothing. delist() takes it out again.
    bool enlist_receiver(Waiter& w) { return enlist(receivers_, senders_, w); }
    bool enlist_sender(Waiter& w) { return enlist(senders_, receivers_, w); }
    void delist_receiver(Waiter& w) { delist(receivers_, w); }
    void delist_sender(Waiter& w) { delist(senders_, w); }
    // A rendezvous hands values over directly: no wake-up to pass on.
    void pass_on_to_receiver() noexcept {}
    void pass_on_to_sender() noexcept {}

private:
    // Both helpers run with lock_ held. A peer is claimed (notified) before
    // its packet is touched: a select's waiter may decline, having fired on
    // another case; then the next peer is tried. The claimed owner reads
    // its packet only after taking lock_ to unqueue, so it sees it filled.
    Status hand_to_receiver(T& value) {
        if (closed_.load(std::memory_order_relaxed)) return Status::closed;
        while (Waiter* receiver = receivers_.pop()) {
            if (!receiver->notify()) continue;
            auto* packet = static_cast<Packet*>(receiver->packet);
            packet->slot->emplace(std::move(value));
            packet->done = true;
            return Status::ok;
        }
        return Status::full;
    }

    Status take_from_sender(std::optional<T>& out) {
        while (Waiter* sender = senders_.pop()) {
            if (!sender->notify()) continue;
            auto* packet = static_cast<Packet*>(sender->packet);
            out.emplace(std::move(*packet->value));
            packet->done = true;
            return Status::ok;
        }
        return closed_.load(std::memory_order_relaxed) ? Status::closed : Status::empty;
    }

    bool enlist(WaiterQueue& mine, const WaiterQueue& peers, Waiter& w) {
        auto guard = locked();
        if (closed_.load(std::memory_order_relaxed) || peers.has_waiter_not_woken_by(w.waker())) return false;
        mine.push(w);
        return true;
    }

    void delist(WaiterQueue& queue, Waiter& w) {
        auto guard = locked();
        queue.remove(w);
    }

    // Offer (or ask) by parking on `queue` until a peer completes the
    // exchange, the channel closes, or the deadline passes. The waiter is
    // always unqueued before the policy re-acquires anything.
    template <class Policy, class Match>
    Status wait_until(WaiterQueue& queue, Packet& packet, detail::Clock::time_point deadline,
                      Policy& policy, Match&& match) {
        for (;;) {
            Waiter waiter(&packet);
            {
                auto guard = locked();
                Status s = match();
                if (!would_block(s)) return s;
                if (deadline != detail::kNoDeadline && detail::Clock::now() >= deadline) {
                    return Status::timeout;
                }
                queue.push(waiter);
            }
            policy.release();
            waiter.park_until(policy.slice_end(deadline), policy.linger());
            {
                auto guard = locked();
                queue.remove(waiter);
            }
            policy.reacquire();
            if (packet.done) return Status::ok;
            if (policy.interrupted()) return Status::interrupted;
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
    std::atomic<bool> closed_{false};  // written under lock_; read anywhere
    detail::ForkCheck fork_;
};

}  // namespace fastchan::flavors
