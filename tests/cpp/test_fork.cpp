// After fork() the child's channels forget the waiters of the parent's
// threads (which do not exist in the child): a wake-up must reach a waiter
// of the child instead of a dead one.
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fastchan/channel.hpp>
#include <fastchan/thread_pool.hpp>

#include "test_helpers.hpp"

namespace fastchan::testing {
namespace {

// Runs `child` in a forked child; its return value is the exit status.
template <class F>
int in_child(F&& child) {
    pid_t pid = fork();
    if (pid == 0) _exit(child());
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

TEST(Fork, ChildWakesItsOwnWaitersNotTheParents) {
    for (std::size_t capacity : {std::size_t(0), std::size_t(4), kUnbounded}) {
        auto ch = make_channel<int>(capacity);
        // A parent thread parked in recv: registered on the wait list at fork time.
        std::thread parked([&] { ch->recv(); });
        std::this_thread::sleep_for(50ms);
        int status = in_child([&] {
            alarm(10);  // a lost wake-up would hang: fail by SIGALRM instead
            std::atomic<int> got{-1};
            std::thread receiver([&] { got = ch->recv().value_or(-2); });
            std::this_thread::sleep_for(50ms);  // let it park
            ch->send(7);
            receiver.join();
            return got.load() == 7 ? 0 : 1;
        });
        EXPECT_EQ(status, 0) << flavor_name(capacity);
        ch->send(1);
        parked.join();
    }
}

TEST(Fork, ChildCanRunANewPool) {
    ThreadPool parent_pool(2);
    parent_pool.submit([] {}).get();
    int status = in_child([] {
        alarm(10);
        ThreadPool pool(2);
        return pool.submit([] { return 5; }).get() == 5 ? 0 : 1;
    });
    EXPECT_EQ(status, 0);
}

}  // namespace
}  // namespace fastchan::testing
