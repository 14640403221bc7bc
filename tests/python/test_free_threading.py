"""Free-threaded CPython (3.13t, PEP 703): importing any fastchan module keeps
the GIL off, with no RuntimeWarning (the extension declares Py_mod_gil =
Py_MOD_GIL_NOT_USED; docs/design.md, "Without the GIL", lists what guards each
invariant the GIL used to). Skipped on GIL builds."""

import os
import subprocess
import sys
import sysconfig

import pytest

pytestmark = pytest.mark.skipif(
    not sysconfig.get_config_var("Py_GIL_DISABLED"), reason="needs a free-threaded (3.13t) build"
)

IMPORT_ALL = r"""
import importlib, pkgutil, sys, warnings
warnings.simplefilter("error")  # the re-enabling RuntimeWarning would fail the import
import fastchan
names = sorted(m.name for m in pkgutil.walk_packages(fastchan.__path__, "fastchan.")
               if m.name != "fastchan.__main__")
for name in names:
    importlib.import_module(name)
import fastchan._core._testing
import fastchan.__main__ as _  # (runs nothing at import: its main() is guarded)
print(len(names), sys._is_gil_enabled())
"""


def test_imports_keep_the_gil_off():
    env = dict(os.environ)
    env.pop("PYTHON_GIL", None)  # the module's declaration alone must do it
    r = subprocess.run(
        [sys.executable, "-X", "dev", "-c", IMPORT_ALL], capture_output=True, text=True, timeout=60, env=env
    )
    assert r.returncode == 0, r.stderr
    count, enabled = r.stdout.split()
    assert int(count) > 10, r.stdout
    assert enabled == "False", r.stdout + r.stderr
    assert "GIL" not in r.stderr, r.stderr
