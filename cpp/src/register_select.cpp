// Binds fastchan.select's native half: _select (a thread waits, GIL
// released) and _AsyncSelect (an asyncio task waits: the steps of a core
// Select, its wake-up carried to the task's loop by the loop's LoopWaker).
#include <optional>
#include <vector>

#include <pybind11/pybind11.h>

#include <fastchan/select.hpp>

#include "errors.hpp"
#include "fast_methods.hpp"
#include "gil_wait.hpp"
#include "loop_waker.hpp"
#include "object_channel.hpp"

namespace py = pybind11;

namespace fastchan::py {
namespace {

// _core.CLOSED: the value of a recv case whose channel is closed and drained.
PyObject* g_closed_marker = nullptr;

// The cases of one select call (fastchan.recv()/send() objects, validated
// by fastchan.select) as a core Select, with the storage its cases use.
class SelectCases {
public:
    explicit SelectCases(::py::sequence cases) : n_(cases.size()), outs_(n_), refs_(n_, nullptr), sending_(n_) {
        for (std::size_t i = 0; i < n_; ++i) {
            ::py::handle c = cases[i];
            auto& channel = ::py::cast<ObjectChannel&>(c.attr("channel")).channel();
            sending_[i] = ::py::cast<bool>(c.attr("sending"));
            if (sending_[i]) {
                refs_[i] = ::py::object(c.attr("item")).release().ptr();  // moves to a receiver if it fires
                select.send(channel, refs_[i]);
            } else {
                select.recv(channel, outs_[i]);
            }
        }
    }
    ~SelectCases() {
        for (std::size_t i = 0; i < n_; ++i) {
            if (i != sent_) Py_XDECREF(refs_[i]);
        }
    }
    SelectCases(const SelectCases&) = delete;
    SelectCases& operator=(const SelectCases&) = delete;

    // (index, value) for a case that fired: the item received, CLOSED for
    // a closed recv case, None for a send (ChannelClosed if it was closed).
    ::py::tuple fired(SelectResult r) {
        if (r.status == Status::ok && sending_[r.index]) {
            sent_ = r.index;
            return ::py::make_tuple(r.index, ::py::none());
        }
        if (r.status == Status::ok) {
            return ::py::make_tuple(r.index, ::py::reinterpret_steal<::py::object>(*outs_[r.index]));
        }
        if (sending_[r.index]) {
            PyErr_SetString(g_errors.channel_closed, "send on a closed channel");
            throw ::py::error_already_set();
        }
        return ::py::make_tuple(r.index, ::py::handle(g_closed_marker));
    }

    ::py::object fired_or_none(std::optional<SelectResult> r) {
        if (!r) return ::py::none();
        return fired(*r);
    }

    Select select;

private:
    std::size_t n_;
    std::vector<std::optional<PyObject*>> outs_;  // recv cases' slots
    std::vector<PyObject*> refs_;                 // send cases' items (owned)
    std::vector<bool> sending_;
    std::size_t sent_ = Select::none;  // the send case whose item was delivered
};

::py::tuple select_blocking(::py::sequence cases, ::py::handle timeout, bool has_default,
                            ::py::handle default_value) {
    LocalWakeups wakeups;
    detail::Clock::time_point deadline;
    if (!parse_timeout(timeout.ptr(), true, deadline)) throw ::py::error_already_set();
    SelectCases sc(cases);
    SelectResult r = has_default ? sc.select.try_select() : sc.select.wait_until(deadline, GilWait{});
    switch (r.status) {
        case Status::ok:
        case Status::closed:
            return sc.fired(r);
        case Status::empty:
            return ::py::make_tuple(::py::none(), default_value);
        case Status::timeout:
            PyErr_SetString(PyExc_TimeoutError, "select timed out");
            throw ::py::error_already_set();
        default:  // interrupted: KeyboardInterrupt (or another signal's error) is set
            throw ::py::error_already_set();
    }
}

// One select awaited by an asyncio task (fastchan.select_async drives it).
class AsyncSelect {
public:
    explicit AsyncSelect(::py::sequence cases) : cases_(cases) {}
    ~AsyncSelect() {
        LocalWakeups wakeups;
        cases_.select.cancel();  // a task that vanished mid-wait passes its wake-up on
        drop_carrier();
    }
    AsyncSelect(const AsyncSelect&) = delete;
    AsyncSelect& operator=(const AsyncSelect&) = delete;

    // (index, value) if a case can fire now, else None.
    ::py::object try_fire() {
        LocalWakeups wakeups;
        SelectResult r = cases_.select.try_select();
        return r.status == Status::empty ? ::py::object(::py::none()) : ::py::object(cases_.fired(r));
    }

    // Waits on every case, to set `future` (of the loop `waker` serves)
    // once one fires. False if a case looked ready: call finish() at once.
    bool enlist(::py::handle waker, ::py::handle future) {
        LocalWakeups wakeups;
        drop_carrier();
        carrier_ = new AsyncWaiter(waker.cast<LoopWaker&>(), waker.ptr(), future.ptr());
        return cases_.select.enlist(&carrier_->waiter);
    }

    // After the future was set (or enlist() said ready): the result, or
    // None to try again.
    ::py::object finish() {
        LocalWakeups wakeups;
        std::optional<SelectResult> r = cases_.select.finish();
        drop_carrier();
        return cases_.fired_or_none(r);
    }

    // The task was cancelled: the result of an exchange that happened
    // anyway (to be used), or None.
    ::py::object cancel() {
        LocalWakeups wakeups;
        std::optional<SelectResult> r = cases_.select.cancel();
        drop_carrier();
        return cases_.fired_or_none(r);
    }

private:
    void drop_carrier() {
        if (carrier_ != nullptr) std::exchange(carrier_, nullptr)->release();
    }

    SelectCases cases_;
    AsyncWaiter* carrier_ = nullptr;  // carries the wake-up to the loop
};

}  // namespace

void register_select(::py::module_& m) {
    ::py::object closed = ::py::module_::import("builtins").attr("object")();
    m.attr("CLOSED") = closed;
    g_closed_marker = closed.release().ptr();

    m.def("_select", &select_blocking, ::py::arg("cases"), ::py::arg("timeout"), ::py::arg("has_default"),
          ::py::arg("default"), "Complete exactly one of the cases (validated by fastchan.select).");

    ::py::class_<AsyncSelect>(m, "_AsyncSelect", "One select awaited by an asyncio task.")
        .def(::py::init<::py::sequence>(), ::py::arg("cases"))
        .def("try_fire", &AsyncSelect::try_fire)
        .def("enlist", &AsyncSelect::enlist, ::py::arg("waker"), ::py::arg("future"))
        .def("finish", &AsyncSelect::finish)
        .def("cancel", &AsyncSelect::cancel);
}

}  // namespace fastchan::py
