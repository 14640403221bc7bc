#!/usr/bin/env bash
# The C++ core against Rust's std::sync::mpsc::sync_channel, same scenarios,
# alternating runs so both share the machine's noise; ends with the median
# over rounds and the ratio.
#   bash benchmarks/run_core_vs_rust.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cmake -S . -B build/bench -G Ninja -DFASTCHAN_BUILD_BENCHMARKS=ON -DFASTCHAN_BUILD_PYTHON=OFF \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/bench >/dev/null
cargo build --release --offline --quiet --manifest-path benchmarks/rust_peer/Cargo.toml \
  --target-dir build/rust_peer
log=$(mktemp)
for round in $(seq "$rounds"); do
  echo "## round $round" | tee -a "$log"
  build/bench/bench_channel 5 | tee -a "$log"
  build/rust_peer/release/fastchan-rust-peer 5 | tee -a "$log"
done
python3 - "$log" <<'PY'
import re, statistics, sys
runs = {}
side = None
for line in open(sys.argv[1]):
    if line.startswith("| scenario"):
        side = "fastchan" if "fastchan" in line else "rust"
    m = re.match(r"\| (.+?) \| ([0-9.]+) \|", line)
    if m and side:
        runs.setdefault(m.group(1), {}).setdefault(side, []).append(float(m.group(2)))
print("\n| scenario | fastchan::Channel ns/item | Rust sync_channel ns/item | Rust / fastchan |")
print("|---|---:|---:|---:|")
for name, sides in runs.items():
    f, r = statistics.median(sides["fastchan"]), statistics.median(sides["rust"])
    print(f"| {name} | {f:.1f} | {r:.1f} | {r / f:.2f}x |")
PY
rm -f "$log"
