// A bounded ring of variable-length byte records in shared memory, for
// several processes (and threads) at once: fastchan.ProcessQueue's core.
//
// Why a lock and not a lock-free commit: the promise is robustness against a
// SIGKILL at any instruction. A robust process-shared mutex gives that for
// free where it matters: the kernel hands the lock to the next taker with
// EOWNERDEAD, and since every change a holder makes becomes visible through a
// single store (Header::active flips between two copies of the indices), the
// ring is always at its last commit: nothing to repair, never a torn record.
// The sections are short (an index update and one memcpy), and nobody sleeps
// holding the lock: waits are on futex words outside it (shared futexes,
// sequence numbers, a spin then a park in bounded slices, so a waker that
// died between its commit and its wake-up delays a waiter by one slice at
// most). See docs/process_queue.md.
#pragma once

#include "segment.hpp"

#if FASTCHAN_HAS_SHM
#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>

#include "../detail/fork.hpp"
#include "../detail/spin.hpp"
#include "../status.hpp"
#include "../wait_policy.hpp"

namespace fastchan::shm {

using detail::Clock;

// Futex calls on a word other processes map too: no FUTEX_PRIVATE_FLAG.
// False if a signal handler ran while it slept (EINTR).
inline bool futex_wait_shared(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                              Clock::time_point deadline) noexcept {
    auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return true;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(ns / 1000000000);
    ts.tv_nsec = static_cast<long>(ns % 1000000000);
    long r = ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, expected, &ts,
                       nullptr, 0);
    return !(r == -1 && errno == EINTR);
}

inline void futex_wake_shared(std::atomic<std::uint32_t>& word) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

// Test aid: make this process SIGKILL itself halfway through copying its
// next record in (put) or out (get), holding the lock.
// stop_mid_put: SIGSTOP itself there instead (a holder that does not die
// but does not go on either).
enum class Fault : int { none = 0, die_mid_put = 1, die_mid_get = 2, stop_mid_put = 3 };

struct Stats {
    std::uint64_t items_lost;    // puts whose process died before the item was committed
    std::uint64_t owner_deaths;  // processes that died holding the ring's lock
    std::uint64_t dead_slots;    // attachments of dead processes reclaimed
    std::size_t attached;        // live attachments now
    std::uint32_t get_waiters;   // threads waiting to get, in every process
    std::uint32_t put_waiters;   // threads waiting to put
};

class Ring {
public:
    // The longest one park lasts before the waiter looks again (a waker that
    // died after its commit but before its futex wake cannot strand it).
    static constexpr auto kParkSlice = std::chrono::milliseconds(50);

    static Ring create(std::uint64_t capacity, std::uint64_t maxsize, ItemType type = ItemType::pickle) {
        return Ring(Segment::create(capacity, maxsize, type));
    }
    static Ring attach(const std::string& name) { return Ring(Segment::attach(name)); }

    const std::string& name() const noexcept { return seg_.name(); }
    std::uint64_t capacity() const noexcept { return h_->capacity; }
    std::uint64_t maxsize() const noexcept { return h_->maxsize; }
    // What the records hold (fixed by the creator; see ItemType).
    ItemType item_type() const noexcept { return static_cast<ItemType>(h_->item_type); }
    // The largest item the ring takes (a record's length word and padding
    // count against the capacity).
    std::uint64_t max_item_bytes() const noexcept { return h_->capacity - kRecordHeader; }

    // Snapshots, without the lock (another process may change them at once).
    std::size_t qsize() const noexcept { return static_cast<std::size_t>(current().count.load(std::memory_order_relaxed)); }
    bool empty() const noexcept { return qsize() == 0; }
    bool full() const noexcept {
        const Indices& x = current();
        std::uint64_t count = x.count.load(std::memory_order_relaxed);
        std::uint64_t used = x.tail.load(std::memory_order_relaxed) - x.head.load(std::memory_order_relaxed);
        return (h_->maxsize != 0 && count >= h_->maxsize) || h_->capacity - used < kRecordHeader + 8;
    }
    bool is_shutdown() const noexcept { return h_->shut.load(std::memory_order_acquire) != 0; }

