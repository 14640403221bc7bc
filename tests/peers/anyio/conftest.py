"""Runs anyio 4.16.0's own tests/streams/test_memory.py, unmodified, against
fastchan.anyio. Three substitutions, nothing else:

1. While the test file is imported, anyio.create_memory_object_stream and
   anyio.streams.memory's MemoryObjectSendStream/MemoryObjectReceiveStream
   are fastchan's, so the names the file binds are fastchan's (anyio's are
   restored after: anyio itself and the other tests keep its own streams).
   The exceptions it imports from anyio are the ones fastchan.anyio raises.
2. The file's relative import `from ..conftest import asyncio_params` (it
   lives in anyio's tests/streams/) finds the asyncio_params built below:
   the file is imported as _anyio_peer.streams.test_memory, and
   _anyio_peer.conftest holds them. (Imported through the import system, so
   pytest still rewrites its asserts.)
3. Its `async def` tests run through anyio's pytest plugin on every backend,
   as anyio's own suite runs them (anyio_mode = "auto" there; here the
   module is marked anyio): the anyio_backend fixture has anyio's
   parameters, asyncio (debug), asyncio+uvloop, asyncio+eager (3.12+), trio.
"""

import asyncio
import importlib
import pathlib
import sys
import types

import pytest

anyio = pytest.importorskip("anyio")
import anyio.streams.memory  # noqa: E402

import fastchan.anyio  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
UPSTREAM = (4, 16)  # the release the test file comes from

# 3. anyio's backend parameters (anyio's tests/conftest.py builds the same).
try:
    import uvloop
except ImportError:
    uvloop = None
asyncio_params = [
    pytest.param(("asyncio", {"debug": True}), id="asyncio"),
    pytest.param(("asyncio", {"debug": True, "loop_factory": getattr(uvloop, "new_event_loop", None)}),
                 marks=[pytest.mark.skipif(uvloop is None, reason="uvloop not available")], id="asyncio+uvloop"),
]
if sys.version_info >= (3, 12):
    def _eager_task_loop() -> asyncio.AbstractEventLoop:
        loop = asyncio.new_event_loop()
        loop.set_task_factory(asyncio.eager_task_factory)
        return loop

    asyncio_params.append(pytest.param(("asyncio", {"debug": True, "loop_factory": _eager_task_loop}),
                                       id="asyncio+eager"))
try:
    import trio  # noqa: F401
except ImportError:
    trio_marks = [pytest.mark.skip(reason="trio is not available")]
else:
    trio_marks = []
backend_params = [*asyncio_params, pytest.param("trio", marks=trio_marks, id="trio")]


@pytest.fixture(params=backend_params)
def anyio_backend(request):
    return request.param


# 2. The package the test file believes it is in.
_peer = types.ModuleType("_anyio_peer")
_peer.__path__ = []
_conftest = types.ModuleType("_anyio_peer.conftest")
_conftest.asyncio_params = asyncio_params
_streams = types.ModuleType("_anyio_peer.streams")
_streams.__path__ = [str(HERE)]
sys.modules.update({"_anyio_peer": _peer, "_anyio_peer.conftest": _conftest, "_anyio_peer.streams": _streams})

# 1. fastchan's streams under anyio's names, while the file binds them.
_SUBSTITUTES = [
    (anyio, "create_memory_object_stream", fastchan.anyio.create_memory_object_stream),
    (anyio.streams.memory, "MemoryObjectSendStream", fastchan.anyio.MemoryObjectSendStream),
    (anyio.streams.memory, "MemoryObjectReceiveStream", fastchan.anyio.MemoryObjectReceiveStream),
]


class _PeerModule(pytest.Module):
    def _getobj(self):
        found = tuple(int(part) for part in anyio.__version__.split(".")[:2]) if hasattr(anyio, "__version__") \
            else _installed_version()
        if found < UPSTREAM:
            pytest.skip(f"anyio {'.'.join(map(str, found))}: this is anyio 4.16.0's test file",
                        allow_module_level=True)
        saved = [(owner, name, getattr(owner, name)) for owner, name, _ in _SUBSTITUTES]
        for owner, name, substitute in _SUBSTITUTES:
            setattr(owner, name, substitute)
        try:
            module = importlib.import_module(f"_anyio_peer.streams.{self.path.stem}")
        finally:
            for owner, name, original in saved:
                setattr(owner, name, original)
        module.pytestmark = [pytest.mark.anyio]  # (anyio's suite runs in anyio_mode = "auto")
        return module


def _installed_version():
    from importlib.metadata import version

    return tuple(int(part) for part in version("anyio").split(".")[:2])


def pytest_pycollect_makemodule(module_path, parent):
    if module_path.parent == HERE and module_path.name.startswith("test_"):
        return _PeerModule.from_parent(parent, path=module_path)
    return None


@pytest.fixture(autouse=True)
def _runs_on_fastchan(request):
    # Guards substitution 1: the file's names are fastchan's, or it tests anyio.
    assert request.module.create_memory_object_stream is fastchan.anyio.create_memory_object_stream
