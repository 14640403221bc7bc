// The native half of fastchan.ThreadPool: a WorkQueue of PyTasks, run by
// Python threads that call work(). The Python class (fastchan/pool.py) owns
// the threads; the core tells it when to start one, through the `spawn`
// callable it was given.
#pragma once

#include <chrono>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <fastchan/detail/platform.hpp>
#if FASTCHAN_USE_LINUX_APIS
#include <sched.h>
#endif

#include "common/pybind.hpp"
#include <pybind11/stl.h>  // std::optional max_pending

#include <fastchan/work_queue.hpp>

#include "common/errors.hpp"
#include "common/gil_wait.hpp"
#include "pool/task.hpp"
#include "pool/thread_call.hpp"
#include "common/initialized.hpp"


namespace fastchan::binding {
namespace pool_detail {

using std::chrono::nanoseconds;

constexpr auto kWorkerLinger = std::chrono::microseconds(100);
// A to_thread() caller spins for the outcome only while calls typically
// take less than this (and an idle worker will take its call at once), and
// then for this long plus the typical duration.
constexpr nanoseconds kSpinCeiling = std::chrono::microseconds(50);

// The CPU this thread runs on, or -1 where that cannot be known cheaply.
inline int current_cpu() noexcept {
#if FASTCHAN_USE_LINUX_APIS
    return sched_getcpu();
#else
    return -1;
#endif
}

// The CPU of the last to_thread() caller and of the last worker that ran
// its call: two threads on one core must not spin for each other (the
// spinner holds the core the other needs).
struct CallCpus {
    std::atomic<int> caller{-1};
    std::atomic<int> worker{-1};

    static bool shared(int a, int b) noexcept { return a >= 0 && a == b; }
};

inline void publish(std::vector<ThreadCall::Flag>& flags) noexcept {
    for (auto& flag : flags) flag->store(true, std::memory_order_release);
    flags.clear();
}

// A worker's wait policy: stay awake a while between tasks, and raise the
// ready flags of finished to_thread() calls only once the GIL is released,
// so the spinning caller that sees one finds the GIL free.
class WorkerWait : public GilWait {
public:
    WorkerWait(std::vector<ThreadCall::Flag>& to_publish, const CallCpus& cpus)
        : GilWait(kWorkerLinger), to_publish_(to_publish), cpus_(cpus) {}

    // No lingering on the core of the caller that will submit next.
    detail::Clock::duration linger() const noexcept {
        bool beside_caller = CallCpus::shared(current_cpu(), cpus_.caller.load(std::memory_order_relaxed));
        return beside_caller ? detail::Clock::duration::zero() : GilWait::linger();
    }

    void release() noexcept {
        GilWait::release();
        publish(to_publish_);
    }

private:
    std::vector<ThreadCall::Flag>& to_publish_;
    const CallCpus& cpus_;
};

class PoolCore {
public:
    // max_pending: nullopt for an unbounded queue, 0 for a rendezvous.
    PoolCore(std::size_t max_workers, std::optional<std::size_t> max_pending, py::object spawn,
             py::object future_type)
        : queue_(max_pending ? WorkQueue<PyTask>(*max_pending) : WorkQueue<PyTask>(unbounded)),
          max_workers_(max_workers),
          max_pending_(max_pending),
          spawn_(std::move(spawn)),
          future_type_(std::move(future_type)) {
        if (!g_future.load()) throw py::error_already_set();
    }

    ~PoolCore() {
        // Tasks still queued (a pool dropped without shutdown, or left
        // behind by fork) hold references: release them with the GIL.
        queue_.shutdown(Shutdown::drop);
    }

    // Queues fn(*args, **kwargs) and returns its new fastchan.Future.
    py::object submit(py::handle self, py::handle fn, py::handle args, py::handle kwargs,
                        bool block) {
        check_callable(fn);
        py::object future = future_type_();
        PyTask task(future.ptr(), nullptr, fn.ptr(), args.ptr(), none_to_null(kwargs));
        enqueue(self, task, block);
        return future;
    }

