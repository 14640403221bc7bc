// Binds PyQueue as fastchan._core._QueueCore and _SimpleQueueCore: the
// native bases of fastchan.Queue/LifoQueue/PriorityQueue and SimpleQueue.
// Per-item methods come from methods.cpp; the rest go through pybind11.
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/pybind.hpp"

#include "common/batches.hpp"
#include "common/arguments.hpp"
#include "common/errors.hpp"
#include "queue/methods.hpp"
#include "loops/loop_waker.hpp"
#include "queue/queue.hpp"


namespace fastchan::binding {
namespace {

std::string describe(py::handle obj) {
    return std::string(Py_TYPE(obj.ptr())->tp_name) + " " + py::repr(obj).cast<std::string>();
}

// maxsize: a number (not a bool); <= 0 means unbounded, as in the stdlib.
// The stdlib's queues are full once qsize() >= maxsize, so a real number
// bounds as its ceiling (1.3 holds 2 items); inf and nan never fill.
Py_ssize_t parse_maxsize(py::handle obj) {
    PyNumberMethods* number = Py_TYPE(obj.ptr())->tp_as_number;
    if (PyBool_Check(obj.ptr()) || (!PyIndex_Check(obj.ptr()) && !(number && number->nb_float))) {
        throw py::type_error("maxsize must be a number, not " + describe(obj));
    }
    if (!PyIndex_Check(obj.ptr())) {
        double x = PyFloat_AsDouble(obj.ptr());
        if (x == -1.0 && PyErr_Occurred()) throw py::error_already_set();
        if (!(x > 0) || std::isinf(x)) return 0;  // (nan too)
        x = std::ceil(x);
        if (x >= static_cast<double>(PY_SSIZE_T_MAX)) {
            PyErr_SetString(PyExc_OverflowError, ("maxsize is too large: " + describe(obj)).c_str());
            throw py::error_already_set();
        }
        return static_cast<Py_ssize_t>(x);
    }
    Py_ssize_t n = PyNumber_AsSsize_t(obj.ptr(), PyExc_OverflowError);
    if (n == -1 && PyErr_Occurred()) throw py::error_already_set();
    return n;
}

QueueKind parse_kind(int kind) {
    if (kind < 0 || kind > static_cast<int>(QueueKind::priority)) {
        throw py::value_error("kind must be 0 (FIFO), 1 (LIFO) or 2 (priority), not " +
                                std::to_string(kind));
    }
    return static_cast<QueueKind>(kind);
}

void put_many(PyQueue& q, py::handle items, py::handle block, py::handle timeout) {
    CallScope call;
    bool blocking;
    detail::Clock::time_point deadline;
    if (!parse_block(block.ptr(), blocking) || !parse_timeout(timeout.ptr(), blocking, deadline)) {
        throw py::error_already_set();
    }
    auto [put, s] = q.visit([&](auto& f) {
        using T = typename std::decay_t<decltype(f)>::value_type;
        std::size_t n = 0;
        Status s = Status::ok;
        if constexpr (std::is_same_v<T, PyObject*>) {  // streamed: any object goes
            for (py::handle item : batch_items(items)) {
                if ((s = q.put(item.ptr(), blocking, deadline)) != Status::ok) break;
                ++n;
            }
        } else {  // converted first: a bad item raises before any is put
            std::vector<T> batch = batch_from_py<T>(items);
            BatchWithoutGil no_gil;  // native values: no Python until it is back
            auto* flavor = &q.current();
            do {  // on the flavor of the moment (see PyQueue::retry_on)
                s = flavor->visit([&](auto& g) {
                    if constexpr (std::is_same_v<typename std::decay_t<decltype(g)>::value_type, T>) {
                        for (; n < batch.size(); ++n) {
                            Status st = q.put_without_gil(g, batch[n], blocking, deadline, no_gil);
                            if (st != Status::ok) return st;
                        }
                    }
                    return Status::ok;
                });
            } while (q.retry_on(s, flavor) && (flavor = &q.current()));
        }
        return std::pair<std::size_t, Status>(n, s);
    });
    if (s == Status::interrupted) {  // a signal handler's exception, or a bad item's
        note_current_error(("put_many: " + std::to_string(put) + " items were put").c_str());
        throw py::error_already_set();
    }
    if (s != Status::ok) {
        PyErr_Format(s == Status::closed ? g_errors.shutdown : g_errors.full, "put_many: %s (%zu items were put)",
                     s == Status::closed ? "the queue is shut down" : "the queue is full", put);
        throw py::error_already_set();
    }
}

py::object get_many(PyQueue& q, py::handle max_items, py::handle block, py::handle timeout, bool as_array) {
    CallScope call;
    std::size_t max = parse_max_items(max_items);
    bool blocking;
    detail::Clock::time_point deadline;
    if (!parse_block(block.ptr(), blocking) || !parse_timeout(timeout.ptr(), blocking, deadline)) {
        throw py::error_already_set();
    }
    for (;;) {  // once more if the flavor was replaced (see PyQueue::retry_on)
      auto* flavor = &q.current();
      py::object result = flavor->visit([&](auto& f) -> py::object {
        using T = typename std::decay_t<decltype(f)>::value_type;
        check_as_array<T>(as_array);
        Batch<T> items;
        Status s = gather(items, f, [&] {
            std::optional<T> item;
            if constexpr (std::is_same_v<T, PyObject*>) {  // a PriorityQueue's comparisons run Python code
                Status st = blocking ? f.recv_until(item, deadline, GilWait{}) : f.try_recv(item);
                while (st == Status::ok) {
                    append(items, std::move(*item), f);
                    if (items.size() == max) break;
                    item.reset();
                    st = f.try_recv(item);
                }
                return st;
            } else {
                BatchWithoutGil no_gil;  // native values: no Python until it is back
                Status st = blocking ? f.recv_until(item, deadline, no_gil) : f.try_recv(item);
                if (st == Status::ok) {
                    append(items, std::move(*item), f);
                    f.try_recv_some(items, max - 1);
                }
                return st;
            }
        });
        if (items.empty()) {
            if (q.retry_on(s, flavor)) return py::object();
            raise_for(s, g_errors.empty);
            throw py::error_already_set();
        }
        // Items in hand end the batch: an error after them (a PriorityQueue
        // comparison) is raised by the next call instead of losing them.
        if (s == Status::interrupted) PyErr_Clear();
        return batch_result(items, as_array, f);
      });
      if (result) return result;
    }
}

// put_many / get_many, on every queue class.
template <class Class>
void add_batch_methods(Class& cls) {
    using Queue = typename Class::type;
    cls.def("put_many", [](Queue& q, py::handle items, py::handle block, py::handle timeout) {
                return put_many(q, items, block, timeout);
            }, py::arg("items"), py::arg("block") = true, py::arg("timeout") = py::none(),
            "Put every item of `items`, in order, each as put(item, block, timeout)\n"
            "would; the timeout bounds the whole batch. Full or ShutDown say how\n"
            "many items were put before. A typed queue converts the whole batch\n"
            "first, so a bad item raises TypeError/OverflowError before any is put.");
    cls.def("get_many", [](Queue& q, py::handle max_items, py::handle block, py::handle timeout,
                           bool as_array) { return get_many(q, max_items, block, timeout, as_array); },
            py::arg("max_items"), py::arg("block") = true, py::arg("timeout") = py::none(),
            py::arg("as_array") = false,
            (std::string("Remove and return 1 to max_items items, in order: wait (as get(block,\n"
                         "timeout) would) for the first, then take whatever else is ready at once.\n"
                         "Raises Empty when there is nothing (non-blocking or after the timeout),\n"
                         "ShutDown once the queue is shut down and drained. as_array=True (dtype\n") +
             array_dtype_choices() + ") returns an array.array instead of a list.")
                .c_str());
    cls.def("_check_batch", [](Queue& q, py::handle items) {
                return q.visit([&](auto& f) {
                    return checked_batch<typename std::decay_t<decltype(f)>::value_type>(items);
                });
            }, py::arg("items"),
            "For the awaitable put_many: a typed queue's batch as a list, every item\n"
            "checked (TypeError/OverflowError before any is put); objects as given.");
    cls.def_property_readonly("dtype", [](Queue& q) { return dtype_object(q.dtype()); },
                              (std::string(typed_dtype_choices()) + " for a typed queue; None for objects.").c_str());
}

}  // namespace

void register_queue(py::module_& m) {
    m.attr("FIFO") = static_cast<int>(QueueKind::fifo);
    m.attr("LIFO") = static_cast<int>(QueueKind::lifo);
    m.attr("PRIORITY") = static_cast<int>(QueueKind::priority);

    py::class_<PyQueue, std::shared_ptr<PyQueue>> queue(
        m, "_QueueCore", "Native queue of Python objects (base of fastchan.Queue).");
    queue
        // A second Python object on the same native queue (sync_q / async_q).
        .def(py::init([](const py::handle& same) {
                 (void)same.cast<PyQueue&>();  // TypeError if `same` is uninitialized
                 return same.cast<std::shared_ptr<PyQueue>>();
             }),
             py::arg("same"))
        .def(py::init([](py::handle maxsize, int kind, py::handle dtype) {
                 Dtype d;
                 if (!parse_dtype(dtype.ptr(), d)) throw py::error_already_set();
                 return std::make_shared<PyQueue>(parse_maxsize(maxsize), parse_kind(kind), d);
             }),
             py::arg("maxsize") = 0, py::arg("kind") = 0, py::arg("dtype") = py::none())
        .def_property(
            "maxsize", &PyQueue::maxsize,
            [](PyQueue& q, py::handle maxsize) {
                CallScope call;
                q.set_maxsize(parse_maxsize(maxsize));
            },
            "The bound: puts wait while qsize() >= maxsize; <= 0 means unbounded.\n"
            "Assignable, as in the stdlib: a larger bound wakes blocked putters (threads\n"
            "and tasks); after a smaller one puts wait until qsize() is below it (the\n"
            "items held stay).")
        .def_property_readonly("unfinished_tasks", &PyQueue::unfinished_tasks,
                               "Items put and not yet marked done with task_done().")
        .def_property_readonly("is_shutdown", &PyQueue::is_shutdown,
                               "True once shutdown() was called.")
        .def(
            "task_done",
            [](PyQueue& q) {
                CallScope call;
                if (!q.task_done()) throw py::value_error("task_done() called too many times");
            },
            "Indicate that a formerly enqueued task is complete.\n\n"
            "Raises ValueError if called more times than there were items put.")
        .def(
            "join",
            [](PyQueue& q) {
                CallScope call;
                if (q.join() == Status::interrupted) throw py::error_already_set();
            },
            "Block until every item put has been gotten and marked done with\n"
            "task_done(). The GIL is released while waiting.")
        .def(
            "shutdown",
            [](PyQueue& q, bool immediate) {
                CallScope call;
                if (!q.shutdown(immediate)) throw py::error_already_set();
            },
            py::arg("immediate") = false,
            "Shut down the queue: puts raise ShutDown, gets drain what is left\n"
            "and then raise ShutDown; every blocked caller wakes. With\n"
            "immediate=True the items left are dropped at once, each counted\n"
            "as done (which may release join()), and gets raise ShutDown.");
    add_batch_methods(queue);
    add_queue_fast_methods(queue);

    py::class_<SimplePyQueue> simple(
        m, "_SimpleQueueCore", "Native unbounded FIFO queue (base of fastchan.SimpleQueue).");
    simple.def(py::init<>());
    add_batch_methods(simple);
    add_simple_queue_fast_methods(simple);

    m.def("_add_async_fast_methods", &add_async_fast_methods, py::arg("cls"),
          "Give a fastchan.asyncio queue class its native awaitable get(), put() and join().");
}

}  // namespace fastchan::binding
