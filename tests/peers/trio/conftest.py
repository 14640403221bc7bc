"""Runs trio 0.35.0's own src/trio/_tests/test_channel.py, unmodified,
against fastchan.open_memory_channel. Three substitutions, nothing else:

1. trio.open_memory_channel is fastchan's: the test file imports it from
   trio, and trio.as_safe_channel looks it up on the trio module when
   called, so its tests run on fastchan's channel too.
2. The test file's relative import `from ..testing import ...` (it lives in
   trio/_tests/) finds trio.testing: the file is imported as
   _trio_peer._tests.test_channel, and _trio_peer.testing is trio.testing.
   (Imported through the import system, so pytest still rewrites its asserts.)
3. `async def` tests run under trio.run (trio.testing.trio_test), with the
   autojump_clock fixture, as trio's own pytest plugin does.
"""

import importlib
import inspect
import pathlib
import sys
import types

import pytest
import trio
import trio.testing

import fastchan

HERE = pathlib.Path(__file__).resolve().parent
UPSTREAM = (0, 35)  # the release the test file comes from

# 1. fastchan's channel under trio's name.
trio.open_memory_channel = fastchan.open_memory_channel

# 2. The package the test file believes it is in.
_peer = types.ModuleType("_trio_peer")
_peer.__path__ = []
_peer.testing = trio.testing
_tests = types.ModuleType("_trio_peer._tests")
_tests.__path__ = [str(HERE)]
sys.modules.update({"_trio_peer": _peer, "_trio_peer._tests": _tests, "_trio_peer.testing": trio.testing})


class _PeerModule(pytest.Module):
    def _getobj(self):
        found = tuple(int(part) for part in trio.__version__.split(".")[:2])
        if found < UPSTREAM:
            pytest.skip(f"trio {trio.__version__}: this is trio 0.35.0's test file (it uses trio >= 0.35 APIs)",
                        allow_module_level=True)
        return importlib.import_module(f"_trio_peer._tests.{self.path.stem}")


def pytest_pycollect_makemodule(module_path, parent):
    if module_path.parent == HERE and module_path.name.startswith("test_"):
        return _PeerModule.from_parent(parent, path=module_path)
    return None


# 3. trio's pytest plugin (trio/_tests/pytest_plugin.py), the parts the file uses.
@pytest.fixture
def autojump_clock():
    return trio.testing.MockClock(autojump_threshold=0)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        pyfuncitem.obj = trio.testing.trio_test(pyfuncitem.obj)