    Stats stats() {
        std::size_t attached = seg_.attached_count();  // (first: it reclaims the dead's slots)
        return Stats{h_->items_lost.load(std::memory_order_relaxed), h_->owner_deaths.load(std::memory_order_relaxed),
                     h_->dead_slots.load(std::memory_order_relaxed), attached,
                     h_->get_waiters.load(std::memory_order_relaxed), h_->put_waiters.load(std::memory_order_relaxed)};
    }

    // ---- put ----

    // ok, full, or closed (after shutdown); interrupted if the policy said
    // so while the lock was held up (see acquire). An item larger than
    // max_item_bytes() is std::length_error (it could never fit).
    template <class Policy = ThreadWait>
    Status try_put(const void* data, std::size_t n, Policy&& policy = Policy{},
                   Clock::time_point deadline = detail::kNoDeadline) {
        check_size(n);
        Guard g(*this, policy, deadline);
        if (!g.held()) return g.status;
        Status s = put_locked(data, n);
        g.unlock();
        if (s == Status::ok) notify(h_->items_seq, h_->get_waiters);
        return s;
    }

    // Waits for room until `deadline`: ok, closed, timeout or interrupted.
    template <class Policy = ThreadWait>
    Status put(const void* data, std::size_t n, Clock::time_point deadline = detail::kNoDeadline,
               Policy&& policy = Policy{}) {
        check_size(n);
        return wait_for(h_->space_seq, h_->put_waiters, h_->slot_put_waiters, Status::full, deadline, policy,
                        [&] { return try_put(data, n, policy, deadline); });
    }

    // Puts items item(first), item(first + 1), ... (each a pair of pointer
    // and size) while they fit, under one lock: how many went in, and the
    // status that stopped it (ok when all did).
    template <class Item, class Policy = ThreadWait>
    std::pair<std::size_t, Status> try_put_some(Item&& item, std::size_t first, std::size_t last,
                                                Policy&& policy = Policy{},
                                                Clock::time_point deadline = detail::kNoDeadline) {
        std::size_t i = first;
        Status s = Status::ok;
        {
            Guard g(*this, policy, deadline);
            if (!g.held()) return {0, g.status};
            Pending p = pending();
            for (; i < last; ++i) {
                auto [data, n] = item(i);
                check_size(n);
                s = write_record(p, data, n);
                if (s != Status::ok) break;
            }
            publish(p, h_->items_seq);
        }
        if (i > first) notify(h_->items_seq, h_->get_waiters);
        return {i - first, i == last ? Status::ok : s};
    }

    // ---- get ----

    // alloc(n) gives room for an n-byte record (nullptr: cannot, and the get
    // is abandoned with Status::interrupted, leaving the record in place).
    // ok, empty, or closed (shut down and drained).
    template <class Alloc, class Policy = ThreadWait>
    Status try_get(Alloc&& alloc, Policy&& policy = Policy{}, Clock::time_point deadline = detail::kNoDeadline) {
        Status s;
        {
            Guard g(*this, policy, deadline);
            if (!g.held()) return g.status;
            s = get_locked(alloc);
        }
        if (s == Status::ok) notify(h_->space_seq, h_->put_waiters);
        return s;
    }

    template <class Alloc, class Policy = ThreadWait>
    Status get(Alloc&& alloc, Clock::time_point deadline = detail::kNoDeadline, Policy&& policy = Policy{}) {
        return wait_for(h_->items_seq, h_->get_waiters, h_->slot_get_waiters, Status::empty, deadline, policy,
                        [&] { return try_get(alloc, policy, deadline); });
    }

    // Takes up to `max_items` records under one lock: how many, and the
    // status of the first failed attempt when none was taken.
    template <class Alloc, class Policy = ThreadWait>
    std::pair<std::size_t, Status> try_get_some(Alloc&& alloc, std::size_t max_items, Policy&& policy = Policy{},
                                                Clock::time_point deadline = detail::kNoDeadline) {
        std::size_t i = 0;
        Status s = Status::ok;
        {
            Guard g(*this, policy, deadline);
            if (!g.held()) return {0, g.status};
            Pending p = pending();
            for (; i < max_items; ++i) {
                s = read_record(p, alloc);
                if (s != Status::ok) break;
            }
            publish(p, h_->space_seq);
        }
        if (i > 0) notify(h_->space_seq, h_->put_waiters);
        return {i, i > 0 ? Status::ok : s};
    }

