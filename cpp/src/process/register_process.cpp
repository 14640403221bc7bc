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

#include <atomic>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "common/arguments.hpp"
#include "common/call_scope.hpp"
#include "common/errors.hpp"
#include "common/gil_wait.hpp"
#include "common/initialized.hpp"
#include "process/ring_errors.hpp"
#include "process/ring_watch.hpp"

namespace fastchan::binding {

namespace {

using detail::Clock;

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

}  // namespace

}  // namespace fastchan::binding

#include "process/typed_items.hpp"

namespace fastchan::binding {

// pickle.dumps, pickle.loads and 5, kept for the process (the per-item
// methods pickle natively: no Python frame between the caller and the ring).
struct Pickling {
    PyObject* dumps = nullptr;
    PyObject* loads = nullptr;
    PyObject* protocol = nullptr;
};
inline Pickling g_pickle;

class ProcessRing {
public:
    ProcessRing(std::int64_t maxsize, std::int64_t nbytes, const py::object& dtype) {
        if (nbytes < 16) throw py::value_error("nbytes must be at least 16, got " + std::to_string(nbytes));
        if (!parse_dtype(dtype.ptr(), dtype_)) throw py::error_already_set();
        std::uint64_t m = maxsize <= 0 ? 0 : static_cast<std::uint64_t>(maxsize);
        ring_ = std::make_unique<shm::Ring>(translate(
            [&] { return shm::Ring::create(static_cast<std::uint64_t>(nbytes), m, typed::item_type_of(dtype_)); }));
    }
    explicit ProcessRing(const std::string& name)
        : ring_(std::make_unique<shm::Ring>(translate([&] { return shm::Ring::attach(name); }))) {
        auto t = static_cast<std::uint32_t>(ring_->item_type());
        if (t > static_cast<std::uint32_t>(shm::ItemType::bytes))
            throw py::value_error("the segment " + name + " holds items of an unknown type " + std::to_string(t));
        dtype_ = typed::dtype_of_ring(*ring_);
    }
    Dtype dtype() const noexcept { return dtype_; }
    shm::Ring& ring() noexcept { return *ring_; }

    // ValueError, as multiprocessing.Queue, once close() was called here.
    bool check_open(PyObject* self) const {
        if (!closed_.load(std::memory_order_relaxed)) return true;
        PyErr_Format(PyExc_ValueError, "Queue %R is closed", self);
        return false;
    }
    void close() { closed_.store(true, std::memory_order_relaxed); }
    bool closed() const { return closed_.load(std::memory_order_relaxed); }

    // The record `data` (a bytes-like object) in; false with the exception set.
    bool put_record(PyObject* data, bool block, Clock::time_point deadline) {
        return python_error_or(false, [&] {
            View v(data);
            Status s = translate([&] {
                GilWait wait;  // (also for a put_nowait: a lock held up by a stopped process is waited for without the GIL)
                if (!block) return ring_->try_put(v.data(), v.size(), wait);
                return ring_->put(v.data(), v.size(), deadline, wait);
            });
            if (s != Status::ok) raise_status(s, g_errors.full);
            return true;
        });
    }

    // The next record as a new bytes object; nullptr with the exception set.
    PyObject* get_record(bool block, Clock::time_point deadline) {
        std::vector<PyObject*> got;
        return python_error_or<PyObject*>(nullptr, [&] {
            Status s = translate([&] {
                GilWait wait;
                if (!block) return ring_->try_get(BytesAlloc{&got}, wait);
                return ring_->get(BytesAlloc{&got}, deadline, wait);
            });
            if (s == Status::ok) return got.front();
            release_all(got);
            raise_status(s, g_errors.empty);
        });
    }

    void put_bytes(const py::object& self, const py::object& data, const py::object& block, const py::object& timeout) {
        CallScope call;
        Deadline d = parse_wait(block, timeout);
        if (!check_open(self.ptr()) || !put_record(data.ptr(), d.block, d.at)) throw py::error_already_set();
    }

    py::bytes get_bytes(const py::object& self, const py::object& block, const py::object& timeout) {
        CallScope call;
        Deadline d = parse_wait(block, timeout);
        PyObject* b = check_open(self.ptr()) ? get_record(d.block, d.at) : nullptr;
        if (b == nullptr) throw py::error_already_set();
        return py::reinterpret_steal<py::bytes>(b);
    }

