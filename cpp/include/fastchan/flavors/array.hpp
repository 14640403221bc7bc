// Bounded ring buffer, lock-free for any number of senders and receivers.
//
// The algorithm is Dmitry Vyukov's bounded MPMC queue as crossbeam-channel's
// array flavor refines it: each slot carries a stamp saying whose turn it is
// (a sender's for lap L, or a receiver's), head and tail carry a lap count
// above the index, and one "mark" bit of tail means closed. A send claims a
// slot with one CAS on tail, a receive with one CAS on head.
#pragma once

#include <atomic>
#include <cstddef>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <utility>

#include "../detail/fence.hpp"
#include "../detail/spin.hpp"
#include "../status.hpp"

namespace fastchan::flavors {

// Bounded channels and queues up to this many slots preallocate a ring (1
// MiB of slots for pointers); larger bounds would commit memory for items
// that may never come, so they use a list that grows with the items held.
inline constexpr std::size_t kMaxRingCapacity = std::size_t{1} << 16;

template <class T>
class ArrayBuffer {
public:
    using value_type = T;

    // Throws std::invalid_argument for 0, std::length_error when the
    // capacity leaves no room for the lap and mark bits (above SIZE_MAX / 4).
    explicit ArrayBuffer(std::size_t capacity)
        : cap_(checked(capacity)), mark_bit_(next_pow2(capacity + 1)), one_lap_(mark_bit_ * 2),
          slots_(new Slot[capacity]) {
        for (std::size_t i = 0; i < cap_; ++i) slots_[i].stamp.store(i, std::memory_order_relaxed);
    }

    ArrayBuffer(const ArrayBuffer&) = delete;
    ArrayBuffer& operator=(const ArrayBuffer&) = delete;

    ~ArrayBuffer() {
        std::optional<T> drop;
        while (try_pop(drop) == Status::ok) drop.reset();
    }

    Status try_push(T& value) {
        detail::Backoff backoff;
        std::size_t tail = tail_.load(std::memory_order_relaxed);
        for (;;) {
            if (tail & mark_bit_) return Status::closed;
            std::size_t index = tail & (mark_bit_ - 1);
            std::size_t lap = tail & ~(one_lap_ - 1);
            Slot& slot = slots_[index];
            std::size_t stamp = slot.stamp.load(std::memory_order_acquire);
            if (stamp == tail) {
                // The slot is free for this lap: claim it.
                std::size_t next = index + 1 < cap_ ? tail + 1 : lap + one_lap_;
                if (tail_.compare_exchange_weak(tail, next, std::memory_order_seq_cst,
                                                std::memory_order_relaxed)) {
                    ::new (static_cast<void*>(slot.storage)) T(std::move(value));
                    slot.stamp.store(tail + 1, std::memory_order_release);
                    return Status::ok;
                }
                detail::cpu_relax();
            } else if (stamp + one_lap_ == tail + 1) {
                // The slot still holds last lap's item: full, unless a receiver
                // moved head since we loaded tail.
                detail::store_load_fence(head_);
                std::size_t head = head_.load(std::memory_order_relaxed);
                if (head + one_lap_ == tail) return Status::full;
                detail::cpu_relax();
                tail = tail_.load(std::memory_order_relaxed);
            } else {
                // Another sender claimed this slot and has not written it yet.
                backoff.snooze();
                tail = tail_.load(std::memory_order_relaxed);
            }
        }
    }