    // ---- fixed-size items (ItemType::int64, float64) ----

    // Puts the 8-byte values at words[0..n) (bytes as they are in memory) as one record each, as many as fit
    // (all or none past maxsize and the bytes), under one lock and one
    // commit: how many went in, and the status that stopped the rest.
    template <class Policy = ThreadWait>
    std::pair<std::size_t, Status> try_put_words(const void* words, std::size_t n, Policy&& policy = Policy{},
                                                 Clock::time_point deadline = detail::kNoDeadline) {
        std::size_t done = 0;
        {
            Guard g(*this, policy, deadline);
            if (!g.held()) return {0, g.status};
            if (h_->shut.load(std::memory_order_relaxed) != 0) return {0, Status::closed};
            Pending p = pending();
            std::uint64_t room = (h_->capacity - (p.tail - p.head)) / kWordRecord;
            if (h_->maxsize != 0) room = std::min(room, h_->maxsize > p.count ? h_->maxsize - p.count : 0);
            done = static_cast<std::size_t>(std::min<std::uint64_t>(room, n));
            if (done == 0) return {0, Status::full};
            mark(Segment::kPut, done);
            // Positions are multiples of 8 and the capacity too: a word never
            // wraps, only the position does (no division per record).
            std::uint64_t cap = h_->capacity;
            std::uint64_t at = p.tail % cap;
            const std::uint64_t len = 8;
            bool faulty = fault.load(std::memory_order_relaxed) == static_cast<int>(Fault::die_mid_put);
            for (std::size_t i = 0; i < done; ++i) {
                if (faulty && i == done / 2) die();
                std::memcpy(data_ + at, &len, 8);
                at = at + 8 == cap ? 0 : at + 8;
                std::memcpy(data_ + at, static_cast<const unsigned char*>(words) + 8 * i, 8);
                at = at + 8 == cap ? 0 : at + 8;
            }
            p.tail += done * kWordRecord;
            p.count += done;
            p.changed = true;
            publish(p, h_->items_seq);
        }
        notify(h_->items_seq, h_->get_waiters);
        return {done, done == n ? Status::ok : Status::full};
    }

    // Takes up to `max_items` 8-byte records into out[0..), under one lock
    // and one commit: how many (0: the status, empty or closed). A record
    // of another size (the ring is not of 8-byte items) is
    // std::invalid_argument, and nothing is taken.
    template <class Policy = ThreadWait>
    std::pair<std::size_t, Status> try_get_words(void* out, std::size_t max_items, Policy&& policy = Policy{},
                                                 Clock::time_point deadline = detail::kNoDeadline) {
        std::size_t n = 0;
        {
            Guard g(*this, policy, deadline);
            if (!g.held()) return {0, g.status};
            Pending p = pending();
            if (p.count == 0) return {0, h_->shut.load(std::memory_order_relaxed) != 0 ? Status::closed : Status::empty};
            n = static_cast<std::size_t>(std::min<std::uint64_t>(p.count, max_items));
            mark(Segment::kGet, n);
            std::uint64_t cap = h_->capacity;
            std::uint64_t at = p.head % cap;
            bool faulty = fault.load(std::memory_order_relaxed) == static_cast<int>(Fault::die_mid_get);
            for (std::size_t i = 0; i < n; ++i) {
                if (faulty && i == n / 2) die();
                std::uint64_t len;
                std::memcpy(&len, data_ + at, 8);
                if (len != 8) {
                    h_->in_flight.store(0, std::memory_order_relaxed);
                    throw std::invalid_argument("a record of " + std::to_string(len) + " bytes in a ring of 8-byte items");
                }
                at = at + 8 == cap ? 0 : at + 8;
                std::memcpy(static_cast<unsigned char*>(out) + 8 * i, data_ + at, 8);
                at = at + 8 == cap ? 0 : at + 8;
            }
            p.head += n * kWordRecord;
            p.count -= n;
            p.changed = true;
            publish(p, h_->space_seq);
        }
        notify(h_->space_seq, h_->put_waiters);
        return {n, Status::ok};
    }

