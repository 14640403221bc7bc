// Test aids: C++ threads that hold no GIL and feed (_NativeProducer) or
// drain (_NativeConsumer) a queue or channel, as native code linked against
// fastchan does; the tests use them to show that Python threads, asyncio
// loops and trio runs sharing the same queue or channel are woken without
// the native side ever taking the GIL. Channels are reached through the
// public capsule API (fastchan/python.hpp).
#pragma once

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
namespace testing {

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
inline bool foreign_try_send(py::handle channel, py::handle item) {
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

}  // namespace testing
}  // namespace fastchan::binding

FASTCHAN_INITIALIZED_ONLY(fastchan::binding::testing::NativeProducer)
FASTCHAN_INITIALIZED_ONLY(fastchan::binding::testing::NativeConsumer)
