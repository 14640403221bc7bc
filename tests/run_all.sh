#!/usr/bin/env bash
# Runs every test of fastchan on a fresh machine: installs what is missing,
# builds and runs the GoogleTest suite (plain, then under ThreadSanitizer),
# installs the package with its test extras and runs pytest, on every other
# CPython >= 3.9 found under ~/.pyenv too, then on $PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Build tools (pip packages on this machine kind) and Debian's GoogleTest.
"$PYTHON" -m pip install --quiet --disable-pip-version-check cmake ninja
if [ ! -e /usr/include/gtest/gtest.h ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgtest-dev >/dev/null
fi

run_ctest() {  # $1: build dir, $2: extra CXX flags, then extra ctest arguments
  cmake -S . -B "$1" -G Ninja -DFASTCHAN_BUILD_TESTS=ON -DFASTCHAN_BUILD_PYTHON=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS="$2" >/dev/null
  cmake --build "$1"
  ctest --test-dir "$1" --output-on-failure "${@:3}"
}

echo "== GoogleTest"
run_ctest build/tests ""
echo "== GoogleTest under ThreadSanitizer"
# TSAN cannot map its shadow memory under some kernels' ASLR: run without it.
# TSAN does not support fork() in a multi-threaded process: the Fork tests
# run in the plain build only.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  setarch "$(uname -m)" -R bash -c "$(declare -f run_ctest); run_ctest build/tsan '-fsanitize=thread' -E '^Fork\\.'"

# pytest from outside the source tree, so the installed package is the one tested.
run_pytest() {  # $1: python
  "$1" -m pip install --quiet --disable-pip-version-check ".[test]"
  # The installed-package tests must run here, not skip.
  (cd tests/python && FASTCHAN_REQUIRE_INSTALLED=1 "$1" -m pytest -q -p no:cacheprovider .)
}

# Every other CPython >= 3.9 this machine has (pyenv), each in its own venv.
version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }
main_version=$(version_of "$PYTHON")
for other in "$HOME"/.pyenv/versions/3.*/bin/python3; do
  [ -x "$other" ] || continue
  version=$(version_of "$other")
  case "$version" in 3.[0-8]|"$main_version") continue ;; esac
  echo "== pytest on CPython $version"
  "$other" -m venv --clear "build/venv-$version"
  run_pytest "$PWD/build/venv-$version/bin/python"
done

echo "== pytest on CPython $main_version"
run_pytest "$PYTHON"
