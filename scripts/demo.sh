#!/usr/bin/env bash
# README command 1: set up, build, and reconcile the refunds example.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh" || exit 2
cd "$root"
rm -f examples/refunds/seam.db examples/refunds/seam.db-wal examples/refunds/seam.db-shm
./build/seam run examples/refunds "$@"
status=$?
# Exit 1 means "exceptions found": that is the example's point, not a failure of the demo.
[ "$status" -le 1 ] && exit 0 || exit "$status"
