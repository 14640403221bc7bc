"""Where the installed C++ package is: the headers of fastchan's core and
its CMake config (find_package(fastchan CONFIG) gives fastchan::fastchan).

    cmake -Dfastchan_DIR="$(python -m fastchan --cmakedir)" ...
    c++ -std=c++17 $(python -m fastchan --includes) app.cpp -pthread
"""

from __future__ import annotations

import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def get_include() -> str:
    """The directory holding the ``fastchan/`` C++ headers."""
    installed = os.path.join(_HERE, "include")
    if os.path.isdir(os.path.join(installed, "fastchan")):
        return installed
    # A source checkout used in place (PYTHONPATH=python): the tree's headers.
    source = os.path.join(os.path.dirname(os.path.dirname(_HERE)), "cpp", "include")
    if os.path.isdir(os.path.join(source, "fastchan")):
        return source
    raise FileNotFoundError(f"fastchan's C++ headers are not installed next to {_HERE}")


def get_cmake_dir() -> str:
    """The directory holding fastchanConfig.cmake (for fastchan_DIR)."""
    cmake_dir = os.path.join(_HERE, "share", "cmake", "fastchan")
    if not os.path.isfile(os.path.join(cmake_dir, "fastchanConfig.cmake")):
        raise FileNotFoundError(
            f"fastchan's CMake package is not installed in {cmake_dir}: install fastchan with pip "
            "(a source checkout can use add_subdirectory instead)")
    return cmake_dir
