// fastchan::ThreadPool: a fixed set of std::threads fed through a fastchan
// channel (a WorkQueue). No Python involved.
//
//   fastchan::ThreadPool pool(4);                  // 4 workers, unbounded queue
//   fastchan::ThreadPool pool(4, 100);             // at most 100 queued tasks
//   std::future<int> f = pool.submit([](int x) { return x * 2; }, 21);
//   f.get();                                       // 42, or rethrows the task's exception
//   pool.wait_idle();                              // every submitted task has finished
//   pool.shutdown(fastchan::Shutdown::drop);       // queued tasks are dropped, workers joined
//
// A dropped task's future reports std::future_errc::broken_promise. The
// destructor shuts down with Shutdown::drain.
#pragma once

#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "status.hpp"
#include "work_queue.hpp"

namespace fastchan {

// submit() after shutdown().
class PoolShutDown : public std::runtime_error {
public:
    PoolShutDown() : std::runtime_error("fastchan::ThreadPool: submit after shutdown") {}
};

// submit() from one of the pool's own workers when its queue is full and
// every other worker is blocked submitting too: waiting would deadlock.
class PoolFull : public std::runtime_error {
public:
    PoolFull()
        : std::runtime_error(
              "fastchan::ThreadPool: queue full and every worker is waiting to submit to it") {}
};

namespace detail {

// A move-only, type-erased void() callable (std::function needs copyable
// targets, and a packaged_task is not).
class Task {
public:
    Task() = default;
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Task>>>
    explicit Task(F&& f) : impl_(std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(f))) {}

    void operator()() { impl_->run(); }
    explicit operator bool() const noexcept { return impl_ != nullptr; }

private:
    struct Base {
        virtual ~Base() = default;
        virtual void run() = 0;
    };
    template <class F>
    struct Impl final : Base {
        explicit Impl(F&& fn) : f(std::move(fn)) {}
        explicit Impl(const F& fn) : f(fn) {}
        void run() override { f(); }
        F f;
    };
    std::unique_ptr<Base> impl_;
};

}  // namespace detail

class ThreadPool {
public:
    // `threads` workers (at least one); a queue of at most `max_pending`
    // tasks (0: submit hands a task straight to an idle worker).
    ThreadPool(std::size_t threads, std::size_t max_pending) : queue_(max_pending) { start(threads); }
    explicit ThreadPool(std::size_t threads = default_threads(), unbounded_t = unbounded)
        : queue_(unbounded) {
        start(threads);
    }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    ~ThreadPool() { shutdown(Shutdown::drain); }

    static std::size_t default_threads() noexcept {
        unsigned n = std::thread::hardware_concurrency();
        return n == 0 ? 1 : n;
    }

    // Queues f(args...) and returns its future, which carries the result or
    // the exception. Blocks while the queue is full. Throws PoolShutDown
    // after shutdown(), PoolFull where blocking would deadlock (see above).
    template <class F, class... Args>
    auto submit(F&& f, Args&&... args) {
        auto [task, future] = package(std::forward<F>(f), std::forward<Args>(args)...);
        check(queue_.submit(task, detail::kNoDeadline));
        return std::move(future);
    }

    // As submit(), but never blocks: empty when the queue is full.
    template <class F, class... Args>
    auto try_submit(F&& f, Args&&... args) {
        auto [task, future] = package(std::forward<F>(f), std::forward<Args>(args)...);
        std::optional<decltype(future)> result;
        Status s = queue_.submit(task, detail::Clock::time_point::min());
        if (s == Status::ok) {
            result.emplace(std::move(future));
        } else if (s != Status::full) {
            check(s);
        }
        return result;
    }

    // Blocks until every task submitted so far has finished (or was dropped).
    void wait_idle() { queue_.wait_idle(); }

    // Stops accepting tasks, then runs (drain) or drops (drop) the queued
    // ones, and joins the workers. Idempotent; not from a worker thread.
    void shutdown(Shutdown mode = Shutdown::drain) {
        if (queue_.on_worker_thread()) {
            throw std::logic_error("fastchan::ThreadPool::shutdown from one of its own workers");
        }
        std::lock_guard<std::mutex> guard(shutdown_mutex_);
        queue_.shutdown(mode);
        for (auto& t : threads_) {
            if (t.joinable()) t.join();
        }
    }

    std::size_t size() const noexcept { return threads_.size(); }
    std::size_t queued() const { return queue_.queued(); }
    // Submitted and not yet finished.
    std::size_t outstanding() const noexcept { return queue_.outstanding(); }

private:
    void start(std::size_t threads) {
        if (threads == 0) throw std::invalid_argument("fastchan::ThreadPool needs at least one thread");
        threads_.reserve(threads);
        for (std::size_t i = 0; i < threads; ++i) {
            queue_.expect_worker();  // counted by the self-submit guard before it runs
            try {
                threads_.emplace_back([this] {
                    // Tasks are packaged_tasks, which keep their exceptions; the
                    // catch-all only guards a worker from an exotic throwing move.
                    queue_.work([](detail::Task& task) noexcept {
                        try {
                            task();
                        } catch (...) {
                        }
                    });
                });
            } catch (...) {
                // No thread: stop the ones already started before failing.
                queue_.cancel_expected_worker();
                shutdown(Shutdown::drain);
                throw;
            }
        }
    }

    template <class F, class... Args>
    static auto package(F&& f, Args&&... args) {
        using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
        std::packaged_task<R()> job(
            [f = std::forward<F>(f), args = std::make_tuple(std::forward<Args>(args)...)]() mutable {
                return std::apply(std::move(f), std::move(args));
            });
        std::future<R> future = job.get_future();
        return std::make_pair(detail::Task(std::move(job)), std::move(future));
    }

    static void check(Status s) {
        if (s == Status::ok) return;
        if (s == Status::full) throw PoolFull();
        throw PoolShutDown();
    }

    WorkQueue<detail::Task> queue_;
    std::vector<std::thread> threads_;
    std::mutex shutdown_mutex_;
};

}  // namespace fastchan
