// fastchan._core: the binding of the C++ core to Python.
#include "common/pybind.hpp"

#include "common/batches.hpp"
#include "common/errors.hpp"
#include "common/gil_wait.hpp"
#include "loops/wake_fd.hpp"

#include <fastchan/detail/futex.hpp>
#include <fastchan/detail/platform.hpp>
#include <fastchan/shm/segment.hpp>

namespace fastchan::binding {
void register_queue(py::module_& m);
void register_loops(py::module_& m);
void register_pool(py::module_& m);
void register_channel(py::module_& m);
void register_select(py::module_& m);
void register_testing(py::module_& m);
void register_process(py::module_& m);
}

// Sub-interpreters: fastchan keeps process-wide state (its exception
// classes, the array objects it caches, the main thread's id,
// every channel's waiters, which any thread may touch), so it runs only in
// the main interpreter. The import elsewhere fails at once with ImportError;
// the check comes before pybind11 sets up its internals, which would
// otherwise wait forever for the main interpreter's GIL (3.10, 3.11). From
// 3.12 the module also declares Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED.
static int pybind11_exec__core(PyObject*);
extern "C" PYBIND11_EXPORT PyObject* PyInit__core() {
    PYBIND11_CHECK_PYTHON_VERSION
    if (PyInterpreterState_Get() != PyInterpreterState_Main()) {
        PyErr_SetString(PyExc_ImportError,
                        "fastchan cannot be imported in a sub-interpreter: its native state is shared by "
                        "the whole process; import it in the main interpreter");
        return nullptr;
    }
    try {
        pybind11::detail::ensure_internals();
        static pybind11::detail::slots_array slots =
            pybind11::detail::init_slots(&pybind11_exec__core, pybind11::mod_gil_not_used(),
                                         pybind11::multiple_interpreters::not_supported());
        static PyModuleDef def{PyModuleDef_HEAD_INIT, "_core", nullptr, 0, nullptr, slots.data(),
                               nullptr, nullptr, nullptr};
        return PyModuleDef_Init(&def);
    }
    PYBIND11_CATCH_INIT_EXCEPTIONS
    return nullptr;
}

PYBIND11_MODULE_EXEC(_core, m) {
    using namespace fastchan::binding;
    m.doc() = "Native core of fastchan: channels and queues that release the GIL to block.";

    // The exception classes live in Python so they can have two stdlib bases.
    py::module_ errors = py::module_::import("fastchan._errors");
    g_errors.empty = py::object(errors.attr("Empty")).release().ptr();
    g_errors.full = py::object(errors.attr("Full")).release().ptr();
    g_errors.shutdown = py::object(errors.attr("ShutDown")).release().ptr();
    g_errors.channel_closed = py::object(errors.attr("ChannelClosed")).release().ptr();

    py::object empty_marker = py::module_::import("builtins").attr("object")();
    m.attr("EMPTY") = empty_marker;
    g_empty_marker = empty_marker.release().ptr();

    // The dtype list (FASTCHAN_DTYPES), for the Python layer to read rather
    // than repeat: DTYPES maps each dtype as .dtype gives it (None for
    // objects) to its capsule code; ARRAY_TYPECODES each dtype that
    // get_many(as_array=True) serves to its array.array typecode.
    g_array_type = py::object(py::module_::import("array").attr("array")).release().ptr();
    py::dict dtypes, typecodes;
    for_each_dtype([&](auto tag) {
        using T = typename decltype(tag)::type;
        dtypes[dtype_object(dtype_of<T>)] = DtypeTraits<T>::code;
        if constexpr (has_typecode<T>) {
            g_array_typecode<T> = py::str(DtypeTraits<T>::typecode).release().ptr();
            typecodes[DtypeTraits<T>::name] = py::reinterpret_borrow<py::str>(g_array_typecode<T>);
        }
    });
    m.attr("DTYPES") = dtypes;
    m.attr("ARRAY_TYPECODES") = typecodes;

    m.def(
        "_set_main_thread", [](unsigned long ident) { g_main_thread.store(ident); },
        "Record the main thread's ident (at import, and in a forked child).");
    m.def(
        "_at_exit", [] { g_exiting.store(true); },
        "atexit hook: from now on a daemon thread woken in a blocking call sleeps\n"
        "until the process ends instead of re-entering a finalizing interpreter.");

    // Which platform code this build runs (tests check a FASTCHAN_PORTABLE
    // build really runs the portable code: tests/run_portable.sh).
    py::dict build_info;
#if defined(FASTCHAN_PORTABLE)
    build_info["portable"] = true;
#else
    build_info["portable"] = false;
#endif
    build_info["linux_apis"] = bool(FASTCHAN_USE_LINUX_APIS);
    build_info["parking"] = fastchan::detail::kParkingKind;
    build_info["wake_fd"] = WakeFd::kind();
    build_info["process_queue"] = bool(FASTCHAN_HAS_SHM);  // (fastchan.ProcessQueue: shm/ring.hpp)
    m.attr("_build_info") = build_info;

    register_queue(m);
    register_loops(m);
    register_pool(m);
    register_channel(m);
    register_select(m);
    register_process(m);
    py::module_ testing = m.def_submodule("_testing", "Test aids: native producers and consumers, fault injection.");
    register_testing(testing);
}
