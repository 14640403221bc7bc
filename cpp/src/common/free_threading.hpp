// Guards for what the GIL used to protect (free-threaded CPython, PEP 703).
//
// On a GIL build every one of these compiles to nothing (or to the plain
// operation it replaces): the GIL still serializes the binding there, so the
// hot paths cost what they cost before. On a free-threaded build
// (Py_GIL_DISABLED, 3.13t) each is the named guard that docs/design.md
// ("Without the GIL") lists beside the state it protects.
//
//   CriticalSection  Py_BEGIN_CRITICAL_SECTION(obj) as RAII: per-object
//                    Python-level state. Suspended (not deadlocked) when the
//                    thread blocks or enters another object's section, as
//                    CPython's own per-object locks are.
//   FtMutex          a PyMutex (it detaches the thread state while it waits,
//                    so a stop-the-world pause cannot deadlock on it): for
//                    module-wide caches and rare transitions. Never run Python
//                    code (a decref that may reach __del__) while holding it.
//   OnceFlag         a flag that exactly one caller sets (atomic exchange).
#pragma once

#include <Python.h>

#include <atomic>

namespace fastchan::binding {

#ifdef Py_GIL_DISABLED
inline constexpr bool kFreeThreaded = true;
#else
inline constexpr bool kFreeThreaded = false;
#endif

class CriticalSection {
public:
    explicit CriticalSection(PyObject* obj) noexcept {
#ifdef Py_GIL_DISABLED
        PyCriticalSection_Begin(&section_, obj);
#else
        (void)obj;
#endif
    }
    ~CriticalSection() {
#ifdef Py_GIL_DISABLED
        PyCriticalSection_End(&section_);
#endif
    }
    CriticalSection(const CriticalSection&) = delete;
    CriticalSection& operator=(const CriticalSection&) = delete;

private:
#ifdef Py_GIL_DISABLED
    PyCriticalSection section_;
#endif
};

class FtMutex {
public:
#ifdef Py_GIL_DISABLED
    void lock() noexcept { PyMutex_Lock(&mutex_); }
    void unlock() noexcept { PyMutex_Unlock(&mutex_); }

private:
    PyMutex mutex_{};
#else
    void lock() noexcept {}
    void unlock() noexcept {}
#endif
};

// set(): true for the one caller that set it first.
class OnceFlag {
public:
#ifdef Py_GIL_DISABLED
    bool set() noexcept { return !flag_.exchange(true, std::memory_order_acq_rel); }
    bool is_set() const noexcept { return flag_.load(std::memory_order_acquire); }

private:
    std::atomic<bool> flag_{false};
#else
    bool set() noexcept {
        bool first = !flag_;
        flag_ = true;
        return first;
    }
    bool is_set() const noexcept { return flag_; }

private:
    bool flag_ = false;
#endif
};

// PyList_GetItemRef (3.13): a strong reference to list[i], or nullptr with
// IndexError set. A borrowed item may be freed by another thread's list
// mutation on a free-threaded build.
inline PyObject* list_get_ref(PyObject* list, Py_ssize_t i) {
#if PY_VERSION_HEX >= 0x030D0000
    return PyList_GetItemRef(list, i);
#else
    return Py_XNewRef(PyList_GetItem(list, i));
#endif
}

}  // namespace fastchan::binding
