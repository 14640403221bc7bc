// fastchan::WorkQueue<Task>: the part of a thread pool that is not threads.
//
// A fastchan channel of tasks (bounded by max_pending, a rendezvous for 0,
// or unbounded) plus what a pool needs around it: workers that loop over
// it, a count of tasks not yet finished with a wait for idle, shutdown that
// drains or drops what is queued, and protection against the one deadlock
// a bounded pool adds (its own workers all waiting to submit to it).
//
// ThreadPool runs it on std::threads; the Python binding runs it on Python
// threads with a GIL-aware wait policy. Task is any movable callable; a task
// is either run once by a worker or handed once to the drop callback.
#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

#include "channel.hpp"
#include "status.hpp"
#include "wait_policy.hpp"
#include "waiter.hpp"

namespace fastchan {

enum class Shutdown {
    drain,  // queued tasks still run
    drop,   // queued tasks are dropped (tasks a worker already took still run)
};

template <class Task>
class WorkQueue {
public:
    explicit WorkQueue(std::size_t max_pending) : channel_(max_pending) {}
    explicit WorkQueue(unbounded_t) : channel_(unbounded) {}
    WorkQueue(const WorkQueue&) = delete;
    WorkQueue& operator=(const WorkQueue&) = delete;

    // Queues a task. ok; closed (shut down); timeout; full, either because
    // `deadline` is now (a non-blocking submit) or because blocking would
    // deadlock: the caller is one of this queue's workers and every worker
    // would then be waiting to submit. On failure `task` is left untouched.
    template <class Policy = ThreadWait>
    Status submit(Task& task, detail::Clock::time_point deadline, Policy&& policy = {}) {
        outstanding_.fetch_add(1, std::memory_order_relaxed);
        Status s = channel_.try_send(std::move(task));
        if (s == Status::full && deadline > detail::Clock::now()) s = submit_slow(task, deadline, policy);
        if (s != Status::ok) finish_one();
        return s;
    }

    // The worker loop: runs every task it receives with `run(task)` until
    // the queue is shut down and drained. `run` must not throw.
    template <class Run, class Policy = ThreadWait>
    void work(Run&& run, Policy&& policy = {}) {
        WorkerScope scope(*this);
        for (;;) {
            Received<Task> r = channel_.try_recv();
            if (r.status == Status::empty) {
                idle_workers_.fetch_add(1, std::memory_order_relaxed);
                r = channel_.recv_until(detail::kNoDeadline, policy);
                idle_workers_.fetch_sub(1, std::memory_order_relaxed);
            }
            if (r.status == Status::interrupted) continue;
            if (r.status != Status::ok) return;
            run(*r.value);
            r.value.reset();  // the task's resources go before it counts as finished
            finish_one();
        }
    }

    // Stops new submissions (and wakes blocked submitters with closed).
    // Drop: each queued task is popped and handed to `drop(task)`.
    // Returns the number of tasks dropped.
    template <class Drop>
    std::size_t shutdown(Shutdown mode, Drop&& drop) {
        channel_.close();
        std::size_t dropped = 0;
        if (mode == Shutdown::drop) {
            for (Received<Task> r = channel_.try_recv(); r; r = channel_.try_recv()) {
                drop(*r.value);
                r.value.reset();
                ++dropped;
                finish_one();
            }
        }
        return dropped;
    }

    std::size_t shutdown(Shutdown mode) {
        return shutdown(mode, [](Task&) {});
    }

    // Waits until every submitted task has been run or dropped.
    template <class Policy = ThreadWait>
    Status wait_idle(detail::Clock::time_point deadline = detail::kNoDeadline, Policy&& policy = {}) {
        return detail::wait_until(idle_, [this] { return outstanding() == 0 ? Status::ok : Status::empty; },
                                  deadline, policy);
    }

    bool is_shut_down() const { return channel_.is_closed(); }
    // Submitted and not yet finished (queued, or being run).
    std::size_t outstanding() const noexcept { return outstanding_.load(std::memory_order_seq_cst); }
    std::size_t queued() const { return channel_.size(); }
    // A worker thread is starting and will call work(): until it does it
    // counts as a worker (for the self-submit guard) and as an idle one (for
    // a pool deciding whether to start another). cancel_expected_worker()
    // undoes it for a thread that failed to start.
    void expect_worker() noexcept { expected_workers_.fetch_add(1, std::memory_order_relaxed); }
    void cancel_expected_worker() noexcept { expected_workers_.fetch_sub(1, std::memory_order_relaxed); }
    std::size_t expected_workers() const noexcept { return expected_workers_.load(std::memory_order_relaxed); }

    // Workers inside work(), and those of them waiting for a task.
    std::size_t workers() const noexcept { return workers_.load(std::memory_order_relaxed); }
    std::size_t idle_workers() const noexcept { return idle_workers_.load(std::memory_order_relaxed); }
    // Is the calling thread one of this queue's workers?
    bool on_worker_thread() const noexcept { return current_worker_queue() == this; }

private:
    class WorkerScope {
    public:
        explicit WorkerScope(WorkQueue& q) : q_(q), outer_(current_worker_queue()) {
            current_worker_queue() = &q;
            q_.workers_.fetch_add(1, std::memory_order_relaxed);
            // The thread may have been announced with expect_worker(); if so, it has now come.
            std::size_t expected = q_.expected_workers_.load(std::memory_order_relaxed);
            while (expected > 0 && !q_.expected_workers_.compare_exchange_weak(expected, expected - 1)) {
            }
        }
        ~WorkerScope() {
            q_.workers_.fetch_sub(1, std::memory_order_relaxed);
            current_worker_queue() = outer_;
        }
        WorkerScope(const WorkerScope&) = delete;
        WorkerScope& operator=(const WorkerScope&) = delete;

    private:
        WorkQueue& q_;
        const void* outer_;
    };

    static const void*& current_worker_queue() noexcept {
        thread_local const void* queue = nullptr;
        return queue;
    }

    template <class Policy>
    Status submit_slow(Task& task, detail::Clock::time_point deadline, Policy& policy) {
        if (!on_worker_thread()) return channel_.send_until(std::move(task), deadline, policy);
        // A worker that blocks here can only be freed by another worker
        // taking a task. If every other worker is already blocked the same
        // way, nobody ever will: refuse instead of joining them.
        std::size_t blocked = blocked_workers_.fetch_add(1, std::memory_order_acq_rel) + 1;
        Status s = blocked >= workers() + expected_workers() ? Status::full
                                        : channel_.send_until(std::move(task), deadline, policy);
        blocked_workers_.fetch_sub(1, std::memory_order_acq_rel);
        return s;
    }

    void finish_one() noexcept {
        // seq_cst RMW, then the idle list's seq_cst flag load (see WaitList::has_waiters).
        if (outstanding_.fetch_sub(1, std::memory_order_seq_cst) == 1) idle_.notify_all();
    }

    Channel<Task> channel_;
    std::atomic<std::size_t> outstanding_{0};
    std::atomic<std::size_t> workers_{0};
    std::atomic<std::size_t> expected_workers_{0};
    std::atomic<std::size_t> idle_workers_{0};
    std::atomic<std::size_t> blocked_workers_{0};
    WaitList idle_;
};

}  // namespace fastchan
