// Single-flavor semantics: order, capacity, try/timed variants, move-only items.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "test_helpers.hpp"

namespace fastchan::testing {
namespace {

// The buffers behind the binding's LifoQueue and typed PriorityQueue.
TEST(ListBuffer, LifoAndLowestFirstOrders) {
    Buffered<flavors::ListBuffer<int, flavors::Order::lifo>> lifo(3);
    Buffered<flavors::ListBuffer<std::string, flavors::Order::lowest>> lowest(5);
    for (int v : {2, 7, 1}) ASSERT_EQ(lifo.try_send(v), Status::ok);
    int extra = 9;
    EXPECT_EQ(lifo.try_send(extra), Status::full);
    for (const char* v : {"b", "ab", "", "b", "a"}) {
        std::string s = v;
        ASSERT_EQ(lowest.try_send(s), Status::ok);
    }
    std::vector<int> popped;
    for (std::optional<int> v; lifo.try_recv(v) == Status::ok; v.reset()) popped.push_back(*v);
    EXPECT_EQ(popped, (std::vector<int>{1, 7, 2}));
    std::vector<std::string> sorted;
    for (std::optional<std::string> v; lowest.try_recv(v) == Status::ok; v.reset()) sorted.push_back(*v);
    EXPECT_EQ(sorted, (std::vector<std::string>{"", "a", "ab", "b", "b"}));
}

TEST(Bounded, FifoOrderAndCapacity) {
    Channel<int> ch(3);
    EXPECT_EQ(ch.capacity(), 3u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(ch.try_send(int{i}), Status::ok);
    EXPECT_EQ(ch.size(), 3u);
    int extra = 99;
    EXPECT_EQ(ch.try_send(std::move(extra)), Status::full);
    for (int i = 0; i < 3; ++i) {
        auto r = ch.try_recv();
        ASSERT_EQ(r.status, Status::ok);
        EXPECT_EQ(*r, i);
    }
    EXPECT_EQ(ch.try_recv().status, Status::empty);
    EXPECT_EQ(ch.size(), 0u);
}

TEST(Bounded, WrapsAroundManyLaps) {
    Channel<int> ch(5);
    for (int i = 0; i < 1000; ++i) {
        ASSERT_EQ(ch.try_send(int{i}), Status::ok);
        if (i % 3 == 2) {
            // keep between 0 and 4 items in flight
            for (int k = 0; k < 3; ++k) ASSERT_EQ(ch.try_recv().status, Status::ok);
        }
    }
}

TEST(Bounded, SendBlocksUntilReceiverMakesRoom) {
    Channel<int> ch(1);
    ASSERT_TRUE(ch.send(1));
    std::atomic<bool> sent{false};
    std::thread sender([&] {
        ch.send(2);
        sent = true;
    });
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(sent.load());
    EXPECT_EQ(*ch.recv(), 1);
    sender.join();
    EXPECT_TRUE(sent.load());
    EXPECT_EQ(*ch.recv(), 2);
}

TEST(Bounded, RecvBlocksUntilSenderSends) {
    Channel<int> ch(4);
    std::thread sender([&] {
        std::this_thread::sleep_for(50ms);
        ch.send(7);
    });
    auto elapsed = time_of([&] { EXPECT_EQ(ch.recv(), std::optional<int>(7)); });
    EXPECT_GE(elapsed, 40ms);
    sender.join();
}

TEST(Unbounded, NeverBlocksAndKeepsOrder) {
    Channel<int> ch(unbounded);
    EXPECT_EQ(ch.capacity(), static_cast<std::size_t>(-1));
    for (int i = 0; i < 100000; ++i) ASSERT_EQ(ch.try_send(int{i}), Status::ok);
    EXPECT_EQ(ch.size(), 100000u);
    for (int i = 0; i < 100000; ++i) ASSERT_EQ(*ch.try_recv(), i);
    EXPECT_EQ(ch.try_recv().status, Status::empty);
}

TEST(Rendezvous, TryOperationsNeedAWaitingPeer) {
    Channel<int> ch(0);
    EXPECT_EQ(ch.capacity(), 0u);
    EXPECT_EQ(ch.try_send(1), Status::full);
    EXPECT_EQ(ch.try_recv().status, Status::empty);
    EXPECT_EQ(ch.size(), 0u);
}

TEST(Rendezvous, SendCompletesOnlyOnceReceiverTookTheValue) {
    Channel<int> ch(0);
    std::atomic<bool> receiving{false};
    std::atomic<bool> sender_done_before_recv{false};
    std::thread receiver([&] {
        std::this_thread::sleep_for(50ms);
        receiving = true;
        EXPECT_EQ(ch.recv(), std::optional<int>(42));
    });
    ASSERT_TRUE(ch.send(42));
    sender_done_before_recv = !receiving.load();
    receiver.join();
    EXPECT_FALSE(sender_done_before_recv.load());
}

TEST(Rendezvous, TrySendHandsToWaitingReceiver) {
    Channel<int> ch(0);
    std::thread receiver([&] { EXPECT_EQ(ch.recv(), std::optional<int>(5)); });
    Status s = Status::full;
    while (s == Status::full) {
        s = ch.try_send(5);
        if (s == Status::full) std::this_thread::yield();
    }
    EXPECT_EQ(s, Status::ok);
    receiver.join();
}

TEST(Rendezvous, HandsOffManyItemsInOrder) {
    Channel<int> ch(0);
    const int n = 20000 / kScale;
    std::thread sender([&] {
        for (int i = 0; i < n; ++i) ASSERT_TRUE(ch.send(i));
    });
    for (int i = 0; i < n; ++i) ASSERT_EQ(ch.recv(), std::optional<int>(i));
    sender.join();
}

class TimedWaits : public ::testing::TestWithParam<std::size_t> {};

TEST_P(TimedWaits, RecvTimesOutWhenNothingArrives) {
    auto ch = make_channel<int>(GetParam());
    Received<int> r;
    auto elapsed = time_of([&] { r = ch->recv_for(30ms); });
    EXPECT_EQ(r.status, Status::timeout);
    EXPECT_FALSE(r.value.has_value());
    EXPECT_GE(elapsed, 29ms);
    EXPECT_LT(elapsed, 5s);
    auto deadline = Clock::now() + 20ms;
    EXPECT_EQ(ch->recv_until(deadline).status, Status::timeout);
    EXPECT_GE(Clock::now(), deadline);
    EXPECT_EQ(ch->recv_until(std::chrono::system_clock::now() + 10ms).status, Status::timeout);
}

TEST_P(TimedWaits, SendTimesOutWhenFullAndLeavesTheValue) {
    std::size_t cap = GetParam();
    if (cap == kUnbounded) GTEST_SKIP() << "an unbounded channel is never full";
    auto ch = make_channel<std::unique_ptr<int>>(cap);
    for (std::size_t i = 0; i < cap; ++i) ASSERT_TRUE(ch->send(std::make_unique<int>(0)));
    auto value = std::make_unique<int>(17);
    Status s = Status::ok;
    auto elapsed = time_of([&] { s = ch->send_for(std::move(value), 30ms); });
    EXPECT_EQ(s, Status::timeout);
    EXPECT_GE(elapsed, 29ms);
    ASSERT_NE(value, nullptr);
    EXPECT_EQ(*value, 17);
    EXPECT_EQ(ch->try_send(std::move(value)), Status::full);
    ASSERT_NE(value, nullptr);
}

TEST_P(TimedWaits, TimedRecvGetsItemSentBeforeDeadline) {
    auto ch = make_channel<int>(GetParam());
    std::thread sender([&] {
        std::this_thread::sleep_for(20ms);
        ch->send(3);
    });
    auto r = ch->recv_for(5s);
    EXPECT_EQ(r.status, Status::ok);
    EXPECT_EQ(*r, 3);
    sender.join();
}

TEST_P(TimedWaits, ZeroTimeoutIsANonBlockingTry) {
    auto ch = make_channel<int>(GetParam());
    EXPECT_EQ(ch->recv_for(0ms).status, Status::timeout);
}

INSTANTIATE_TEST_SUITE_P(Flavors, TimedWaits, ::testing::Values(0, 1, 8, kUnbounded),
                         [](const auto& info) { return flavor_name(info.param); });

class MoveOnly : public ::testing::TestWithParam<std::size_t> {};

TEST_P(MoveOnly, UniquePtrItemsArriveIntact) {
    auto ch = make_channel<std::unique_ptr<int>>(GetParam());
    const int n = 1000;
    std::thread sender([&] {
        for (int i = 0; i < n; ++i) ASSERT_TRUE(ch->send(std::make_unique<int>(i)));
        ch->close();
    });
    int expected = 0;
    while (auto item = ch->recv()) {
        ASSERT_NE(*item, nullptr);
        EXPECT_EQ(**item, expected++);
    }
    EXPECT_EQ(expected, n);
    sender.join();
}

TEST_P(MoveOnly, FailedTrySendLeavesTheValue) {
    auto ch = make_channel<std::unique_ptr<int>>(GetParam());
    ch->close();
    auto value = std::make_unique<int>(1);
    EXPECT_EQ(ch->try_send(std::move(value)), Status::closed);
    ASSERT_NE(value, nullptr);
    EXPECT_FALSE(ch->send(std::move(value)));
}

TEST(MoveOnly, ItemsLeftInAChannelAreDestroyed) {
    auto counter = std::make_shared<int>(0);
    {
        Channel<std::shared_ptr<int>> bounded(8);
        Channel<std::shared_ptr<int>> list(unbounded);
        for (int i = 0; i < 5; ++i) {
            bounded.send(counter);
            list.send(counter);
        }
        EXPECT_EQ(counter.use_count(), 11);
    }
    EXPECT_EQ(counter.use_count(), 1);
}

INSTANTIATE_TEST_SUITE_P(Flavors, MoveOnly, ::testing::Values(0, 1, 16, kUnbounded),
                         [](const auto& info) { return flavor_name(info.param); });

}  // namespace
}  // namespace fastchan::testing
