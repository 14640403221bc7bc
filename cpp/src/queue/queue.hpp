// PyQueue: the native queue behind fastchan.Queue, LifoQueue, PriorityQueue
// and SimpleQueue (and their asyncio twins). Its items are Python objects
// (one strong reference per buffered item) or, for a typed queue, native
// values of its dtype (FASTCHAN_DTYPES) converted at the boundary (codecs.hpp). It keeps
// queue.Queue's task accounting (task_done/join) and Python 3.13's shutdown. Every method is called with the GIL held (or, on a
// free-threaded build, an attached thread state; see docs/design.md, "Without the GIL"); blocking
// ones release it only while they sleep (GilWait).
//
// maxsize may be assigned on a live queue (set_maxsize). A list or heap
// takes the new bound in place. A ring cannot: its items move, in order, to
// a list that replaces it for good; the ring is closed first and kept alive,
// so whoever still holds it (a sleeping waiter, a batch without the GIL)
// sees Status::closed without shutdown and retries on the list (retry_on).
#pragma once

#include <Python.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <fastchan/buffered.hpp>
#include <fastchan/detail/fence.hpp>
#include <fastchan/detail/any_flavor.hpp>
#include <fastchan/flavors/array.hpp>
#include <fastchan/flavors/list.hpp>

#include "common/codecs.hpp"
#include "common/free_threading.hpp"
#include "common/gil_wait.hpp"
#include "queue/object_heap.hpp"
#include "common/initialized.hpp"

namespace fastchan::binding {

enum class QueueKind : int { fifo = 0, lifo = 1, priority = 2 };

// Bounded FIFO queues up to this size preallocate a lock-free ring; larger
// bounds (stdlib code sometimes passes huge ones) use a growable list.
inline constexpr Py_ssize_t kMaxRingSize = static_cast<Py_ssize_t>(flavors::kMaxRingCapacity);

class PyQueue {
    template <class T>
    using Ring = Buffered<flavors::ArrayBuffer<T>>;
    template <class T, flavors::Order order = flavors::Order::fifo>
    using List = Buffered<flavors::ListBuffer<T, order>>;
    using Heap = Buffered<ObjectHeap>;  // PriorityQueue of objects: Python's `<`
    template <class T>
    using Priority = std::conditional_t<std::is_same_v<T, PyObject*>, Heap, List<T, flavors::Order::lowest>>;
    // Every dtype's four flavors (FASTCHAN_DTYPES), in list order: the
    // objects' first, so their visit() tests the fewest branches.
    template <class T>
    using FlavorsOf = TypeList<Ring<T>, List<T>, List<T, flavors::Order::lifo>, Priority<T>>;
    using Flavor = EachDtypeOf<detail::AnyFlavor, FlavorsOf>;

public:
    PyQueue(Py_ssize_t maxsize, QueueKind kind, Dtype dtype = Dtype::object)
        : maxsize_(maxsize), flavor_(make_flavor(maxsize, kind, dtype)), current_(&flavor_) {}
    PyQueue(const PyQueue&) = delete;
    PyQueue& operator=(const PyQueue&) = delete;

    ~PyQueue() {
        std::vector<PyObject*> objects;
        drop_all(objects);
        for (PyObject* item : objects) Py_DECREF(item);
    }

    // The flavor operations go to now (see set_maxsize).
    Flavor& current() noexcept { return *current_.load(std::memory_order_acquire); }

    // After `s` from an operation on flavor `f`: true if the caller should
    // retry on current(), because `f` was closed by set_maxsize (replaced),
    // not by shutdown(). A caller without the GIL may catch the replacement
    // half done (closed, not yet published): it waits for it to finish.
    bool retry_on(Status s, const Flavor* f) const noexcept {
        if (s != Status::closed) return false;
        for (detail::Backoff backoff;; backoff.snooze()) {
            if (current_.load(std::memory_order_acquire) != f) return true;
            if (shutdown_.load(std::memory_order_acquire)) return false;
        }
    }

