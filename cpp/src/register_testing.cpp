// fastchan._core._NativeProducer: a C++ thread that holds no GIL and feeds a
// queue, as native code linked against fastchan does; the tests use it to
// show that Python threads and asyncio loops consuming the same queue are
// woken without the producer ever taking the GIL. (The public C++ entry to a
// queue's native channel comes with typed channels.)
#include <thread>
#include <vector>

#include <pybind11/pybind11.h>

#include "object_queue.hpp"

namespace py = pybind11;

namespace fastchan::py {
namespace {

class NativeProducer {
public:
    NativeProducer(::py::object queue, ::py::iterable items)
        : queue_(std::move(queue)), native_(queue_.cast<ObjectQueue&>()) {
        for (::py::handle item : items) refs_.push_back(item.inc_ref().ptr());
        thread_ = std::thread([this] {
            for (PyObject*& ref : refs_) {  // no GIL anywhere in here
                PyObject* moving = ref;
                if (native_.put_from_native(moving, detail::kNoDeadline) != Status::ok) break;
                ref = nullptr;  // the queue owns it now
            }
        });
    }
    NativeProducer(const NativeProducer&) = delete;
    NativeProducer& operator=(const NativeProducer&) = delete;

    ~NativeProducer() {
        join();
        for (PyObject* ref : refs_) Py_XDECREF(ref);  // those never sent (queue shut down)
    }

    void join() {
        ::py::gil_scoped_release no_gil;
        if (thread_.joinable()) thread_.join();
    }

private:
    ::py::object queue_;
    ObjectQueue& native_;
    std::vector<PyObject*> refs_;
    std::thread thread_;
};

}  // namespace

void register_testing(::py::module_& m) {
    ::py::class_<NativeProducer>(m, "_NativeProducer",
                                 "Test aid: a C++ thread (no GIL) putting `items` into `queue`.")
        .def(::py::init<::py::object, ::py::iterable>(), ::py::arg("queue"), ::py::arg("items"))
        .def("join", &NativeProducer::join);
}

}  // namespace fastchan::py
