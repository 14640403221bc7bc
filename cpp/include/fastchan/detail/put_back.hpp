// Values a receiver took and then gave back (Channel<T>::put_back): a
// receiver that cannot keep what it received (a cancelled asyncio task, a
// failed conversion to Python) returns it, and it goes out again before
// anything else. Rare, so it lives beside the buffer, not in it: a receive
// pays one relaxed load to see that nothing is here.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "spin.hpp"

namespace fastchan::detail {

template <class T>
class PutBack {
public:
    // A hint: false means "very likely nothing"; pop() decides.
    bool maybe_nonempty() const noexcept { return count_.load(std::memory_order_relaxed) != 0; }
    std::size_t size() const noexcept { return count_.load(std::memory_order_relaxed); }

    // The count is a seq_cst read-modify-write: it is the channel change a
    // waiting receiver's re-check pairs with (see WaitList::has_waiters).
    void push_front(T&& value) {
        std::lock_guard<SpinLock> guard(lock_);
        items_.push_front(std::move(value));
        count_.fetch_add(1, std::memory_order_seq_cst);
    }

    bool pop(std::optional<T>& out) {
        if (!maybe_nonempty()) return false;
        std::lock_guard<SpinLock> guard(lock_);
        if (items_.empty()) return false;
        out.emplace(std::move(items_.front()));
        items_.pop_front();
        count_.fetch_sub(1, std::memory_order_relaxed);
        return true;
    }

private:
    SpinLock lock_;
    std::deque<T> items_;
    std::atomic<std::size_t> count_{0};
};

}  // namespace fastchan::detail
