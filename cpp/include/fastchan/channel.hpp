// fastchan::Channel<T>: a multi-producer, multi-consumer FIFO channel.
//
//   Channel<T> ch(0);                   rendezvous: a send completes once a receiver took the value
//   Channel<T> ch(n);                   bounded: n slots (a lock-free ring preallocated up to
//                                       kMaxRingCapacity slots; above that a list whose memory
//                                       grows with the items held, not with n)
//   Channel<T> ch(fastchan::unbounded); unbounded: sends never wait
//
// Every operation comes blocking (send/recv), non-blocking (try_*) and
// deadline-bounded (*_until / *_for). close() stops new sends; receivers
// drain what is buffered, then see Status::closed; every waiter wakes.
// A value is moved out of the caller only when its send succeeds.
#pragma once

#include <chrono>
#include <iterator>
#include <cstddef>
#include <limits>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "buffered.hpp"
#include "detail/any_flavor.hpp"
#include "flavors/array.hpp"
#include "flavors/list.hpp"
#include "flavors/zero.hpp"
#include "status.hpp"
#include "wait_policy.hpp"

namespace fastchan {

template <class T>
class Channel {
public:
    using value_type = T;

    // Larger bounded channels are lists (see flavors::kMaxRingCapacity).
    static constexpr std::size_t kMaxRingCapacity = flavors::kMaxRingCapacity;

    explicit Channel(std::size_t capacity)
        : flavor_(capacity == 0                  ? make<Rendezvous>()
                  : capacity <= kMaxRingCapacity ? make<Array>(capacity)
                                                 : make<List>(capacity)) {}
    explicit Channel(unbounded_t) : flavor_(std::in_place_type<List>) {}
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    // Blocks until sent; false (value dropped) once the channel is closed.
    bool send(T value) { return send_until(std::move(value), detail::kNoDeadline) == Status::ok; }

    // ok, full, or closed. On failure `value` is left untouched.
    Status try_send(T&& value) {
        return flavor_.visit([&](auto& f) { return f.try_send(value); });
    }

    // ok, closed or timeout (or interrupted, from a custom policy).
    // On failure `value` is left untouched.
    template <class C, class D, class Policy = ThreadWait>
    Status send_until(T&& value, std::chrono::time_point<C, D> deadline, Policy&& policy = {}) {
        auto at = detail::to_steady(deadline);
        return flavor_.visit([&](auto& f) { return f.send_until(value, at, policy); });
    }

    template <class Rep, class Period>
    Status send_for(T&& value, std::chrono::duration<Rep, Period> timeout) {
        return send_until(std::move(value), detail::deadline_after(timeout));
    }

    // Blocks until an item arrives; empty once the channel is closed and drained.
    std::optional<T> recv() { return std::move(recv_until(detail::kNoDeadline).value); }

    // ok, empty, or closed (closed and drained).
    Received<T> try_recv() {
        Received<T> r;
        r.status = flavor_.visit([&](auto& f) { return f.try_recv(r.value); });
        return r;
    }

    // ok, closed or timeout (or interrupted, from a custom policy).
    template <class C, class D, class Policy = ThreadWait>
    Received<T> recv_until(std::chrono::time_point<C, D> deadline, Policy&& policy = {}) {
        auto at = detail::to_steady(deadline);
        Received<T> r;
        r.status = flavor_.visit([&](auto& f) { return f.recv_until(r.value, at, policy); });
        return r;
    }

    template <class Rep, class Period>
    Received<T> recv_for(std::chrono::duration<Rep, Period> timeout) {
        return recv_until(detail::deadline_after(timeout));
    }

