#!/usr/bin/env bash
# Runs every test of fastchan on a fresh machine: installs what is missing
# (build tools into a venv of its own, build/venv-tools; Debian's
# libgtest-dev and ccache through apt-get when absent; never anything into
# the caller's Python), then
#   1. the GoogleTest suite (plain; then under AddressSanitizer +
#      UndefinedBehaviorSanitizer; then under ThreadSanitizer, when setarch
#      can turn ASLR off),
#   2. then, two at a time, each with its own log (build/logs/), printed when
#      it ends:
#      - pytest against fastchan installed from its manylinux wheel
#        (tests/wheel/build_manylinux.sh, checked by auditwheel), in a venv
#        per CPython (tests/python, then the peers' own suites in
#        tests/peers): $PYTHON (default python3, build/venv-main), every
#        other CPython >= 3.10 found under ~/.pyenv, free-threaded CPython
#        3.13t with the GIL off (built once by ../shared/tools/build-cpython.sh,
#        ~10 min, then cached);
#      - with $PYTHON's: the release wheels' smoke test, cibuildwheel's
#        matrix, stubtest and mypy --strict (tests/typing);
#      - of tests/python, the threads-at-once stress tests
#        (test_threads_at_once.py, test_exactly_once.py) on a ThreadSanitizer
#        build of 3.13t and of the extension, the GIL off (its interpreter
#        built and cached the same way);
#      - the suites against a FASTCHAN_PORTABLE build (tests/run_portable.sh:
#        the code macOS and other systems run, on Linux);
#      - a Windows syntax check (tests/check_windows.sh);
#      - pytest against an ASan + UBSan build of the extension.
# --quick: the plain GoogleTest suite, pytest and the typing checks on $PYTHON only.
# Each stage prints the minutes since the start.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
QUICK=0
case "${1:-}" in
  --quick) QUICK=1 ;;
  "") ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
stage() { echo "== $* (at $(minutes $SECONDS))"; }
minutes() { echo "$(($1 / 60)) min $(($1 % 60)) s"; }

