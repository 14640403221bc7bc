#include "pool/task.hpp"

namespace fastchan::binding {
namespace {

PyObject* intern(const char* s) { return PyUnicode_InternFromString(s); }

// Method names, interned once by FutureProtocol::load.
struct Names {
    PyObject* acquire;
    PyObject* release;
    PyObject* notify_all;
    PyObject* condition_waiters;  // threading.Condition's own list
    PyObject* add_result;
    PyObject* add_exception;
    PyObject* invoke_callbacks;
    PyObject* set_running_or_notify_cancel;
};
Names g_names;

bool is_state(PyObject* state, PyObject* expected) {
    if (state == expected) return true;
    return state != nullptr && PyUnicode_Check(state) && PyUnicode_Compare(state, expected) == 0;
}

// The future's _condition (fastchan.Future's is shared by all of them),
// held for the scope, as Future.set_result holds it. Needs the GIL.
class FutureLock {
public:
    explicit FutureLock(PyObject* future) {
        condition_ = PyObject_GetAttr(future, g_future.condition);
        if (condition_ == nullptr) {
            PyErr_WriteUnraisable(future);
            return;
        }
        PyObject* r = PyObject_CallMethodNoArgs(condition_, g_names.acquire);
        if (r == nullptr) {
            PyErr_WriteUnraisable(condition_);
            Py_CLEAR(condition_);
        }
        Py_XDECREF(r);
    }
    ~FutureLock() {
        if (condition_ == nullptr) return;
        PyObject* r = PyObject_CallMethodNoArgs(condition_, g_names.release);
        if (r == nullptr) PyErr_WriteUnraisable(condition_);
        Py_XDECREF(r);
        Py_DECREF(condition_);
    }
    FutureLock(const FutureLock&) = delete;
    FutureLock& operator=(const FutureLock&) = delete;

