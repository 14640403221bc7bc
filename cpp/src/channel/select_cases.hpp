// The cases of one select call as a core Select (SelectCases), and the
// steps of a select awaited by a task of an event loop (AsyncSelect): its
// wake-up is carried to the loop by the loop's LoopWaker. Used by
// fastchan.select_async (register_select.cpp).
#pragma once

#include <Python.h>

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/pybind.hpp"

#include <fastchan/select.hpp>

#include "common/errors.hpp"
#include "loops/loop_waker.hpp"
#include "channel/channel.hpp"
#include "common/initialized.hpp"

namespace fastchan::binding {

// _core.CLOSED: the value of a recv case whose channel is closed and drained.
inline PyObject* g_closed_marker = nullptr;

// One case's storage, whatever its channel's dtype: the item a send case
// offers (converted when the case is built, so a bad item raises before any
// wait) or the slot a recv case receives into.
class CaseSlot {
public:
    virtual ~CaseSlot() = default;
    virtual void add_to(Select& select) = 0;
    // The item a recv case received, as a new reference; nullptr on
    // MemoryError, when the item goes back to its channel.
    virtual PyObject* take_received() = 0;
    // The case fired and its item is settled: a sent item belongs to its
    // receiver now; a received one nobody took is let go.
    virtual void settle() = 0;
    // The case fired but its owner will not take the result: a received
    // item goes back to its channel (Channel<T>::put_back); a sent one
    // belongs to its receiver.
    virtual void give_back() = 0;
};

template <class T>
class TypedCaseSlot final : public CaseSlot {
public:
    // A send case of `item` (borrowed) if it is not nullptr, else a recv case.
    TypedCaseSlot(Channel<T>& channel, PyObject* item) : channel_(channel) {
        if (item == nullptr) return;
        sending_.emplace();
        if (!Codec<T>::from_py(item, *sending_)) {
            sending_.reset();
            throw py::error_already_set();
        }
    }
    ~TypedCaseSlot() override {
        if (received_) Codec<T>::release(*received_);
        if (sending_ && !sent_) Codec<T>::release(*sending_);
    }

    void add_to(Select& select) override {
        if (sending_) {
            select.send(channel_, *sending_);
        } else {
            select.recv(channel_, received_);
        }
    }
    PyObject* take_received() override {
        PyObject* obj = Codec<T>::to_py(*received_);
        if (obj == nullptr) channel_.put_back(std::move(*received_));
        received_.reset();
        return obj;
    }
    void settle() override {
        if (sending_) sent_ = true;
        if (received_) Codec<T>::release(*received_);
        received_.reset();
    }
    void give_back() override {
        if (sending_) sent_ = true;
        if (received_) channel_.put_back(std::move(*received_));
        received_.reset();
    }

private:
    Channel<T>& channel_;
    std::optional<T> sending_;
    std::optional<T> received_;
    bool sent_ = false;
};

// The cases of one select call (fastchan.recv()/send() objects, validated
// by fastchan.select) as a core Select, with the storage its cases use.
class SelectCases {
public:
    explicit SelectCases(py::sequence cases) : sending_(cases.size()) {
        slots_.reserve(sending_.size());
        for (std::size_t i = 0; i < sending_.size(); ++i) {
            py::handle c = cases[i];
            sending_[i] = py::cast<bool>(c.attr("sending"));
            py::object item = sending_[i] ? py::object(c.attr("item")) : py::object();
            add(py::cast<PyChannel&>(c.attr("channel")), item.ptr());
        }
        for (auto& slot : slots_) slot->add_to(select);
    }
    SelectCases(const SelectCases&) = delete;
    SelectCases& operator=(const SelectCases&) = delete;

