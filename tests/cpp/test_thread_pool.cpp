// fastchan::ThreadPool and WorkQueue: results and exceptions through
// futures, bounded submission, idle waits, drain and drop shutdown, the
// self-submit deadlock guard, and exactly-once accounting of tasks.
#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <fastchan/thread_pool.hpp>

#include "test_helpers.hpp"

namespace fastchan::testing {
namespace {

// Holds every worker of a pool until released.
class Gate {
public:
    void wait() { opened_.wait(); }
    void open() { promise_.set_value(); }

private:
    std::promise<void> promise_;
    std::shared_future<void> opened_ = promise_.get_future().share();
};

TEST(ThreadPool, FutureCarriesResult) {
    ThreadPool pool(2);
    auto f = pool.submit([](int a, int b) { return a * b; }, 6, 7);
    EXPECT_EQ(f.get(), 42);
}

TEST(ThreadPool, FutureCarriesException) {
    ThreadPool pool(2);
    auto f = pool.submit([]() -> int { throw std::domain_error("boom"); });
    EXPECT_THROW(f.get(), std::domain_error);
    // The worker survived: the pool still runs tasks.
    EXPECT_EQ(pool.submit([] { return 1; }).get(), 1);
}

TEST(ThreadPool, MoveOnlyArgumentsAndResults) {
    ThreadPool pool(1);
    auto f = pool.submit([](std::unique_ptr<int> p) { return std::make_unique<int>(*p + 1); },
                         std::make_unique<int>(41));
    EXPECT_EQ(*f.get(), 42);
}

TEST(ThreadPool, RunsOnItsWorkers) {
    ThreadPool pool(3);
    EXPECT_EQ(pool.size(), 3u);
    auto id = pool.submit([] { return std::this_thread::get_id(); }).get();
    EXPECT_NE(id, std::this_thread::get_id());
}

TEST(ThreadPool, ZeroThreadsIsAnError) { EXPECT_THROW(ThreadPool(0), std::invalid_argument); }

TEST(ThreadPool, WaitIdleWaitsForEveryTask) {
    ThreadPool pool(4);
    std::atomic<int> done{0};
    for (int i = 0; i < 1000; ++i) {
        pool.submit([&done, i] {
            std::this_thread::sleep_for(std::chrono::microseconds(i % 7 == 0 ? 100 : 0));
            done.fetch_add(1);
        });
    }
    pool.wait_idle();
    EXPECT_EQ(done.load(), 1000);
    EXPECT_EQ(pool.outstanding(), 0u);
}

TEST(ThreadPool, SubmitBlocksWhileFullAndTrySubmitDoesNot) {
    ThreadPool pool(1, 2);
    Gate gate;
    auto running = pool.submit([&] { gate.wait(); });
    // Wait until the worker took the first task, so two slots remain.
    while (pool.queued() != 0) std::this_thread::yield();
    auto a = pool.try_submit([] { return 1; });
    auto b = pool.try_submit([] { return 2; });
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(pool.try_submit([] { return 3; }));

    std::atomic<bool> submitted{false};
    std::thread producer([&] {
        pool.submit([] { return 4; }).get();
        submitted = true;
    });
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(submitted.load());  // still blocked on the full queue
    gate.open();
    producer.join();
    EXPECT_TRUE(submitted.load());
    EXPECT_EQ(a->get() + b->get(), 3);
}

TEST(ThreadPool, RendezvousPoolHandsTasksToIdleWorkers) {
    ThreadPool pool(2, 0);
    std::atomic<int> sum{0};
    for (int i = 1; i <= 100; ++i) pool.submit([&, i] { sum += i; });
    pool.wait_idle();
    EXPECT_EQ(sum.load(), 5050);
}

TEST(ThreadPool, DrainShutdownRunsQueuedTasks) {
    std::atomic<int> ran{0};
    {
        ThreadPool pool(1);
        Gate gate;
        pool.submit([&] { gate.wait(); });
        for (int i = 0; i < 50; ++i) pool.submit([&] { ran++; });
        gate.open();
        pool.shutdown(Shutdown::drain);
        EXPECT_EQ(ran.load(), 50);
        EXPECT_THROW(pool.submit([] {}), PoolShutDown);
        EXPECT_THROW(pool.try_submit([] {}), PoolShutDown);
    }
    EXPECT_EQ(ran.load(), 50);
}

TEST(ThreadPool, DropShutdownBreaksQueuedFutures) {
    ThreadPool pool(1);
    Gate gate;
    std::atomic<int> ran{0};
    auto first = pool.submit([&] { gate.wait(); ran++; });
    while (pool.queued() != 0) std::this_thread::yield();
    std::vector<std::future<void>> queued;
    for (int i = 0; i < 20; ++i) queued.push_back(pool.submit([&] { ran++; }));
    std::thread closer([&] { pool.shutdown(Shutdown::drop); });
    // The dropped futures are broken before the running task ends. The
    // errors are kept until the closer is joined, so that it never drops the
    // last reference to one: ThreadSanitizer does not see libstdc++'s
    // exception_ptr reference count (uninstrumented atomics), and would
    // report that free as racing this thread's read of the error.
    std::vector<std::exception_ptr> broken;
    for (auto& f : queued) {
        try {
            f.get();
            ADD_FAILURE() << "a dropped task ran";
        } catch (const std::future_error& e) {
            EXPECT_EQ(e.code(), std::future_errc::broken_promise);
            broken.push_back(std::current_exception());
        }
    }
    gate.open();
    closer.join();
    broken.clear();
    first.get();
    EXPECT_EQ(ran.load(), 1);
}

TEST(ThreadPool, ShutdownWakesBlockedSubmitters) {
    ThreadPool pool(1, 1);
    Gate gate;
    pool.submit([&] { gate.wait(); });
    while (pool.queued() != 0) std::this_thread::yield();
    pool.submit([] {});  // fills the queue
    std::promise<bool> threw;
    std::thread producer([&] {
        try {
            pool.submit([] {});
            threw.set_value(false);
        } catch (const PoolShutDown&) {
            threw.set_value(true);
        }
    });
    std::this_thread::sleep_for(20ms);
    std::thread closer([&] { pool.shutdown(Shutdown::drop); });
    auto threw_future = threw.get_future();
    // Either the producer was still blocked (PoolShutDown) or the drop
    // already freed its slot first; both are fine, but it must return.
    threw_future.wait();
    gate.open();
    closer.join();
    producer.join();
}

TEST(ThreadPool, SelfSubmitToFullPoolRaisesInsteadOfDeadlocking) {
    ThreadPool pool(1, 1);
    std::promise<void> inner_ran;
    auto outer = pool.submit([&] {
        pool.submit([] {});  // fills the queue (the only worker is here)
        try {
            pool.submit([] {});
            return false;
        } catch (const PoolFull&) {
            return true;
        }
    });
    EXPECT_TRUE(outer.get());
    pool.wait_idle();
}

TEST(ThreadPool, SelfSubmitWaitsWhileAnotherWorkerCanDrain) {
    ThreadPool pool(2, 1);
    Gate gate;
    std::atomic<int> ran{0};
    // Worker A: blocked on the gate. Worker B: fills the queue and blocks submitting once more.
    auto a = pool.submit([&] { gate.wait(); });
    auto b = pool.submit([&] {
        pool.submit([&] { ran++; });
        pool.submit([&] { ran++; });  // waits: A can still drain the queue
        return true;
    });
    std::this_thread::sleep_for(30ms);
    gate.open();
    EXPECT_TRUE(b.get());
    pool.wait_idle();
    EXPECT_EQ(ran.load(), 2);
}

TEST(ThreadPool, ExactlyOnceUnderConcurrentSubmitAndDropShutdown) {
    for (std::size_t max_pending : {std::size_t(0), std::size_t(1), std::size_t(16), kUnbounded}) {
        constexpr int kProducers = 4;
        const int per_producer = 5000 / kScale;
        std::vector<std::atomic<int>> runs(kProducers * per_producer);
        std::atomic<int> dropped{0}, refused{0};
        auto pool = max_pending == kUnbounded ? std::make_unique<ThreadPool>(3)
                                              : std::make_unique<ThreadPool>(3, max_pending);
        std::vector<std::thread> producers;
        std::vector<std::vector<std::future<void>>> futures(kProducers);
        for (int p = 0; p < kProducers; ++p) {
            producers.emplace_back([&, p] {
                for (int i = 0; i < per_producer; ++i) {
                    int id = p * per_producer + i;
                    try {
                        futures[p].push_back(pool->submit([&runs, id] { runs[id]++; }));
                    } catch (const PoolShutDown&) {
                        refused++;
                    }
                }
            });
        }
        std::this_thread::sleep_for(5ms);
        pool->shutdown(Shutdown::drop);
        for (auto& t : producers) t.join();
        int ran = 0;
        for (auto& per : futures) {
            for (auto& f : per) {
                try {
                    f.get();
                    ran++;
                } catch (const std::future_error&) {
                    dropped++;
                }
            }
        }
        int ran_counted = 0;
        for (auto& r : runs) {
            ASSERT_LE(r.load(), 1) << "a task ran twice";
            ran_counted += r.load();
        }
        EXPECT_EQ(ran, ran_counted);
        EXPECT_EQ(ran + dropped.load() + refused.load(), kProducers * per_producer)
            << "max_pending " << max_pending;
        EXPECT_EQ(pool->outstanding(), 0u);
    }
}

TEST(WorkQueue, WorkersCountAndIdle) {
    WorkQueue<detail::Task> q(unbounded);
    std::thread worker([&] { q.work([](detail::Task& t) noexcept { t(); }); });
    while (q.idle_workers() != 1) std::this_thread::yield();
    EXPECT_EQ(q.workers(), 1u);
    std::atomic<bool> ran{false};
    detail::Task t([&] { ran = true; });
    EXPECT_EQ(q.submit(t, detail::kNoDeadline), Status::ok);
    EXPECT_EQ(q.wait_idle(), Status::ok);
    EXPECT_TRUE(ran.load());
    int dropped = 0;
    EXPECT_EQ(q.shutdown(Shutdown::drop, [&](detail::Task&) { dropped++; }), 0u);
    worker.join();
    EXPECT_EQ(q.workers(), 0u);
    detail::Task late([] {});
    EXPECT_EQ(q.submit(late, detail::kNoDeadline), Status::closed);
    EXPECT_TRUE(late);  // untouched on failure
}

TEST(WorkQueue, WaitIdleTimesOut) {
    WorkQueue<detail::Task> q(unbounded);
    detail::Task t([] {});
    ASSERT_EQ(q.submit(t, detail::kNoDeadline), Status::ok);
    auto took = time_of([&] {
        EXPECT_EQ(q.wait_idle(Clock::now() + 20ms), Status::timeout);
    });
    EXPECT_GE(took, 20ms);
    EXPECT_EQ(q.shutdown(Shutdown::drop), 1u);
    EXPECT_EQ(q.wait_idle(Clock::now()), Status::ok);
}


TEST(WorkQueue, AnExpectedWorkerCountsUntilItArrives) {
    WorkQueue<detail::Task> q(unbounded);
    q.expect_worker();
    EXPECT_EQ(q.expected_workers(), 1u);
    std::thread worker([&] { q.work([](detail::Task& t) noexcept { t(); }); });
    // The worker counts itself in, then off the expected ones (never both
    // low at once, for the self-submit guard): wait for the second step.
    auto deadline = Clock::now() + 10s;
    while ((q.workers() != 1 || q.expected_workers() != 0) && Clock::now() < deadline) std::this_thread::yield();
    EXPECT_EQ(q.workers(), 1u);
    EXPECT_EQ(q.expected_workers(), 0u);  // it came
    q.shutdown(Shutdown::drain);
    worker.join();
}

TEST(WorkQueue, SelfSubmitGuardCountsExpectedWorkers) {
    // One worker, a queue of one. While a second worker is expected, the
    // first may wait to submit (the newcomer could drain); once that is
    // called off, waiting would deadlock and the submit is refused.
    WorkQueue<detail::Task> q(1);
    std::thread worker([&] { q.work([](detail::Task& t) noexcept { t(); }); });
    Status while_expected = Status::ok, alone = Status::ok;
    detail::Task fan_out([&] {
        detail::Task filler([] {});
        ASSERT_EQ(q.submit(filler, detail::kNoDeadline), Status::ok);  // the queue is now full
        q.expect_worker();
        detail::Task more([] {});
        while_expected = q.submit(more, Clock::now() + 20ms);
        q.cancel_expected_worker();
        alone = q.submit(more, detail::kNoDeadline);
    });
    ASSERT_EQ(q.submit(fan_out, detail::kNoDeadline), Status::ok);
    ASSERT_EQ(q.wait_idle(), Status::ok);
    EXPECT_EQ(while_expected, Status::timeout);
    EXPECT_EQ(alone, Status::full);
    q.shutdown(Shutdown::drain);
    worker.join();
}

}  // namespace
}  // namespace fastchan::testing