    // Queues fn(*args, **kwargs) for to_thread() and returns its _ThreadCall,
    // having waited briefly for the outcome if calls are typically short.
    py::object call(py::handle self, py::handle fn, py::handle args, py::handle kwargs) {
        check_callable(fn);
        if (closed()) raise_closed();
        py::object owner = py::cast(std::make_unique<ThreadCall>());
        ThreadCall* call = owner.cast<ThreadCall*>();
        PyTask task(owner.ptr(), call, fn.ptr(), args.ptr(), none_to_null(kwargs));
        maybe_start_worker(self);
        // Spin only for a call a worker will take at once: behind a backlog
        // (a gather of many calls) the wait would be long, and the loop has
        // other tasks to run.
        nanoseconds typical(typical_call_ns_.load(std::memory_order_relaxed));
        bool starts_now = queue_.idle_workers() > queue_.queued();
        int here = current_cpu();
        cpus_.caller.store(here, std::memory_order_relaxed);
        bool beside_worker = CallCpus::shared(here, cpus_.worker.load(std::memory_order_relaxed));
        nanoseconds budget = starts_now && typical < kSpinCeiling && !beside_worker && spinning_pays()
                                 ? kSpinCeiling + typical
                                 : nanoseconds::zero();
        Status s;
        // Queue without the GIL, so the worker it wakes finds the GIL free,
        // and stay without it while spinning, so the worker can run.
        Py_BEGIN_ALLOW_THREADS
        s = queue_.submit(task, detail::Clock::time_point::min());
        if (s == Status::ok && budget > nanoseconds::zero()) {
            record_spin(call->spin_without_gil(budget));
        }
        Py_END_ALLOW_THREADS
        if (s == Status::full) {
            enqueue(self, task, true);  // a bounded pool: wait for room, with the GIL rules
        } else if (s != Status::ok) {
            raise_closed();
        }
        return owner;
    }

    // A worker thread's loop; returns once the pool is shut down and drained.
    // Between tasks a worker stays awake a while (GIL released): callers that
    // submit again as soon as a result arrives (to_thread in a loop, submit
    // then result()) then find it awake instead of paying a thread wake-up.
    void work() {
        std::vector<ThreadCall::Flag> to_publish;
        queue_.work(
            [this, &to_publish](PyTask& task) noexcept {
                publish(to_publish);  // (still holding the GIL: another task came at once)
                if (task.call() == nullptr) {
                    task.run(to_publish);
                    return;
                }
                cpus_.worker.store(current_cpu(), std::memory_order_relaxed);
                auto start = std::chrono::steady_clock::now();
                task.run(to_publish);
                record_call_duration(std::chrono::steady_clock::now() - start);
            },
            WorkerWait{to_publish, cpus_});
        publish(to_publish);
    }

    // Stops the pool: later submissions raise error_type(message). With
    // drop, queued tasks are removed: to_thread() calls fail with `failure`
    // (or are cancelled if it is None), and the Futures are returned for the
    // caller to cancel or fail. Without drop the workers still run them.
    py::list close(bool drop, py::object error_type, std::string message, py::handle failure) {
        {
            std::lock_guard<FtMutex> guard(closed_lock_);
            if (!closed_error_) {
                closed_error_ = std::move(error_type);
                closed_message_ = std::move(message);
            }
        }
        py::list dropped;
        queue_.shutdown(drop ? Shutdown::drop : Shutdown::drain, [&](PyTask& task) {
            if (task.call() != nullptr) {
                task.call()->drop(failure.is_none() ? nullptr : failure.ptr());
            } else {
                dropped.append(py::handle(task.future()));
            }
        });
        return dropped;
    }

    bool closed() const { return queue_.is_shut_down(); }
    std::size_t queued() const { return queue_.queued(); }
    std::size_t outstanding() const { return queue_.outstanding(); }
    std::size_t idle_workers() const { return queue_.idle_workers(); }
    std::size_t workers() const { return queue_.workers(); }
    std::size_t started_workers() const { return started_.load(std::memory_order_relaxed); }
    std::size_t max_workers() const { return max_workers_; }
    std::optional<std::size_t> max_pending() const { return max_pending_; }

private:
    static PyObject* none_to_null(py::handle h) { return h.is_none() ? nullptr : h.ptr(); }

    static void check_callable(py::handle fn) {
        if (!PyCallable_Check(fn.ptr())) {
            throw py::type_error(std::string("fn must be callable, not ") + Py_TYPE(fn.ptr())->tp_name +
                                   " " + py::repr(fn).cast<std::string>());
        }
    }

