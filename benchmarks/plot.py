"""Plots of the benchmarks' JSON results: one PNG per benchmark, one panel
per scenario, a bar per contender (fastchan's bars in one colour, the
peers' in another).

    pip install matplotlib      # only to regenerate the plots; no test needs it
    python benchmarks/plot.py [benchmarks/results/*.json] [--out benchmarks/plots]

Reads the files that `bench_*.py --json FILE` write. Throughput benchmarks
plot items (or calls) per second; bench_import plots milliseconds (lower is
better).
"""

import argparse
import glob
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FASTCHAN, PEER = "#1f77b4", "#bbbbbb"


def is_fastchan(contender):
    return contender.startswith("fastchan") or contender.startswith("C++ thread")


def plot(path, out_dir):
    with open(path) as f:
        data = json.load(f)
    name = data.get("bench") or os.path.splitext(os.path.basename(path))[0]
    load = data.get("oversubscribe")
    if load:
        name += "-oversubscribed"
    rows = data["results"]
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    importing = name == "import"
    fig, axes = plt.subplots(len(scenarios), 1, squeeze=False,
                             figsize=(8, 0.5 + sum(0.45 * sum(r["scenario"] == s for r in rows) + 0.8
                                                   for s in scenarios)))
    for ax, scenario in zip(axes[:, 0], scenarios):
        here = [r for r in rows if r["scenario"] == scenario]
        labels = [r["contender"] for r in here]
        if importing:
            values = [r["import_s"] * 1e3 for r in here]
            colors = [FASTCHAN if "fastchan" in label else PEER for label in labels]
            ax.set_xlabel("ms on top of an empty interpreter (lower is better)")
        else:
            values = [r["items_per_s"] / 1e6 for r in here]
            colors = [FASTCHAN if is_fastchan(label) else PEER for label in labels]
            ax.set_xlabel("million items per second (higher is better)")
        ax.barh(range(len(here)), values, color=colors)
        ax.set_yticks(range(len(here)), labels, fontsize=8)
        ax.invert_yaxis()
        for i, v in enumerate(values):
            ax.text(v, i, f" {v:.2f}" if v < 10 else f" {v:.1f}", va="center", fontsize=7)
        ax.set_title(scenario, fontsize=9)
        ax.margins(x=0.15)
    python = data.get("python", "")
    python = python if python.startswith("CPython") else f"Python {python.split()[0]}"
    machine = f"one busy loop per core, {load}" if load else "2 shared, noisy cores"
    fig.suptitle(f"bench_{data.get('bench') or name}.py, {python} ({machine}: compare ratios)",
                 fontsize=10)
    fig.tight_layout()
    target = os.path.join(out_dir, f"{name}.png")
    fig.savefig(target, dpi=90)
    plt.close(fig)
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*")
    parser.add_argument("--out", default=os.path.join(HERE, "plots"))
    args = parser.parse_args(argv)
    files = args.files or sorted(glob.glob(os.path.join(HERE, "results", "*.json")))
    os.makedirs(args.out, exist_ok=True)
    for path in files:
        print(plot(path, args.out))


if __name__ == "__main__":
    main()