    // Batches. Waits (until the deadline) for one item, then takes whatever
    // else is ready at once, up to `max` items in all, appending each to
    // `out` (anything with push_back). The first receive's status: ok (1 to
    // max items appended), closed (closed and drained, none) or timeout.
    // If out.push_back throws, the item it was given goes back to the
    // channel (put_back) and the exception propagates; the items already
    // in `out` are the caller's (to put back, last first, or to keep).
    template <class Out, class C, class D, class Policy = ThreadWait>
    Status recv_many(Out& out, std::size_t max, std::chrono::time_point<C, D> deadline, Policy&& policy = {}) {
        if (max == 0) return Status::ok;
        auto at = detail::to_steady(deadline);
        return flavor_.visit([&](auto& f) {
            auto append = [&](T&& value) {
                try {
                    out.push_back(std::move(value));
                } catch (...) {
                    f.put_back(std::move(value));  // (push_back failed before moving from it)
                    throw;
                }
            };
            std::optional<T> item;
            Status s = f.recv_until(item, at, policy);
            if (s != Status::ok) return s;
            append(std::move(*item));
            if constexpr (has_batches<decltype(f)>) {
                f.try_recv_some(out, max - 1);
            } else {
                for (std::size_t n = 1; n < max; ++n) {
                    item.reset();
                    if (f.try_recv(item) != Status::ok) break;
                    append(std::move(*item));
                }
            }
            return s;
        });
    }

    // Sends the values of [first, last) in order, each as send_until would.
    // A mutable range is moved from, each value only once it is sent; a
    // const range is copied (and std::make_move_iterator moves each value
    // as it is tried). Returns how many were sent, and ok, or the status
    // that stopped the batch (closed, timeout...).
    template <class It, class C, class D, class Policy = ThreadWait>
    std::pair<std::size_t, Status> send_many(It first, It last, std::chrono::time_point<C, D> deadline,
                                             Policy&& policy = {}) {
        auto at = detail::to_steady(deadline);
        return flavor_.visit([&](auto& f) {
            std::size_t sent = 0;
            for (; first != last; ++first, ++sent) {
                if constexpr (has_batches<decltype(f)> && std::is_same_v<decltype(*first), T&>) {
                    std::size_t n = f.try_send_some(first, last);  // what goes without waiting
                    std::advance(first, n);
                    sent += n;
                    if (first == last) break;
                }
                Status s;
                if constexpr (std::is_same_v<decltype(*first), T&>) {
                    s = f.send_until(*first, at, policy);
                } else {
                    T value(*first);
                    s = f.send_until(value, at, policy);
                }
                if (s != Status::ok) return std::pair<std::size_t, Status>(sent, s);
            }
            return std::pair<std::size_t, Status>(sent, Status::ok);
        });
    }

    // Returns a value received from this channel to its front: the next
    // receive (or a receiver waiting now) gets it, before anything else. For
    // a receiver that cannot keep what it took (a cancelled asynchronous
    // receive, a failed conversion). Never waits; works on a closed channel.
    void put_back(T&& value) {
        flavor_.visit([&](auto& f) { f.put_back(std::move(value)); });
    }

    // No new sends; buffered items stay receivable; wakes every waiter.
    // Idempotent: true only for the call that closed the channel.
    bool close() {
        return flavor_.visit([](auto& f) { return f.close(); });
    }

    bool is_closed() const {
        return flavor_.visit([](auto& f) { return f.is_closed(); });
    }

    // Items buffered now (a snapshot: other threads may change it at once).
    std::size_t size() const {
        return flavor_.visit([](auto& f) { return f.size(); });
    }

    // 0 for a rendezvous, SIZE_MAX for an unbounded channel (so
    // Channel<T>(SIZE_MAX) is unbounded too).
    std::size_t capacity() const {
        return flavor_.visit([](auto& f) { return f.capacity(); });
    }

    // Calls fn(flavor&) on the flavor behind this channel (for fastchan::Select).
    template <class Fn>
    decltype(auto) visit_flavor(Fn&& fn) {
        return flavor_.visit(std::forward<Fn>(fn));
    }

private:
    // Buffered flavors move a batch with one wake-up pass (try_recv_some...).
    template <class F>
    static constexpr bool has_batches = !std::is_same_v<std::decay_t<F>, flavors::Zero<T>>;

    using Array = Buffered<flavors::ArrayBuffer<T>>;
    using List = Buffered<flavors::ListBuffer<T>>;
    using Rendezvous = flavors::Zero<T>;
    using Flavor = detail::AnyFlavor<Array, List, Rendezvous>;

    // Guaranteed copy elision lets the constructor pick a flavor in one expression.
    template <class F, class... Args>
    static Flavor make(Args&&... args) {
        return Flavor(std::in_place_type<F>, std::forward<Args>(args)...);
    }

    Flavor flavor_;
};

}  // namespace fastchan
