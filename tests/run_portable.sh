#!/usr/bin/env bash
# The tests against a FASTCHAN_PORTABLE build: on Linux, the code other
# systems run instead of the Linux-only calls (the parking table of mutexes
# and condition variables instead of futex, a pipe instead of eventfd in the
# asyncio LoopWaker, no sched_getcpu; cpp/include/fastchan/detail/platform.hpp).
#   1. the GoogleTest suite (build/portable-tests),
#   2. pytest (tests/python) against the extension built that way
#      (build/portable-python, beside a copy of the Python package, as
#      run_all.sh's ASan stage does).
# FASTCHAN_EXPECT_PORTABLE=1 makes both suites check that the build really
# is a portable one (tests/cpp/test_platform.cpp, tests/python/test_platform.py).
# Usage: tests/run_portable.sh [PYTHON]   (default python3; it needs pybind11,
# cmake, ninja, pytest, pytest-timeout, hypothesis, trio and anyio).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${1:-python3}
PYTHON=$(command -v "$PYTHON")
export FASTCHAN_EXPECT_PORTABLE=1

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

echo "== GoogleTest, FASTCHAN_PORTABLE"
cmake -S . -B build/portable-tests -G Ninja -DFASTCHAN_PORTABLE=ON -DFASTCHAN_BUILD_TESTS=ON \
  -DFASTCHAN_BUILD_PYTHON=OFF "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/portable-tests
ctest --test-dir build/portable-tests --output-on-failure

echo "== pytest against a FASTCHAN_PORTABLE build of the extension"
cmake -S . -B build/portable-python -G Ninja -DFASTCHAN_PORTABLE=ON -DFASTCHAN_BUILD_PYTHON=ON \
  -DFASTCHAN_INSTALL=OFF "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$PYTHON" \
  -Dpybind11_DIR="$("$PYTHON" -c 'import pybind11; print(pybind11.get_cmake_dir())')" >/dev/null
cmake --build build/portable-python
bash tests/package_beside.sh build/portable-python
# (test_cpp_package.py is left out: it wants the headers installed beside
# the package, which this copy lacks, and tests the core only, which the
# GoogleTest run above covers. test_cpp_extension.py runs: it builds its
# extension FASTCHAN_PORTABLE too.)
(cd tests/python && PYTHONPATH="$OLDPWD/build/portable-python/package" \
  "$PYTHON" -m pytest -q -p no:cacheprovider . --ignore=test_cpp_package.py)
