// ObjectChannel: the native channel of Python objects behind
// fastchan.Channel. A fastchan::Channel<PyObject*> of any flavor
// (rendezvous, bounded, unbounded) that owns one strong reference per item
// it holds. Every method is called with the GIL held; blocking ones release
// it only while they sleep (GilWait).
#pragma once

#include <Python.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include <fastchan/channel.hpp>

#include "gil_wait.hpp"

namespace fastchan::py {

class ObjectChannel {
public:
    // capacity: nullopt for an unbounded channel, 0 for a rendezvous.
    explicit ObjectChannel(std::optional<std::size_t> capacity)
        : channel_(capacity ? Channel<PyObject*>(*capacity) : Channel<PyObject*>(unbounded)) {}
    ObjectChannel(const ObjectChannel&) = delete;
    ObjectChannel& operator=(const ObjectChannel&) = delete;

    ~ObjectChannel() {
        for (auto r = channel_.try_recv(); r; r = channel_.try_recv()) Py_DECREF(*r.value);
    }

    // ok, closed, timeout, interrupted (Python error set), or full for a
    // non-blocking send (deadline min). `item` is borrowed; the channel
    // takes its own reference on success.
    Status send(PyObject* item, detail::Clock::time_point deadline) {
        Py_INCREF(item);
        PyObject* ref = item;
        Status s = channel_.visit_flavor([&](auto& f) {
            return deadline == detail::Clock::time_point::min() ? f.try_send(ref)
                                                                : f.send_until(ref, deadline, GilWait{});
        });
        if (s != Status::ok) Py_DECREF(item);
        return s;
    }

    // ok (*out is a new reference), closed (closed and drained), timeout,
    // interrupted, or empty for a non-blocking receive (deadline min).
    Status recv(PyObject** out, detail::Clock::time_point deadline) {
        std::optional<PyObject*> item;
        Status s = channel_.visit_flavor([&](auto& f) {
            return deadline == detail::Clock::time_point::min() ? f.try_recv(item)
                                                                : f.recv_until(item, deadline, GilWait{});
        });
        if (s == Status::ok) *out = *item;
        return s;
    }

    bool close() { return channel_.close(); }
    bool is_closed() const { return channel_.is_closed(); }
    std::size_t size() const { return channel_.size(); }
    // nullopt for an unbounded channel.
    std::optional<std::size_t> capacity() const {
        std::size_t c = channel_.capacity();
        return c == SIZE_MAX ? std::nullopt : std::optional<std::size_t>(c);
    }

    Channel<PyObject*>& channel() noexcept { return channel_; }

private:
    Channel<PyObject*> channel_;
};

}  // namespace fastchan::py
