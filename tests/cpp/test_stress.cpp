// Exactly-once accounting under contention: many producers and consumers,
// a random mix of blocking, non-blocking and timed operations, and close()
// arriving mid-stream.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
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

struct Tally {
    std::vector<std::atomic<int>> received;  // times each id was received
    std::vector<std::atomic<int>> accepted;  // 1 if a send of the id reported ok
    explicit Tally(int n) : received(n), accepted(n) {}
};

// kProducers threads send unique ids, kConsumers threads receive until the
// channel is closed and drained; close() comes after the producers finish,
// or `close_after` into the stream.
void stream(Channel<int>& ch, Tally& tally, int per_producer,
            std::optional<std::chrono::milliseconds> close_after, unsigned seed) {
    std::vector<std::thread> consumers;
    for (int c = 0; c < kConsumers; ++c) {
        consumers.emplace_back([&, c] {
            std::mt19937 rng(seed + 100 + c);
            while (auto item = recv_somehow(ch, rng)) tally.received[*item].fetch_add(1);
        });
    }
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
        producers.emplace_back([&, p] {
            std::mt19937 rng(seed + p);
            for (int i = 0; i < per_producer; ++i) {
                int id = p * per_producer + i;
                if (!send_somehow(ch, id, rng)) return;  // closed: stop producing
                tally.accepted[id] = 1;
            }
        });
    }
    if (close_after) {
        std::this_thread::sleep_for(*close_after);
        ch.close();
    }
    for (auto& t : producers) t.join();
    ch.close();
    for (auto& t : consumers) t.join();
}

TEST_P(Stress, EveryItemReceivedExactlyOnce) {
    auto ch = make_channel<int>(GetParam());
    const int per_producer = 20000 / kScale;
    Tally tally(per_producer * kProducers);
    stream(*ch, tally, per_producer, std::nullopt, 1);
    for (std::size_t i = 0; i < tally.received.size(); ++i) {
        ASSERT_EQ(tally.accepted[i].load(), 1) << "item " << i;
        ASSERT_EQ(tally.received[i].load(), 1) << "item " << i;
    }
}

TEST_P(Stress, CloseMidStreamLosesAndDuplicatesNothing) {
    auto ch = make_channel<int>(GetParam());
    const int per_producer = 20000 / kScale;
    Tally tally(per_producer * kProducers);
    stream(*ch, tally, per_producer, std::chrono::milliseconds(1), 2);
    // Items whose send reported ok arrive exactly once; rejected ones never.
    for (std::size_t i = 0; i < tally.received.size(); ++i) {
        ASSERT_EQ(tally.received[i].load(), tally.accepted[i].load()) << "item " << i;
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