    // ok, full, timeout, closed (shut down), or interrupted (Python error
    // set: KeyboardInterrupt, or an item of the wrong type for a typed
    // queue, the queue untouched). `item` is borrowed.
    Status put(PyObject* item, bool block, detail::Clock::time_point deadline) {
        for (;;) {
            if (shutdown_.load(std::memory_order_relaxed)) return Status::closed;  // before any conversion error
            Flavor* flavor = &current();
            Status s = flavor->visit([&](auto& f) {
                using T = typename std::decay_t<decltype(f)>::value_type;
                T value;
                if (!Codec<T>::from_py(item, value)) return Status::interrupted;
                if constexpr (kFreeThreaded) {
                    // No GIL: a consumer may take the item and call task_done()
                    // the moment it is in, so it is counted before (atomically),
                    // as a native producer's is.
                    unfinished_.fetch_add(1, std::memory_order_relaxed);
                }
                Status s = block ? f.send_until(value, deadline, GilWait{}) : f.try_send(value);
                if (s == Status::ok) {
                    if constexpr (!kFreeThreaded) {
                        // Still under the GIL since the item went in: no consumer's
                        // task_done() can run in between.
                        unfinished_.store(unfinished_.load(std::memory_order_relaxed) + 1,
                                          std::memory_order_relaxed);
                    }
                } else {
                    Codec<T>::release(value);
                    if constexpr (kFreeThreaded) uncount_failed_put(unfinished_);
                }
                return s;
            });
            if (!retry_on(s, flavor)) return s;
        }
    }

    // ok (*out is a new reference), empty, timeout, closed (shut down and
    // drained), or interrupted (Python error set; an item that could not be
    // converted to Python went back to the front of the queue).
    Status get(PyObject** out, bool block, detail::Clock::time_point deadline) {
        for (;;) {
            Flavor* flavor = &current();
            Status s = flavor->visit([&](auto& f) {
                using T = typename std::decay_t<decltype(f)>::value_type;
                std::optional<T> item;
                Status s = block ? f.recv_until(item, deadline, GilWait{}) : f.try_recv(item);
                if (s == Status::ok && (*out = Codec<T>::to_py(*item)) == nullptr) {
                    put_back(std::move(*item));
                    return Status::interrupted;
                }
                return s;
            });
            if (!retry_on(s, flavor)) return s;
        }
    }

    // Returns a received item to the front of the queue (the flavor it goes
    // to now: a conversion's garbage collection may have changed maxsize).
    template <class T>
    void put_back(T&& item) {
        current().visit([&](auto& f) {
            if constexpr (std::is_same_v<typename std::decay_t<decltype(f)>::value_type, std::decay_t<T>>) {
                f.put_back(std::move(item));
            }
        });
    }

    // From a C++ thread that does not hold the GIL. `ref` is a reference the
    // caller took with the GIL; it moves into the queue on success. Waiting
    // threads and event loops are woken as by a Python producer.
    Status put_from_native(PyObject*& ref, detail::Clock::time_point deadline) {
        for (;;) {
            Flavor* flavor = &current();
            Status s = flavor->visit([&](auto& f) {
                if constexpr (std::is_same_v<typename std::decay_t<decltype(f)>::value_type, PyObject*>) {
                    ThreadWait policy;
                    return put_without_gil(f, ref, true, deadline, policy);
                } else {
                    return Status::interrupted;  // a typed queue: the caller checks dtype() first
                }
            });
            if (!retry_on(s, flavor)) return s;
        }
    }

    // put() of a native value into `f` (this queue's flavor, see visit()) for
    // a caller that does not hold the GIL (a native thread, or a typed batch
    // with the GIL released): counted atomically. On failure `value` is left
    // untouched.
    template <class F, class Policy>
    Status put_without_gil(F& f, typename F::value_type& value, bool block, detail::Clock::time_point deadline,
                           Policy& policy) {
        if (shutdown_.load(std::memory_order_relaxed)) return Status::closed;
        // Counted before the item is visible, so its task_done() finds it.
        native_unfinished_.fetch_add(1, std::memory_order_relaxed);
        Status s = block ? f.send_until(value, deadline, policy) : f.try_send(value);
        if (s != Status::ok) uncount_failed_put(native_unfinished_);
        return s;
    }

    // A put counted ahead failed: uncount it, and wake join()s that saw it.
    void uncount_failed_put(std::atomic<Py_ssize_t>& counter) {
        counter.fetch_sub(1, std::memory_order_relaxed);
        detail::store_load_fence(unfinished_);  // see WaitList::has_waiters
        joiners_.notify_all();
    }

