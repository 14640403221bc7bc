// Capacities at the edges of size_t, and the wait loop's bookkeeping when
// the operation it retries throws.
#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <stdexcept>
#include <thread>

#include "test_helpers.hpp"

namespace fastchan::testing {
namespace {

constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();

TEST(Capacity, HugeBoundsWorkWithoutPreallocating) {
    // Each of these used to spin forever (the ring's next power of two
    // overflowed) or commit gigabytes: above kMaxRingCapacity a bounded
    // channel is a list that grows with the items it holds.
    for (std::size_t capacity : {Channel<int>::kMaxRingCapacity + 1, std::size_t{1000000000},
                                 std::size_t{1} << 63, kMax - 2, kMax - 1}) {
        Channel<int> ch(capacity);
        EXPECT_EQ(ch.capacity(), capacity);
        for (int i = 0; i < 3; ++i) ASSERT_EQ(ch.try_send(int{i}), Status::ok);
        EXPECT_EQ(ch.size(), 3u);
        EXPECT_EQ(*ch.try_recv(), 0);
    }
    Channel<int> unbounded_by_size(kMax);
    EXPECT_EQ(unbounded_by_size.capacity(), kMax);
}

TEST(Capacity, RingUpToItsLimitStillBounds) {
    Channel<int> ch(Channel<int>::kMaxRingCapacity);
    for (std::size_t i = 0; i < Channel<int>::kMaxRingCapacity; ++i) ASSERT_EQ(ch.try_send(1), Status::ok);
    EXPECT_EQ(ch.try_send(1), Status::full);
}

TEST(Capacity, ArrayBufferRefusesWhatItCannotStamp) {
    using Ring = flavors::ArrayBuffer<int>;
    EXPECT_THROW(Ring{0}, std::invalid_argument);
    EXPECT_THROW(Ring{kMax / 4 + 1}, std::length_error);
    EXPECT_THROW(Ring{kMax}, std::length_error);
}

// The wait loop with an operation that throws: whatever call throws, the
// waiter on its stack is off the list afterwards, and a wake-up it held
// goes to the next waiter.
struct Boom {};

// ThreadWait without the spin phase, so the calls of op are counted exactly:
// 1 the first try, 2 the re-check after registering, 3 the retry after waking.
struct NoSpin : ThreadWait {
    static constexpr bool spin_first = false;
};

TEST(WaitLoop, ThrowingRecheckLeavesNoWaiterLinked) {
    WaitList list;
    int calls = 0;
    auto op = [&] {
        if (++calls == 2) throw Boom{};  // the re-check right after registering
        return Status::empty;
    };
    NoSpin policy;
    EXPECT_THROW(detail::wait_until(list, op, detail::kNoDeadline, policy), Boom);
    EXPECT_FALSE(list.has_waiters());
    EXPECT_FALSE(list.notify_one());  // (under ASan: no dangling waiter is touched)
}

TEST(WaitLoop, ThrowingRetryPassesTheWakeUpOn) {
    WaitList list;
    std::atomic<int> calls{0};
    std::atomic<bool> second_woken{false};
    auto op = [&] {
        int n = ++calls;
        if (n == 3) throw Boom{};  // the retry after the wake-up
        return Status::empty;
    };
    std::thread first([&] {
        NoSpin policy;
        EXPECT_THROW(detail::wait_until(list, op, detail::kNoDeadline, policy), Boom);
    });
    while (calls.load() < 2 || !list.has_waiters()) std::this_thread::yield();
    // A second waiter queues behind the first.
    Waiter second;
    list.push(second);
    std::thread waker([&] { list.notify_one(); });  // wakes the first, whose retry throws
    waker.join();
    first.join();
    // The first never used its wake-up: the second got it.
    second_woken = second.park_until(Clock::now() + 5s);
    EXPECT_TRUE(second_woken.load());
    list.remove(second);
}

}  // namespace
}  // namespace fastchan::testing
