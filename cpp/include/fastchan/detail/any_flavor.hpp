// Holds one of several flavors chosen at run time and dispatches to it, as
// crossbeam-channel's flavor enum does. Flavors are neither copyable nor
// movable, so they are built in place.
#pragma once

#include <cstdlib>
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

    // Calls fn(flavor&) on the flavor held.
    template <class Fn>
    decltype(auto) visit(Fn&& fn) {
        using First = std::tuple_element_t<0, std::tuple<Flavors...>>;
        using R = std::invoke_result_t<Fn, First&>;
        return std::visit(
            [&](auto& flavor) -> R {
                if constexpr (std::is_same_v<std::decay_t<decltype(flavor)>, std::monostate>) {
                    std::abort();  // unreachable: the constructor always emplaces a flavor
                } else {
                    return fn(flavor);
                }
            },
            flavor_);
    }

    template <class Fn>
    decltype(auto) visit(Fn&& fn) const {
        return const_cast<AnyFlavor*>(this)->visit(std::forward<Fn>(fn));
    }

    template <class F>
    F* get_if() noexcept { return std::get_if<F>(&flavor_); }

private:
    std::variant<std::monostate, Flavors...> flavor_;
};

}  // namespace fastchan::detail
