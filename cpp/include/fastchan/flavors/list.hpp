// A growable buffer behind a spin lock: the unbounded flavor, and bounded
// queues too large to preallocate as a ring. Order is FIFO, LIFO for
// stack-like queues, or lowest first (a binary min-heap by operator<, as
// heapq orders) for priority queues.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <utility>

#include "../detail/spin.hpp"
#include "../status.hpp"

namespace fastchan::flavors {

enum class Order { fifo, lifo, lowest };

template <class T, Order order = Order::fifo>
class ListBuffer {
public:
    using value_type = T;

    explicit ListBuffer(std::size_t capacity = std::numeric_limits<std::size_t>::max())
        : cap_(capacity) {}
    ListBuffer(const ListBuffer&) = delete;
    ListBuffer& operator=(const ListBuffer&) = delete;

    Status try_push(T& value) {
        std::lock_guard<detail::SpinLock> guard(lock_);
        if (closed_.load(std::memory_order_relaxed)) return Status::closed;
        if (items_.size() >= cap_.load(std::memory_order_relaxed)) return Status::full;
        items_.push_back(std::move(value));
        if constexpr (order == Order::lowest) std::push_heap(items_.begin(), items_.end(), std::greater<>{});
        return Status::ok;
    }

    Status try_pop(std::optional<T>& out) {
        std::lock_guard<detail::SpinLock> guard(lock_);
        if (items_.empty()) {
            return closed_.load(std::memory_order_relaxed) ? Status::closed : Status::empty;
        }
        if constexpr (order == Order::fifo) {
            out.emplace(std::move(items_.front()));
            items_.pop_front();
        } else {
            if constexpr (order == Order::lowest) std::pop_heap(items_.begin(), items_.end(), std::greater<>{});
            out.emplace(std::move(items_.back()));
            items_.pop_back();
        }
        return Status::ok;
    }

    bool close() {
        std::lock_guard<detail::SpinLock> guard(lock_);
        return !closed_.exchange(true, std::memory_order_relaxed);
    }

    bool is_closed() const noexcept { return closed_.load(std::memory_order_relaxed); }

    std::size_t size() const {
        std::lock_guard<detail::SpinLock> guard(lock_);
        return items_.size();
    }

    std::size_t capacity() const noexcept { return cap_.load(std::memory_order_relaxed); }

    // A new bound for later pushes (a queue's maxsize assigned): items
    // beyond it stay, and pushes fail until pops bring the size below it.
    void set_capacity(std::size_t capacity) noexcept {
        std::lock_guard<detail::SpinLock> guard(lock_);
        cap_.store(capacity, std::memory_order_relaxed);
    }

private:
    mutable detail::SpinLock lock_;
    std::deque<T> items_;
    std::atomic<std::size_t> cap_;
    std::atomic<bool> closed_{false};
};

}  // namespace fastchan::flavors
