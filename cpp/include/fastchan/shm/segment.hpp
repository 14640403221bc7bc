// A named shared-memory segment for a process channel: its layout (a header
// page, then the data ring), and its lifetime (created with shm_open, removed
// by the last process that lets go, even when the others were SIGKILLed).
//
// Linux only for now (FASTCHAN_USE_LINUX_APIS): the waits use futexes and the
// lock a robust process-shared pthread mutex. Elsewhere the header declares
// nothing but FASTCHAN_HAS_SHM (0). docs/process_queue.md has the design.
#pragma once

#include "../detail/platform.hpp"

#if FASTCHAN_USE_LINUX_APIS
#define FASTCHAN_HAS_SHM 1
#else
#define FASTCHAN_HAS_SHM 0
#endif

#if FASTCHAN_HAS_SHM
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fastchan::shm {

inline constexpr std::uint64_t kMagic = 0x6e61686374736166ULL;  // "fastchan", little-endian
inline constexpr std::uint32_t kVersion = 2;  // 2: Header::item_type, batches committed at once
// How many attachments the segment can count at once (a slot per process,
// per handle). Slots of dead processes are reclaimed when the table fills.
inline constexpr std::size_t kSlots = 256;
inline constexpr std::size_t kHeaderBytes = 8192;  // two pages; the data starts page-aligned
inline constexpr std::size_t kRecordHeader = 8;     // a record is [u64 length][bytes, padded to 8]
inline constexpr std::int32_t kReclaiming = -1;

// What the records hold, fixed at creation (Header::item_type) so that every
// attachment reads them alike. The codes are fastchan's dtype codes
// (FASTCHAN_DTYPES in fastchan/dtypes.hpp): pickles are dtype None.
enum class ItemType : std::uint32_t {
    pickle = 0,   // a pickle per record (fastchan.ProcessQueue's default)
    int64 = 1,    // one 8-byte std::int64_t per record
    float64 = 2,  // one 8-byte double per record
    bytes = 3,    // the record is the item's bytes
};

inline const char* item_type_name(ItemType t) noexcept {
    switch (t) {
        case ItemType::pickle: return "None";
        case ItemType::int64: return "int64";
        case ItemType::float64: return "float64";
        case ItemType::bytes: return "bytes";
    }
    return "unknown";
}

// The committed position of the ring. Two copies: a writer fills the copy
// that is not active, then flips `active` with one store, so a process that
// dies at any instruction leaves the ring either as it was or as it became,
// never in between (see Header::active).
struct Indices {
    std::atomic<std::uint64_t> head;   // byte position of the oldest record (grows forever)
    std::atomic<std::uint64_t> tail;   // byte position after the newest record
    std::atomic<std::uint64_t> count;  // records between them
};

// The first page(s) of the segment. Everything but the futex words, the
// waiter counts and the slot table is written only under `mutex`.
struct Header {
    std::atomic<std::uint64_t> magic;  // written last by the creator (release): attachers check it
    std::uint32_t version;
    std::uint32_t header_bytes;
    std::uint64_t capacity;  // data bytes after the header (a multiple of 8)
    std::uint64_t maxsize;   // most records at once; 0: limited by bytes only

    pthread_mutex_t mutex;  // robust, process-shared: short sections only (indices + memcpy)

    Indices indices[2];
    std::atomic<std::uint32_t> active;  // which Indices is current
    std::atomic<std::uint32_t> shut;    // shutdown(): no more puts; gets drain then fail
    std::atomic<std::uint32_t> unlinked;  // the name is gone: no process may attach any more
    std::uint32_t item_type;  // an ItemType, written by the creator before `magic`
    // What the holder of `mutex` is doing, so that the next holder can tell,
    // when the holder died (EOWNERDEAD), whether items were lost:
    // 0 nothing; else (kind << 56) | (items << 8) | (active at the start) + 1
    // (a batch commits at once: its items are lost together).
    std::atomic<std::uint64_t> in_flight;

    // Counters a survivor reads (Ring::stats).
    std::atomic<std::uint64_t> items_lost;    // puts that died before their item was committed
    std::atomic<std::uint64_t> owner_deaths;  // processes that died holding the mutex
    std::atomic<std::uint64_t> dead_slots;    // attachments of dead processes reclaimed

    // Futex words (shared futexes: no FUTEX_PRIVATE_FLAG), each a sequence
    // number bumped after every commit that may let a waiter go on.
    alignas(64) std::atomic<std::uint32_t> items_seq;  // an item was added, or shutdown
    std::atomic<std::uint32_t> get_waiters;
    alignas(64) std::atomic<std::uint32_t> space_seq;  // room was made, or shutdown
    std::atomic<std::uint32_t> put_waiters;

    // When a waiter last looked for dead attachments (steady clock, ns: the
    // same clock in every process), so that idle waiters do it at most once
    // a second between them.
    std::atomic<std::int64_t> last_scan_ns;

    // Attached processes: a pid per slot, 0 when free, kReclaiming while a
    // dead one's slot is being emptied.
    alignas(64) std::atomic<std::int32_t> slots[kSlots];
    // Each slot's share of get_waiters/put_waiters: when a process dies
    // waiting, its share is taken off the totals as its slot is reclaimed
    // (otherwise every later put or get would make a futile wake-up call).
    std::atomic<std::uint32_t> slot_get_waiters[kSlots];
    std::atomic<std::uint32_t> slot_put_waiters[kSlots];
};

static_assert(sizeof(Header) <= kHeaderBytes, "the header must fit its pages");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "shared atomics must be lock-free");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "shared atomics must be lock-free");

