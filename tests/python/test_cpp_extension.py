"""examples/cpp_extension: a separately built extension module takes the
native channel behind a typed fastchan.Channel (fastchan/python.hpp's
capsule API) and feeds it from its own C++ thread, without the GIL, while
Python threads and asyncio loops consume it."""

import asyncio
import collections
import ctypes
import importlib
import os
import subprocess
import sys
import threading

import pytest

import fastchan
from test_cpp_package import REPO, tool

EXAMPLE = os.path.join(REPO, "examples", "cpp_extension")


@pytest.fixture(scope="module")
def squares(tmp_path_factory):
    """The example extension, built against the installed fastchan when there
    is one (find_package), else against this source tree (add_subdirectory)."""
    import pybind11  # a test extra
    build = tmp_path_factory.mktemp("cpp_extension")
    try:
        source = [f"-Dfastchan_DIR={fastchan.get_cmake_dir()}"]
    except FileNotFoundError:
        if os.environ.get("FASTCHAN_REQUIRE_INSTALLED"):
            raise
        source = [f"-DFASTCHAN_SOURCE_DIR={REPO}"]
    if fastchan._core._build_info["portable"]:
        # Built as the extension it shares channels with (its threads must
        # sleep as _core's do; python.hpp refuses a mismatch).
        source.append("-DFASTCHAN_PORTABLE=ON")
    cmake, ninja = tool("cmake", "CMAKE_BIN_DIR", "cmake"), tool("ninja", "BIN_DIR", "ninja")
    subprocess.run([cmake, "-S", EXAMPLE, "-B", str(build), "-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={ninja}",
                    f"-Dpybind11_DIR={pybind11.get_cmake_dir()}", f"-DPython_EXECUTABLE={sys.executable}",
                    "-DCMAKE_BUILD_TYPE=Release", *source],
                   check=True, capture_output=True, text=True, timeout=300)
    subprocess.run([cmake, "--build", str(build)], check=True, capture_output=True, text=True, timeout=600)
    sys.path.insert(0, str(build))
    try:
        yield importlib.import_module("squares")
    finally:
        sys.path.remove(str(build))


def test_the_example_consumes_with_async_for(squares):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(squares.__file__), *sys.path])
    run = subprocess.run([sys.executable, os.path.join(EXAMPLE, "consume.py")], capture_output=True, text=True,
                         timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "1000 squares, sum 333833500\n"


def test_a_python_thread_drains_it_with_get_many(squares):
    channel = fastchan.Channel(64, dtype="int64")
    producer = squares.Producer(channel, 20000)
    got = []
    try:
        while True:
            got.extend(channel.get_many(1000, timeout=30, as_array=True))
    except fastchan.ChannelClosed:
        pass
    producer.join()
    assert got == [n * n for n in range(1, 20001)]


def test_asyncio_consumers_on_two_loops_get_each_item_once(squares):
    channel = fastchan.Channel(16, dtype="int64")
    count = 30000
    results = [None, None]

    def consume(slot):
        async def drain():
            seen = []
            while True:
                try:
                    seen.extend(await channel.aget_many(64, timeout=30))
                except fastchan.ChannelClosed:
                    return seen
        results[slot] = asyncio.run(drain())

    loops = [threading.Thread(target=consume, args=(i,)) for i in range(2)]
    for t in loops:
        t.start()
    producer = squares.Producer(channel, count)
    for t in loops:
        t.join(timeout=60)
        assert not t.is_alive()
    producer.join()
    seen = collections.Counter(results[0]) + collections.Counter(results[1])
    # Exactly once between them. (How they share is up to the scheduler: a
    # loop that stays busy may win every race, so no split is asserted.)
    assert seen == collections.Counter(n * n for n in range(1, count + 1))


def test_the_capsule_keeps_the_channel_alive(squares):
    channel = fastchan.Channel(4, dtype="int64")
    producer = squares.Producer(channel, 10**9)  # blocks once 4 items are buffered
    del channel  # the producer's reference keeps the native channel alive
    del producer  # closes the channel, so its thread stops, then joins it


def test_a_channel_of_another_dtype_is_refused(squares):
    for dtype in (None, "float64", "bytes"):
        with pytest.raises(TypeError, match=r"dtype 'int64', not one of dtype"):
            squares.Producer(fastchan.Channel(4, dtype=dtype), 10)
    with pytest.raises(TypeError, match="expected a fastchan.Channel, not list"):
        squares.Producer([], 10)


class ChannelExport(ctypes.Structure):
    """fastchan::python::ChannelExport, as the capsule holds it."""
    _fields_ = [("abi_version", ctypes.c_uint), ("dtype", ctypes.c_int), ("channel_size", ctypes.c_size_t),
                ("item_size", ctypes.c_size_t), ("stdlib_abi", ctypes.c_char_p), ("channel", ctypes.c_void_p)]


def forged_channel(**changes):
    """An object whose capsule describes a real int64 channel except for
    `changes`, as a fastchan built differently would."""
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    new_capsule = ctypes.pythonapi.PyCapsule_New
    new_capsule.restype, new_capsule.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    channel = fastchan.Channel(4, dtype="int64")
    capsule = channel.__fastchan_channel__()  # owns the ChannelExport while we read it
    real = ChannelExport.from_address(get_pointer(capsule, b"fastchan.Channel"))
    assert (real.abi_version, real.dtype, real.item_size) == (1, 1, 8)
    fields = {name: getattr(real, name) for name, _ in ChannelExport._fields_}
    fields.update(changes)
    forged = ChannelExport(**fields)

    class FromAnotherFastchan:
        def __fastchan_channel__(self):
            return new_capsule(ctypes.addressof(forged), b"fastchan.Channel", None)

    FromAnotherFastchan.keep = (capsule, forged)
    return FromAnotherFastchan(), channel


def test_an_abi_mismatch_is_a_clear_error(squares):
    """A capsule from a fastchan of another ABI (forged here) is refused
    before the channel is touched."""
    other, channel = forged_channel(abi_version=2)
    with pytest.raises(RuntimeError, match=r"ABI mismatch: the installed fastchan has ABI version 2, .* was built "
                                           r"for version 1; rebuild it"):
        squares.Producer(other, 10)
    other, channel = forged_channel(stdlib_abi=b"libc++1")
    with pytest.raises(RuntimeError, match=r"installed fastchan was built with libc\+\+1 .* rebuild it"):
        squares.Producer(other, 10)
    other, channel = forged_channel(item_size=4)
    with pytest.raises(RuntimeError, match=r"channels of 4-byte items"):
        squares.Producer(other, 10)
    assert len(channel) == 0 and not channel.closed


def test_something_else_than_a_capsule_is_refused(squares):
    class Impostor:
        def __fastchan_channel__(self):
            return 42

    with pytest.raises(TypeError, match=r'did not return a "fastchan.Channel" capsule'):
        squares.Producer(Impostor(), 10)