    // Condition.notify_all(), skipped when nobody waits on the condition
    // (always, for fastchan.Future: its result() waits in _waiters).
    void notify_all() {
        if (condition_ == nullptr) return;
        PyObject* waiting = PyObject_GetAttr(condition_, g_names.condition_waiters);
        Py_ssize_t n = waiting ? PyObject_Length(waiting) : -1;
        Py_XDECREF(waiting);
        if (n == 0) return;
        PyErr_Clear();  // not a threading.Condition: notify anyway
        PyObject* r = PyObject_CallMethodNoArgs(condition_, g_names.notify_all);
        if (r == nullptr) PyErr_WriteUnraisable(condition_);
        Py_XDECREF(r);
    }

private:
    PyObject* condition_ = nullptr;
};

// Calls method(future) on each of the future's _waiters (cf.wait's).
void notify_waiters(PyObject* future, PyObject* method) {
    PyObject* waiters = PyObject_GetAttr(future, g_future.waiters);
    if (waiters == nullptr) {
        PyErr_WriteUnraisable(future);
        return;
    }
    for (Py_ssize_t i = 0; PyList_Check(waiters) && i < PyList_GET_SIZE(waiters); ++i) {
        // A strong reference: without the GIL a borrowed one could be freed
        // by another thread's change to the list.
        PyObject* waiter = list_get_ref(waiters, i);
        if (waiter == nullptr) {
            PyErr_Clear();  // the list shrank meanwhile
            break;
        }
        PyObject* r = PyObject_CallMethodOneArg(waiter, method, future);
        if (r == nullptr) PyErr_WriteUnraisable(waiter);
        Py_XDECREF(r);
        Py_DECREF(waiter);
    }
    Py_DECREF(waiters);
}

void call_method(PyObject* obj, PyObject* name) {
    PyObject* r = PyObject_CallMethodNoArgs(obj, name);
    if (r == nullptr) PyErr_WriteUnraisable(obj);
    Py_XDECREF(r);
}

}  // namespace

bool FutureProtocol::load() {
    if (loaded.load(std::memory_order_acquire)) return true;
    std::lock_guard<FtMutex> guard(load_lock);
    if (loaded.load(std::memory_order_relaxed)) return true;
    PyObject* base = PyImport_ImportModule("concurrent.futures._base");
    if (base == nullptr) return false;
    pending = PyObject_GetAttrString(base, "PENDING");
    running = PyObject_GetAttrString(base, "RUNNING");
    cancelled = PyObject_GetAttrString(base, "CANCELLED");
    finished = PyObject_GetAttrString(base, "FINISHED");
    Py_DECREF(base);
    if (!pending || !running || !cancelled || !finished) return false;
    state = intern("_state");
    result = intern("_result");
    exception = intern("_exception");
    waiters = intern("_waiters");
    done_callbacks = intern("_done_callbacks");
    condition = intern("_condition");
    g_names = {intern("acquire"),
               intern("release"),
               intern("notify_all"),
               intern("_waiters"),
               intern("add_result"),
               intern("add_exception"),
               intern("_invoke_callbacks"),
               intern("set_running_or_notify_cancel")};
    bool ok = !PyErr_Occurred();
    loaded.store(ok, std::memory_order_release);
    return ok;
}

PyObject* PyTask::call(PyObject** error) noexcept {
    PyObject* value = PyObject_Call(fn_, args_, kwargs_);
    if (value != nullptr) return value;
#if PY_VERSION_HEX >= 0x030C0000
    *error = PyErr_GetRaisedException();
#else
    PyObject *type, *exc, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    PyErr_NormalizeException(&type, &exc, &tb);
    if (tb != nullptr) PyException_SetTraceback(exc, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    *error = exc;
#endif
    return nullptr;
}

void PyTask::run(std::vector<ThreadCall::Flag>& to_publish) noexcept {
    if (call_ == nullptr) {
        run_for_future();
    } else {
        run_for_call(to_publish);
    }
}

void PyTask::run_for_future() noexcept {
    // PENDING -> RUNNING, as Future.set_running_or_notify_cancel does.
    // (Attribute access, not the __dict__: asking for that would make
    // CPython >= 3.11 build one per future.)
    bool start = false, was_cancelled = false;
    {
        FutureLock lock(future_);
        PyObject* state = PyObject_GetAttr(future_, g_future.state);
        start = is_state(state, g_future.pending);
        was_cancelled = is_state(state, g_future.cancelled);
        Py_XDECREF(state);
        if (start && PyObject_SetAttr(future_, g_future.state, g_future.running) < 0) start = false;
        if (PyErr_Occurred()) PyErr_WriteUnraisable(future_);
    }
    if (!start) {
        // Cancelled while queued: the stdlib marks it notified and wakes
        // cf.wait's waiters. (Any other state: its owner completed it.)
        if (was_cancelled) call_method(future_, g_names.set_running_or_notify_cancel);
        return;
    }

    PyObject* error = nullptr;
    PyObject* value = call(&error);

    // RUNNING -> FINISHED, as Future.set_result / set_exception do.
    {
        FutureLock lock(future_);
        PyObject* state = PyObject_GetAttr(future_, g_future.state);
        bool running = is_state(state, g_future.running);
        Py_XDECREF(state);
        if (running) {
            bool ok = value != nullptr;
            if (PyObject_SetAttr(future_, ok ? g_future.result : g_future.exception, ok ? value : error) < 0 ||
                PyObject_SetAttr(future_, g_future.state, g_future.finished) < 0) {
                PyErr_WriteUnraisable(future_);
            }
            notify_waiters(future_, ok ? g_names.add_result : g_names.add_exception);
            lock.notify_all();
        } else if (PyErr_Occurred()) {
            PyErr_WriteUnraisable(future_);
        }
    }
    Py_XDECREF(value);
    Py_XDECREF(error);

    PyObject* callbacks = PyObject_GetAttr(future_, g_future.done_callbacks);
    if (callbacks == nullptr) PyErr_WriteUnraisable(future_);
    if (callbacks != nullptr && PyList_Check(callbacks) && PyList_GET_SIZE(callbacks) > 0) {
        call_method(future_, g_names.invoke_callbacks);
    }
    Py_XDECREF(callbacks);
}

void PyTask::run_for_call(std::vector<ThreadCall::Flag>& to_publish) noexcept {
    // The awaiting task was cancelled before the call started: skip it.
    if (call_->abandoned()) return;
    PyObject* error = nullptr;
    PyObject* value = call(&error);
    bool ok = value != nullptr;
    if (ThreadCall::Flag ready = call_->finish(ok ? value : error, ok)) {
        try {
            to_publish.push_back(std::move(ready));
        } catch (...) {
            ready->store(true, std::memory_order_release);  // no memory: publish now
        }
    }
}

}  // namespace fastchan::binding
