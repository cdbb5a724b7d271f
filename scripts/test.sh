#!/usr/bin/env bash
# README command 2: set up, build, and run every test (unit and end-to-end).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
cd "${SEAM_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)"
