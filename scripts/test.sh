#!/usr/bin/env bash
# Runs every sukusuku test: unit, contract, conversation scripts, handler tests, the
# fuzz-style webhook test, and the end-to-end test of the real binary against a fake LINE
# API on 127.0.0.1. Everything it needs is built by cargo from Cargo.lock.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not installed (https://rustup.rs)" >&2
  exit 1
fi

mkdir -p target
log=target/test-output.log
status=0
cargo test --workspace --locked 2>&1 | tee "$log" || status=$?

# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