    // Waits until `ready()` may have changed (the sequence word `seq` moved)
    // past `deadline`: the wait of a caller that builds its own operation
    // from the try_ calls (a batch). Same results as put/get.
    template <class Attempt, class Policy = ThreadWait>
    Status wait_items(Attempt&& attempt, Clock::time_point deadline, Policy&& policy = Policy{}) {
        return wait_for(h_->items_seq, h_->get_waiters, h_->slot_get_waiters, Status::empty, deadline, policy, attempt);
    }
    template <class Attempt, class Policy = ThreadWait>
    Status wait_space(Attempt&& attempt, Clock::time_point deadline, Policy&& policy = Policy{}) {
        return wait_for(h_->space_seq, h_->put_waiters, h_->slot_put_waiters, Status::full, deadline, policy, attempt);
    }

    // ---- a watcher's wait (fastchan.ProcessQueue.async_q) ----
    //
    // A process that has many waiters of its own (event loop tasks) waits
    // for them with one thread: it reads a side's sequence word, tries the
    // operation, and if it would block parks here with the value it read.

    // The sequence word of the items (space = false: bumped by every put)
    // or of the space (space = true: by every get); shutdown bumps both.
    std::uint32_t seq(bool space) const noexcept {
        return (space ? h_->space_seq : h_->items_seq).load(std::memory_order_seq_cst);
    }
    // How many kick()s this Ring object has had (read before a watch()).
    std::uint32_t kicks() const noexcept { return kicks_.load(std::memory_order_seq_cst); }

    // Parks, registered as a waiter of that side as put() and get() register
    // (so every commit's notifier wakes it), until the side's word is no
    // longer `seen` (true), a kick() after `kicks_seen` was read, or the
    // deadline (false). In park slices, as wait_for.
    template <class Policy>
    bool watch(bool space, std::uint32_t seen, std::uint32_t kicks_seen, Clock::time_point deadline,
               Policy& policy) {
        if (seg_.owner_pid() != static_cast<std::int32_t>(detail::fork_generation())) reattach_after_fork();
        std::atomic<std::uint32_t>& seq = space ? h_->space_seq : h_->items_seq;
        std::atomic<std::uint32_t>& waiters = space ? h_->put_waiters : h_->get_waiters;
        auto& slot_waiters = space ? h_->slot_put_waiters : h_->slot_get_waiters;
        int slot = seg_.slot();
        if (slot >= 0) slot_waiters[slot].fetch_add(1, std::memory_order_relaxed);
        waiters.fetch_add(1, std::memory_order_seq_cst);
        policy.release();
        while (seq.load(std::memory_order_seq_cst) == seen && kicks_.load(std::memory_order_seq_cst) == kicks_seen) {
            auto now = Clock::now();
            if (now >= deadline) break;
            auto until = std::min(deadline, now + kParkSlice);
            futex_wait_shared(seq, seen, until);
            if (Clock::now() < until) break;  // woken without a change: a kick (or a spurious wake-up)
            if (seq.load(std::memory_order_relaxed) == seen) seg_.reclaim_if_due();
        }
        bool moved = seq.load(std::memory_order_seq_cst) != seen;
        // (Unregistered before the policy's lock is taken back: a thread that
        // never gets it back, at interpreter exit, leaves no stale count.)
        waiters.fetch_sub(1, std::memory_order_seq_cst);
        if (slot >= 0) slot_waiters[slot].fetch_sub(1, std::memory_order_relaxed);
        policy.reacquire();
        return moved;
    }

    // Ends this Ring object's watch() of that side at once. The word does
    // not move: waiters of other processes that the futex wake reaches look
    // at it and park again.
    void kick(bool space) noexcept {
        kicks_.fetch_add(1, std::memory_order_seq_cst);
        futex_wake_shared(space ? h_->space_seq : h_->items_seq);
    }