[[noreturn]] inline void throw_errno(int err, const std::string& what) {
    throw std::system_error(err, std::generic_category(), what);
}

// Is the process alive? (EPERM: alive, someone else's.)
inline bool process_alive(std::int32_t pid) noexcept {
    return pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH);
}

// A process's mapping of a segment, and its slot in the segment's table.
// Not copyable; the mapping goes when the Segment is destroyed, the slot and
// (for the last one) the name when detach() is called or the destructor runs.
class Segment {
public:
    // A new segment named /fastchan-<pid>-<random>: `capacity` data bytes
    // (rounded up to 8), at most `maxsize` records (0: bytes only).
    static Segment create(std::uint64_t capacity, std::uint64_t maxsize, ItemType type = ItemType::pickle) {
        if (capacity < 16) throw std::invalid_argument("capacity must be at least 16 bytes, got " + std::to_string(capacity));
        if (capacity > (std::uint64_t{1} << 40))
            throw std::invalid_argument("capacity must be at most 2**40 bytes, got " + std::to_string(capacity));
        capacity = (capacity + 7) & ~std::uint64_t{7};
        std::random_device rd;
        std::string name;
        int fd = -1;
        for (int attempt = 0; fd < 0; ++attempt) {
            std::uint64_t r = (std::uint64_t{rd()} << 32) ^ rd();
            char buf[64];
            std::snprintf(buf, sizeof buf, "/fastchan-%d-%016llx", static_cast<int>(::getpid()),
                          static_cast<unsigned long long>(r));
            name = buf;
            fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
            if (fd < 0 && (errno != EEXIST || attempt > 8)) throw_errno(errno, "shm_open(" + name + ")");
        }
        std::size_t total = kHeaderBytes + static_cast<std::size_t>(capacity);
        if (::ftruncate(fd, static_cast<off_t>(total)) != 0) {
            int err = errno;
            ::close(fd);
            ::shm_unlink(name.c_str());
            throw_errno(err, "ftruncate(" + name + ")");
        }
        void* base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        int err = errno;
        ::close(fd);
        if (base == MAP_FAILED) {
            ::shm_unlink(name.c_str());
            throw_errno(err, "mmap(" + name + ")");
        }
        // ftruncate filled it with zeros: every atomic starts at 0.
        auto* h = new (base) Header;
        h->version = kVersion;
        h->header_bytes = static_cast<std::uint32_t>(kHeaderBytes);
        h->capacity = capacity;
        h->maxsize = maxsize;
        h->item_type = static_cast<std::uint32_t>(type);
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
        pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
        pthread_mutex_init(&h->mutex, &attr);
        pthread_mutexattr_destroy(&attr);
        Segment s(std::move(name), base, total);
        s.take_slot();
        h->magic.store(kMagic, std::memory_order_release);
        return s;
    }

    // Maps the segment `name` (as name() gave it, in any process) and takes a
    // slot. std::system_error (ENOENT) if it is gone.
    static Segment attach(const std::string& name) {
        if (name.rfind("/fastchan-", 0) != 0 || name.size() > 200)
            throw std::invalid_argument("not a fastchan segment name: '" + name + "'");
        int fd = ::shm_open(name.c_str(), O_RDWR, 0);
        if (fd < 0) throw_errno(errno, "shm_open(" + name + ")");
        struct stat st {};
        if (::fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < kHeaderBytes + 16) {
            int err = errno;
            ::close(fd);
            throw_errno(err != 0 ? err : EINVAL, "not a fastchan segment: " + name);
        }
        std::size_t total = static_cast<std::size_t>(st.st_size);
        void* base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        int err = errno;
        ::close(fd);
        if (base == MAP_FAILED) throw_errno(err, "mmap(" + name + ")");
        Segment s(name, base, total);
        auto* h = s.header();
        if (h->magic.load(std::memory_order_acquire) != kMagic ||
            h->version != kVersion || kHeaderBytes + h->capacity != total)
            throw std::invalid_argument("not a fastchan segment (or another version): '" + name + "'");
        s.take_slot();
        return s;
    }

