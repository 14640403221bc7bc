// PyChannel: the native channel behind fastchan.Channel. A
// fastchan::Channel<T> of any flavor (rendezvous, bounded, unbounded), where
// T is the channel's dtype (FASTCHAN_DTYPES): PyObject* (one strong
// reference per item held) or a native value converted only at the Python
// boundary (codecs.hpp). Every method is called with the GIL held; blocking ones
// release it only while they sleep (GilWait). Native code reaches the
// Channel<T> itself through the capsule API (fastchan/python.hpp).
#pragma once

#include <Python.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include <fastchan/channel.hpp>
#include <fastchan/detail/any_flavor.hpp>

#include "common/codecs.hpp"
#include "common/gil_wait.hpp"
#include "common/initialized.hpp"

namespace fastchan::binding {

class PyChannel {
public:
    // capacity: nullopt for an unbounded channel, 0 for a rendezvous.
    PyChannel(std::optional<std::size_t> capacity, Dtype dtype) : channel_(make(capacity, dtype)) {}
    PyChannel(const PyChannel&) = delete;
    PyChannel& operator=(const PyChannel&) = delete;

    // Calls fn(Channel<T>&) on the channel behind it.
    template <class Fn>
    decltype(auto) visit(Fn&& fn) {
        return channel_.visit(std::forward<Fn>(fn));
    }
    template <class Fn>
    decltype(auto) visit(Fn&& fn) const {
        return channel_.visit(std::forward<Fn>(fn));
    }

    ~PyChannel() {
        visit([](auto& ch) {
            using T = typename std::decay_t<decltype(ch)>::value_type;
            for (auto r = ch.try_recv(); r; r = ch.try_recv()) Codec<T>::release(*r.value);
        });
    }

    // ok, closed, timeout, interrupted (Python error set: KeyboardInterrupt,
    // or an item of the wrong type, the channel untouched), or full for a
    // non-blocking send (deadline min). `item` is borrowed.
    Status send(PyObject* item, detail::Clock::time_point deadline) {
        return visit([&](auto& ch) {
            using T = typename std::decay_t<decltype(ch)>::value_type;
            T value;
            if (!Codec<T>::from_py(item, value)) return Status::interrupted;
            Status s = ch.visit_flavor([&](auto& f) {
                return deadline == detail::Clock::time_point::min() ? f.try_send(value)
                                                                    : f.send_until(value, deadline, GilWait{});
            });
            if (s != Status::ok) Codec<T>::release(value);
            return s;
        });
    }

    // ok (*out is a new reference), closed (closed and drained), timeout,
    // interrupted (Python error set; an item that could not be converted to
    // Python went back to the front of the channel), or empty for a
    // non-blocking receive (deadline min).
    Status recv(PyObject** out, detail::Clock::time_point deadline) {
        return visit([&](auto& ch) {
            using T = typename std::decay_t<decltype(ch)>::value_type;
            std::optional<T> item;
            Status s = ch.visit_flavor([&](auto& f) {
                return deadline == detail::Clock::time_point::min() ? f.try_recv(item)
                                                                    : f.recv_until(item, deadline, GilWait{});
            });
            if (s == Status::ok && (*out = Codec<T>::to_py(*item)) == nullptr) {
                ch.put_back(std::move(*item));
                return Status::interrupted;
            }
            return s;
        });
    }

    bool close() {
        return visit([](auto& ch) { return ch.close(); });
    }
    bool is_closed() const {
        return visit([](auto& ch) { return ch.is_closed(); });
    }
    std::size_t size() const {
        return visit([](auto& ch) { return ch.size(); });
    }
    // nullopt for an unbounded channel.
    std::optional<std::size_t> capacity() const {
        std::size_t c = visit([](auto& ch) { return ch.capacity(); });
        return c == SIZE_MAX ? std::nullopt : std::optional<std::size_t>(c);
    }
    Dtype dtype() const {
        return visit([](auto& ch) { return dtype_of<typename std::decay_t<decltype(ch)>::value_type>; });
    }

    // The Channel<T> behind it, or nullptr if its dtype is another.
    template <class T>
    Channel<T>* get_if() noexcept {
        return channel_.get_if<Channel<T>>();
    }

private:
    template <class T>
    using ChannelOf = TypeList<Channel<T>>;
    using Any = EachDtypeOf<detail::AnyFlavor, ChannelOf>;  // every dtype's (FASTCHAN_DTYPES), in list order

    template <class T>
    static Any make_typed(std::optional<std::size_t> capacity) {
        if (capacity) return Any(std::in_place_type<Channel<T>>, *capacity);
        return Any(std::in_place_type<Channel<T>>, unbounded);
    }

    static Any make(std::optional<std::size_t> capacity, Dtype dtype) {
        return with_dtype(dtype, [&](auto tag) { return make_typed<typename decltype(tag)::type>(capacity); });
    }

    Any channel_;
};

}  // namespace fastchan::binding

FASTCHAN_INITIALIZED_ONLY(fastchan::binding::PyChannel)