    // ---- shutdown and lifetime ----

    // No more puts; gets drain what is there, then see `closed`. immediate:
    // the items are dropped too (how many is returned). Every waiter wakes.
    std::uint64_t shutdown(bool immediate) {
        std::uint64_t dropped = 0;
        {
            ThreadWait plain;
            Guard g(*this, plain, detail::kNoDeadline);
            h_->shut.store(1, std::memory_order_release);
            if (immediate) {
                const Indices& x = current();
                dropped = x.count.load(std::memory_order_relaxed);
                std::uint64_t tail = x.tail.load(std::memory_order_relaxed);
                commit(tail, tail, 0);
            }
            h_->items_seq.fetch_add(1, std::memory_order_seq_cst);
            h_->space_seq.fetch_add(1, std::memory_order_seq_cst);
        }
        futex_wake_shared(h_->items_seq);
        futex_wake_shared(h_->space_seq);
        return dropped;
    }

    // Lets go of this process's attachment; the last live one removes the
    // name. The mapping stays usable until the Ring is destroyed.
    void detach() { seg_.detach(); }
    // Called by the operations: a forked child takes a slot of its own.
    void reattach_after_fork() { seg_.reattach_after_fork(); }
    bool attached() const noexcept { return seg_.attached(); }

    std::atomic<int> fault{0};  // a Fault, for tests

    Ring(Ring&& o) noexcept : seg_(std::move(o.seg_)), h_(o.h_), data_(o.data_) {}

private:
    explicit Ring(Segment seg) noexcept : seg_(std::move(seg)), h_(seg_.header()), data_(seg_.data()) {}

    // The lock, for one operation. A section lasts a memcpy, so a busy lock
    // is retried briefly; a holder that takes longer (preempted, stopped,
    // being debugged) is waited for without the policy's own lock (the GIL)
    // in slices, the policy asked between them whether to stop (a signal
    // handler's exception). The lock is never held while the policy's lock
    // is taken back: it is released and taken again. False: stopped.
    template <class Policy>
    Status acquire(Policy& policy, Clock::time_point deadline) {
        if (seg_.try_lock()) return Status::ok;
        detail::Backoff backoff;
        while (backoff.spin())
            if (seg_.try_lock()) return Status::ok;
        for (;;) {
            auto now = Clock::now();
            if (now >= deadline) return Status::timeout;
            auto slice = std::min<Clock::duration>(kParkSlice, deadline - now);
            policy.release();
            bool got = seg_.lock_for(std::chrono::duration_cast<std::chrono::nanoseconds>(slice));
            if (got) seg_.unlock();
            policy.reacquire();
            if (seg_.try_lock()) return Status::ok;
            if (policy.interrupted()) return Status::interrupted;
        }
    }

    struct Guard {
        template <class Policy>
        Guard(Ring& r, Policy& policy, Clock::time_point deadline) : ring(&r) {
            // First use in a forked child: a slot of its own (before the lock: it takes it).
            if (r.seg_.owner_pid() != static_cast<std::int32_t>(detail::fork_generation())) r.reattach_after_fork();
            status = r.acquire(policy, deadline);
            if (status != Status::ok) ring = nullptr;
        }
        bool held() const noexcept { return ring != nullptr; }
        Status status = Status::ok;
        ~Guard() { unlock(); }
        void unlock() noexcept {
            if (ring != nullptr) ring->seg_.unlock();
            ring = nullptr;
        }
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;
        Ring* ring;
    };

    static constexpr std::uint64_t kWordRecord = kRecordHeader + 8;

