#!/usr/bin/env bash
# The whole ctest suite (unit, end-to-end, bench smoke, fuzz-target replays) built with
# AddressSanitizer and UndefinedBehaviorSanitizer, in build-asan/ (build/ is left alone).
# Any report fails its test: UB aborts (-fno-sanitize-recover), ASan aborts on its first
# error, LeakSanitizer fails a process that leaks at exit. Extra arguments go to ctest
# (e.g. scripts/sanitize.sh -R unit).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="${SEAM_ASAN_BUILD_DIR:-$root/build-asan}"
jobs="${SEAM_JOBS:-$(nproc)}"
bash "$root/scripts/setup.sh" --no-build || exit 2

# clang-14, as the fuzz build: one compiler and one set of sanitizer runtimes for both
# instrumented builds (it also built seam_core with ASan a little faster than gcc here), while
# the normal build in build/ keeps gcc covered. -O1 with line tables only: fast to compile
# and run, and every report still has file:line.
# _GLIBCXX_ASSERTIONS: bounds-checked operator[] on vectors and strings, which ASan cannot
# see inside one allocation (a string's spare capacity).
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DSEAM_SANITIZE=ON -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Sanitize \
    -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -gline-tables-only -D_GLIBCXX_ASSERTIONS" >/dev/null || exit 2
fi
nice cmake --build "$build" -j "$jobs" || exit 2

# detect_stack_use_after_return=0: Debian's liblua5.4 is C, and a Lua error is a longjmp
#   out of seam's lua_CFunctions; with fake stacks for use-after-return, frames skipped by
#   a longjmp are reported later as false use-after-return errors.
# detect_leaks=1: a Lua error that longjmps past a C++ destructor leaks, and that is a bug.
# The suppressions file lists leaks in libraries seam does not own, each with its reason.
export ASAN_OPTIONS="detect_stack_use_after_return=0:detect_leaks=1:abort_on_error=1:strict_string_checks=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# Nothing is excluded. The HTML report's end-to-end test runs Debian's chromium, which is not
# instrumented and ignores these variables: it renders the page as in the normal suite. Every
# Lua error (a longjmp through Debian's C liblua5.4) passes too, use-after-return aside.
cd "$build" || exit 2
nice ctest --output-on-failure -j "$jobs" "$@"
