"""python -m fastchan script.py [args...] | python -m fastchan -m module [args...]

Runs an unmodified script or module with fastchan installed (see
fastchan.install): its queue.Queue, asyncio.Queue, multiprocessing.Queue and
friends are fastchan's.
sys.argv and sys.path are what ``python script.py`` / ``python -m module``
would give.

python -m fastchan --cmakedir | --includes prints where the C++ package is
(fastchan_DIR for CMake; ``-isystem <dir>`` for a compiler, so that the
headers are treated as a library's; ``-I<dir>`` works as well, with
fastchan.get_include() as the dir); --version, fastchan's.
As with ``python``, a script that cannot be opened exits with status 2,
a module that cannot be found with status 1, and an unknown option is a
usage error (status 2).
"""

from __future__ import annotations

import importlib.util
import os
import runpy
import sys

import fastchan

USAGE = ("usage: python -m fastchan script.py [args...] | python -m fastchan -m module [args...]\n"
         "       python -m fastchan --cmakedir | --includes | --version")


def _error(message: str, status: int) -> int:
    print(f"python -m fastchan: {message}", file=sys.stderr)
    return status


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"fastchan {fastchan.__version__}")
        return 0
    if argv[0] in ("--cmakedir", "--includes"):
        try:
            print(fastchan.get_cmake_dir() if argv[0] == "--cmakedir" else f"-isystem {fastchan.get_include()}")
        except FileNotFoundError as error:
            return _error(str(error), 1)
        return 0
    if argv[0].startswith("-") and argv[0] != "-m":
        print(USAGE, file=sys.stderr)
        return _error(f"unknown option {argv[0]!r}", 2)
    if argv[0] == "-m":
        if len(argv) < 2:
            print(USAGE, file=sys.stderr)
            return 2
        module = argv[1]
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # (a parent package is missing; an empty name)
            found = False
        if not found:
            return _error(f"No module named {module!r}", 1)
        fastchan.install()
        sys.argv = [module, *argv[2:]]  # runpy puts the module's path in argv[0]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    script = argv[0]
    if not os.path.isfile(script) and not os.path.isdir(script):
        return _error(f"can't open file {os.path.abspath(script)!r}: no such file", 2)
    fastchan.install()
    sys.argv = argv
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
