// The public headers that need Python.h (fastchan/python.hpp, dtypes.hpp),
// under the warnings of strict_headers.cpp plus -Wpedantic: compiled, not
// linked, by tests/python/test_strict_headers.py (Python.h comes with
// -isystem: its own warnings are not ours).
#include <fastchan/dtypes.hpp>
#include <fastchan/python.hpp>

#include <cstdint>
#include <string>

namespace {

// Instantiate what an extension module would, for every dtype.
template <class T>
bool feed(PyObject* obj, T item) {
    auto channel = fastchan::python::ChannelRef<T>::from(obj);
    if (!channel) return false;
    channel->try_send(std::move(item));
    auto got = channel->try_recv();
    return static_cast<bool>(got);
}

}  // namespace

bool strict_python_headers(PyObject* obj) {
    return feed<std::int64_t>(obj, 1) && feed<double>(obj, 2.0) && feed<std::string>(obj, "3") &&
           feed<PyObject*>(obj, Py_None) && fastchan::python::dtype_label(1) != nullptr;
}
