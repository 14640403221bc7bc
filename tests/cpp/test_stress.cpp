// Exactly-once accounting under contention: many producers and consumers,
// a random mix of blocking, non-blocking and timed operations, and close()
// arriving mid-stream.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "test_helpers.hpp"

namespace fastchan::testing {
namespace {

constexpr int kProducers = 4;
constexpr int kConsumers = 4;

// Sends `value` with a randomly chosen operation until it is accepted;
// false if the channel closed first.
bool send_somehow(Channel<int>& ch, int value, std::mt19937& rng) {
    for (;;) {
        switch (rng() % 3) {
            case 0: return ch.send(int{value});
            case 1: {
                Status s = ch.send_for(int{value}, std::chrono::microseconds(rng() % 200));
                if (s != Status::timeout) return s == Status::ok;
                break;
            }
            default: {
                Status s = ch.try_send(int{value});
                if (s != Status::full) return s == Status::ok;
                std::this_thread::yield();
            }
        }
    }
}

// Receives with a randomly chosen operation; nullopt once closed and drained.
std::optional<int> recv_somehow(Channel<int>& ch, std::mt19937& rng) {
    for (;;) {
        switch (rng() % 3) {
            case 0: return ch.recv();
            case 1: {
                auto r = ch.recv_for(std::chrono::microseconds(rng() % 200));
                if (r.status == Status::ok) return std::move(r.value);
                if (r.status == Status::closed) return std::nullopt;
                break;
            }
            default: {
                auto r = ch.try_recv();
                if (r.status == Status::ok) return std::move(r.value);
                if (r.status == Status::closed) return std::nullopt;
                std::this_thread::yield();
            }
        }
    }
}

class Stress : public ::testing::TestWithParam<std::size_t> {};

TEST_P(Stress, EveryItemReceivedExactlyOnce) {
    auto ch = make_channel<int>(GetParam());
    const int per_producer = 20000 / kScale;
    const int total = per_producer * kProducers;
    std::vector<std::atomic<int>> seen(total);

    std::vector<std::thread> consumers;
    for (int c = 0; c < kConsumers; ++c) {
        consumers.emplace_back([&, c] {
            std::mt19937 rng(1000 + c);
            while (auto item = recv_somehow(*ch, rng)) seen[*item].fetch_add(1);
        });
    }
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
        producers.emplace_back([&, p] {
            std::mt19937 rng(p);
            for (int i = 0; i < per_producer; ++i) {
                ASSERT_TRUE(send_somehow(*ch, p * per_producer + i, rng));
            }
        });
    }
    for (auto& t : producers) t.join();
    ch->close();
    for (auto& t : consumers) t.join();

    for (int i = 0; i < total; ++i) ASSERT_EQ(seen[i].load(), 1) << "item " << i;
}

TEST_P(Stress, CloseMidStreamLosesAndDuplicatesNothing) {
    auto ch = make_channel<int>(GetParam());
    const int per_producer = 20000 / kScale;
    const int total = per_producer * kProducers;
    std::vector<std::atomic<int>> seen(total);
    std::vector<std::atomic<int>> accepted(total);

    std::vector<std::thread> consumers;
    for (int c = 0; c < kConsumers; ++c) {
        consumers.emplace_back([&, c] {
            std::mt19937 rng(2000 + c);
            while (auto item = recv_somehow(*ch, rng)) seen[*item].fetch_add(1);
        });
    }
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
        producers.emplace_back([&, p] {
            std::mt19937 rng(10 + p);
            for (int i = 0; i < per_producer; ++i) {
                int id = p * per_producer + i;
                if (!send_somehow(*ch, id, rng)) return;  // closed: stop producing
                accepted[id] = 1;
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ch->close();
    for (auto& t : producers) t.join();
    for (auto& t : consumers) t.join();

    for (int i = 0; i < total; ++i) {
        ASSERT_EQ(seen[i].load(), accepted[i].load()) << "item " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(Flavors, Stress, ::testing::Values(0, 1, 10, 1024, kUnbounded),
                         [](const auto& info) { return flavor_name(info.param); });

// One consumer and a producer that keeps up: the channel must not lose a
// wake-up when the consumer parks between items (a lost one hangs here).
TEST(Stress, PingPongNeverLosesAWakeUp) {
    Channel<int> request(1);
    Channel<int> reply(1);
    const int rounds = 20000 / kScale;
    std::thread echo([&] {
        while (auto v = request.recv()) reply.send(*v + 1);
    });
    for (int i = 0; i < rounds; ++i) {
        ASSERT_TRUE(request.send(int{i}));
        ASSERT_EQ(reply.recv(), std::optional<int>(i + 1));
    }
    request.close();
    echo.join();
}

}  // namespace
}  // namespace fastchan::testing
