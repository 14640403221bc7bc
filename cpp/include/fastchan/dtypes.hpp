// fastchan/dtypes.hpp: the one list of the dtypes a fastchan.Channel or
// queue can store natively. Everything that depends on the set of dtypes (the
// binding's variants, its Dtype enum, dtype name parsing, error messages,
// buffer formats, array.array typecodes, _core.DTYPES and the capsule codes
// of fastchan/python.hpp) is generated from FASTCHAN_DTYPES. Adding a dtype
// is one line here plus its Codec (the binding's cpp/src/common/codecs.hpp).
#pragma once

#include <Python.h>

#include <cstdint>
#include <string>
#include <type_traits>

// X(C++ type, name, capsule code, buffer formats, array.array typecode)
//   name:     the dtype as Python spells it (dtype="int64"); object is None.
//   code:     ChannelExport::dtype, part of the versioned capsule ABI: never
//             change or reuse one.
//   formats:  struct format characters of a buffer put_many copies as is
//             (itemsize must equal sizeof(type) as well); "" for none.
//   typecode: get_many(as_array=True)'s array.array typecode; "" for none.
// The order is the order of the binding's variants (the first dispatches
// fastest): keep object first.
#define FASTCHAN_DTYPES(X)                            \
    X(PyObject*, object, 0, "", "")                   \
    X(std::int64_t, int64, 1, "ql", "q")              \
    X(double, float64, 2, "d", "d")                   \
    X(std::string, bytes, 3, "", "")                  \
    /* a new dtype: one line above this one */

namespace fastchan::python {

// What FASTCHAN_DTYPES says of T; no definition for a T that is no dtype.
template <class T>
struct DtypeTraits;

#define FASTCHAN_DTYPE_TRAITS(Type, Name, Code, Formats, Typecode)                   \
    template <>                                                                      \
    struct DtypeTraits<Type> {                                                       \
        static constexpr int code = Code;                                            \
        static constexpr const char* name = #Name;                                   \
        /* as error messages quote it */                                             \
        static constexpr const char* label =                                         \
            std::is_same_v<Type, PyObject*> ? "None (objects)" : "'" #Name "'";      \
        static constexpr const char* formats = Formats;                              \
        static constexpr const char* typecode = Typecode;                            \
    };
FASTCHAN_DTYPES(FASTCHAN_DTYPE_TRAITS)
#undef FASTCHAN_DTYPE_TRAITS

// True for the C++ types FASTCHAN_DTYPES lists.
template <class T, class = void>
inline constexpr bool is_dtype = false;
template <class T>
inline constexpr bool is_dtype<T, std::void_t<decltype(DtypeTraits<T>::code)>> = true;

template <class... Ts>
struct TypeList {};

namespace dtypes_detail {
template <class First, class... Rest>
TypeList<Rest...> drop_first(TypeList<First, Rest...>);
}  // namespace dtypes_detail

// Every dtype's C++ type, in list order.
#define FASTCHAN_DTYPE_TYPE(Type, ...) , Type
using DtypeTypes = decltype(dtypes_detail::drop_first(TypeList<void FASTCHAN_DTYPES(FASTCHAN_DTYPE_TYPE)>{}));
#undef FASTCHAN_DTYPE_TYPE

}  // namespace fastchan::python
