"""The installed C++ package: fastchan.get_include()/get_cmake_dir() (and
``python -m fastchan --includes/--cmakedir``) locate it, and the
out-of-tree project in examples/cpp builds and runs against it, through
find_package and through add_subdirectory."""

import os
import shutil
import subprocess
import sys

import pytest

import fastchan

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(REPO, "examples", "cpp")
EXPECTED = "1000 squares, sum 333833500\n"


def tool(module_name, attribute, program):
    """A build tool from its pip package (the test extras install cmake and
    ninja), else from PATH."""
    try:
        module = __import__(module_name)
        path = os.path.join(getattr(module, attribute), program)
        if os.path.exists(path):
            return path
    except ImportError:
        pass
    found = shutil.which(program)
    assert found, f"{program} is needed to build the C++ example (pip install {module_name})"
    return found


def installed_cmake_dir():
    """The installed package's CMake dir. A source tree used in place
    (PYTHONPATH=python) has none: those tests skip there, except under
    tests/run_all.sh, which installs fastchan and sets
    FASTCHAN_REQUIRE_INSTALLED so that they must run."""
    try:
        return fastchan.get_cmake_dir()
    except FileNotFoundError as error:
        if os.environ.get("FASTCHAN_REQUIRE_INSTALLED"):
            raise
        pytest.skip(f"fastchan is not installed here ({error})")


def build_and_run(tmp_path, *cmake_args):
    build = tmp_path / "build"
    cmake, ninja = tool("cmake", "CMAKE_BIN_DIR", "cmake"), tool("ninja", "BIN_DIR", "ninja")
    subprocess.run([cmake, "-S", EXAMPLE, "-B", str(build), "-G", "Ninja",
                    f"-DCMAKE_MAKE_PROGRAM={ninja}", *cmake_args],
                   check=True, capture_output=True, text=True, timeout=300)
    subprocess.run([cmake, "--build", str(build)], check=True, capture_output=True, text=True, timeout=600)
    run = subprocess.run([str(build / "pipeline")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_get_include_holds_the_headers():
    assert os.path.isfile(os.path.join(fastchan.get_include(), "fastchan", "channel.hpp"))


def test_the_command_line_prints_the_same_places():
    installed_cmake_dir()

    def ask(flag):
        return subprocess.run([sys.executable, "-m", "fastchan", flag], check=True,
                              capture_output=True, text=True).stdout.strip()

    assert ask("--includes") == f"-isystem {fastchan.get_include()}"
    assert ask("--cmakedir") == fastchan.get_cmake_dir()


def test_the_includes_flags_compile_a_program(tmp_path):
    cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        pytest.skip("no C++ compiler on PATH")
    flags = subprocess.run([sys.executable, "-m", "fastchan", "--includes"], check=True, capture_output=True,
                           text=True).stdout.split()  # as the shell splits $(python -m fastchan --includes)
    source = tmp_path / "app.cpp"
    source.write_text("#include <fastchan/channel.hpp>\nint main() { fastchan::Channel<int> c(1); return 0; }\n")
    run = subprocess.run([cxx, "-std=c++17", *flags, "-fsyntax-only", str(source)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr


def test_an_out_of_tree_project_builds_against_the_installed_package(tmp_path):
    cmake_dir = installed_cmake_dir()  # the wheel's own, not the source tree's
    assert os.path.isfile(os.path.join(cmake_dir, "fastchanConfig.cmake"))
    assert build_and_run(tmp_path, f"-Dfastchan_DIR={cmake_dir}") == EXPECTED


def test_the_same_target_works_through_add_subdirectory(tmp_path):
    if not os.path.isfile(os.path.join(REPO, "CMakeLists.txt")):
        pytest.fail("the tests run from a fastchan source tree")
    assert build_and_run(tmp_path, f"-DFASTCHAN_SOURCE_DIR={REPO}") == EXPECTED


def test_the_installed_package_carries_its_licence():
    import importlib.metadata

    installed_cmake_dir()  # (skips for a source tree used in place, as above)
    files = importlib.metadata.distribution("fastchan").files or []
    licences = [f for f in files if f.name.startswith("LICENSE")]
    assert licences, f"no LICENSE among the installed files: {files}"
    assert "MIT License" in licences[0].read_text()