    Segment(Segment&& o) noexcept
        : name_(std::move(o.name_)), base_(o.base_), size_(o.size_), slot_(o.slot_.exchange(-1)), pid_(o.pid_.load()) {
        o.base_ = nullptr;
    }
    Segment& operator=(Segment&&) = delete;
    Segment(const Segment&) = delete;
    ~Segment() {
        if (base_ == nullptr) return;
        try {
            detach();
        } catch (...) {  // (a mutex that cannot be taken: the slot is reclaimed as a dead one's later)
        }
        ::munmap(base_, size_);
    }

    Header* header() const noexcept { return static_cast<Header*>(base_); }
    unsigned char* data() const noexcept { return static_cast<unsigned char*>(base_) + kHeaderBytes; }
    const std::string& name() const noexcept { return name_; }
    bool attached() const noexcept { return slot_.load(std::memory_order_relaxed) >= 0; }

    // What a holder of the mutex sets in Header::in_flight while it copies.
    enum Kind : std::uint64_t { kPut = 1, kGet = 2 };
    static std::uint64_t in_flight_word(Kind kind, std::uint32_t active, std::uint64_t items = 1) noexcept {
        return (std::uint64_t{kind} << 56) | ((items & 0xffffffffffULL) << 8) | (std::uint64_t{active} + 1);
    }

    // Takes the mutex if it is free (or its holder died): true; false if busy.
    bool try_lock() {
        int r = pthread_mutex_trylock(&header()->mutex);
        if (r == EBUSY) return false;
        after_lock(r);
        return true;
    }

    // Waits at most `slice` for the mutex: true once taken.
    bool lock_for(std::chrono::nanoseconds slice) {
        timespec ts{};
        clock_gettime(CLOCK_REALTIME, &ts);  // (pthread_mutex_timedlock's clock; a jump only bends one slice)
        long long ns = static_cast<long long>(ts.tv_nsec) + static_cast<long long>(slice.count());
        ts.tv_sec += static_cast<time_t>(ns / 1000000000);
        ts.tv_nsec = static_cast<long>(ns % 1000000000);
        int r = pthread_mutex_timedlock(&header()->mutex, &ts);
        if (r == ETIMEDOUT || r == EINTR) return false;
        after_lock(r);
        return true;
    }

    // Takes the mutex. When its holder died (EOWNERDEAD), the ring is as the
    // last commit left it (a commit is one store: Header::active), so nothing
    // is rolled back; a put that had not committed lost its item, which is
    // counted; a get that had not committed left its item in place.
    void lock() { after_lock(pthread_mutex_lock(&header()->mutex)); }

    void after_lock(int r) {
        auto* h = header();
        if (r == EOWNERDEAD) {
            h->owner_deaths.fetch_add(1, std::memory_order_relaxed);
            std::uint64_t f = h->in_flight.load(std::memory_order_relaxed);
            if (f != 0 && (f >> 56) == kPut && (f & 0xffu) - 1 == h->active.load(std::memory_order_relaxed))
                h->items_lost.fetch_add((f >> 8) & 0xffffffffffULL, std::memory_order_relaxed);
            h->in_flight.store(0, std::memory_order_relaxed);
            pthread_mutex_consistent(&h->mutex);
        } else if (r != 0) {
            throw_errno(r, "pthread_mutex_lock on " + name_);
        }
    }
    void unlock() noexcept { pthread_mutex_unlock(&header()->mutex); }

