#!/usr/bin/env bash
# Idempotent setup: installs seam's build and run dependencies from Debian's packages.
# Both README commands call this first, so each works alone on a fresh Debian 12 machine.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkgconf
  liblua5.4-dev            # stack files and custom rules
  libsqlite3-dev sqlite3   # audit log (sqlite3 CLI for people reading it)
  libcli11-dev             # command line
  libspdlog-dev            # logging
  doctest-dev              # unit and end-to-end tests
  libsimdjson-dev          # NDJSON connector
  libpcre2-dev             # extract { regex = ... } (JIT-compiled)
  libhowardhinnant-date-dev tzdata  # calendar maths and IANA time zones
  libssl-dev               # SHA-256 digests for the sealed audit chain
  libcurl4-openssl-dev     # webhook alerts
  chromium                 # the HTML report's end-to-end test renders it headless
  python3                  # the benchmark's generator and scorer (its smoke test runs with the tests)
  man-db                   # the install test renders the installed manual, seam.1, with man -l
  # clang with libFuzzer and the ASan/UBSan runtimes: scripts/fuzz.sh (gcc has no libFuzzer)
  # and scripts/sanitize.sh build with them; scripts/test.sh runs both after the normal suite.
  clang-14 libclang-rt-14-dev
)
# `setup.sh --bench` adds what only the full benchmark's peers need; `--no-build` stops
# after the packages (scripts/fuzz.sh and scripts/sanitize.sh build elsewhere than build/).
bench=false
build_too=1
for arg in "$@"; do
  case "$arg" in
    --bench) bench=true ;;
    --no-build) build_too=0 ;;
    *) echo "setup: unknown option $arg (expected --bench or --no-build)" >&2; exit 2 ;;
  esac
done
if $bench; then
  packages+=(python3-pandas)  # the pandas peer in bench/peers
  # Node.js and npm for the DuckDB and Polars peers, from Debian unless some Node.js is there
  # already (a Node.js that bundles npm conflicts with Debian's npm package).
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

root=$(cd "$(dirname "$0")/.." && pwd)

# The DuckDB and Polars peers' npm packages, at the versions bench/peers/package-lock.json pins,
# into bench/peers/node_modules; skipped while what is there was installed from this lock.
if $bench; then
  peers="$root/bench/peers"
  lock_sum=$(sha256sum "$peers/package-lock.json" | cut -d' ' -f1)
  stamp="$peers/node_modules/.seam-installed-lock"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
    echo "setup: installing the benchmark's npm packages in bench/peers (npm ci)" >&2
    (cd "$peers" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" >"$stamp"
  fi
fi

[ "$build_too" -eq 1 ] || exit 0

# Configure (once) and build.
build="${SEAM_BUILD_DIR:-$root/build}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${SEAM_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
fi
cmake --build "$build" -j "$(nproc)"
