#!/usr/bin/env bash
# Checks that fastchan compiles for Windows, on this Linux machine: a syntax
# check (-fsyntax-only -std=c++17, nothing is linked or run) with mingw-w64's
# g++ for x86_64-w64-mingw32, its posix thread model (GCC 12's win32 model has
# no std::thread or std::mutex).
#   1. No POSIX or Linux header (unistd.h, fcntl.h, sys/..., pthread.h,
#      sched.h, poll.h, linux/...) is included in cpp/ outside an #if: mingw
#      ships some of them, MSVC none, so the compile alone would not show it.
#   2. Every public header (cpp/include/fastchan/*.hpp, detail/, flavors/, shm/) and
#      cpp/src/loops/wake_fd.hpp (the LoopWaker's descriptor, which needs no
#      Python), each on its own, under the warnings strict users build with
#      (tests/cpp/strict_headers.cpp's): -Wall -Wextra -Wshadow -Wconversion
#      -Wsign-conversion -Werror.
#   3. Every source of the extension (fastchan._core), against CPython's own
#      Windows configuration header (PC/pyconfig.h.in, which handles mingw)
#      and Include/ from Debian's python3.13 source package (the tarball
#      ../shared/tools/build-cpython.sh caches, else downloaded with apt-get
#      source into build/windows-check), and pybind11's headers. (Debian
#      ships no Windows pyconfig.h; the CPython version need not match the
#      local one: the check is about fastchan's code, not the ABI.)
# Installs the cross compiler if it is missing (apt). Any error fails the
# script. ~1-2 min on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
PYTHON=${PYTHON:-python3}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

CXX=x86_64-w64-mingw32-g++-posix
if ! command -v "$CXX" >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++-mingw-w64-x86-64 >/dev/null
fi
command -v "$CXX" >/dev/null || { echo "check_windows.sh: $CXX is still missing" >&2; exit 1; }

work=$root/build/windows-check
mkdir -p "$work"

echo "== no POSIX header outside an #if"
# Tracks #if depth per file (the files use #pragma once, not include guards).
bad=$(find cpp -name '*.hpp' -o -name '*.cpp' | sort | xargs awk '
  FNR == 1 { depth = 0 }
  /^[ \t]*#[ \t]*if/ { depth++ }
  /^[ \t]*#[ \t]*endif/ { depth-- }
  /^[ \t]*#[ \t]*include[ \t]*<(unistd|fcntl|pthread|sched|poll|spawn|time|signal|dlfcn|semaphore)\.h>/ ||
  /^[ \t]*#[ \t]*include[ \t]*<(sys|linux|arpa|netinet)\// {
    if (depth == 0) print FILENAME ":" FNR ": " $0
  }')
if [ -n "$bad" ]; then
  echo "POSIX headers included unconditionally (Windows has none of them):" >&2
  echo "$bad" >&2
  exit 1
fi

# CPython's headers for Windows.
version=${CPYTHON_DEB_VERSION:-3.13.5-2+deb13u5}
upstream=${version%%-*}; minor=${upstream%.*}
pyinc=$work/python-$upstream/include
if [ ! -f "$pyinc/pyconfig.h" ]; then
  tarball=${FASTCHAN_CPYTHON_CACHE:-$HOME/.cache/fastchan-cpython}/work/python${minor}_${upstream}.orig.tar.xz
  if [ ! -f "$tarball" ]; then
    # Debian's source package, through apt with a private deb-src list (as
    # build-cpython.sh does); apt's own configuration is left alone.
    uri=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
          | grep -oE '^(URIs:|deb) +[a-z]+://[^ ]+' | grep -v security | head -n1 | awk '{print $2}' || true)
    [ -n "$uri" ] || { echo "check_windows.sh: no Debian archive found in apt's sources" >&2; exit 1; }
    apt_dir=$work/apt; mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    echo "deb-src $uri trixie main" > "$apt_dir/sources.list"
    A=(-o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
       -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache")
    apt-get "${A[@]}" -qq update
    (cd "$work" && apt-get "${A[@]}" -qq source --download-only "python$minor=$version")
    tarball=$work/python${minor}_${upstream}.orig.tar.xz
  fi
  rm -rf "$work/python-$upstream" && mkdir -p "$work/python-$upstream"
  tar -xJf "$tarball" -C "$work/python-$upstream" --strip-components=1 \
    "Python-$upstream/Include" "Python-$upstream/PC/pyconfig.h.in"
  mv "$work/python-$upstream/Include" "$pyinc"
  cp "$work/python-$upstream/PC/pyconfig.h.in" "$pyinc/pyconfig.h"
fi
pybind11_inc=$("$PYTHON" -c 'import pybind11; print(pybind11.get_include())')

strict=(-Wall -Wextra -Wshadow -Wconversion -Wsign-conversion -Werror)
common=(-fsyntax-only -std=c++17 -isystem "$pyinc" -isystem "$pybind11_inc"
        -I"$root/cpp/include" -I"$root/cpp/src")
failed=0
check() {  # $1: what, then the compiler's arguments
  if ! nice "$CXX" "${common[@]}" "${@:2}"; then
    echo "FAILED: $1" >&2
    failed=1
  fi
}

echo "== headers, each on its own (-Werror), for x86_64-w64-mingw32"
for header in cpp/include/fastchan/*.hpp cpp/include/fastchan/detail/*.hpp \
              cpp/include/fastchan/flavors/*.hpp cpp/include/fastchan/shm/*.hpp \
              cpp/src/loops/wake_fd.hpp; do
  unit=$work/$(echo "$header" | tr / _).cpp
  printf '#include "%s"\n' "$root/$header" > "$unit"
  check "$header" "${strict[@]}" "$unit"
done

echo "== the extension's sources, for x86_64-w64-mingw32"
sources=$(grep -oE 'cpp/src/[A-Za-z0-9_/]+\.cpp' CMakeLists.txt)
[ -n "$sources" ] || { echo "check_windows.sh: no sources found in CMakeLists.txt" >&2; exit 1; }
for source in $sources; do
  check "$source" "$source"
done

if [ "$failed" != 0 ]; then
  echo "check_windows.sh: some files do not compile for Windows" >&2
  exit 1
fi
echo "check_windows.sh: all compile for Windows"
