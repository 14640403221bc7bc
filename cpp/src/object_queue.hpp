// ObjectQueue: the native queue of Python objects behind fastchan.Queue,
// LifoQueue, PriorityQueue and SimpleQueue. It owns one strong reference per
// buffered item, keeps queue.Queue's task accounting (task_done/join) and
// Python 3.13's shutdown. Every method is called with the GIL held; blocking
// ones release it only while they sleep (GilWait).
#pragma once

#include <Python.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <limits>
#include <optional>
#include <vector>

#include <fastchan/buffered.hpp>
#include <fastchan/detail/any_flavor.hpp>
#include <fastchan/flavors/array.hpp>
#include <fastchan/flavors/list.hpp>

#include "gil_wait.hpp"
#include "object_heap.hpp"

namespace fastchan::py {

enum class QueueKind : int { fifo = 0, lifo = 1, priority = 2 };

// Bounded FIFO queues up to this size preallocate a lock-free ring; larger
// bounds (stdlib code sometimes passes huge ones) use a growable list.
inline constexpr Py_ssize_t kMaxRingSize = 1 << 16;

class ObjectQueue {
public:
    ObjectQueue(Py_ssize_t maxsize, QueueKind kind)
        : maxsize_(maxsize), flavor_(make_flavor(maxsize, kind)) {}
    ObjectQueue(const ObjectQueue&) = delete;
    ObjectQueue& operator=(const ObjectQueue&) = delete;

    ~ObjectQueue() {
        for (PyObject* item : take_all()) Py_DECREF(item);
    }

    // ok, full, timeout, closed (shut down), or interrupted (Python error set).
    // `item` is borrowed; the queue keeps its own reference on success.
    Status put(PyObject* item, bool block, detail::Clock::time_point deadline) {
        if (shutdown_.load(std::memory_order_relaxed)) return Status::closed;
        Py_INCREF(item);
        PyObject* ref = item;
        Status s = flavor_.visit([&](auto& f) {
            return block ? f.send_until(ref, deadline, GilWait{}) : f.try_send(ref);
        });
        if (s == Status::ok) {
            // Still under the GIL since the item went in: no consumer's
            // task_done() can run in between.
            unfinished_.store(unfinished_.load(std::memory_order_relaxed) + 1,
                              std::memory_order_relaxed);
        } else {
            Py_DECREF(ref);
        }
        return s;
    }

    // ok (*out is a new reference), empty, timeout, closed (shut down and
    // drained), or interrupted (Python error set).
    Status get(PyObject** out, bool block, detail::Clock::time_point deadline) {
        std::optional<PyObject*> item;
        Status s = flavor_.visit([&](auto& f) {
            return block ? f.recv_until(item, deadline, GilWait{}) : f.try_recv(item);
        });
        if (s == Status::ok) *out = *item;
        return s;
    }

    // From a C++ thread that does not hold the GIL. `ref` is a reference the
    // caller took with the GIL; it moves into the queue on success. Waiting
    // threads and event loops are woken as by a Python producer.
    Status put_from_native(PyObject*& ref, detail::Clock::time_point deadline) {
        if (shutdown_.load(std::memory_order_relaxed)) return Status::closed;
        // Counted before the item is visible, so its task_done() finds it.
        native_unfinished_.fetch_add(1, std::memory_order_relaxed);
        Status s = flavor_.visit([&](auto& f) { return f.send_until(ref, deadline); });
        if (s != Status::ok) {
            native_unfinished_.fetch_sub(1, std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_seq_cst);  // see WaitList::has_waiters
            joiners_.notify_all();
        }
        return s;
    }

    std::size_t qsize() const {
        return flavor_.visit([](auto& f) { return f.size(); });
    }
    Py_ssize_t maxsize() const noexcept { return maxsize_; }
    bool full() const { return maxsize_ > 0 && qsize() >= static_cast<std::size_t>(maxsize_); }

    Py_ssize_t unfinished_tasks() const noexcept {
        return unfinished_.load(std::memory_order_relaxed) +
               native_unfinished_.load(std::memory_order_relaxed);
    }