    std::size_t qsize() {
        return current().visit([](auto& f) { return f.size(); });
    }
    Py_ssize_t maxsize() const noexcept { return maxsize_.load(std::memory_order_relaxed); }

    // queue.Queue's `q.maxsize = n` on a live queue: later puts wait while
    // qsize() >= n (items beyond it stay); a larger bound wakes blocked
    // putters, threads and tasks alike. <= 0 means unbounded. Runs no Python
    // code; serialized with other set_maxsize() calls and with shutdown()'s
    // closing by transition_ (the GIL on a GIL build).
    void set_maxsize(Py_ssize_t maxsize) {
        std::size_t cap = maxsize > 0 ? static_cast<std::size_t>(maxsize) : std::numeric_limits<std::size_t>::max();
        std::lock_guard<FtMutex> guard(transition_);
        maxsize_.store(maxsize, std::memory_order_relaxed);
        current().visit([&](auto& f) {
            using F = std::decay_t<decltype(f)>;
            using T = typename F::value_type;
            if constexpr (std::is_same_v<F, Ring<T>>) {
                if (!shutdown_.load(std::memory_order_relaxed)) replace_ring(f, cap);  // (shut down: draining only)
            } else {
                f.buffer().set_capacity(cap);
                f.senders().notify_all();  // room or not, each retries
            }
        });
    }
    bool full() {
        Py_ssize_t maxsize = maxsize_.load(std::memory_order_relaxed);
        return maxsize > 0 && qsize() >= static_cast<std::size_t>(maxsize);
    }

    Py_ssize_t unfinished_tasks() const noexcept {
        return unfinished_.load(std::memory_order_relaxed) +
               native_unfinished_.load(std::memory_order_relaxed);
    }

