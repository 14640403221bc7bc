// PyTask: one call submitted to a fastchan.ThreadPool, fn(*args, **kwargs),
// and the future it completes: a fastchan.Future (a concurrent.futures
// Future), or an asyncio future of `loop` for to_thread().
//
// A fastchan.Future is completed natively, speaking the stdlib Future's
// protocol: its fields _state/_result/_exception/_waiters/_done_callbacks,
// updated under its _condition, as Future.set_result would.
#pragma once

#include <Python.h>

#include <utility>

namespace fastchan::py {

// Names and constants of concurrent.futures._base, loaded once at import.
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

    // Fills the fields; false with a Python error set on failure.
    bool load();
};

inline FutureProtocol g_future;

class PyTask {
public:
    PyTask() = default;
    // Takes new references to its arguments; `loop` and `kwargs` may be null.
    PyTask(PyObject* future, PyObject* loop, PyObject* fn, PyObject* args, PyObject* kwargs) noexcept
        : future_(future), loop_(loop), fn_(fn), args_(args), kwargs_(kwargs) {
        Py_INCREF(future_);
        Py_XINCREF(loop_);
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

    PyObject* future() const noexcept { return future_; }
    // The asyncio loop for a to_thread() task; nullptr for a Future.
    PyObject* loop() const noexcept { return loop_; }

    // Worker side, GIL held: runs the call unless its future was cancelled,
    // and completes the future. Never raises: a failure of the completion
    // itself is reported as unraisable. `deliver(fut, ok, value)` is the
    // function an asyncio future's loop runs to complete it.
    void run(PyObject* deliver) noexcept;

private:
    void steal(PyTask& other) noexcept {
        future_ = std::exchange(other.future_, nullptr);
        loop_ = std::exchange(other.loop_, nullptr);
        fn_ = std::exchange(other.fn_, nullptr);
        args_ = std::exchange(other.args_, nullptr);
        kwargs_ = std::exchange(other.kwargs_, nullptr);
    }
    void clear() noexcept {
        Py_CLEAR(future_);
        Py_CLEAR(loop_);
        Py_CLEAR(fn_);
        Py_CLEAR(args_);
        Py_CLEAR(kwargs_);
    }

    // Calls fn; returns the result, or nullptr with the raised exception
    // (its traceback attached) in *error.
    PyObject* call(PyObject** error) noexcept;
    void run_for_future() noexcept;
    void run_for_loop(PyObject* deliver) noexcept;

    PyObject* future_ = nullptr;
    PyObject* loop_ = nullptr;
    PyObject* fn_ = nullptr;
    PyObject* args_ = nullptr;
    PyObject* kwargs_ = nullptr;
};

}  // namespace fastchan::py
