#!/usr/bin/env bash
# The benchmark in one command: installs the peers' packages, builds, prints the figures.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh" --bench
exec /usr/bin/python3 "$root/bench/run.py" "$@"  # Debian's python3, where apt put pandas
