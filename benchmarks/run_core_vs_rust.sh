#!/usr/bin/env bash
# The C++ core against Rust's std::sync::mpsc::sync_channel, same scenarios,
# alternating runs so both share the machine's noise.
#   bash benchmarks/run_core_vs_rust.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cmake -S . -B build/bench -G Ninja -DFASTCHAN_BUILD_BENCHMARKS=ON -DFASTCHAN_BUILD_PYTHON=OFF \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/bench >/dev/null
cargo build --release --offline --quiet --manifest-path benchmarks/rust_peer/Cargo.toml \
  --target-dir build/rust_peer
for round in $(seq "$rounds"); do
  echo "## round $round"
  build/bench/bench_channel 5
  build/rust_peer/release/fastchan-rust-peer 5
done
