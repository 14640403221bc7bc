// The native side of event loops: LoopWaker, the one way fastchan wakes a
// loop's waiting tasks (see loop_waker.hpp).
#include "common/pybind.hpp"

#include "loops/loop_waker.hpp"
#include "common/initialized.hpp"


namespace fastchan::binding {

void register_loops(py::module_& m) {
    py::class_<LoopWaker>(m, "LoopWaker",
                            "Wakes one event loop's waiting tasks; one per loop (fastchan.asyncio).")
        .def(py::init<>())
        .def("fileno", &LoopWaker::fileno)
        .def("drain", &LoopWaker::drain, "The loop's reader callback: resolve the woken waiters.")
        .def(
            "abandon",
            [](LoopWaker& waker) {
                CallScope call;
                waker.abandon();
            },
            "The loop is closing: pass its waiters' wake-ups on to other waiters.");
}

}  // namespace fastchan::binding
