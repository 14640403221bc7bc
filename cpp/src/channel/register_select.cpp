// Binds fastchan.select's native half: _select (a thread waits, GIL
// released) and _AsyncSelect (an asyncio task waits: the steps of a core
// Select, its wake-up carried to the task's loop by the loop's LoopWaker).
#include "common/pybind.hpp"

#include <fastchan/select.hpp>

#include "channel/select_cases.hpp"
#include "common/arguments.hpp"
#include "common/errors.hpp"
#include "common/gil_wait.hpp"


namespace fastchan::binding {
namespace {

py::tuple select_blocking(py::sequence cases, py::handle timeout, bool has_default,
                            py::handle default_value) {
    CallScope call;
    detail::Clock::time_point deadline;
    if (!parse_timeout(timeout.ptr(), true, deadline)) throw py::error_already_set();
    SelectCases sc(cases);
    SelectResult r = has_default ? sc.select.try_select() : sc.select.wait_until(deadline, GilWait{});
    switch (r.status) {
        case Status::ok:
        case Status::closed:
            return sc.fired(r);
        case Status::empty:
            return py::make_tuple(py::none(), default_value);
        case Status::timeout:
            PyErr_SetString(PyExc_TimeoutError, "select timed out");
            throw py::error_already_set();
        default:  // interrupted: KeyboardInterrupt (or another signal's error) is set
            throw py::error_already_set();
    }
}

}  // namespace

// The type of CLOSED: one instance, named in its repr, that stays itself
// through copy and pickle (it reduces to the module attribute).
struct ClosedMarker {};

void register_select(py::module_& m) {
    py::class_<ClosedMarker>(m, "_ClosedType", "The type of fastchan.CLOSED (one instance).")
        .def("__repr__", [](const ClosedMarker&) { return "fastchan.CLOSED"; })
        .def("__reduce__", [](const ClosedMarker&) { return "CLOSED"; });
    py::object closed = py::cast(ClosedMarker{});
    m.attr("CLOSED") = closed;
    g_closed_marker = closed.release().ptr();

    m.def("_select", &select_blocking, py::arg("cases"), py::arg("timeout"), py::arg("has_default"),
          py::arg("default"), "Complete exactly one of the cases (validated by fastchan.select).");

    py::class_<AsyncSelect>(m, "_AsyncSelect", "One select awaited by an asyncio task.")
        .def(py::init<py::sequence>(), py::arg("cases"))
        .def("try_fire", &AsyncSelect::try_fire)
        .def("enlist", py::overload_cast<py::handle, py::handle>(&AsyncSelect::enlist), py::arg("waker"), py::arg("future"))
        .def("finish", &AsyncSelect::finish)
        .def("cancel", &AsyncSelect::cancel)
        .def("withdraw", &AsyncSelect::withdraw);
}

}  // namespace fastchan::binding