# Build tools in a venv of the run's own (tests/tools_venv.sh): nothing is
# installed into the caller's Python.
tools=$(bash tests/tools_venv.sh)
export PATH="$tools/bin:$PATH"
# GoogleTest as CMake finds it; Debian's libgtest-dev only when it cannot.
# ccache, installed the same way when missing, makes repeated builds cheap
# (its cache, ~/.cache/ccache, outlives the run).
missing=()
cmake -S tests/cpp/find_gtest -B build/find-gtest >/dev/null 2>&1 || missing+=(libgtest-dev)
command -v ccache >/dev/null || missing+=(ccache)
# apt's clang: test_strict_headers.py compiles the public headers with it too.
command -v clang++ >/dev/null || missing+=(clang)
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Hits across clones of the repository (CI's fresh clone each run): paths
  # relative to the clone, and the debug info's directory not hashed.
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
else
  echo "(ccache is missing: every build compiles from scratch)"
fi

# The sanitizers' settings. No report in fastchan is suppressed
# (tests/sanitizers/ holds the suppression files, each line with its reason;
# only tsan-python.supp, for CPython's own races, has entries).
SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# GCC's -Wmaybe-uninitialized is known to misfire inside libstdc++ under
# -fsanitize=address (std::deque's iterators); the sanitizer checks the real thing.
SAN_CXX="$SAN_FLAGS -Wno-maybe-uninitialized"
SUPP="$PWD/tests/sanitizers"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$SUPP/ubsan.supp"

run_ctest() {  # $1: build dir, $2: extra CXX flags, then extra ctest arguments
  cmake -S . -B "$1" -G Ninja -DFASTCHAN_BUILD_TESTS=ON -DFASTCHAN_BUILD_PYTHON=OFF "${launcher[@]}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS="$2" >/dev/null
  cmake --build "$1"
  ctest --test-dir "$1" --output-on-failure "${@:3}"
}

stage GoogleTest
run_ctest build/tests ""

if [ "$QUICK" = 0 ]; then
  stage GoogleTest under AddressSanitizer + UndefinedBehaviorSanitizer
  ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:suppressions=$SUPP/asan.supp" \
  LSAN_OPTIONS="suppressions=$SUPP/lsan.supp" run_ctest build/asan "$SAN_CXX"

  stage GoogleTest under ThreadSanitizer
  # TSAN cannot map its shadow memory under some kernels' ASLR: run without
  # it (setarch -R). TSAN does not support fork() in a multi-threaded
  # process: the Fork tests run in the other builds only.
  if command -v setarch >/dev/null; then
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$SUPP/tsan.supp" \
      setarch "$(uname -m)" -R bash -c "$(declare -f run_ctest); launcher=(${launcher[*]}); run_ctest build/tsan '-fsanitize=thread' -E '^Fork\\.'"
  else
    echo "(skipped: setarch is missing, and ThreadSanitizer needs ASLR off)"
  fi
fi

# pytest from outside the source tree against fastchan installed from the
# wheel users get: on x86_64 the manylinux wheel, repaired and checked by
# auditwheel (tests/wheel/build_manylinux.sh), one per CPython; elsewhere
# built from the tree. Each CPython gets a venv of its own (build/venv-X.Y).
wheels=$PWD/build/wheels
install_fastchan() {  # $1: venv python, $2: base python, $3: extras, then pip arguments
  if [ "$(uname -m)" = x86_64 ]; then
    local wheel
    wheel=$(bash tests/wheel/build_manylinux.sh "$2" "$wheels" | tail -n1)
    "$1" -m pip install --quiet --disable-pip-version-check "$wheel$3" "${@:4}"
  else
    "$1" -m pip install --quiet --disable-pip-version-check ".$3" "${@:4}"
  fi
}
run_pytest() {  # $1: venv python
  # The installed-package tests must run here, not skip.
  (cd tests/python && FASTCHAN_REQUIRE_INSTALLED=1 "$1" -m pytest -q -p no:cacheprovider .)
  # The peers' own suites, unmodified, against fastchan (tests/peers/README.md).
  (cd tests/peers && "$1" -m pytest -q -p no:cacheprovider .)
}
new_venv() {  # $1: base python, $2: folder; prints the venv's python
  "$1" -m venv --clear "$2" >&2
  echo "$PWD/$2/bin/python"
}
version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }

# The stages after GoogleTest, one function each.
pytest_on_other() {  # $1: another CPython (pyenv), $2: its version
  local venv
  venv=$(new_venv "$1" "build/venv-$2")
  install_fastchan "$venv" "$1" "[test]"
  run_pytest "$venv"
}

pytest_free_threaded() {
  local ft_python ft_venv
  ft_python=$(bash "$builder" --disable-gil | tail -n1)
  ft_venv=$(new_venv "$ft_python" build/venv-3.13t)
  install_fastchan "$ft_venv" "$ft_python" "" -r tests/requirements-free-threaded.txt
  # PYTHON_GIL=0 keeps the GIL off even if a module asked for it back (each
  # fastchan module declares it needs none: test_free_threading.py checks
  # that without PYTHON_GIL).
  PYTHON_GIL=0 run_pytest "$ft_venv"
}

