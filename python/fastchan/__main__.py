"""python -m fastchan script.py [args...] | python -m fastchan -m module [args...]

Runs an unmodified script or module with fastchan installed (see
fastchan.install): its queue.Queue, asyncio.Queue and friends are fastchan's.
sys.argv and sys.path are what ``python script.py`` / ``python -m module``
would give.

python -m fastchan --cmakedir | --includes prints where the C++ package is
(fastchan_DIR for CMake; -I flags for a compiler).
"""

from __future__ import annotations

import os
import runpy
import sys

import fastchan

USAGE = ("usage: python -m fastchan script.py [args...] | python -m fastchan -m module [args...]\n"
         "       python -m fastchan --cmakedir | --includes")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] in ("--cmakedir", "--includes"):
        try:
            print(fastchan.get_cmake_dir() if argv[0] == "--cmakedir" else f"-I{fastchan.get_include()}")
        except FileNotFoundError as error:
            print(f"python -m fastchan: {error}", file=sys.stderr)
            return 1
        return 0
    fastchan.install()
    if argv[0] == "-m":
        if len(argv) < 2:
            print(USAGE, file=sys.stderr)
            return 2
        sys.argv = [argv[1], *argv[2:]]  # runpy puts the module's path in argv[0]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        script = argv[0]
        sys.argv = argv
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
