"""The public C++ headers compile without a warning under the flags strict
users build with, at C++17 and C++20: with clang++ here (GCC builds
tests/cpp/strict_headers.cpp in the ctest suite), and the headers that need
Python.h (tests/cpp/strict_python_headers.cpp) with both. A compiler that
is not on PATH skips (tests/run_all.sh installs clang)."""

import os
import shutil
import subprocess
import sysconfig

import pytest

from test_cpp_package import REPO

WARNINGS = ["-Wall", "-Wextra", "-Wshadow", "-Wconversion", "-Wsign-conversion", "-Wpedantic", "-Werror"]
CASES = [
    ("clang++", "strict_headers.cpp"),
    ("clang++", "strict_python_headers.cpp"),
    ("g++", "strict_python_headers.cpp"),
]


@pytest.mark.parametrize("std", ["c++17", "c++20"])
@pytest.mark.parametrize("compiler, source", CASES)
def test_the_headers_compile_without_warnings(compiler, source, std):
    cxx = shutil.which(compiler)
    if cxx is None:
        pytest.skip(f"{compiler} is not on PATH (Debian: apt-get install {'clang' if 'clang' in compiler else 'g++'})")
    flags = [f"-std={std}", *WARNINGS, "-I", os.path.join(REPO, "cpp", "include")]
    if source == "strict_python_headers.cpp":
        flags += ["-isystem", sysconfig.get_paths()["include"]]  # (Python.h's warnings are not ours)
    # Clang warns from its front end alone; GCC's optimizers warn too.
    flags += ["-fsyntax-only"] if "clang" in compiler else ["-O2", "-c", "-o", os.devnull]
    run = subprocess.run([cxx, *flags, os.path.join(REPO, "tests", "cpp", source)], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