    // A change under the lock: positions moved by a batch of records, made
    // visible at the end by one commit (publish), so a holder that dies
    // anywhere in a batch leaves the ring as it was before the batch.
    struct Pending {
        std::uint64_t head, tail, count;
        std::uint64_t puts = 0, gets = 0;  // records written / read so far
        bool changed = false;
    };
    Pending pending() const noexcept {
        const Indices& x = current();
        return Pending{x.head.load(std::memory_order_relaxed), x.tail.load(std::memory_order_relaxed),
                       x.count.load(std::memory_order_relaxed)};
    }
    // What a holder that dies now leaves undone (see Header::in_flight).
    void mark(Segment::Kind kind, std::uint64_t items) noexcept {
        h_->in_flight.store(Segment::in_flight_word(kind, h_->active.load(std::memory_order_relaxed), items),
                            std::memory_order_relaxed);
    }
    void publish(Pending& p, std::atomic<std::uint32_t>& seq) noexcept {
        if (!p.changed) return;
        commit(p.head, p.tail, p.count);
        h_->in_flight.store(0, std::memory_order_relaxed);
        seq.fetch_add(1, std::memory_order_seq_cst);
        p.changed = false;
    }

    static std::uint64_t padded(std::uint64_t n) noexcept { return kRecordHeader + ((n + 7) & ~std::uint64_t{7}); }

    void check_size(std::size_t n) const {
        if (n > max_item_bytes())
            throw std::length_error("an item of " + std::to_string(n) + " bytes does not fit a ring of " +
                                    std::to_string(h_->capacity) + " bytes (at most " +
                                    std::to_string(max_item_bytes()) + " per item)");
    }

    const Indices& current() const noexcept { return h_->indices[h_->active.load(std::memory_order_acquire) & 1]; }

    // The one store that makes a change visible (see Header::active).
    void commit(std::uint64_t head, std::uint64_t tail, std::uint64_t count) noexcept {
        std::uint32_t a = h_->active.load(std::memory_order_relaxed) & 1;
        Indices& next = h_->indices[a ^ 1];
        next.head.store(head, std::memory_order_relaxed);
        next.tail.store(tail, std::memory_order_relaxed);
        next.count.store(count, std::memory_order_relaxed);
        h_->active.store(a ^ 1, std::memory_order_release);
    }

    // Copies at ring position `pos`, wrapping around the end.
    void copy_in(std::uint64_t pos, const void* src, std::size_t n) noexcept {
        std::size_t at = static_cast<std::size_t>(pos % h_->capacity);
        std::size_t first = std::min<std::size_t>(n, static_cast<std::size_t>(h_->capacity) - at);
        std::memcpy(data_ + at, src, first);
        if (n > first) std::memcpy(data_, static_cast<const unsigned char*>(src) + first, n - first);
    }
    void copy_out(std::uint64_t pos, void* dst, std::size_t n) const noexcept {
        std::size_t at = static_cast<std::size_t>(pos % h_->capacity);
        std::size_t first = std::min<std::size_t>(n, static_cast<std::size_t>(h_->capacity) - at);
        std::memcpy(dst, data_ + at, first);
        if (n > first) std::memcpy(static_cast<unsigned char*>(dst) + first, data_, n - first);
    }

    [[noreturn]] static void die() noexcept {
        ::kill(::getpid(), SIGKILL);
        for (;;) ::pause();
    }

    Status put_locked(const void* data, std::size_t n) {
        Pending p = pending();
        Status s = write_record(p, data, n);
        publish(p, h_->items_seq);
        return s;
    }

    // One more record of a batch (not visible before publish).
    Status write_record(Pending& p, const void* data, std::size_t n) {
        if (h_->shut.load(std::memory_order_relaxed) != 0) return Status::closed;
        std::uint64_t need = padded(n);
        if ((h_->maxsize != 0 && p.count >= h_->maxsize) || h_->capacity - (p.tail - p.head) < need) return Status::full;
        mark(Segment::kPut, ++p.puts);
        std::uint64_t len = n;
        copy_in(p.tail, &len, sizeof len);  // (positions are multiples of 8: the word never wraps)
        if (fault.load(std::memory_order_relaxed) == static_cast<int>(Fault::die_mid_put)) {
            copy_in(p.tail + kRecordHeader, data, n / 2);
            die();
        }
        if (fault.load(std::memory_order_relaxed) == static_cast<int>(Fault::stop_mid_put)) {
            copy_in(p.tail + kRecordHeader, data, n / 2);
            ::kill(::getpid(), SIGSTOP);
        }
        copy_in(p.tail + kRecordHeader, data, n);
        p.tail += need;
        p.count += 1;
        p.changed = true;
        return Status::ok;
    }

