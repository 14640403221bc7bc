"""import fastchan stays cheap: it imports neither asyncio, trio, anyio nor
concurrent.futures, and its exceptions still meet asyncio's except clauses
however the two imports are ordered (fastchan/_errors.py). Each check runs
in a fresh interpreter."""

import os
import subprocess
import sys

import pytest

import fastchan

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(fastchan.__file__)))


def run(code):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.parametrize("module", ["asyncio", "trio", "anyio", "sniffio"])
def test_import_fastchan_does_not_import(module):
    assert run(f"import sys, fastchan; print({module!r} in sys.modules)") == ["False"]


def test_import_fastchan_does_not_import_concurrent_futures():
    assert run("import sys, fastchan; print('concurrent.futures' in sys.modules)") == ["False"]


def test_lazy_names_load_on_first_access():
    out = run("import sys, fastchan\n"
              "print('fastchan.pool' in sys.modules, 'fastchan.memory_channel' in sys.modules)\n"
              "print(fastchan.ThreadPool.__module__, fastchan.open_memory_channel.__module__)\n"
              "print(fastchan.pool.__name__, 'ThreadPool' in dir(fastchan), 'to_thread' in vars(fastchan))")
    assert out == ["False", "False", "fastchan.pool", "fastchan.memory_channel", "fastchan.pool", "True", "False"]


def test_star_import_gives_every_name():
    out = run("from fastchan import *\nimport fastchan\n"
              "print(all(name in globals() for name in fastchan.__all__))")
    assert out == ["True"]
    assert set(fastchan.__all__) <= set(dir(fastchan))


CATCH = """
def caught(error, clause):
    try:
        raise error
    except clause:
        return True
    except Exception:
        return False
print(all(caught(fastchan.{name}(), cls) for cls in (queue.{name}, asyncio.{async_name})))
q = fastchan.Queue(1)
try:
    q.get_nowait()
except asyncio.QueueEmpty:
    print("native")
"""


@pytest.mark.parametrize("first", ["fastchan", "asyncio"])
@pytest.mark.parametrize("name, async_name", [("Empty", "QueueEmpty"), ("Full", "QueueFull")])
def test_exceptions_meet_asyncio_clauses_in_either_import_order(first, name, async_name):
    imports = "import fastchan, queue\nimport asyncio\n" if first == "fastchan" else \
        "import asyncio, queue\nimport fastchan\n"
    assert run(imports + CATCH.format(name=name, async_name=async_name)) == ["True", "native"]


@pytest.mark.skipif(sys.version_info < (3, 13), reason="queue.ShutDown and asyncio.QueueShutDown: 3.13+")
@pytest.mark.parametrize("first", ["fastchan", "asyncio"])
def test_shutdown_meets_both_clauses(first):
    imports = "import fastchan, queue\nimport asyncio\n" if first == "fastchan" else \
        "import asyncio, queue\nimport fastchan\n"
    out = run(imports + "print(issubclass(fastchan.ShutDown, (queue.ShutDown)), "
                        "issubclass(fastchan.ShutDown, asyncio.QueueShutDown))")
    assert out == ["True", "True"]


def test_asyncio_module_is_loaded_normally_after_fastchan():
    # The finder hands asyncio.queues back to its own loader once it has run.
    out = run("import sys, fastchan, asyncio.queues as q\n"
              "print(type(q.__loader__).__name__, type(q.__spec__.loader).__name__, "
              "any('AsyncioQueues' in type(f).__name__ or 'AsyncioQueues' in getattr(f, '__name__', '') "
              "for f in sys.meta_path))")
    assert out == ["SourceFileLoader", "SourceFileLoader", "False"]
