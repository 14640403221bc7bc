// Typed process queues (ProcessQueue(dtype="int64" | "float64" | "bytes")):
// items go into the shared ring as C values, no pickling. int64 and float64
// are one 8-byte record each (shm::Ring's word path: a batch is one lock,
// one loop and one commit); bytes are the record itself.
//
// Why a record per value rather than one record of many values: a get may
// take any number of items (get_many(3) of a batch of 4096) at a record
// boundary, so the ring's indices stay the whole committed state (one store
// commits a change; nothing in a record is ever rewritten in place, which a
// partly taken record would need), maxsize keeps counting items, and a C++
// peer reads every ring alike. The price is 16 bytes of ring per 8-byte
// value; the batch itself still costs one lock and one commit.
//
// Part of register_process.cpp's translation unit (it uses its View and
// BytesAlloc); kept apart to keep the pickling queue and the typed one
// readable on their own.
#pragma once

#include <cstring>
#include <type_traits>

#include "common/batches.hpp"
#include "common/codecs.hpp"
#include "common/dtypes.hpp"
#include "process/ring_errors.hpp"

namespace fastchan::binding::typed {

// The ring's item types are fastchan's dtype codes (object: pickles).
static_assert(static_cast<int>(shm::ItemType::pickle) == static_cast<int>(Dtype::object));
static_assert(static_cast<int>(shm::ItemType::int64) == static_cast<int>(Dtype::int64));
static_assert(static_cast<int>(shm::ItemType::float64) == static_cast<int>(Dtype::float64));
static_assert(static_cast<int>(shm::ItemType::bytes) == static_cast<int>(Dtype::bytes));

inline shm::ItemType item_type_of(Dtype d) { return static_cast<shm::ItemType>(static_cast<int>(d)); }
inline Dtype dtype_of_ring(const shm::Ring& r) { return static_cast<Dtype>(static_cast<int>(r.item_type())); }

// A bytes item: a bytes-like object (str refused), else TypeError naming
// the value and the dtype, as Codec<std::string> says it.
inline bool check_bytes_item(PyObject* obj) {
    if (PyBytes_CheckExact(obj) || (!PyUnicode_Check(obj) && PyObject_CheckBuffer(obj))) return true;
    PyErr_Format(PyExc_TypeError, "a bytes item must be a bytes-like object, not %.100s %.200R",
                 Py_TYPE(obj)->tp_name, obj);
    return false;
}

// Puts up to n words from `src`, waiting for room as put does: ok, or the
// status that stopped it with `done` saying how many went in.
template <class Wait>
Status put_words(shm::Ring& r, const void* src, std::size_t n, bool block, Clock::time_point deadline, Wait& wait,
                 std::size_t& done) {
    auto at = [&](std::size_t i) { return static_cast<const unsigned char*>(src) + 8 * i; };
    while (done < n) {
        auto [moved, status] = r.try_put_words(at(done), n - done, wait, deadline);
        done += moved;
        if (done == n) break;
        if (status != Status::full) return status;
        if (!block) return Status::full;
        Status w = r.wait_space(
            [&] {
                auto [m, st] = r.try_put_words(at(done), n - done, wait, deadline);
                done += m;
                return m > 0 ? Status::ok : st;
            },
            deadline, wait);
        if (w != Status::ok) return w;
    }
    return Status::ok;
}

// One int64/float64 item in; false with the exception set.
template <class T>
bool put_value(shm::Ring& r, PyObject* item, bool block, Clock::time_point deadline) {
    static_assert(sizeof(T) == 8 && std::is_trivially_copyable_v<T>);
    T value{};
    if (!Codec<T>::from_py(item, value)) return false;
    return python_error_or(false, [&] {
        std::size_t done = 0;
        Status s = translate([&] {
            GilWait wait;
            return put_words(r, &value, 1, block, deadline, wait, done);
        });
        if (s != Status::ok) raise_status(s, g_errors.full);
        return true;
    });
}

// Waits for one word as get does, then takes what is there into the room
// `room()` gives (room.size words, sized at each attempt: see get_many):
// how many; the error raised (Empty, ShutDown...) when none.
template <class Room>
std::size_t get_words(shm::Ring& r, bool block, Clock::time_point deadline, Room&& room) {
    std::size_t got = 0;
    Status s = translate([&] {
        GilWait wait;
        auto take = [&] {
            void* dst = room();
            if (dst == nullptr) return Status::interrupted;
            auto [n, st] = r.try_get_words(dst, room.size, wait, deadline);
            got = n;
            return n > 0 ? Status::ok : st;
        };
        if (!block) return take();
        return r.wait_items(take, deadline, wait);
    });
    if (got == 0) {
        if (PyErr_Occurred()) throw py::error_already_set();
        raise_status(s, g_errors.empty);
    }
    return got;
}

// One int64/float64 item out; nullptr with the exception set.
template <class T>
PyObject* get_value(shm::Ring& r, bool block, Clock::time_point deadline) {
    T value{};
    struct One {
        T* v;
        std::size_t size = 1;
        void* operator()() const { return v; }
    } room{&value};
    return python_error_or<PyObject*>(nullptr, [&] {
        get_words(r, block, deadline, room);
        return Codec<T>::to_py(value);  // (a MemoryError here loses the item, as a pickle's would)
    });
}

// A buffer put_many copies as it is: 1-dimensional, T's format in native
// byte order. Empty (data nullptr) otherwise, with no error set.
template <class T>
struct NativeBuffer {
    Py_buffer view{};
    bool held = false;
    explicit NativeBuffer(PyObject* obj) {
        if (!PyObject_CheckBuffer(obj) || PyObject_GetBuffer(obj, &view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) != 0) {
            PyErr_Clear();
            return;
        }
        held = true;
        bool swap = false;
        if (view.ndim != 1 || !detail_batches::matches<T>(view.format, view.itemsize, swap) || swap) release();
    }
    ~NativeBuffer() { release(); }
    NativeBuffer(const NativeBuffer&) = delete;
    NativeBuffer& operator=(const NativeBuffer&) = delete;
    void release() {
        if (held) PyBuffer_Release(&view);
        held = false;
    }
    const void* data() const { return held ? view.buf : nullptr; }
    std::size_t size() const { return held ? static_cast<std::size_t>(view.len) / sizeof(T) : 0; }
};

// put_many of int64/float64 items: a native buffer is copied from where it
// is; anything else is converted whole first (a bad item: TypeError naming
// it, nothing sent). A batch stopped by Full or ShutDown says how many went in.
template <class T>
void put_many_values(shm::Ring& r, const py::object& items, bool block, Clock::time_point deadline) {
    NativeBuffer<T> buffer(items.ptr());
    std::vector<T> converted;
    const void* src = buffer.data();
    std::size_t n = buffer.size();
    if (src == nullptr) {
        converted = batch_from_py<T>(items);
        src = converted.data();
        n = converted.size();
    }
    std::size_t done = 0;
    Status s = translate([&] {
        GilWait wait;
        return put_words(r, src, n, block, deadline, wait, done);
    });
    if (s != Status::ok) {
        if (s == Status::timeout) s = Status::full;
        raise_for(s, g_errors.full);
        std::string note = std::to_string(done) + " of the " + std::to_string(n) + " items went in before";
        note_current_error(note.c_str());
        throw py::error_already_set();
    }
}

// get_many of int64/float64 items: a list, or with as_array an array.array
// the ring's records are copied into directly (one copy), sized to what the
// ring holds (at most max_items) and cut to what was taken.
template <class T>
py::object get_many_values(shm::Ring& r, std::size_t max_items, bool as_array, bool block, Clock::time_point deadline) {
    if (!as_array) {
        std::vector<T> values;
        struct Room {
            std::vector<T>* v;
            shm::Ring* ring;
            std::size_t max;
            std::size_t size = 0;
            void* operator()() {
                size = std::min<std::size_t>(max, std::max<std::size_t>(ring->qsize(), 1));
                if (v->size() < size) v->resize(size);
                return v->data();
            }
        } room{&values, &r, max_items};
        std::size_t got = get_words(r, block, deadline, room);
        values.resize(got);
        PyObject* list = batch_to_list(values);  // (a MemoryError here loses the batch, as pickles' would)
        if (list == nullptr) throw py::error_already_set();
        return py::reinterpret_steal<py::object>(list);
    } else {
        // array('q', [0]) * k: an array of k items, its buffer filled in place.
        py::object one = py::reinterpret_steal<py::object>(
            PyObject_CallFunctionObjArgs(g_array_type, g_array_typecode<T>, nullptr));
        if (!one || PyObject_CallMethod(one.ptr(), "append", "i", 0) == nullptr) throw py::error_already_set();
        py::object array;
        std::size_t have = 0;
        Py_buffer view{};
        bool viewed = false;
        struct Room {
            py::object* array;
            py::object* one;
            Py_buffer* view;
            bool* viewed;
            std::size_t* have;
            shm::Ring* ring;
            std::size_t max;
            std::size_t size = 0;
            void* operator()() {
                size = std::min<std::size_t>(max, std::max<std::size_t>(ring->qsize(), 1));
                if (*have >= size) return view->buf;
                if (*viewed) PyBuffer_Release(view);
                *viewed = false;
                PyObject* a = PyNumber_Multiply(one->ptr(), py::int_(size).ptr());
                if (a == nullptr) return nullptr;
                *array = py::reinterpret_steal<py::object>(a);
                if (PyObject_GetBuffer(a, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) != 0) return nullptr;
                *viewed = true;
                *have = size;
                return view->buf;
            }
        } room{&array, &one, &view, &viewed, &have, &r, max_items};
        std::size_t got = 0;
        try {
            got = get_words(r, block, deadline, room);
        } catch (...) {
            if (viewed) PyBuffer_Release(&view);
            throw;
        }
        if (viewed) PyBuffer_Release(&view);
        if (got < have && PySequence_DelSlice(array.ptr(), static_cast<Py_ssize_t>(got), static_cast<Py_ssize_t>(have)) != 0)
            throw py::error_already_set();
        return array;
    }
}

}  // namespace fastchan::binding::typed
