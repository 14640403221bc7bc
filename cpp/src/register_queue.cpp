// Binds ObjectQueue as fastchan._core._QueueCore and _SimpleQueueCore: the
// native bases of fastchan.Queue/LifoQueue/PriorityQueue and SimpleQueue.
// Per-item methods come from fast_methods.cpp; the rest go through pybind11.
#include <memory>
#include <string>

#include <pybind11/pybind11.h>

#include "batches.hpp"
#include "errors.hpp"
#include "fast_methods.hpp"
#include "loop_waker.hpp"
#include "object_queue.hpp"

namespace py = pybind11;

namespace fastchan::py {
namespace {

std::string describe(::py::handle obj) {
    return std::string(Py_TYPE(obj.ptr())->tp_name) + " " + ::py::repr(obj).cast<std::string>();
}

// maxsize: an int (not a bool); <= 0 means unbounded, as in the stdlib.
Py_ssize_t parse_maxsize(::py::handle obj) {
    if (PyBool_Check(obj.ptr()) || !PyIndex_Check(obj.ptr())) {
        throw ::py::type_error("maxsize must be an integer, not " + describe(obj));
    }
    Py_ssize_t n = PyNumber_AsSsize_t(obj.ptr(), PyExc_OverflowError);
    if (n == -1 && PyErr_Occurred()) throw ::py::error_already_set();
    return n;
}

QueueKind parse_kind(int kind) {
    if (kind < 0 || kind > static_cast<int>(QueueKind::priority)) {
        throw ::py::value_error("kind must be 0 (FIFO), 1 (LIFO) or 2 (priority), not " +
                                std::to_string(kind));
    }
    return static_cast<QueueKind>(kind);
}

void put_many(ObjectQueue& q, ::py::iterable items, ::py::handle block, ::py::handle timeout) {
    LocalWakeups wakeups;
    bool blocking;
    detail::Clock::time_point deadline;
    if (!parse_block(block.ptr(), blocking) || !parse_timeout(timeout.ptr(), blocking, deadline)) {
        throw ::py::error_already_set();
    }
    std::size_t put = 0;
    for (::py::handle item : items) {
        Status s = q.put(item.ptr(), blocking, deadline);
        if (s == Status::interrupted) throw ::py::error_already_set();
        if (s != Status::ok) {
            PyErr_Format(s == Status::closed ? g_errors.shutdown : g_errors.full,
                         "put_many: %s (%zu items were put)",
                         s == Status::closed ? "the queue is shut down" : "the queue is full", put);
            throw ::py::error_already_set();
        }
        ++put;
    }
}

::py::list get_many(ObjectQueue& q, ::py::handle max_items, ::py::handle block, ::py::handle timeout) {
    LocalWakeups wakeups;
    std::size_t max = parse_max_items(max_items);
    bool blocking;
    detail::Clock::time_point deadline;
    if (!parse_block(block.ptr(), blocking) || !parse_timeout(timeout.ptr(), blocking, deadline)) {
        throw ::py::error_already_set();
    }
    ::py::list out;
    PyObject* item = nullptr;
    Status s = q.get(&item, blocking, deadline);
    while (s == Status::ok) {
        ListSink{out}.push_back(item);
        if (static_cast<std::size_t>(PyList_GET_SIZE(out.ptr())) == max) break;
        s = q.get(&item, false, deadline);
    }
    if (PyList_GET_SIZE(out.ptr()) == 0) {
        raise_for(s, g_errors.empty);
        throw ::py::error_already_set();
    }
    // Items in hand end the batch: an error after them (a PriorityQueue
    // comparison) is raised by the next call instead of losing them.
    if (s == Status::interrupted) PyErr_Clear();
    return out;
}

// put_many / get_many, on every queue class.
template <class Class>
void add_batch_methods(Class& cls) {
    using Queue = typename Class::type;
    cls.def("put_many", [](Queue& q, ::py::iterable items, ::py::handle block, ::py::handle timeout) {
                return put_many(q, items, block, timeout);
            }, ::py::arg("items"), ::py::arg("block") = true, ::py::arg("timeout") = ::py::none(),
            "Put every item of `items`, in order, each as put(item, block, timeout)\n"
            "would; the timeout bounds the whole batch. Full or ShutDown say how\n"
            "many items were put before.");
    cls.def("get_many", [](Queue& q, ::py::handle max_items, ::py::handle block, ::py::handle timeout) {
                return get_many(q, max_items, block, timeout);
            }, ::py::arg("max_items"), ::py::arg("block") = true,
            ::py::arg("timeout") = ::py::none(),
            "Remove and return 1 to max_items items, in order: wait (as get(block,\n"
            "timeout) would) for the first, then take whatever else is ready at once.\n"
            "Raises Empty when there is nothing (non-blocking or after the timeout),\n"
            "ShutDown once the queue is shut down and drained.");
}

}  // namespace

void register_queue(::py::module_& m) {
    m.attr("FIFO") = static_cast<int>(QueueKind::fifo);
    m.attr("LIFO") = static_cast<int>(QueueKind::lifo);
    m.attr("PRIORITY") = static_cast<int>(QueueKind::priority);

    ::py::class_<ObjectQueue, std::shared_ptr<ObjectQueue>> queue(
        m, "_QueueCore", "Native queue of Python objects (base of fastchan.Queue).");
    queue
        // A second Python object on the same native queue (sync_q / async_q).
        .def(::py::init([](std::shared_ptr<ObjectQueue> same) { return same; }),
             ::py::arg("same"))
        .def(::py::init([](::py::handle maxsize, int kind) {
                 return std::make_shared<ObjectQueue>(parse_maxsize(maxsize), parse_kind(kind));
             }),
             ::py::arg("maxsize") = 0, ::py::arg("kind") = 0)
        .def_property_readonly("maxsize", &ObjectQueue::maxsize,
                               "The bound given at construction; <= 0 means unbounded.")
        .def_property_readonly("unfinished_tasks", &ObjectQueue::unfinished_tasks,
                               "Items put and not yet marked done with task_done().")
        .def_property_readonly("is_shutdown", &ObjectQueue::is_shutdown,
                               "True once shutdown() was called.")
        .def(
            "task_done",
            [](ObjectQueue& q) {
                LocalWakeups wakeups;
                if (!q.task_done()) throw ::py::value_error("task_done() called too many times");
            },
            "Indicate that a formerly enqueued task is complete.\n\n"
            "Raises ValueError if called more times than there were items put.")
        .def(
            "join",
            [](ObjectQueue& q) {
                LocalWakeups wakeups;
                if (q.join() == Status::interrupted) throw ::py::error_already_set();
            },
            "Block until every item put has been gotten and marked done with\n"
            "task_done(). The GIL is released while waiting.")
        .def(
            "shutdown",
            [](ObjectQueue& q, bool immediate) {
                LocalWakeups wakeups;
                q.shutdown(immediate);
            },
            ::py::arg("immediate") = false,
            "Shut down the queue: puts raise ShutDown, gets drain what is left\n"
            "and then raise ShutDown; every blocked caller wakes. With\n"
            "immediate=True the items left are dropped at once, each counted\n"
            "as done (which may release join()), and gets raise ShutDown.");
    add_batch_methods(queue);
    add_queue_fast_methods(queue);

    ::py::class_<SimpleObjectQueue> simple(
        m, "_SimpleQueueCore", "Native unbounded FIFO queue (base of fastchan.SimpleQueue).");
    simple.def(::py::init<>());
    add_batch_methods(simple);
    add_simple_queue_fast_methods(simple);
}

}  // namespace fastchan::py
