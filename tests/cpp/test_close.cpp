// close(): no new sends, receivers drain then see closed, every waiter wakes.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "test_helpers.hpp"

namespace fastchan::testing {
namespace {

class Close : public ::testing::TestWithParam<std::size_t> {};

TEST_P(Close, IsIdempotent) {
    auto ch = make_channel<int>(GetParam());
    EXPECT_FALSE(ch->is_closed());
    EXPECT_TRUE(ch->close());
    EXPECT_FALSE(ch->close());
    EXPECT_TRUE(ch->is_closed());
}

TEST_P(Close, SendsFailAfterClose) {
    auto ch = make_channel<int>(GetParam());
    ch->close();
    EXPECT_FALSE(ch->send(1));
    EXPECT_EQ(ch->try_send(1), Status::closed);
    EXPECT_EQ(ch->send_for(1, 10ms), Status::closed);
}

TEST_P(Close, ReceiversDrainThenSeeClosed) {
    std::size_t cap = GetParam();
    if (cap == 0) GTEST_SKIP() << "a rendezvous buffers nothing";
    auto ch = make_channel<int>(cap);
    const int n = static_cast<int>(std::min<std::size_t>(cap, 3));
    for (int i = 0; i < n; ++i) ASSERT_EQ(ch->try_send(int{i}), Status::ok);
    ch->close();
    for (int i = 0; i < n; ++i) EXPECT_EQ(ch->recv(), std::optional<int>(i));
    EXPECT_EQ(ch->recv(), std::nullopt);
    EXPECT_EQ(ch->try_recv().status, Status::closed);
    EXPECT_EQ(ch->recv_for(10ms).status, Status::closed);
}

TEST_P(Close, WakesEveryBlockedReceiver) {
    auto ch = make_channel<int>(GetParam());
    std::atomic<int> woke{0};
    std::vector<std::thread> receivers;
    for (int i = 0; i < 4; ++i) {
        receivers.emplace_back([&] {
            EXPECT_EQ(ch->recv(), std::nullopt);
            ++woke;
        });
    }
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(woke.load(), 0);
    ch->close();
    for (auto& t : receivers) t.join();
    EXPECT_EQ(woke.load(), 4);
}

TEST_P(Close, WakesEveryBlockedSender) {
    std::size_t cap = GetParam();
    if (cap == kUnbounded) GTEST_SKIP() << "unbounded sends never block";
    auto ch = make_channel<int>(cap);
    for (std::size_t i = 0; i < cap; ++i) ASSERT_EQ(ch->try_send(0), Status::ok);
    std::atomic<int> failed{0};
    std::vector<std::thread> senders;
    for (int i = 0; i < 4; ++i) {
        senders.emplace_back([&] {
            if (!ch->send(1)) ++failed;
        });
    }
    std::this_thread::sleep_for(30ms);
    ch->close();
    for (auto& t : senders) t.join();
    EXPECT_EQ(failed.load(), 4);
    // The items buffered before close are still there, and only those.
    std::size_t drained = 0;
    while (auto item = ch->try_recv()) {
        EXPECT_EQ(*item, 0);
        ++drained;
    }
    EXPECT_EQ(drained, cap);
}

TEST_P(Close, TimedWaitersWakeWithClosedBeforeTheirDeadline) {
    auto ch = make_channel<int>(GetParam());
    Received<int> r;
    std::thread receiver([&] { r = ch->recv_for(10s); });
    std::this_thread::sleep_for(20ms);
    auto elapsed = time_of([&] {
        ch->close();
        receiver.join();
    });
    EXPECT_EQ(r.status, Status::closed);
    EXPECT_LT(elapsed, 5s);
}

INSTANTIATE_TEST_SUITE_P(Flavors, Close, ::testing::Values(0, 1, 4, kUnbounded),
                         [](const auto& info) { return flavor_name(info.param); });

}  // namespace
}  // namespace fastchan::testing
