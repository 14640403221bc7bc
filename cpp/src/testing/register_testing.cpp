// Test aids: C++ threads that hold no GIL and feed (_NativeProducer) or
// drain (_NativeConsumer) a queue or channel, as native code linked against
// fastchan does; the tests use them to show that Python threads, asyncio
// loops and trio runs sharing the same queue or channel are woken without
// the native side ever taking the GIL. Channels are reached through the
// public capsule API (fastchan/python.hpp).
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

#include "common/pybind.hpp"

#include <fastchan/python.hpp>

#include "common/codecs.hpp"

#include "channel/channel.hpp"
#include "queue/queue.hpp"
#include "common/faults.hpp"
#include "common/initialized.hpp"


namespace fastchan::binding {
namespace {

// What a producer thread sends, prepared with the GIL: run() sends it all
// without the GIL (stopping at the first failure: closed or shut down); the
// destructor (GIL held) lets go of what was never sent.
class Feed {
public:
    virtual ~Feed() = default;
    virtual void run() = 0;
};

// Into a fastchan.Channel of any dtype, through the capsule API
// (fastchan/python.hpp) as another extension module would.
template <class T>
class ChannelFeed final : public Feed {
public:
    ChannelFeed(py::handle channel, py::iterable items)
        : channel_(python::ChannelRef<T>::from(channel.ptr())) {
        if (!channel_) throw py::error_already_set();
        for (py::handle item : items) {
            T value;
            if (!Codec<T>::from_py(item.ptr(), value)) throw py::error_already_set();
            items_.push_back(std::move(value));
        }
    }
    ~ChannelFeed() override {
        for (std::size_t i = sent_; i < items_.size(); ++i) Codec<T>::release(items_[i]);
    }
    void run() override {
        for (; sent_ < items_.size(); ++sent_) {
            if (!channel_->send(std::move(items_[sent_]))) break;  // closed: the item stays ours
        }
    }

private:
    python::ChannelRef<T> channel_;
    std::vector<T> items_;
    std::size_t sent_ = 0;
};

// Into a fastchan queue (objects).
class QueueFeed final : public Feed {
public:
    QueueFeed(py::object queue, py::iterable items) : queue_obj_(std::move(queue)), queue_(queue_obj_.cast<PyQueue&>()) {
        for (py::handle item : items) refs_.push_back(item.inc_ref().ptr());
    }
    ~QueueFeed() override {
        for (std::size_t i = sent_; i < refs_.size(); ++i) Py_DECREF(refs_[i]);
    }
    void run() override {
        for (; sent_ < refs_.size(); ++sent_) {
            if (queue_.put_from_native(refs_[sent_], detail::kNoDeadline) != Status::ok) break;
        }
    }

private:
    py::object queue_obj_;
    PyQueue& queue_;
    std::vector<PyObject*> refs_;
    std::size_t sent_ = 0;
};

std::unique_ptr<Feed> make_feed(py::object target, py::iterable items) {
    if (!py::isinstance<PyChannel>(target)) {
        if (target.cast<PyQueue&>().dtype() != Dtype::object) throw py::type_error("_NativeProducer: a typed queue");
        return std::make_unique<QueueFeed>(std::move(target), items);
    }
    return target.cast<PyChannel&>().visit([&](auto& c) -> std::unique_ptr<Feed> {
        using T = typename std::decay_t<decltype(c)>::value_type;
        return std::make_unique<ChannelFeed<T>>(target, items);
    });
}

class NativeProducer {
public:
    NativeProducer(py::object target, py::iterable items) : feed_(make_feed(std::move(target), items)) {
        thread_ = std::thread([this] { feed_->run(); });  // no GIL anywhere in there
    }
    NativeProducer(const NativeProducer&) = delete;
    NativeProducer& operator=(const NativeProducer&) = delete;

    ~NativeProducer() { join(); }

    void join() {
        py::gil_scoped_release no_gil;
        if (thread_.joinable()) thread_.join();
    }

private:
    std::unique_ptr<Feed> feed_;
    std::thread thread_;
};

// Receives from a fastchan.Channel of objects until it is closed and
// drained; join() returns what it received, in order.
class NativeConsumer {
public:
    explicit NativeConsumer(py::object channel)
        : channel_(python::ChannelRef<PyObject*>::from(channel.ptr())) {
        if (!channel_) throw py::error_already_set();
        thread_ = std::thread([this] {
            while (std::optional<PyObject*> ref = channel_->recv()) got_.push_back(*ref);  // no GIL
        });
    }
    NativeConsumer(const NativeConsumer&) = delete;
    NativeConsumer& operator=(const NativeConsumer&) = delete;

    ~NativeConsumer() {
        wait();
        for (PyObject* ref : got_) Py_DECREF(ref);
    }

    py::list join() {
        wait();
        py::list out;
        for (PyObject*& ref : got_) out.append(py::reinterpret_steal<py::object>(std::exchange(ref, nullptr)));
        got_.clear();
        return out;
    }

private:
    void wait() {
        py::gil_scoped_release no_gil;
        if (thread_.joinable()) thread_.join();
    }

    python::ChannelRef<PyObject*> channel_;
    std::vector<PyObject*> got_;
    std::thread thread_;
};

// One try_send into a channel, the way another extension module's function
// would do it from the calling thread: through the capsule, with no
// CallScope on the stack. True if sent.
bool foreign_try_send(py::handle channel, py::handle item) {
    return channel.cast<PyChannel&>().visit([&](auto& c) {
        using T = typename std::decay_t<decltype(c)>::value_type;
        auto ref = python::ChannelRef<T>::from(channel.ptr());
        if (!ref) throw py::error_already_set();
        T value;
        if (!Codec<T>::from_py(item.ptr(), value)) throw py::error_already_set();
        if (ref->try_send(std::move(value)) == Status::ok) return true;
        Codec<T>::release(value);
        return false;
    });
}

}  // namespace
}  // namespace fastchan::binding

FASTCHAN_INITIALIZED_ONLY(fastchan::binding::NativeProducer)
FASTCHAN_INITIALIZED_ONLY(fastchan::binding::NativeConsumer)

namespace fastchan::binding {

void register_testing(py::module_& m) {
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