# Threads really at once, and TSan sees every access on both sides of the
# binding: the interpreter is built with --with-thread-sanitizer (once,
# cached like the free-threaded one) and links the TSan runtime itself, so
# nothing is preloaded; the extension is built with -fsanitize=thread
# against it, beside a copy of the Python package (as for ASan below). -O1
# for usable stacks; -Werror=tsan as in the GoogleTest build (tests/cpp).
# ASLR off as in the GoogleTest TSan run. The tests: test_threads_at_once.py
# and test_exactly_once.py, the ones where many threads hit one queue,
# channel or pool at once while it is resized, closed or shut down (~20 s
# here; the rest of tests/python took ~13 min under TSan).
# Any report fails the run (halt_on_error: TSan ends the process, exit
# code 66); pytest captures sys.stdout/stderr only (--capture=sys), so the
# report, written to fd 2, is not lost with the process. CPython's own
# races are suppressed in tests/sanitizers/tsan-python.supp, each with its
# reason.
pytest_tsan_stress() {
  local norand tsan_python tsan_venv
  norand=(setarch "$(uname -m)" -R)
  tsan_python=$("${norand[@]}" bash "$builder" --disable-gil --with-thread-sanitizer | tail -n1)
  "${norand[@]}" "$tsan_python" -m venv --clear build/venv-3.13t-tsan
  tsan_venv=$PWD/build/venv-3.13t-tsan/bin/python
  "${norand[@]}" "$tsan_venv" -m pip install --quiet --disable-pip-version-check "pytest>=7" pytest-timeout "pybind11>=3"
  "${norand[@]}" cmake -S . -B build/tsan-python -G Ninja -DFASTCHAN_BUILD_PYTHON=ON -DFASTCHAN_INSTALL=OFF "${launcher[@]}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython_EXECUTABLE="$tsan_venv" \
    -Dpybind11_DIR="$("${norand[@]}" "$tsan_venv" -c 'import pybind11; print(pybind11.get_cmake_dir())')" \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread -Werror=tsan" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g -DNDEBUG" \
    -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
  cmake --build build/tsan-python
  bash tests/package_beside.sh build/tsan-python
  (cd tests/python && PYTHON_GIL=0 PYTHONPATH="$OLDPWD/build/tsan-python/package" \
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$SUPP/tsan-python.supp" \
    "${norand[@]}" "$tsan_venv" -m pytest -q -p no:cacheprovider --capture=sys --timeout=300 \
    test_threads_at_once.py test_exactly_once.py)
}

# $PYTHON's own stage: pytest, the release wheels' smoke test, cibuildwheel's
# matrix, the typing checks (stubtest: the stubs and inline annotations
# against the installed package; mypy --strict; settings in pyproject.toml).
pytest_main_and_typing() {
  run_pytest "$main"
  "$main" tests/wheel/smoke.py
  bash tests/wheel/check_matrix.sh
  "$main" -m mypy.stubtest fastchan --allowlist tests/typing/stubtest-allowlist.txt
  # (tests/typing/usage.py: what users see, e.g. Queue[int].get() -> int)
  "$main" -m mypy --strict python/fastchan examples tests/typing
  # The README's python examples, each a complete program.
  "$main" tests/typing/check_readme.py
}

# The extension built with the sanitizers, beside a copy of the Python
# package; the interpreter is not instrumented, so the ASan runtime (and
# libstdc++, whose __cxa_throw ASan intercepts) is preloaded. Leaks are not
# checked here: CPython does not free its own memory at exit, and
# LD_PRELOAD reaches the tests' subprocesses (shells, compilers); the
# GoogleTest run checks the core for leaks, and the refcount tests the
# binding. The packaging tests build other programs: they run elsewhere.
pytest_asan() {
  cmake -S . -B build/asan-python -G Ninja -DFASTCHAN_BUILD_PYTHON=ON -DFASTCHAN_INSTALL=OFF "${launcher[@]}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython_EXECUTABLE="$main" \
    -Dpybind11_DIR="$("$main" -c 'import pybind11; print(pybind11.get_cmake_dir())')" \
    -DCMAKE_CXX_FLAGS="$SAN_CXX" -DCMAKE_MODULE_LINKER_FLAGS="$SAN_FLAGS" >/dev/null
  cmake --build build/asan-python
  bash tests/package_beside.sh build/asan-python
  local preload
  preload="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libstdc++.so)"
  # --capture=sys: a report ends the process (halt_on_error), written to fd
  # 2; with pytest's fd capture it would be lost with the process.
  asan_pytest() {  # $1: the folder of tests, then pytest arguments
    (cd "$1" && LD_PRELOAD="$preload" PYTHONMALLOC=malloc PYTHONPATH="$OLDPWD/build/asan-python/package" \
      ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:suppressions=$SUPP/asan.supp" \
      "$main" -m pytest -q -p no:cacheprovider --capture=sys . "${@:2}")
  }
  asan_pytest tests/python --ignore=test_cpp_package.py --ignore=test_cpp_extension.py \
    --ignore=test_strict_headers.py
  asan_pytest tests/peers
}

# The stages run two at a time: pytest keeps about one core busy (many
# tests wait), and the tests are written for a loaded machine (nothing is
# timed). Each stage writes its own log, printed at the end in the order the
# stages started; the run fails at the end if any failed.
logs=$PWD/build/logs
rm -rf "$logs" && mkdir -p "$logs"
parallel=2
started=()
start() {  # $1: name (a file name), $2: title, then the command
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  stage "start: $2"
  started+=("$1")
  echo "$2" > "$logs/$1.title"
  ( set +e; local began=$SECONDS rc
    ( set -e; "${@:3}" ) > "$logs/$1.log" 2>&1
    rc=$?
    echo "$rc" > "$logs/$1.rc"
    echo "== finished (exit code $rc, in $(minutes $((SECONDS - began)))): $2 (at $(minutes $SECONDS))"
  ) &
}
finish() {  # waits for every stage, prints each log in the order started
  wait || true
  local failed=() name
  for name in "${started[@]}"; do
    echo
    echo "== the log of: $(cat "$logs/$name.title") (exit code $(cat "$logs/$name.rc" 2>/dev/null || echo '?'))"
    cat "$logs/$name.log"
    [ "$(cat "$logs/$name.rc" 2>/dev/null)" = 0 ] || failed+=("$(cat "$logs/$name.title")")
  done
  if [ ${#failed[@]} -gt 0 ]; then
    printf '== FAILED: %s\n' "${failed[@]}" >&2
    exit 1
  fi
}

main_version=$(version_of "$PYTHON")
main=$(new_venv "$PYTHON" build/venv-main)
stage "installing fastchan's wheel into build/venv-main (CPython $main_version)"
install_fastchan "$main" "$PYTHON" "[test]"

if [ "$QUICK" = 1 ]; then
  stage pytest on CPython "$main_version", the typing checks
  pytest_main_and_typing
  stage done
  exit 0
fi

builder=""
for candidate in ../shared/tools/build-cpython.sh /work/shared/tools/build-cpython.sh; do
  if [ -f "$candidate" ]; then builder=$candidate; break; fi
done
if [ -z "$builder" ]; then
  echo "build-cpython.sh (the free-threaded interpreter's builder) is missing" >&2
  exit 1
fi
# The interpreters first (~10 min each the first time on a machine, then cached).
stage "the free-threaded CPython 3.13t builds (cached after the first run)"
bash "$builder" --disable-gil | tail -n1
if command -v setarch >/dev/null; then
  setarch "$(uname -m)" -R bash "$builder" --disable-gil --with-thread-sanitizer | tail -n1
fi

# The longest first.
start free-threaded "pytest on CPython 3.13t, free-threaded, the GIL off" pytest_free_threaded
start main "pytest on CPython $main_version, the release wheels' smoke test, cibuildwheel's matrix, typing" \
  pytest_main_and_typing
# Every other supported CPython this machine has (pyenv), each in its own venv.
for other in "$HOME"/.pyenv/versions/3.*/bin/python3; do
  [ -x "$other" ] || continue
  version=$(version_of "$other")
  case "$version" in 3.[0-9]|"$main_version") continue ;; esac
  start "cpython-$version" "pytest on CPython $version" pytest_on_other "$other" "$version"
done
start asan "pytest against an AddressSanitizer + UndefinedBehaviorSanitizer build of the extension" pytest_asan
start portable "GoogleTest and pytest against a FASTCHAN_PORTABLE build (the parking table, a pipe)" \
  bash tests/run_portable.sh "$main"
if command -v setarch >/dev/null; then
  start tsan-stress "the free-threaded stress tests under ThreadSanitizer (3.13t and the extension instrumented), the GIL off" \
    pytest_tsan_stress
else
  echo "(skipped: the stress tests under ThreadSanitizer: setarch is missing, and ThreadSanitizer needs ASLR off)"
fi
start windows "Windows: a syntax check with mingw-w64 (headers, the extension's sources)" \
  env PYTHON="$main" bash tests/check_windows.sh
finish
stage done
