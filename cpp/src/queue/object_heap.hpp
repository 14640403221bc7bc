// A min-heap of Python objects ordered by `<`, exactly as heapq orders it:
// the buffer behind PriorityQueue. Comparisons run Python code, so:
//   * the heap's lock is taken without holding the GIL (a comparison can let
//     another thread run, and that thread must not block on us with the GIL);
//   * a comparison that raises leaves the heap exactly as it was (every move
//     is logged and undone);
//   * re-entering the same heap from a comparison (a __lt__ or a __del__ the
//     garbage collector runs) raises RuntimeError instead of deadlocking.
// A failed comparison reports Status::interrupted with the Python error set.
#pragma once

#include <Python.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <fastchan/status.hpp>

#include "common/call_scope.hpp"

namespace fastchan::binding {

// The error for an operation on a PriorityQueue from inside its own comparison.
inline void set_reentered() {
    PyErr_SetString(PyExc_RuntimeError,
                    "PriorityQueue re-entered while it was comparing items "
                    "(from __lt__ or a __del__ the comparison triggered)");
}

class ObjectHeap {
public:
    using value_type = PyObject*;

    explicit ObjectHeap(std::size_t capacity) : cap_(capacity) {}
    ObjectHeap(const ObjectHeap&) = delete;
    ObjectHeap& operator=(const ObjectHeap&) = delete;

    Status try_push(PyObject*& item) {
        Guard guard(*this);
        if (!guard.locked()) return Status::interrupted;
        if (closed_.load(std::memory_order_relaxed)) return Status::closed;
        if (heap_.size() >= cap_.load(std::memory_order_relaxed)) return Status::full;
        heap_.push_back(item);
        SwapLog log;
        if (!sift_toward_root(0, heap_.size() - 1, log)) {
            log.undo(heap_);
            heap_.pop_back();
            return Status::interrupted;
        }
        size_.store(heap_.size(), std::memory_order_relaxed);
        return Status::ok;
    }

    Status try_pop(std::optional<PyObject*>& out) {
        Guard guard(*this);
        if (!guard.locked()) return Status::interrupted;
        if (heap_.empty()) {
            return closed_.load(std::memory_order_relaxed) ? Status::closed : Status::empty;
        }
        PyObject* top = heap_.front();
        PyObject* last = heap_.back();
        heap_.pop_back();
        if (!heap_.empty()) {
            heap_.front() = last;
            SwapLog log;
            if (!sift_to_leaf_and_back(log)) {
                log.undo(heap_);
                heap_.push_back(last);
                heap_.front() = top;
                return Status::interrupted;
            }
        }
        size_.store(heap_.size(), std::memory_order_relaxed);
        out.emplace(top);
        return Status::ok;
    }

    // Appends every item to `out` and empties the heap, without comparing.
    void take_all(std::vector<PyObject*>& out) {
        Guard guard(*this);
        if (!guard.locked()) return;  // re-entered: the error is set for the caller
        out.insert(out.end(), heap_.begin(), heap_.end());
        heap_.clear();
        size_.store(0, std::memory_order_relaxed);
    }

    // Is this thread inside one of this heap's comparisons (a __lt__, or a
    // __del__ that a comparison triggered)?
    bool comparing_here() const noexcept {
        return owner_.load(std::memory_order_relaxed) == PyThread_get_thread_ident();
    }

    bool close() { return !closed_.exchange(true); }
    bool is_closed() const noexcept { return closed_.load(std::memory_order_relaxed); }
    std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
    std::size_t capacity() const noexcept { return cap_.load(std::memory_order_relaxed); }
    // A new bound for later pushes (see ListBuffer::set_capacity). No lock:
    // it may be called from inside this heap's comparisons.
    void set_capacity(std::size_t capacity) noexcept { cap_.store(capacity, std::memory_order_relaxed); }

private:
    // Swaps made while sifting, so a failed comparison can put everything back.
    struct SwapLog {
        std::array<std::pair<std::size_t, std::size_t>, 2 * 64> swaps;
        std::size_t count = 0;

        void swap(std::vector<PyObject*>& heap, std::size_t a, std::size_t b) {
            std::swap(heap[a], heap[b]);
            swaps[count++] = {a, b};
        }
        void undo(std::vector<PyObject*>& heap) {
            while (count > 0) {
                auto [a, b] = swaps[--count];
                std::swap(heap[a], heap[b]);
            }
        }
    };

    // heapq's _siftdown: move heap_[pos] up while it is < its parent.
    bool sift_toward_root(std::size_t start, std::size_t pos, SwapLog& log) {
        while (pos > start) {
            std::size_t parent = (pos - 1) >> 1;
            int less = PyObject_RichCompareBool(heap_[pos], heap_[parent], Py_LT);
            if (less < 0) return false;
            if (!less) break;
            log.swap(heap_, pos, parent);
            pos = parent;
        }
        return true;
    }

    // heapq's _siftup from the root: walk the smaller children down to a
    // leaf, then sift the moved item back up.
    bool sift_to_leaf_and_back(SwapLog& log) {
        std::size_t end = heap_.size();
        std::size_t pos = 0;
        std::size_t child = 1;
        while (child < end) {
            std::size_t right = child + 1;
            if (right < end) {
                int less = PyObject_RichCompareBool(heap_[child], heap_[right], Py_LT);
                if (less < 0) return false;
                if (!less) child = right;
            }
            log.swap(heap_, pos, child);
            pos = child;
            child = 2 * pos + 1;
        }
        return sift_toward_root(0, pos, log);
    }

    // Locks without holding the GIL while blocked; detects re-entry.
    class Guard {
    public:
        explicit Guard(ObjectHeap& heap) : heap_(heap) {
            unsigned long me = PyThread_get_thread_ident();
            if (heap_.owner_.load(std::memory_order_relaxed) == me) {
                set_reentered();
                return;
            }
            if (!heap_.mutex_.try_lock()) {
                CallScope::gil_released();
                Py_BEGIN_ALLOW_THREADS
                heap_.mutex_.lock();
                Py_END_ALLOW_THREADS
            }
            heap_.owner_.store(me, std::memory_order_relaxed);
            locked_ = true;
        }
        ~Guard() {
            if (!locked_) return;
            heap_.owner_.store(0, std::memory_order_relaxed);
            heap_.mutex_.unlock();
        }
        bool locked() const noexcept { return locked_; }

    private:
        ObjectHeap& heap_;
        bool locked_ = false;
    };

    std::mutex mutex_;
    std::atomic<unsigned long> owner_{0};
    std::vector<PyObject*> heap_;
    std::atomic<std::size_t> size_{0};
    std::atomic<std::size_t> cap_;
    std::atomic<bool> closed_{false};
};

}  // namespace fastchan::binding
