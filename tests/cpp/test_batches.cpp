// Batches: recv_many waits for one item, then takes what is ready (up to
// max); send_many sends a range in order. Exactly once under contention.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "test_helpers.hpp"

namespace fastchan::testing {
namespace {

class Batches : public ::testing::TestWithParam<std::size_t> {};

TEST_P(Batches, RecvManyTakesWhatIsReadyUpToMax) {
    auto ch = make_channel<int>(GetParam());
    std::vector<int> values(10);
    std::iota(values.begin(), values.end(), 0);
    std::thread producer([&] { EXPECT_EQ(ch->send_many(values.begin(), values.end(), Clock::time_point::max()).first, 10u); });
    std::vector<int> got;
    while (got.size() < 10) {
        std::size_t before = got.size();
        ASSERT_EQ(ch->recv_many(got, 4, Clock::now() + 10s), Status::ok);
        EXPECT_GE(got.size() - before, 1u);
        EXPECT_LE(got.size() - before, 4u);
    }
    producer.join();
    EXPECT_EQ(got, values);  // one producer: in order
}

TEST_P(Batches, RecvManyTimesOutEmptyAndSeesClosedAfterTheDrain) {
    auto ch = make_channel<int>(GetParam());
    std::vector<int> got;
    EXPECT_EQ(ch->recv_many(got, 8, Clock::now() + 20ms), Status::timeout);
    EXPECT_TRUE(got.empty());
    if (GetParam() != 0) {
        ASSERT_EQ(ch->try_send(1), Status::ok);
        ch->close();
        EXPECT_EQ(ch->recv_many(got, 8, Clock::now() + 1s), Status::ok);
        EXPECT_EQ(got, std::vector<int>{1});
    } else {
        ch->close();
    }
    EXPECT_EQ(ch->recv_many(got, 8, Clock::now() + 1s), Status::closed);
    EXPECT_EQ(ch->recv_many(got, 0, Clock::now()), Status::ok);  // max 0: nothing to wait for
}

TEST_P(Batches, SendManyStopsAtCloseAndKeepsTheRestUnmoved) {
    auto ch = make_channel<std::unique_ptr<int>>(GetParam());
    std::vector<std::unique_ptr<int>> values;
    for (int i = 0; i < 3; ++i) values.push_back(std::make_unique<int>(i));
    ch->close();
    auto [sent, status] = ch->send_many(values.begin(), values.end(), Clock::now() + 1s);
    EXPECT_EQ(sent, 0u);
    EXPECT_EQ(status, Status::closed);
    for (auto& v : values) EXPECT_NE(v, nullptr);  // nothing was moved out
}

TEST_P(Batches, ExactlyOnceWithBatchingProducersAndConsumers) {
    auto ch = make_channel<int>(GetParam());
    constexpr int kProducers = 3, kConsumers = 3;
    const int per_producer = 20000 / kScale;
    std::vector<std::atomic<int>> seen(kProducers * per_producer);
    std::vector<std::thread> threads;
    for (int p = 0; p < kProducers; ++p) {
        threads.emplace_back([&, p] {
            std::vector<int> batch;
            for (int i = 0; i < per_producer; ++i) {
                batch.push_back(p * per_producer + i);
                if (batch.size() == 7 || i + 1 == per_producer) {
                    EXPECT_EQ(ch->send_many(batch.begin(), batch.end(), Clock::time_point::max()).second, Status::ok);
                    batch.clear();
                }
            }
        });
    }
    std::atomic<int> received{0};
    for (int c = 0; c < kConsumers; ++c) {
        threads.emplace_back([&] {
            std::vector<int> got;
            while (ch->recv_many(got, 16, Clock::time_point::max()) == Status::ok) {
                for (int v : got) seen[v].fetch_add(1);
                received += static_cast<int>(got.size());
                got.clear();
            }
        });
    }
    for (int p = 0; p < kProducers; ++p) threads[p].join();
    ch->close();
    for (std::size_t t = kProducers; t < threads.size(); ++t) threads[t].join();
    EXPECT_EQ(received.load(), kProducers * per_producer);
    for (auto& s : seen) ASSERT_EQ(s.load(), 1);
}

TEST(BatchRanges, SendManyCopiesConstRangesAndMovesFromMoveIterators) {
    auto ch = make_channel<std::string>(8);
    const std::vector<std::string> kept{"a", "b"};
    EXPECT_EQ(ch->send_many(kept.begin(), kept.end(), Clock::now() + 1s).first, 2u);
    EXPECT_EQ(kept, (std::vector<std::string>{"a", "b"}));
    std::vector<std::string> moved{"c"};
    EXPECT_EQ(ch->send_many(std::make_move_iterator(moved.begin()), std::make_move_iterator(moved.end()),
                            Clock::now() + 1s).first, 1u);
    std::vector<std::string> got;
    while (got.size() < 3) ASSERT_EQ(ch->recv_many(got, 8, Clock::now() + 1s), Status::ok);
    EXPECT_EQ(got, (std::vector<std::string>{"a", "b", "c"}));
}

INSTANTIATE_TEST_SUITE_P(Flavors, Batches, ::testing::Values(0, 1, 4, kUnbounded),
                         [](const auto& info) { return flavor_name(info.param); });

}  // namespace
}  // namespace fastchan::testing
