"""Import time: `import fastchan` against `import queue` and `import asyncio`,
each in a fresh interpreter.

    python benchmarks/bench_import.py [--runs 10] [--json FILE]

For each statement, every run starts a new `python -c STATEMENT` (with
PYTHONPATH as given) and times it by wall clock; the same is done for an
empty interpreter (`python -c pass`), run for run, round-robin. The table
shows the median wall time and the median minus the empty interpreter's,
which is what the import itself costs. A benchmark, not a test.
"""

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time

STATEMENTS = {
    "empty interpreter": "pass",
    "import queue": "import queue",
    "import asyncio": "import asyncio",
    "import queue, asyncio": "import queue, asyncio",
    "import fastchan": "import fastchan",
    "import fastchan.asyncio": "import fastchan.asyncio",
}


def wall(statement):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    times = {name: [] for name in STATEMENTS}
    for name, statement in STATEMENTS.items():
        wall(statement)  # warm the file cache
    for _ in range(args.runs):
        for name, statement in STATEMENTS.items():
            times[name].append(wall(statement))
    medians = {name: statistics.median(t) for name, t in times.items()}
    empty = medians["empty interpreter"]
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"median of {args.runs} fresh processes each\n")
    print("| statement | wall ms | minus empty interpreter, ms |")
    print("|---|---:|---:|")
    results = []
    for name, median in medians.items():
        print(f"| `{STATEMENTS[name]}` | {median * 1e3:.1f} | {(median - empty) * 1e3:.1f} |")
        results.append({"scenario": "import time", "contender": name, "statement": STATEMENTS[name],
                        "wall_s": median, "import_s": median - empty})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"bench": "import", "python": sys.version, "runs": args.runs,
                       "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
