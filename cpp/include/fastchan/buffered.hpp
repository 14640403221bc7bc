// A buffered channel: any buffer (ring, list, heap) plus the two wait lists
// and the blocking loop, written once for every buffer.
//
// Buffer concept:
//   using value_type;
//   Status try_push(value_type& v);                  ok (v moved from), full, closed
//   Status try_pop(std::optional<value_type>& out);  ok, empty, closed (closed and drained)
//   bool close();                                    true for the call that closed it
//   bool is_closed() const; std::size_t size() const; std::size_t capacity() const;
#pragma once

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

#include "detail/put_back.hpp"
#include "status.hpp"
#include "wait_policy.hpp"
#include "waiter.hpp"

namespace fastchan {

namespace detail {

// The blocking loop shared by every buffered flavor: try; spin (retrying
// only when the buffer's cheap hint says it may work); register; re-check;
// sleep; unregister; retry. A notified waiter always retries before it
// leaves, so its wake-up is either used or finds the item already taken. A
// waiter that leaves without using a wake-up that raced to it (its re-check
// succeeded anyway, its operation failed with Status::interrupted, or an
// exception came out of it) passes that wake-up on. Either way no item is
// stranded beside a sleeping waiter. The policy is asked whether to stop
// (interrupted()) before each sleep and after each wake-up, before the
// retry: only when the operation has not happened.
template <class Op, class Policy, class Hint>
Status wait_until(WaitList& list, Op&& op, Clock::time_point deadline, Policy& policy,
                  Hint&& may_succeed) {
    Status s = op();
    if (!would_block(s)) return s;
    if constexpr (std::decay_t<Policy>::spin_first) {
        Backoff backoff;
        while (!backoff.completed()) {
            backoff.snooze();
            if (deadline != kNoDeadline && Clock::now() >= deadline) break;
            if (!may_succeed()) continue;
            s = op();
            if (!would_block(s)) return s;
        }
    }
    for (;;) {
        if (policy.interrupted()) return Status::interrupted;
        if (deadline != kNoDeadline && Clock::now() >= deadline) return Status::timeout;
        Waiter waiter;
        Registration registration(list, waiter);
        s = op();
        if (!would_block(s)) {
            if (registration.leave() && s != Status::closed) list.notify_one();
            return s;
        }
        policy.release();
        waiter.park_until(policy.slice_end(deadline), policy.linger(), wakes_on_signal_v<Policy>);
        HeldWakeUp wake_up(list, registration.leave());
        policy.reacquire();
        if (policy.interrupted()) return Status::interrupted;
        s = op();
        if (s != Status::interrupted) wake_up.used();  // spent, or found its item taken
        if (!would_block(s)) return s;
    }
}

template <class Op, class Policy>
Status wait_until(WaitList& list, Op&& op, Clock::time_point deadline, Policy& policy) {
    return wait_until(list, std::forward<Op>(op), deadline, policy, [] { return true; });
}

// A buffer's cheap readiness hints, where it has them (see ArrayBuffer).
template <class B, class = void>
struct has_hints : std::false_type {};
template <class B>
struct has_hints<B, std::void_t<decltype(std::declval<const B&>().push_may_succeed())>>
    : std::true_type {};

}  // namespace detail

template <class Buffer>
class Buffered {
public:
    using value_type = typename Buffer::value_type;

    template <class... Args>
    explicit Buffered(Args&&... args) : buffer_(std::forward<Args>(args)...) {}
    Buffered(const Buffered&) = delete;
    Buffered& operator=(const Buffered&) = delete;

    Status try_send(value_type& value) {
        Status s = buffer_.try_push(value);
        if (s == Status::ok) receivers_.notify_one();
        return s;
    }

    Status try_recv(std::optional<value_type>& out) {
        if (put_back_.pop(out)) return Status::ok;  // (took no slot: no sender to wake)
        Status s = buffer_.try_pop(out);
        if (s == Status::ok) {
            senders_.notify_one();
        } else if (s == Status::closed && put_back_.pop(out)) {
            s = Status::ok;  // put back while we looked: drained means drained of these too
        }
        return s;
    }

    // Returns a value received from this channel to its front: the next
    // receive gets it. For a receiver that cannot keep what it received
    // (see detail/put_back.hpp). Never waits, even when the buffer is full,
    // and works on a closed channel too (receivers drain it first).
    void put_back(value_type&& value) {
        put_back_.push_front(std::move(value));
        receivers_.notify_one();
    }

