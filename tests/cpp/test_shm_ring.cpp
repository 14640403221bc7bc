// The shared-memory ring (fastchan/shm/ring.hpp): records in and out,
// bounds, shutdown, threads; then fork()ed processes, including ones that
// SIGKILL themselves halfway through a copy while holding the lock (suite
// Fork: ThreadSanitizer, which cannot follow a fork, skips them).
#include <fastchan/shm/ring.hpp>

#if FASTCHAN_HAS_SHM

#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/wait.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "test_helpers.hpp"

namespace {

using fastchan::Status;
using fastchan::shm::Ring;
using namespace std::chrono_literals;

// A record that says whether it is whole: [u32 id][u32 len][payload of id's byte].
std::string make_item(std::uint32_t id, std::size_t len) {
    std::string s(8 + len, static_cast<char>(id & 0xff));
    std::uint32_t n = static_cast<std::uint32_t>(len);
    std::memcpy(s.data(), &id, 4);
    std::memcpy(s.data() + 4, &n, 4);
    return s;
}

// The id, or -1 if the record is torn.
long check_item(const std::string& s) {
    if (s.size() < 8) return -1;
    std::uint32_t id, n;
    std::memcpy(&id, s.data(), 4);
    std::memcpy(&n, s.data() + 4, 4);
    if (s.size() != 8 + n) return -1;
    for (std::size_t i = 8; i < s.size(); ++i)
        if (s[i] != static_cast<char>(id & 0xff)) return -1;
    return id;
}

struct StringAlloc {
    std::string* out;
    void* operator()(std::size_t n) const {
        out->resize(n);
        return out->data();
    }
};

Status get_string(Ring& r, std::string& out, fastchan::detail::Clock::time_point deadline = fastchan::detail::kNoDeadline) {
    return r.get(StringAlloc{&out}, deadline);
}

Status put_string(Ring& r, const std::string& s) { return r.put(s.data(), s.size()); }

std::size_t shm_entries() {
    std::size_t n = 0;
    if (DIR* d = opendir("/dev/shm")) {
        while (dirent* e = readdir(d))
            if (std::strncmp(e->d_name, "fastchan-", 9) == 0) ++n;
        closedir(d);
    }
    return n;
}

bool name_exists(const std::string& name) {
    std::string path = "/dev/shm" + name;
    return access(path.c_str(), F_OK) == 0;
}

TEST(ShmRing, RecordsComeOutWholeAndInOrderAcrossTheWrap) {
    Ring r = Ring::create(256, 0);
    std::string out;
    for (std::uint32_t i = 0; i < 500; ++i) {
        std::string item = make_item(i, (i * 7) % 90);
        ASSERT_EQ(r.try_put(item.data(), item.size()), Status::ok);
        ASSERT_EQ(r.try_get(StringAlloc{&out}), Status::ok);
        ASSERT_EQ(check_item(out), static_cast<long>(i));
    }
    EXPECT_EQ(r.try_get(StringAlloc{&out}), Status::empty);
    std::string empty_item;
    ASSERT_EQ(r.try_put(empty_item.data(), 0), Status::ok);  // an empty record is a record
    ASSERT_EQ(r.try_get(StringAlloc{&out}), Status::ok);
    EXPECT_EQ(out, "");
}

TEST(ShmRing, BoundedByCountAndByBytes) {
    Ring counted = Ring::create(4096, 3);
    std::string item = make_item(1, 10);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(counted.try_put(item.data(), item.size()), Status::ok);
    EXPECT_TRUE(counted.full());
    EXPECT_EQ(counted.try_put(item.data(), item.size()), Status::full);
    EXPECT_EQ(counted.qsize(), 3u);

    Ring bytes = Ring::create(64, 0);  // a 20-byte item takes 8 + 24 bytes: two fit
    std::string twenty(20, 'x');
    EXPECT_EQ(bytes.try_put(twenty.data(), 20), Status::ok);
    EXPECT_EQ(bytes.try_put(twenty.data(), 20), Status::ok);
    EXPECT_EQ(bytes.try_put(twenty.data(), 20), Status::full);
    std::string big(57, 'x');
    EXPECT_THROW(bytes.try_put(big.data(), big.size()), std::length_error);
    EXPECT_EQ(bytes.max_item_bytes(), 56u);
}

TEST(ShmRing, TimeoutWhenNothingComes) {
    Ring r = Ring::create(1024, 1);
    std::string out;
    EXPECT_EQ(get_string(r, out, fastchan::detail::Clock::now() + 20ms), Status::timeout);
    std::string item = make_item(1, 1);
    ASSERT_EQ(put_string(r, item), Status::ok);
    EXPECT_EQ(r.put(item.data(), item.size(), fastchan::detail::Clock::now() + 20ms), Status::timeout);
}

TEST(ShmRing, ShutdownDrainsThenCloses) {
    Ring r = Ring::create(1024, 0);
    std::string item = make_item(1, 3), out;
    ASSERT_EQ(put_string(r, item), Status::ok);
    EXPECT_EQ(r.shutdown(false), 0u);
    EXPECT_EQ(put_string(r, item), Status::closed);
    EXPECT_EQ(get_string(r, out), Status::ok);
    EXPECT_EQ(get_string(r, out), Status::closed);

    Ring s = Ring::create(1024, 0);
    ASSERT_EQ(put_string(s, item), Status::ok);
    ASSERT_EQ(put_string(s, item), Status::ok);
    EXPECT_EQ(s.shutdown(true), 2u);
    EXPECT_EQ(get_string(s, out), Status::closed);
}

TEST(ShmRing, ShutdownWakesBlockedWaiters) {
    Ring r = Ring::create(1024, 0);
    std::atomic<int> closed{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i)
        threads.emplace_back([&] {
            std::string out;
            if (get_string(r, out) == Status::closed) ++closed;
        });
    std::this_thread::sleep_for(20ms);
    r.shutdown(false);
    for (auto& t : threads) t.join();
    EXPECT_EQ(closed.load(), 3);
}

// A watcher's wait (ProcessQueue.async_q): counted as a waiter while it
// parks, woken by a commit's notifier, ended early by kick(), bounded by
// its deadline.
TEST(ShmRing, WatchWakesOnACommitAndCountsAsAWaiter) {
    Ring r = Ring::create(1024, 0);
    fastchan::ThreadWait plain;
    std::uint32_t seen = r.seq(false);
    std::atomic<bool> moved{false};
    std::thread watcher([&] { moved = r.watch(false, seen, r.kicks(), fastchan::detail::kNoDeadline, plain); });
    for (int i = 0; i < 1000 && r.stats().get_waiters == 0; ++i) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(r.stats().get_waiters, 1u);
    std::string item = make_item(1, 10);
    ASSERT_EQ(r.try_put(item.data(), item.size()), Status::ok);
    watcher.join();
    EXPECT_TRUE(moved.load());
    EXPECT_NE(r.seq(false), seen);
    EXPECT_EQ(r.stats().get_waiters, 0u);
    // The space word moves with a get, not with a put.
    std::uint32_t space = r.seq(true);
    std::string out;
    ASSERT_EQ(r.try_get(StringAlloc{&out}), Status::ok);
    EXPECT_NE(r.seq(true), space);
}

TEST(ShmRing, KickEndsAWatchAndTheDeadlineBoundsIt) {
    Ring r = Ring::create(1024, 0);
    fastchan::ThreadWait plain;
    std::atomic<int> result{-1};
    std::thread watcher([&] {
        result = r.watch(true, r.seq(true), r.kicks(), fastchan::detail::kNoDeadline, plain) ? 1 : 0;
    });
    for (int i = 0; i < 1000 && r.stats().put_waiters == 0; ++i) std::this_thread::sleep_for(1ms);
    r.kick(true);
    watcher.join();
    EXPECT_EQ(result.load(), 0);  // ended, the word did not move
    EXPECT_EQ(r.stats().put_waiters, 0u);
    // A kick before the park (after the kicks were read) is not lost.
    std::uint32_t kicks = r.kicks();
    r.kick(false);
    EXPECT_FALSE(r.watch(false, r.seq(false), kicks, fastchan::detail::kNoDeadline, plain));
    // Nothing moves: the deadline ends it.
    auto start = fastchan::detail::Clock::now();
    EXPECT_FALSE(r.watch(false, r.seq(false), r.kicks(), start + 30ms, plain));
    EXPECT_GE(fastchan::detail::Clock::now() - start, 30ms);
    // Shutdown moves both words.
    std::uint32_t items = r.seq(false), space = r.seq(true);
    r.shutdown(false);
    EXPECT_NE(r.seq(false), items);
    EXPECT_NE(r.seq(true), space);
}

TEST(ShmRing, ThreadsExactlyOnce) {
    constexpr int kProducers = 3, kConsumers = 3;
    const int per = 20000 / fastchan::testing::kScale;
    Ring r = Ring::create(2048, 16);
    std::vector<std::atomic<int>> seen(kProducers * per);
    std::atomic<int> torn{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < kProducers; ++p)
        threads.emplace_back([&, p] {
            for (int i = 0; i < per; ++i) {
                std::string item = make_item(static_cast<std::uint32_t>(p * per + i), static_cast<std::size_t>(i % 100));
                ASSERT_EQ(put_string(r, item), Status::ok);
            }
        });
    for (int c = 0; c < kConsumers; ++c)
        threads.emplace_back([&] {
            std::string out;
            while (get_string(r, out) == Status::ok) {
                long id = check_item(out);
                if (id < 0) ++torn;
                else seen[static_cast<std::size_t>(id)].fetch_add(1);
            }
        });
    for (int p = 0; p < kProducers; ++p) threads[static_cast<std::size_t>(p)].join();
    r.shutdown(false);
    for (auto& t : threads)
        if (t.joinable()) t.join();
    EXPECT_EQ(torn.load(), 0);
    for (auto& s : seen) ASSERT_EQ(s.load(), 1);
}

TEST(ShmRing, SegmentRemovedWhenTheLastAttachmentGoes) {
    std::string name;
    {
        Ring a = Ring::create(1024, 0);
        name = a.name();
        EXPECT_TRUE(name_exists(name));
        {
            Ring b = Ring::attach(name);
            EXPECT_EQ(b.stats().attached, 2u);
        }
        EXPECT_TRUE(name_exists(name));
    }
    EXPECT_FALSE(name_exists(name));
    EXPECT_THROW(Ring::attach(name), std::system_error);
    EXPECT_THROW(Ring::attach("/not-ours"), std::invalid_argument);
}

// ---- processes ----

int wait_child(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

TEST(Fork, ExactlyOnceAcrossProcesses) {
    std::size_t before = shm_entries();
    {
        constexpr int kChildren = 3, per = 5000;
        Ring r = Ring::create(4096, 32);
        std::vector<pid_t> kids;
        for (int c = 0; c < kChildren; ++c) {
            pid_t pid = fork();
            if (pid == 0) {
                for (int i = 0; i < per; ++i) {
                    std::string item = make_item(static_cast<std::uint32_t>(c * per + i), static_cast<std::size_t>(i % 200));
                    if (put_string(r, item) != Status::ok) _exit(2);
                }
                r.detach();
                _exit(0);
            }
            kids.push_back(pid);
        }
        std::vector<int> seen(kChildren * per);
        std::string out;
        for (int n = 0; n < kChildren * per; ++n) {
            ASSERT_EQ(get_string(r, out, fastchan::detail::Clock::now() + 30s), Status::ok);
            long id = check_item(out);
            ASSERT_GE(id, 0);
            ++seen[static_cast<std::size_t>(id)];
        }
        for (pid_t k : kids) EXPECT_EQ(wait_child(k), 0);
        for (int s : seen) ASSERT_EQ(s, 1);
        EXPECT_EQ(r.stats().items_lost, 0u);
    }
    EXPECT_EQ(shm_entries(), before);
}

TEST(Fork, ProducerKilledMidPutLosesOnlyItsItem) {
    Ring r = Ring::create(4096, 0);
    std::string first = make_item(1, 100), third = make_item(3, 100), out;
    ASSERT_EQ(put_string(r, first), Status::ok);
    pid_t pid = fork();
    if (pid == 0) {
        r.fault.store(static_cast<int>(fastchan::shm::Fault::die_mid_put));
        std::string item = make_item(2, 1000);
        put_string(r, item);
        _exit(1);  // not reached
    }
    int status = wait_child(pid);
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
    ASSERT_EQ(put_string(r, third), Status::ok);  // the lock is usable again
    ASSERT_EQ(get_string(r, out), Status::ok);
    EXPECT_EQ(check_item(out), 1);
    ASSERT_EQ(get_string(r, out), Status::ok);
    EXPECT_EQ(check_item(out), 3);  // the half-written item never shows
    EXPECT_EQ(r.try_get(StringAlloc{&out}), Status::empty);
    auto st = r.stats();
    EXPECT_EQ(st.items_lost, 1u);
    EXPECT_EQ(st.owner_deaths, 1u);
}

TEST(Fork, ConsumerKilledMidGetLeavesTheItem) {
    Ring r = Ring::create(4096, 0);
    std::string item = make_item(7, 300), out;
    ASSERT_EQ(put_string(r, item), Status::ok);
    pid_t pid = fork();
    if (pid == 0) {
        r.fault.store(static_cast<int>(fastchan::shm::Fault::die_mid_get));
        std::string got;
        get_string(r, got);
        _exit(1);
    }
    int status = wait_child(pid);
    ASSERT_TRUE(WIFSIGNALED(status));
    ASSERT_EQ(get_string(r, out, fastchan::detail::Clock::now() + 5s), Status::ok);
    EXPECT_EQ(check_item(out), 7);
    auto st = r.stats();
    EXPECT_EQ(st.items_lost, 0u);
    EXPECT_EQ(st.owner_deaths, 1u);
}

TEST(Fork, BlockedConsumerSurvivesAProducerKilledHoldingTheLock) {
    Ring r = Ring::create(4096, 0);
    pid_t consumer = fork();
    if (consumer == 0) {
        std::string out;
        // Waits through the death below; then takes the good item.
        if (get_string(r, out, fastchan::detail::Clock::now() + 30s) != Status::ok) _exit(2);
        _exit(check_item(out) == 9 ? 0 : 3);
    }
    std::this_thread::sleep_for(30ms);
    pid_t producer = fork();
    if (producer == 0) {
        r.fault.store(static_cast<int>(fastchan::shm::Fault::die_mid_put));
        std::string item = make_item(8, 500);
        put_string(r, item);
        _exit(1);
    }
    ASSERT_TRUE(WIFSIGNALED(wait_child(producer)));
    std::string good = make_item(9, 500);
    ASSERT_EQ(put_string(r, good), Status::ok);
    int status = wait_child(consumer);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(r.stats().items_lost, 1u);
}

TEST(Fork, SegmentRemovedWhenEveryOtherUserWasKilled) {
    std::size_t before = shm_entries();
    std::string name;
    {
        Ring r = Ring::create(1024, 0);
        name = r.name();
        std::vector<pid_t> kids;
        for (int c = 0; c < 3; ++c) {
            pid_t pid = fork();
            if (pid == 0) {
                Ring mine = Ring::attach(name);  // a slot of its own, by name
                std::string item = make_item(static_cast<std::uint32_t>(c), 1);
                put_string(mine, item);
                for (;;) pause();
            }
            kids.push_back(pid);
        }
        std::string out;
        for (int c = 0; c < 3; ++c) ASSERT_EQ(get_string(r, out, fastchan::detail::Clock::now() + 10s), Status::ok);
        EXPECT_EQ(r.stats().attached, 4u);
        for (pid_t k : kids) {
            kill(k, SIGKILL);
            wait_child(k);
        }
        EXPECT_EQ(r.stats().attached, 1u);
        EXPECT_TRUE(name_exists(name));
    }
    EXPECT_FALSE(name_exists(name));
    EXPECT_EQ(shm_entries(), before);
}

TEST(Fork, AWaiterKilledWhileWaitingIsTakenOffTheCount) {
    Ring r = Ring::create(1024, 0);
    pid_t pid = fork();
    if (pid == 0) {
        std::string out;
        get_string(r, out, fastchan::detail::Clock::now() + 30s);
        _exit(1);
    }
    for (int i = 0; i < 1000 && r.stats().get_waiters == 0; ++i) std::this_thread::sleep_for(5ms);
    EXPECT_EQ(r.stats().get_waiters, 1u);
    kill(pid, SIGKILL);
    wait_child(pid);
    auto st = r.stats();  // (reclaims the dead attachment, and its waiter)
    EXPECT_EQ(st.get_waiters, 0u);
    EXPECT_EQ(st.dead_slots, 1u);
    EXPECT_EQ(st.attached, 1u);
}

// A wait policy that asks to stop at its second question.
struct StopSoon : fastchan::ThreadWait {
    int asked = 0;
    bool interrupted() noexcept { return ++asked >= 2; }
};

TEST(Fork, AStoppedHolderHoldsOthersOnlyUntilTheirDeadlineOrInterruption) {
    Ring r = Ring::create(4096, 0);
    pid_t pid = fork();
    if (pid == 0) {
        r.fault.store(static_cast<int>(fastchan::shm::Fault::stop_mid_put));
        std::string item = make_item(1, 100);
        put_string(r, item);
        _exit(1);
    }
    int status = 0;
    waitpid(pid, &status, WUNTRACED);  // it stopped, holding the lock
    ASSERT_TRUE(WIFSTOPPED(status));
    std::string item = make_item(2, 10), out;
    EXPECT_EQ(r.try_put(item.data(), item.size(), fastchan::ThreadWait{}, fastchan::detail::Clock::now() + 60ms),
              Status::timeout);
    EXPECT_EQ(get_string(r, out, fastchan::detail::Clock::now() + 60ms), Status::timeout);
    StopSoon stop;
    EXPECT_EQ(r.get(StringAlloc{&out}, fastchan::detail::kNoDeadline, stop), Status::interrupted);
    kill(pid, SIGKILL);
    wait_child(pid);
    ASSERT_EQ(put_string(r, item), Status::ok);
    ASSERT_EQ(get_string(r, out), Status::ok);
    EXPECT_EQ(check_item(out), 2);
    EXPECT_EQ(r.stats().items_lost, 1u);
}

TEST(Fork, ChildUsesTheInheritedMappingUnderItsOwnSlot) {
    Ring r = Ring::create(1024, 0);
    pid_t pid = fork();
    if (pid == 0) {
        std::string item = make_item(5, 5);
        bool ok = put_string(r, item) == Status::ok && r.stats().attached == 2;
        r.detach();  // the child's slot only: the parent's stays
        _exit(ok ? 0 : 1);
    }
    int status = wait_child(pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_TRUE(name_exists(r.name()));
    std::string out;
    ASSERT_EQ(get_string(r, out), Status::ok);
    EXPECT_EQ(check_item(out), 5);
}

}  // namespace

#endif  // FASTCHAN_HAS_SHM
