// fastchan::shm::Queue<T> (fastchan/shm/queue.hpp): the typed process
// queue a C++ program shares with Python's ProcessQueue(dtype=...). Values
// in and out, batches taken in parts, waits with deadlines, the item type
// checked on open; then fork()ed processes (suite Fork: ThreadSanitizer,
// which cannot follow a fork, skips them), exactly once, and a producer
// killed halfway through a batch (the whole batch is lost, nothing torn).
#include <fastchan/shm/queue.hpp>

#if FASTCHAN_HAS_SHM

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

namespace {

using fastchan::Status;
using fastchan::detail::Clock;
using fastchan::shm::Queue;
using namespace std::chrono_literals;

TEST(ShmQueue, Int64ValuesInAndOutAndABatchTakenInParts) {
    auto q = Queue<std::int64_t>::create(1 << 16);
    std::vector<std::int64_t> in(1000);
    std::iota(in.begin(), in.end(), -500);
    ASSERT_EQ(q.put(7), Status::ok);
    auto [n, s] = q.put_many(in.data(), in.size());
    ASSERT_EQ(s, Status::ok);
    ASSERT_EQ(n, in.size());
    EXPECT_EQ(q.size(), 1001u);
    std::int64_t v = 0;
    ASSERT_EQ(q.get(v), Status::ok);
    EXPECT_EQ(v, 7);
    std::vector<std::int64_t> out(3);
    auto [got, gs] = q.get_many(out.data(), out.size());
    ASSERT_EQ(gs, Status::ok);
    ASSERT_EQ(got, 3u);
    EXPECT_EQ(out, (std::vector<std::int64_t>{-500, -499, -498}));
    out.resize(2000);
    auto [rest, rs] = q.get_many(out.data(), out.size());
    ASSERT_EQ(rs, Status::ok);
    ASSERT_EQ(rest, 997u);
    EXPECT_TRUE(std::equal(out.begin(), out.begin() + 997, in.begin() + 3));
    EXPECT_EQ(q.try_get(v), Status::empty);
}

TEST(ShmQueue, DoublesAndBytes) {
    auto d = Queue<double>::create(1024);
    ASSERT_EQ(d.put(1.5), Status::ok);
    double x = 0;
    ASSERT_EQ(d.get_for(x, 1s), Status::ok);
    EXPECT_EQ(x, 1.5);

    auto b = Queue<std::string>::create(1024);
    std::vector<std::string> in = {"", "a", std::string(500, 'z')};
    ASSERT_EQ(b.put_many(in.data(), in.size()).second, Status::ok);
    std::vector<std::string> out(5);
    auto [n, s] = b.get_many(out.data(), out.size(), Clock::now() + 1s);
    ASSERT_EQ(s, Status::ok);
    ASSERT_EQ(n, 3u);
    EXPECT_EQ(std::vector<std::string>(out.begin(), out.begin() + 3), in);
}

TEST(ShmQueue, FullAndEmptyWaitUntilTheirDeadline) {
    auto q = Queue<std::int64_t>::create(64, 3);  // at most 3 items
    std::vector<std::int64_t> in = {1, 2, 3, 4, 5};
    auto [n, s] = q.put_many(in.data(), in.size(), Clock::now() + 20ms);
    EXPECT_EQ(s, Status::timeout);
    EXPECT_EQ(n, 3u);  // the batch went in as far as it fit
    EXPECT_EQ(q.try_put(9), Status::full);
    std::int64_t v;
    for (int i = 1; i <= 3; ++i) {
        ASSERT_EQ(q.try_get(v), Status::ok);
        EXPECT_EQ(v, i);
    }
    EXPECT_EQ(q.get_for(v, 20ms), Status::timeout);
    q.shutdown();
    EXPECT_EQ(q.put(1), Status::closed);
    EXPECT_EQ(q.get(v), Status::closed);
}

TEST(ShmQueue, OpenChecksTheItemType) {
    auto q = Queue<std::int64_t>::create(1024);
    EXPECT_THROW(Queue<double>::open(q.name()), std::invalid_argument);
    EXPECT_THROW(Queue<std::string>::open(q.name()), std::invalid_argument);
    auto same = Queue<std::int64_t>::open(q.name());
    ASSERT_EQ(same.put(42), Status::ok);
    std::int64_t v = 0;
    ASSERT_EQ(q.get(v), Status::ok);
    EXPECT_EQ(v, 42);
    EXPECT_THROW(Queue<std::int64_t>::open("/fastchan-0-nosuchqueue"), std::system_error);
}

int wait_child(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

TEST(Fork, TypedBatchesExactlyOnceAcrossProcesses) {
    constexpr int kChildren = 3;
    constexpr std::int64_t per = 20000;
    auto q = Queue<std::int64_t>::create(4096);  // (small: batches wait for room)
    std::vector<pid_t> kids;
    for (int c = 0; c < kChildren; ++c) {
        pid_t pid = fork();
        if (pid == 0) {
            std::vector<std::int64_t> batch(333);
            for (std::int64_t i = 0; i < per; i += 333) {
                std::size_t k = 0;
                for (; k < batch.size() && i + static_cast<std::int64_t>(k) < per; ++k)
                    batch[k] = c * per + i + static_cast<std::int64_t>(k);
                if (q.put_many(batch.data(), k, Clock::now() + 30s).second != Status::ok) _exit(2);
            }
            q.detach();
            _exit(0);
        }
        kids.push_back(pid);
    }
    std::vector<int> seen(kChildren * per);
    std::vector<std::int64_t> out(500);
    for (std::int64_t taken = 0; taken < kChildren * per;) {
        auto [n, s] = q.get_many(out.data(), out.size(), Clock::now() + 30s);
        ASSERT_EQ(s, Status::ok);
        for (std::size_t i = 0; i < n; ++i) ++seen[static_cast<std::size_t>(out[i])];
        taken += static_cast<std::int64_t>(n);
    }
    for (pid_t k : kids) EXPECT_EQ(wait_child(k), 0);
    for (int s : seen) ASSERT_EQ(s, 1);
    EXPECT_EQ(q.ring().stats().items_lost, 0u);
}

TEST(Fork, ProducerKilledMidBatchLosesThatBatchOnly) {
    auto q = Queue<std::int64_t>::create(4096);
    std::vector<std::int64_t> first = {1, 2, 3}, batch(10, 99);
    ASSERT_EQ(q.put_many(first.data(), first.size()).second, Status::ok);
    pid_t pid = fork();
    if (pid == 0) {
        q.ring().fault.store(static_cast<int>(fastchan::shm::Fault::die_mid_put));
        q.put_many(batch.data(), batch.size());
        _exit(1);  // not reached
    }
    int status = wait_child(pid);
    ASSERT_TRUE(WIFSIGNALED(status));
    ASSERT_EQ(q.put(4), Status::ok);  // the lock is usable again
    std::vector<std::int64_t> out(20);
    auto [n, s] = q.get_many(out.data(), out.size(), Clock::now() + 5s);
    ASSERT_EQ(s, Status::ok);
    out.resize(n);
    EXPECT_EQ(out, (std::vector<std::int64_t>{1, 2, 3, 4}));  // none of the half-written batch shows
    auto st = q.ring().stats();
    EXPECT_EQ(st.items_lost, 10u);
    EXPECT_EQ(st.owner_deaths, 1u);
}

TEST(Fork, ConsumerKilledMidBatchLeavesEveryItem) {
    auto q = Queue<double>::create(4096);
    std::vector<double> in(50);
    std::iota(in.begin(), in.end(), 0.0);
    ASSERT_EQ(q.put_many(in.data(), in.size()).second, Status::ok);
    pid_t pid = fork();
    if (pid == 0) {
        q.ring().fault.store(static_cast<int>(fastchan::shm::Fault::die_mid_get));
        std::vector<double> got(100);
        q.get_many(got.data(), got.size());
        _exit(1);
    }
    int status = wait_child(pid);
    ASSERT_TRUE(WIFSIGNALED(status));
    std::vector<double> out(100);
    auto [n, s] = q.get_many(out.data(), out.size(), Clock::now() + 5s);
    ASSERT_EQ(s, Status::ok);
    out.resize(n);
    EXPECT_EQ(out, in);
    EXPECT_EQ(q.ring().stats().items_lost, 0u);
}

}  // namespace

#endif  // FASTCHAN_HAS_SHM
