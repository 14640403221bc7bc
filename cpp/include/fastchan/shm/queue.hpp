// fastchan::shm::Queue<T>: a typed process queue for C++ programs, the same
// shared ring a Python fastchan.ProcessQueue(dtype=...) uses. T is
// std::int64_t (dtype "int64"), double ("float64") or std::string ("bytes").
//
//     // Python: q = fastchan.ProcessQueue(dtype="int64"); print(q.name)
//     auto q = fastchan::shm::Queue<std::int64_t>::open(name);
//     q.put(42);                                   // waits for room
//     std::int64_t v;
//     if (q.get_for(v, std::chrono::seconds(1)) == fastchan::Status::ok) ...
//
// Or create one here and give its name() to Python
// (fastchan.ProcessQueue.attach(name, dtype="int64")). Every wait is a
// deadline (or a timeout, the _for forms): Status::ok, full/empty (try_),
// timeout, or closed (shut down; a get sees it once drained). Linux only
// (FASTCHAN_HAS_SHM). docs/process_queue.md has the design.
#pragma once

#include "ring.hpp"

#if FASTCHAN_HAS_SHM
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace fastchan::shm {

// The ring's item type of each C++ type a Queue takes.
template <class T>
struct QueueItem;
template <>
struct QueueItem<std::int64_t> {
    static constexpr ItemType type = ItemType::int64;
};
template <>
struct QueueItem<double> {
    static constexpr ItemType type = ItemType::float64;
};
template <>
struct QueueItem<std::string> {
    static constexpr ItemType type = ItemType::bytes;
};

template <class T>
class Queue {
    static constexpr bool kWord = !std::is_same_v<T, std::string>;

public:
    // A new queue of `nbytes` ring bytes (an 8-byte item takes 16), at most
    // `maxsize` items (0: bytes only). Its name() is what Python attaches to.
    static Queue create(std::uint64_t nbytes = 4 << 20, std::uint64_t maxsize = 0) {
        return Queue(Ring::create(nbytes, maxsize, QueueItem<T>::type));
    }
    // The queue named `name` (Python's ProcessQueue.name). std::system_error
    // if there is none; std::invalid_argument if its items are not T's.
    static Queue open(const std::string& name) {
        Ring ring = Ring::attach(name);
        if (ring.item_type() != QueueItem<T>::type)
            throw std::invalid_argument("the queue " + name + " holds dtype " + item_type_name(ring.item_type()) +
                                        " items, not " + item_type_name(QueueItem<T>::type));
        return Queue(std::move(ring));
    }

    const std::string& name() const noexcept { return ring_.name(); }
    std::size_t size() const noexcept { return ring_.qsize(); }
    Ring& ring() noexcept { return ring_; }

    // ---- put ----
    Status try_put(const T& value) { return put(value, Clock::time_point::min()); }
    Status put(const T& value, Clock::time_point deadline = detail::kNoDeadline) {
        if constexpr (kWord) {
            return put_many(&value, 1, deadline).second;
        } else {
            if (deadline == Clock::time_point::min()) return ring_.try_put(value.data(), value.size());
            return ring_.put(value.data(), value.size(), deadline);
        }
    }
    template <class Rep, class Period>
    Status put_for(const T& value, std::chrono::duration<Rep, Period> timeout) {
        return put(value, Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout));
    }

    // values[0..n) in order, waiting for room until `deadline` (a batch is
    // one lock and one commit as far as it fits): how many went in, and ok
    // or the status that stopped the rest.
    std::pair<std::size_t, Status> put_many(const T* values, std::size_t n,
                                            Clock::time_point deadline = detail::kNoDeadline) {
        std::size_t done = 0;
        auto attempt = [&] {
            if constexpr (kWord) {
                auto [m, s] = ring_.try_put_words(values + done, n - done);
                done += m;
                return m > 0 || done == n ? Status::ok : s;
            } else {
                auto item = [&](std::size_t i) {
                    return std::pair<const void*, std::size_t>(values[i].data(), values[i].size());
                };
                auto [m, s] = ring_.try_put_some(item, done, n);
                done += m;
                return m > 0 || done == n ? Status::ok : s;
            }
        };
        while (done < n) {
            Status s = attempt();
            if (s == Status::ok) continue;
            if (s != Status::full || deadline == Clock::time_point::min()) return {done, s};
            s = ring_.wait_space(attempt, deadline);
            if (s != Status::ok) return {done, s};
        }
        return {done, Status::ok};
    }

    // ---- get ----
    Status try_get(T& out) { return get(out, Clock::time_point::min()); }
    Status get(T& out, Clock::time_point deadline = detail::kNoDeadline) {
        if constexpr (kWord) {
            auto [n, s] = get_many(&out, 1, deadline);
            return n == 1 ? Status::ok : s;
        } else {
            auto alloc = [&](std::size_t len) -> void* {
                out.resize(len);
                return out.data();
            };
            if (deadline == Clock::time_point::min()) return ring_.try_get(alloc);
            return ring_.get(alloc, deadline);
        }
    }
    template <class Rep, class Period>
    Status get_for(T& out, std::chrono::duration<Rep, Period> timeout) {
        return get(out, Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout));
    }

    // Waits until `deadline` for one item, then takes what else is there, up
    // to max_items, into out[0..): how many (0: the status, empty, timeout
    // or closed).
    std::pair<std::size_t, Status> get_many(T* out, std::size_t max_items,
                                            Clock::time_point deadline = detail::kNoDeadline) {
        std::size_t got = 0;
        auto attempt = [&] {
            if constexpr (kWord) {
                auto [m, s] = ring_.try_get_words(out, max_items);
                got = m;
                return m > 0 ? Status::ok : s;
            } else {
                auto alloc = [&](std::size_t len) -> void* {
                    out[got].resize(len);
                    return out[got++].data();
                };
                auto [m, s] = ring_.try_get_some(alloc, max_items);
                return m > 0 ? Status::ok : s;
            }
        };
        Status s = deadline == Clock::time_point::min() ? attempt() : ring_.wait_items(attempt, deadline);
        return {got, got > 0 ? Status::ok : s};
    }

    // ---- lifetime ----
    // No more puts; gets drain, then see closed (immediate: drop the items).
    std::uint64_t shutdown(bool immediate = false) { return ring_.shutdown(immediate); }
    // Lets go of this process's attachment (the last one removes the name);
    // the destructor does it too.
    void detach() { ring_.detach(); }

private:
    explicit Queue(Ring ring) : ring_(std::move(ring)) {}
    Ring ring_;
};

}  // namespace fastchan::shm

#endif  // FASTCHAN_HAS_SHM
