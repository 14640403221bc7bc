// fastchan._core._ProcessRing: the shared-memory ring (fastchan/shm/ring.hpp)
// for Python, moving bytes (fastchan.ProcessQueue pickles around it).
//
// GIL: every ring operation runs with the GIL held (or the thread attached,
// free-threaded); it is released only to sleep (GilWait), never while the
// ring's lock is held. A get makes its bytes object under the lock (an
// allocation runs no Python code). Taking the lock itself may wait for
// another process's short section (a memcpy) with the GIL held: no thread of
// this process can be the holder then, since each holds the GIL (or is
// attached) for its whole section.
// Free-threaded: the ring's state is in shared memory under its own lock and
// atomics; this object adds none that changes after construction (the
// segment's slot and pid are atomics, see segment.hpp).
#include "common/pybind.hpp"

#include <fastchan/shm/ring.hpp>

#if FASTCHAN_HAS_SHM

#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "common/arguments.hpp"
#include "common/call_scope.hpp"
#include "common/errors.hpp"
#include "common/gil_wait.hpp"

namespace fastchan::binding {

namespace {

using detail::Clock;

[[noreturn]] void raise_status(Status s, PyObject* would_block) {
    if (s == Status::timeout) s = Status::full;  // (the stdlib raises Full/Empty on a timeout)
    raise_for(s, would_block);
    throw py::error_already_set();
}

// The ring's C++ errors as Python ones: OSError (errno) for the system
// calls, ValueError for a record that cannot fit.
template <class F>
auto translate(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const std::system_error& e) {
        PyErr_SetObject(PyExc_OSError, py::make_tuple(e.code().value(), e.what()).ptr());
        throw py::error_already_set();
    } catch (const std::length_error& e) {
        throw py::value_error(e.what());
    } catch (const std::invalid_argument& e) {
        throw py::value_error(e.what());
    }
}

struct Deadline {
    bool block;
    Clock::time_point at;
};

Deadline parse_wait(const py::object& block, const py::object& timeout) {
    Deadline d{};
    if (!parse_block(block.ptr(), d.block) || !parse_timeout(timeout.ptr(), d.block, d.at))
        throw py::error_already_set();
    return d;
}

// A bytes-like argument, viewed (C-contiguous) for as long as this lives.
class View {
public:
    explicit View(PyObject* obj) {
        if (PyObject_GetBuffer(obj, &view_, PyBUF_C_CONTIGUOUS) != 0) throw py::error_already_set();
    }
    ~View() { PyBuffer_Release(&view_); }
    View(const View&) = delete;
    View& operator=(const View&) = delete;
    const void* data() const noexcept { return view_.buf; }
    std::size_t size() const noexcept { return static_cast<std::size_t>(view_.len); }

private:
    Py_buffer view_{};
};

// Makes the bytes objects a get fills, under the ring's lock.
struct BytesAlloc {
    std::vector<PyObject*>* out;
    void* operator()(std::size_t n) const {
        PyObject* b = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(n));
        if (b == nullptr) return nullptr;  // MemoryError: the record stays in the ring
        out->push_back(b);
        return PyBytes_AS_STRING(b);
    }
};

py::list to_list(std::vector<PyObject*>& items) {
    py::list out(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) PyList_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i), items[i]);
    items.clear();
    return out;
}

void release_all(std::vector<PyObject*>& items) {
    for (PyObject* o : items) Py_DECREF(o);
    items.clear();
}

class ProcessRing {
public:
    ProcessRing(std::int64_t maxsize, std::int64_t nbytes) {
        if (nbytes < 16) throw py::value_error("nbytes must be at least 16, got " + std::to_string(nbytes));
        std::uint64_t m = maxsize <= 0 ? 0 : static_cast<std::uint64_t>(maxsize);
        ring_ = std::make_unique<shm::Ring>(translate([&] { return shm::Ring::create(static_cast<std::uint64_t>(nbytes), m); }));
    }
    explicit ProcessRing(const std::string& name)
        : ring_(std::make_unique<shm::Ring>(translate([&] { return shm::Ring::attach(name); }))) {}