    Status try_pop(std::optional<T>& out) {
        detail::Backoff backoff;
        std::size_t head = head_.load(std::memory_order_relaxed);
        for (;;) {
            std::size_t index = head & (mark_bit_ - 1);
            std::size_t lap = head & ~(one_lap_ - 1);
            Slot& slot = slots_[index];
            std::size_t stamp = slot.stamp.load(std::memory_order_acquire);
            if (stamp == head + 1) {
                // The slot holds this lap's item: claim it.
                std::size_t next = index + 1 < cap_ ? head + 1 : lap + one_lap_;
                if (head_.compare_exchange_weak(head, next, std::memory_order_seq_cst,
                                                std::memory_order_relaxed)) {
                    T* item = std::launder(reinterpret_cast<T*>(slot.storage));
                    out.emplace(std::move(*item));
                    item->~T();
                    slot.stamp.store(head + one_lap_, std::memory_order_release);
                    return Status::ok;
                }
                detail::cpu_relax();
            } else if (stamp == head) {
                // Nothing written here for this lap: empty, unless a sender
                // moved tail since we loaded head.
                detail::store_load_fence(tail_);
                std::size_t tail = tail_.load(std::memory_order_relaxed);
                if ((tail & ~mark_bit_) == head) {
                    return (tail & mark_bit_) ? Status::closed : Status::empty;
                }
                detail::cpu_relax();
                head = head_.load(std::memory_order_relaxed);
            } else {
                // Another receiver claimed this slot and has not freed it yet.
                backoff.snooze();
                head = head_.load(std::memory_order_relaxed);
            }
        }
    }

    // Cheap hints for a waiting side's spin loop: they read only the slot
    // the next operation would use, not the other side's index, so polling
    // does not steal the other side's cache line. A true answer is only a
    // hint; the try_* call decides.
    bool push_may_succeed() const noexcept {
        std::size_t tail = tail_.load(std::memory_order_relaxed);
        const Slot& slot = slots_[tail & (mark_bit_ - 1)];
        return (tail & mark_bit_) || slot.stamp.load(std::memory_order_relaxed) == tail;
    }
    bool pop_may_succeed() const noexcept {
        std::size_t head = head_.load(std::memory_order_relaxed);
        const Slot& slot = slots_[head & (mark_bit_ - 1)];
        return slot.stamp.load(std::memory_order_relaxed) == head + 1 || is_closed();
    }

    bool close() noexcept {
        return !(tail_.fetch_or(mark_bit_, std::memory_order_seq_cst) & mark_bit_);
    }

    bool is_closed() const noexcept { return tail_.load(std::memory_order_seq_cst) & mark_bit_; }

    std::size_t size() const noexcept {
        for (;;) {
            std::size_t tail = tail_.load(std::memory_order_seq_cst);
            std::size_t head = head_.load(std::memory_order_seq_cst);
            if (tail_.load(std::memory_order_seq_cst) != tail) continue;
            std::size_t hix = head & (mark_bit_ - 1);
            std::size_t tix = tail & (mark_bit_ - 1);
            if (hix < tix) return tix - hix;
            if (hix > tix) return cap_ - hix + tix;
            return (tail & ~mark_bit_) == head ? 0 : cap_;
        }
    }

    std::size_t capacity() const noexcept { return cap_; }

private:
    struct Slot {
        std::atomic<std::size_t> stamp{0};
        alignas(T) unsigned char storage[sizeof(T)];
    };

    static std::size_t checked(std::size_t capacity) {
        if (capacity == 0) throw std::invalid_argument("ArrayBuffer needs capacity >= 1");
        if (capacity > std::numeric_limits<std::size_t>::max() / 4) {
            throw std::length_error("ArrayBuffer capacity too large for its stamps");
        }
        return capacity;
    }

    static std::size_t next_pow2(std::size_t n) {  // n <= SIZE_MAX / 4 + 1: no overflow
        std::size_t p = 1;
        while (p < n) p <<= 1;
        return p;
    }

    // Senders and receivers each write their own cache line.
    alignas(128) std::atomic<std::size_t> head_{0};
    alignas(128) std::atomic<std::size_t> tail_{0};
    alignas(128) const std::size_t cap_;
    const std::size_t mark_bit_;
    const std::size_t one_lap_;
    std::unique_ptr<Slot[]> slots_;
};

}  // namespace fastchan::flavors
