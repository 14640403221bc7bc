// Binds ObjectChannel as fastchan._core._ChannelCore, the native base of
// fastchan.Channel (python/fastchan/channel.py): Go's channel operations
// for Python threads.
#include <optional>
#include <string>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // std::optional capacity

#include "batches.hpp"
#include "errors.hpp"
#include "fast_methods.hpp"
#include "loop_waker.hpp"
#include "object_channel.hpp"

namespace py = pybind11;

namespace fastchan::py {
namespace {

detail::Clock::time_point deadline_from(::py::handle timeout) {
    detail::Clock::time_point deadline;
    if (!parse_timeout(timeout.ptr(), true, deadline)) throw ::py::error_already_set();
    return deadline;
}

// Raises the exception for a failed channel operation.
[[noreturn]] void raise_failed(Status s, const char* op) {
    switch (s) {
        case Status::closed:
            PyErr_Format(g_errors.channel_closed, "%s on a closed channel", op);
            break;
        case Status::timeout:
            PyErr_Format(PyExc_TimeoutError, "%s timed out", op);
            break;
        case Status::full:
            PyErr_SetString(g_errors.full, "try_send: no receiver is waiting and no buffer slot is free");
            break;
        case Status::empty:
            PyErr_SetString(g_errors.empty, "try_recv: no sender is waiting and nothing is buffered");
            break;
        default:
            break;  // interrupted: the Python error (KeyboardInterrupt...) is set
    }
    throw ::py::error_already_set();
}

::py::object received(ObjectChannel& ch, detail::Clock::time_point deadline, const char* op) {
    PyObject* item = nullptr;
    Status s = ch.recv(&item, deadline);
    if (s != Status::ok) raise_failed(s, op);
    return ::py::reinterpret_steal<::py::object>(item);
}

}  // namespace

void register_channel(::py::module_& m) {
    constexpr auto nonblocking = detail::Clock::time_point::min();
    m.def(
        "_max_items", [](::py::handle max_items) { return parse_max_items(max_items); }, ::py::arg("max_items"),
        "Validate get_many's max_items (an int >= 1), for the awaitable batches.");
    ::py::class_<ObjectChannel>(m, "_ChannelCore", "Native channel of Python objects (base of fastchan.Channel).")
        .def(::py::init<std::optional<std::size_t>>(), ::py::arg("capacity"),
             "capacity: None for an unbounded channel, 0 for a rendezvous, n for n slots.")
        .def(
            "send",
            [](ObjectChannel& ch, ::py::handle item, ::py::handle timeout) {
                LocalWakeups wakeups;  // an asyncio task of this thread's loop may be woken
                Status s = ch.send(item.ptr(), deadline_from(timeout));
                if (s != Status::ok) raise_failed(s, "send");
            },
            ::py::arg("item"), ::py::arg("timeout") = ::py::none(),
            "Send item, waiting (GIL released) for a receiver or a free slot.\n"
            "Raises ChannelClosed once the channel is closed, TimeoutError after\n"
            "timeout seconds.")
        .def(
            "recv",
            [](ObjectChannel& ch, ::py::handle timeout) {
                LocalWakeups wakeups;
                return received(ch, deadline_from(timeout), "recv");
            },
            ::py::arg("timeout") = ::py::none(),
            "Receive an item, waiting (GIL released) for one. Raises ChannelClosed\n"
            "once the channel is closed and drained, TimeoutError after timeout seconds.")
        .def(
            "try_send",
            [nonblocking](ObjectChannel& ch, ::py::handle item) {
                LocalWakeups wakeups;
                Status s = ch.send(item.ptr(), nonblocking);
                if (s != Status::ok) raise_failed(s, "send");
            },
            ::py::arg("item"),
            "Send item only if that needs no wait; else raise fastchan.Full.")
        .def(
            "try_recv",
            [nonblocking](ObjectChannel& ch) {
                LocalWakeups wakeups;
                return received(ch, nonblocking, "recv");
            },
            "Receive an item only if one is ready; else raise fastchan.Empty.")
        .def(
            "close",
            [](ObjectChannel& ch) {
                LocalWakeups wakeups;
                return ch.close();
            },
             "Close the channel: sends raise ChannelClosed, receivers drain what is\n"
             "buffered and then raise it; every waiter wakes. True for the call that closed it.")
        .def(
            "put_many",
            [](ObjectChannel& ch, ::py::iterable items, ::py::handle timeout) {
                LocalWakeups wakeups;
                auto deadline = deadline_from(timeout);
                std::size_t sent = 0;
                for (::py::handle item : items) {
                    Status s = ch.send(item.ptr(), deadline);
                    if (s == Status::closed) {
                        PyErr_Format(g_errors.channel_closed, "put_many on a closed channel (%zu items were sent)", sent);
                        throw ::py::error_already_set();
                    }
                    if (s == Status::timeout) {
                        PyErr_Format(PyExc_TimeoutError, "put_many timed out (%zu items were sent)", sent);
                        throw ::py::error_already_set();
                    }
                    if (s != Status::ok) raise_failed(s, "put_many");
                    ++sent;
                }
            },
            ::py::arg("items"), ::py::arg("timeout") = ::py::none(),
            "Send every item of `items`, in order, each as send() would. The timeout\n"
            "bounds the whole batch. ChannelClosed or TimeoutError say how many\n"
            "items were sent before.")
        .def(
            "get_many",
            [](ObjectChannel& ch, ::py::handle max_items, ::py::handle timeout) {
                LocalWakeups wakeups;
                std::size_t max = parse_max_items(max_items);
                auto deadline = deadline_from(timeout);
                ListSink sink;
                Status s = ch.channel().recv_many(sink, max, deadline, GilWait{});
                if (s != Status::ok) raise_failed(s, "get_many");
                return sink.list;
            },
            ::py::arg("max_items"), ::py::arg("timeout") = ::py::none(),
            "Wait (GIL released) for an item, then take whatever else is ready at\n"
            "once: a list of 1 to max_items items, in order. ChannelClosed once the\n"
            "channel is closed and drained, TimeoutError after timeout seconds.")
        .def_property_readonly("closed", &ObjectChannel::is_closed, "True once close() was called.")
        .def_property_readonly("capacity", &ObjectChannel::capacity,
                               "0 for a rendezvous, None for an unbounded channel.")
        .def("__len__", &ObjectChannel::size, "Items buffered now.")
        // Internal fast paths that raise nothing (an exception through
        // pybind11 costs microseconds): used by open_memory_channel.
        .def(
            "_offer",
            [nonblocking](ObjectChannel& ch, ::py::handle item) {
                LocalWakeups wakeups;
                Status s = ch.send(item.ptr(), nonblocking);
                return s == Status::ok ? 0 : s == Status::closed ? 2 : 1;
            },
            ::py::arg("item"), "try_send: 0 sent, 1 would wait, 2 closed.")
        .def(
            "_poll",
            [nonblocking](ObjectChannel& ch, ::py::handle closed_marker) -> ::py::object {
                LocalWakeups wakeups;
                PyObject* item = nullptr;
                Status s = ch.recv(&item, nonblocking);
                if (s == Status::ok) return ::py::reinterpret_steal<::py::object>(item);
                if (s == Status::closed) return ::py::reinterpret_borrow<::py::object>(closed_marker);
                return ::py::reinterpret_borrow<::py::object>(g_empty_marker);
            },
            ::py::arg("closed_marker"), "try_recv: the item, _core.EMPTY, or closed_marker.");
}

}  // namespace fastchan::py