    // (index, value) for a case that fired: the item received, CLOSED for
    // a closed recv case, None for a send (ChannelClosed if it was closed).
    py::tuple fired(SelectResult r) {
        if (r.status == Status::ok && sending_[r.index]) {
            slots_[r.index]->settle();  // delivered: not ours to release
            return py::make_tuple(r.index, py::none());
        }
        if (r.status == Status::ok) {
            PyObject* item = slots_[r.index]->take_received();
            if (item == nullptr) throw py::error_already_set();
            return py::make_tuple(r.index, py::reinterpret_steal<py::object>(item));
        }
        if (sending_[r.index]) {
            PyErr_SetString(g_errors.channel_closed, "send on a closed channel");
            throw py::error_already_set();
        }
        return py::make_tuple(r.index, py::handle(g_closed_marker));
    }

    // A case that fired but whose result nobody will take (its task was
    // cancelled, or is gone): a received item goes back to its channel; a
    // sent one belongs to the receiver now.
    void give_back(SelectResult r) {
        if (r.status == Status::ok) slots_[r.index]->give_back();
    }

    py::object fired_or_none(std::optional<SelectResult> r) {
        if (!r) return py::none();
        return fired(*r);
    }

    Select select;

private:
    void add(PyChannel& channel, PyObject* item) {
        channel.visit([&](auto& ch) {
            using T = typename std::decay_t<decltype(ch)>::value_type;
            slots_.push_back(std::make_unique<TypedCaseSlot<T>>(ch, item));
        });
    }

    std::vector<std::unique_ptr<CaseSlot>> slots_;
    std::vector<bool> sending_;
};

// One select awaited by an asyncio task (fastchan.select_async drives it).
//
// A rendezvous peer may not complete a send case while the task is
// suspended: an asyncio task can be cancelled at any time before it runs
// again, so its send cases park intents (flavors/zero.hpp), and an item a
// peer handed to a recv case goes back to the channel on cancellation
// (withdraw): a cancelled operation has no effect.
class AsyncSelect {
public:
    explicit AsyncSelect(py::sequence cases) : cases_(cases) {}
    ~AsyncSelect() {
        CallScope call;
        // A task that vanished mid-wait passes its wake-up on, and gives
        // back an item it had been handed.
        if (std::optional<SelectResult> r = cases_.select.cancel()) cases_.give_back(*r);
        drop_carrier();
    }
    AsyncSelect(const AsyncSelect&) = delete;
    AsyncSelect& operator=(const AsyncSelect&) = delete;

    // (index, value) if a case can fire now, else None.
    py::object try_fire() {
        CallScope call;
        SelectResult r = cases_.select.try_select();
        return r.status == Status::empty ? py::object(py::none()) : py::object(cases_.fired(r));
    }

    // Waits on every case, to set `future` (of the loop `waker` serves)
    // once one fires. False if a case looked ready: call finish() at once.
    bool enlist(py::handle waker, py::handle future) {
        CallScope call;
        drop_carrier();
        carrier_ = new AsyncWaiter(waker.cast<LoopWaker&>(), waker.ptr(), future.ptr());
        return cases_.select.enlist(&carrier_->waiter, /*offer_values=*/false);
    }

    // After the future was set (or enlist() said ready): the result, or
    // None to try again.
    py::object finish() {
        CallScope call;
        std::optional<SelectResult> r = cases_.select.finish();
        drop_carrier();
        return cases_.fired_or_none(r);
    }

    // The wait ends without a wake-up (a timeout, a closed handle): the
    // result of an exchange that happened anyway (to be used), or None.
    py::object cancel() {
        CallScope call;
        std::optional<SelectResult> r = cases_.select.cancel();
        drop_carrier();
        return cases_.fired_or_none(r);
    }

    // The task was cancelled: nothing happens. A wake-up goes to the next
    // waiter, an item a peer handed over goes back to its channel.
    void withdraw() {
        CallScope call;
        std::optional<SelectResult> r = cases_.select.cancel();
        drop_carrier();
        if (r) cases_.give_back(*r);
    }

private:
    void drop_carrier() {
        if (carrier_ != nullptr) std::exchange(carrier_, nullptr)->release();
    }

    SelectCases cases_;
    AsyncWaiter* carrier_ = nullptr;  // carries the wake-up to the loop
};

}  // namespace fastchan::binding

FASTCHAN_INITIALIZED_ONLY(fastchan::binding::AsyncSelect)
