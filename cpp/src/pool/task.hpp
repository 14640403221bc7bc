// PyTask: one call submitted to a fastchan.ThreadPool, fn(*args, **kwargs),
// and what it completes: a fastchan.Future (a concurrent.futures Future), or
// the ThreadCall of a to_thread().
//
// A fastchan.Future is completed natively, speaking the stdlib Future's
// protocol: its fields _state/_result/_exception/_waiters/_done_callbacks,
// updated under its _condition, as Future.set_result would.
#pragma once

#include <Python.h>

#include <utility>
#include <vector>

#include "pool/thread_call.hpp"

namespace fastchan::binding {

// Names and constants of concurrent.futures._base, loaded when the first
// pool is made (so `import fastchan` does not import concurrent.futures).
struct FutureProtocol {
    PyObject* state = nullptr;  // attribute names
    PyObject* result = nullptr;
    PyObject* exception = nullptr;
    PyObject* waiters = nullptr;
    PyObject* done_callbacks = nullptr;
    PyObject* condition = nullptr;
    PyObject* pending = nullptr;  // state values
    PyObject* running = nullptr;
    PyObject* cancelled = nullptr;
    PyObject* finished = nullptr;

    // Fills the fields once; false with a Python error set on failure. The
    // first pools of several threads may race here: load_lock serializes the
    // filling (it imports concurrent.futures under the lock, a PyMutex, which
    // nothing in that import can reach again), `loaded` publishes it.
    bool load();
    std::atomic<bool> loaded{false};
    FtMutex load_lock;
};

inline FutureProtocol g_future;

class PyTask {
public:
    PyTask() = default;
    // Takes new references to its arguments; `kwargs` may be null. `owner`
    // is the Future, or the Python object owning `call` for a to_thread().
    PyTask(PyObject* owner, ThreadCall* call, PyObject* fn, PyObject* args, PyObject* kwargs) noexcept
        : future_(owner), call_(call), fn_(fn), args_(args), kwargs_(kwargs) {
        Py_INCREF(future_);
        Py_INCREF(fn_);
        Py_INCREF(args_);
        Py_XINCREF(kwargs_);
    }
    // Moves steal the references, so a task can travel through the channel
    // without the GIL; destroying a non-empty task needs it.
    PyTask(PyTask&& other) noexcept { steal(other); }
    PyTask& operator=(PyTask&& other) noexcept {
        if (this != &other) {
            clear();
            steal(other);
        }
        return *this;
    }
    PyTask(const PyTask&) = delete;
    PyTask& operator=(const PyTask&) = delete;
    ~PyTask() { clear(); }

    // The Future, or the owner of call().
    PyObject* future() const noexcept { return future_; }
    // A to_thread() task's result slot; nullptr for a Future.
    ThreadCall* call() const noexcept { return call_; }

    // Worker side, GIL held: runs the call unless its future was cancelled,
    // and completes the future. Never raises: a failure of the completion
    // itself is reported as unraisable. The ready flag of a ThreadCall is
    // added to `to_publish`, for the worker to raise once it has released
    // the GIL.
    void run(std::vector<ThreadCall::Flag>& to_publish) noexcept;

private:
    void steal(PyTask& other) noexcept {
        future_ = std::exchange(other.future_, nullptr);
        call_ = std::exchange(other.call_, nullptr);
        fn_ = std::exchange(other.fn_, nullptr);
        args_ = std::exchange(other.args_, nullptr);
        kwargs_ = std::exchange(other.kwargs_, nullptr);
    }
    void clear() noexcept {
        Py_CLEAR(future_);
        call_ = nullptr;
        Py_CLEAR(fn_);
        Py_CLEAR(args_);
        Py_CLEAR(kwargs_);
    }

    // Calls fn; returns the result, or nullptr with the raised exception
    // (its traceback attached) in *error.
    PyObject* call(PyObject** error) noexcept;
    void run_for_future() noexcept;
    void run_for_call(std::vector<ThreadCall::Flag>& to_publish) noexcept;

    PyObject* future_ = nullptr;
    ThreadCall* call_ = nullptr;  // owned by future_
    PyObject* fn_ = nullptr;
    PyObject* args_ = nullptr;
    PyObject* kwargs_ = nullptr;
};

}  // namespace fastchan::binding
