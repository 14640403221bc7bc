// The native half of fastchan.ProcessQueue.async_q
// (python/fastchan/_process_async.py): event loop tasks never block in the
// ring. A task reads a side's sequence word (_seq), tries the non-blocking
// operation, and if it would block hands the value it read to its process's
// watcher of that ring: one thread, which parks in _watch (GIL released,
// registered in the ring's waiter counts as put and get register, so every
// commit in any process wakes it) and wakes the tasks' loops when the word
// moves. _kick ends the watcher's park early (a task of the other side
// arrived, or none is left). _put_some_bytes is the non-blocking step of an
// awaited put_many: as many records as fit, and how many those were.
//
// Added to _core._ProcessRing by register_process.cpp (add_watch_methods);
// the class it is given has `shm::Ring& ring()` and `check_open(self)`.
#pragma once

#include "common/pybind.hpp"

#include <fastchan/shm/ring.hpp>

#if FASTCHAN_HAS_SHM

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "common/call_scope.hpp"
#include "common/errors.hpp"
#include "common/gil_wait.hpp"
#include "process/ring_errors.hpp"

namespace fastchan::binding::watch {

using detail::Clock;

// A deadline `timeout` seconds away (None or inf: none).
inline Clock::time_point deadline_in(const py::object& timeout) {
    if (timeout.is_none()) return detail::kNoDeadline;
    double seconds = timeout.cast<double>();
    if (!(seconds < 1e9)) return detail::kNoDeadline;  // (inf, and waits longer than 30 years)
    if (seconds < 0) seconds = 0;
    return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

template <class Class>
void add_watch_methods(Class& cls) {
    using Native = typename Class::type;
    cls.def(
           "_seq", [](Native& self, bool space) { return self.ring().seq(space); }, py::arg("space"),
           "The sequence word of the items (space=False: every put moves it) or of the\n"
           "space (space=True: every get); shutdown moves both. Read it before trying\n"
           "an operation, and hand it to _watch if that would block.")
        .def(
            "_kicks", [](Native& self) { return self.ring().kicks(); },
            "How many _kick()s this object had: read it before _watch.")
        .def(
            "_watch",
            [](Native& self, bool space, std::uint32_t seen, std::uint32_t kicks, const py::object& timeout) {
                CallScope call;
                Clock::time_point deadline = deadline_in(timeout);
                GilWait gil;
                return translate([&] { return self.ring().watch(space, seen, kicks, deadline, gil); });
            },
            py::arg("space"), py::arg("seen"), py::arg("kicks"), py::arg("timeout") = py::none(),
            "Wait, GIL released and registered as a waiter of that side in every\n"
            "process's eyes, until the side's word is no longer `seen` (True), a\n"
            "_kick() after `kicks` was read, or `timeout` seconds (False).")
        .def(
            "_kick", [](Native& self, bool space) { self.ring().kick(space); }, py::arg("space"),
            "End this object's _watch of that side now (the word does not move).")
        .def(
            "_put_some_bytes",
            [](py::object self, const py::list& records, std::size_t first) -> std::size_t {
                CallScope call;
                Native& native = self.cast<Native&>();
                if (!native.check_open(self.ptr())) throw py::error_already_set();
                std::size_t n = records.size();
                for (std::size_t i = first; i < n; ++i)
                    if (!PyBytes_Check(records[i].ptr())) throw py::type_error("_put_some_bytes takes a list of bytes");
                auto item_at = [&](std::size_t i) {
                    PyObject* b = records[i].ptr();
                    return std::pair<const void*, std::size_t>(PyBytes_AS_STRING(b),
                                                               static_cast<std::size_t>(PyBytes_GET_SIZE(b)));
                };
                if (first >= n) return 0;
                auto [moved, status] = translate([&] {
                    shm::Ring& ring = native.ring();
                    for (std::size_t i = first; i < n; ++i) {  // (one that can never fit: ValueError, none put)
                        auto [data, size] = item_at(i);
                        if (size > ring.max_item_bytes()) ring.try_put(data, size);
                    }
                    GilWait wait;
                    return ring.try_put_some(item_at, first, n, wait);
                });
                if (moved == 0 && status != Status::ok && status != Status::full) {
                    raise_for(status, g_errors.full);
                    throw py::error_already_set();
                }
                return moved;
            },
            py::arg("records"), py::arg("first"),
            "Put records[first:] in order while they fit, without waiting: how many went\n"
            "in. ShutDown (none went in) once shut down; ValueError for a record larger\n"
            "than the ring (none went in).");
}

}  // namespace fastchan::binding::watch

#endif  // FASTCHAN_HAS_SHM
