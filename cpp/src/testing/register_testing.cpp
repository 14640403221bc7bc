// Registers the test aids (native_threads.hpp, common/faults.hpp) in the
// submodule fastchan._core._testing.
#include "testing/native_threads.hpp"

#include <string>

namespace fastchan::binding {

void register_testing(py::module_& m) {
    using namespace testing;
    py::class_<NativeProducer>(m, "_NativeProducer",
                                 "Test aid: a C++ thread (no GIL) putting `items` into `queue`\n"
                                 "(a fastchan queue or fastchan.Channel).")
        .def(py::init<py::object, py::iterable>(), py::arg("queue"), py::arg("items"))
        .def("join", &NativeProducer::join);
    m.def("_foreign_try_send", &foreign_try_send, py::arg("channel"), py::arg("item"),
          "Test aid: try_send through the capsule API with no CallScope on the\n"
          "stack, as another extension module's function would.");
    py::class_<NativeConsumer>(m, "_NativeConsumer",
                                 "Test aid: a C++ thread (no GIL) receiving from a fastchan.Channel\n"
                                 "until it is closed; join() returns the items.")
        .def(py::init<py::object>(), py::arg("channel"))
        .def("join", &NativeConsumer::join);
    m.def(
        "_fail_nth",
        [](const std::string& fault, long n) {
            if (fault == "to_python") return arm_fault(Fault::to_python, n);
            if (fault == "batch_growth") return arm_fault(Fault::batch_growth, n);
            throw py::value_error("fault must be 'to_python' or 'batch_growth', not " + fault);
        },
        py::arg("fault"), py::arg("n"),
        "Test aid: make the nth conversion of a received item to Python from now\n"
        "('to_python': MemoryError), or the nth growth of a received batch\n"
        "('batch_growth': bad_alloc), fail; n=0 disarms.");
}

}  // namespace fastchan::binding
