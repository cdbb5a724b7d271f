#!/usr/bin/env bash
# README command 2: set up, build, and run every test: the normal suite (unit, end-to-end,
# bench smoke) in build/, then the same suite under ASan and UBSan in build-asan/
# (scripts/sanitize.sh), then a short fuzz pass over every fuzz target in build-fuzz/
# (scripts/fuzz.sh; SEAM_CI_FUZZ_SECONDS each, default 15). Every phase runs even when an
# earlier one fails; the exit status is non-zero if any failed.
#   SEAM_TEST_QUICK=1   the normal suite only
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
failed=()
timings=()
phase() {
  local name=$1 start=$SECONDS
  shift
  echo "== test.sh: $name ..." >&2
  "$@" || failed+=("$name")
  timings+=("$name $((SECONDS - start))s")
}
phase "setup and build" bash "$root/scripts/setup.sh" || true
((${#failed[@]})) && { echo "== test.sh: setup or build failed" >&2; exit 2; }
phase "normal suite" bash -c 'cd "${SEAM_BUILD_DIR:-$1/build}" && ctest --output-on-failure -j "$(nproc)"' _ "$root"
if [ "${SEAM_TEST_QUICK:-0}" != 1 ]; then
  phase "sanitizer suite" bash "$root/scripts/sanitize.sh"
  phase "fuzz pass" bash "$root/scripts/fuzz.sh" "${SEAM_CI_FUZZ_SECONDS:-15}"
fi
printf '== test.sh: %s\n' "${timings[@]}" >&2
if ((${#failed[@]})); then
  echo "== test.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
