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

cargo test --workspace --locked
