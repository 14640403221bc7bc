// fastchan._core: the binding of the C++ core to Python.
#include <pybind11/pybind11.h>

#include "errors.hpp"
#include "gil_wait.hpp"

namespace py = pybind11;

namespace fastchan::py {
void register_queue(::py::module_& m);
void register_asyncio(::py::module_& m);
void register_pool(::py::module_& m);
void register_channel(::py::module_& m);
void register_select(::py::module_& m);
void register_trio(::py::module_& m);
void register_testing(::py::module_& m);
}

PYBIND11_MODULE(_core, m) {
    using namespace fastchan::py;
    m.doc() = "Native core of fastchan: channels and queues that release the GIL to block.";

    // The exception classes live in Python so they can have two stdlib bases.
    ::py::module_ errors = ::py::module_::import("fastchan._errors");
    g_errors.empty = ::py::object(errors.attr("Empty")).release().ptr();
    g_errors.full = ::py::object(errors.attr("Full")).release().ptr();
    g_errors.shutdown = ::py::object(errors.attr("ShutDown")).release().ptr();
    g_errors.channel_closed = ::py::object(errors.attr("ChannelClosed")).release().ptr();

    ::py::object empty_marker = ::py::module_::import("builtins").attr("object")();
    m.attr("EMPTY") = empty_marker;
    g_empty_marker = empty_marker.release().ptr();

    m.def(
        "_set_main_thread", [](unsigned long ident) { g_main_thread.store(ident); },
        "Record the main thread's ident (at import, and in a forked child).");
    m.def(
        "_at_exit", [] { g_exiting.store(true); },
        "atexit hook: from now on a daemon thread woken in a blocking call sleeps\n"
        "until the process ends instead of re-entering a finalizing interpreter.");

    register_queue(m);
    register_asyncio(m);
    register_pool(m);
    register_channel(m);
    register_select(m);
    register_trio(m);
    register_testing(m);
}