    void put(const py::object& data, const py::object& block, const py::object& timeout) {
        CallScope call;
        Deadline d = parse_wait(block, timeout);
        View v(data.ptr());
        Status s = translate([&] {
            if (!d.block) return ring_->try_put(v.data(), v.size());
            GilWait wait;
            return ring_->put(v.data(), v.size(), d.at, wait);
        });
        if (s != Status::ok) raise_status(s, g_errors.full);
    }

    py::bytes get(const py::object& block, const py::object& timeout) {
        CallScope call;
        Deadline d = parse_wait(block, timeout);
        std::vector<PyObject*> got;
        Status s = translate([&] {
            if (!d.block) return ring_->try_get(BytesAlloc{&got});
            GilWait wait;
            return ring_->get(BytesAlloc{&got}, d.at, wait);
        });
        if (s != Status::ok) {
            release_all(got);
            raise_status(s, g_errors.empty);
        }
        return py::reinterpret_steal<py::bytes>(got.front());
    }

    // All of `items` in order, waiting for room as put does; a batch stopped
    // by a timeout or shutdown says how many went in.
    void put_many(const py::object& items, const py::object& block, const py::object& timeout) {
        CallScope call;
        Deadline d = parse_wait(block, timeout);
        py::list list = py::list(items);  // (a copy: another thread may change the caller's list)
        std::vector<std::unique_ptr<View>> views;
        views.reserve(list.size());
        for (auto item : list) views.push_back(std::make_unique<View>(item.ptr()));
        auto item_at = [&](std::size_t i) { return std::pair<const void*, std::size_t>(views[i]->data(), views[i]->size()); };
        std::size_t done = 0, n = views.size();
        Status s = translate([&] {
            for (std::size_t i = 0; i < n; ++i) {
                if (views[i]->size() > ring_->max_item_bytes()) return ring_->try_put(views[i]->data(), views[i]->size());
            }
            GilWait wait;
            while (done < n) {
                auto [moved, status] = ring_->try_put_some(item_at, done, n);
                done += moved;
                if (done == n) break;
                if (status != Status::full) return status;
                if (!d.block) return Status::full;
                Status w = ring_->wait_space(
                    [&] {
                        auto [m, st] = ring_->try_put_some(item_at, done, done + 1);
                        done += m;
                        return m == 1 ? Status::ok : st;
                    },
                    d.at, wait);
                if (w != Status::ok) return w;
            }
            return Status::ok;
        });
        if (s != Status::ok) {
            if (s == Status::timeout) s = Status::full;
            raise_for(s, g_errors.full);
            std::string note = std::to_string(done) + " of the " + std::to_string(n) + " items went in before";
            note_current_error(note.c_str());
            throw py::error_already_set();
        }
    }

    // Waits for one item as get does, then takes what else is there, up to
    // max_items.
    py::list get_many(const py::object& max_items_obj, const py::object& block, const py::object& timeout) {
        CallScope call;
        if (!PyLong_Check(max_items_obj.ptr()) || PyBool_Check(max_items_obj.ptr()))
            throw py::type_error("max_items must be an int, not " + std::string(Py_TYPE(max_items_obj.ptr())->tp_name));
        long long max_items = PyLong_AsLongLong(max_items_obj.ptr());
        if (max_items == -1 && PyErr_Occurred()) throw py::error_already_set();
        if (max_items < 1) throw py::value_error("max_items must be at least 1, got " + std::to_string(max_items));
        Deadline d = parse_wait(block, timeout);
        std::vector<PyObject*> got;
        auto take = [&] {
            auto [n, st] = ring_->try_get_some(BytesAlloc{&got}, static_cast<std::size_t>(max_items));
            return n > 0 ? Status::ok : st;
        };
        Status s = translate([&] {
            if (!d.block) return take();
            GilWait wait;
            return ring_->wait_items(take, d.at, wait);
        });
        if (s != Status::ok && got.empty()) {
            raise_status(s, g_errors.empty);
        }
        if (PyErr_Occurred()) PyErr_Clear();  // (a MemoryError after some items: they are returned)
        return to_list(got);
    }