    // False if called more times than items were put.
    bool task_done() {
        Py_ssize_t left = unfinished_.load(std::memory_order_relaxed);
        if (left > 0) {
            unfinished_.store(left - 1, std::memory_order_relaxed);
        } else {
            Py_ssize_t native = native_unfinished_.load(std::memory_order_relaxed);
            do {
                if (native <= 0) return false;
            } while (!native_unfinished_.compare_exchange_weak(native, native - 1,
                                                               std::memory_order_relaxed));
        }
        if (unfinished_tasks() == 0) {
            std::atomic_thread_fence(std::memory_order_seq_cst);  // see WaitList::has_waiters
            joiners_.notify_all();
        }
        return true;
    }

    // ok once every put item was marked done; interrupted if a signal handler raised.
    Status join() {
        GilWait policy;
        return detail::wait_until(
            joiners_,
            [&] { return unfinished_tasks() == 0 ? Status::ok : Status::empty; },
            detail::kNoDeadline, policy);
    }

    // Where non-thread waiters (event loop tasks) register; see loop_waker.hpp.
    WaitList& getters() {
        return flavor_.visit([](auto& f) -> WaitList& { return f.receivers(); });
    }
    WaitList& putters() {
        return flavor_.visit([](auto& f) -> WaitList& { return f.senders(); });
    }
    WaitList& joiners() noexcept { return joiners_; }

    bool is_shutdown() const noexcept { return shutdown_.load(std::memory_order_relaxed); }

    // Python 3.13's Queue.shutdown(): puts fail from now on; getters drain,
    // then fail. `immediate` also drops what is buffered and counts each
    // dropped item as done, which may release join().
    void shutdown(bool immediate) {
        shutdown_.store(true, std::memory_order_relaxed);
        flavor_.visit([](auto& f) { return f.close(); });
        if (!immediate) return;
        std::vector<PyObject*> dropped = take_all();
        for (std::size_t i = 0; i < dropped.size(); ++i) {
            if (!task_done()) break;  // counts each dropped item as done
        }
        std::atomic_thread_fence(std::memory_order_seq_cst);  // see WaitList::has_waiters
        joiners_.notify_all();
        // Last: a dropped item's __del__ may call back into this queue.
        for (PyObject* item : dropped) Py_DECREF(item);
    }

private:
    using Ring = Buffered<flavors::ArrayBuffer<PyObject*>>;
    using Fifo = Buffered<flavors::ListBuffer<PyObject*, flavors::Order::fifo>>;
    using Lifo = Buffered<flavors::ListBuffer<PyObject*, flavors::Order::lifo>>;
    using Heap = Buffered<ObjectHeap>;
    using Flavor = detail::AnyFlavor<Ring, Fifo, Lifo, Heap>;

    static Flavor make_flavor(Py_ssize_t maxsize, QueueKind kind) {
        std::size_t cap = maxsize > 0 ? static_cast<std::size_t>(maxsize)
                                      : std::numeric_limits<std::size_t>::max();
        switch (kind) {
            case QueueKind::lifo: return Flavor(std::in_place_type<Lifo>, cap);
            case QueueKind::priority: return Flavor(std::in_place_type<Heap>, cap);
            case QueueKind::fifo: break;
        }
        if (maxsize > 0 && maxsize <= kMaxRingSize) return Flavor(std::in_place_type<Ring>, cap);
        return Flavor(std::in_place_type<Fifo>, cap);
    }

    // Every buffered item, taken out (references owned by the caller).
    std::vector<PyObject*> take_all() {
        std::vector<PyObject*> items;
        if (Heap* heap = flavor_.get_if<Heap>()) {
            heap->buffer().take_all(items);  // no comparisons: order is moot here
            return items;
        }
        std::optional<PyObject*> item;
        while (flavor_.visit([&](auto& f) { return f.try_recv(item); }) == Status::ok) {
            items.push_back(*item);
        }
        return items;
    }

    const Py_ssize_t maxsize_;
    Flavor flavor_;
    // Items put and not yet done: by Python callers (changed only under the
    // GIL; atomic so waiters may read it) and by native threads (no GIL).
    std::atomic<Py_ssize_t> unfinished_{0};
    std::atomic<Py_ssize_t> native_unfinished_{0};
    std::atomic<bool> shutdown_{false};
    WaitList joiners_;
};

// SimpleQueue's native type: the same queue, unbounded FIFO, with only
// SimpleQueue's methods exposed.
class SimpleObjectQueue : public ObjectQueue {
public:
    SimpleObjectQueue() : ObjectQueue(0, QueueKind::fifo) {}
};

}  // namespace fastchan::py
