// Waking asyncio tasks from any thread, GIL-free on the waking side.
//
// A task that must wait registers an AsyncWaiter on a queue's wait list, like
// a thread would, and awaits a future of its own loop. The waiter's Waker is
// its loop's LoopWaker: notify() (under the wait list's lock, possibly on a
// thread with no GIL) appends the waiter to the loop's inbox and signals the
// loop's wake descriptor (wake_fd.hpp: an eventfd on Linux) only if it was
// not already armed, so a burst of wake-ups costs one write. The loop's
// reader callback, drain(), runs with the GIL: it disarms, takes the inbox
// and resolves the futures; the woken tasks then retry their operation, as
// woken threads do.
//
// A wake-up from the loop's own thread (a task's put waking a getter of the
// same loop) skips the descriptor: it is resolved when the binding call that
// caused it returns (CallScope), so the woken task runs in the next loop
// iteration, as with asyncio.Queue.
#pragma once

#include <Python.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "common/pybind.hpp"
#include "loops/armed_watch.hpp"

#include <fastchan/detail/spin.hpp>
#include <fastchan/waiter.hpp>

#include "common/call_scope.hpp"
#include "common/free_threading.hpp"
#include "common/initialized.hpp"
#include "loops/wake_fd.hpp"

namespace fastchan::binding {

class AsyncWaiter;

class LoopWaker final : public Waker {
public:
    LoopWaker() = default;
    LoopWaker(const LoopWaker&) = delete;
    LoopWaker& operator=(const LoopWaker&) = delete;

    // The descriptor the loop watches (loop.add_reader).
    WakeFd::Descriptor fileno() const noexcept { return fd_.fileno(); }

    // What that descriptor is: "eventfd", "pipe" or "socket".
    static constexpr const char* kind() noexcept { return WakeFd::kind(); }

    bool wake(Waiter& waiter) noexcept override;

    // The loop's reader callback; GIL held, no other lock held.
    void drain();

    // The loop is closing: decline every later wake-up, and pass on those
    // already in the inbox (GIL held, no other lock held).
    void abandon();

    // Resolves the waiters in the inbox; GIL held, no other lock held.
    void resolve_inbox();

    // A loop without add_reader: a thread of the adapter waits in
    // wait_armed() (GIL released) instead of the loop on the descriptor,
    // and queues drain_watched() on the loop for each true it returns
    // (armed_watch.hpp). watch_in_thread() before the first wake-up.
    void watch_in_thread() noexcept { watch_.enable(); }
    bool wait_armed() { return watch_.wait(armed_); }
    void drain_watched() {
        watch_.handed_back();
        drain();
    }
    void after_fork_in_child() noexcept { watch_.after_fork_in_child(); }

private:
    friend class CallScope;

    const std::thread::id loop_thread_ = std::this_thread::get_id();
    bool listed_locally_ = false;  // in this (loop) thread's CallScope list
    // (Every inboxed waiter holds a reference to this waker's owner, so the
    // inbox is empty when it is destroyed.)
    WakeFd fd_;
    std::atomic<bool> armed_{false};
    bool closed_ = false;  // guarded by lock_
    detail::SpinLock lock_;
    std::vector<AsyncWaiter*> inbox_;
    ArmedWatch watch_;
};

// One awaiting task's registration on one wait list. Shared by the Python
// handle and, once notified, by the loop's inbox (a count that needs no GIL);
// freed with the GIL by whichever lets go last. Without a list it only
// carries a wake-up to the loop (for a select, whose own waiters sit on the
// channels' lists).
class AsyncWaiter {
public:
    // The future is held weakly: a task abandoned on a closed loop must stay
    // collectable, and its collection (closing the coroutine) cancels this
    // registration, passing on any wake-up it was given. GIL held.
    AsyncWaiter(LoopWaker& waker, PyObject* waker_owner, PyObject* future, WaitList& list,
                PyObject* list_owner)
        : waiter(this, &waker), future_(PyWeakref_NewRef(future, nullptr)),
          waker_owner_(waker_owner), list_(&list), list_owner_(list_owner) {
        if (future_ == nullptr) throw py::error_already_set();
        Py_INCREF(waker_owner_);
        Py_INCREF(list_owner_);
    }
    // Completes the future another way than set_result(None) (GIL held):
    // `owner` (kept alive by the carrier) has what to complete it with.
    // False (Python error set) if it could not.
    using Resolve = bool (*)(PyObject* future, PyObject* owner);

    // A wake-up carrier, on no list: for a select (whose own waiters sit on
    // the channels' lists), or for a result delivered by `resolve`.
    AsyncWaiter(LoopWaker& waker, PyObject* waker_owner, PyObject* future, Resolve resolve = nullptr,
                PyObject* owner = Py_None)
        : waiter(this, &waker), future_(PyWeakref_NewRef(future, nullptr)),
          waker_owner_(waker_owner), list_(nullptr), list_owner_(owner), resolve_(resolve) {
        if (future_ == nullptr) throw py::error_already_set();
        Py_INCREF(waker_owner_);
        Py_INCREF(list_owner_);
    }
    AsyncWaiter(const AsyncWaiter&) = delete;
    AsyncWaiter& operator=(const AsyncWaiter&) = delete;

    void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }

