// fastchan/python.hpp: the native channel behind a fastchan.Channel, for
// another extension module (pybind11 or the plain C API). Its threads can
// then send and receive without the GIL, and Python threads, asyncio tasks
// and trio tasks waiting on the channel wake as they would for a Python peer.
//
//   // With the GIL held: borrow the Channel<std::int64_t> behind `obj`
//   // (a fastchan.Channel(..., dtype="int64")); it stays alive while `ch` does.
//   auto ch = fastchan::python::ChannelRef<std::int64_t>::from(obj);
//   if (!ch) return nullptr;                      // TypeError/RuntimeError set
//   std::thread producer([c = ch.get()] { c->send(42); });   // no GIL needed
//   ...                                           // keep `ch` until the thread is done:
//   producer.join();                              // (examples/cpp_extension/squares.cpp)
//
// dtype and T: as fastchan/dtypes.hpp lists them ("int64" std::int64_t,
// "float64" double, "bytes" std::string, None (objects) PyObject*: each item
// a strong reference, taken and dropped with the GIL held).
//
// How: obj.__fastchan_channel__() returns a capsule named
// "fastchan.Channel" whose pointer is a ChannelExport. Both sides run the
// same inline code on the same memory, so they must agree on Channel<T>'s
// layout and on the waiter protocol: kAbiVersion names that agreement and
// changes whenever either changes; the sizes of Channel<T> and T and the C++
// standard library's ABI (a std::string differs between libstdc++'s two
// ABIs, and between libstdc++ and libc++) are checked as well, and so is how
// threads sleep (a futex, or the parking table of other systems and of a
// FASTCHAN_PORTABLE build: a waiter of one cannot be woken by the other). A mismatch is
// a RuntimeError asking to rebuild the extension against the installed
// fastchan (`python -m fastchan --cmakedir`).
#pragma once

#include <Python.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "channel.hpp"
#include "detail/platform.hpp"
#include "dtypes.hpp"

#define FASTCHAN_PYTHON_STR2(x) #x
#define FASTCHAN_PYTHON_STR(x) FASTCHAN_PYTHON_STR2(x)