    // Does a to_thread() caller's spin still catch its outcome? After
    // kMissesToStop spins in a row that did not (the worker did not get a
    // core in time: a busy machine), callers stop spinning and let their
    // loop wait, but for one probe every kProbeEvery calls; a spin that
    // catches its outcome starts spinning again.
    static constexpr std::uint32_t kMissesToStop = 4;
    static constexpr std::uint32_t kProbeEvery = 32;

    bool spinning_pays() noexcept {
        if (spin_misses_.load(std::memory_order_relaxed) < kMissesToStop) return true;
        return spin_skips_.fetch_add(1, std::memory_order_relaxed) % kProbeEvery == 0;
    }

    void record_spin(bool caught) noexcept {
        if (caught) {
            spin_misses_.store(0, std::memory_order_relaxed);
        } else {
            spin_misses_.fetch_add(1, std::memory_order_relaxed);
        }
    }

    void record_call_duration(detail::Clock::duration d) noexcept {
        // An moving average over about the last eight calls.
        auto ns = std::chrono::duration_cast<nanoseconds>(d).count();
        auto avg = typical_call_ns_.load(std::memory_order_relaxed);
        typical_call_ns_.store(avg + (ns - avg) / 8, std::memory_order_relaxed);
    }

    void enqueue(py::handle self, PyTask& task, bool block) {
        if (closed()) raise_closed();
        maybe_start_worker(self);
        auto deadline = block ? detail::kNoDeadline : detail::Clock::time_point::min();
        Status s = queue_.submit(task, deadline, GilWait{});
        switch (s) {
            case Status::ok: return;
            case Status::closed: raise_closed();
            case Status::interrupted: throw py::error_already_set();
            default: break;
        }
        if (block) {
            PyErr_SetString(g_errors.full,
                            "every worker of this pool is waiting to submit to it: blocking would "
                            "deadlock (raise max_pending or max_workers, or submit from outside the pool)");
        } else {
            PyErr_Format(g_errors.full, "the pool's queue is full (max_pending=%zu)",
                         max_pending_.value_or(0));
        }
        throw py::error_already_set();
    }

    // Starts a worker unless the idle and starting ones already outnumber
    // the queued tasks (this one included), as ThreadPoolExecutor does.
    void maybe_start_worker(py::handle self) {
        std::size_t started = started_.load(std::memory_order_relaxed);
        if (started >= max_workers_) return;
        if (queue_.idle_workers() + queue_.expected_workers() > queue_.queued()) return;
        if constexpr (kFreeThreaded) {
            // Submitters race without the GIL: a slot is taken atomically, so
            // at most max_workers are ever started.
            do {
                if (started >= max_workers_) return;
            } while (!started_.compare_exchange_weak(started, started + 1, std::memory_order_relaxed));
        } else {
            started_.store(started + 1, std::memory_order_relaxed);
        }
        queue_.expect_worker();
        try {
            spawn_(self);
        } catch (...) {
            started_.fetch_sub(1, std::memory_order_relaxed);
            queue_.cancel_expected_worker();
            throw;
        }
    }

    [[noreturn]] void raise_closed() {
        py::object error;
        std::string message = "cannot schedule new futures after shutdown";
        {
            std::lock_guard<FtMutex> guard(closed_lock_);
            if (closed_error_) {
                error = closed_error_;
                message = closed_message_;
            }
        }
        PyErr_SetString(error ? error.ptr() : PyExc_RuntimeError, message.c_str());
        throw py::error_already_set();
    }

    WorkQueue<PyTask> queue_;
    const std::size_t max_workers_;
    const std::optional<std::size_t> max_pending_;
    std::atomic<std::size_t> started_{0};  // (a CAS without the GIL: see maybe_start_worker)
    std::atomic<std::int64_t> typical_call_ns_{0};
    CallCpus cpus_;
    std::atomic<std::uint32_t> spin_misses_{0};  // to_thread() spins in a row that missed
    std::atomic<std::uint32_t> spin_skips_{0};   // calls that did not spin since (for probes)
    py::object spawn_, future_type_;
    FtMutex closed_lock_;  // close() sets these once; raise_closed() reads them
    py::object closed_error_;
    std::string closed_message_;
};

}  // namespace pool_detail
using pool_detail::PoolCore;
}  // namespace fastchan::binding

FASTCHAN_INITIALIZED_ONLY(fastchan::binding::PoolCore)