    // Lets go of this attachment: frees the slot and, when no live process
    // holds one any more, removes the name (the mapping stays until the
    // Segment is destroyed, so threads still inside an operation are safe).
    // Idempotent; a forked child that never re-attached frees nothing.
    void detach() {
        if (pid_.load() != static_cast<std::int32_t>(::getpid())) return;
        int slot = slot_.exchange(-1);
        if (slot < 0) return;
        auto* h = header();
        lock();
        h->slots[slot].store(0, std::memory_order_release);
        if (!any_live_slot()) {
            h->unlinked.store(1, std::memory_order_release);
            ::shm_unlink(name_.c_str());
        }
        unlock();
    }
    // In a forked child: the inherited mapping is used on, under a slot of
    // its own (the parent's slot stays the parent's).
    void reattach_after_fork() {
        std::int32_t old = pid_.load();
        auto me = static_cast<std::int32_t>(::getpid());
        if (base_ == nullptr || old == me || !pid_.compare_exchange_strong(old, me)) return;  // (one thread does it)
        slot_.store(-1);
        take_slot();
    }
    std::int32_t owner_pid() const noexcept { return pid_.load(std::memory_order_relaxed); }

    // Live attachments (this one included), reclaiming the dead ones' slots.
    std::size_t attached_count() {
        std::size_t n = 0;
        for (std::size_t i = 0; i < kSlots; ++i) {
            std::int32_t pid = header()->slots[i].load(std::memory_order_acquire);
            if (pid <= 0) continue;
            if (process_alive(pid)) ++n;
            else reclaim(i, pid);
        }
        return n;
    }

    // This attachment's slot (-1: none, e.g. detached).
    int slot() const noexcept { return slot_.load(std::memory_order_relaxed); }

    // Reclaims dead attachments if no process did for a second (called by
    // waiters that found nothing to do).
    void reclaim_if_due() {
        auto* h = header();
        std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch()).count();
        std::int64_t last = h->last_scan_ns.load(std::memory_order_relaxed);
        if (now - last < 1000000000 || !h->last_scan_ns.compare_exchange_strong(last, now)) return;
        attached_count();
    }

private:
    Segment(std::string name, void* base, std::size_t size) noexcept
        : name_(std::move(name)), base_(base), size_(size), pid_(static_cast<std::int32_t>(::getpid())) {}

    // Empties a dead process's slot: its waiters' share leaves the totals
    // before the slot is free for another process.
    void reclaim(std::size_t i, std::int32_t pid) noexcept {
        auto* h = header();
        if (!h->slots[i].compare_exchange_strong(pid, kReclaiming, std::memory_order_acq_rel)) return;
        if (std::uint32_t n = h->slot_get_waiters[i].exchange(0)) h->get_waiters.fetch_sub(n);
        if (std::uint32_t n = h->slot_put_waiters[i].exchange(0)) h->put_waiters.fetch_sub(n);
        h->dead_slots.fetch_add(1, std::memory_order_relaxed);
        h->slots[i].store(0, std::memory_order_release);
    }

    bool any_live_slot() noexcept {
        bool live = false;
        for (std::size_t i = 0; i < kSlots; ++i) {
            std::int32_t pid = header()->slots[i].load(std::memory_order_acquire);
            if (pid <= 0) continue;
            if (process_alive(pid)) live = true;
            else reclaim(i, pid);
        }
        return live;
    }

    // Under the mutex, so that it cannot interleave with the last detacher's
    // unlink: a segment whose name is gone is not joined.
    void take_slot() {
        auto* h = header();
        std::int32_t me = pid_.load();
        lock();
        if (h->unlinked.load(std::memory_order_acquire) != 0) {
            unlock();
            throw_errno(ENOENT, "the queue's shared memory " + name_ + " was released by its last user");
        }
        for (int round = 0; round < 2 && slot_.load() < 0; ++round) {
            for (std::size_t i = 0; i < kSlots; ++i) {
                std::int32_t expected = 0;
                // (a slot freed by detach() while a thread of its process still
                // waits keeps that share until the wait ends: not reused before)
                if (h->slot_get_waiters[i].load() != 0 || h->slot_put_waiters[i].load() != 0) continue;
                if (h->slots[i].compare_exchange_strong(expected, me, std::memory_order_acq_rel)) {
                    slot_.store(static_cast<int>(i));
                    break;
                }
            }
            if (slot_.load() < 0) any_live_slot();  // reclaim the dead, then try again
        }
        unlock();
        if (slot_.load() < 0) throw std::runtime_error("too many attachments to " + name_ + " (" + std::to_string(kSlots) + ")");
    }

    std::string name_;
    void* base_ = nullptr;
    std::size_t size_ = 0;
    // Atomics: a free-threaded Python may detach in one thread while another
    // operates, and the first use in a forked child claims the re-attach.
    std::atomic<int> slot_{-1};
    std::atomic<std::int32_t> pid_{0};
};

}  // namespace fastchan::shm

#endif  // FASTCHAN_HAS_SHM
