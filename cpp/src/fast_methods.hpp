// The per-item queue methods as METH_FASTCALL entry points: pybind11's
// dispatcher costs 90-160 ns a call, several times the queue operation
// itself, so put/get and friends bypass it.
#pragma once

#include <pybind11/pybind11.h>

#include <fastchan/status.hpp>

namespace fastchan::py {

class PyQueue;

// timeout: None or a real number; ignored when not blocking, as in the
// stdlib. False with TypeError/ValueError (naming the value) if invalid.
bool parse_timeout(PyObject* obj, bool block, detail::Clock::time_point& deadline);

// block: any object, by truth value (true when obj is nullptr). False with
// the truth test's error set.
bool parse_block(PyObject* obj, bool& block);

// The native queue behind a queue object (fastchan.Queue, fastchan.asyncio.Queue,
// SimpleQueue...); nullptr with TypeError set if its __init__ never ran.
PyQueue* native(PyObject* self);

// Adds put, get, put_nowait, get_nowait, qsize, empty and full.
void add_queue_fast_methods(pybind11::handle cls);
// Adds native awaitable get() and put() to a fastchan.asyncio queue class
// (CPython >= 3.10; a no-op before). See async_ops.cpp.
void add_async_fast_methods(pybind11::handle cls);
// Adds SimpleQueue's subset: put, get, put_nowait, get_nowait, qsize, empty.
void add_simple_queue_fast_methods(pybind11::handle cls);

}  // namespace fastchan::py