namespace fastchan::python {

inline constexpr unsigned kAbiVersion = 1;
inline constexpr const char kCapsuleName[] = "fastchan.Channel";

// The C++ standard library and ABI this code is compiled for, and how its
// threads sleep when that is not a futex.
inline constexpr const char kStdlibAbi[] =
#if defined(_LIBCPP_ABI_VERSION)
    "libc++" FASTCHAN_PYTHON_STR(_LIBCPP_ABI_VERSION)
#elif defined(__GLIBCXX__)
#if defined(_GLIBCXX_USE_CXX11_ABI) && _GLIBCXX_USE_CXX11_ABI
    "libstdc++-cxx11"
#else
    "libstdc++-cxx98"
#endif
#elif defined(_MSC_VER)
    "msvc" FASTCHAN_PYTHON_STR(_MSC_VER)
#else
    "unknown"
#endif
#if !FASTCHAN_USE_LINUX_APIS
    " parking-table"
#endif
    ;

// What the capsule points to. abi_version comes first and stays first, so
// any later layout can still be told apart.
struct ChannelExport {
    unsigned abi_version;      // kAbiVersion of the fastchan that made it
    int dtype;                 // the code in fastchan/dtypes.hpp (0 objects, 1 int64...)
    std::size_t channel_size;  // sizeof(Channel<T>) in that build
    std::size_t item_size;     // sizeof(T) in that build
    const char* stdlib_abi;    // its kStdlibAbi
    void* channel;             // Channel<T>*
};

// The dtype code (ChannelExport::dtype) and label of each item type, as
// listed in fastchan/dtypes.hpp.
template <class T>
constexpr int dtype_code() {
    static_assert(is_dtype<T>, "T must be a type FASTCHAN_DTYPES lists (fastchan/dtypes.hpp): PyObject*, "
                               "std::int64_t, double, std::string...");
    return DtypeTraits<T>::code;
}

inline const char* dtype_label(int code) {
#define FASTCHAN_DTYPE_LABEL(Type, Name, Code, ...) \
    if (code == Code) return DtypeTraits<Type>::label;
    FASTCHAN_DTYPES(FASTCHAN_DTYPE_LABEL)
#undef FASTCHAN_DTYPE_LABEL
    return "unknown";
}

// With the GIL held: the Channel<T> behind the fastchan.Channel `obj`, or
// nullptr with TypeError (not a fastchan.Channel, or another dtype) or
// RuntimeError (ABI mismatch) set. *owner receives a new reference that
// keeps the channel alive; drop it (with the GIL) when done.
template <class T>
Channel<T>* channel_from(PyObject* obj, PyObject** owner) {
    *owner = nullptr;
    PyObject* method = PyObject_GetAttrString(obj, "__fastchan_channel__");
    if (method == nullptr) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return nullptr;
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "expected a fastchan.Channel, not %.100s %R", Py_TYPE(obj)->tp_name, obj);
        return nullptr;
    }
    PyObject* capsule = PyObject_CallNoArgs(method);
    Py_DECREF(method);
    if (capsule == nullptr) return nullptr;
    if (!PyCapsule_IsValid(capsule, kCapsuleName)) {
        PyErr_Format(PyExc_TypeError, "%.100s.__fastchan_channel__() did not return a \"%s\" capsule",
                     Py_TYPE(obj)->tp_name, kCapsuleName);
        Py_DECREF(capsule);
        return nullptr;
    }
    auto* exp = static_cast<ChannelExport*>(PyCapsule_GetPointer(capsule, kCapsuleName));
    if (exp->abi_version != kAbiVersion) {
        PyErr_Format(PyExc_RuntimeError,
                     "fastchan channel ABI mismatch: the installed fastchan has ABI version %u, this extension "
                     "was built for version %u; rebuild it against the installed fastchan",
                     exp->abi_version, kAbiVersion);
        Py_DECREF(capsule);
        return nullptr;
    }
    if (exp->dtype != dtype_code<T>()) {
        PyErr_Format(PyExc_TypeError, "expected a fastchan.Channel of dtype %s, not one of dtype %s",
                     dtype_label(dtype_code<T>()), dtype_label(exp->dtype));
        Py_DECREF(capsule);
        return nullptr;
    }
    if (exp->channel_size != sizeof(Channel<T>) || exp->item_size != sizeof(T) ||
        std::strcmp(exp->stdlib_abi, kStdlibAbi) != 0) {
        PyErr_Format(PyExc_RuntimeError,
                     "fastchan channel ABI mismatch: the installed fastchan was built with %s (%zu-byte "
                     "channels of %zu-byte items), this extension with %s (%zu-byte channels of %zu-byte "
                     "items); rebuild it against the installed fastchan with the same C++ standard library",
                     exp->stdlib_abi, exp->channel_size, exp->item_size, kStdlibAbi, sizeof(Channel<T>),
                     sizeof(T));
        Py_DECREF(capsule);
        return nullptr;
    }
    *owner = capsule;
    return static_cast<Channel<T>*>(exp->channel);
}

// channel_from as an owning handle. Create and destroy it with the GIL
// held; use the channel (get(), ->) from any thread, GIL or not, while it lives.
template <class T>
class ChannelRef {
public:
    ChannelRef() = default;
    // Empty (false) with a Python exception set if `obj` does not qualify.
    static ChannelRef from(PyObject* obj) {
        ChannelRef ref;
        ref.channel_ = channel_from<T>(obj, &ref.owner_);
        return ref;
    }
    ChannelRef(ChannelRef&& other) noexcept
        : channel_(std::exchange(other.channel_, nullptr)), owner_(std::exchange(other.owner_, nullptr)) {}
    ChannelRef& operator=(ChannelRef&& other) noexcept {
        std::swap(channel_, other.channel_);
        std::swap(owner_, other.owner_);
        return *this;
    }
    ~ChannelRef() { Py_XDECREF(owner_); }

    explicit operator bool() const noexcept { return channel_ != nullptr; }
    Channel<T>* get() const noexcept { return channel_; }
    Channel<T>* operator->() const noexcept { return channel_; }
    Channel<T>& operator*() const noexcept { return *channel_; }

private:
    Channel<T>* channel_ = nullptr;
    PyObject* owner_ = nullptr;
};

}  // namespace fastchan::python
