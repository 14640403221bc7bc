"""`python -m fastchan`'s own options and errors, as ``python``'s: a usage
error for an unknown option, status 2 for a script that cannot be opened,
status 1 for a module that cannot be found (no traceback), --version."""

import os
import subprocess
import sys

import pytest

import fastchan


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "fastchan", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))


def test_version():
    result = run("--version")
    assert (result.returncode, result.stdout) == (0, f"fastchan {fastchan.__version__}\n")


def test_an_unknown_option_is_a_usage_error():
    result = run("--bogus", "x.py")
    assert result.returncode == 2
    assert "usage:" in result.stderr and "unknown option '--bogus'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_script_is_named_without_a_traceback(tmp_path):
    result = run("missing.py", cwd=tmp_path)
    assert result.returncode == 2
    assert f"can't open file {str(tmp_path / 'missing.py')!r}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("module", ["no_such_module_here", "no_such_package_here.sub"])
def test_a_missing_module_is_named_without_a_traceback(module):
    result = run("-m", module)
    assert result.returncode == 1
    assert f"No module named {module!r}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_script_still_runs_with_its_arguments(tmp_path):
    script = tmp_path / "show.py"
    script.write_text("import queue, sys, fastchan\n"
                      "print(sys.argv[1:], queue.Queue is fastchan.Queue)\n")
    result = run(str(script), "--version", "-x")
    assert (result.returncode, result.stdout) == (0, "['--version', '-x'] True\n")
