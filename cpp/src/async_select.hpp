// The cases of one select call as a core Select (SelectCases), and the
// steps of a select awaited by a task of an event loop (AsyncSelect): its
// wake-up is carried to the loop by the loop's LoopWaker. Shared by
// fastchan.select_async (register_select.cpp) and the trio awaitables
// (trio_ops.cpp).
#pragma once

#include <Python.h>

#include <optional>
#include <utility>
#include <vector>

#include <pybind11/pybind11.h>

#include <fastchan/select.hpp>

#include "errors.hpp"
#include "loop_waker.hpp"
#include "object_channel.hpp"

namespace fastchan::py {

// _core.CLOSED: the value of a recv case whose channel is closed and drained.
inline PyObject* g_closed_marker = nullptr;

// The cases of one select call (fastchan.recv()/send() objects, validated
// by fastchan.select) as a core Select, with the storage its cases use.
class SelectCases {
public:
    explicit SelectCases(pybind11::sequence cases) : n_(cases.size()), outs_(n_), refs_(n_, nullptr), sending_(n_) {
        for (std::size_t i = 0; i < n_; ++i) {
            pybind11::handle c = cases[i];
            auto& channel = pybind11::cast<ObjectChannel&>(c.attr("channel")).channel();
            sending_[i] = pybind11::cast<bool>(c.attr("sending"));
            if (sending_[i]) {
                refs_[i] = pybind11::object(c.attr("item")).release().ptr();  // moves to a receiver if it fires
                select.send(channel, refs_[i]);
            } else {
                select.recv(channel, outs_[i]);
            }
        }
    }
    // One case: a send of `item` (borrowed), or a recv if it is nullptr.
    SelectCases(ObjectChannel& channel, PyObject* item)
        : n_(1), outs_(1), refs_(1, item), sending_(1, item != nullptr) {
        Py_XINCREF(item);  // (Py_XNewRef is 3.10+)
        if (item != nullptr) {
            select.send(channel.channel(), refs_[0]);
        } else {
            select.recv(channel.channel(), outs_[0]);
        }
    }
    ~SelectCases() {
        for (std::size_t i = 0; i < n_; ++i) {
            if (i != sent_) Py_XDECREF(refs_[i]);
        }
    }
    SelectCases(const SelectCases&) = delete;
    SelectCases& operator=(const SelectCases&) = delete;

    // (index, value) for a case that fired: the item received, CLOSED for
    // a closed recv case, None for a send (ChannelClosed if it was closed).
    pybind11::tuple fired(SelectResult r) {
        if (r.status == Status::ok && sending_[r.index]) {
            sent_ = r.index;
            return pybind11::make_tuple(r.index, pybind11::none());
        }
        if (r.status == Status::ok) {
            return pybind11::make_tuple(r.index, pybind11::reinterpret_steal<pybind11::object>(*outs_[r.index]));
        }
        if (sending_[r.index]) {
            PyErr_SetString(g_errors.channel_closed, "send on a closed channel");
            throw pybind11::error_already_set();
        }
        return pybind11::make_tuple(r.index, pybind11::handle(g_closed_marker));
    }

    // A case that fired but whose result nobody will take (its task is
    // gone): a sent item belongs to the receiver now; a received one is let go.
    void drop(SelectResult r) {
        if (r.status != Status::ok) return;
        if (sending_[r.index]) {
            sent_ = r.index;
        } else if (outs_[r.index]) {
            Py_DECREF(*outs_[r.index]);
            outs_[r.index].reset();
        }
    }

    pybind11::object fired_or_none(std::optional<SelectResult> r) {
        if (!r) return pybind11::none();
        return fired(*r);
    }

    Select select;

private:
    std::size_t n_;
    std::vector<std::optional<PyObject*>> outs_;  // recv cases' slots
    std::vector<PyObject*> refs_;                 // send cases' items (owned)
    std::vector<bool> sending_;
    std::size_t sent_ = Select::none;  // the send case whose item was delivered
};

// One select awaited by a task of an event loop (fastchan.select_async
// drives it for asyncio, trio_ops.cpp for trio).
class AsyncSelect {
public:
    explicit AsyncSelect(pybind11::sequence cases) : cases_(cases) {}
    AsyncSelect(ObjectChannel& channel, PyObject* item) : cases_(channel, item) {}
    ~AsyncSelect() {
        LocalWakeups wakeups;
        // A task that vanished mid-wait passes its wake-up on; an exchange it
        // completed anyway is lost with it.
        if (std::optional<SelectResult> r = cases_.select.cancel()) cases_.drop(*r);
        drop_carrier();
    }
    AsyncSelect(const AsyncSelect&) = delete;
    AsyncSelect& operator=(const AsyncSelect&) = delete;

    // (index, value) if a case can fire now, else None.
    pybind11::object try_fire() {
        LocalWakeups wakeups;
        SelectResult r = cases_.select.try_select();
        return r.status == Status::empty ? pybind11::object(pybind11::none()) : pybind11::object(cases_.fired(r));
    }

    // Waits on every case, to set `future` (of the loop `waker` serves)
    // once one fires. False if a case looked ready: call finish() at once.
    bool enlist(pybind11::handle waker, pybind11::handle future) {
        return enlist(waker.cast<LoopWaker&>(), waker.ptr(), future.ptr(), nullptr);
    }

    // The same, for a target that `resolve` completes (see AsyncWaiter).
    bool enlist(LoopWaker& waker, PyObject* waker_owner, PyObject* target, AsyncWaiter::Resolve resolve) {
        LocalWakeups wakeups;
        drop_carrier();
        carrier_ = new AsyncWaiter(waker, waker_owner, target, resolve);
        return cases_.select.enlist(&carrier_->waiter);
    }

    // After the future was set (or enlist() said ready): the result, or
    // None to try again.
    pybind11::object finish() {
        LocalWakeups wakeups;
        std::optional<SelectResult> r = cases_.select.finish();
        drop_carrier();
        return cases_.fired_or_none(r);
    }

    // The task was cancelled: the result of an exchange that happened
    // anyway (to be used), or None.
    pybind11::object cancel() {
        LocalWakeups wakeups;
        std::optional<SelectResult> r = cases_.select.cancel();
        drop_carrier();
        return cases_.fired_or_none(r);
    }

private:
    void drop_carrier() {
        if (carrier_ != nullptr) std::exchange(carrier_, nullptr)->release();
    }

    SelectCases cases_;
    AsyncWaiter* carrier_ = nullptr;  // carries the wake-up to the loop
};

}  // namespace fastchan::py
