// detail::Contention tells an oversubscribed machine from a quiet one by
// timing yields: another program taking this core makes it busy; this
// process's own threads taking it do not.
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include <gtest/gtest.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fastchan/detail/contention.hpp>

extern char** environ;

namespace fastchan::testing {
namespace {

using detail::Contention;
using namespace std::chrono_literals;

// Pins the calling thread to one CPU for the scope; restores its mask after.
class PinnedHere {
public:
    PinnedHere() {
        CPU_ZERO(&saved_);
        sched_getaffinity(0, sizeof saved_, &saved_);
        cpu_ = sched_getcpu();
        pin_to(cpu_);
    }
    ~PinnedHere() { sched_setaffinity(0, sizeof saved_, &saved_); }
    int cpu() const { return cpu_; }

    static void pin_to(int cpu) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        sched_setaffinity(0, sizeof one, &one);
    }

private:
    cpu_set_t saved_;
    int cpu_;
};

// Waits out a verdict an earlier test (or the machine) left behind.
void wait_until_quiet() {
    auto give_up = std::chrono::steady_clock::now() + 2s;
    while (Contention::busy() && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_FALSE(Contention::busy());
}

TEST(Contention, AnotherProgramOnThisCoreMakesItBusy) {
    wait_until_quiet();
    PinnedHere pinned;
    // Another program: a shell's busy loop, pinned to our core. (Spawned,
    // not forked: ThreadSanitizer does not support fork in a threaded process.)
    char sh[] = "sh", dash_c[] = "-c", loop[] = "while :; do :; done";
    char* argv[] = {sh, dash_c, loop, nullptr};
    pid_t hog = 0;
    ASSERT_EQ(posix_spawnp(&hog, "sh", nullptr, nullptr, argv, environ), 0);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(pinned.cpu(), &one);
    ASSERT_EQ(sched_setaffinity(hog, sizeof one, &one), 0);
    std::this_thread::sleep_for(20ms);  // (spinning by now)
    bool busy = false;
    for (int i = 0; i < 200 && !busy; ++i) {
        Contention::yield();
        busy = Contention::busy();
    }
    kill(hog, SIGKILL);
    waitpid(hog, nullptr, 0);
    EXPECT_TRUE(busy);
}

// One try: a sibling thread of ours busy on our core while we yield 50
// times. Returns whether a verdict came; counts the long yields.
bool own_sibling_makes_a_verdict(int& long_yields) {
    wait_until_quiet();
    PinnedHere pinned;
    std::atomic<bool> stop{false};
    std::atomic<bool> started{false};
    std::thread sibling([&] {  // one of ours, wanting the same core
        PinnedHere::pin_to(pinned.cpu());
        started = true;
        while (!stop.load(std::memory_order_relaxed)) {
        }
    });
    while (!started) std::this_thread::yield();
    long_yields = 0;
    bool busy = false;
    for (int i = 0; i < 50 && !busy; ++i) {
        auto start = std::chrono::steady_clock::now();
        Contention::yield();
        long_yields += std::chrono::steady_clock::now() - start >= Contention::kLongYield;
        busy = Contention::busy();
    }
    stop = true;
    sibling.join();
    return busy;
}

TEST(Contention, ThisProcesssOwnThreadsDoNotMakeItBusy) {
    // Another program may really take our core meanwhile (a shared machine:
    // CI's own processes, the kernel's workers), which is a right verdict:
    // so up to five tries, and our own sibling must leave at least one
    // without a verdict. Were own threads counted, every try would end busy.
    int long_yields = 0;
    bool busy = true;
    for (int attempt = 0; attempt < 5 && busy; ++attempt) {
        busy = own_sibling_makes_a_verdict(long_yields);
    }
    EXPECT_GT(long_yields, 1);  // (the sibling did take the core)
    EXPECT_FALSE(busy);
}

}  // namespace
}  // namespace fastchan::testing
