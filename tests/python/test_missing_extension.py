"""`import fastchan` without its extension module (a fresh checkout on
PYTHONPATH, nothing built) says so, instead of Python's "circular import";
any other failure to load the extension passes through unchanged."""

import importlib.machinery
import os
import shutil
import subprocess
import sys

import fastchan

EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def package_without_extension(tmp_path):
    """A copy of the fastchan package in tmp_path, without _core's binary."""
    source = os.path.dirname(fastchan.__file__)

    def ignore(directory, names):
        return [n for n in names if n == "__pycache__" or (n.startswith("_core.") and n.endswith(EXTENSION_SUFFIXES))]

    shutil.copytree(source, tmp_path / "fastchan", ignore=ignore)
    return tmp_path / "fastchan"


def import_fastchan(path):
    env = dict(os.environ, PYTHONPATH=str(path))
    return subprocess.run([sys.executable, "-c", "import fastchan"], capture_output=True, text=True,
                          cwd=path, env=env, timeout=60)


def test_a_missing_extension_says_it_is_not_built(tmp_path):
    package_without_extension(tmp_path)
    result = import_fastchan(tmp_path)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: fastchan's extension module (fastchan._core) is not built: "
                           "run `pip install .`"), result.stderr
    assert "Build in place" in last
    assert "circular import" not in result.stderr
    # The original error is chained.
    assert "ModuleNotFoundError: No module named 'fastchan._core'" in result.stderr
    assert "direct cause of the following exception" in result.stderr


def test_an_extension_that_cannot_load_passes_its_error_through(tmp_path):
    package = package_without_extension(tmp_path)
    (package / ("_core" + EXTENSION_SUFFIXES[0])).write_bytes(b"not a shared object")
    result = import_fastchan(tmp_path)
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "is not built" not in result.stderr
