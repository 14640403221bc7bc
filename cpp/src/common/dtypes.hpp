// The binding's side of the one dtype list (FASTCHAN_DTYPES in
// fastchan/dtypes.hpp): the Dtype enum, names as Python spells them and
// their parsing, and the type-list tools the channel and queue variants are
// generated with. Nothing here names a particular dtype but object.
#pragma once

#include <Python.h>

#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include <fastchan/dtypes.hpp>

namespace fastchan::binding {

using python::DtypeTraits;
using python::DtypeTypes;
using python::TypeList;

// What a typed channel or queue stores; `object` is any Python object. The
// values are the capsule codes.
enum class Dtype : int {
#define FASTCHAN_DTYPE_ENUM(Type, Name, Code, ...) Name = Code,
    FASTCHAN_DTYPES(FASTCHAN_DTYPE_ENUM)
#undef FASTCHAN_DTYPE_ENUM
};

template <class T>
inline constexpr Dtype dtype_of = static_cast<Dtype>(DtypeTraits<T>::code);

// put_many copies a matching buffer of T as is; get_many(as_array=True)
// serves T as an array.array.
template <class T>
inline constexpr bool has_buffer_format = DtypeTraits<T>::formats[0] != '\0';
template <class T>
inline constexpr bool has_typecode = DtypeTraits<T>::typecode[0] != '\0';

template <class T>
struct TypeTag {
    using type = T;
};

// fn(TypeTag<T>{}) for every dtype's T, in list order.
template <class Fn, class... Ts>
void for_each_dtype_in(TypeList<Ts...>, Fn& fn) {
    (fn(TypeTag<Ts>{}), ...);
}
template <class Fn>
void for_each_dtype(Fn&& fn) {
    for_each_dtype_in(DtypeTypes{}, fn);
}

// fn(TypeTag<T>{}) for the T of `d` (a valid Dtype), returned as is (a
// prvalue stays one: the variants are neither copyable nor movable).
template <class Fn, class T, class... Ts>
decltype(auto) with_dtype_in(Dtype d, Fn& fn, TypeList<T, Ts...>) {
    if constexpr (sizeof...(Ts) == 0) {
        return fn(TypeTag<T>{});
    } else {
        if (d == dtype_of<T>) return fn(TypeTag<T>{});
        return with_dtype_in(d, fn, TypeList<Ts...>{});
    }
}
template <class Fn>
decltype(auto) with_dtype(Dtype d, Fn&& fn) {
    return with_dtype_in(d, fn, DtypeTypes{});
}

// Of<T> (a TypeList) for every dtype's T, concatenated in list order, then
// given to Into: the variant of every dtype's flavors.
template <class... A, class... B>
TypeList<A..., B...> operator+(TypeList<A...>, TypeList<B...>);
template <template <class...> class Into, class List>
struct ApplyTypes;
template <template <class...> class Into, class... Ts>
struct ApplyTypes<Into, TypeList<Ts...>> {
    using type = Into<Ts...>;
};
template <template <class...> class Into, template <class> class Of, class... Ts>
auto each_dtype_of(TypeList<Ts...>) -> typename ApplyTypes<Into, decltype((TypeList<>{} + ... + Of<Ts>{}))>::type;
template <template <class...> class Into, template <class> class Of>
using EachDtypeOf = decltype(each_dtype_of<Into, Of>(DtypeTypes{}));

// The dtype's name as Python spells it ("int64"...), or nullptr for object.
inline const char* dtype_name(Dtype d) noexcept {
    if (d == Dtype::object) return nullptr;
    return with_dtype(d, [](auto tag) { return DtypeTraits<typename decltype(tag)::type>::name; });
}

// Labels joined as a message lists choices: "'a', 'b' or 'c'".
template <class Keep>
std::string dtype_choices(Keep keep, const char* last = nullptr) {
    std::vector<std::string> labels;
    for_each_dtype([&](auto tag) {
        if (keep(tag)) labels.emplace_back(DtypeTraits<typename decltype(tag)::type>::label);
    });
    if (last) labels.emplace_back(last);
    std::string out;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) out += i + 1 == labels.size() ? " or " : ", ";
        out += labels[i];
    }
    return out;
}

// "'int64', 'float64' or 'bytes'": the typed dtypes, for docstrings.
inline const char* typed_dtype_choices() {
    static const std::string choices =
        dtype_choices([](auto tag) { return dtype_of<typename decltype(tag)::type> != Dtype::object; });
    return choices.c_str();
}

// "'int64', 'float64', 'bytes' or None": what dtype= takes.
inline const char* dtype_choices() {
    static const std::string choices =
        dtype_choices([](auto tag) { return dtype_of<typename decltype(tag)::type> != Dtype::object; }, "None");
    return choices.c_str();
}

// dtype: None, "object" or a listed name. False with TypeError/ValueError
// naming the value otherwise.
inline bool parse_dtype(PyObject* obj, Dtype& out) {
    out = Dtype::object;
    if (obj == nullptr || obj == Py_None) return true;
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "dtype must be %s, not %.100s %R", dtype_choices(), Py_TYPE(obj)->tp_name,
                     obj);
        return false;
    }
    bool found = false;
    for_each_dtype([&](auto tag) {
        using T = typename decltype(tag)::type;
        if (!found && PyUnicode_CompareWithASCIIString(obj, DtypeTraits<T>::name) == 0) {
            out = dtype_of<T>;
            found = true;
        }
    });
    if (found) return true;
    PyErr_Format(PyExc_ValueError, "dtype must be %s, not %R", dtype_choices(), obj);
    return false;
}

}  // namespace fastchan::binding
