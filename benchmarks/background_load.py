"""Background load for the benchmarks' --oversubscribe switch.

    with oversubscribed("pinned"):   # one busy loop pinned to each core
        ...measure...

Each busy loop is a separate process spinning in pure Python, so it competes
for the CPUs the way another program on a busy machine does. "pinned" ties
loop k to core k (os.sched_setaffinity, where there is one): the scheduler
can then never move the load out of a benchmark thread's way, the hardest
case for a thread that spins while its peer needs the core. "unpinned" lets
the scheduler place the loops.
"""

import contextlib
import os
import subprocess
import sys

MODES = ("pinned", "unpinned")

_BUSY_LOOP = """
import os, sys
cpu = int(sys.argv[1])
if cpu >= 0 and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {cpu})
sys.stdout.write("ready\\n")
sys.stdout.flush()
while True:
    pass
"""


def cores():
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


@contextlib.contextmanager
def oversubscribed(mode):
    """Runs one busy-looping process per core while the block runs; None or
    "" runs the block on a quiet machine."""
    if not mode:
        yield
        return
    if mode not in MODES:
        raise ValueError(f"oversubscribe mode must be one of {MODES}, not {mode!r}")
    loops = []
    try:
        for cpu in cores():
            loops.append(subprocess.Popen(
                [sys.executable, "-c", _BUSY_LOOP, str(cpu if mode == "pinned" else -1)],
                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL))
        for loop in loops:
            loop.stdout.readline()  # spinning (and pinned) before we measure
        yield
    finally:
        for loop in loops:
            loop.kill()
        for loop in loops:
            loop.wait()
            loop.stdout.close()


def describe(mode):
    """A line for a benchmark's header."""
    if not mode:
        return "quiet machine (no background load)"
    return f"oversubscribed: one busy loop per core ({len(cores())}), {mode}"


def add_switch(parser):
    """Adds --oversubscribe [pinned|unpinned] to an argparse parser."""
    parser.add_argument(
        "--oversubscribe", nargs="?", const="pinned", choices=MODES, default=None,
        help="run with one busy-looping process per core in the background "
             "(default: pinned, one per core)")
