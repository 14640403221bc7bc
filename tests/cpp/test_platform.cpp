// Which platform code this build runs, and that code's basics: the parking
// primitive (futex or the parking table) and the LoopWaker's wake
// descriptor (cpp/src/loops/wake_fd.hpp, which needs no Python).
//
// FASTCHAN_EXPECT_PORTABLE=1 in the environment (tests/run_portable.sh) says
// the build must be a FASTCHAN_PORTABLE one: a stage meant to test the
// portable code cannot then silently test the Linux calls.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>

#include <fastchan/detail/futex.hpp>
#include <fastchan/detail/platform.hpp>

#include "loops/wake_fd.hpp"

#if !defined(_WIN32)
#include <poll.h>
#endif

namespace {

using namespace std::chrono_literals;
using fastchan::binding::WakeFd;
using fastchan::detail::Clock;

bool expect_portable() {
    const char* value = std::getenv("FASTCHAN_EXPECT_PORTABLE");
    return value != nullptr && std::string(value) == "1";
}

TEST(Platform, BuildRunsTheExpectedCode) {
#if defined(FASTCHAN_PORTABLE)
    constexpr bool portable = true;
#else
    constexpr bool portable = false;
#endif
    if (expect_portable()) {
        EXPECT_TRUE(portable) << "FASTCHAN_EXPECT_PORTABLE=1, but not built with FASTCHAN_PORTABLE";
    }
#if defined(__linux__)
    EXPECT_EQ(FASTCHAN_USE_LINUX_APIS, portable ? 0 : 1);
    EXPECT_EQ(std::string(fastchan::detail::kParkingKind), portable ? "parking table" : "futex");
    EXPECT_EQ(std::string(WakeFd::kind()), portable ? "pipe" : "eventfd");
#else
    EXPECT_EQ(FASTCHAN_USE_LINUX_APIS, 0);
    EXPECT_EQ(std::string(fastchan::detail::kParkingKind), "parking table");
#endif
}

TEST(Platform, ParkingTimesOutAndWakes) {
    std::atomic<std::uint32_t> word{0};
    // A changed word: no sleep.
    EXPECT_TRUE(fastchan::detail::futex_wait(word, 1, Clock::time_point::max()));
    // The deadline ends the sleep.
    auto start = Clock::now();
    while (Clock::now() - start < 20ms) fastchan::detail::futex_wait(word, 0, start + 20ms);
    // A wake-up ends it (spurious wake-ups aside: the loop re-checks).
    std::thread waker([&] {
        std::this_thread::sleep_for(10ms);
        word.store(1);
        fastchan::detail::futex_wake_all(word);
    });
    while (word.load() == 0) fastchan::detail::futex_wait(word, 0, Clock::time_point::max());
    waker.join();
    EXPECT_EQ(word.load(), 1u);
}

#if !defined(_WIN32)
bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

TEST(Platform, WakeFdSignalsAndDrains) {
    WakeFd fd;
    EXPECT_FALSE(readable(fd.fileno()));
    fd.signal();
    EXPECT_TRUE(readable(fd.fileno()));
    fd.signal();  // a burst: one drain takes it all
    fd.drain();
    EXPECT_FALSE(readable(fd.fileno()));
    fd.drain();  // nothing to read: returns at once (non-blocking)
    // From another thread.
    std::thread other([&] { fd.signal(); });
    other.join();
    EXPECT_TRUE(readable(fd.fileno()));
    fd.drain();
    EXPECT_FALSE(readable(fd.fileno()));
}

TEST(Platform, WakeFdNeverBlocksWhenFull) {
    WakeFd fd;
    // Far more than a pipe's buffer (64 KiB on Linux) holds: signal() must
    // return every time, and one drain empties it.
    for (int i = 0; i < 200000; ++i) fd.signal();
    EXPECT_TRUE(readable(fd.fileno()));
    fd.drain();
    EXPECT_FALSE(readable(fd.fileno()));
}
#endif

}  // namespace
