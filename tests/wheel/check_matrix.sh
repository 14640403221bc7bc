#!/usr/bin/env bash
# Checks that pyproject.toml's [tool.cibuildwheel] selects the release
# matrix: CPython 3.10-3.13 and 3.13t on Linux x86_64/aarch64 (manylinux
# and musllinux), macOS x86_64/arm64 and Windows AMD64. cibuildwheel lists
# its builds without building anything (no Docker, no other OS needed).
set -euo pipefail
cd "$(dirname "$0")/../.."
tools=$(bash tests/tools_venv.sh)
expected() {
  for py in cp310 cp311 cp312 cp313 cp313t; do
    case $1 in
      linux) for libc in manylinux musllinux; do for arch in x86_64 aarch64; do echo "$py-${libc}_$arch"; done; done ;;
      macos) for arch in x86_64 arm64; do echo "$py-macosx_$arch"; done ;;
      windows) echo "$py-win_amd64" ;;
    esac
  done | sort
}
for platform in linux macos windows; do
  actual=$("$tools/bin/cibuildwheel" --print-build-identifiers --platform "$platform" . | sort)
  if [ "$actual" != "$(expected "$platform")" ]; then
    echo "cibuildwheel's $platform builds are not the release matrix:" >&2
    diff <(expected "$platform") <(echo "$actual") >&2 || true
    exit 1
  fi
  echo "cibuildwheel, $platform: $(echo "$actual" | wc -l) wheels, as expected"
done
