// squares: an extension module of its own, built apart from fastchan, whose
// C++ thread produces into a fastchan channel without ever taking the GIL.
//
//   ch = fastchan.Channel(256, dtype="int64")
//   producer = squares.Producer(ch, 1000)   # sends 1, 4, 9, ... 1000000, then closes ch
//   async for n in ch: ...                  # or ch.recv(), ch.get_many(...), from any thread
//   producer.join()
#include <cstdint>
#include <thread>

#include <pybind11/pybind11.h>

#include <fastchan/python.hpp>

namespace py = pybind11;

class Producer {
public:
    Producer(py::handle channel, std::int64_t count)
        // TypeError unless `channel` is a fastchan.Channel of dtype "int64";
        // RuntimeError if this module was built against another fastchan ABI.
        : channel_(fastchan::python::ChannelRef<std::int64_t>::from(channel.ptr())) {
        if (!channel_) throw py::error_already_set();
        thread_ = std::thread([ch = channel_.get(), count] {
            for (std::int64_t n = 1; n <= count; ++n) {
                if (!ch->send(n * n)) return;  // closed by a consumer: stop
            }
            ch->close();  // the consumers' loops end once they drained it
        });
    }
    Producer(const Producer&) = delete;
    Producer& operator=(const Producer&) = delete;

    // Closing first: a producer dropped unjoined must not wait for consumers
    // that are gone.
    ~Producer() {
        channel_->close();
        join();
    }

    void join() {
        py::gil_scoped_release no_gil;  // consumers may need the GIL to drain the channel
        if (thread_.joinable()) thread_.join();
    }

private:
    fastchan::python::ChannelRef<std::int64_t> channel_;  // keeps the channel alive
    std::thread thread_;
};

// mod_gil_not_used: nothing here relies on the GIL (the channel has its own
// locks), so a free-threaded Python (3.13t) keeps the GIL off when it loads this.
PYBIND11_MODULE(squares, m, py::mod_gil_not_used()) {
    m.doc() = "A C++ thread producing squares into a fastchan channel (an example of fastchan/python.hpp).";
    py::class_<Producer>(m, "Producer")
        .def(py::init<py::handle, std::int64_t>(), py::arg("channel"), py::arg("count"),
             "Start a thread sending 1, 4, 9, ... count**2 into `channel` (a\n"
             "fastchan.Channel of dtype 'int64'), then closing it.")
        .def("join", &Producer::join, "Wait for the thread to finish.");
}