    template <class Alloc>
    Status get_locked(Alloc& alloc) {
        Pending p = pending();
        Status s = read_record(p, alloc);
        publish(p, h_->space_seq);
        return s;
    }

    // One more record of a batch out (taken for good at publish).
    template <class Alloc>
    Status read_record(Pending& p, Alloc& alloc) {
        if (p.count == 0) return h_->shut.load(std::memory_order_relaxed) != 0 ? Status::closed : Status::empty;
        std::uint64_t len = 0;
        copy_out(p.head, &len, sizeof len);
        void* dst = alloc(static_cast<std::size_t>(len));
        if (dst == nullptr) return Status::interrupted;
        mark(Segment::kGet, ++p.gets);
        if (fault.load(std::memory_order_relaxed) == static_cast<int>(Fault::die_mid_get)) {
            copy_out(p.head + kRecordHeader, dst, static_cast<std::size_t>(len / 2));
            die();
        }
        copy_out(p.head + kRecordHeader, dst, static_cast<std::size_t>(len));
        p.head += padded(len);
        p.count -= 1;
        p.changed = true;
        return Status::ok;
    }

    // A waiter registers (the count) after it read the sequence word, and
    // the notifier bumped the word (under the lock) before it reads the
    // count: either the waiter's futex sees the new word, or the notifier
    // sees the waiter.
    static void notify(std::atomic<std::uint32_t>& seq, std::atomic<std::uint32_t>& waiters) noexcept {
        if (waiters.load(std::memory_order_seq_cst) != 0) futex_wake_shared(seq);
    }

    template <class Policy, class Attempt>
    Status wait_for(std::atomic<std::uint32_t>& seq, std::atomic<std::uint32_t>& waiters,
                    std::atomic<std::uint32_t> (&slot_waiters)[kSlots], Status would_block,
                    Clock::time_point deadline, Policy& policy, Attempt&& attempt) {
        for (;;) {
            std::uint32_t seen = seq.load(std::memory_order_seq_cst);
            Status s = attempt();
            if (s != would_block) return s;
            if (Clock::now() >= deadline) return Status::timeout;
            if (policy.interrupted()) return Status::interrupted;
            // Registered in the totals and in this process's slot's share (see
            // Header::slot_get_waiters), under the slot it has now.
            int slot = seg_.slot();
            if (slot >= 0) slot_waiters[slot].fetch_add(1, std::memory_order_relaxed);
            waiters.fetch_add(1, std::memory_order_seq_cst);
            policy.release();
            // Spin, then yield, first: a peer on another core often answers
            // within microseconds, a park costs tens. The project's adaptive
            // backoff (detail/contention.hpp) skips the yields while the
            // machine is oversubscribed.
            detail::Backoff backoff;
            while (seq.load(std::memory_order_relaxed) == seen && !backoff.completed()) backoff.snooze();
            // Park in slices: kParkSlice at most (a waker may have died after
            // its commit), and the policy's own (the main thread looks for
            // signals another thread received); a signal handler that ran on
            // this thread ends the park at once (EINTR).
            const auto slice_end = policy.slice_end(deadline);
            while (seq.load(std::memory_order_seq_cst) == seen) {
                auto now = Clock::now();
                if (now >= slice_end) break;
                auto until = std::min(slice_end, now + kParkSlice);
                if (!futex_wait_shared(seq, seen, until) && detail::wakes_on_signal_v<Policy>) break;
                if (Clock::now() >= until && seq.load(std::memory_order_relaxed) == seen) seg_.reclaim_if_due();
            }
            policy.reacquire();
            waiters.fetch_sub(1, std::memory_order_seq_cst);
            if (slot >= 0) slot_waiters[slot].fetch_sub(1, std::memory_order_relaxed);
            if (policy.interrupted()) return Status::interrupted;
        }
    }

    Segment seg_;
    Header* h_;
    unsigned char* data_;
    std::atomic<std::uint32_t> kicks_{0};  // this object's (this process's), not the segment's
};

}  // namespace fastchan::shm

#endif  // FASTCHAN_HAS_SHM
