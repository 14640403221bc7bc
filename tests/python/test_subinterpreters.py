"""Sub-interpreters: fastchan's native state is process-wide, so importing it
in a sub-interpreter fails at once with ImportError saying why (it used to
deadlock in the extension's init on 3.10/3.11)."""

import os
import subprocess
import sys

import pytest

import fastchan

xi = pytest.importorskip("_interpreters" if sys.version_info >= (3, 13) else "_xxsubinterpreters")

RUN = r"""
import sys
try:
    import _interpreters as xi
except ImportError:
    import _xxsubinterpreters as xi
interp = xi.create()
xi.run_string(interp, {code!r})
print("main interpreter goes on")
"""

PACKAGE = r"""
import sys
sys.path[:0] = {path!r}
try:
    import fastchan
    print("imported")
except ImportError as e:
    print("ImportError:", e)
"""

# The extension alone, without the package's own imports (CPython 3.12.1
# aborts at exit once asyncio was imported in a sub-interpreter).
EXTENSION = r"""
import importlib.util
spec = importlib.util.spec_from_file_location("fastchan._core", {path!r})
try:
    importlib.util.module_from_spec(spec)
    print("imported")
except ImportError as e:
    print("ImportError:", e)
"""


def run_in_subinterpreter(code):
    out = subprocess.run([sys.executable, "-c", RUN.format(code=code)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_extension_refuses_a_subinterpreter():
    out = run_in_subinterpreter(EXTENSION.format(path=fastchan._core.__file__))
    assert "ImportError:" in out and "sub" in out and "interpreter" in out
    assert out.strip().endswith("main interpreter goes on")


@pytest.mark.skipif(sys.version_info[:2] == (3, 12), reason="CPython 3.12.1 aborts at exit after asyncio ran in a sub-interpreter")
def test_package_import_fails_cleanly_in_a_subinterpreter():
    path = os.path.dirname(os.path.dirname(fastchan.__file__))
    out = run_in_subinterpreter(PACKAGE.format(path=[path]))
    assert out.startswith("ImportError:"), out
