// Test aids: C++ threads that hold no GIL and feed (_NativeProducer) or
// drain (_NativeConsumer) a queue or channel, as native code linked against
// fastchan does; the tests use them to show that Python threads, asyncio
// loops and trio runs sharing the same queue or channel are woken without
// the native side ever taking the GIL. (The public C++ entry to a queue's
// native channel comes with typed channels.)
#include <functional>
#include <thread>
#include <vector>

#include <pybind11/pybind11.h>

#include "object_channel.hpp"
#include "object_queue.hpp"

namespace py = pybind11;

namespace fastchan::py {
namespace {

// Sends one reference, GIL-free: ok (moved in, `ref` is then not ours) or a
// failure (closed...), for a fastchan queue or a fastchan.Channel.
std::function<Status(PyObject*&)> native_sender(::py::handle target) {
    if (::py::isinstance<ObjectChannel>(target)) {
        auto& channel = target.cast<ObjectChannel&>().channel();
        return [&channel](PyObject*& ref) {
            PyObject* moving = ref;
            return channel.send_until(std::move(moving), detail::kNoDeadline);
        };
    }
    auto& queue = target.cast<ObjectQueue&>();
    return [&queue](PyObject*& ref) {
        PyObject* moving = ref;
        return queue.put_from_native(moving, detail::kNoDeadline);
    };
}

class NativeProducer {
public:
    NativeProducer(::py::object target, ::py::iterable items)
        : target_(std::move(target)), send_(native_sender(target_)) {
        for (::py::handle item : items) refs_.push_back(item.inc_ref().ptr());
        thread_ = std::thread([this] {
            for (PyObject*& ref : refs_) {  // no GIL anywhere in here
                if (send_(ref) != Status::ok) break;
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
    ::py::object target_;
    std::function<Status(PyObject*&)> send_;
    std::vector<PyObject*> refs_;
    std::thread thread_;
};

// Receives from a fastchan.Channel until it is closed and drained; join()
// returns what it received, in order.
class NativeConsumer {
public:
    explicit NativeConsumer(::py::object channel)
        : channel_obj_(std::move(channel)), channel_(channel_obj_.cast<ObjectChannel&>().channel()) {
        thread_ = std::thread([this] {
            while (std::optional<PyObject*> ref = channel_.recv()) got_.push_back(*ref);  // no GIL
        });
    }
    NativeConsumer(const NativeConsumer&) = delete;
    NativeConsumer& operator=(const NativeConsumer&) = delete;

    ~NativeConsumer() {
        wait();
        for (PyObject* ref : got_) Py_DECREF(ref);
    }

    ::py::list join() {
        wait();
        ::py::list out;
        for (PyObject*& ref : got_) out.append(::py::reinterpret_steal<::py::object>(std::exchange(ref, nullptr)));
        got_.clear();
        return out;
    }

private:
    void wait() {
        ::py::gil_scoped_release no_gil;
        if (thread_.joinable()) thread_.join();
    }

    ::py::object channel_obj_;
    Channel<PyObject*>& channel_;
    std::vector<PyObject*> got_;
    std::thread thread_;
};

}  // namespace

void register_testing(::py::module_& m) {
    ::py::class_<NativeProducer>(m, "_NativeProducer",
                                 "Test aid: a C++ thread (no GIL) putting `items` into `queue`\n"
                                 "(a fastchan queue or fastchan.Channel).")
        .def(::py::init<::py::object, ::py::iterable>(), ::py::arg("queue"), ::py::arg("items"))
        .def("join", &NativeProducer::join);
    ::py::class_<NativeConsumer>(m, "_NativeConsumer",
                                 "Test aid: a C++ thread (no GIL) receiving from a fastchan.Channel\n"
                                 "until it is closed; join() returns the items.")
        .def(::py::init<::py::object>(), ::py::arg("channel"))
        .def("join", &NativeConsumer::join);
}

}  // namespace fastchan::py
