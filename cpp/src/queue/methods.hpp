// The per-item queue methods as METH_FASTCALL entry points: pybind11's
// dispatcher costs 90-160 ns a call, several times the queue operation
// itself, so put/get and friends bypass it.
#pragma once

#include "common/pybind.hpp"

#include <fastchan/status.hpp>

namespace fastchan::binding {

class PyQueue;

// The native queue behind a queue object (fastchan.Queue, fastchan.asyncio.Queue,
// SimpleQueue...); nullptr with TypeError set if its __init__ never ran.
PyQueue* native(PyObject* self);

// Adds put, get, put_nowait, get_nowait, qsize, empty and full.
void add_queue_fast_methods(py::handle cls);
// Adds native awaitable get(), put() and join() to a fastchan.asyncio queue
// class. See awaitables.cpp.
void add_async_fast_methods(py::handle cls);
// Adds SimpleQueue's subset: put, get, put_nowait, get_nowait, qsize, empty.
void add_simple_queue_fast_methods(py::handle cls);

}  // namespace fastchan::binding
