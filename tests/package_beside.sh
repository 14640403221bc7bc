#!/usr/bin/env bash
# Puts a copy of the Python package beside an extension built in BUILD_DIR
# (BUILD_DIR/package/fastchan, with BUILD_DIR's _core*.so in it), for the
# test runs that import a special build (sanitizers, FASTCHAN_PORTABLE)
# through PYTHONPATH instead of an installed wheel.
#   bash tests/package_beside.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: package_beside.sh BUILD_DIR}
rm -rf "$build/package" && mkdir -p "$build/package"
cp -r python/fastchan "$build/package/"
rm -f "$build"/package/fastchan/_core*.so
cp "$build"/_core*.so "$build/package/fastchan/"