    // GIL held.
    void release() {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    void register_() { list_->push(waiter); }

    // After the wake-up (or to give up): leave the wait list. True if a
    // notification had taken this waiter; only the first call counts.
    bool unregister() {
        if (!left_.set()) return false;
        return list_ != nullptr && !list_->remove(waiter);
    }

    // Cancelled or abandoned: a wake-up it was given goes to the next waiter.
    void cancel() {
        if (unregister()) list_->notify_one();
    }

    // Notified, but its task will never run (its loop closed): the wake-up
    // goes to the next waiter now.
    void pass_on() {
        if (!left_.set()) return;
        if (list_ != nullptr) list_->notify_one();
    }

    // GIL held: completes the future unless the task already gave up on it.
    void resolve();

    Waiter waiter;

private:
    ~AsyncWaiter() {
        Py_DECREF(future_);
        Py_DECREF(waker_owner_);
        Py_DECREF(list_owner_);
    }

    std::atomic<int> refs_{1};
    // unregister() or pass_on() ran. The task's thread (unregister, cancel,
    // or a collection on any thread) and its loop's thread (pass_on) may race:
    // exactly one of them leaves the list / passes the wake-up on.
    OnceFlag left_;
    PyObject* future_;    // a weak reference
    PyObject* waker_owner_;  // keeps the LoopWaker alive while notifiers may use it
    WaitList* list_;
    PyObject* list_owner_;   // keeps the queue (and so `list_`), or resolve's owner, alive
    Resolve resolve_ = nullptr;
};

inline bool CallScope::take(LoopWaker& waker) noexcept {
    if (depth() == 0 || std::this_thread::get_id() != waker.loop_thread_) return false;
    if (!waker.listed_locally_) {
        waker.listed_locally_ = true;
        listed().push_back(&waker);
        g_local_pending.fetch_add(1, std::memory_order_relaxed);
    }
    return true;
}

inline void CallScope::flush() {
    if (listed().empty()) return;  // another thread's wake-ups
    // The entry point may be returning with a Python error set.
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    while (!listed().empty()) {
        std::vector<LoopWaker*> wakers;
        wakers.swap(listed());
        for (LoopWaker* waker : wakers) {
            waker->listed_locally_ = false;
            g_local_pending.fetch_sub(1, std::memory_order_relaxed);
            waker->resolve_inbox();  // may queue more: the loop takes them
        }
    }
    PyErr_Restore(type, value, traceback);
}

inline bool LoopWaker::wake(Waiter& waiter) noexcept {
    auto* async_waiter = static_cast<AsyncWaiter*>(waiter.packet);
    {
        std::lock_guard<detail::SpinLock> guard(lock_);
        if (closed_) return false;
        async_waiter->retain();
        inbox_.push_back(async_waiter);  // reserved ahead by drain(): no allocation here in practice
    }
    if (CallScope::take(*this)) return true;
    if (watch_.enabled()) {  // no add_reader: a thread watches (armed_watch.hpp)
        if (!armed_.exchange(true, std::memory_order_acq_rel)) watch_.notify();
        return true;
    }
    if (!armed_.exchange(true, std::memory_order_acq_rel)) fd_.signal();
    return true;
}

inline void LoopWaker::abandon() {
    std::vector<AsyncWaiter*> orphans;
    {
        std::lock_guard<detail::SpinLock> guard(lock_);
        closed_ = true;
        orphans.swap(inbox_);
    }
    for (AsyncWaiter* w : orphans) {
        w->pass_on();
        w->release();
    }
    watch_.stop();  // (a watching thread ends)
}

inline void LoopWaker::drain() {
    fd_.drain();
    // Disarm before taking the inbox: a wake-up after this re-arms and writes.
    armed_.store(false, std::memory_order_seq_cst);
    resolve_inbox();
}

inline void LoopWaker::resolve_inbox() {
    std::vector<AsyncWaiter*> woken;
    {
        std::lock_guard<detail::SpinLock> guard(lock_);
        woken.swap(inbox_);
        inbox_.reserve(woken.size());
    }
    for (AsyncWaiter* w : woken) {
        w->resolve();
        w->release();
    }
}

inline void AsyncWaiter::resolve() {
#if PY_VERSION_HEX >= 0x030D0000
    PyObject* future = nullptr;
    if (PyWeakref_GetRef(future_, &future) <= 0) return;  // gone (or error: treat alike)
#else
    PyObject* future = PyWeakref_GetObject(future_);
    if (future == Py_None) return;
    Py_INCREF(future);
#endif
    // (A task that is gone was collected, which passed the wake-up on.)
    if (resolve_ != nullptr) {
        if (!resolve_(future, list_owner_)) {
            // Its loop is open (a closed one declines wake-ups): a future
            // that cannot be completed is a bug to show, not to swallow.
            PyErr_WriteUnraisable(future);
            pass_on();
        }
        Py_DECREF(future);
        return;
    }
    PyObject* done = PyObject_CallMethod(future, "done", nullptr);
    int is_done = done ? PyObject_IsTrue(done) : -1;
    Py_XDECREF(done);
    if (is_done == 0) {
        // Not cancelled (a cancelled task passes the wake-up on itself).
        PyObject* result = PyObject_CallMethod(future, "set_result", "(O)", Py_None);
        if (result == nullptr) is_done = -1;
        Py_XDECREF(result);
    }
    if (is_done < 0) {
        // The future cannot be completed (its loop is closed): this waiter will
        // never run, so its wake-up goes to the next waiter now.
        PyErr_Clear();
        pass_on();
    }
    Py_DECREF(future);
}

}  // namespace fastchan::binding

FASTCHAN_INITIALIZED_ONLY(fastchan::binding::LoopWaker)
