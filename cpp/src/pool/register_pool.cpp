// Binds PoolCore (pool_core.hpp) as fastchan._core._PoolCore, and
// _ThreadCall, the result slot of a to_thread() call (thread_call.hpp).
#include "pool/pool_core.hpp"

#include <pybind11/stl.h>  // std::optional max_pending


namespace fastchan::binding {

void register_pool(py::module_& m) {
    py::class_<PoolCore>(m, "_PoolCore", "Native work queue of a fastchan.ThreadPool.")
        .def(py::init<std::size_t, std::optional<std::size_t>, py::object, py::object>(),
             py::arg("max_workers"), py::arg("max_pending"), py::arg("spawn"),
             py::arg("future_type"),
             "spawn(core) must start a thread that calls core.work(); future_type()\n"
             "makes the future submit() returns.")
        .def(
            "submit",
            [](py::object self, py::handle fn, py::handle args, py::handle kwargs, bool block) {
                return self.cast<PoolCore&>().submit(self, fn, args, kwargs, block);
            },
            py::arg("fn"), py::arg("args"), py::arg("kwargs"), py::arg("block") = true,
            "Queue fn(*args, **kwargs); return its Future. Blocks while the queue is\n"
            "full (block=True) or raises fastchan.Full (block=False).")
        .def(
            "call",
            [](py::object self, py::handle fn, py::handle args, py::handle kwargs) {
                return self.cast<PoolCore&>().call(self, fn, args, kwargs);
            },
            py::arg("fn"), py::arg("args"), py::arg("kwargs"),
            "Queue fn(*args, **kwargs) for to_thread(); return its _ThreadCall.")
        .def("work", &PoolCore::work, "Run queued tasks until the pool is closed and drained.")
        .def("close", &PoolCore::close, py::arg("drop"), py::arg("error_type"), py::arg("message"),
             py::arg("failure") = py::none(),
             "Refuse new tasks (raising error_type(message)). With drop=True remove\n"
             "the queued ones: to_thread() calls fail with `failure` (None: are\n"
             "cancelled); the Futures are returned, for the caller to settle.")
        .def_property_readonly("closed", &PoolCore::closed)
        .def_property_readonly("queued", &PoolCore::queued, "Tasks waiting for a worker.")
        .def_property_readonly("outstanding", &PoolCore::outstanding, "Tasks queued or running.")
        .def_property_readonly("idle_workers", &PoolCore::idle_workers)
        .def_property_readonly("workers", &PoolCore::workers, "Threads inside work().")
        .def_property_readonly("started_workers", &PoolCore::started_workers)
        .def_property_readonly("max_workers", &PoolCore::max_workers)
        .def_property_readonly("max_pending", &PoolCore::max_pending);

    py::class_<ThreadCall>(m, "_ThreadCall", "The result slot of one fastchan.to_thread() call.")
        .def_property_readonly("done", &ThreadCall::done, "True once the outcome is there.")
        .def(
            "result",
            [](const ThreadCall& call) {
                PyObject* r = call.result();
                if (r == nullptr) throw py::error_already_set();
                return py::reinterpret_steal<py::object>(r);
            },
            "The call's result; raises its exception (CancelledError if it was dropped).")
        .def(
            "attach",
            [](py::object self, py::handle future, py::handle waker) {
                CallScope call;
                self.cast<ThreadCall&>().attach(self.ptr(), future.ptr(), waker.cast<LoopWaker&>(),
                                                waker.ptr());
            },
            py::arg("future"), py::arg("waker"),
            "Complete `future` (of the loop `waker` serves) with the outcome.");
}

}  // namespace fastchan::binding
