// fastchan::Select: exactly one case fires, fairly, on every flavor, and no
// item is lost or duplicated when selects race with each other and with
// plain senders and receivers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <fastchan/select.hpp>

namespace fastchan::testing {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<Channel<int>> make(int capacity) {
    if (capacity < 0) return std::make_unique<Channel<int>>(unbounded);
    return std::make_unique<Channel<int>>(static_cast<std::size_t>(capacity));
}

class SelectFlavors : public ::testing::TestWithParam<int> {};

INSTANTIATE_TEST_SUITE_P(Flavors, SelectFlavors, ::testing::Values(0, 1, 16, -1),
                         [](const ::testing::TestParamInfo<int>& info) {
                             return info.param == 0    ? std::string("rendezvous")
                                    : info.param < 0 ? std::string("unbounded")
                                                     : "bounded" + std::to_string(info.param);
                         });

TEST(Select, TrySelectFiresTheReadyCase) {
    Channel<int> a(4), b(4);
    ASSERT_EQ(b.try_send(7), Status::ok);
    std::optional<int> from_a, from_b;
    Select select;
    select.recv(a, from_a);
    std::size_t case_b = select.recv(b, from_b);
    SelectResult r = select.try_select();
    EXPECT_EQ(r.index, case_b);
    EXPECT_EQ(r.status, Status::ok);
    EXPECT_EQ(from_b, 7);
    EXPECT_FALSE(from_a.has_value());
}

TEST(Select, NothingReady) {
    Channel<int> a(0), b(4);
    std::optional<int> out;
    Select select;
    select.recv(a, out);
    select.recv(b, out);
    EXPECT_EQ(select.try_select().status, Status::empty);
    auto start = std::chrono::steady_clock::now();
    SelectResult r = select.wait_for(20ms);
    EXPECT_EQ(r.index, Select::none);
    EXPECT_EQ(r.status, Status::timeout);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
    EXPECT_EQ(Select().try_select().status, Status::empty);  // no cases at all
}

TEST(Select, AChoiceAmongReadyCasesIsFair) {
    // Three cases, two always ready: each of those fires about half the time.
    Channel<int> a(unbounded), b(unbounded), never(1);
    for (int i = 0; i < 4000; ++i) {
        a.try_send(1);
        b.try_send(2);
    }
    std::optional<int> out;
    Select select;
    std::size_t ia = select.recv(a, out), ib = select.recv(b, out);
    select.recv(never, out);
    int counts[2] = {0, 0};
    for (int i = 0; i < 2000; ++i) {
        SelectResult r = select.try_select();
        ASSERT_EQ(r.status, Status::ok);
        ASSERT_TRUE(r.index == ia || r.index == ib);
        ++counts[r.index == ia ? 0 : 1];
    }
    // Binomial(2000, 0.5): 900..1100 is more than 4 standard deviations.
    EXPECT_GT(counts[0], 900);
    EXPECT_GT(counts[1], 900);
}

TEST_P(SelectFlavors, WakesForALaterSend) {
    auto a = make(GetParam()), b = make(GetParam());
    std::optional<int> from_a, from_b;
    Select select;
    select.recv(*a, from_a);
    std::size_t case_b = select.recv(*b, from_b);
    std::thread sender([&] {
        std::this_thread::sleep_for(10ms);
        EXPECT_TRUE(b->send(42));
    });
    SelectResult r = select.wait();
    sender.join();
    EXPECT_EQ(r.index, case_b);
    EXPECT_EQ(r.status, Status::ok);
    EXPECT_EQ(from_b, 42);
}

TEST_P(SelectFlavors, SendCaseWaitsForRoomOrAReceiver) {
    auto a = make(GetParam());
    // Fill a bounded channel so that the send case must wait.
    int filler = 0;
    while (a->try_send(std::move(filler)) == Status::ok && a->capacity() != SIZE_MAX) {
    }
    int value = 5;
    Select select;
    select.send(*a, value);
    std::vector<int> received;
    std::thread receiver([&] {
        std::this_thread::sleep_for(10ms);
        for (auto r = a->recv_for(1s); r; r = a->recv_for(50ms)) received.push_back(*r.value);
    });
    SelectResult r = select.wait();
    receiver.join();
    EXPECT_EQ(r.status, Status::ok);
    ASSERT_FALSE(received.empty());
    EXPECT_EQ(received.back(), 5);
}

TEST_P(SelectFlavors, CloseFiresRecvAndSendCasesWithClosed) {
    auto a = make(GetParam());
    std::optional<int> out;
    Select recv_select;
    recv_select.recv(*a, out);
    std::thread closer([&] {
        std::this_thread::sleep_for(10ms);
        a->close();
    });
    SelectResult r = recv_select.wait();
    closer.join();
    EXPECT_EQ(r.index, 0u);
    EXPECT_EQ(r.status, Status::closed);

    int value = 1;
    Select send_select;
    send_select.send(*a, value);
    EXPECT_EQ(send_select.try_select().status, Status::closed);
}

TEST(Select, ASelectDoesNotMatchItself) {
    // Go: a select that sends and receives on one unbuffered channel, with
    // no peer, blocks. It must neither fire nor spin forever.
    Channel<int> ch(0);
    std::optional<int> out;
    int value = 1;
    Select select;
    select.send(ch, value);
    select.recv(ch, out);
    EXPECT_EQ(select.wait_for(20ms).status, Status::timeout);
}

TEST(Select, TwoSelectsMeetOnARendezvous) {
    Channel<int> ch(0), idle(0);
    std::optional<int> out, unused;
    int value = 9;
    std::thread sender([&] {
        Select select;
        select.recv(idle, unused);
        std::size_t send_case = select.send(ch, value);
        EXPECT_EQ(select.wait().index, send_case);
    });
    Select select;
    select.recv(idle, unused);
    std::size_t recv_case = select.recv(ch, out);
    SelectResult r = select.wait();
    sender.join();
    EXPECT_EQ(r.index, recv_case);
    EXPECT_EQ(out, 9);
}

// Producers send every number once, each through a select over both
// channels (or a plain send); consumers take them through selects (or
// plain recvs). Every number must arrive exactly once.
TEST_P(SelectFlavors, EveryItemExactlyOnceUnderContention) {
    constexpr int kProducers = 3, kConsumers = 3, kPerProducer = 3000;
    auto a = make(GetParam()), b = make(0);
    std::vector<std::atomic<int>> seen(kProducers * kPerProducer);
    std::vector<std::thread> threads;
    for (int p = 0; p < kProducers; ++p) {
        threads.emplace_back([&, p] {
            for (int i = 0; i < kPerProducer; ++i) {
                int value = p * kPerProducer + i;
                if (p == 0 && i % 2 == 0) {
                    ASSERT_TRUE(a->send(value));
                    continue;
                }
                Select select;
                select.send(*a, value);
                select.send(*b, value);
                ASSERT_EQ(select.wait().status, Status::ok);
            }
        });
    }
    std::atomic<int> received{0};
    std::vector<std::thread> consumers;
    for (int c = 0; c < kConsumers; ++c) {
        consumers.emplace_back([&, c] {
            for (;;) {
                std::optional<int> from_a, from_b;
                if (c == 0) {  // one plain receiver beside the selects
                    auto r = a->recv_for(5ms);
                    if (r) {
                        seen[*r.value]++;
                        received++;
                        continue;
                    }
                    if (r.status == Status::closed) return;
                    continue;
                }
                Select select;
                std::size_t ia = select.recv(*a, from_a);
                select.recv(*b, from_b);
                SelectResult r = select.wait_for(5ms);
                if (r.status == Status::ok) {
                    seen[r.index == ia ? *from_a : *from_b]++;
                    received++;
                } else if (r.status == Status::closed) {
                    // One channel is closed and drained: finish on the other.
                    Channel<int>& other = r.index == ia ? *b : *a;
                    for (auto x = other.recv(); x; x = other.recv()) {
                        seen[*x]++;
                        received++;
                    }
                    return;
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    a->close();
    b->close();
    for (auto& t : consumers) t.join();
    EXPECT_EQ(received.load(), kProducers * kPerProducer);
    for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i].load(), 1) << "item " << i;
}

}  // namespace
}  // namespace fastchan::testing
