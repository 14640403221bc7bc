// put_back: a value a receiver gives back goes out again before anything
// else, on every flavor; and intents: a rendezvous sender that must not be
// completed while suspended.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include <fastchan/select.hpp>

#include "test_helpers.hpp"

namespace fastchan::testing {
namespace {

class PutBack : public ::testing::TestWithParam<std::size_t> {
protected:
    std::unique_ptr<Channel<int>> ch = make_channel<int>(GetParam());
    bool rendezvous() const { return GetParam() == 0; }
    bool holds_two() const { return GetParam() >= 2; }
};

TEST_P(PutBack, GoesOutFirstAndCounts) {
    if (rendezvous()) {
        ch->put_back(1);
    } else {
        ASSERT_EQ(ch->try_send(1), Status::ok);
        auto r = ch->try_recv();
        ASSERT_EQ(*r, 1);
        if (holds_two()) {
            ASSERT_EQ(ch->try_send(2), Status::ok);
        }
        ch->put_back(std::move(*r));
    }
    EXPECT_EQ(ch->size(), holds_two() ? 2u : 1u);
    EXPECT_EQ(*ch->try_recv(), 1);
    if (holds_two()) {
        EXPECT_EQ(*ch->try_recv(), 2);
    }
    EXPECT_EQ(ch->try_recv().status, Status::empty);
    EXPECT_EQ(ch->size(), 0u);
}

TEST_P(PutBack, NeverWaitsEvenWhenFull) {
    if (GetParam() == 1) {
        ASSERT_EQ(ch->try_send(2), Status::ok);
        int more = 3;
        ASSERT_EQ(ch->try_send(std::move(more)), Status::full);
    }
    ch->put_back(1);
    std::vector<int> got;
    for (auto r = ch->try_recv(); r; r = ch->try_recv()) got.push_back(*r);
    EXPECT_EQ(got, GetParam() == 1 ? (std::vector<int>{1, 2}) : (std::vector<int>{1}));
}

TEST_P(PutBack, WakesAWaitingReceiver) {
    std::optional<int> got;
    std::thread receiver([&] { got = ch->recv(); });
    std::this_thread::sleep_for(20ms);  // let it park (the test holds either way)
    ch->put_back(7);
    receiver.join();
    EXPECT_EQ(got, 7);
}

TEST_P(PutBack, ClosedChannelDrainsItFirst) {
    ch->close();
    ch->put_back(5);
    auto r = ch->try_recv();
    EXPECT_EQ(r.status, Status::ok);
    EXPECT_EQ(*r, 5);
    EXPECT_EQ(ch->try_recv().status, Status::closed);
}

TEST_P(PutBack, BatchesTakeItFirst) {
    std::vector<int> expected{1};
    for (int v : {2, 3}) {
        if (ch->try_send(int{v}) == Status::ok) expected.push_back(v);
    }
    ch->put_back(1);
    std::vector<int> out;
    ASSERT_EQ(ch->recv_many(out, 10, Clock::now()), Status::ok);
    EXPECT_EQ(out, expected);
}

TEST_P(PutBack, SelectSeesItReady) {
    ch->put_back(4);
    std::optional<int> got;
    Select select;
    select.recv(*ch, got);
    SelectResult r = select.try_select();
    EXPECT_EQ(r.status, Status::ok);
    EXPECT_EQ(got, 4);
}

INSTANTIATE_TEST_SUITE_P(Flavors, PutBack, ::testing::Values(0, 1, 8, kUnbounded),
                         [](const auto& info) { return flavor_name(info.param); });

// A Select whose owner is not a sleeping thread (an event loop): its wake-up
// goes to `forward`, and with offer_values=false its rendezvous send cases
// park intents.
struct IntentSender {
    explicit IntentSender(Channel<int>& ch, int value) : value(value) { select.send(ch, this->value); }
    int value;
    Waiter forward;
    Select select;
};

TEST(Intent, TryRecvWakesItInsteadOfTakingTheValue) {
    Channel<int> ch(0);
    IntentSender sender(ch, 9);
    ASSERT_EQ(sender.select.try_select().status, Status::empty);
    ASSERT_TRUE(sender.select.enlist(&sender.forward, /*offer_values=*/false));
    EXPECT_EQ(ch.try_recv().status, Status::empty);  // suspended: its send must not complete
    EXPECT_TRUE(sender.forward.notified());          // ...but it is told a receiver came
    EXPECT_EQ(sender.select.finish(), std::nullopt);  // no receiver waits any more
    EXPECT_EQ(sender.value, 9);                       // still ours
}

TEST(Intent, CompletesWhenItsOwnerRunsAgainstAWaitingReceiver) {
    Channel<int> ch(0);
    IntentSender sender(ch, 9);
    ASSERT_TRUE(sender.select.enlist(&sender.forward, false));
    std::optional<int> got;
    std::thread receiver([&] { got = ch.recv(); });
    while (!sender.forward.notified()) std::this_thread::yield();  // the receiver woke it
    // The owner runs: the woken case is attempted, now against the parked receiver.
    std::optional<SelectResult> r = sender.select.finish();
    while (!r) {  // (the receiver may not have parked yet)
        SelectResult again = sender.select.try_select();
        if (again.status == Status::ok) r = again;
    }
    receiver.join();
    EXPECT_EQ(r->status, Status::ok);
    EXPECT_EQ(got, 9);
}

TEST(Intent, SelectReceiverWakesIntentsAndWaits) {
    Channel<int> ch(0);
    IntentSender sender(ch, 3);
    ASSERT_TRUE(sender.select.enlist(&sender.forward, false));
    std::optional<int> got;
    Select receiver;
    receiver.recv(ch, got);
    Waiter receiver_forward;
    // Enlisting a receiver wakes the intent and registers (no value is ready).
    ASSERT_TRUE(receiver.enlist(&receiver_forward));
    EXPECT_TRUE(sender.forward.notified());
    std::optional<SelectResult> sent = sender.select.finish();  // the sender's owner runs
    ASSERT_TRUE(sent);
    EXPECT_EQ(sent->status, Status::ok);
    EXPECT_TRUE(receiver_forward.notified());
    std::optional<SelectResult> received = receiver.finish();
    ASSERT_TRUE(received);
    EXPECT_EQ(got, 3);
}

TEST(Intent, OfferedValuesStillCompleteWhileWaiting) {
    Channel<int> ch(0);
    IntentSender sender(ch, 5);
    ASSERT_TRUE(sender.select.enlist(&sender.forward, /*offer_values=*/true));
    auto r = ch.try_recv();
    ASSERT_EQ(r.status, Status::ok);
    EXPECT_EQ(*r, 5);
    std::optional<SelectResult> fired = sender.select.finish();
    ASSERT_TRUE(fired);
    EXPECT_EQ(fired->status, Status::ok);
}

}  // namespace
}  // namespace fastchan::testing
