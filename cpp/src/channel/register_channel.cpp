// Binds PyChannel as fastchan._core._ChannelCore, the native base of
// fastchan.Channel (python/fastchan/channel.py): Go's channel operations
// for Python threads.
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/pybind.hpp"
#include <pybind11/stl.h>  // std::optional capacity

#include <fastchan/python.hpp>

#include "common/batches.hpp"
#include "common/arguments.hpp"
#include "common/errors.hpp"
#include "loops/loop_waker.hpp"
#include "channel/channel.hpp"


namespace fastchan::binding {
namespace {

detail::Clock::time_point deadline_from(py::handle timeout) {
    detail::Clock::time_point deadline;
    if (!parse_timeout(timeout.ptr(), true, deadline)) throw py::error_already_set();
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
    throw py::error_already_set();
}

py::object received(PyChannel& ch, detail::Clock::time_point deadline, const char* op) {
    PyObject* item = nullptr;
    Status s = ch.recv(&item, deadline);
    if (s != Status::ok) raise_failed(s, op);
    return py::reinterpret_steal<py::object>(item);
}

// Sends a batch: objects one by one as they come; typed items all
// converted first. (items sent, ok or the status that stopped the batch)
template <class T>
std::pair<std::size_t, Status> send_batch(Channel<T>& ch, py::handle items, detail::Clock::time_point deadline) {
    if constexpr (std::is_same_v<T, PyObject*>) {
        std::size_t sent = 0;
        for (py::handle item : batch_items(items)) {
            PyObject* ref = item.inc_ref().ptr();
            Status s = ch.send_until(std::move(ref), deadline, GilWait{});
            if (s != Status::ok) {
                Py_DECREF(ref);
                return {sent, s};
            }
            ++sent;
        }
        return {sent, Status::ok};
    } else {
        std::vector<T> batch = batch_from_py<T>(items);
        BatchWithoutGil no_gil;
        return ch.send_many(batch.begin(), batch.end(), deadline, no_gil);
    }
}

// The capsule of fastchan/python.hpp: the Channel<T> behind `self`, which
// it keeps alive (a reference in the capsule's context).
PyObject* export_channel(py::handle self) {
    auto& ch = self.cast<PyChannel&>();
    auto* exp = new python::ChannelExport{python::kAbiVersion, 0, 0, 0, python::kStdlibAbi, nullptr};
    ch.visit([&](auto& c) {
        using T = typename std::decay_t<decltype(c)>::value_type;
        exp->dtype = python::dtype_code<T>();
        exp->channel_size = sizeof(c);
        exp->item_size = sizeof(T);
        exp->channel = &c;
    });
    PyObject* capsule = PyCapsule_New(exp, python::kCapsuleName, [](PyObject* cap) {
        delete static_cast<python::ChannelExport*>(PyCapsule_GetPointer(cap, python::kCapsuleName));
        Py_XDECREF(static_cast<PyObject*>(PyCapsule_GetContext(cap)));
    });
    if (capsule == nullptr) {
        delete exp;
        throw py::error_already_set();
    }
    PyCapsule_SetContext(capsule, self.inc_ref().ptr());
    return capsule;
}

}  // namespace

void register_channel(py::module_& m) {
    constexpr auto nonblocking = detail::Clock::time_point::min();
    m.def(
        "_max_items", [](py::handle max_items) { return parse_max_items(max_items); }, py::arg("max_items"),
        "Validate get_many's max_items (an int >= 1), for the awaitable batches.");
    py::class_<PyChannel>(m, "_ChannelCore", "Native channel of Python objects or of a dtype (base of fastchan.Channel).")
        .def(py::init([](std::optional<std::size_t> capacity, py::handle dtype) {
                 Dtype d;
                 if (!parse_dtype(dtype.ptr(), d)) throw py::error_already_set();
                 return new PyChannel(capacity, d);
             }),
             py::arg("capacity"), py::arg("dtype") = py::none(),
             (std::string("capacity: None for an unbounded channel, 0 for a rendezvous, n for n slots.\n"
                          "dtype: None (any object), or stored natively: ") +
              typed_dtype_choices() + ".")
                 .c_str())
        .def(
            "send",
            [](PyChannel& ch, py::handle item, py::handle timeout) {
                CallScope call;  // an asyncio task of this thread's loop may be woken
                Status s = ch.send(item.ptr(), deadline_from(timeout));
                if (s != Status::ok) raise_failed(s, "send");
            },
            py::arg("item"), py::arg("timeout") = py::none(),
            "Send item, waiting (GIL released) for a receiver or a free slot.\n"
            "Raises ChannelClosed once the channel is closed, TimeoutError after\n"
            "timeout seconds.")
        .def(
            "recv",
            [](PyChannel& ch, py::handle timeout) {
                CallScope call;
                return received(ch, deadline_from(timeout), "recv");
            },
            py::arg("timeout") = py::none(),
            "Receive an item, waiting (GIL released) for one. Raises ChannelClosed\n"
            "once the channel is closed and drained, TimeoutError after timeout seconds.")
        .def(
            "try_send",
            [nonblocking](PyChannel& ch, py::handle item) {
                CallScope call;
                Status s = ch.send(item.ptr(), nonblocking);
                if (s != Status::ok) raise_failed(s, "send");
            },
            py::arg("item"),
            "Send item only if that needs no wait; else raise fastchan.Full.")
        .def(
            "try_recv",
            [nonblocking](PyChannel& ch) {
                CallScope call;
                return received(ch, nonblocking, "recv");
            },
            "Receive an item only if one is ready; else raise fastchan.Empty.")
        .def(
            "close",
            [](PyChannel& ch) {
                CallScope call;
                return ch.close();
            },
             "Close the channel: sends raise ChannelClosed, receivers drain what is\n"
             "buffered and then raise it; every waiter wakes. True for the call that closed it.")
        .def(
            "put_many",
            [](PyChannel& ch, py::handle items, py::handle timeout) {
                CallScope call;
                auto deadline = deadline_from(timeout);
                auto [sent, s] = ch.visit([&](auto& c) { return send_batch(c, items, deadline); });
                if (s == Status::closed) {
                    PyErr_Format(g_errors.channel_closed, "put_many on a closed channel (%zu items were sent)", sent);
                    throw py::error_already_set();
                }
                if (s == Status::timeout) {
                    PyErr_Format(PyExc_TimeoutError, "put_many timed out (%zu items were sent)", sent);
                    throw py::error_already_set();
                }
                if (s == Status::interrupted) {  // a signal handler's exception
                    note_current_error(("put_many: " + std::to_string(sent) + " items were sent").c_str());
                    throw py::error_already_set();
                }
                if (s != Status::ok) raise_failed(s, "put_many");
            },
            py::arg("items"), py::arg("timeout") = py::none(),
            "Send every item of `items`, in order, each as send() would. The timeout\n"
            "bounds the whole batch. ChannelClosed or TimeoutError say how many\n"
            "items were sent before. A typed channel converts the whole batch\n"
            "first (a buffer of the dtype's format such as array.array is copied as is),\n"
            "so a bad item raises TypeError/OverflowError before any is sent.")
        .def(
            "get_many",
            [](PyChannel& ch, py::handle max_items, py::handle timeout, bool as_array) {
                CallScope call;
                std::size_t max = parse_max_items(max_items);
                auto deadline = deadline_from(timeout);
                return ch.visit([&](auto& c) -> py::object {
                    using T = typename std::decay_t<decltype(c)>::value_type;
                    check_as_array<T>(as_array);
                    Batch<T> items;
                    Status s = gather(items, c, [&] {
                        if constexpr (std::is_same_v<T, PyObject*>) {
                            return c.recv_many(items, max, deadline, GilWait{});
                        } else {
                            BatchWithoutGil no_gil;  // native values: no Python until it is back
                            return c.recv_many(items, max, deadline, no_gil);
                        }
                    });
                    if (s != Status::ok) raise_failed(s, "get_many");
                    return batch_result(items, as_array, c);
                });
            },
            py::arg("max_items"), py::arg("timeout") = py::none(), py::arg("as_array") = false,
            (std::string("Wait (GIL released) for an item, then take whatever else is ready at\n"
                         "once: a list of 1 to max_items items, in order. ChannelClosed once the\n"
                         "channel is closed and drained, TimeoutError after timeout seconds.\n"
                         "as_array=True (dtype ") +
             array_dtype_choices() + ") returns an array.array instead.")
                .c_str())
        .def_property_readonly(
            "dtype", [](PyChannel& ch) { return dtype_object(ch.dtype()); },
            (std::string(typed_dtype_choices()) + " for a typed channel; None for objects.").c_str())
        .def(
            "_check_batch",
            [](PyChannel& ch, py::handle items) {
                return ch.visit([&](auto& c) {
                    return checked_batch<typename std::decay_t<decltype(c)>::value_type>(items);
                });
            },
            py::arg("items"),
            "For the awaitable batches: a typed channel's batch as a list, every item\n"
            "checked (TypeError/OverflowError before any is sent); objects as given.")
        .def(
            "__fastchan_channel__",
            [](py::handle self) { return py::reinterpret_steal<py::object>(export_channel(self)); },
            "A capsule holding the native channel, for another extension module\n"
            "(the C++ API of fastchan/python.hpp; see the README).")
        .def_property_readonly("closed", &PyChannel::is_closed, "True once close() was called.")
        .def_property_readonly("capacity", &PyChannel::capacity,
                               "0 for a rendezvous, None for an unbounded channel.")
        .def("__len__", &PyChannel::size, "Items buffered now.")
        // Internal fast paths that raise nothing (an exception through
        // pybind11 costs microseconds): used by open_memory_channel.
        .def(
            "_offer",
            [nonblocking](PyChannel& ch, py::handle item) {
                CallScope call;
                Status s = ch.send(item.ptr(), nonblocking);
                if (s == Status::interrupted) throw py::error_already_set();  // a bad item
                return s == Status::ok ? 0 : s == Status::closed ? 2 : 1;
            },
            py::arg("item"), "try_send: 0 sent, 1 would wait, 2 closed (TypeError... for a bad item).")
        .def(
            "_poll",
            [nonblocking](PyChannel& ch, py::handle closed_marker) -> py::object {
                CallScope call;
                PyObject* item = nullptr;
                Status s = ch.recv(&item, nonblocking);
                if (s == Status::ok) return py::reinterpret_steal<py::object>(item);
                if (s == Status::interrupted) throw py::error_already_set();  // MemoryError
                if (s == Status::closed) return py::reinterpret_borrow<py::object>(closed_marker);
                return py::reinterpret_borrow<py::object>(g_empty_marker);
            },
            py::arg("closed_marker"), "try_recv: the item, _core.EMPTY, or closed_marker.");
}

}  // namespace fastchan::binding
