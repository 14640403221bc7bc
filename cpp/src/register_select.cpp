// Binds fastchan._core._select, behind fastchan.select: a fastchan::Select
// over the ObjectChannels of the given cases, waiting with the GIL released.
#include <optional>
#include <vector>

#include <pybind11/pybind11.h>

#include <fastchan/select.hpp>

#include "errors.hpp"
#include "fast_methods.hpp"
#include "gil_wait.hpp"
#include "object_channel.hpp"

namespace py = pybind11;

namespace fastchan::py {
namespace {

// _core.CLOSED: the value of a recv case whose channel is closed and drained.
PyObject* g_closed_marker = nullptr;

// One select call: the Python cases and the native storage they use.
class PySelect {
public:
    explicit PySelect(::py::sequence cases) : n_(cases.size()), outs_(n_), refs_(n_, nullptr), sending_(n_) {
        for (std::size_t i = 0; i < n_; ++i) {
            ::py::handle c = cases[i];
            auto& channel = ::py::cast<ObjectChannel&>(c.attr("channel")).channel();
            sending_[i] = ::py::cast<bool>(c.attr("sending"));
            if (sending_[i]) {
                refs_[i] = ::py::object(c.attr("item")).release().ptr();  // moves to a receiver if it fires
                select_.send(channel, refs_[i]);
            } else {
                select_.recv(channel, outs_[i]);
            }
        }
    }
    ~PySelect() {
        for (std::size_t i = 0; i < n_; ++i) {
            if (i != fired_ok_) Py_XDECREF(refs_[i]);
        }
    }
    PySelect(const PySelect&) = delete;
    PySelect& operator=(const PySelect&) = delete;

    // (index, value); None, default when nothing was ready and has_default.
    ::py::tuple run(detail::Clock::time_point deadline, bool has_default, ::py::handle default_value) {
        SelectResult r = has_default ? select_.try_select() : select_.wait_until(deadline, GilWait{});
        switch (r.status) {
            case Status::ok:
                if (sending_[r.index]) {
                    fired_ok_ = r.index;
                    return ::py::make_tuple(r.index, ::py::none());
                }
                return ::py::make_tuple(r.index, ::py::reinterpret_steal<::py::object>(*outs_[r.index]));
            case Status::closed:
                if (sending_[r.index]) {
                    PyErr_SetString(g_errors.channel_closed, "send on a closed channel");
                    throw ::py::error_already_set();
                }
                return ::py::make_tuple(r.index, ::py::handle(g_closed_marker));
            case Status::empty:
                return ::py::make_tuple(::py::none(), default_value);
            case Status::timeout:
                PyErr_SetString(PyExc_TimeoutError, "select timed out");
                throw ::py::error_already_set();
            default:  // interrupted: KeyboardInterrupt (or another signal's error) is set
                throw ::py::error_already_set();
        }
    }

private:
    std::size_t n_;
    std::vector<std::optional<PyObject*>> outs_;  // recv cases' slots
    std::vector<PyObject*> refs_;                 // send cases' items (owned)
    std::vector<bool> sending_;
    std::size_t fired_ok_ = Select::none;  // a send case whose item was delivered
    Select select_;
};

}  // namespace

void register_select(::py::module_& m) {
    ::py::object closed = ::py::module_::import("builtins").attr("object")();
    m.attr("CLOSED") = closed;
    g_closed_marker = closed.release().ptr();

    m.def(
        "_select",
        [](::py::sequence cases, ::py::handle timeout, bool has_default, ::py::handle default_value) {
            detail::Clock::time_point deadline;
            if (!parse_timeout(timeout.ptr(), true, deadline)) throw ::py::error_already_set();
            PySelect select(cases);
            return select.run(deadline, has_default, default_value);
        },
        ::py::arg("cases"), ::py::arg("timeout"), ::py::arg("has_default"), ::py::arg("default"),
        "Complete exactly one of the cases (validated by fastchan.select).");
}

}  // namespace fastchan::py
