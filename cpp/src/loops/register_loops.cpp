// The native side of fastchan.asyncio: loop wakers, and the registration of
// awaiting tasks on a queue's wait lists (see loop_waker.hpp).
#include <memory>

#include "common/pybind.hpp"

#include "common/errors.hpp"
#include "queue/methods.hpp"
#include "loops/loop_waker.hpp"
#include "queue/queue.hpp"
#include "common/initialized.hpp"


namespace fastchan::binding {
namespace {

// The Python handle of one registration: the awaiting coroutine holds it
// across its `await`, then finish()es or cancel()s it.
class AsyncWait {
public:
    explicit AsyncWait(AsyncWaiter* waiter) : waiter_(waiter) { waiter_->register_(); }
    AsyncWait(const AsyncWait&) = delete;
    AsyncWait& operator=(const AsyncWait&) = delete;
    ~AsyncWait() {
        CallScope call;
        waiter_->cancel();  // abandoned (the coroutine was closed): never strand a wake-up
        waiter_->release();
    }

    // After the wake-up: leave the wait list (a no-op if a notifier took us).
    void finish() { waiter_->unregister(); }
    // The task gave up: leave the list, passing on a wake-up it was given.
    void cancel() {
        CallScope call;
        waiter_->cancel();
    }

private:
    AsyncWaiter* waiter_;
};

// Registers a waiter, then re-checks with `attempt` (which returns ok, a
// would-block status, or an error status); returns the handle to await, or
// nullptr when the re-check completed the operation.
template <class Attempt>
std::unique_ptr<AsyncWait> register_then_recheck(WaitList& list, py::handle queue,
                                                 py::handle waker, py::handle future,
                                                 Attempt&& attempt) {
    CallScope call;
    auto& loop_waker = waker.cast<LoopWaker&>();
    auto handle = std::make_unique<AsyncWait>(
        new AsyncWaiter(loop_waker, waker.ptr(), future.ptr(), list, queue.ptr()));
    Status s = attempt();
    if (would_block(s)) return handle;
    handle->cancel();  // done without waiting: pass on any wake-up that raced in
    if (s != Status::ok) {
        raise_for(s, g_errors.empty);
        throw py::error_already_set();
    }
    return nullptr;
}

}  // namespace
}  // namespace fastchan::binding

FASTCHAN_INITIALIZED_ONLY(fastchan::binding::AsyncWait)

namespace fastchan::binding {

void register_loops(py::module_& m) {
    py::class_<LoopWaker>(m, "LoopWaker",
                            "Wakes one event loop's waiting tasks; one per loop (fastchan.asyncio).")
        .def(py::init<>())
        .def("fileno", &LoopWaker::fileno)
        .def("drain", &LoopWaker::drain, "The loop's reader callback: resolve the woken waiters.")
        .def(
            "abandon",
            [](LoopWaker& waker) {
                CallScope call;
                waker.abandon();
            },
            "The loop is closing: pass its waiters' wake-ups on to other waiters.");

    py::class_<AsyncWait>(m, "_AsyncWait")
        .def("finish", &AsyncWait::finish)
        .def("cancel", &AsyncWait::cancel);

    m.def("_add_async_fast_methods", [](py::handle cls) { add_async_fast_methods(cls); },
          "Give a fastchan.asyncio queue class its native awaitable get() and put().");

    m.def(
        "_register_get",
        [](py::handle queue, py::handle waker, py::handle future) -> py::tuple {
            auto& q = queue.cast<PyQueue&>();
            PyObject* item = nullptr;
            auto handle = register_then_recheck(q.getters(), queue, waker, future, [&] {
                return q.get(&item, false, detail::kNoDeadline);
            });
            if (handle) return py::make_tuple(std::move(handle), py::none());
            return py::make_tuple(py::none(), py::reinterpret_steal<py::object>(item));
        },
        "Register an awaiting getter, then re-check: (handle, None) to await, or (None, item).");

    m.def(
        "_register_put",
        [](py::handle queue, py::handle waker, py::handle future,
           py::handle item) -> py::tuple {
            auto& q = queue.cast<PyQueue&>();
            auto handle = register_then_recheck(q.putters(), queue, waker, future, [&] {
                return q.put(item.ptr(), false, detail::kNoDeadline);
            });
            return py::make_tuple(handle ? py::cast(std::move(handle)) : py::none(),
                                    py::none());
        },
        "Register an awaiting putter, then re-check: (handle, None) to await, or (None, None).");

    m.def(
        "_register_join",
        [](py::handle queue, py::handle waker, py::handle future) -> py::tuple {
            auto& q = queue.cast<PyQueue&>();
            auto handle = register_then_recheck(q.joiners(), queue, waker, future, [&] {
                return q.unfinished_tasks() == 0 ? Status::ok : Status::empty;
            });
            return py::make_tuple(handle ? py::cast(std::move(handle)) : py::none(),
                                    py::none());
        },
        "Register an awaiting join(), then re-check: (handle, None) to await, or (None, None).");
}

}  // namespace fastchan::binding