    // All of `items` in order, waiting for room as put does; a batch stopped
    // by a timeout or shutdown says how many went in.
    void put_many(const py::object& self, const py::object& items, const py::object& block, const py::object& timeout) {
        CallScope call;
        Deadline d = parse_wait(block, timeout);
        if (!check_open(self.ptr())) throw py::error_already_set();
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
                auto [moved, status] = ring_->try_put_some(item_at, done, n, wait, d.at);
                done += moved;
                if (done == n) break;
                if (status != Status::full) return status;
                if (!d.block) return Status::full;
                Status w = ring_->wait_space(
                    [&] {
                        auto [m, st] = ring_->try_put_some(item_at, done, done + 1, wait, d.at);
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
    py::list get_many(const py::object& self, const py::object& max_items_obj, const py::object& block,
                      const py::object& timeout) {
        CallScope call;
        if (!check_open(self.ptr())) throw py::error_already_set();
        if (!PyLong_Check(max_items_obj.ptr()) || PyBool_Check(max_items_obj.ptr()))
            throw py::type_error("max_items must be an int, not " + std::string(Py_TYPE(max_items_obj.ptr())->tp_name));
        long long max_items = PyLong_AsLongLong(max_items_obj.ptr());
        if (max_items == -1 && PyErr_Occurred()) throw py::error_already_set();
        if (max_items < 1) throw py::value_error("max_items must be at least 1, got " + std::to_string(max_items));
        Deadline d = parse_wait(block, timeout);
        std::vector<PyObject*> got;
        Status s = translate([&] {
            GilWait wait;
            auto take = [&] {
                auto [n, st] = ring_->try_get_some(BytesAlloc{&got}, static_cast<std::size_t>(max_items), wait, d.at);
                return n > 0 ? Status::ok : st;
            };
            if (!d.block) return take();
            return ring_->wait_items(take, d.at, wait);
        });
        if (s != Status::ok && got.empty()) {
            raise_status(s, g_errors.empty);
        }
        if (PyErr_Occurred()) PyErr_Clear();  // (a MemoryError after some items: they are returned)
        return to_list(got);
    }

    // Typed batches (typed_items.hpp): the dtype's rules for the items.
    void put_many_typed(const py::object& self, const py::object& items, const py::object& block,
                        const py::object& timeout) {
        CallScope call;
        Deadline d = parse_wait(block, timeout);
        if (!check_open(self.ptr())) throw py::error_already_set();
        switch (dtype_) {
            case Dtype::int64: return typed::put_many_values<std::int64_t>(*ring_, items, d.block, d.at);
            case Dtype::float64: return typed::put_many_values<double>(*ring_, items, d.block, d.at);
            case Dtype::bytes: {
                py::list list = py::list(batch_items(items));
                for (auto item : list)
                    if (!typed::check_bytes_item(item.ptr())) throw py::error_already_set();
                return put_many(self, list, block, timeout);
            }
            default: throw py::value_error("_put_many_typed needs a typed ring (dtype not None)");
        }
    }

    py::object get_many_typed(const py::object& self, const py::object& max_items_obj, bool as_array,
                              const py::object& block, const py::object& timeout) {
        CallScope call;
        if (!check_open(self.ptr())) throw py::error_already_set();
        std::size_t max_items = parse_max_items(max_items_obj);
        if (as_array && dtype_ != Dtype::int64 && dtype_ != Dtype::float64) {
            const char* name = dtype_name(dtype_);
            PyErr_Format(PyExc_ValueError, "as_array=True needs dtype %s, not %s", array_dtype_choices(),
                         name ? name : "None (objects)");
            throw py::error_already_set();
        }
        Deadline d = parse_wait(block, timeout);
        switch (dtype_) {
            case Dtype::int64: return typed::get_many_values<std::int64_t>(*ring_, max_items, as_array, d.block, d.at);
            case Dtype::float64: return typed::get_many_values<double>(*ring_, max_items, as_array, d.block, d.at);
            case Dtype::bytes: return get_many(self, max_items_obj, block, timeout);
            default: throw py::value_error("_get_many_typed needs a typed ring (dtype not None)");
        }
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
        d["waiting_gets"] = st.get_waiters;
        d["waiting_puts"] = st.put_waiters;
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
    Dtype dtype_ = Dtype::object;  // the ring's item type (fixed: no atomic needed)
    std::atomic<bool> closed_{false};
};

}  // namespace fastchan::binding

FASTCHAN_INITIALIZED_ONLY(fastchan::binding::ProcessRing)

namespace fastchan::binding {

namespace {

// ---- the per-item methods, METH_FASTCALL (pybind11's dispatcher costs more
// than the ring's own put + get; see queue/methods.hpp) ----

ProcessRing* native_ring(PyObject* self) {
    auto v_h = reinterpret_cast<py::detail::instance*>(self)->get_value_and_holder();
    if (!v_h.holder_constructed()) {
        set_not_initialized(self);
        return nullptr;
    }
    return static_cast<ProcessRing*>(v_h.value_ptr());
}

PyObject* ring_put(ProcessRing* r, PyObject* self, PyObject* item, bool block, Clock::time_point deadline) {
    if (!r->check_open(self)) return nullptr;
    if (r->dtype() != Dtype::object) {
        bool ok = false;
        switch (r->dtype()) {
            case Dtype::int64: ok = typed::put_value<std::int64_t>(r->ring(), item, block, deadline); break;
            case Dtype::float64: ok = typed::put_value<double>(r->ring(), item, block, deadline); break;
            default: ok = typed::check_bytes_item(item) && r->put_record(item, block, deadline); break;
        }
        if (!ok) return nullptr;
        Py_RETURN_NONE;
    }
    PyObject* args[2] = {item, g_pickle.protocol};
    PyObject* data = PyObject_Vectorcall(g_pickle.dumps, args, 2, nullptr);  // (a pickling error: raised at once)
    if (data == nullptr) return nullptr;
    bool ok = r->put_record(data, block, deadline);
    Py_DECREF(data);
    if (!ok) return nullptr;
    Py_RETURN_NONE;
}

PyObject* ring_get(ProcessRing* r, PyObject* self, bool block, Clock::time_point deadline) {
    if (!r->check_open(self)) return nullptr;
    switch (r->dtype()) {
        case Dtype::int64: return typed::get_value<std::int64_t>(r->ring(), block, deadline);
        case Dtype::float64: return typed::get_value<double>(r->ring(), block, deadline);
        case Dtype::bytes: return r->get_record(block, deadline);
        default: break;
    }
    PyObject* data = r->get_record(block, deadline);
    if (data == nullptr) return nullptr;
    PyObject* item = PyObject_CallOneArg(g_pickle.loads, data);
    Py_DECREF(data);
    return item;
}

PyObject* pq_put(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    CallScope call;
    static const char* const names[] = {"obj", "block", "timeout"};
    PyObject* a[3];
    if (!bind_args("put", names, 1, args, nargs, kwnames, a)) return nullptr;
    bool block;
    Clock::time_point deadline;
    if (!parse_block(a[1], block) || !parse_timeout(a[2], block, deadline)) return nullptr;
    ProcessRing* r = native_ring(self);
    return r ? ring_put(r, self, a[0], block, deadline) : nullptr;
}

PyObject* pq_get(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    CallScope call;
    static const char* const names[] = {"block", "timeout"};
    PyObject* a[2];
    if (!bind_args("get", names, 0, args, nargs, kwnames, a)) return nullptr;
    bool block;
    Clock::time_point deadline;
    if (!parse_block(a[0], block) || !parse_timeout(a[1], block, deadline)) return nullptr;
    ProcessRing* r = native_ring(self);
    return r ? ring_get(r, self, block, deadline) : nullptr;
}

PyObject* pq_put_nowait(PyObject* self, PyObject* item) {
    CallScope call;
    ProcessRing* r = native_ring(self);
    return r ? ring_put(r, self, item, false, detail::kNoDeadline) : nullptr;
}

PyObject* pq_get_nowait(PyObject* self, PyObject*) {
    CallScope call;
    ProcessRing* r = native_ring(self);
    return r ? ring_get(r, self, false, detail::kNoDeadline) : nullptr;
}

#define FASTCALL_KW(fn) reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(fn))

PyMethodDef kPqPut = {
    "put", FASTCALL_KW(pq_put), METH_FASTCALL | METH_KEYWORDS,
    "put($self, obj, block=True, timeout=None)\n--\n\n"
    "Pickle obj (protocol 5; a pickling error is raised here) and put it in\n"
    "the shared ring, waiting for room if 'block' (at most 'timeout'\n"
    "seconds, then Full). ValueError if the pickle is larger than the ring,\n"
    "or after close(); ShutDown after shutdown()."};
PyMethodDef kPqGet = {
    "get", FASTCALL_KW(pq_get), METH_FASTCALL | METH_KEYWORDS,
    "get($self, block=True, timeout=None)\n--\n\n"
    "Remove and return an item, waiting for one if 'block' (at most\n"
    "'timeout' seconds, then Empty). ShutDown once shut down and drained."};
PyMethodDef kPqPutNowait = {"put_nowait", reinterpret_cast<PyCFunction>(pq_put_nowait), METH_O,
                            "put_nowait($self, obj)\n--\n\nput(obj, block=False)."};
PyMethodDef kPqGetNowait = {"get_nowait", reinterpret_cast<PyCFunction>(pq_get_nowait), METH_NOARGS,
                            "get_nowait($self)\n--\n\nget(block=False)."};

void add_fast_methods(py::handle cls) {
    auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
    for (PyMethodDef* def : {&kPqPut, &kPqGet, &kPqPutNowait, &kPqGetNowait}) {
        py::object descr = py::reinterpret_steal<py::object>(PyDescr_NewMethod(type, def));
        if (!descr || PyObject_SetAttrString(cls.ptr(), def->ml_name, descr.ptr()) < 0) throw py::error_already_set();
    }
}

}  // namespace

void register_process(py::module_& m) {
    py::module_ pickle = py::module_::import("pickle");
    g_pickle.dumps = py::object(pickle.attr("dumps")).release().ptr();
    g_pickle.loads = py::object(pickle.attr("loads")).release().ptr();
    g_pickle.protocol = py::int_(5).release().ptr();

    py::class_<ProcessRing> cls(m, "_ProcessRing",
                            "A bounded ring of byte records in shared memory, for several processes\n"
                            "(fastchan.ProcessQueue's native base).");
    cls.def(py::init<std::int64_t, std::int64_t, py::object>(), py::arg("maxsize"), py::arg("nbytes"),
             py::arg("dtype") = py::none(),
             "A new segment: at most maxsize records (<= 0: bounded by bytes only) in nbytes bytes,\n"
             "of pickles (dtype None) or of C values (dtype 'int64', 'float64' or 'bytes').")
        .def(py::init<const std::string&>(), py::arg("name"), "Attach to the segment `name` (ProcessRing.name).")
        .def(
            "_put_bytes",
            [](py::object self, py::object data, py::object block, py::object timeout) {
                self.cast<ProcessRing&>().put_bytes(self, data, block, timeout);
            },
            py::arg("data"), py::arg("block") = true, py::arg("timeout") = py::none(), "One record, as is.")
        .def(
            "_get_bytes",
            [](py::object self, py::object block, py::object timeout) {
                return self.cast<ProcessRing&>().get_bytes(self, block, timeout);
            },
            py::arg("block") = true, py::arg("timeout") = py::none(), "One record, as it was put.")
        .def(
            "_put_many_bytes",
            [](py::object self, py::object items, py::object block, py::object timeout) {
                self.cast<ProcessRing&>().put_many(self, items, block, timeout);
            },
            py::arg("items"), py::arg("block") = true, py::arg("timeout") = py::none(),
            "Records in order, as put_many (a stopped batch says how many went in).")
        .def(
            "_get_many_bytes",
            [](py::object self, py::object max_items, py::object block, py::object timeout) {
                return self.cast<ProcessRing&>().get_many(self, max_items, block, timeout);
            },
            py::arg("max_items"), py::arg("block") = true, py::arg("timeout") = py::none(),
            "1 to max_items records, as get_many.")
        .def(
            "_put_many_typed",
            [](py::object self, py::object items, py::object block, py::object timeout) {
                self.cast<ProcessRing&>().put_many_typed(self, items, block, timeout);
            },
            py::arg("items"), py::arg("block") = true, py::arg("timeout") = py::none(),
            "put_many of a typed ring (dtype not None): any iterable of items, or a buffer\n"
            "of the dtype's format copied as it is.")
        .def(
            "_get_many_typed",
            [](py::object self, py::object max_items, bool as_array, py::object block, py::object timeout) {
                return self.cast<ProcessRing&>().get_many_typed(self, max_items, as_array, block, timeout);
            },
            py::arg("max_items"), py::arg("as_array") = false, py::arg("block") = true, py::arg("timeout") = py::none(),
            "get_many of a typed ring: a list, or (int64/float64) an array.array.")
        .def_property_readonly("dtype", [](const ProcessRing& r) { return dtype_object(r.dtype()); },
                               "None (pickles), 'int64', 'float64' or 'bytes': fixed when the segment was made.")
        .def("close", &ProcessRing::close,
             "No more put or get through this object (ValueError); the items stay for others.")
        .def_property_readonly("_closed", &ProcessRing::closed)
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
             "that died holding the lock), dead_attachments (reclaimed), attached (live),\n"
             "waiting_gets, waiting_puts (threads waiting now, in every process).")
        .def_property_readonly("name", &ProcessRing::name)
        .def_property_readonly("maxsize", &ProcessRing::maxsize)
        .def_property_readonly("nbytes", &ProcessRing::nbytes)
        .def_property_readonly("max_item_bytes", &ProcessRing::max_item_bytes)
        .def_property_readonly("attached", &ProcessRing::attached)
        .def("_set_fault", &ProcessRing::set_fault, py::arg("fault"),
             "Test aid: 1 = SIGKILL this process halfway through its next put's copy,\n"
             "2 = through its next get's, 3 = SIGSTOP it halfway through its next put's; 0 = none.");
    add_fast_methods(cls);
    watch::add_watch_methods(cls);  // async_q's (ring_watch.hpp)
}

}  // namespace fastchan::binding

#else

namespace fastchan::binding {
// No shared-memory ring on this platform: fastchan.ProcessQueue raises
// NotImplementedError (it looks for _core._ProcessRing).
void register_process(py::module_&) {}
}  // namespace fastchan::binding

#endif
