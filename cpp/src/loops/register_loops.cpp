// The native side of event loops: LoopWaker, the one way fastchan wakes a
// loop's waiting tasks (see loop_waker.hpp).
#include "common/pybind.hpp"

#include "common/gil_wait.hpp"
#include "loops/loop_waker.hpp"
#include "common/initialized.hpp"


namespace fastchan::binding {

void register_loops(py::module_& m) {
    py::class_<LoopWaker> waker(m, "LoopWaker",
                                "Wakes one event loop's waiting tasks; one per loop (fastchan.asyncio).");
    // What fileno() is: "eventfd" (Linux), "pipe" (other POSIX systems, and
    // a FASTCHAN_PORTABLE build) or "socket" (Windows).
    waker.attr("kind") = py::str(LoopWaker::kind());
    waker.def(py::init<>())
        .def("fileno", &LoopWaker::fileno)
        .def("drain", &LoopWaker::drain, "The loop's reader callback: resolve the woken waiters.")
        .def(
            "abandon",
            [](LoopWaker& waker) {
                CallScope call;
                waker.abandon();
            },
            "The loop is closing: pass its waiters' wake-ups on to other waiters.")
        .def(
            "wake",
            [](py::object self, py::handle future) {
                CallScope call;
                auto* carrier = new AsyncWaiter(self.cast<LoopWaker&>(), self.ptr(), future.ptr());
                bool taken = carrier->waiter.notify();
                carrier->release();  // the inbox holds its own reference
                return taken;
            },
            py::arg("future"),
            "From any thread: have the loop set `future`'s result to None (unless it is\n"
            "done by then). False if the loop is closed. A burst of wake-ups costs the\n"
            "loop one write to its wake descriptor.")
        // Loops without add_reader (asyncio's ProactorEventLoop): see armed_watch.hpp.
        .def("watch_in_thread", &LoopWaker::watch_in_thread,
             "The loop cannot watch fileno(): a thread waits in wait_armed() instead.\n"
             "Before the first wake-up.")
        .def(
            "wait_armed",
            [](LoopWaker& waker) {
                // GilWait: woken during finalization (the loop closed by
                // the exit), the daemon thread never takes the GIL back.
                GilWait gil;
                gil.release();
                bool armed = waker.wait_armed();  // (std::mutex: no error in practice)
                gil.reacquire();
                return armed;
            },
             "The watching thread, GIL released: True once the waker is armed (queue one\n"
             "drain_watched() on the loop), False once abandoned (the thread ends).")
        .def("drain_watched", &LoopWaker::drain_watched,
             "drain(), queued on the loop by the watching thread.")
        .def("_after_fork_in_child", &LoopWaker::after_fork_in_child,
             "In a forked child: a fresh lock for a new watching thread.");
}

}  // namespace fastchan::binding