    // Batches: move as many items as go without waiting, then wake as many
    // waiters of the other side as items moved (one fence for the batch,
    // not one per item). try_recv_some appends up to `max` items to `out`;
    // try_send_some takes *first, *(first+1)... until the buffer is full or
    // closed (taking moves only from what it sent). Both return the count.
    // If out.push_back throws, the item it was given goes back (put_back).
    template <class Out>
    std::size_t try_recv_some(Out& out, std::size_t max) {
        std::size_t taken = 0;
        for (std::optional<value_type> item; taken < max && put_back_.pop(item); item.reset()) {
            ++taken;  // first: they were received before anything still buffered
            append(out, std::move(*item));
        }
        WakeAfter wake{senders_};  // even if out.push_back throws
        for (std::optional<value_type> item; taken + wake.n < max && buffer_.try_pop(item) == Status::ok; item.reset()) {
            ++wake.n;  // a slot is free, whatever becomes of the item
            append(out, std::move(*item));
        }
        return taken + wake.n;
    }

    template <class It>
    std::size_t try_send_some(It first, It last) {
        WakeAfter wake{receivers_};
        for (; first != last && buffer_.try_push(*first) == Status::ok; ++first) ++wake.n;
        return wake.n;
    }

    template <class Policy = ThreadWait>
    Status send_until(value_type& value, detail::Clock::time_point deadline, Policy&& policy = {}) {
        return detail::wait_until(
            senders_, [&] { return try_send(value); }, deadline, policy,
            [&] { return push_may_succeed(); });
    }

    template <class Policy = ThreadWait>
    Status recv_until(std::optional<value_type>& out, detail::Clock::time_point deadline,
                      Policy&& policy = {}) {
        return detail::wait_until(
            receivers_, [&] { return try_recv(out); }, deadline, policy,
            [&] { return pop_may_succeed(); });
    }

    bool close() {
        if (!buffer_.close()) return false;
        senders_.notify_all();
        receivers_.notify_all();
        return true;
    }

    // For fastchan::Select: register `w` as a waiting receiver (sender);
    // false if the operation could complete now (it stays registered until
    // delist). The check follows the registration, as in wait_until.
    bool enlist_receiver(Waiter& w) {
        receivers_.push(w);
        return buffer_.size() == 0 && !buffer_.is_closed() && !put_back_.maybe_nonempty();
    }
    bool enlist_sender(Waiter& w) {
        senders_.push(w);
        return buffer_.size() >= buffer_.capacity() && !buffer_.is_closed();
    }
    void delist_receiver(Waiter& w) { receivers_.remove(w); }
    void delist_sender(Waiter& w) { senders_.remove(w); }
    void pass_on_to_receiver() { receivers_.notify_one(); }
    void pass_on_to_sender() { senders_.notify_one(); }

    // The wait lists, for waiters that do not block a thread (an event loop's
    // task): register, re-check with try_send/try_recv, then await the wake-up.
    WaitList& senders() noexcept { return senders_; }
    WaitList& receivers() noexcept { return receivers_; }

    bool is_closed() const { return buffer_.is_closed(); }
    std::size_t size() const { return buffer_.size() + put_back_.size(); }
    std::size_t capacity() const { return buffer_.capacity(); }

    Buffer& buffer() noexcept { return buffer_; }

private:
    template <class Out>
    void append(Out& out, value_type&& value) {
        try {
            out.push_back(std::move(value));
        } catch (...) {
            put_back(std::move(value));  // (push_back failed before moving from it)
            throw;
        }
    }

    // Wakes up to n waiters of `list` on leaving the scope: one per item a
    // batch moved (one fence for the batch when nobody waits).
    struct WakeAfter {
        WaitList& list;
        std::size_t n = 0;
        ~WakeAfter() {
            for (std::size_t i = 0; i < n && list.notify_one(); ++i) {
            }
        }
    };

    bool push_may_succeed() const {
        if constexpr (detail::has_hints<Buffer>::value) return buffer_.push_may_succeed();
        return true;
    }
    bool pop_may_succeed() const {
        if constexpr (detail::has_hints<Buffer>::value) return buffer_.pop_may_succeed() || put_back_.maybe_nonempty();
        return true;
    }

    Buffer buffer_;
    WaitList senders_;
    WaitList receivers_;
    detail::PutBack<value_type> put_back_;
};

}  // namespace fastchan