    std::size_t qsize() const { return ring_->qsize(); }
    bool empty() const { return ring_->empty(); }
    bool full() const { return ring_->full(); }
    std::uint64_t shutdown(bool immediate) {
        return translate([&] { return ring_->shutdown(immediate); });
    }
    bool is_shutdown() const { return ring_->is_shutdown(); }
    void detach() {
        translate([&] { ring_->detach(); });
    }
    py::dict stats() {
        shm::Stats st = ring_->stats();
        py::dict d;
        d["items_lost"] = st.items_lost;
        d["owner_deaths"] = st.owner_deaths;
        d["dead_attachments"] = st.dead_slots;
        d["attached"] = st.attached;
        return d;
    }
    const std::string& name() const { return ring_->name(); }
    std::uint64_t maxsize() const { return ring_->maxsize(); }
    std::uint64_t nbytes() const { return ring_->capacity(); }
    std::uint64_t max_item_bytes() const { return ring_->max_item_bytes(); }
    bool attached() const { return ring_->attached(); }
    void set_fault(int fault) { ring_->fault.store(fault); }

private:
    std::unique_ptr<shm::Ring> ring_;
};

}  // namespace

void register_process(py::module_& m) {
    py::class_<ProcessRing>(m, "_ProcessRing",
                            "A bounded ring of byte records in shared memory, for several processes\n"
                            "(fastchan.ProcessQueue's core).")
        .def(py::init<std::int64_t, std::int64_t>(), py::arg("maxsize"), py::arg("nbytes"),
             "A new segment: at most maxsize records (<= 0: bounded by bytes only) in nbytes bytes.")
        .def(py::init<const std::string&>(), py::arg("name"), "Attach to the segment `name` (ProcessRing.name).")
        .def("put", &ProcessRing::put, py::arg("data"), py::arg("block") = true, py::arg("timeout") = py::none())
        .def("get", &ProcessRing::get, py::arg("block") = true, py::arg("timeout") = py::none())
        .def("put_many", &ProcessRing::put_many, py::arg("items"), py::arg("block") = true,
             py::arg("timeout") = py::none())
        .def("get_many", &ProcessRing::get_many, py::arg("max_items"), py::arg("block") = true,
             py::arg("timeout") = py::none())
        .def("qsize", &ProcessRing::qsize)
        .def("empty", &ProcessRing::empty)
        .def("full", &ProcessRing::full)
        .def("shutdown", &ProcessRing::shutdown, py::arg("immediate") = false,
             "No more puts; gets drain, then raise ShutDown. immediate: drop the items\n"
             "too. Returns how many were dropped.")
        .def_property_readonly("is_shutdown", &ProcessRing::is_shutdown)
        .def("detach", &ProcessRing::detach,
             "Let go of this process's attachment (the last one removes the segment's name).")
        .def("stats", &ProcessRing::stats,
             "items_lost (puts that died before committing), owner_deaths (processes\n"
             "that died holding the lock), dead_attachments (reclaimed), attached (live).")
        .def_property_readonly("name", &ProcessRing::name)
        .def_property_readonly("maxsize", &ProcessRing::maxsize)
        .def_property_readonly("nbytes", &ProcessRing::nbytes)
        .def_property_readonly("max_item_bytes", &ProcessRing::max_item_bytes)
        .def_property_readonly("attached", &ProcessRing::attached)
        .def("_set_fault", &ProcessRing::set_fault, py::arg("fault"),
             "Test aid: 1 = SIGKILL this process halfway through its next put's copy,\n"
             "2 = through its next get's; 0 = none.");
}

}  // namespace fastchan::binding

#else

namespace fastchan::binding {
// No shared-memory ring on this platform: fastchan.ProcessQueue raises
// NotImplementedError (it looks for _core._ProcessRing).
void register_process(py::module_&) {}
}  // namespace fastchan::binding

#endif
