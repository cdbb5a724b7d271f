#!/usr/bin/env bash
# The benchmark in one command: installs the peers' packages (Debian's python3-pandas, Node.js
# and npm if missing, and the DuckDB and Polars npm packages pinned in bench/peers), builds,
# and prints the figures for 100k, 1M and 5M refunds (--with-10m adds 10M; see bench/run.py -h).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh" --bench
exec /usr/bin/python3 "$root/bench/run.py" "$@"  # Debian's python3, where apt put pandas
