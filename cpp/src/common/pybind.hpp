// The binding spells pybind11 `py::`, everywhere (namespace fastchan::binding).
#pragma once

#include <pybind11/pybind11.h>

namespace fastchan::binding {
namespace py = pybind11;
}  // namespace fastchan::binding