    // False if called more times than items were put.
    bool task_done() {
        Py_ssize_t left = unfinished_.load(std::memory_order_relaxed);
        if constexpr (kFreeThreaded) {
            // Python callers' puts and task_done()s race without the GIL.
            while (left > 0 && !unfinished_.compare_exchange_weak(left, left - 1, std::memory_order_relaxed)) {
            }
        } else if (left > 0) {
            unfinished_.store(left - 1, std::memory_order_relaxed);
        }
        if (left <= 0) {
            Py_ssize_t native = native_unfinished_.load(std::memory_order_relaxed);
            do {
                if (native <= 0) return false;
            } while (!native_unfinished_.compare_exchange_weak(native, native - 1,
                                                               std::memory_order_relaxed));
        }
        if (unfinished_tasks() == 0) {
            detail::store_load_fence(unfinished_);  // see WaitList::has_waiters
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
        return current().visit([](auto& f) -> WaitList& { return f.receivers(); });
    }
    WaitList& putters() {
        return current().visit([](auto& f) -> WaitList& { return f.senders(); });
    }
    WaitList& joiners() noexcept { return joiners_; }

    bool is_shutdown() const noexcept { return shutdown_.load(std::memory_order_relaxed); }

    Dtype dtype() {
        return current().visit([](auto& f) { return dtype_of<typename std::decay_t<decltype(f)>::value_type>; });
    }

    // Calls fn(flavor&) on the buffered flavor behind it now (for typed
    // batches; see retry_on).
    template <class Fn>
    decltype(auto) visit(Fn&& fn) {
        return current().visit(std::forward<Fn>(fn));
    }

    // Python 3.13's Queue.shutdown(): puts fail from now on; getters drain,
    // then fail. `immediate` also drops what is buffered and counts each
    // dropped item as done, which may release join(). False (RuntimeError
    // set, nothing changed) if `immediate` comes from inside the queue's
    // own comparison (a PriorityQueue item's __lt__), which holds the heap.
    bool shutdown(bool immediate) {
        if (Heap* heap = current().get_if<Heap>(); immediate && heap && heap->buffer().comparing_here()) {
            set_reentered();
            return false;
        }
        {
            std::lock_guard<FtMutex> guard(transition_);  // not while set_maxsize replaces the ring
            shutdown_.store(true, std::memory_order_release);
            current().visit([](auto& f) { return f.close(); });
        }
        if (!immediate) return true;
        std::vector<PyObject*> dropped;
        std::size_t count = drop_all(dropped);
        for (std::size_t i = 0; i < count; ++i) {
            if (!task_done()) break;  // counts each dropped item as done
        }
        detail::store_load_fence(unfinished_);  // see WaitList::has_waiters
        joiners_.notify_all();
        // Last: a dropped item's __del__ may call back into this queue.
        for (PyObject* item : dropped) Py_DECREF(item);
        return true;
    }

private:
    template <class T>
    static Flavor make_typed(Py_ssize_t maxsize, QueueKind kind) {
        std::size_t cap = maxsize > 0 ? static_cast<std::size_t>(maxsize)
                                      : std::numeric_limits<std::size_t>::max();
        switch (kind) {
            case QueueKind::lifo: return Flavor(std::in_place_type<List<T, flavors::Order::lifo>>, cap);
            case QueueKind::priority: return Flavor(std::in_place_type<Priority<T>>, cap);
            case QueueKind::fifo: break;
        }
        if (maxsize > 0 && maxsize <= kMaxRingSize) return Flavor(std::in_place_type<Ring<T>>, cap);
        return Flavor(std::in_place_type<List<T>>, cap);
    }

    static Flavor make_flavor(Py_ssize_t maxsize, QueueKind kind, Dtype dtype) {
        return with_dtype(dtype, [&](auto tag) { return make_typed<typename decltype(tag)::type>(maxsize, kind); });
    }

    // Takes every buffered item out: objects are appended to `objects`
    // (references owned by the caller, to drop last: a __del__ may call
    // back into this queue), typed items discarded. Returns how many.
    std::size_t drop_all(std::vector<PyObject*>& objects) {
        if (Heap* heap = current().get_if<Heap>()) {
            heap->buffer().take_all(objects);  // no comparisons: order is moot here
            return objects.size();
        }
        return current().visit([&](auto& f) {
            using T = typename std::decay_t<decltype(f)>::value_type;
            std::size_t n = 0;
            for (std::optional<T> item; f.try_recv(item) == Status::ok; item.reset(), ++n) {
                if constexpr (std::is_same_v<T, PyObject*>) objects.push_back(*item);
            }
            return n;
        });
    }

    // Moves a ring's items, in order, to a list bounded by `cap` that
    // replaces it. Closing the ring first stops every push into it (those
    // in flight finish, and the drain waits for them); the list is
    // published only once it holds them all, so no later item can pass them.
    template <class T>
    void replace_ring(Ring<T>& ring, std::size_t cap) {
        auto list = std::make_unique<Flavor>(std::in_place_type<List<T>>, std::numeric_limits<std::size_t>::max());
        auto& target = *list->template get_if<List<T>>();
        ring.close();  // wakes its waiters: they retry on the list
        for (std::optional<T> item; ring.try_recv(item) == Status::ok; item.reset()) target.try_send(*item);
        target.buffer().set_capacity(cap);  // after the moves: a shrunk bound keeps every item
        replacement_ = std::move(list);
        current_.store(replacement_.get(), std::memory_order_release);
    }

    std::atomic<Py_ssize_t> maxsize_;  // (relaxed: plain loads and stores on x86/ARM)
    FtMutex transition_;  // set_maxsize() and shutdown()'s closing, one at a time
    Flavor flavor_;
    std::unique_ptr<Flavor> replacement_;  // the list that replaced a ring, if any
    std::atomic<Flavor*> current_;         // &flavor_ or replacement_.get()
    // Items put and not yet done: by Python callers (changed only under the
    // GIL on a GIL build, atomically without it; atomic so waiters may read
    // it) and by native threads (no GIL).
    std::atomic<Py_ssize_t> unfinished_{0};
    std::atomic<Py_ssize_t> native_unfinished_{0};
    std::atomic<bool> shutdown_{false};
    WaitList joiners_;
};

// SimpleQueue's native type: the same queue, unbounded FIFO, with only
// SimpleQueue's methods exposed.
class SimplePyQueue : public PyQueue {
public:
    SimplePyQueue() : PyQueue(0, QueueKind::fifo) {}
};

}  // namespace fastchan::binding

FASTCHAN_INITIALIZED_ONLY(fastchan::binding::PyQueue)
FASTCHAN_INITIALIZED_ONLY(fastchan::binding::SimplePyQueue)
