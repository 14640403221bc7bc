// Holds one of several flavors chosen at run time and dispatches to it, as
// crossbeam-channel's flavor enum does. Flavors are neither copyable nor
// movable, so they are built in place; the constructor always builds one, so
// the monostate alternative is never visited.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>
#include <variant>

namespace fastchan::detail {

template <class... Flavors>
class AnyFlavor {
public:
    template <class F, class... Args>
    explicit AnyFlavor(std::in_place_type_t<F>, Args&&... args) {
        flavor_.template emplace<F>(std::forward<Args>(args)...);
    }
    AnyFlavor(const AnyFlavor&) = delete;
    AnyFlavor& operator=(const AnyFlavor&) = delete;

    // Calls fn(flavor&) on the flavor held. A chain of predictable branches
    // rather than std::visit's jump table, so each call inlines.
    template <class Fn>
    decltype(auto) visit(Fn&& fn) {
        return visit_from<1>(fn);
    }

    template <class Fn>
    decltype(auto) visit(Fn&& fn) const {
        return const_cast<AnyFlavor*>(this)->visit(std::forward<Fn>(fn));
    }

    template <class F>
    F* get_if() noexcept { return std::get_if<F>(&flavor_); }

private:
    template <std::size_t I, class Fn>
    decltype(auto) visit_from(Fn& fn) {
        if constexpr (I == sizeof...(Flavors)) {
            auto* last = std::get_if<I>(&flavor_);  // the last one: no test needed
#if defined(__GNUC__)
            if (last == nullptr) __builtin_unreachable();  // (tells the compiler so)
#endif
            return fn(*last);
        } else {
            if (flavor_.index() == I) return fn(*std::get_if<I>(&flavor_));
            return visit_from<I + 1>(fn);
        }
    }

    std::variant<std::monostate, Flavors...> flavor_;
};

}  // namespace fastchan::detail
